//! `JwksSource` over the platform `fetch`, for JWT mode with `JWT_JWKS_URL`.

use std::time::Duration;

use worker::{Fetch, Method, Request, RequestInit};

use super::abort_timeout::with_abort_timeout;
use super::capped_read::{declared_over, read_capped, CappedError};
use crate::api::auth::jwks::MAX_JWKS_BYTES;
use crate::api::auth::{JwksError, JwksSource};

/// Keep below `jwks::FETCH_STALE_SECS`: past that, the cache assumes a fetch
/// still marked in flight was abandoned.
const JWKS_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct FetchJwks {
    url: Option<String>,
}

impl FetchJwks {
    pub fn new(url: Option<&str>) -> Self {
        Self {
            url: url.map(str::to_owned),
        }
    }
}

impl JwksSource for FetchJwks {
    async fn fetch_jwks(&self) -> Result<String, JwksError> {
        let url = self.url.as_deref().ok_or(JwksError::NotConfigured)?;
        // The request and the body read share one budget.
        let exchange = |signal| async move {
            let mut init = RequestInit::new();
            init.with_method(Method::Get);
            let request = Request::new_with_init(url, &init).map_err(|_| JwksError::Unreachable)?;
            let mut response = Fetch::Request(request)
                .send_with_signal(&signal)
                .await
                .map_err(|_| JwksError::Unreachable)?;
            let status = response.status_code();
            if status != 200 {
                return Err(JwksError::Status(status));
            }
            let length = response.headers().get("Content-Length").ok().flatten();
            if declared_over(length.as_deref(), MAX_JWKS_BYTES) {
                return Err(JwksError::TooLarge);
            }
            let Ok(stream) = response.stream() else {
                return Err(JwksError::Invalid); // no body at all
            };
            // Past the cap the stream is dropped unread: the rest never reaches memory.
            let body = read_capped(stream, MAX_JWKS_BYTES)
                .await
                .map_err(|e| match e {
                    CappedError::TooLarge => JwksError::TooLarge,
                    CappedError::Read => JwksError::Unreachable,
                })?;
            String::from_utf8(body).map_err(|_| JwksError::Invalid)
        };
        with_abort_timeout(JWKS_TIMEOUT, exchange)
            .await
            .unwrap_or(Err(JwksError::Unreachable))
    }
}
