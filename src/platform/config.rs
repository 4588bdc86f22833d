//! Settings read once per isolate from the Worker's vars and secrets.

use std::time::Duration;

use callkit_core::client::{AdminCredential, ClientConfig, RetryPolicy};
use callkit_core::region::{Endpoint, Region};
use callkit_core::secret::Secret;
use callkit_core::user_id::is_valid_user_id;
use callkit_core::usersig::SigningKey;

use super::admin_accounts::AdminAccounts;

/// Names of every setting, so errors and docs agree on the spelling.
pub mod names {
    pub const SDKAPPID: &str = "TENCENT_SDKAPPID";
    pub const REGION: &str = "TENCENT_REGION";
    pub const API_BASE: &str = "TENCENT_API_BASE";
    pub const ADMIN_IDENTIFIER: &str = "TENCENT_ADMIN_IDENTIFIER";
    pub const ADMIN_ACCOUNTS: &str = "TENCENT_ADMIN_ACCOUNTS";
    pub const SECRET_KEY: &str = "TENCENT_SECRET_KEY";
    pub const ADMIN_USERSIG: &str = "TENCENT_ADMIN_USERSIG";
    pub const UPSTREAM_TIMEOUT_MS: &str = "UPSTREAM_TIMEOUT_MS";
    pub const UPSTREAM_DEADLINE_MS: &str = "UPSTREAM_DEADLINE_MS";
    pub const USERSIG_TTL_SECS: &str = "USERSIG_TTL_SECS";
    pub const ADMIN_USERSIG_TTL_SECS: &str = "ADMIN_USERSIG_TTL_SECS";
    pub const CALLBACK_TOKEN: &str = "TENCENT_CALLBACK_TOKEN";
    pub const WEBHOOK_URL_KEY: &str = "WEBHOOK_URL_KEY";
    /// How a missing pair is named: either secret will do.
    pub const WEBHOOK_SECRETS: &str = "TENCENT_CALLBACK_TOKEN or WEBHOOK_URL_KEY";
    pub const LIVE_RECONCILE_AFTER_SECS: &str = "LIVE_RECONCILE_AFTER_SECS";
    pub const LIVE_KEEP_ENDED_SECS: &str = "LIVE_KEEP_ENDED_SECS";
}

const DEFAULT_ADMIN: &str = "administrator";
const DEFAULT_TIMEOUT_MS: u64 = 5_000;
const DEFAULT_DEADLINE_MS: u64 = 12_000;
const DEFAULT_USERSIG_TTL_SECS: u64 = 86_400;
const DEFAULT_ADMIN_TTL_SECS: u64 = 86_400;
/// Short admin sigs only make sense in tests of renewal; below this the
/// renewal margin would be under a second.
const MIN_ADMIN_TTL_SECS: u64 = 5;
/// Renew ten minutes early, or a fifth of the validity for short-lived sigs.
const MAX_RENEW_MARGIN_SECS: u64 = 600;
/// Tencent's own REST budget is 3 s; a shorter client timeout cuts off
/// answers that were on their way.
const MIN_TIMEOUT_MS: u64 = 3_001;
/// Tencent caps UserSig validity at 50 years; a day is the documented
/// sensible default and 180 days the console's.
const MAX_USERSIG_TTL_SECS: u64 = 180 * 86_400;

/// A setting that is missing or invalid. Names the setting, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("setting {0} is required but not set")]
    Missing(&'static str),
    #[error("setting {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl ConfigError {
    fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            name,
            reason: reason.into(),
        }
    }
}

/// How the Tencent side is reached and authenticated.
#[derive(Debug, Clone)]
pub struct TencentConfig {
    pub client: ClientConfig,
    pub credential: AdminCredential,
    /// Present when the operator gave the secret key: needed to mint users'
    /// UserSigs and to verify them in `usersig` auth mode.
    pub secret_key: Option<Secret>,
    /// The same key, prepared once for minting users' UserSigs.
    pub signing_key: Option<SigningKey>,
    pub usersig_ttl: Duration,
    /// Every admin account of the app: none may be handed a UserSig.
    pub admin_accounts: AdminAccounts,
}

