//! Settings of the live board: the webhook receiver's secrets, how long the
//! board waits before it checks a quiet call or forgets an ended one, how
//! many shards hold it and how many calls each may hold.

use std::time::Duration;

use callkit_core::secret::Secret;

use super::settings::{names, optional, within, ConfigError, Get};

const DEFAULT_RECONCILE_AFTER_SECS: u64 = 120;
const DEFAULT_KEEP_ENDED_SECS: u64 = 600;
/// A webhook secret shorter than this is refused at start-up: `openssl rand -hex 32`.
pub const MIN_SECRET_BYTES: usize = 32;
/// Shards of one app's board; each is one Durable Object.
const MAX_SHARDS: u64 = 64;
/// Calls one shard keeps (live and recently ended) before it refuses new ones.
const DEFAULT_MAX_CALLS: u64 = 20_000;
/// A week: longer makes no sense for a board of live calls.
const MAX_SECS: u64 = 7 * 86_400;

#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// `Sign = sha256hex(token + RequestTime)` in the webhook's query.
    pub callback_token: Option<Secret>,
    /// `key=…` in the webhook's query.
    pub url_key: Option<Secret>,
    /// A live call with no event for this long is checked with Tencent.
    pub reconcile_after: Duration,
    /// An ended call stays on the board this long.
    pub keep_ended: Duration,
    /// Signs socket tickets: the app's secret key, or its static admin UserSig.
    pub ticket_secret: Secret,
    /// `LIVE_COALESCE_MS`: changes to a socket within this window go as one
    /// frame; 0 sends each at once.
    pub coalesce_ms: u64,
    /// `LIVE_SHARDS`: calls are spread over this many objects by CallId.
    pub shards: u16,
    /// `LIVE_SHARDS_PREVIOUS`: the count before a change, while calls placed
    /// under it may still be live (docs/live-board.md, Changing LIVE_SHARDS).
    pub previous_shards: Option<u16>,
    /// `LIVE_MAX_CALLS`: calls one shard holds at most.
    pub max_calls: u64,
}

impl LiveConfig {
    pub fn from_getter(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let ticket_secret = optional(get, names::SECRET_KEY)
            .or_else(|| optional(get, names::ADMIN_USERSIG))
            .ok_or(ConfigError::Missing(names::SECRET_KEY))?;
        Ok(Self {
            callback_token: strong_secret(get, names::CALLBACK_TOKEN)?,
            url_key: strong_secret(get, names::WEBHOOK_URL_KEY)?,
            reconcile_after: seconds(
                get,
                names::LIVE_RECONCILE_AFTER_SECS,
                DEFAULT_RECONCILE_AFTER_SECS,
            )?,
            keep_ended: seconds(get, names::LIVE_KEEP_ENDED_SECS, DEFAULT_KEEP_ENDED_SECS)?,
            ticket_secret: Secret::new(ticket_secret),
            coalesce_ms: within(get, names::LIVE_COALESCE_MS, 0, 0..=1_000, "milliseconds")?,
            shards: shard_count(get, names::LIVE_SHARDS)?.unwrap_or(1),
            previous_shards: shard_count(get, names::LIVE_SHARDS_PREVIOUS)?,
            max_calls: within(
                get,
                names::LIVE_MAX_CALLS,
                DEFAULT_MAX_CALLS,
                1..=1_000_000,
                "calls",
            )?,
        })
    }

    /// Every shard that may hold a call: those of both counts during a change.
    pub fn shards_to_read(&self) -> u16 {
        self.shards.max(self.previous_shards.unwrap_or(1))
    }

    /// The receiver refuses every webhook until one secret is set.
    pub fn receives_webhooks(&self) -> bool {
        self.callback_token.is_some() || self.url_key.is_some()
    }
}

#[cfg(test)]
impl LiveConfig {
    /// The board's settings in its tests: no secrets, these periods and shards.
    pub fn for_tests(reconcile_secs: u64, keep_secs: u64, shards: u16) -> Self {
        Self {
            callback_token: None,
            url_key: None,
            reconcile_after: Duration::from_secs(reconcile_secs),
            keep_ended: Duration::from_secs(keep_secs),
            ticket_secret: Secret::new("s"),
            coalesce_ms: 0,
            shards,
            previous_shards: None,
            max_calls: 10,
        }
    }
}

