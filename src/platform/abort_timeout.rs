//! Races a fetch against a timer and aborts the loser, so a stalled upstream
//! frees its connection instead of lingering after we gave up.

use std::future::Future;
use std::time::Duration;

use futures_util::future::{select, Either};
use worker::{AbortController, AbortSignal, Delay};

/// Runs `exchange` with an abort signal; `None` when `timeout` elapsed first.
pub async fn with_abort_timeout<F, T>(
    timeout: Duration,
    exchange: impl FnOnce(AbortSignal) -> F,
) -> Option<T>
where
    F: Future<Output = T>,
{
    let controller = AbortController::default();
    let exchange = exchange(controller.signal());
    match select(Box::pin(exchange), Delay::from(timeout)).await {
        Either::Left((outcome, _)) => Some(outcome),
        Either::Right(((), _)) => {
            controller.abort();
            None
        }
    }
}
