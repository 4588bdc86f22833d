//! One GET with a deadline and a size cap over the platform `fetch`: for
//! small documents such as a JWKS. The request and the body read share one
//! budget, and past the cap the body is dropped unread.

use std::time::Duration;

use web_sys::AbortSignal;

use super::abort_timeout::with_abort_timeout;
use super::capped_body::{read_response, BodyError};
use super::fetch_transport::fetch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetError {
    /// No answer in time, a network failure, or an unreadable body.
    Unreachable,
    /// An answer other than 200.
    Status(u16),
    TooLarge,
}

pub async fn get_capped(url: &str, limit: usize, timeout: Duration) -> Result<Vec<u8>, GetError> {
    let exchange = |signal: AbortSignal| async move {
        let init = web_sys::RequestInit::new();
        init.set_method("GET");
        init.set_signal(Some(&signal));
        let response = fetch(url, &init)
            .await
            .map_err(|()| GetError::Unreachable)?;
        let status = response.status();
        if status != 200 {
            return Err(GetError::Status(status));
        }
        read_response(response, limit).await.map_err(|e| match e {
            BodyError::TooLarge => GetError::TooLarge,
            BodyError::Unreadable => GetError::Unreachable,
        })
    };
    with_abort_timeout(timeout, exchange)
        .await
        .unwrap_or(Err(GetError::Unreachable))
}