/// A webhook secret, refused when shorter than `MIN_SECRET_BYTES`: a short
/// key in a URL, or a short token under an unkeyed hash, can be guessed.
fn strong_secret(get: Get<'_>, name: &'static str) -> Result<Option<Secret>, ConfigError> {
    match optional(get, name) {
        Some(v) if v.len() < MIN_SECRET_BYTES => Err(ConfigError::invalid(
            name,
            format!(
                "must be at least {MIN_SECRET_BYTES} bytes: make one with `openssl rand -hex 32`"
            ),
        )),
        v => Ok(v.map(Secret::new)),
    }
}

fn shard_count(get: Get<'_>, name: &'static str) -> Result<Option<u16>, ConfigError> {
    if optional(get, name).is_none() {
        return Ok(None);
    }
    let n = within(get, name, 1, 1..=MAX_SHARDS, "shards")?;
    Ok(Some(u16::try_from(n).unwrap_or(1)))
}

fn seconds(get: Get<'_>, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
    within(get, name, default, 1..=MAX_SECS, "seconds").map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn parse(pairs: &[(&str, &str)]) -> Result<LiveConfig, ConfigError> {
        let mut all = vec![("TENCENT_SECRET_KEY", "app-secret")];
        all.extend_from_slice(pairs);
        let get = crate::platform::settings::from_pairs(&all);
        LiveConfig::from_getter(&get)
    }

    #[test]
    fn defaults_and_no_secret_means_no_webhooks() {
        let c = parse(&[]).unwrap();
        assert!(!c.receives_webhooks());
        assert_eq!(c.reconcile_after, Duration::from_secs(120));
        assert_eq!(c.keep_ended, Duration::from_secs(600));
        assert!(parse(&[("WEBHOOK_URL_KEY", KEY)])
            .unwrap()
            .receives_webhooks());
        let padded = format!(" {KEY} ");
        assert!(parse(&[("TENCENT_CALLBACK_TOKEN", &padded)])
            .unwrap()
            .receives_webhooks());
        assert!(!parse(&[("TENCENT_CALLBACK_TOKEN", "  ")])
            .unwrap()
            .receives_webhooks());
    }

    #[test]
    fn durations_are_range_checked_and_named() {
        for bad in ["0", "-1", "x", "604801"] {
            let err = parse(&[("LIVE_KEEP_ENDED_SECS", bad)]).unwrap_err();
            assert!(
                err.to_string().contains("LIVE_KEEP_ENDED_SECS"),
                "{bad}: {err}"
            );
        }
        let c = parse(&[("LIVE_RECONCILE_AFTER_SECS", "2")]).unwrap();
        assert_eq!(c.reconcile_after, Duration::from_secs(2));
    }

    #[test]
    fn weak_webhook_secrets_are_refused_by_name() {
        for name in ["WEBHOOK_URL_KEY", "TENCENT_CALLBACK_TOKEN"] {
            let short = &KEY[1..];
            let err = parse(&[(name, short)]).unwrap_err();
            assert_eq!(err.setting(), name);
            assert!(err.to_string().contains("openssl rand -hex 32"), "{err}");
            assert!(!err.to_string().contains(short), "{err}");
            assert!(parse(&[(name, KEY)]).is_ok());
        }
    }

    #[test]
    fn shards_default_to_one_and_are_bounded() {
        let c = parse(&[]).unwrap();
        assert_eq!(
            (c.shards, c.previous_shards, c.shards_to_read()),
            (1, None, 1)
        );
        let c = parse(&[("LIVE_SHARDS", "4"), ("LIVE_SHARDS_PREVIOUS", "1")]).unwrap();
        assert_eq!(
            (c.shards, c.previous_shards, c.shards_to_read()),
            (4, Some(1), 4)
        );
        let c = parse(&[("LIVE_SHARDS", "2"), ("LIVE_SHARDS_PREVIOUS", "8")]).unwrap();
        assert_eq!(c.shards_to_read(), 8);
        for bad in ["0", "65", "x"] {
            assert_eq!(
                parse(&[("LIVE_SHARDS", bad)]).unwrap_err().setting(),
                "LIVE_SHARDS"
            );
        }
        assert_eq!(c.ticket_secret.expose(), "app-secret");
        assert_eq!(parse(&[]).unwrap().coalesce_ms, 0);
        assert_eq!(
            parse(&[("LIVE_COALESCE_MS", "50")]).unwrap().coalesce_ms,
            50
        );
        assert!(parse(&[("LIVE_COALESCE_MS", "1001")]).is_err());
    }
}
