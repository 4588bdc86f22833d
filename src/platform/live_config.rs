//! Settings of the live board: the webhook receiver's secrets and how long
//! the board waits before it checks a quiet call or forgets an ended one.

use std::time::Duration;

use callkit_core::secret::Secret;

use super::settings::{names, optional, within, ConfigError, Get};

const DEFAULT_RECONCILE_AFTER_SECS: u64 = 120;
const DEFAULT_KEEP_ENDED_SECS: u64 = 600;
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
}

impl LiveConfig {
    pub fn from_getter(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            callback_token: optional(get, names::CALLBACK_TOKEN).map(Secret::new),
            url_key: optional(get, names::WEBHOOK_URL_KEY).map(Secret::new),
            reconcile_after: seconds(
                get,
                names::LIVE_RECONCILE_AFTER_SECS,
                DEFAULT_RECONCILE_AFTER_SECS,
            )?,
            keep_ended: seconds(get, names::LIVE_KEEP_ENDED_SECS, DEFAULT_KEEP_ENDED_SECS)?,
        })
    }

    /// The receiver refuses every webhook until one secret is set.
    pub fn receives_webhooks(&self) -> bool {
        self.callback_token.is_some() || self.url_key.is_some()
    }
}

fn seconds(get: Get<'_>, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
    within(get, name, default, 1..=MAX_SECS, "seconds").map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<LiveConfig, ConfigError> {
        LiveConfig::from_getter(&crate::platform::settings::from_pairs(pairs))
    }

    #[test]
    fn defaults_and_no_secret_means_no_webhooks() {
        let c = parse(&[]).unwrap();
        assert!(!c.receives_webhooks());
        assert_eq!(c.reconcile_after, Duration::from_secs(120));
        assert_eq!(c.keep_ended, Duration::from_secs(600));
        assert!(parse(&[("WEBHOOK_URL_KEY", "k")])
            .unwrap()
            .receives_webhooks());
        assert!(parse(&[("TENCENT_CALLBACK_TOKEN", " t ")])
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
}
