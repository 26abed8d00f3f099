//! The counter that keeps a cache fill from outliving a concurrent invalidation.
//!
//! A fill reads the database, then inserts; an invalidation commits, then forgets. If the
//! invalidation lands between the read and the insert, the insert would put the old answer back.
//! So every invalidation advances the counter first, every fill reads it before its database
//! read (`current`), and a fill that sees it moved since (`moved_since`) drops what it inserted.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Generation(AtomicU64);

impl Generation {
    /// Read before a database lookup whose result a fill will insert.
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Before forgetting anything: fills that read earlier will drop their insert.
    pub fn advance(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// After a fill's insert: whether an invalidation may have raced it.
    pub fn moved_since(&self, seen: u64) -> bool {
        self.current() != seen
    }
}
