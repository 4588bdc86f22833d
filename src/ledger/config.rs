//! The ledger's one setting: how long calls are kept.

use crate::platform::settings::{names, within, ConfigError, Get};

const DEFAULT_RETENTION_DAYS: u64 = 400;
/// Ten years: beyond that a database per period is the plan (README, Scale).
const MAX_RETENTION_DAYS: u64 = 3_650;
pub const DAY_MS: u64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerConfig {
    pub retention_days: u64,
}

impl LedgerConfig {
    pub fn from_getter(get: Get<'_>) -> Result<Self, ConfigError> {
        let retention_days = within(
            get,
            names::HISTORY_RETENTION_DAYS,
            DEFAULT_RETENTION_DAYS,
            1..=MAX_RETENTION_DAYS,
            "days",
        )?;
        Ok(Self { retention_days })
    }

    /// The oldest start the ledger keeps at `now_ms`.
    pub fn window_start(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.retention_days * DAY_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::settings::from_pairs;

    #[test]
    fn retention_defaults_to_400_days_and_is_bounded() {
        let none = LedgerConfig::from_getter(&from_pairs(&[])).unwrap();
        assert_eq!(none.retention_days, 400);
        assert_eq!(none.window_start(401 * DAY_MS), DAY_MS);
        let g = from_pairs(&[(names::HISTORY_RETENTION_DAYS, "0")]);
        assert_eq!(
            LedgerConfig::from_getter(&g).unwrap_err().setting(),
            names::HISTORY_RETENTION_DAYS
        );
        let g = from_pairs(&[(names::HISTORY_RETENTION_DAYS, "30")]);
        assert_eq!(LedgerConfig::from_getter(&g).unwrap().retention_days, 30);
    }
}
