//! The admin UserSig the client signs every request with: minted from the
//! secret key and cached, or a static sig supplied by the operator.

use std::cell::RefCell;
use std::time::Duration;

use super::error::ClientError;
use crate::secret::Secret;
use crate::usersig;

/// How the operator gave us admin rights.
#[derive(Debug, Clone)]
pub enum AdminCredential {
    /// The app's secret key: sigs are minted locally and renewed before expiry.
    SecretKey {
        key: Secret,
        /// Validity of each minted sig (default 24 h).
        ttl: Duration,
        /// Re-mint this long before the cached sig expires (default 10 min).
        renew_margin: Duration,
    },
    /// A pre-issued admin UserSig; it cannot be renewed, only reported.
    StaticUserSig(Secret),
}

impl AdminCredential {
    pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);
    pub const DEFAULT_RENEW_MARGIN: Duration = Duration::from_secs(10 * 60);

    /// A secret key with the default ttl and renewal margin.
    pub fn secret_key(key: Secret) -> Self {
        Self::SecretKey {
            key,
            ttl: Self::DEFAULT_TTL,
            renew_margin: Self::DEFAULT_RENEW_MARGIN,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialMode {
    Minted,
    Static,
}

/// What `/health` may show: the mode and an expiry, never the sig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialStatus {
    pub mode: CredentialMode,
    /// Unix seconds. Minted: of the cached sig, `None` before the first mint.
    pub expires_at: Option<u64>,
}

#[derive(Debug)]
struct CachedSig {
    sig: Secret,
    expires_at: u64,
}

/// Hands out the admin sig for one attempt. Single-threaded (Wasm isolate),
/// hence `RefCell`.
#[derive(Debug)]
pub(crate) struct CredentialProvider {
    source: Source,
}

#[derive(Debug)]
enum Source {
    Minted {
        key: Secret,
        sdkappid: u64,
        identifier: String,
        ttl_secs: u64,
        margin_secs: u64,
        cache: RefCell<Option<CachedSig>>,
    },
    Static {
        sig: Secret,
        expires_at: u64,
    },
}

impl CredentialProvider {
    /// Checks the credential up front so a bad secret fails at start-up.
    pub(crate) fn new(
        credential: AdminCredential,
        sdkappid: u64,
        identifier: &str,
    ) -> Result<Self, ClientError> {
        let source = match credential {
            AdminCredential::SecretKey {
                key,
                ttl,
                renew_margin,
            } => {
                if key.expose().is_empty() {
                    return Err(invalid("the secret key is empty"));
                }
                let ttl_secs = ttl.as_secs();
                let margin_secs = renew_margin.as_secs();
                if ttl_secs == 0 {
                    return Err(invalid("the minted UserSig ttl must be at least 1 s"));
                }
                if margin_secs >= ttl_secs {
                    // Every call would re-mint: almost certainly a unit mistake.
                    return Err(invalid("the renewal margin must be shorter than the ttl"));
                }
                Source::Minted {
                    key,
                    sdkappid,
                    identifier: identifier.to_owned(),
                    ttl_secs,
                    margin_secs,
                    cache: RefCell::new(None),
                }
            }
            AdminCredential::StaticUserSig(sig) => {
                let decoded = usersig::decode(sig.expose())
                    .map_err(|_| invalid("the admin UserSig could not be decoded"))?;
                if decoded.identifier != identifier {
                    return Err(invalid(&format!(
                        "the admin UserSig was issued for identifier {:?}, not the configured {:?}",
                        decoded.identifier, identifier
                    )));
                }
                if decoded.sdkappid != sdkappid {
                    return Err(invalid(&format!(
                        "the admin UserSig was issued for SDKAppID {}, not the configured {}",
                        decoded.sdkappid, sdkappid
                    )));
                }
                Source::Static {
                    expires_at: decoded.expires_at(),
                    sig,
                }
            }
        };
        Ok(Self { source })
    }

    /// The sig to use at `now_secs`, minting or renewing when needed.
    pub(crate) fn current(&self, now_secs: u64) -> Result<Secret, ClientError> {
        match &self.source {
            Source::Static { sig, expires_at } => {
                // Same rule as the server: still valid at the expiry second.
                if now_secs > *expires_at {
                    Err(ClientError::CredentialExpired {
                        expired_at: *expires_at,
                    })
                } else {
                    Ok(sig.clone())
                }
            }
            Source::Minted {
                key,
                sdkappid,
                identifier,
                ttl_secs,
                margin_secs,
                cache,
            } => {
                let mut cache = cache.borrow_mut();
                if let Some(cached) = cache.as_ref() {
                    if now_secs.saturating_add(*margin_secs) < cached.expires_at {
                        return Ok(cached.sig.clone());
                    }
                }
                let sig = Secret::new(usersig::mint_now(
                    key.expose(),
                    *sdkappid,
                    identifier,
                    *ttl_secs,
                    now_secs,
                ));
                *cache = Some(CachedSig {
                    sig: sig.clone(),
                    expires_at: now_secs.saturating_add(*ttl_secs),
                });
                Ok(sig)
            }
        }
    }

    /// Forget a minted sig the upstream rejected, so the next call re-mints.
    /// Returns false for a static sig, which cannot be replaced.
    pub(crate) fn invalidate(&self) -> bool {
        match &self.source {
            Source::Minted { cache, .. } => {
                cache.borrow_mut().take();
                true
            }
            Source::Static { .. } => false,
        }
    }

    pub(crate) fn status(&self) -> CredentialStatus {
        match &self.source {
            Source::Minted { cache, .. } => CredentialStatus {
                mode: CredentialMode::Minted,
                expires_at: cache.borrow().as_ref().map(|c| c.expires_at),
            },
            Source::Static { expires_at, .. } => CredentialStatus {
                mode: CredentialMode::Static,
                expires_at: Some(*expires_at),
            },
        }
    }

    /// The raw credential strings, so error texts can be scrubbed of them.
    pub(crate) fn secrets(&self) -> Vec<String> {
        match &self.source {
            Source::Minted { key, cache, .. } => {
                let mut out = vec![key.expose().to_owned()];
                if let Some(c) = cache.borrow().as_ref() {
                    out.push(c.sig.expose().to_owned());
                }
                out
            }
            Source::Static { sig, .. } => vec![sig.expose().to_owned()],
        }
    }
}

fn invalid(reason: &str) -> ClientError {
    ClientError::CredentialInvalid {
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
    const APP: u64 = 1_400_000_000;
    const ADMIN: &str = "administrator";
    const T0: u64 = 1_700_000_000;

    fn minted(ttl: u64, margin: u64) -> CredentialProvider {
        let credential = AdminCredential::SecretKey {
            key: Secret::new(KEY),
            ttl: Duration::from_secs(ttl),
            renew_margin: Duration::from_secs(margin),
        };
        CredentialProvider::new(credential, APP, ADMIN).expect("valid key")
    }

    fn static_sig(identifier: &str, sdkappid: u64, time: u64, expire: u64) -> AdminCredential {
        let sig = usersig::mint_now(KEY, sdkappid, identifier, expire, time);
        AdminCredential::StaticUserSig(Secret::new(sig))
    }

    fn reason(result: Result<CredentialProvider, ClientError>) -> String {
        match result {
            Err(ClientError::CredentialInvalid { reason }) => reason,
            other => panic!("expected CredentialInvalid, got {other:?}"),
        }
    }

    #[test]
    fn secret_key_defaults() {
        match AdminCredential::secret_key(Secret::new(KEY)) {
            AdminCredential::SecretKey {
                ttl, renew_margin, ..
            } => {
                assert_eq!(ttl, Duration::from_secs(86_400));
                assert_eq!(renew_margin, Duration::from_secs(600));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn mints_for_the_admin_and_caches_until_the_margin() {
        let p = minted(86_400, 600);
        assert_eq!(
            p.status(),
            CredentialStatus {
                mode: CredentialMode::Minted,
                expires_at: None
            }
        );
        let first = p.current(T0).unwrap();
        let decoded = usersig::decode(first.expose()).unwrap();
        assert_eq!(decoded.identifier, ADMIN);
        assert_eq!(decoded.sdkappid, APP);
        assert_eq!((decoded.time, decoded.expire), (T0, 86_400));
        assert_eq!(p.status().expires_at, Some(T0 + 86_400));

        // Just outside the margin: still the cached sig.
        let later = T0 + 86_400 - 601;
        assert_eq!(p.current(later).unwrap(), first);
        // Inside the margin: renewed, with a new expiry.
        let renew_at = T0 + 86_400 - 600;
        let renewed = p.current(renew_at).unwrap();
        assert_ne!(renewed, first);
        assert_eq!(usersig::decode(renewed.expose()).unwrap().time, renew_at);
        assert_eq!(p.status().expires_at, Some(renew_at + 86_400));
    }

    #[test]
    fn invalidate_forces_a_fresh_mint() {
        let p = minted(3600, 60);
        let first = p.current(T0).unwrap();
        assert!(p.invalidate());
        assert_eq!(p.status().expires_at, None);
        let second = p.current(T0 + 5).unwrap();
        assert_ne!(first, second);
        assert_eq!(usersig::decode(second.expose()).unwrap().time, T0 + 5);
    }

    #[test]
    fn rejects_unusable_secret_key_settings() {
        let with = |key: &str, ttl: u64, margin: u64| {
            CredentialProvider::new(
                AdminCredential::SecretKey {
                    key: Secret::new(key),
                    ttl: Duration::from_secs(ttl),
                    renew_margin: Duration::from_secs(margin),
                },
                APP,
                ADMIN,
            )
        };
        assert!(reason(with("", 3600, 60)).contains("empty"));
        assert!(reason(with(KEY, 0, 0)).contains("ttl"));
        assert!(reason(with(KEY, 600, 600)).contains("margin"));
    }

    #[test]
    fn static_sig_reports_its_expiry_and_is_valid_through_the_last_second() {
        let p = CredentialProvider::new(static_sig(ADMIN, APP, T0, 3600), APP, ADMIN).unwrap();
        assert_eq!(
            p.status(),
            CredentialStatus {
                mode: CredentialMode::Static,
                expires_at: Some(T0 + 3600)
            }
        );
        assert!(p.current(T0 + 3600).is_ok());
        match p.current(T0 + 3601) {
            Err(ClientError::CredentialExpired { expired_at }) => assert_eq!(expired_at, T0 + 3600),
            other => panic!("{other:?}"),
        }
        // A static sig cannot be replaced.
        assert!(!p.invalidate());
    }

    #[test]
    fn static_sig_must_match_identifier_and_app() {
        let other_user = reason(CredentialProvider::new(
            static_sig("alice", APP, T0, 3600),
            APP,
            ADMIN,
        ));
        assert!(other_user.contains("identifier"), "{other_user}");
        let other_app = reason(CredentialProvider::new(
            static_sig(ADMIN, 1_400_000_001, T0, 3600),
            APP,
            ADMIN,
        ));
        assert!(other_app.contains("SDKAppID"), "{other_app}");
        let garbage = reason(CredentialProvider::new(
            AdminCredential::StaticUserSig(Secret::new("not-a-usersig")),
            APP,
            ADMIN,
        ));
        assert!(garbage.contains("decoded"), "{garbage}");
        assert!(!garbage.contains("not-a-usersig"));
    }

    #[test]
    fn debug_output_hides_key_and_sig() {
        let p = minted(3600, 60);
        let sig = p.current(T0).unwrap();
        let debug = format!("{p:?}");
        assert!(!debug.contains(KEY));
        assert!(!debug.contains(sig.expose()));
    }
}
