//! `POST /api/v1/usersig`: the caller's own UserSig for TUICallKit login.

use callkit_core::usersig::SigFields;
use serde::{Deserialize, Serialize};

use callkit_core::client::{Runtime, Transport};

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

pub async fn mint<T: Transport, R: Runtime>(input: Input<'_, T, R>) -> Result<Success, ApiError> {
    let _: MintRequest = validate::json_body(input.content_type.as_deref(), &input.body)?;
    let user_id = input.identity.user_id();
    // A UserSig for any Tencent admin account is an admin credential itself:
    // whoever is signed in under such a name must never be handed one.
    if input.tencent.admin_accounts.covers(user_id) {
        return Err(ApiError::Forbidden {
            action: Action::MintUserSig,
        });
    }
    let key = input
        .tencent
        .signing_key
        .as_ref()
        .ok_or(ApiError::Misconfigured(ConfigError::Missing(
            names::SECRET_KEY,
        )))?;
    let sdkappid = input.tencent.client.sdkappid;
    let ttl = lifetime(
        input.tencent.usersig_ttl.as_secs(),
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

#[cfg(test)]
mod upstream_tests {
    use callkit_core::usersig::{verify, Expected};

    use super::*;
    use crate::api::handlers::test_support::{json, problem, run, user, Upstream, NOW};

    #[test]
    fn the_caller_gets_their_own_sig_and_an_admin_account_none() {
        let up = Upstream::new(vec![]);
        let alice = user("alice");
        let body = json(&run(mint(up.input(&alice, None))).unwrap());
        assert_eq!(body["userId"], "alice");
        let sig = body["userSig"].as_str().unwrap();
        let key = up.tencent.secret_key.as_ref().unwrap();
        let expected = Expected {
            sdkappid: 1_400_000_000,
            identifier: Some("alice"),
            userbuf: None,
        };
        assert!(verify(sig, key.expose(), &expected, NOW + 1).is_ok());
        let admin_account = user("Administrator");
        let p = problem(run(mint(up.input(&admin_account, None))));
        assert_eq!((p.status, p.code.as_str()), (403, "forbidden"));
        assert_eq!(up.sent(), 0, "minting never calls Tencent");
    }
}
