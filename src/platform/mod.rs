//! Worker glue: everything that touches the platform (fetch, Date, crypto,
//! Env). The protocol core above it stays platform-free.

pub mod abort_timeout;
pub mod admin_accounts;
pub mod capped_body;
pub mod capped_get;
pub mod config;
pub mod fetch_transport;
pub mod join_all;
pub mod live_config;
pub mod rate_limit;
pub mod relay_config;
pub mod runtime;
pub mod settings;
pub mod trtc_config;
pub mod webcrypto;
