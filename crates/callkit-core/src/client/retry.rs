//! How long to wait between attempts: capped exponential backoff with jitter.

use std::time::Duration;

/// Attempt budget and backoff shape for one `Client::send`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (at least 1).
    pub max_attempts: u32,
    /// Delay before the second attempt, before jitter.
    pub base_delay: Duration,
    /// Ceiling of the un-jittered delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// Attempt `failed_attempt` (1-based) failed: the delay before the next
    /// one. Exponential `min(max_delay, base_delay * 2^(n-1))`, then jittered
    /// uniformly into `[d/2, d]` by `random` (0 → d/2, `u32::MAX` → d), so
    /// that many isolates retrying at once spread out.
    pub fn backoff(&self, failed_attempt: u32, random: u32) -> Duration {
        let exponent = failed_attempt.saturating_sub(1).min(63);
        // Saturate rather than overflow: the cap applies long before.
        let grown = self.base_delay.as_nanos().saturating_mul(1u128 << exponent);
        let capped = grown.min(self.max_delay.as_nanos());
        let half = capped / 2;
        let spread = capped - half;
        let jitter = spread * u128::from(random) / u128::from(u32::MAX);
        duration_from_nanos(half + jitter)
    }
}

fn duration_from_nanos(nanos: u128) -> Duration {
    const PER_SEC: u128 = 1_000_000_000;
    let secs = u64::try_from(nanos / PER_SEC).unwrap_or(u64::MAX);
    // The remainder is below 10^9 and always fits.
    let sub = u32::try_from(nanos % PER_SEC).unwrap_or(0);
    Duration::new(secs, sub)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn defaults_are_three_attempts_from_200ms_capped_at_2s() {
        let p = RetryPolicy::default();
        assert_eq!(p.max_attempts, 3);
        assert_eq!(p.base_delay, ms(200));
        assert_eq!(p.max_delay, ms(2000));
    }

    #[test]
    fn grows_exponentially_at_the_top_of_the_jitter_range() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1, u32::MAX), ms(200));
        assert_eq!(p.backoff(2, u32::MAX), ms(400));
        assert_eq!(p.backoff(3, u32::MAX), ms(800));
        assert_eq!(p.backoff(4, u32::MAX), ms(1600));
    }

    #[test]
    fn is_capped_at_max_delay() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(5, u32::MAX), ms(2000));
        assert_eq!(p.backoff(6, u32::MAX), ms(2000));
        assert_eq!(p.backoff(200, u32::MAX), ms(2000));
        assert_eq!(p.backoff(u32::MAX, u32::MAX), ms(2000));
        assert_eq!(p.backoff(u32::MAX, 0), ms(1000));
    }

    #[test]
    fn jitter_spans_half_to_full() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1, 0), ms(100));
        assert_eq!(p.backoff(2, 0), ms(200));
        // The midpoint of the random range lands at the middle of [d/2, d].
        let mid = p.backoff(2, u32::MAX / 2);
        assert!(mid > ms(299) && mid < ms(301), "{mid:?}");
        for random in [0, 1, 7, 1 << 20, u32::MAX / 3, u32::MAX - 1, u32::MAX] {
            for n in 1..8 {
                let d = p.backoff(n, random);
                let full = p.backoff(n, u32::MAX);
                assert!(d >= full / 2 && d <= full, "n={n} random={random} {d:?}");
            }
        }
    }

    #[test]
    fn attempt_zero_is_treated_as_the_first() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(0, u32::MAX), p.backoff(1, u32::MAX));
    }

    #[test]
    fn huge_base_saturates_to_the_cap() {
        let p = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::MAX,
            max_delay: Duration::from_secs(30),
        };
        assert_eq!(p.backoff(3, u32::MAX), Duration::from_secs(30));
        assert_eq!(p.backoff(3, 0), Duration::from_secs(15));
    }

    #[test]
    fn zero_delays_give_zero() {
        let p = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        };
        assert_eq!(p.backoff(2, 12345), Duration::ZERO);
    }
}
