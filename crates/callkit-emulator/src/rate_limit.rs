//! Per-command token buckets: the documented 200 requests/second per API.

use parking_lot::Mutex;
use std::time::Instant;

/// One bucket per slot (a command of one app). A bucket holds at most
/// `per_sec` tokens and refills at `per_sec` tokens a second, so a burst of
/// `per_sec` passes and the steady rate is `per_sec`/s. `per_sec == 0` is off.
#[derive(Debug)]
pub struct RateLimiter {
    per_sec: u32,
    buckets: Vec<Mutex<Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Option<Instant>,
}

impl RateLimiter {
    pub fn new(per_sec: u32, slots: usize) -> Self {
        let full = Bucket {
            tokens: f64::from(per_sec),
            last: None,
        };
        Self {
            per_sec,
            buckets: (0..slots).map(|_| Mutex::new(full)).collect(),
        }
    }

    /// Takes a token from `slot` at `now`; false means "over the limit".
    pub fn try_acquire(&self, slot: usize, now: Instant) -> bool {
        if self.per_sec == 0 {
            return true;
        }
        let Some(bucket) = self.buckets.get(slot) else {
            return true;
        };
        let rate = f64::from(self.per_sec);
        let mut b = bucket.lock();
        if let Some(last) = b.last {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            b.tokens = (b.tokens + elapsed * rate).min(rate);
        }
        b.last = Some(now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Refills every bucket (control-API reset).
    pub fn reset(&self) {
        for bucket in &self.buckets {
            *bucket.lock() = Bucket {
                tokens: f64::from(self.per_sec),
                last: None,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn allows_a_burst_then_refuses_then_refills() {
        let limiter = RateLimiter::new(3, 2);
        let t0 = Instant::now();
        assert!(limiter.try_acquire(0, t0));
        assert!(limiter.try_acquire(0, t0));
        assert!(limiter.try_acquire(0, t0));
        assert!(!limiter.try_acquire(0, t0));
        // Another slot (command) has its own budget.
        assert!(limiter.try_acquire(1, t0));
        // A third of a second gives back one token at 3/s.
        let later = t0 + Duration::from_millis(340);
        assert!(limiter.try_acquire(0, later));
        assert!(!limiter.try_acquire(0, later));
        // Idle for long: never more than the burst size.
        let much_later = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert!(limiter.try_acquire(0, much_later));
        }
        assert!(!limiter.try_acquire(0, much_later));
    }

    #[test]
    fn zero_means_off() {
        let limiter = RateLimiter::new(0, 1);
        let t0 = Instant::now();
        for _ in 0..10_000 {
            assert!(limiter.try_acquire(0, t0));
        }
    }

    #[test]
    fn reset_refills() {
        let limiter = RateLimiter::new(1, 1);
        let t0 = Instant::now();
        assert!(limiter.try_acquire(0, t0));
        assert!(!limiter.try_acquire(0, t0));
        limiter.reset();
        assert!(limiter.try_acquire(0, t0));
    }

    #[test]
    fn unknown_slot_is_not_limited() {
        let limiter = RateLimiter::new(1, 1);
        let t0 = Instant::now();
        assert!(limiter.try_acquire(5, t0));
        assert!(limiter.try_acquire(5, t0));
    }
}
