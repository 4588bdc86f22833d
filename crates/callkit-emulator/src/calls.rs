//! Call operations shared by the v4 API and the control API: they change the
//! app's state, then hand the resulting webhooks to the sender and arm ring
//! timeouts, all after the state lock is released.

use crate::app::App;
use crate::clock;
use crate::emulator::Emulator;
use crate::error::EmulatorError;
use crate::state::{Act, CallView, Effects, NewCall, Origin};
use crate::webhook::{OptPlatform, Outgoing};
use callkit_core::models::GetCallbackResponse;
use std::sync::Arc;
use std::time::Duration;

fn platform(origin: Origin) -> OptPlatform {
    match origin {
        Origin::RestApi => OptPlatform::RestApi,
        Origin::Web => OptPlatform::Web,
    }
}

/// Sends the events the app's callback configuration enables.
fn deliver(emu: &Emulator, sdkappid: u64, config: Option<GetCallbackResponse>, fx: Effects) {
    // TRTC's callback is configured apart from CallKit's.
    if let Some(trtc) = &emu.trtc {
        trtc.emit(&emu.webhooks, sdkappid, &fx.events);
    }
    let Some(config) = config else { return };
    let mut batch = vec![];
    for event in fx.events {
        let command = event.command();
        if !config.callback_command_list.contains(&command) {
            continue;
        }
        let Ok(body) = serde_json::to_vec(&event) else {
            continue;
        };
        batch.push(Outgoing {
            sdkappid,
            base_url: config.url.clone(),
            command: command.as_str(),
            platform: platform(fx.origin),
            body,
        });
    }
    emu.webhooks.emit(batch);
}

/// Starts a call; returns its CallId. With a ring deadline, waiting members
/// drop out as `NotAnswer` when it passes.
pub fn start(emu: &Arc<Emulator>, app: &Arc<App>, new: NewCall) -> String {
    let call_id = new.call_id.clone();
    let deadline = new.ring_deadline_ms;
    let (fx, config) = {
        let mut state = app.state.lock();
        let fx = state.start_call(new, clock::now_millis());
        (fx, state.callback().cloned())
    };
    deliver(emu, app.sdkappid, config, fx);
    if let Some(deadline) = deadline {
        arm_ring_timeout(emu.clone(), app.clone(), call_id.clone(), deadline);
    }
    call_id
}

/// Starts a call without webhooks or ring timeout (seeding).
pub fn start_quietly(app: &App, new: NewCall) -> String {
    let call_id = new.call_id.clone();
    app.state.lock().start_call(new, clock::now_millis());
    call_id
}

fn arm_ring_timeout(emu: Arc<Emulator>, app: Arc<App>, call_id: String, deadline_ms: u64) {
    tokio::spawn(async move {
        let wait = deadline_ms.saturating_sub(clock::now_millis());
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let outcome = {
            let mut state = app.state.lock();
            state
                .expire_ringing(&call_id, clock::now_millis().max(deadline_ms))
                .map(|fx| (fx, state.callback().cloned()))
        };
        if let Some((fx, config)) = outcome {
            deliver(&emu, app.sdkappid, config, fx);
        }
    });
}

/// A member answers, rejects or hangs up; returns the call afterwards.
pub fn act(
    emu: &Emulator,
    app: &App,
    call_id: &str,
    user: &str,
    act: Act,
) -> Result<CallView, EmulatorError> {
    let (fx, config, view) = {
        let mut state = app.state.lock();
        let fx = match state.act(call_id, user, act, clock::now_millis()) {
            Ok(fx) => fx,
            Err(EmulatorError::CallNotFound) if state.view(call_id).is_some() => {
                return Err(EmulatorError::Conflict("the call has already ended".into()))
            }
            Err(e) => return Err(e),
        };
        let view = state.view(call_id).ok_or(EmulatorError::CallNotFound)?;
        (fx, state.callback().cloned(), view)
    };
    deliver(emu, app.sdkappid, config, fx);
    Ok(view)
}

/// `end_call`; false when the call is unknown or already ended.
pub fn end(emu: &Emulator, app: &App, call_id: &str) -> bool {
    let outcome = {
        let mut state = app.state.lock();
        state
            .end_call(call_id, clock::now_millis())
            .map(|fx| (fx, state.callback().cloned()))
    };
    match outcome {
        Some((fx, config)) => {
            deliver(emu, app.sdkappid, config, fx);
            true
        }
        None => false,
    }
}
