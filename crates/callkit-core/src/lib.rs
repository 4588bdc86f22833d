//! Protocol core for Tencent's CallKit REST API (v4).
//!
//! Pure Rust with no platform code: it compiles and is tested natively, and the
//! Worker and the emulator both build on it. I/O enters only through the
//! [`client::Transport`] and [`client::Runtime`] traits.

pub mod client;
pub mod command;
pub mod credential_url;
pub mod envelope;
pub mod error_code;
pub mod models;
pub mod region;
pub mod request;
pub mod secret;
pub mod user_id;
pub mod usersig;
