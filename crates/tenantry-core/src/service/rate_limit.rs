//! Per-key request limits in fixed one-minute windows aligned to the clock's minutes.
//!
//! Fixed windows make the advertised numbers exact — `remaining` is what is left of this minute
//! and `reset` is the next minute boundary — and they follow the service clock, so tests move
//! time instead of sleeping. The price is that a client can spend two windows' worth across a
//! boundary; for quota-style plan limits that is acceptable.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::domain::ids::ApiKeyId;

/// Windows are dropped once the map holds this many and they are over.
const PRUNE_ABOVE: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateStatus {
    pub limit: u32,
    pub remaining: u32,
    /// When the current window ends.
    pub reset_at: DateTime<Utc>,
    /// Whether this request fits the limit (and was counted).
    pub allowed: bool,
}

impl RateStatus {
    /// Whole seconds until the window ends (at least 1), for `Retry-After`.
    pub fn retry_after_secs(&self, now: DateTime<Utc>) -> u64 {
        (self.reset_at - now).num_milliseconds().max(1).unsigned_abs().div_ceil(1000)
    }
}

#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<ApiKeyId, (i64, u32)>>,
}

impl RateLimiter {
    /// Counts one request of `key` against `limit` per minute.
    pub fn hit(&self, key: ApiKeyId, limit: u32, now: DateTime<Utc>) -> RateStatus {
        let minute = now.timestamp().div_euclid(60);
        let reset_at = DateTime::from_timestamp((minute + 1) * 60, 0).expect("a minute boundary is a valid time");
        let mut windows = self.windows.lock().expect("rate limiter lock is never poisoned");
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, (window, _)| *window == minute);
        }
        let window = windows.entry(key).or_insert((minute, 0));
        if window.0 != minute {
            *window = (minute, 0);
        }
        let allowed = window.1 < limit;
        if allowed {
            window.1 += 1;
        }
        RateStatus { limit, remaining: limit - window.1, reset_at, allowed }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn counts_within_the_minute_and_starts_over_at_the_next() {
        let limiter = RateLimiter::default();
        let key = ApiKeyId::new();
        let start = DateTime::from_timestamp(30_000_000 * 60, 0).unwrap();
        for i in 0..3 {
            let status = limiter.hit(key, 3, start + Duration::seconds(i));
            assert!(status.allowed);
            assert_eq!(status.remaining, 2 - i as u32);
        }
        let refused = limiter.hit(key, 3, start + Duration::seconds(59));
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.retry_after_secs(start + Duration::seconds(59)), 1);
        assert!(limiter.hit(key, 3, start + Duration::seconds(60)).allowed);
        assert!(limiter.hit(ApiKeyId::new(), 3, start).allowed, "keys are counted apart");
    }
}
