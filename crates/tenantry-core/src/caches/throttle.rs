//! Failed-login throttling.
//!
//! Failures are counted per (account, client IP) and per client IP, in fixed windows. A client
//! over either limit is refused before its password is checked. Because the account limit is
//! keyed by IP too, an attacker hammering an account from elsewhere cannot lock its owner out;
//! the per-IP limit bounds one client guessing across many accounts. Successes are never counted.
//!
//! Windows live in shards (see `shards`). Expired windows are dropped a shard at a time, when
//! the shard has doubled since it was last swept: each failure pays for a constant number of
//! windows examined on average, however many clients are failing at once, where sweeping one
//! whole map at a fixed size would walk it on every failure once that many windows were live.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::shards::Shards;

pub const WINDOW_MINUTES: i64 = 15;
pub const MAX_FAILURES_PER_ACCOUNT_AND_IP: u32 = 5;
pub const MAX_FAILURES_PER_IP: u32 = 50;

/// A shard is not swept below this many windows.
const SWEEP_FLOOR: usize = 64;

#[derive(Default)]
pub struct LoginThrottle {
    shards: Shards<Shard>,
}

#[derive(Default)]
struct Shard {
    windows: HashMap<String, (DateTime<Utc>, u32)>,
    /// Swept when it holds more windows than this.
    sweep_above: usize,
}

impl Shard {
    fn sweep_if_grown(&mut self, now: DateTime<Utc>) {
        if self.windows.len() > self.sweep_above.max(SWEEP_FLOOR) {
            self.windows.retain(|_, (start, _)| now < *start + Duration::minutes(WINDOW_MINUTES));
            self.sweep_above = self.windows.len() * 2;
        }
    }
}

fn keys(email: &str, ip: &str) -> [(String, u32); 2] {
    [(format!("acct:{email}|{ip}"), MAX_FAILURES_PER_ACCOUNT_AND_IP), (format!("ip:{ip}"), MAX_FAILURES_PER_IP)]
}

impl LoginThrottle {
    /// `Some(seconds)` to wait when this client may not try this account now.
    pub fn retry_after(&self, email: &str, ip: &str, now: DateTime<Utc>) -> Option<u64> {
        keys(email, ip)
            .iter()
            .filter_map(|(key, max)| {
                let (start, count) = *self.shards.lock(key).windows.get(key)?;
                let ends = start + Duration::minutes(WINDOW_MINUTES);
                (now < ends && count >= *max).then(|| (ends - now).num_seconds().max(1) as u64)
            })
            .max()
    }

    pub fn record_failure(&self, email: &str, ip: &str, now: DateTime<Utc>) {
        for (key, _) in keys(email, ip) {
            let mut shard = self.shards.lock(&key);
            shard.sweep_if_grown(now);
            let entry = shard.windows.entry(key).or_insert((now, 0));
            if now >= entry.0 + Duration::minutes(WINDOW_MINUTES) {
                *entry = (now, 0);
            }
            entry.1 += 1;
        }
    }

    pub fn record_success(&self, email: &str, ip: &str) {
        let key = &keys(email, ip)[0].0;
        self.shards.lock(key).windows.remove(key);
    }

    #[cfg(test)]
    fn windows_held(&self) -> usize {
        let mut held = 0;
        self.shards.for_each(|shard| held += shard.windows.len());
        held
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_one_client_on_one_account_but_not_the_owner_elsewhere() {
        let throttle = LoginThrottle::default();
        let now = Utc::now();
        for _ in 0..MAX_FAILURES_PER_ACCOUNT_AND_IP {
            assert!(throttle.retry_after("a@x.io", "1.1.1.1", now).is_none());
            throttle.record_failure("a@x.io", "1.1.1.1", now);
        }
        assert!(throttle.retry_after("a@x.io", "1.1.1.1", now).is_some());
        assert!(throttle.retry_after("a@x.io", "2.2.2.2", now).is_none());
        let later = now + Duration::minutes(WINDOW_MINUTES);
        assert!(throttle.retry_after("a@x.io", "1.1.1.1", later).is_none());
    }

    #[test]
    fn limits_one_client_across_accounts() {
        let throttle = LoginThrottle::default();
        let now = Utc::now();
        for i in 0..MAX_FAILURES_PER_IP {
            throttle.record_failure(&format!("u{i}@x.io"), "1.1.1.1", now);
        }
        assert!(throttle.retry_after("fresh@x.io", "1.1.1.1", now).is_some());
    }

    #[test]
    fn expired_windows_do_not_pile_up() {
        let throttle = LoginThrottle::default();
        let start = Utc::now();
        // Each round, 2,000 new clients fail once (two windows each), after the last round's
        // windows have all expired.
        for round in 0..20 {
            let now = start + Duration::minutes(WINDOW_MINUTES * round);
            for client in 0..2000 {
                throttle.record_failure("a@x.io", &format!("10.{round}.{}.{}", client / 256, client % 256), now);
            }
            assert!(throttle.windows_held() <= 4 * 4000, "round {round}: {} windows held", throttle.windows_held());
        }
    }
}
