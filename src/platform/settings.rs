//! Every setting's name, one way to read them from the Worker's vars and
//! secrets, and one error type that names a setting and never its value.
//! Each layer parses its own settings with these; limits and defaults stay
//! with the code they bound.

use std::ops::RangeInclusive;

/// Looks a setting up among the Worker's secrets and vars (or a test's map).
pub type Get<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Names of every setting, so errors and docs agree on the spelling.
pub mod names {
    // Tencent and the upstream client.
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
    pub const RECORD_CACHE_SECS: &str = "RECORD_CACHE_SECS";
    pub const UPSTREAM_SHARED_READS: &str = "UPSTREAM_SHARED_READS";
    // Who the callers are.
    pub const AUTH_MODE: &str = "AUTH_MODE";
    pub const JWT_SECRET: &str = "JWT_SECRET";
    pub const JWT_JWKS_URL: &str = "JWT_JWKS_URL";
    pub const JWT_ALG: &str = "JWT_ALG";
    pub const JWT_ISSUER: &str = "JWT_ISSUER";
    pub const JWT_AUDIENCE: &str = "JWT_AUDIENCE";
    pub const JWT_LEEWAY_SECS: &str = "JWT_LEEWAY_SECS";
    pub const JWT_JWKS_REFRESH_SECS: &str = "JWT_JWKS_REFRESH_SECS";
    pub const ADMIN_USERS: &str = "ADMIN_USERS";
    pub const ADMIN_CLAIM: &str = "ADMIN_CLAIM";
    pub const JWT_PROVIDER: &str = "JWT_PROVIDER";
    pub const JWT_USER_CLAIM: &str = "JWT_USER_CLAIM";
    pub const JWT_HEADER: &str = "JWT_HEADER";
    // What they may do, and from where.
    pub const ACTION_POLICY: &str = "ACTION_POLICY";
    pub const ALLOWED_ORIGINS: &str = "ALLOWED_ORIGINS";
    // The live board.
    pub const CALLBACK_TOKEN: &str = "TENCENT_CALLBACK_TOKEN";
    pub const WEBHOOK_URL_KEY: &str = "WEBHOOK_URL_KEY";
    /// How a missing pair is named: either secret will do.
    pub const WEBHOOK_SECRETS: &str = "TENCENT_CALLBACK_TOKEN or WEBHOOK_URL_KEY";
    pub const LIVE_RECONCILE_AFTER_SECS: &str = "LIVE_RECONCILE_AFTER_SECS";
    pub const LIVE_KEEP_ENDED_SECS: &str = "LIVE_KEEP_ENDED_SECS";
    // Tests only: see api::panic_probe.
    pub const PANIC_PROBE: &str = "PANIC_PROBE";
    pub const LIVE_SHARDS: &str = "LIVE_SHARDS";
    pub const LIVE_SHARDS_PREVIOUS: &str = "LIVE_SHARDS_PREVIOUS";
    pub const LIVE_MAX_CALLS: &str = "LIVE_MAX_CALLS";
    pub const LIVE_COALESCE_MS: &str = "LIVE_COALESCE_MS";
    // The call ledger.
    pub const HISTORY_RETENTION_DAYS: &str = "HISTORY_RETENTION_DAYS";
    // The relay to the app's own backends.
    pub const WEBHOOK_FORWARD_URLS: &str = "WEBHOOK_FORWARD_URLS";
    pub const WEBHOOK_FORWARD_SECRET: &str = "WEBHOOK_FORWARD_SECRET";
    // TRTC's room and media callbacks.
    pub const TRTC_CALLBACK_KEY: &str = "TRTC_CALLBACK_KEY";
    pub const LIVE_EMPTY_ROOM_SECS: &str = "LIVE_EMPTY_ROOM_SECS";
}

/// A setting that is missing or invalid. Names the setting, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("setting {0} is required but not set")]
    Missing(&'static str),
    #[error("setting {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl ConfigError {
    pub fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            name,
            reason: reason.into(),
        }
    }

    /// The setting the operator has to fix.
    pub fn setting(&self) -> &'static str {
        match self {
            Self::Missing(name) | Self::Invalid { name, .. } => name,
        }
    }
}

/// The value, trimmed; an empty one counts as unset.
pub fn optional(get: Get<'_>, name: &str) -> Option<String> {
    get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

pub fn required(get: Get<'_>, name: &'static str) -> Result<String, ConfigError> {
    optional(get, name).ok_or(ConfigError::Missing(name))
}

/// A whole number, `default` when unset.
pub fn number(get: Get<'_>, name: &'static str, default: u64) -> Result<u64, ConfigError> {
    match optional(get, name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ConfigError::invalid(name, "expected a whole number")),
    }
}

/// `on` or `off`, `default` when unset.
pub fn switch(get: Get<'_>, name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match optional(get, name).as_deref() {
        None => Ok(default),
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        Some(_) => Err(ConfigError::invalid(name, "expected on or off")),
    }
}

/// A whole number within `range` (seconds, milliseconds…: `unit` says),
/// `default` when unset.
pub fn within(
    get: Get<'_>,
    name: &'static str,
    default: u64,
    range: RangeInclusive<u64>,
    unit: &str,
) -> Result<u64, ConfigError> {
    let value = number(get, name, default);
    match value {
        Ok(v) if range.contains(&v) => Ok(v),
        _ => Err(ConfigError::invalid(
            name,
            format!(
                "must be whole {unit} between {} and {}",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// A getter over fixed `(name, value)` pairs: the Worker's `Env` in native tests.
#[cfg(test)]
pub fn from_pairs<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_unset_and_errors_name_the_setting_not_the_value() {
        let g = from_pairs(&[("A", "  "), ("B", " 7 "), ("C", "seven")]);
        assert_eq!(optional(&g, "A"), None);
        assert_eq!(required(&g, "A"), Err(ConfigError::Missing("A")));
        assert_eq!(number(&g, "B", 1), Ok(7));
        assert_eq!(number(&g, "Z", 1), Ok(1));
        let err = number(&g, "C", 1).unwrap_err();
        assert_eq!(err.setting(), "C");
        assert!(!err.to_string().contains("seven"), "{err}");
    }

    #[test]
    fn ranges_are_checked_with_a_readable_reason() {
        let g = from_pairs(&[("S", "301"), ("T", "-1")]);
        let err = within(&g, "S", 30, 0..=300, "seconds").unwrap_err();
        assert_eq!(
            err.to_string(),
            "setting S is invalid: must be whole seconds between 0 and 300"
        );
        assert!(within(&g, "T", 30, 0..=300, "seconds").is_err());
        assert_eq!(within(&g, "U", 30, 0..=300, "seconds"), Ok(30));
    }

    #[test]
    fn switches_are_on_or_off() {
        let g = from_pairs(&[("A", "off"), ("B", " on "), ("C", "yes")]);
        assert_eq!(switch(&g, "A", true), Ok(false));
        assert_eq!(switch(&g, "B", false), Ok(true));
        assert_eq!(switch(&g, "Z", true), Ok(true));
        let err = switch(&g, "C", true).unwrap_err();
        assert_eq!(err.to_string(), "setting C is invalid: expected on or off");
    }
}
