//! Caller authentication for the edge API (`AUTH_MODE` = `usersig` | `jwt`).
//!
//! Pure and platform-free: the clock is an argument and JWKS documents come
//! through [`JwksSource`], which the Worker glue implements with `fetch`;
//! RS256/ES256 signatures are checked through [`SignatureVerifier`], which
//! it implements with WebCrypto.
//! There is no mode without authentication.

mod bearer;
pub mod claim_path;
pub mod config;
mod error;
mod identity;
mod jwk;
pub mod jwks;
pub mod jwks_fetch;
mod jws;
pub mod jwt;
mod preset;
pub mod signature;
mod token_cache;
pub mod token_header;
pub mod usersig;
pub mod webcrypto;
mod x509;

use std::collections::HashSet;

use crate::platform::settings::ConfigError;
pub use bearer::bearer_token;
pub use config::{AppKey, AuthConfig, AuthMethod};
pub use error::AuthError;
pub use identity::{is_valid_user_id, Identity};
pub use jwks::{JwksError, JwksSource, NoJwks};
pub use signature::{NoSignatures, PublicKey, SignatureVerifier};
pub use token_header::TokenHeader;

use jwt::JwtVerifier;
use token_cache::TokenCache;
use usersig::UserSigVerifier;

enum Verifier<S, V: SignatureVerifier> {
    UserSig(UserSigVerifier),
    Jwt(JwtVerifier<S, V>),
}

/// Built once per isolate; holds the JWKS cache in JWKS mode.
pub struct Authenticator<S, V: SignatureVerifier = NoSignatures> {
    verifier: Verifier<S, V>,
    admin_users: HashSet<String>,
    verified: TokenCache,
    header: TokenHeader,
    provider: &'static str,
}

impl<S: JwksSource, V: SignatureVerifier + Default> Authenticator<S, V> {
    /// `jwks` is only used in JWKS mode; pass [`NoJwks`] otherwise.
    pub fn new(config: &AuthConfig, jwks: S) -> Result<Self, ConfigError> {
        let verifier = match &config.method {
            AuthMethod::UserSig(cfg) => Verifier::UserSig(UserSigVerifier::new(cfg)),
            AuthMethod::Jwt(cfg) => Verifier::Jwt(JwtVerifier::new(cfg, jwks, V::default())?),
        };
        Ok(Self {
            verifier,
            admin_users: config.admin_users.iter().cloned().collect(),
            verified: TokenCache::default(),
            header: config.header,
            provider: config.provider,
        })
    }

    /// The request header the token is read from (resolved at start-up).
    pub fn header(&self) -> TokenHeader {
        self.header
    }

    /// `usersig`, `jwt`, or the `JWT_PROVIDER` preset's name.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// Verifies the value of [`Self::header`] at `now_secs` (Unix seconds).
    pub async fn authenticate(
        &self,
        credential: Option<&str>,
        now_secs: u64,
    ) -> Result<Identity, AuthError> {
        let token = self.header.token(credential)?;
        let digest = TokenCache::digest(token);
        if let Some(identity) = self.verified.get(&digest, now_secs) {
            return Ok(identity);
        }
        let (identity, valid_until) = self.verify(token, now_secs).await?;
        self.verified
            .insert(digest, identity.clone(), valid_until, now_secs);
        Ok(identity)
    }

    /// The full check; also returns the last second the token stays valid.
    async fn verify(&self, token: &str, now_secs: u64) -> Result<(Identity, u64), AuthError> {
        let (user_id, admin_by_claim, expires_at, valid_until) = match &self.verifier {
            Verifier::UserSig(v) => {
                let (user_id, expires_at) = v.verify(token, now_secs)?;
                // A UserSig is valid through its last second.
                (user_id, false, expires_at, expires_at)
            }
            Verifier::Jwt(v) => {
                let verified = v.verify(token, now_secs).await?;
                // Valid strictly before `exp`; the leeway past it is left to a full check.
                let valid_until = verified.expires_at.saturating_sub(1);
                (
                    verified.subject,
                    verified.admin_by_claim,
                    verified.expires_at,
                    valid_until,
                )
            }
        };
        let is_admin = admin_by_claim || self.admin_users.contains(&user_id);
        let identity = Identity::new(user_id, is_admin)
            .map(|identity| identity.with_expiry(expires_at))
            .ok_or(AuthError::InvalidSubject)?;
        Ok((identity, valid_until))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use callkit_core::secret::Secret;
    use callkit_core::usersig::mint_now;
    use futures::executor::block_on;
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    use serde_json::json;

    use super::*;

    const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
    const JWT_SECRET: &str = "0123456789abcdef0123456789abcdef";
    const NOW: u64 = 1_700_000_000;

    fn authenticator(vars: &[(&str, &str)]) -> Authenticator<NoJwks> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let key = map
            .get("TENCENT_SECRET_KEY")
            .map(|k| Secret::new(k.as_str()));
        let app = AppKey {
            sdkappid: 1_400_000_000,
            secret_key: key.as_ref(),
        };
        let config = AuthConfig::from_env(&|name| map.get(name).cloned(), app).unwrap();
        Authenticator::new(&config, NoJwks).unwrap()
    }

