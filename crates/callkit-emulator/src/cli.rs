//! Command-line interface: `serve` and `mint`. Every flag has an env var.

use callkit_core::secret::Secret;
use callkit_emulator::config::{AppConfig, EmulatorConfig, DEMO_KEY, DEMO_SDKAPPID};
use callkit_emulator::traffic::SimulationConfig;
use callkit_emulator::EmulatorError;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "callkit-emulator",
    version,
    about = "Local emulator of Tencent's CallKit REST v4 API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the emulated v4 API and the /_emulator/ control API.
    Serve(ServeArgs),
    /// Print a UserSig (TLSSigAPIv2) for an identifier.
    Mint(MintArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(
        long,
        env = "CALLKIT_EMULATOR_LISTEN",
        default_value = "127.0.0.1:8790"
    )]
    pub listen: SocketAddr,
    /// An app as SDKAPPID:SECRETKEY:admin1,admin2 (repeatable; env: ';'-separated).
    /// Without any, the public demo app 1400000000 with admin `administrator`.
    #[arg(
        long = "app",
        env = "CALLKIT_EMULATOR_APPS",
        value_delimiter = ';',
        hide_env_values = true
    )]
    pub apps: Vec<String>,
    /// Milliseconds after a call ends before its record is queryable.
    #[arg(long, env = "CALLKIT_EMULATOR_RECORD_DELAY_MS", default_value_t = 5000)]
    pub record_delay_ms: u64,
    /// Requests per second per app and command; 0 turns limiting off.
    #[arg(long, env = "CALLKIT_EMULATOR_RATE_LIMIT", default_value_t = 200)]
    pub rate_limit: u32,
    /// Seed the first app with demo records and live calls at start.
    #[arg(long, env = "CALLKIT_EMULATOR_SEED_DEMO")]
    pub seed_demo: bool,
    /// Sign webhooks: adds Sign=sha256hex(token+RequestTime)&RequestTime=.
    #[arg(long, env = "CALLKIT_EMULATOR_WEBHOOK_TOKEN", hide_env_values = true)]
    pub webhook_token: Option<String>,
    /// Per-webhook delivery timeout.
    #[arg(
        long,
        env = "CALLKIT_EMULATOR_WEBHOOK_TIMEOUT_MS",
        default_value_t = 2000
    )]
    pub webhook_timeout_ms: u64,
    /// Simulated calls started per minute among the demo users of the first
    /// app (fractions allowed, at most 600); 0 or absent turns it off.
    #[arg(
        long,
        env = "CALLKIT_EMULATOR_SIMULATE_CALLS",
        value_name = "PER_MINUTE",
        allow_negative_numbers = true
    )]
    pub simulate_calls: Option<f64>,
    /// Send TRTC's room and media events for the calls to this URL (e.g.
    /// the edge's /api/v1/webhooks/trtc), signed with --trtc-key.
    #[arg(long, env = "CALLKIT_EMULATOR_TRTC_URL", requires = "trtc_key")]
    pub trtc_url: Option<String>,
    /// TRTC's callback key: up to 32 letters and digits.
    #[arg(long, env = "CALLKIT_EMULATOR_TRTC_KEY", hide_env_values = true)]
    pub trtc_key: Option<String>,
    /// Worker threads (default: one per core).
    #[arg(long, env = "CALLKIT_EMULATOR_THREADS")]
    pub threads: Option<usize>,
}

#[derive(Debug, Args)]
pub struct MintArgs {
    #[arg(long)]
    pub identifier: String,
    #[arg(long, env = "CALLKIT_EMULATOR_SDKAPPID", default_value_t = DEMO_SDKAPPID)]
    pub sdkappid: u64,
    /// Secret key (default: the public demo key).
    #[arg(long, env = "CALLKIT_EMULATOR_KEY", hide_env_values = true, hide_default_value = true, default_value = DEMO_KEY)]
    pub key: String,
    /// Validity in seconds.
    #[arg(long, default_value_t = 86_400)]
    pub expire: u64,
    /// Signing time (Unix seconds); default now.
    #[arg(long)]
    pub time: Option<u64>,
}

impl ServeArgs {
    pub fn into_config(self) -> Result<EmulatorConfig, EmulatorError> {
        let apps = self
            .apps
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.parse::<AppConfig>())
            .collect::<Result<Vec<_>, _>>()?;
        EmulatorConfig {
            listen: self.listen,
            apps,
            record_delay: Duration::from_millis(self.record_delay_ms),
            rate_limit: self.rate_limit,
            seed_demo: self.seed_demo,
            webhook_token: self
                .webhook_token
                .filter(|t| !t.is_empty())
                .map(Secret::new),
            webhook_timeout: Duration::from_millis(self.webhook_timeout_ms),
            // Negative and absurd rates are kept, for `validated` to refuse.
            simulation: self
                .simulate_calls
                .filter(|n| *n != 0.0)
                .map(SimulationConfig::per_minute),
            trtc: self
                .trtc_url
                .zip(self.trtc_key.filter(|k| !k.is_empty()))
                .map(|(url, key)| callkit_emulator::webhook::TrtcCallback {
                    url,
                    key: Secret::new(key),
                }),
        }
        .validated()
    }
}
