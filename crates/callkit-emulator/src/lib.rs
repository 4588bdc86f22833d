//! callkit-emulator: a local stand-in for Tencent's CallKit REST v4 side.
//!
//! Several SDKAppIDs, real UserSig verification, the documented error codes,
//! per-command rate limits, call/record/callback state, webhooks, and a
//! control API (`/_emulator/`) for tests: seeding, simulated members, fault
//! injection and counters; optionally simulated background calls
//! ([`traffic`]). Start it with [`server::start`].

pub mod app;
pub mod calls;
pub mod clock;
pub mod config;
pub mod control;
pub mod counters;
pub mod emulator;
pub mod error;
pub mod faults;
pub mod http;
pub mod ids;
pub mod rate_limit;
pub mod server;
pub mod sig_cache;
pub mod state;
pub mod traffic;
pub mod v4;
pub mod webhook;

pub use config::{AppConfig, EmulatorConfig};
pub use error::EmulatorError;
pub use server::{start, RunningEmulator};
