//! `JwksSource` over the platform `fetch`, for JWT mode with `JWT_JWKS_URL`.

use std::time::Duration;

use worker::{Fetch, Method, Request, RequestInit};

use super::abort_timeout::with_abort_timeout;
use crate::api::auth::jwks::MAX_JWKS_BYTES;
use crate::api::auth::{JwksError, JwksSource};

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
            let body = response.bytes().await.map_err(|_| JwksError::Unreachable)?;
            if body.len() > MAX_JWKS_BYTES {
                return Err(JwksError::Invalid);
            }
            String::from_utf8(body).map_err(|_| JwksError::Invalid)
        };
        with_abort_timeout(JWKS_TIMEOUT, exchange)
            .await
            .unwrap_or(Err(JwksError::Unreachable))
    }
}
