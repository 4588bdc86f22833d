//! Settings read once per isolate from the Worker's vars and secrets.

use std::time::Duration;

use callkit_core::client::{AdminCredential, ClientConfig, UPSTREAM_BUDGET};
use callkit_core::region::{Endpoint, Region};
use callkit_core::secret::Secret;
use callkit_core::user_id::is_valid_user_id;
use callkit_core::usersig::SigningKey;

use super::admin_accounts::AdminAccounts;
pub use super::settings::{names, ConfigError};
use super::settings::{number, optional, required, switch, within, Get};

const DEFAULT_ADMIN: &str = "administrator";
/// A day: the documented sensible default, for users' and the admin's sigs.
const DEFAULT_USERSIG_TTL_SECS: u64 = 86_400;
/// Short admin sigs only make sense in tests of renewal; below this the
/// renewal margin would be under a second.
const MIN_ADMIN_TTL_SECS: u64 = 5;
/// Renew ten minutes early, or a fifth of the validity for short-lived sigs.
const MAX_RENEW_MARGIN_SECS: u64 = 600;
/// Tencent caps UserSig validity at 50 years; 180 days is the console's.
const MAX_USERSIG_TTL_SECS: u64 = 180 * 86_400;
/// Tencent keeps a record queryable for 7 days: no longer than that.
const MAX_RECORD_CACHE_SECS: u64 = 7 * 86_400;

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
    pub fn from_getter(get: Get<'_>) -> Result<Self, ConfigError> {
        let admin_identifier = admin_identifier(get)?;
        let admin_accounts = AdminAccounts::from_getter(get, &admin_identifier)?;
        let secret_key = optional(get, names::SECRET_KEY).map(Secret::new);
        let credential = credential(get, secret_key.as_ref())?;
        let mut client = ClientConfig::new(endpoint(get)?, sdkappid(get)?, admin_identifier);
        (client.attempt_timeout, client.deadline) = timeouts(get)?;
        client.record_memo_ttl = record_cache(get)?;
        client.share_reads = switch(get, names::UPSTREAM_SHARED_READS, client.share_reads)?;
        let ttl = within(
            get,
            names::USERSIG_TTL_SECS,
            DEFAULT_USERSIG_TTL_SECS,
            60..=MAX_USERSIG_TTL_SECS,
            "seconds",
        )?;
        Ok(Self {
            client,
            credential,
            signing_key: secret_key.as_ref().map(|key| SigningKey::new(key.expose())),
            secret_key,
            usersig_ttl: Duration::from_secs(ttl),
            admin_accounts,
        })
    }
}

fn sdkappid(get: Get<'_>) -> Result<u64, ConfigError> {
    required(get, names::SDKAPPID)?
        .parse::<u64>()
        .ok()
        .filter(|id| *id > 0 && *id <= u64::from(u32::MAX))
        .ok_or_else(|| ConfigError::invalid(names::SDKAPPID, "expected a positive 32-bit number"))
}

/// `TENCENT_API_BASE` when set, else the region's domains.
fn endpoint(get: Get<'_>) -> Result<Endpoint, ConfigError> {
    if let Some(base) = optional(get, names::API_BASE) {
        // The reason is a fixed sentence: the value is never echoed.
        return Endpoint::custom(&base)
            .map_err(|e| ConfigError::invalid(names::API_BASE, e.to_string()));
    }
    let region = required(get, names::REGION)?;
    region.parse::<Region>().map(Endpoint::Region).map_err(|_| {
        ConfigError::invalid(names::REGION, format!("expected one of {}", region_names()))
    })
}

fn admin_identifier(get: Get<'_>) -> Result<String, ConfigError> {
    let identifier =
        optional(get, names::ADMIN_IDENTIFIER).unwrap_or_else(|| DEFAULT_ADMIN.to_owned());
    if !is_valid_user_id(&identifier) {
        return Err(ConfigError::invalid(
            names::ADMIN_IDENTIFIER,
            "expected a UserID of 1-32 printable ASCII characters",
        ));
    }
    Ok(identifier)
}

/// A key beats a static sig: it never expires and is renewed for us.
fn credential(get: Get<'_>, secret_key: Option<&Secret>) -> Result<AdminCredential, ConfigError> {
    let ttl = within(
        get,
        names::ADMIN_USERSIG_TTL_SECS,
        DEFAULT_USERSIG_TTL_SECS,
        MIN_ADMIN_TTL_SECS..=MAX_USERSIG_TTL_SECS,
        "seconds",
    )?;
    match (secret_key, optional(get, names::ADMIN_USERSIG)) {
        (Some(key), _) => Ok(AdminCredential::SecretKey {
            key: key.clone(),
            ttl: Duration::from_secs(ttl),
            renew_margin: Duration::from_secs((ttl / 5).min(MAX_RENEW_MARGIN_SECS)),
        }),
        (None, Some(sig)) => Ok(AdminCredential::StaticUserSig(Secret::new(sig))),
        (None, None) => Err(ConfigError::Missing(names::SECRET_KEY)),
    }
}

/// How long a call record fetched by CallId is given again without asking
/// Tencent (0: never); the default is the core's.
fn record_cache(get: Get<'_>) -> Result<Duration, ConfigError> {
    let default = ClientConfig::DEFAULT_RECORD_MEMO_TTL.as_secs();
    let secs = within(
        get,
        names::RECORD_CACHE_SECS,
        default,
        0..=MAX_RECORD_CACHE_SECS,
        "seconds",
    )?;
    Ok(Duration::from_secs(secs))
}

/// Per attempt and in all; the defaults and the floor are the core's.
fn timeouts(get: Get<'_>) -> Result<(Duration, Duration), ConfigError> {
    let floor = millis(UPSTREAM_BUDGET) + 1;
    let attempt = within(
        get,
        names::UPSTREAM_TIMEOUT_MS,
        millis(ClientConfig::DEFAULT_ATTEMPT_TIMEOUT),
        floor..=u64::MAX,
        "milliseconds",
    )
    .map_err(|_| {
        ConfigError::invalid(
            names::UPSTREAM_TIMEOUT_MS,
            "must be longer than Tencent's 3000 ms budget",
        )
    })?;
    let deadline = number(
        get,
        names::UPSTREAM_DEADLINE_MS,
        millis(ClientConfig::DEFAULT_DEADLINE),
    )?;
    if deadline < attempt {
        return Err(ConfigError::invalid(
            names::UPSTREAM_DEADLINE_MS,
            "must be at least UPSTREAM_TIMEOUT_MS",
        ));
    }
    Ok((
        Duration::from_millis(attempt),
        Duration::from_millis(deadline),
    ))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn region_names() -> String {
    Region::ALL
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
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
            (
                vec![
                    ("TENCENT_SDKAPPID", "1400000000"),
                    ("TENCENT_REGION", "seoul"),
                    ("TENCENT_SECRET_KEY", KEY),
                    ("RECORD_CACHE_SECS", "604801"),
                ],
                "RECORD_CACHE_SECS",
            ),
            (
                vec![
                    ("TENCENT_SDKAPPID", "1400000000"),
                    ("TENCENT_REGION", "seoul"),
                    ("TENCENT_SECRET_KEY", KEY),
                    ("UPSTREAM_SHARED_READS", "maybe"),
                ],
                "UPSTREAM_SHARED_READS",
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