    fn usersig_auth() -> Authenticator<NoJwks> {
        authenticator(&[
            ("AUTH_MODE", "usersig"),
            ("TENCENT_SDKAPPID", "1400000000"),
            ("TENCENT_SECRET_KEY", KEY),
            ("ADMIN_USERS", "root"),
        ])
    }

    fn jwt_auth() -> Authenticator<NoJwks> {
        authenticator(&[
            ("AUTH_MODE", "jwt"),
            ("JWT_SECRET", JWT_SECRET),
            ("ADMIN_USERS", "root,ops"),
            ("ADMIN_CLAIM", "role=admin"),
        ])
    }

    fn jwt_for(sub: &str, role: &str) -> String {
        let claims = json!({ "sub": sub, "role": role, "exp": NOW + 60 });
        let key = EncodingKey::from_secret(JWT_SECRET.as_bytes()).unwrap();
        encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap()
    }

    fn auth<S: JwksSource>(a: &Authenticator<S>, header: &str) -> Result<Identity, AuthError> {
        block_on(a.authenticate(Some(header), NOW))
    }

    #[test]
    fn usersig_mode_identity_and_admins() {
        let a = usersig_auth();
        let alice = mint_now(KEY, 1_400_000_000, "alice", 3600, NOW);
        let id = auth(&a, &format!("Bearer {alice}")).unwrap();
        assert_eq!(id.user_id(), "alice");
        assert!(!id.is_admin());
        let root = mint_now(KEY, 1_400_000_000, "root", 3600, NOW);
        assert!(auth(&a, &format!("Bearer {root}")).unwrap().is_admin());
    }

    /// The verified-token cache never stretches a token's life, in either mode.
    #[test]
    fn a_remembered_token_still_expires_on_time() {
        let a = usersig_auth();
        let sig = format!("Bearer {}", mint_now(KEY, 1_400_000_000, "alice", 60, NOW));
        assert!(block_on(a.authenticate(Some(&sig), NOW)).is_ok());
        assert!(block_on(a.authenticate(Some(&sig), NOW + 60)).is_ok());
        assert_eq!(
            block_on(a.authenticate(Some(&sig), NOW + 61)),
            Err(AuthError::Expired)
        );
        let j = jwt_auth();
        let claims = json!({ "sub": "bob", "exp": NOW + 60 });
        let key = EncodingKey::from_secret(JWT_SECRET.as_bytes()).unwrap();
        let token = format!(
            "Bearer {}",
            encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap()
        );
        assert!(block_on(j.authenticate(Some(&token), NOW)).is_ok());
        // Within the leeway past `exp` a full check still accepts it; past it, not.
        assert!(block_on(j.authenticate(Some(&token), NOW + 60)).is_ok());
        assert_eq!(
            block_on(j.authenticate(Some(&token), NOW + 60 + 30)),
            Err(AuthError::Expired)
        );
    }

    #[test]
    fn usersig_mode_rejections() {
        let a = usersig_auth();
        let sig = mint_now(KEY, 1_400_000_000, "alice", 3600, NOW - 7200);
        assert_eq!(auth(&a, &format!("Bearer {sig}")), Err(AuthError::Expired));
        let sig = mint_now(KEY, 1_400_000_001, "alice", 3600, NOW);
        assert_eq!(auth(&a, &format!("Bearer {sig}")), Err(AuthError::WrongApp));
        let sig = mint_now("other-key", 1_400_000_000, "alice", 3600, NOW);
        assert_eq!(
            auth(&a, &format!("Bearer {sig}")),
            Err(AuthError::BadSignature)
        );
        assert_eq!(auth(&a, "Bearer garbage"), Err(AuthError::Malformed));
        let sig = mint_now(KEY, 1_400_000_000, "alice", 3600, NOW);
        assert_eq!(auth(&a, &sig), Err(AuthError::Malformed));
        assert_eq!(block_on(a.authenticate(None, NOW)), Err(AuthError::Missing));
        // A JWT is not a UserSig.
        assert_eq!(
            auth(&a, &format!("Bearer {}", jwt_for("alice", "admin"))),
            Err(AuthError::Malformed)
        );
    }

    #[test]
    fn jwt_mode_admins_via_list_and_claim() {
        let a = jwt_auth();
        let plain = auth(&a, &format!("Bearer {}", jwt_for("alice", "user"))).unwrap();
        assert_eq!(plain.user_id(), "alice");
        assert!(!plain.is_admin());
        assert!(auth(&a, &format!("Bearer {}", jwt_for("ops", "user")))
            .unwrap()
            .is_admin());
        assert!(auth(&a, &format!("Bearer {}", jwt_for("alice", "admin")))
            .unwrap()
            .is_admin());
    }

    #[test]
    fn jwt_mode_rejects_a_usersig() {
        let sig = mint_now(KEY, 1_400_000_000, "alice", 3600, NOW);
        assert_eq!(
            auth(&jwt_auth(), &format!("Bearer {sig}")),
            Err(AuthError::Malformed)
        );
    }
}
