//! Last line of defence: text that reaches a `ClientError` from outside
//! (transport details, upstream `ErrorInfo`, parser messages) is scrubbed of
//! the credentials and URL the attempt used, in case something echoed them.

const MASK: &str = "[REDACTED]";

/// `text` with every occurrence of each non-empty `secret` masked, and
/// anything after a `usersig=` query marker cut off.
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    // Longest first, so a URL is masked whole before the sig inside it.
    let mut secrets: Vec<&str> = secrets.iter().copied().filter(|s| !s.is_empty()).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in secrets {
        if out.contains(secret) {
            out = out.replace(secret, MASK);
        }
    }
    if let Some(at) = out.to_ascii_lowercase().find("usersig=") {
        out.truncate(at);
        out.push_str(MASK);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_each_secret() {
        let out = scrub("key abc and sig xyz, abc again", &["abc", "xyz"]);
        assert_eq!(out, "key [REDACTED] and sig [REDACTED], [REDACTED] again");
    }

    #[test]
    fn masks_a_url_whole_before_its_parts() {
        let url = "https://h/v4/x?usersig=SIG&random=1";
        let out = scrub(&format!("failed to reach {url}"), &["SIG", url]);
        assert_eq!(out, "failed to reach [REDACTED]");
    }

    #[test]
    fn cuts_after_a_usersig_marker_whatever_its_case() {
        let out = scrub("GET /v4/a?UserSig=eJwtzE1&x=1", &[]);
        assert_eq!(out, "GET /v4/a?[REDACTED]");
    }

    #[test]
    fn leaves_clean_text_and_ignores_empty_secrets() {
        assert_eq!(scrub("connection reset", &["", "zzz"]), "connection reset");
    }
}
