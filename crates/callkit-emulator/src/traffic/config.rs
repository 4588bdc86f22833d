//! How busy the simulated traffic is and how long its calls take.

use std::time::Duration;

/// Fewer calls than this per minute is almost surely a typo (and a huge
/// interval would overflow a `Duration`).
pub const MIN_PER_MINUTE: f64 = 0.1;
/// More than 10 calls a second is a load test, not a demo board.
pub const MAX_PER_MINUTE: f64 = 600.0;

/// A random delay drawn uniformly from `min..=max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelayRange {
    pub min: Duration,
    pub max: Duration,
}

impl DelayRange {
    pub const fn secs(min: u64, max: u64) -> Self {
        Self {
            min: Duration::from_secs(min),
            max: Duration::from_secs(max),
        }
    }

    pub const fn millis(min: u64, max: u64) -> Self {
        Self {
            min: Duration::from_millis(min),
            max: Duration::from_millis(max),
        }
    }

    pub fn pick(&self, rng: &mut fastrand::Rng) -> Duration {
        let lo = u64::try_from(self.min.as_millis()).unwrap_or(u64::MAX);
        let hi = u64::try_from(self.max.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rng.u64(lo..=hi.max(lo)))
    }
}

/// `serve --simulate-calls N`: calls among the demo users of the first app.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationConfig {
    /// Mean calls started per minute; gaps vary by ±50% around it.
    pub per_minute: f64,
    /// From the start until a callee answers or rejects.
    pub answer_delay: DelayRange,
    /// From the last answer or rejection until the first hang-up.
    pub talk: DelayRange,
    /// Between the hang-ups that end a group call.
    pub hangup_gap: DelayRange,
    /// Callees who never answer leave as `NotAnswer` after this.
    pub ring_timeout: Duration,
    /// Fixed seed for repeatable call plans; `None` seeds from the OS.
    pub seed: Option<u64>,
}

impl SimulationConfig {
    /// Demo pacing: answers in 1–6 s, talks of 5–40 s, 15 s ring timeout.
    pub fn per_minute(per_minute: f64) -> Self {
        Self {
            per_minute,
            answer_delay: DelayRange::secs(1, 6),
            talk: DelayRange::secs(5, 40),
            hangup_gap: DelayRange::millis(500, 3000),
            ring_timeout: Duration::from_secs(15),
            seed: None,
        }
    }

    /// The mean gap between two call starts.
    pub fn mean_gap(&self) -> Duration {
        Duration::from_secs_f64(60.0 / self.per_minute)
    }

    /// Why this configuration cannot run, if it cannot.
    pub fn problem(&self) -> Option<String> {
        let rate = self.per_minute;
        if !rate.is_finite() || !(MIN_PER_MINUTE..=MAX_PER_MINUTE).contains(&rate) {
            return Some(format!(
                "--simulate-calls must be 0 (off) or between {MIN_PER_MINUTE} and \
                 {MAX_PER_MINUTE} calls per minute, not {rate}"
            ));
        }
        let ranges = [self.answer_delay, self.talk, self.hangup_gap];
        if ranges.iter().any(|r| r.min > r.max) {
            return Some("a simulation delay range has min > max".into());
        }
        // A callee must get to answer before the ring timeout drops them.
        if self.ring_timeout <= self.answer_delay.max {
            return Some(
                "the simulation's ring timeout must exceed its longest answer delay".into(),
            );
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_rates_are_refused() {
        for ok in [0.1, 1.0, 6.0, 600.0] {
            assert_eq!(SimulationConfig::per_minute(ok).problem(), None, "{ok}");
        }
        for bad in [-1.0, 0.0, 0.05, 600.5, f64::NAN, f64::INFINITY] {
            let msg = SimulationConfig::per_minute(bad)
                .problem()
                .expect("refused");
            assert!(msg.contains("--simulate-calls"), "{msg}");
        }
        assert_eq!(
            SimulationConfig::per_minute(6.0).mean_gap(),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn inconsistent_delays_are_refused() {
        let mut c = SimulationConfig::per_minute(6.0);
        c.talk = DelayRange::secs(5, 1);
        assert!(c.problem().is_some());
        let mut c = SimulationConfig::per_minute(6.0);
        c.ring_timeout = Duration::from_secs(6);
        assert!(c.problem().is_some());
    }

    #[test]
    fn pick_stays_in_range() {
        let mut rng = fastrand::Rng::with_seed(7);
        let r = DelayRange::millis(100, 200);
        for _ in 0..100 {
            let d = r.pick(&mut rng);
            assert!(d >= r.min && d <= r.max, "{d:?}");
        }
        assert_eq!(DelayRange::millis(5, 5).pick(&mut rng), r.min / 20);
    }
}
