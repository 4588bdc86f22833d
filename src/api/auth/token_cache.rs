//! Per-isolate memory of bearer tokens that verified, so a browser sending
//! the same token with every request pays for the signature check once.
//!
//! Entries are keyed by the token's SHA-256 (the token itself is not kept),
//! hold only successes (a forged token is checked in full every time, and
//! cannot be planted), never outlive the token's own validity, and are
//! forgotten after `MAX_AGE_SECS` so that a key the identity provider
//! withdrew stops being honoured soon after the JWKS refresh notices.

use std::cell::RefCell;
use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::identity::Identity;

/// How long a verified token is trusted without being checked again.
pub const MAX_AGE_SECS: u64 = 60;
/// Bound on memory: ~100 bytes an entry.
pub const MAX_ENTRIES: usize = 4096;

type TokenDigest = [u8; 32];

struct Entry {
    identity: Identity,
    /// Last second (inclusive) this entry may answer.
    valid_until: u64,
}

#[derive(Default)]
pub struct TokenCache {
    entries: RefCell<HashMap<TokenDigest, Entry>>,
}

impl TokenCache {
    pub fn digest(token: &str) -> TokenDigest {
        Sha256::digest(token.as_bytes()).into()
    }

    /// The identity a token proved earlier, if it is still valid at `now_secs`.
    pub fn get(&self, digest: &TokenDigest, now_secs: u64) -> Option<Identity> {
        let entries = self.entries.borrow();
        let entry = entries.get(digest)?;
        (now_secs <= entry.valid_until).then(|| entry.identity.clone())
    }

    /// Remembers a verified token until `token_valid_until` (inclusive), or
    /// for `MAX_AGE_SECS`, whichever comes first.
    pub fn insert(
        &self,
        digest: TokenDigest,
        identity: Identity,
        token_valid_until: u64,
        now_secs: u64,
    ) {
        let valid_until = token_valid_until.min(now_secs.saturating_add(MAX_AGE_SECS));
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.valid_until >= now_secs);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            digest,
            Entry {
                identity,
                valid_until,
            },
        );
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.borrow().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn alice() -> Identity {
        Identity::new("alice", false)
            .unwrap()
            .with_expiry(NOW + 3600)
    }

    #[test]
    fn answers_until_the_token_expires() {
        let cache = TokenCache::default();
        let key = TokenCache::digest("token-a");
        cache.insert(key, alice(), NOW + 10, NOW);
        assert_eq!(cache.get(&key, NOW + 10), Some(alice()));
        assert_eq!(cache.get(&key, NOW + 11), None);
        assert_eq!(cache.get(&TokenCache::digest("token-b"), NOW), None);
    }

    #[test]
    fn forgets_after_max_age_even_for_long_lived_tokens() {
        let cache = TokenCache::default();
        let key = TokenCache::digest("token-a");
        cache.insert(key, alice(), NOW + 86_400, NOW);
        assert!(cache.get(&key, NOW + MAX_AGE_SECS).is_some());
        assert_eq!(cache.get(&key, NOW + MAX_AGE_SECS + 1), None);
    }

    #[test]
    fn an_already_expired_token_is_never_answered() {
        let cache = TokenCache::default();
        let key = TokenCache::digest("token-a");
        cache.insert(key, alice(), NOW - 1, NOW);
        assert_eq!(cache.get(&key, NOW), None);
    }

    #[test]
    fn stays_bounded() {
        let cache = TokenCache::default();
        for i in 0..MAX_ENTRIES + 10 {
            cache.insert(
                TokenCache::digest(&format!("t{i}")),
                alice(),
                NOW + 100,
                NOW,
            );
        }
        assert!(cache.len() <= MAX_ENTRIES);
        // Expired entries are the first to go.
        let cache = TokenCache::default();
        for i in 0..MAX_ENTRIES {
            cache.insert(TokenCache::digest(&format!("t{i}")), alice(), NOW + 1, NOW);
        }
        cache.insert(TokenCache::digest("fresh"), alice(), NOW + 100, NOW + 5);
        assert_eq!(cache.len(), 1);
    }
}
