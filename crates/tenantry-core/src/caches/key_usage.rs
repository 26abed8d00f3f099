//! `last_used_at` of API keys without a database write per request: uses are noted in memory
//! (lists read them from here), and a periodic flush writes each key at most once a minute.
//!
//! Uses are kept in shards (see `shards`): a use locks only its key's shard, and the flush's walk
//! over every key holds one shard at a time, so requests never wait for the whole walk.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::shards::Shards;
use crate::domain::ids::ApiKeyId;

/// The least time between two writes of one key's `last_used_at`.
pub const WRITE_EVERY: Duration = Duration::minutes(1);

#[derive(Default)]
pub struct KeyUsage {
    uses: Shards<HashMap<ApiKeyId, Use>>,
}

struct Use {
    last: DateTime<Utc>,
    /// When this key's use was last written.
    written: Option<DateTime<Utc>>,
    /// Used since that write.
    unwritten: bool,
}

impl KeyUsage {
    pub fn touch(&self, key: ApiKeyId, now: DateTime<Utc>) {
        let mut uses = self.uses.lock(&key);
        let entry = uses.entry(key).or_insert(Use { last: now, written: None, unwritten: true });
        entry.last = entry.last.max(now);
        entry.unwritten = true;
    }

    /// The last use this process has seen, written or not.
    pub fn last_used(&self, key: ApiKeyId) -> Option<DateTime<Utc>> {
        self.uses.lock(&key).get(&key).map(|u| u.last)
    }

    /// Uses to write now: keys used since their last write, if that write is a minute old.
    /// They count as written from here on; entries long written and idle are dropped.
    pub fn take_due(&self, now: DateTime<Utc>) -> Vec<(ApiKeyId, DateTime<Utc>)> {
        let mut due = Vec::new();
        self.uses.for_each(|uses| {
            uses.retain(|key, entry| {
                let allowed = entry.written.is_none_or(|w| now - w >= WRITE_EVERY);
                if entry.unwritten && allowed {
                    due.push((*key, entry.last));
                    entry.written = Some(now);
                    entry.unwritten = false;
                }
                entry.unwritten || entry.written.is_some_and(|w| now - w < WRITE_EVERY * 2)
            });
        });
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_key_at_most_once_a_minute() {
        let usage = KeyUsage::default();
        let key = ApiKeyId::new();
        let t0 = Utc::now();
        usage.touch(key, t0);
        assert_eq!(usage.take_due(t0), vec![(key, t0)]);
        usage.touch(key, t0 + Duration::seconds(10));
        assert!(usage.take_due(t0 + Duration::seconds(10)).is_empty(), "written less than a minute ago");
        assert_eq!(usage.last_used(key), Some(t0 + Duration::seconds(10)), "but the use is known");
        assert_eq!(usage.take_due(t0 + Duration::seconds(61)), vec![(key, t0 + Duration::seconds(10))]);
        assert!(usage.take_due(t0 + Duration::seconds(200)).is_empty(), "nothing new to write");
        // A use at the very instant of a write is still written later.
        let t1 = t0 + Duration::seconds(300);
        usage.touch(key, t1);
        assert_eq!(usage.take_due(t1), vec![(key, t1)]);
        usage.touch(key, t1);
        assert_eq!(usage.take_due(t1 + Duration::seconds(60)), vec![(key, t1)]);
    }

    #[test]
    fn every_key_used_is_written_once_whatever_its_shard() {
        let usage = KeyUsage::default();
        let t0 = Utc::now();
        let keys: Vec<ApiKeyId> = (0..1000).map(|_| ApiKeyId::new()).collect();
        for key in &keys {
            usage.touch(*key, t0);
        }
        let mut due: Vec<ApiKeyId> = usage.take_due(t0).into_iter().map(|(key, _)| key).collect();
        due.sort();
        let mut expected = keys.clone();
        expected.sort();
        assert_eq!(due, expected);
        assert!(usage.take_due(t0 + Duration::seconds(61)).is_empty());
        assert!(keys.iter().all(|key| usage.last_used(*key) == Some(t0)), "kept until idle for two minutes");
        usage.take_due(t0 + Duration::seconds(121));
        assert!(keys.iter().all(|key| usage.last_used(*key).is_none()), "then dropped");
    }
}
