//! Protocol core for Tencent's CallKit REST API (v4).
//!
//! Pure Rust with no platform code: it compiles and is tested natively, and the
//! Worker and the emulator both build on it. I/O enters only through the
//! [`client::Transport`] and [`client::Runtime`] traits.
//!
//! What it relies on about Tencent's protocol is written down in
//! `docs/tencent-callkit-v4.md` at the root of the repository.
//!
//! ```
//! use callkit_core::command::Command;
//! use callkit_core::error_code::{lookup, RetryClass};
//! use callkit_core::region::Region;
//! use callkit_core::usersig::{mint_now, verify, Expected};
//!
//! // Where a command goes.
//! assert_eq!(Region::Singapore.primary_domain(), "adminapisgp.im.qcloud.com");
//! assert_eq!(Command::EndCall.path(), "call_engine_http_srv/end_call");
//!
//! // What an upstream error code calls for.
//! let code = lookup(60007).unwrap();
//! assert_eq!((code.name, code.class), ("rate_limited", RetryClass::RateLimited));
//!
//! // The admin UserSig every request carries.
//! let key = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
//! let usersig = mint_now(key, 1_400_000_000, "administrator", 86_400, 1_700_000_000);
//! let expected = Expected {
//!     sdkappid: 1_400_000_000,
//!     identifier: Some("administrator"),
//!     userbuf: None,
//! };
//! assert!(verify(&usersig, key, &expected, 1_700_000_000).is_ok());
//! ```
//!
//! [`client::Client`] sends the eight commands; its documentation shows one
//! built with stand-in platform pieces.

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
