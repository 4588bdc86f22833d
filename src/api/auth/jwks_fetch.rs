//! `JwksSource` over the platform's capped GET, for JWT mode with `JWT_JWKS_URL`.

use std::time::Duration;

use super::jwks::MAX_JWKS_BYTES;
use super::{JwksError, JwksSource};
use crate::platform::capped_get::{get_capped, GetError};

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
        let body = get_capped(url, MAX_JWKS_BYTES, JWKS_TIMEOUT)
            .await
            .map_err(|e| match e {
                GetError::Unreachable => JwksError::Unreachable,
                GetError::Status(status) => JwksError::Status(status),
                GetError::TooLarge => JwksError::TooLarge,
            })?;
        String::from_utf8(body).map_err(|_| JwksError::Invalid)
    }
}
