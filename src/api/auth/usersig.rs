//! `AUTH_MODE=usersig`: the bearer token is the caller's own TUICallKit
//! UserSig, verified with the app's secret key.

use callkit_core::usersig::{self, Expected, SigningKey, UserSigError};

use super::config::UserSigConfig;
use super::error::AuthError;
use super::identity::is_valid_user_id;

pub struct UserSigVerifier {
    sdkappid: u64,
    key: SigningKey,
}

impl UserSigVerifier {
    pub fn new(config: &UserSigConfig) -> Self {
        Self {
            sdkappid: config.sdkappid,
            key: SigningKey::new(config.secret_key.expose()),
        }
    }

    /// The UserSig's identifier and expiry (Unix s), when it is ours, current
    /// and correctly signed.
    pub fn verify(&self, token: &str, now_secs: u64) -> Result<(String, u64), AuthError> {
        let expected = Expected {
            sdkappid: self.sdkappid,
            identifier: None,
            // Login UserSigs carry no userbuf; one with a userbuf is a TRTC room key.
            userbuf: None,
        };
        let decoded = usersig::verify_with(token, &self.key, &expected, now_secs).map_err(
            |err| match err {
                UserSigError::Malformed { .. } | UserSigError::UserBufMismatch => {
                    AuthError::Malformed
                }
                UserSigError::AppIdMismatch => AuthError::WrongApp,
                UserSigError::Expired { .. } => AuthError::Expired,
                UserSigError::IdentifierMismatch | UserSigError::BadSignature => {
                    AuthError::BadSignature
                }
            },
        )?;
        if !is_valid_user_id(&decoded.identifier) {
            return Err(AuthError::InvalidSubject);
        }
        let expires_at = decoded.expires_at();
        Ok((decoded.identifier, expires_at))
    }
}

#[cfg(test)]
mod tests {
    use callkit_core::secret::Secret;
    use callkit_core::usersig::{mint, mint_now, SigFields};

    use super::*;

    const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
    const APP: u64 = 1_400_000_000;
    const NOW: u64 = 1_700_000_000;

    fn verifier() -> UserSigVerifier {
        UserSigVerifier::new(&UserSigConfig {
            sdkappid: APP,
            secret_key: Secret::new(KEY),
        })
    }

    #[test]
    fn fresh_sig_yields_identifier() {
        let sig = mint_now(KEY, APP, "alice", 86_400, NOW);
        let (user, expires_at) = verifier().verify(&sig, NOW + 10).unwrap();
        assert_eq!((user.as_str(), expires_at), ("alice", NOW + 86_400));
    }

    #[test]
    fn expiry_boundary() {
        let sig = mint_now(KEY, APP, "alice", 60, NOW);
        assert!(verifier().verify(&sig, NOW + 60).is_ok());
        assert_eq!(verifier().verify(&sig, NOW + 61), Err(AuthError::Expired));
    }

    #[test]
    fn rejects_other_app_other_key_and_garbage() {
        let other_app = mint_now(KEY, APP + 1, "alice", 86_400, NOW);
        assert_eq!(verifier().verify(&other_app, NOW), Err(AuthError::WrongApp));
        let other_key = mint_now("another-secret-key", APP, "alice", 86_400, NOW);
        assert_eq!(
            verifier().verify(&other_key, NOW),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verifier().verify("garbage!!", NOW),
            Err(AuthError::Malformed)
        );
        assert_eq!(verifier().verify("", NOW), Err(AuthError::Malformed));
        let sig = mint_now(KEY, APP, "alice", 86_400, NOW);
        assert_eq!(
            verifier().verify(&sig[..sig.len() / 2], NOW),
            Err(AuthError::Malformed)
        );
    }

    #[test]
    fn rejects_room_keys_and_invalid_identifiers() {
        let with_userbuf = mint(
            KEY,
            &SigFields {
                sdkappid: APP,
                identifier: "alice",
                time: NOW,
                expire: 600,
                userbuf: Some(b"room"),
            },
        );
        assert_eq!(
            verifier().verify(&with_userbuf, NOW),
            Err(AuthError::Malformed)
        );
        let long = "x".repeat(40);
        let sig = mint_now(KEY, APP, &long, 86_400, NOW);
        assert_eq!(verifier().verify(&sig, NOW), Err(AuthError::InvalidSubject));
    }
}