impl TencentConfig {
    /// Reads the Tencent settings through `get`, which looks a name up among
    /// the Worker's secrets and vars.
    pub fn from_getter(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let sdkappid = required(get, names::SDKAPPID)?
            .parse::<u64>()
            .ok()
            .filter(|id| *id > 0 && *id <= u64::from(u32::MAX))
            .ok_or_else(|| {
                ConfigError::invalid(names::SDKAPPID, "expected a positive 32-bit number")
            })?;

        let endpoint = match optional(get, names::API_BASE) {
            // The reason is a fixed sentence: the value is never echoed.
            Some(base) => Endpoint::custom(&base)
                .map_err(|e| ConfigError::invalid(names::API_BASE, e.to_string()))?,
            None => {
                let region = required(get, names::REGION)?;
                let region = region.parse::<Region>().map_err(|_| {
                    ConfigError::invalid(
                        names::REGION,
                        format!("expected one of {}", region_names()),
                    )
                })?;
                Endpoint::Region(region)
            }
        };

        let admin_identifier =
            optional(get, names::ADMIN_IDENTIFIER).unwrap_or_else(|| DEFAULT_ADMIN.to_owned());
        if !is_valid_user_id(&admin_identifier) {
            return Err(ConfigError::invalid(
                names::ADMIN_IDENTIFIER,
                "expected a UserID of 1-32 printable ASCII characters",
            ));
        }

        let admin_accounts = AdminAccounts::from_getter(get, &admin_identifier)?;

        let admin_ttl = number(get, names::ADMIN_USERSIG_TTL_SECS, DEFAULT_ADMIN_TTL_SECS)?;
        if !(MIN_ADMIN_TTL_SECS..=MAX_USERSIG_TTL_SECS).contains(&admin_ttl) {
            return Err(ConfigError::invalid(
                names::ADMIN_USERSIG_TTL_SECS,
                "must be between 5 and 15552000 seconds",
            ));
        }
        let secret_key = optional(get, names::SECRET_KEY).map(Secret::new);
        let static_sig = optional(get, names::ADMIN_USERSIG).map(Secret::new);
        // A key beats a static sig: it never expires and is renewed for us.
        let credential = match (&secret_key, static_sig) {
            (Some(key), _) => AdminCredential::SecretKey {
                key: key.clone(),
                ttl: Duration::from_secs(admin_ttl),
                renew_margin: Duration::from_secs((admin_ttl / 5).min(MAX_RENEW_MARGIN_SECS)),
            },
            (None, Some(sig)) => AdminCredential::StaticUserSig(sig),
            (None, None) => return Err(ConfigError::Missing(names::SECRET_KEY)),
        };

        let attempt_ms = number(get, names::UPSTREAM_TIMEOUT_MS, DEFAULT_TIMEOUT_MS)?;
        if attempt_ms < MIN_TIMEOUT_MS {
            return Err(ConfigError::invalid(
                names::UPSTREAM_TIMEOUT_MS,
                "must be longer than Tencent's 3000 ms budget",
            ));
        }
        let deadline_ms = number(get, names::UPSTREAM_DEADLINE_MS, DEFAULT_DEADLINE_MS)?;
        if deadline_ms < attempt_ms {
            return Err(ConfigError::invalid(
                names::UPSTREAM_DEADLINE_MS,
                "must be at least UPSTREAM_TIMEOUT_MS",
            ));
        }
        let ttl = number(get, names::USERSIG_TTL_SECS, DEFAULT_USERSIG_TTL_SECS)?;
        if !(60..=MAX_USERSIG_TTL_SECS).contains(&ttl) {
            return Err(ConfigError::invalid(
                names::USERSIG_TTL_SECS,
                "must be between 60 and 15552000 seconds",
            ));
        }

        Ok(Self {
            client: ClientConfig {
                endpoint,
                sdkappid,
                admin_identifier,
                attempt_timeout: Duration::from_millis(attempt_ms),
                deadline: Duration::from_millis(deadline_ms),
                retry: RetryPolicy::default(),
            },
            credential,
            signing_key: secret_key.as_ref().map(|key| SigningKey::new(key.expose())),
            secret_key,
            usersig_ttl: Duration::from_secs(ttl),
            admin_accounts,
        })
    }
}

