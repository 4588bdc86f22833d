//! `JwksSource` over the platform `fetch`, for JWT mode with `JWT_JWKS_URL`.

use std::time::Duration;

use futures_util::future::{select, Either};
use worker::{AbortController, Delay, Fetch, Method, Request, RequestInit};

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
        let controller = AbortController::default();
        let signal = controller.signal();
        let exchange = async {
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
        // Bound to a local so the losing future drops before `signal`.
        let outcome = match select(Box::pin(exchange), Delay::from(JWKS_TIMEOUT)).await {
            Either::Left((outcome, _)) => outcome,
            Either::Right(((), _)) => {
                controller.abort();
                Err(JwksError::Unreachable)
            }
        };
        outcome
    }
}
