//! Forgetting every entry of one user, one org or one session without walking a cache.
//!
//! Some changes reach entries that cannot be named one by one: suspending a user ends every
//! session of theirs, a change to an org's custom roles may move any of its members, a plan
//! change alters the rate limit of every key of the org. Walking a cache of hundreds of
//! thousands of entries to find them would make the request that made the change cost in
//! proportion to the cache. Instead each scope (a user, an org, a session) hashes to one of a
//! fixed number of counters: an entry notes its scope's count (a `Stamp`) when it is filled,
//! forgetting the scope advances the count, and an entry whose count has moved is not served (a
//! refill replaces it). Scopes that share a counter are forgotten together, which costs their
//! entries a database read, never a stale answer.
//!
//! A fill's stamp is taken when it inserts, after its database read; a scope forgotten between
//! the read and the stamp is caught by the cache's `Generation`, which every forget also
//! advances. A token's live mark (`session_cache`) takes its stamps before the check it records
//! instead, so that nothing between the two can go unseen.

use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::DefaultHashBuilder;

/// 32 KiB of counters: a scope forgotten costs one in 4,096 entries a refill.
const COUNTERS: usize = 4096;

pub struct Scopes {
    counters: Box<[AtomicU64]>,
    hasher: DefaultHashBuilder,
}

/// A scope's count when an entry was filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    counter: u16,
    count: u64,
}

impl Default for Scopes {
    fn default() -> Self {
        Self { counters: (0..COUNTERS).map(|_| AtomicU64::new(0)).collect(), hasher: DefaultHashBuilder::default() }
    }
}

impl Scopes {
    fn counter(&self, scope: impl Hash) -> usize {
        self.hasher.hash_one(scope) as usize % COUNTERS
    }

    /// The scope's count now, to keep with an entry being filled.
    pub fn stamp(&self, scope: impl Hash) -> Stamp {
        let counter = self.counter(scope);
        Stamp { counter: counter as u16, count: self.counters[counter].load(Ordering::Acquire) }
    }

    /// Whether nothing filed under the stamp's scope was forgotten since it was taken.
    pub fn holds(&self, stamp: Stamp) -> bool {
        self.counters[usize::from(stamp.counter)].load(Ordering::Acquire) == stamp.count
    }

    /// Every entry stamped with `scope` (or a scope sharing its counter) is served no more.
    pub fn forget(&self, scope: impl Hash) {
        self.counters[self.counter(scope)].fetch_add(1, Ordering::AcqRel);
    }

    /// For tests of what a forget spares: a scope made by `new` that shares no counter with `taken`.
    #[cfg(test)]
    pub fn apart_from<S: Hash>(&self, taken: &S, new: impl Fn() -> S) -> S {
        std::iter::repeat_with(new).find(|scope| self.counter(scope) != self.counter(taken)).expect("endless")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgetting_a_scope_ends_its_stamps_and_spares_nearly_all_others() {
        let scopes = Scopes::default();
        let stamps: Vec<_> = (0..10_000u32).map(|scope| (scope, scopes.stamp(scope))).collect();
        scopes.forget(7u32);
        assert!(!scopes.holds(stamps[7].1));
        let ended = stamps.iter().filter(|(_, stamp)| !scopes.holds(*stamp)).count();
        // The scopes sharing 7's counter: about 10,000 / 4,096.
        assert!(ended < 20, "{ended} of 10,000 stamps ended by forgetting one scope");
        assert!(scopes.holds(scopes.stamp(7u32)), "a stamp taken after the forget holds");
    }
}
