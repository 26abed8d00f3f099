//! Hits and misses of each cache, for `/metrics`.
//!
//! A lookup is on every hot request, so counting it must not make the runtime's worker threads
//! share one cache line: each counter is striped, a thread adding to its own stripe, and the
//! stripes are summed only when the metrics are read.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

const STRIPES: usize = 8;

/// One counter's value on its own cache line, so two threads adding to neighbouring stripes do
/// not contend.
#[repr(align(64))]
#[derive(Default)]
struct Stripe(AtomicU64);

#[derive(Default)]
struct StripedCounter([Stripe; STRIPES]);

fn this_threads_stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static STRIPE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
    }
    STRIPE.with(|stripe| *stripe)
}

impl StripedCounter {
    fn add_one(&self) {
        self.0[this_threads_stripe()].0.fetch_add(1, Ordering::Relaxed);
    }

    fn sum(&self) -> u64 {
        self.0.iter().map(|stripe| stripe.0.load(Ordering::Relaxed)).sum()
    }
}

/// The lookups of one cache: how many found their entry and how many went on to the database.
#[derive(Default)]
pub struct Lookups {
    hits: StripedCounter,
    misses: StripedCounter,
}

impl Lookups {
    /// Counts a lookup by what it found, and hands the result on.
    pub fn count<T>(&self, found: Option<T>) -> Option<T> {
        match found {
            Some(_) => self.hits.add_one(),
            None => self.misses.add_one(),
        }
        found
    }

    pub fn snapshot(&self) -> LookupCounts {
        LookupCounts { hits: self.hits.sum(), misses: self.misses.sum() }
    }
}

/// The totals of one cache's lookups since the process started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LookupCounts {
    pub hits: u64,
    pub misses: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_and_misses_from_many_threads_add_up() {
        let lookups = Lookups::default();
        std::thread::scope(|scope| {
            for thread in 0..12u64 {
                let lookups = &lookups;
                scope.spawn(move || {
                    for i in 0..1_000u64 {
                        let found = ((i + thread) % 4 != 0).then_some(i);
                        assert_eq!(lookups.count(found), found);
                    }
                });
            }
        });
        assert_eq!(lookups.snapshot(), LookupCounts { hits: 9_000, misses: 3_000 });
    }
}
