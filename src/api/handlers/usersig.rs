//! `POST /api/v1/usersig`: the caller's own UserSig for TUICallKit login.

use callkit_core::usersig::SigFields;
use serde::{Deserialize, Serialize};

use super::{Input, Success};
use crate::api::policy::Action;
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
    let user_id = input.identity.user_id();
    // A UserSig for any Tencent admin account is an admin credential itself:
    // whoever is signed in under such a name must never be handed one.
    if input.app.tencent.admin_accounts.covers(user_id) {
        return Err(ApiError::Forbidden {
            action: Action::MintUserSig,
        });
    }
    let key = input
        .app
        .tencent
        .signing_key
        .as_ref()
        .ok_or(ApiError::Misconfigured(ConfigError::Missing(
            names::SECRET_KEY,
        )))?;
    let sdkappid = input.app.tencent.client.sdkappid;
    let ttl = lifetime(
        input.app.tencent.usersig_ttl.as_secs(),
        input.identity.expires_at(),
        input.now_secs,
    );
    let sig = callkit_core::usersig::mint_with(
        key,
        &SigFields {
            sdkappid,
            identifier: user_id,
            time: input.now_secs,
            expire: ttl,
            userbuf: None,
        },
    );
    let body = Minted {
        user_id,
        user_sig: &sig,
        sdk_app_id: sdkappid,
        expires_at: input.now_secs + ttl,
    };
    Success::json(200, &body, None)
}

/// The configured lifetime, cut so the new sig never outlives the token that
/// asked for it: otherwise a stolen short-lived token could renew itself forever.
fn lifetime(configured: u64, caller_expires_at: Option<u64>, now: u64) -> u64 {
    match caller_expires_at {
        Some(at) => configured.min(at.saturating_sub(now)),
        None => configured,
    }
}

#[cfg(test)]
mod tests {
    use super::lifetime;

    #[test]
    fn a_minted_sig_never_outlives_the_callers_token() {
        assert_eq!(lifetime(86_400, None, 1_000), 86_400);
        assert_eq!(lifetime(86_400, Some(1_600), 1_000), 600);
        assert_eq!(lifetime(600, Some(100_000), 1_000), 600);
        assert_eq!(lifetime(600, Some(900), 1_000), 0);
    }
}
