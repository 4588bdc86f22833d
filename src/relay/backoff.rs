//! When a failed delivery is tried again: exponential backoff with a little
//! jitter (the Standard Webhooks spec recommends both), capped at an hour.
//! With `max_retries = 12` in wrangler.toml the retries span about 2.5 hours;
//! after that the event waits in the dead-letter queue and the log for a
//! redelivery.

/// The first retry waits this long; each next one twice as long.
pub const FIRST_DELAY_SECS: u32 = 2;
pub const MAX_DELAY_SECS: u32 = 3_600;

/// The delay before the next attempt, after `attempts` attempts (≥ 1)
/// failed. `random` spreads retries of many events over up to a tenth more.
pub fn delay_secs(attempts: u32, random: u32) -> u32 {
    let doublings = attempts.saturating_sub(1).min(31);
    let base = FIRST_DELAY_SECS
        .saturating_mul(1u32 << doublings)
        .min(MAX_DELAY_SECS);
    let jitter = match base / 10 {
        0 => 0,
        spread => random % (spread + 1),
    };
    (base + jitter).min(MAX_DELAY_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_two_seconds_up_to_an_hour() {
        let plain: Vec<u32> = (1..=13).map(|n| delay_secs(n, 0)).collect();
        assert_eq!(
            plain,
            [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600]
        );
        assert_eq!(delay_secs(0, 0), 2);
        assert_eq!(delay_secs(u32::MAX, u32::MAX), 3_600);
    }

    #[test]
    fn jitter_adds_at_most_a_tenth() {
        for random in [0, 1, 7, 12, 1_000, u32::MAX] {
            let d = delay_secs(7, random);
            assert!((128..=140).contains(&d), "{random}: {d}");
        }
        assert_eq!(delay_secs(1, u32::MAX), 2);
    }

    #[test]
    fn a_sink_down_for_a_minute_is_reached_within_about_two() {
        // The fault test's premise: retries keep coming through the first minutes.
        let mut t = 0;
        let mut times = Vec::new();
        for n in 1..=6 {
            t += delay_secs(n, 0);
            times.push(t);
        }
        assert_eq!(times, [2, 6, 14, 30, 62, 126]);
    }
}
