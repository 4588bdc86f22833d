//! Who the caller is, once authenticated.

pub use callkit_core::user_id::is_valid_user_id;

/// An authenticated caller: a valid TUICallKit UserID and whether it may act as admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    user_id: String,
    is_admin: bool,
    /// When the credential that proved this identity expires (Unix s).
    expires_at: Option<u64>,
}

impl Identity {
    /// `None` when `user_id` is not a valid TUICallKit UserID.
    pub fn new(user_id: impl Into<String>, is_admin: bool) -> Option<Self> {
        let user_id = user_id.into();
        is_valid_user_id(&user_id).then_some(Self {
            user_id,
            is_admin,
            expires_at: None,
        })
    }

    /// The same identity, proven by a credential that expires at `expires_at`.
    pub fn with_expiry(self, expires_at: u64) -> Self {
        Self {
            expires_at: Some(expires_at),
            ..self
        }
    }

    /// Anything minted for this caller must not outlive this instant.
    pub fn expires_at(&self) -> Option<u64> {
        self.expires_at
    }

    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    pub fn is_admin(&self) -> bool {
        self.is_admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_rejects_invalid_ids() {
        let id = Identity::new("bob", true).expect("valid id");
        assert_eq!(id.user_id(), "bob");
        assert!(id.is_admin());
        assert!(
            Identity::new("x".repeat(32), false).is_some(),
            "32 bytes is the limit"
        );
        for bad in [
            String::new(),
            "x".repeat(33),
            "tab\there".to_owned(),
            "new\nline".to_owned(),
            "ünï".to_owned(),
        ] {
            assert!(Identity::new(bad.clone(), true).is_none(), "{bad:?}");
        }
    }
}
