//! `POST /api/v1/usersig`: the caller's own UserSig for TUICallKit login.

use serde::{Deserialize, Serialize};

use super::{Input, Success};
use crate::api::problem::ApiError;
use crate::api::validate;
use crate::platform::config::{names, ConfigError};

/// The body is optional and has no fields today; denying unknown fields
/// keeps a caller from believing it chose a user or a lifetime.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MintRequest {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Minted<'a> {
    user_id: &'a str,
    user_sig: &'a str,
    sdk_app_id: u64,
    expires_at: u64,
}

pub async fn mint(input: Input<'_>) -> Result<Success, ApiError> {
    let _: MintRequest = validate::json_body(input.content_type.as_deref(), &input.body)?;
    let key = input
        .app
        .tencent
        .secret_key
        .as_ref()
        .ok_or(ApiError::Misconfigured(ConfigError::Missing(
            names::SECRET_KEY,
        )))?;
    let sdkappid = input.app.tencent.client.sdkappid;
    let ttl = input.app.tencent.usersig_ttl.as_secs();
    let user_id = input.identity.user_id();
    let sig = callkit_core::usersig::mint_now(key.expose(), sdkappid, user_id, ttl, input.now_secs);
    let body = Minted {
        user_id,
        user_sig: &sig,
        sdk_app_id: sdkappid,
        expires_at: input.now_secs + ttl,
    };
    Success::json(200, &body, None)
}
