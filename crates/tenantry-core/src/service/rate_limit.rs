//! Per-key request limits in fixed one-minute windows aligned to the clock's minutes.
//!
//! Fixed windows make the advertised numbers exact — `remaining` is what is left of this minute
//! and `reset` is the next minute boundary — and they follow the service clock, so tests move
//! time instead of sleeping. The price is that a client can spend two windows' worth across a
//! boundary; for quota-style plan limits that is acceptable.
//!
//! Several nodes on one database share their counts: each node counts locally (no database
//! round trip on the request path) and, every sharing interval, adds what it counted since to
//! the key's window in the database and learns the total. A key can therefore exceed its limit
//! by at most what the other nodes admit for it within one sharing interval. A node alone on the
//! database shares nothing until another starts; the newcomer knows the first node's counts
//! after two intervals, so what it admits in those is the tolerance at a node's start.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::domain::api_key::RateCount;
use crate::domain::ids::{ApiKeyId, OrgId};

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

/// One key's current window on this node.
struct Window {
    org: OrgId,
    limit: u32,
    /// Minutes since the Unix epoch.
    minute: i64,
    /// Requests this node admitted in the window.
    mine: u32,
    /// How many of `mine` the other nodes have been told about.
    shared: u32,
    /// Requests the other nodes admitted, as of the last exchange.
    others: u32,
}

#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<ApiKeyId, Window>>,
}

fn minute_of(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(60)
}

impl RateLimiter {
    /// Counts one request of `key` (of `org`) against `limit` per minute.
    pub fn hit(&self, key: ApiKeyId, org: OrgId, limit: u32, now: DateTime<Utc>) -> RateStatus {
        let minute = minute_of(now);
        let reset_at = DateTime::from_timestamp((minute + 1) * 60, 0).expect("a minute boundary is a valid time");
        let mut windows = self.windows.lock().expect("rate limiter lock is never poisoned");
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, window| window.minute == minute);
        }
        let fresh = || Window { org, limit, minute, mine: 0, shared: 0, others: 0 };
        let window = windows.entry(key).or_insert_with(fresh);
        if window.minute != minute {
            *window = fresh();
        }
        window.limit = limit;
        let used = window.others.saturating_add(window.mine);
        let allowed = used < limit;
        if allowed {
            window.mine += 1;
        }
        let remaining = limit.saturating_sub(window.others.saturating_add(window.mine));
        RateStatus { limit, remaining, reset_at, allowed }
    }

    /// What this node admitted in the current windows since it last shared, marked as shared;
    /// also, with nothing added, the windows at least half spent, whose totals are worth
    /// refreshing even when this node admitted nothing new.
    pub fn take_unshared(&self, now: DateTime<Utc>) -> Vec<RateCount> {
        let minute = minute_of(now);
        let mut windows = self.windows.lock().expect("rate limiter lock is never poisoned");
        windows
            .iter_mut()
            .filter(|(_, w)| {
                let half_spent = w.others.saturating_add(w.mine).saturating_mul(2) >= w.limit;
                w.minute == minute && (w.mine > w.shared || half_spent)
            })
            .map(|(key, w)| {
                let count = RateCount { key_id: *key, org_id: w.org, minute, added: w.mine - w.shared };
                w.shared = w.mine;
                count
            })
            .collect()
    }

    /// Takes back counts that could not be shared, to share them next time.
    pub fn unshare(&self, counts: &[RateCount]) {
        let mut windows = self.windows.lock().expect("rate limiter lock is never poisoned");
        for count in counts {
            if let Some(w) = windows.get_mut(&count.key_id).filter(|w| w.minute == count.minute) {
                w.shared = w.shared.saturating_sub(count.added);
            }
        }
    }

    /// Learns each shared count's window total across every node.
    pub fn learn(&self, totals: &[(RateCount, u32)]) {
        let mut windows = self.windows.lock().expect("rate limiter lock is never poisoned");
        for (count, total) in totals {
            if let Some(w) = windows.get_mut(&count.key_id).filter(|w| w.minute == count.minute) {
                // The total includes what this node shared, now and before.
                w.others = w.others.max(total.saturating_sub(w.shared));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn counts_within_the_minute_and_starts_over_at_the_next() {
        let limiter = RateLimiter::default();
        let (key, org) = (ApiKeyId::new(), OrgId::new());
        let start = DateTime::from_timestamp(30_000_000 * 60, 0).unwrap();
        for i in 0..3 {
            let status = limiter.hit(key, org, 3, start + Duration::seconds(i));
            assert!(status.allowed);
            assert_eq!(status.remaining, 2 - i as u32);
        }
        let refused = limiter.hit(key, org, 3, start + Duration::seconds(59));
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.retry_after_secs(start + Duration::seconds(59)), 1);
        assert!(limiter.hit(key, org, 3, start + Duration::seconds(60)).allowed);
        assert!(limiter.hit(ApiKeyId::new(), org, 3, start).allowed, "keys are counted apart");
    }

    #[test]
    fn nodes_that_share_their_counts_hold_the_limit_together() {
        let (a, b) = (RateLimiter::default(), RateLimiter::default());
        let (key, org) = (ApiKeyId::new(), OrgId::new());
        let now = DateTime::from_timestamp(30_000_000 * 60, 0).unwrap();
        // The database's count of the window.
        let mut total = 0;
        let mut exchange = |node: &RateLimiter| {
            let counts = node.take_unshared(now);
            let totals: Vec<(RateCount, u32)> = counts
                .into_iter()
                .map(|c| {
                    total += c.added;
                    (c, total)
                })
                .collect();
            node.learn(&totals);
        };
        for _ in 0..5 {
            assert!(a.hit(key, org, 10, now).allowed);
        }
        exchange(&a);
        for _ in 0..4 {
            assert!(b.hit(key, org, 10, now).allowed);
        }
        exchange(&b);
        // Half spent: `a` refreshes the total though it admitted nothing new.
        exchange(&a);
        assert_eq!(a.hit(key, org, 10, now).remaining, 0, "a knows of b's four");
        exchange(&a);
        exchange(&b);
        assert!(!a.hit(key, org, 10, now).allowed);
        assert!(!b.hit(key, org, 10, now).allowed);
    }

    #[test]
    fn unspent_windows_are_not_refreshed_without_news() {
        let limiter = RateLimiter::default();
        let (key, org) = (ApiKeyId::new(), OrgId::new());
        let now = DateTime::from_timestamp(30_000_000 * 60, 0).unwrap();
        limiter.hit(key, org, 10, now);
        assert_eq!(limiter.take_unshared(now).len(), 1);
        assert_eq!(limiter.take_unshared(now), []);
    }

    #[test]
    fn counts_that_could_not_be_shared_are_shared_later() {
        let limiter = RateLimiter::default();
        let (key, org) = (ApiKeyId::new(), OrgId::new());
        let now = DateTime::from_timestamp(30_000_000 * 60, 0).unwrap();
        limiter.hit(key, org, 10, now);
        limiter.hit(key, org, 10, now);
        let counts = limiter.take_unshared(now);
        assert_eq!(counts[0].added, 2);
        limiter.unshare(&counts);
        limiter.hit(key, org, 10, now);
        assert_eq!(limiter.take_unshared(now)[0].added, 3);
    }
}
