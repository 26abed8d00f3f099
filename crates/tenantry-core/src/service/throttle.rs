//! Failed-login throttling.
//!
//! Failures are counted per (account, client IP) and per client IP, in fixed windows. A client
//! over either limit is refused before its password is checked. Because the account limit is
//! keyed by IP too, an attacker hammering an account from elsewhere cannot lock its owner out;
//! the per-IP limit bounds one client guessing across many accounts. Successes are never counted.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

pub const WINDOW_MINUTES: i64 = 15;
pub const MAX_FAILURES_PER_ACCOUNT_AND_IP: u32 = 5;
pub const MAX_FAILURES_PER_IP: u32 = 50;

#[derive(Default)]
pub struct LoginThrottle {
    windows: Mutex<HashMap<String, (DateTime<Utc>, u32)>>,
}

fn keys(email: &str, ip: &str) -> [(String, u32); 2] {
    [(format!("acct:{email}|{ip}"), MAX_FAILURES_PER_ACCOUNT_AND_IP), (format!("ip:{ip}"), MAX_FAILURES_PER_IP)]
}

impl LoginThrottle {
    /// `Some(seconds)` to wait when this client may not try this account now.
    pub fn retry_after(&self, email: &str, ip: &str, now: DateTime<Utc>) -> Option<u64> {
        let windows = self.windows.lock().expect("throttle lock is never poisoned");
        keys(email, ip)
            .iter()
            .filter_map(|(key, max)| {
                let (start, count) = windows.get(key)?;
                let ends = *start + Duration::minutes(WINDOW_MINUTES);
                (now < ends && count >= max).then(|| (ends - now).num_seconds().max(1) as u64)
            })
            .max()
    }

    pub fn record_failure(&self, email: &str, ip: &str, now: DateTime<Utc>) {
        let mut windows = self.windows.lock().expect("throttle lock is never poisoned");
        // Drop expired windows now and then so the map stays as small as the live attackers.
        if windows.len() > 10_000 {
            windows.retain(|_, (start, _)| now < *start + Duration::minutes(WINDOW_MINUTES));
        }
        for (key, _) in keys(email, ip) {
            let entry = windows.entry(key).or_insert((now, 0));
            if now >= entry.0 + Duration::minutes(WINDOW_MINUTES) {
                *entry = (now, 0);
            }
            entry.1 += 1;
        }
    }

    pub fn record_success(&self, email: &str, ip: &str) {
        let mut windows = self.windows.lock().expect("throttle lock is never poisoned");
        windows.remove(&keys(email, ip)[0].0);
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
}
