//! `JwksSource` over the platform `fetch`, for JWT mode with `JWT_JWKS_URL`.

use std::time::Duration;

use web_sys::AbortSignal;

use super::abort_timeout::with_abort_timeout;
use super::capped_body::{read_response, BodyError};
use super::fetch_transport::fetch;
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
        let exchange = |signal: AbortSignal| async move {
            let init = web_sys::RequestInit::new();
            init.set_method("GET");
            init.set_signal(Some(&signal));
            let response = fetch(url, &init)
                .await
                .map_err(|()| JwksError::Unreachable)?;
            let status = response.status();
            if status != 200 {
                return Err(JwksError::Status(status));
            }
            // Past the cap the body is dropped unread: the rest never reaches memory.
            let body = read_response(response, MAX_JWKS_BYTES)
                .await
                .map_err(|e| match e {
                    BodyError::TooLarge => JwksError::TooLarge,
                    BodyError::Unreadable => JwksError::Unreachable,
                })?;
            String::from_utf8(body).map_err(|_| JwksError::Invalid)
        };
        with_abort_timeout(JWKS_TIMEOUT, exchange)
            .await
            .unwrap_or(Err(JwksError::Unreachable))
    }
}
