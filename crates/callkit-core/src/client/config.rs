//! Static client settings: where to send, as whom, and the time budget.

use std::time::Duration;

use super::error::ClientError;
use super::retry::RetryPolicy;
use crate::region::Endpoint;

/// The upstream's own processing budget; an attempt must wait longer than it.
pub const UPSTREAM_BUDGET: Duration = Duration::from_secs(3);

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub endpoint: Endpoint,
    pub sdkappid: u64,
    /// An App administrator account (the `identifier` query parameter).
    pub admin_identifier: String,
    /// Per attempt; default 5 s, must be more than 3 s.
    pub attempt_timeout: Duration,
    /// Whole `send`, retries and backoff included; default 12 s.
    pub deadline: Duration,
    pub retry: RetryPolicy,
    /// How long a call record fetched by CallId is given again without
    /// asking (`record_memo`); zero turns it off. Default 1 h.
    pub record_memo_ttl: Duration,
    /// Identical reads in flight together share one request
    /// (`shared_reads`). Default on.
    pub share_reads: bool,
}

impl ClientConfig {
    pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
    pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(12);
    pub const DEFAULT_RECORD_MEMO_TTL: Duration = Duration::from_secs(3600);

    /// The defaults for everything but the three things only the app knows.
    pub fn new(endpoint: Endpoint, sdkappid: u64, admin_identifier: impl Into<String>) -> Self {
        Self {
            endpoint,
            sdkappid,
            admin_identifier: admin_identifier.into(),
            attempt_timeout: Self::DEFAULT_ATTEMPT_TIMEOUT,
            deadline: Self::DEFAULT_DEADLINE,
            retry: RetryPolicy::default(),
            record_memo_ttl: Self::DEFAULT_RECORD_MEMO_TTL,
            share_reads: true,
        }
    }

    /// Rejects settings that could never work, so they fail at start-up.
    pub fn validate(&self) -> Result<(), ClientError> {
        let invalid = |reason: &str| {
            Err(ClientError::InvalidConfig {
                reason: reason.to_owned(),
            })
        };
        if self.admin_identifier.trim().is_empty() {
            return invalid("admin identifier is empty");
        }
        if self.attempt_timeout <= UPSTREAM_BUDGET {
            return invalid("attempt timeout must be more than 3 s (the upstream's own budget)");
        }
        if self.deadline < self.attempt_timeout {
            return invalid("deadline must be at least the attempt timeout");
        }
        if self.retry.max_attempts == 0 {
            return invalid("retry.max_attempts must be at least 1");
        }
        if self.retry.base_delay > self.retry.max_delay {
            return invalid("retry.base_delay must not exceed retry.max_delay");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::Region;

    fn config() -> ClientConfig {
        ClientConfig::new(
            Endpoint::Region(Region::Singapore),
            1_400_000_000,
            "administrator",
        )
    }

    fn reason(config: &ClientConfig) -> String {
        match config.validate() {
            Err(ClientError::InvalidConfig { reason }) => reason,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid_and_as_designed() {
        let c = config();
        assert_eq!(c.attempt_timeout, Duration::from_secs(5));
        assert_eq!(c.deadline, Duration::from_secs(12));
        assert_eq!(c.retry, RetryPolicy::default());
        assert!(c.validate().is_ok());
    }

    #[test]
    fn attempt_timeout_must_exceed_the_upstream_budget() {
        let mut c = config();
        c.attempt_timeout = Duration::from_secs(3);
        assert!(reason(&c).contains("more than 3 s"));
        c.attempt_timeout = Duration::from_millis(3001);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn rejects_other_impossible_settings() {
        let mut c = config();
        c.deadline = Duration::from_secs(4);
        assert!(reason(&c).contains("deadline"));

        let mut c = config();
        c.retry.max_attempts = 0;
        assert!(reason(&c).contains("max_attempts"));

        let mut c = config();
        c.retry.base_delay = Duration::from_secs(3);
        assert!(reason(&c).contains("base_delay"));

        let mut c = config();
        c.admin_identifier = "  ".into();
        assert!(reason(&c).contains("identifier"));
    }
}
