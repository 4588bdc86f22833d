//! The one error type of the UserSig layer and its Tencent error codes.

/// Why a UserSig was refused. Messages never carry the sig, the key or the
/// input string: a UserSig is a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserSigError {
    /// Bad alphabet/base64, not zlib, too large, not JSON, missing/mistyped field.
    #[error("malformed UserSig: {reason}")]
    Malformed { reason: &'static str },
    #[error("UserSig SDKAppID does not match")]
    AppIdMismatch,
    #[error("UserSig identifier does not match")]
    IdentifierMismatch,
    #[error("UserSig expired at {expired_at}")]
    Expired { expired_at: u64 },
    #[error("UserSig userbuf does not match")]
    UserBufMismatch,
    /// Signed with another key, or tampered with.
    #[error("UserSig signature does not match")]
    BadSignature,
}

impl UserSigError {
    /// The code Tencent's server answers with for this failure (docs/tencent-callkit-v4.md §4.2, §7.3).
    pub fn tencent_code(&self) -> i64 {
        match self {
            Self::Malformed { .. } => 70003,
            Self::AppIdMismatch => 70014,
            Self::IdentifierMismatch => 70013,
            Self::Expired { .. } => 70001,
            // Tencent has no separate code for userbuf; the server treats it as a failed check.
            Self::UserBufMismatch | Self::BadSignature => 70009,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_catalogue() {
        assert_eq!(
            UserSigError::Malformed { reason: "x" }.tencent_code(),
            70003
        );
        assert_eq!(UserSigError::AppIdMismatch.tencent_code(), 70014);
        assert_eq!(UserSigError::IdentifierMismatch.tencent_code(), 70013);
        assert_eq!(
            UserSigError::Expired { expired_at: 1 }.tencent_code(),
            70001
        );
        assert_eq!(UserSigError::UserBufMismatch.tencent_code(), 70009);
        assert_eq!(UserSigError::BadSignature.tencent_code(), 70009);
    }

    #[test]
    fn messages_are_fixed_text() {
        assert_eq!(
            UserSigError::Malformed { reason: "not zlib" }.to_string(),
            "malformed UserSig: not zlib"
        );
        assert_eq!(
            UserSigError::Expired {
                expired_at: 1585462200
            }
            .to_string(),
            "UserSig expired at 1585462200"
        );
    }
}
