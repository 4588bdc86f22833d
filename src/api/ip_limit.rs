//! The per-client-IP limit on the routes that need no bearer token and would
//! otherwise see no limit at all: the live socket and the webhook receiver.
//! Its own binding, so a flood from one address never uses up a signed-in
//! identity's budget, nor the other way round.

use super::problem::ApiError;
use super::Incoming;
use crate::platform::config::ConfigError;
use crate::platform::rate_limit::{self, RateLimitError};

pub const BINDING: &str = "IP_RATE_LIMITER";
/// Must match the binding's `period` in wrangler.toml.
const PERIOD_SECS: u32 = 60;

/// Takes one slot of the client's address: Cloudflare's `CF-Connecting-IP`
/// (a client cannot set it through Cloudflare; without it every request
/// shares one slot, so nothing goes unlimited).
pub async fn check(input: &Incoming<'_>) -> Result<(), ApiError> {
    let ip = input.header("CF-Connecting-IP").unwrap_or_default();
    let key = format!("ip:{}", ip.trim());
    match rate_limit::allow(input.env, BINDING, &key).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(ApiError::RateLimited {
            retry_after_secs: PERIOD_SECS,
        }),
        Err(RateLimitError::Missing) => Err(ApiError::Misconfigured(ConfigError::Missing(BINDING))),
        Err(RateLimitError::Failed) => Err(ApiError::Internal("IP rate limiter failed".into())),
    }
}
