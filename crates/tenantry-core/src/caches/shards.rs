//! Per-key state split over many locks, so concurrent requests for different keys rarely wait
//! for each other, and a walk over all of it (a sweep, a flush) holds one small shard at a time
//! instead of stopping every request for as long as the whole map takes.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash};
use std::sync::{Mutex, MutexGuard};

/// Enough that 32 connections on a few cores seldom meet on one lock, and that a walk holds
/// each lock for 1/64 of the state; few enough that walking every shard costs nothing.
pub const SHARDS: usize = 64;

/// A shard on a cache line of its own: two cores taking neighbouring locks would otherwise
/// pass one line back and forth.
#[repr(align(64))]
struct Padded<S>(Mutex<S>);

pub struct Shards<S> {
    shards: Box<[Padded<S>]>,
    hasher: RandomState,
}

impl<S: Default> Default for Shards<S> {
    fn default() -> Self {
        Self { shards: (0..SHARDS).map(|_| Padded(Mutex::new(S::default()))).collect(), hasher: RandomState::new() }
    }
}

impl<S> Shards<S> {
    /// The shard that holds `key`'s state, locked.
    pub fn lock<K: Hash + ?Sized>(&self, key: &K) -> MutexGuard<'_, S> {
        // The high bits: the maps inside use the low ones of their own hash of the same key.
        let index = (self.hasher.hash_one(key) >> 32) as usize % self.shards.len();
        lock(&self.shards[index])
    }

    /// Calls `visit` with each shard in turn, each locked only while it is visited.
    pub fn for_each(&self, mut visit: impl FnMut(&mut S)) {
        for shard in self.shards.iter() {
            visit(&mut lock(shard));
        }
    }
}

fn lock<S>(shard: &Padded<S>) -> MutexGuard<'_, S> {
    // A panic while a shard was held leaves at worst a count off by one; serving on is better
    // than failing every later request of the keys in that shard.
    shard.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn a_key_always_lands_in_the_same_shard_and_keys_spread_over_all() {
        let shards: Shards<HashMap<u32, u32>> = Shards::default();
        for key in 0..10_000u32 {
            *shards.lock(&key).entry(key).or_default() += 1;
            *shards.lock(&key).entry(key).or_default() += 1;
        }
        let mut sizes = Vec::new();
        shards.for_each(|shard| {
            assert!(shard.values().all(|&count| count == 2), "both increments met in one shard");
            sizes.push(shard.len());
        });
        assert_eq!(sizes.iter().sum::<usize>(), 10_000);
        // 156 expected per shard; a shard this far off means the index ignores most of the hash.
        assert!(sizes.iter().all(|&n| (80..240).contains(&n)), "uneven shards: {sizes:?}");
    }
}
