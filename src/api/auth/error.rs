//! Why a caller was not authenticated. Messages describe the failure only:
//! they never quote the token, a claim value or a key.

use super::jwks::JwksError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no token in the request")]
    Missing,
    #[error("token is malformed")]
    Malformed,
    #[error("token is missing the required `{0}` claim")]
    MissingClaim(&'static str),
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token signature does not verify")]
    BadSignature,
    #[error("token audience is not accepted")]
    WrongAudience,
    #[error("token issuer is not accepted")]
    WrongIssuer,
    #[error("token algorithm is not the configured one")]
    WrongAlgorithm,
    #[error("token signing key is unknown")]
    UnknownKey,
    #[error("token belongs to another SDKAppID")]
    WrongApp,
    #[error("the token's user ID (in the claim JWT_USER_CLAIM names, `sub` by default) is not a valid TUICallKit UserID of 1-32 printable ASCII bytes")]
    InvalidSubject,
    #[error("signing keys are unavailable: {0}")]
    KeysUnavailable(JwksError),
}

impl AuthError {
    /// Stable machine-readable code for problem+json.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "token_missing",
            Self::Malformed => "token_malformed",
            Self::MissingClaim(_) => "token_missing_claim",
            Self::Expired => "token_expired",
            Self::NotYetValid => "token_not_yet_valid",
            Self::BadSignature => "token_bad_signature",
            Self::WrongAudience => "token_wrong_audience",
            Self::WrongIssuer => "token_wrong_issuer",
            Self::WrongAlgorithm => "token_wrong_algorithm",
            Self::UnknownKey => "token_unknown_key",
            Self::WrongApp => "token_wrong_app",
            Self::InvalidSubject => "token_invalid_subject",
            Self::KeysUnavailable(_) => "auth_keys_unavailable",
        }
    }

    /// 401 for anything the caller can fix with a new token; 503 when the
    /// key set could not be loaded, which is the operator's problem.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::KeysUnavailable(_) => 503,
            _ => 401,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_are_stable() {
        assert_eq!(AuthError::Expired.code(), "token_expired");
        assert_eq!(AuthError::Missing.http_status(), 401);
        assert_eq!(
            AuthError::MissingClaim("sub").to_string(),
            "token is missing the required `sub` claim"
        );
        let unavailable = AuthError::KeysUnavailable(JwksError::Unreachable);
        assert_eq!(unavailable.code(), "auth_keys_unavailable");
        assert_eq!(unavailable.http_status(), 503);
    }
}
