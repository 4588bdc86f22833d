//! The Worker's clock, timer and randomness for the protocol core's client.

use std::time::Duration;

use callkit_core::client::Runtime;

/// `Date.now()`, `setTimeout` and `crypto.getRandomValues` (through getrandom's
/// `wasm_js` backend).
#[derive(Debug, Default, Clone, Copy)]
pub struct WorkerRuntime;

impl Runtime for WorkerRuntime {
    fn now_millis(&self) -> u64 {
        js_sys::Date::now() as u64
    }

    async fn sleep(&self, duration: Duration) {
        worker::Delay::from(duration).await
    }

    fn random_u32(&self) -> u32 {
        random_u32()
    }
}

/// A u32 from the platform CSPRNG. `crypto.getRandomValues` does not fail in
/// Workers; should it ever, `Math.random` still gives a usable request nonce.
pub fn random_u32() -> u32 {
    getrandom::u32().unwrap_or_else(|_| (js_sys::Math::random() * f64::from(u32::MAX)) as u32)
}
