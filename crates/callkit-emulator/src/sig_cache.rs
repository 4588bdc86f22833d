//! Verified UserSigs remembered by their exact string, so the hot path skips
//! base64 + inflate + HMAC for an admin sig it has already checked.

use callkit_core::usersig::{verify, Expected, UserSigError};
use parking_lot::RwLock;
use std::collections::HashMap;

/// Beyond this many distinct sigs the cache starts over: bounded memory.
const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub struct SigCache {
    entries: RwLock<HashMap<Box<str>, Verified>>,
}

// The keys are UserSigs, which are credentials: show only how many.
impl std::fmt::Debug for SigCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigCache")
            .field("entries", &self.len())
            .finish()
    }
}

#[derive(Debug, Clone)]
struct Verified {
    identifier: Box<str>,
    expires_at: u64,
}

impl SigCache {
    /// Verifies `usersig` for this app's `sdkappid`/`key` and `identifier`
    /// at `now_secs`; the error's `tencent_code()` is the answer to send.
    /// A hit gives the same result as a fresh verify: an identifier mismatch
    /// falls through to the full check, expiry is re-checked every time.
    pub fn verify(
        &self,
        usersig: &str,
        key: &str,
        sdkappid: u64,
        identifier: &str,
        now_secs: u64,
    ) -> Result<(), UserSigError> {
        if let Some(hit) = self.entries.read().get(usersig) {
            if &*hit.identifier == identifier {
                return if now_secs > hit.expires_at {
                    Err(UserSigError::Expired {
                        expired_at: hit.expires_at,
                    })
                } else {
                    Ok(())
                };
            }
        }
        let expected = Expected {
            sdkappid,
            identifier: Some(identifier),
            userbuf: None,
        };
        let decoded = verify(usersig, key, &expected, now_secs)?;
        let mut entries = self.entries.write();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            usersig.into(),
            Verified {
                identifier: identifier.into(),
                expires_at: decoded.expires_at(),
            },
        );
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.entries.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&self) {
        self.entries.write().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callkit_core::usersig::mint_now;

    const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
    const APP: u64 = 1_400_000_000;

    #[test]
    fn caches_only_good_sigs_and_rechecks_expiry() {
        let cache = SigCache::default();
        let sig = mint_now(KEY, APP, "administrator", 100, 1_000);
        assert!(cache.verify(&sig, KEY, APP, "administrator", 1_050).is_ok());
        assert_eq!(cache.len(), 1);
        assert!(!format!("{cache:?}").contains(&sig));
        // Served from the cache, still valid at the boundary.
        assert!(cache.verify(&sig, KEY, APP, "administrator", 1_100).is_ok());
        let err = cache
            .verify(&sig, KEY, APP, "administrator", 1_101)
            .expect_err("expired");
        assert_eq!(err.tencent_code(), 70001);
    }

    #[test]
    fn a_cached_sig_is_still_refused_for_another_identifier() {
        let cache = SigCache::default();
        let sig = mint_now(KEY, APP, "administrator", 100, 1_000);
        assert!(cache.verify(&sig, KEY, APP, "administrator", 1_000).is_ok());
        let err = cache
            .verify(&sig, KEY, APP, "ops", 1_000)
            .expect_err("mismatch");
        assert_eq!(err.tencent_code(), 70013);
    }

    #[test]
    fn failures_are_not_cached() {
        let cache = SigCache::default();
        let sig = mint_now("another-key", APP, "administrator", 100, 1_000);
        let err = cache
            .verify(&sig, KEY, APP, "administrator", 1_000)
            .expect_err("bad key");
        assert_eq!(err.tencent_code(), 70009);
        assert!(cache.is_empty());
        assert_eq!(
            cache
                .verify("garbage", KEY, APP, "administrator", 1_000)
                .expect_err("undecodable")
                .tencent_code(),
            70003
        );
    }
}
