//! A `Client` generic over its transport and its runtime (clock, sleep, random).

mod areas;
mod config;
mod credentials;
mod error;
mod outcome;
mod record_memo;
mod redact;
mod retry;
mod runtime;
mod send;
mod shared_reads;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod transport;

pub use areas::{Callbacks, Calls, Outcome, Records};
pub use config::{ClientConfig, UPSTREAM_BUDGET};
pub use credentials::{AdminCredential, CredentialMode, CredentialStatus};
pub use error::ClientError;
pub use retry::RetryPolicy;
pub use runtime::Runtime;
pub use send::Client;
pub use transport::{HttpResponse, Transport, TransportError, MAX_RESPONSE_BYTES};
