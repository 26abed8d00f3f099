//! The in-memory cache behind key verification: a key's record by the hash of its secret and by
//! its id, including "no such key", so verifying a key is a memory lookup.
//!
//! Invalidation is exact: creating, rolling or revoking a key, changing its org's plan or deleting
//! its org forgets the affected entries after the change commits, before the request returns.
//! Expiry needs no invalidation: it is checked against the clock on every use. As in the grant
//! cache, a generation counter drops a fill that raced an invalidation.

use std::sync::Arc;

use moka::sync::Cache;

use super::generation::Generation;
use super::lookups::{LookupCounts, Lookups};

use crate::domain::api_key::ApiKey;
use crate::domain::ids::{ApiKeyId, OrgId};
use crate::domain::permission::PermissionSet;

const MAX_KEYS: u64 = 1_000_000;

/// A key as verification needs it.
#[derive(Debug)]
pub struct CachedKey {
    pub key: ApiKey,
    pub secret_hash: String,
    pub scopes: PermissionSet,
    /// The rate limit of the org's plan.
    pub calls_per_minute: u32,
}

pub struct KeyCache {
    by_hash: Cache<String, Option<Arc<CachedKey>>>,
    by_id: Cache<ApiKeyId, Option<Arc<CachedKey>>>,
    generation: Generation,
    by_hash_lookups: Lookups,
    by_id_lookups: Lookups,
}

impl Default for KeyCache {
    fn default() -> Self {
        Self {
            by_hash: Cache::builder().max_capacity(MAX_KEYS).support_invalidation_closures().build(),
            by_id: Cache::builder().max_capacity(MAX_KEYS).support_invalidation_closures().build(),
            generation: Generation::default(),
            by_hash_lookups: Lookups::default(),
            by_id_lookups: Lookups::default(),
        }
    }
}

impl KeyCache {
    /// Read before a database lookup whose result will be passed to `fill`.
    pub fn generation(&self) -> u64 {
        self.generation.current()
    }

    /// `Some(None)`: known not to exist.
    pub fn by_hash(&self, hash: &str) -> Option<Option<Arc<CachedKey>>> {
        self.by_hash_lookups.count(self.by_hash.get(hash))
    }

    pub fn by_id(&self, id: ApiKeyId) -> Option<Option<Arc<CachedKey>>> {
        self.by_id_lookups.count(self.by_id.get(&id))
    }

    /// Each of the caches' hits and misses so far, by name.
    pub fn lookups(&self) -> impl Iterator<Item = (&'static str, LookupCounts)> {
        [("keys_by_secret", self.by_hash_lookups.snapshot()), ("keys_by_id", self.by_id_lookups.snapshot())].into_iter()
    }

    pub fn fill_hash(&self, hash: &str, found: Option<Arc<CachedKey>>, seen: u64) {
        if let Some(key) = &found {
            self.by_id.insert(key.key.id, Some(key.clone()));
        }
        self.by_hash.insert(hash.to_owned(), found.clone());
        if self.generation.moved_since(seen) {
            self.by_hash.invalidate(hash);
            if let Some(key) = found {
                self.by_id.invalidate(&key.key.id);
            }
        }
    }

    pub fn fill_id(&self, id: ApiKeyId, found: Option<Arc<CachedKey>>, seen: u64) {
        if let Some(key) = &found {
            self.by_hash.insert(key.secret_hash.clone(), Some(key.clone()));
        }
        self.by_id.insert(id, found.clone());
        if self.generation.moved_since(seen) {
            self.by_id.invalidate(&id);
            if let Some(key) = found {
                self.by_hash.invalidate(&key.secret_hash);
            }
        }
    }

    /// After a key was created, rolled or revoked.
    pub fn forget(&self, id: ApiKeyId, secret_hash: &str) {
        self.generation.advance();
        self.by_hash.invalidate(secret_hash);
        self.by_id.invalidate(&id);
    }

    pub fn clear(&self) {
        self.generation.advance();
        self.by_hash.invalidate_all();
        self.by_id.invalidate_all();
    }

    /// After the org's plan changed (its keys' rate limit) or the org was deleted.
    pub fn forget_org(&self, org: OrgId) {
        self.generation.advance();
        let of_org = move |entry: &Option<Arc<CachedKey>>| entry.as_ref().is_some_and(|k| k.key.org_id == org);
        self.by_hash
            .invalidate_entries_if(move |_, entry| of_org(entry))
            .expect("the cache supports invalidation closures");
        self.by_id
            .invalidate_entries_if(move |_, entry| of_org(entry))
            .expect("the cache supports invalidation closures");
    }
}
