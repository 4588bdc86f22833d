//! `serve --simulate-calls N`: background traffic for the live board. About
//! N calls a minute start among the demo users of the first app; callees
//! answer, reject or let it ring, and connected calls end by hang-ups, all
//! through the control API's own operations, so every step emits the real
//! webhooks.

pub mod config;
pub mod plan;
pub mod script;

pub use config::{DelayRange, SimulationConfig};

use crate::app::App;
use crate::emulator::Emulator;
use crate::error::EmulatorError;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::{JoinHandle, JoinSet};

/// Starts the traffic on the current runtime. Aborting the handle stops it,
/// calls still being played included.
pub fn spawn(
    emu: Arc<Emulator>,
    config: SimulationConfig,
) -> Result<JoinHandle<()>, EmulatorError> {
    let app = emu.app_or_default(None)?.clone();
    Ok(tokio::spawn(drive(emu, app, config)))
}

async fn drive(emu: Arc<Emulator>, app: Arc<App>, config: SimulationConfig) {
    let mut rng = config
        .seed
        .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
    // Owned by this task: when it is aborted, dropping the set aborts every
    // call script with it.
    let mut playing = JoinSet::new();
    loop {
        tokio::time::sleep(gap(&mut rng, config.mean_gap())).await;
        while playing.try_join_next().is_some() {}
        let plan = plan::plan(&mut rng, &config);
        playing.spawn(script::play(
            emu.clone(),
            app.clone(),
            plan,
            config.ring_timeout,
        ));
    }
}

/// 0.5–1.5 × the mean, so starts do not tick like a metronome.
fn gap(rng: &mut fastrand::Rng, mean: Duration) -> Duration {
    mean.mul_f64(0.5 + rng.f64())
}
