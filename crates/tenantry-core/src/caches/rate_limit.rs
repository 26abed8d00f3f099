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
//!
//! Windows are kept in shards (see `shards`), so a hit locks only its key's shard and costs the
//! same however many keys are active. Windows of past minutes are not dropped by hits: a hit
//! finds its own key's stale window and starts it over, and `sweep`, run periodically off the
//! request path, drops the rest.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::shards::Shards;
use crate::domain::api_key::RateCount;
use crate::domain::ids::{ApiKeyId, OrgId};

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
    shards: Shards<WindowShard>,
}

#[derive(Default)]
struct WindowShard {
    windows: HashMap<ApiKeyId, Window>,
    /// Windows examined by hits while they held this shard: what a hit costs, counted.
    examined_by_hits: u64,
}

fn minute_of(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(60)
}

impl RateLimiter {
    /// Counts one request of `key` (of `org`) against `limit` per minute.
    pub fn hit(&self, key: ApiKeyId, org: OrgId, limit: u32, now: DateTime<Utc>) -> RateStatus {
        let minute = minute_of(now);
        let reset_at = DateTime::from_timestamp((minute + 1) * 60, 0).expect("a minute boundary is a valid time");
        let mut shard = self.shards.lock(&key);
        shard.examined_by_hits += 1;
        let fresh = || Window { org, limit, minute, mine: 0, shared: 0, others: 0 };
        let window = shard.windows.entry(key).or_insert_with(fresh);
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
        let mut counts = Vec::new();
        self.shards.for_each(|shard| {
            let due = shard.windows.iter_mut().filter(|(_, w)| {
                let half_spent = w.others.saturating_add(w.mine).saturating_mul(2) >= w.limit;
                w.minute == minute && (w.mine > w.shared || half_spent)
            });
            counts.extend(due.map(|(key, w)| {
                let count = RateCount { key_id: *key, org_id: w.org, minute, added: w.mine - w.shared };
                w.shared = w.mine;
                count
            }));
        });
        counts
    }

    /// Takes back counts that could not be shared, to share them next time.
    pub fn unshare(&self, counts: &[RateCount]) {
        for count in counts {
            let mut shard = self.shards.lock(&count.key_id);
            if let Some(w) = shard.windows.get_mut(&count.key_id).filter(|w| w.minute == count.minute) {
                w.shared = w.shared.saturating_sub(count.added);
            }
        }
    }

    /// Learns each shared count's window total across every node.
    pub fn learn(&self, totals: &[(RateCount, u32)]) {
        for (count, total) in totals {
            let mut shard = self.shards.lock(&count.key_id);
            if let Some(w) = shard.windows.get_mut(&count.key_id).filter(|w| w.minute == count.minute) {
                // The total includes what this node shared, now and before.
                w.others = w.others.max(total.saturating_sub(w.shared));
            }
        }
    }

    /// Drops the windows of past minutes, one shard at a time; returns how many windows remain.
    /// Off the request path: a window's counts mean nothing once its minute is over, and until
    /// this runs a stale window only costs memory.
    pub fn sweep(&self, now: DateTime<Utc>) -> usize {
        let minute = minute_of(now);
        let mut remaining = 0;
        self.shards.for_each(|shard| {
            shard.windows.retain(|_, w| w.minute == minute);
            remaining += shard.windows.len();
        });
        remaining
    }

    /// Windows examined by every hit so far, in total.
    pub fn examined_by_hits(&self) -> u64 {
        let mut examined = 0;
        self.shards.for_each(|shard| examined += shard.examined_by_hits);
        examined
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

    /// Fills `limiter` with `active` windows of the current minute and as many of the last,
    /// then returns the windows examined by 1,000 hits: some on active keys, some on keys whose
    /// window is from the last minute, some on new keys.
    fn examined_by_1000_hits(limiter: &RateLimiter, active: usize) -> u64 {
        let org = OrgId::new();
        let now = DateTime::from_timestamp(30_000_000 * 60, 0).unwrap();
        let last_minute = now - Duration::seconds(30);
        let stale: Vec<ApiKeyId> = (0..active).map(|_| ApiKeyId::new()).collect();
        let current: Vec<ApiKeyId> = (0..active).map(|_| ApiKeyId::new()).collect();
        for key in &stale {
            limiter.hit(*key, org, 100, last_minute);
        }
        for key in &current {
            limiter.hit(*key, org, 100, now);
        }
        let before = limiter.examined_by_hits();
        for i in 0..1000 {
            let key = match i % 3 {
                0 => current[i * 7 % active],
                1 => stale[i * 13 % active],
                _ => ApiKeyId::new(),
            };
            assert!(limiter.hit(key, org, 100, now).allowed);
        }
        limiter.examined_by_hits() - before
    }

    #[test]
    fn a_hit_costs_the_same_with_300_000_active_windows_as_with_1_000() {
        let few = examined_by_1000_hits(&RateLimiter::default(), 1_000);
        let many = examined_by_1000_hits(&RateLimiter::default(), 300_000);
        assert_eq!(few, 1000, "a hit examines its own key's window and no other");
        assert_eq!(many, few);
    }

    #[test]
    fn a_sweep_drops_the_windows_of_past_minutes_and_keeps_the_current() {
        let limiter = RateLimiter::default();
        let org = OrgId::new();
        let now = DateTime::from_timestamp(30_000_000 * 60, 0).unwrap();
        let (old, current) = (ApiKeyId::new(), ApiKeyId::new());
        limiter.hit(old, org, 10, now - Duration::seconds(1));
        limiter.hit(current, org, 10, now);
        limiter.hit(current, org, 10, now);
        assert_eq!(limiter.sweep(now), 1);
        assert_eq!(limiter.hit(current, org, 10, now).remaining, 7, "the current window keeps its count");
        assert_eq!(limiter.take_unshared(now).len(), 1);
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
