use std::time::Duration;

/// Time and randomness, supplied by the platform: `Date` and
/// `crypto.getRandomValues` in the Worker, a scripted clock in tests.
#[allow(async_fn_in_trait)]
pub trait Runtime {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> u64;
    /// Suspend for `duration` (backoff between attempts).
    async fn sleep(&self, duration: Duration);
    /// A fresh uniformly random u32 (the `random` query parameter, jitter).
    fn random_u32(&self) -> u32;

    /// Seconds since the Unix epoch.
    fn now_secs(&self) -> u64 {
        self.now_millis() / 1000
    }
}
