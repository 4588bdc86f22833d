//! A `Client` generic over its transport and its runtime (clock, sleep, random).

mod transport;
mod runtime;

pub use runtime::Runtime;
pub use transport::{HttpResponse, Transport, TransportError};