fn region_names() -> String {
    Region::ALL
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn optional(get: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

pub(crate) fn required(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<String, ConfigError> {
    optional(get, name).ok_or(ConfigError::Missing(name))
}

pub(crate) fn number(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<u64, ConfigError> {
    match optional(get, name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ConfigError::invalid(name, "expected a whole number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";

    fn parse(pairs: &[(&str, &str)]) -> Result<TencentConfig, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        TencentConfig::from_getter(&|name| map.get(name).cloned())
    }

    #[test]
    fn minimal_region_config_uses_defaults() {
        let c = parse(&[
            ("TENCENT_SDKAPPID", "1400000000"),
            ("TENCENT_REGION", "singapore"),
            ("TENCENT_SECRET_KEY", KEY),
        ])
        .unwrap();
        assert_eq!(c.client.sdkappid, 1_400_000_000);
        assert_eq!(c.client.endpoint, Endpoint::Region(Region::Singapore));
        assert_eq!(c.client.admin_identifier, "administrator");
        assert_eq!(c.client.attempt_timeout, Duration::from_secs(5));
        assert!(matches!(c.credential, AdminCredential::SecretKey { .. }));
        assert_eq!(c.usersig_ttl, Duration::from_secs(86_400));
    }

    #[test]
    fn api_base_overrides_region_and_static_sig_is_accepted() {
        let c = parse(&[
            ("TENCENT_SDKAPPID", "1400000000"),
            ("TENCENT_API_BASE", "http://127.0.0.1:8790/"),
            ("TENCENT_ADMIN_USERSIG", "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwjDB4pTsxIKCzBQlK0MTAyiAyKRWFGQWpQLFTU1NjeCiJZm5YDEzS0tDAyOYaHFmOtBM54KsUqeUwGLLqPK8UndHryCL-Lx8-1RPy7Ty1AijMk9f30hLk0x-r3CvSFulWgAPYy*9"),
        ])
        .unwrap();
        assert_eq!(
            c.client.endpoint.base_urls(),
            vec!["http://127.0.0.1:8790".to_string()]
        );
        assert!(matches!(c.credential, AdminCredential::StaticUserSig(_)));
        assert!(c.secret_key.is_none());
    }

    #[test]
    fn errors_name_the_setting_and_never_the_value() {
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (
                vec![("TENCENT_REGION", "singapore"), ("TENCENT_SECRET_KEY", KEY)],
                "TENCENT_SDKAPPID",
            ),
            (
                vec![
                    ("TENCENT_SDKAPPID", "abc"),
                    ("TENCENT_REGION", "singapore"),
                    ("TENCENT_SECRET_KEY", KEY),
                ],
                "TENCENT_SDKAPPID",
            ),
            (
                vec![
                    ("TENCENT_SDKAPPID", "1400000000"),
                    ("TENCENT_SECRET_KEY", KEY),
                ],
                "TENCENT_REGION",
            ),
            (
                vec![
                    ("TENCENT_SDKAPPID", "1400000000"),
                    ("TENCENT_REGION", "mars"),
                    ("TENCENT_SECRET_KEY", KEY),
                ],
                "TENCENT_REGION",
            ),
            (
                vec![
                    ("TENCENT_SDKAPPID", "1400000000"),
                    ("TENCENT_REGION", "seoul"),
                ],
                "TENCENT_SECRET_KEY",
            ),
            (
                vec![
                    ("TENCENT_SDKAPPID", "1400000000"),
                    ("TENCENT_API_BASE", "ftp://x"),
                    ("TENCENT_SECRET_KEY", KEY),
                ],
                "TENCENT_API_BASE",
            ),
            (
                vec![
                    ("TENCENT_SDKAPPID", "1400000000"),
                    ("TENCENT_API_BASE", "http://tencent-proxy.example"),
                    ("TENCENT_SECRET_KEY", KEY),
                ],
                "TENCENT_API_BASE",
            ),
            (
                vec![
                    ("TENCENT_SDKAPPID", "1400000000"),
                    ("TENCENT_API_BASE", "http://localhost:80@evil.example"),
                    ("TENCENT_SECRET_KEY", KEY),
                ],
                "TENCENT_API_BASE",
            ),
            (
                vec![
                    ("TENCENT_SDKAPPID", "1400000000"),
                    ("TENCENT_REGION", "seoul"),
                    ("TENCENT_SECRET_KEY", KEY),
                    ("TENCENT_ADMIN_ACCOUNTS", "ok,bad\tid"),
                ],
                "TENCENT_ADMIN_ACCOUNTS",
            ),
            (
                vec![
                    ("TENCENT_SDKAPPID", "1400000000"),
                    ("TENCENT_REGION", "seoul"),
                    ("TENCENT_SECRET_KEY", KEY),
                    ("UPSTREAM_TIMEOUT_MS", "3000"),
                ],
                "UPSTREAM_TIMEOUT_MS",
            ),
            (
                vec![
                    ("TENCENT_SDKAPPID", "1400000000"),
                    ("TENCENT_REGION", "seoul"),
                    ("TENCENT_SECRET_KEY", KEY),
                    ("UPSTREAM_DEADLINE_MS", "4000"),
                ],
                "UPSTREAM_DEADLINE_MS",
            ),
            (
                vec![
                    ("TENCENT_SDKAPPID", "1400000000"),
                    ("TENCENT_REGION", "seoul"),
                    ("TENCENT_SECRET_KEY", KEY),
                    ("TENCENT_ADMIN_IDENTIFIER", "bad\tid"),
                ],
                "TENCENT_ADMIN_IDENTIFIER",
            ),
            (
                vec![
                    ("TENCENT_SDKAPPID", "1400000000"),
                    ("TENCENT_REGION", "seoul"),
                    ("TENCENT_SECRET_KEY", KEY),
                    ("USERSIG_TTL_SECS", "5"),
                ],
                "USERSIG_TTL_SECS",
            ),
        ];
        for (pairs, name) in cases {
            let err = parse(&pairs).unwrap_err().to_string();
            assert!(err.contains(name), "{err} should name {name}");
            assert!(!err.contains(KEY), "{err} leaks the key");
            for (_, value) in &pairs {
                if value.len() > 3 && !name.ends_with("_MS") && *value != "1400000000" {
                    assert!(!err.contains(value), "{err} echoes a value");
                }
            }
        }
    }
}
