//! What a TUICallKit UserID may be.

/// Chat SDK error 7003: 1–32 bytes of printable ASCII. (The SDK comments
/// suggest `[a-zA-Z0-9_-]`, but the server accepts the wider set.)
pub fn is_valid_user_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_rule_follows_the_chat_sdk() {
        assert!(is_valid_user_id("alice"));
        assert!(is_valid_user_id("a b~!"));
        assert!(is_valid_user_id(&"x".repeat(32)));
        assert!(!is_valid_user_id(""));
        assert!(!is_valid_user_id(&"x".repeat(33)));
        assert!(!is_valid_user_id("tab\there"));
        assert!(!is_valid_user_id("ünï"));
    }
}
