//! One abort signal per exchange, fired by the platform after the timeout
//! (`AbortSignal.timeout`): a stalled upstream frees its connection, and no
//! timer or callback of ours is created per request.

use std::future::Future;
use std::time::Duration;

use web_sys::AbortSignal;

/// Runs `exchange` with a signal that aborts after `timeout`; `None` when it
/// failed because that signal fired.
pub async fn with_abort_timeout<F, T, E>(
    timeout: Duration,
    exchange: impl FnOnce(AbortSignal) -> F,
) -> Option<Result<T, E>>
where
    F: Future<Output = Result<T, E>>,
{
    let millis = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
    let signal = AbortSignal::timeout_with_u32(millis);
    match exchange(signal.clone()).await {
        Err(_) if signal.aborted() => None,
        outcome => Some(outcome),
    }
}
