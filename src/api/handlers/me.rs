//! `GET /api/v1/me`: who the edge thinks the caller is, as it will act on
//! it everywhere (policy, audit lines, minted UserSigs). Lets a console
//! behind Cloudflare Access show the signed-in user without a pasted token.

use serde::Serialize;

use super::Success;
use crate::api::auth::Identity;
use crate::api::problem::ApiError;

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Me<'a> {
    pub user_id: &'a str,
    pub admin: bool,
    /// `usersig`, `jwt`, or the `JWT_PROVIDER` preset's name.
    pub provider: &'static str,
    /// Unix seconds: when the credential that proved the identity expires.
    pub expires_at: Option<u64>,
}

pub fn me(identity: &Identity, provider: &'static str) -> Result<Success, ApiError> {
    let body = Me {
        user_id: identity.user_id(),
        admin: identity.is_admin(),
        provider,
        expires_at: identity.expires_at(),
    };
    Success::json(200, &body, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_the_identity_in_camel_case() {
        let who = Identity::new("alice", true)
            .unwrap()
            .with_expiry(1_700_000_600);
        let answer = me(&who, "cognito").unwrap();
        assert_eq!(answer.status, 200);
        let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "userId": "alice", "admin": true, "provider": "cognito", "expiresAt": 1_700_000_600u64,
            })
        );
    }
}
