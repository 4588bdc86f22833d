//! Who the caller is, once authenticated.

/// TUICallKit's UserID rule (Chat SDK error 7003): 1–32 bytes of printable ASCII.
/// Identities must satisfy it because the routes hand them to the upstream and
/// mint UserSigs for them.
pub fn is_valid_user_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// An authenticated caller: a valid TUICallKit UserID and whether it may act as admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    user_id: String,
    is_admin: bool,
}

impl Identity {
    /// `None` when `user_id` is not a valid TUICallKit UserID.
    pub fn new(user_id: impl Into<String>, is_admin: bool) -> Option<Self> {
        let user_id = user_id.into();
        is_valid_user_id(&user_id).then_some(Self { user_id, is_admin })
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
    fn user_id_rule_follows_tuicallkit() {
        assert!(is_valid_user_id("alice"));
        assert!(is_valid_user_id("a b~!"));
        assert!(is_valid_user_id(&"x".repeat(32)));
        assert!(!is_valid_user_id(""));
        assert!(!is_valid_user_id(&"x".repeat(33)));
        assert!(!is_valid_user_id("tab\there"));
        assert!(!is_valid_user_id("ünï"));
    }

    #[test]
    fn identity_rejects_invalid_ids() {
        let id = Identity::new("bob", true).expect("valid id");
        assert_eq!(id.user_id(), "bob");
        assert!(id.is_admin());
        assert!(Identity::new("", false).is_none());
    }
}
