//! The in-memory cache behind key verification: a key's record by the hash of its secret and by
//! its id, including "no such key", so verifying a key is a memory lookup.
//!
//! Invalidation is exact: creating, rolling or revoking a key, changing its org's plan or deleting
//! its org forgets the affected entries after the change commits, before the request returns.
//! Expiry needs no invalidation: it is checked against the clock on every use. An org's keys are
//! forgotten together through its scope (`Scopes`). As in the grant cache, a generation counter
//! drops a fill that raced an invalidation.

use std::sync::Arc;

use quick_cache::sync::Cache;

use super::generation::Generation;
use super::lookups::{LookupCounts, Lookups};
use super::scopes::{Scopes, Stamp};

use crate::domain::api_key::ApiKey;
use crate::domain::ids::{ApiKeyId, OrgId};
use crate::domain::permission::PermissionSet;

const MAX_KEYS: usize = 1_000_000;

/// A key as verification needs it.
#[derive(Debug)]
pub struct CachedKey {
    pub key: ApiKey,
    pub secret_hash: String,
    pub scopes: PermissionSet,
    /// The rate limit of the org's plan.
    pub calls_per_minute: u32,
}

/// A lookup's answer (`None`: no such key), stamped with its org's scope.
#[derive(Clone)]
struct Entry {
    found: Option<Arc<CachedKey>>,
    org: Option<Stamp>,
}

pub struct KeyCache {
    by_hash: Cache<String, Entry>,
    by_id: Cache<ApiKeyId, Entry>,
    orgs: Scopes,
    generation: Generation,
    by_hash_lookups: Lookups,
    by_id_lookups: Lookups,
}

impl Default for KeyCache {
    fn default() -> Self {
        Self {
            by_hash: Cache::new(MAX_KEYS),
            by_id: Cache::new(MAX_KEYS),
            orgs: Scopes::default(),
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
        self.by_hash_lookups.count(self.by_hash.get(hash).and_then(|entry| self.current(entry)))
    }

    pub fn by_id(&self, id: ApiKeyId) -> Option<Option<Arc<CachedKey>>> {
        self.by_id_lookups.count(self.by_id.get(&id).and_then(|entry| self.current(entry)))
    }

    /// The entry's answer, unless its org was forgotten since it was filled.
    fn current(&self, entry: Entry) -> Option<Option<Arc<CachedKey>>> {
        entry.org.is_none_or(|stamp| self.orgs.holds(stamp)).then_some(entry.found)
    }

    fn entry(&self, found: Option<Arc<CachedKey>>) -> Entry {
        let org = found.as_ref().map(|key| self.orgs.stamp(key.key.org_id));
        Entry { found, org }
    }

    /// Each of the caches' hits and misses so far, by name.
    pub fn lookups(&self) -> impl Iterator<Item = (&'static str, LookupCounts)> {
        [("keys_by_secret", self.by_hash_lookups.snapshot()), ("keys_by_id", self.by_id_lookups.snapshot())].into_iter()
    }

    pub fn fill_hash(&self, hash: &str, found: Option<Arc<CachedKey>>, seen: u64) {
        let entry = self.entry(found);
        if let Some(key) = &entry.found {
            self.by_id.insert(key.key.id, entry.clone());
        }
        self.by_hash.insert(hash.to_owned(), entry.clone());
        if self.generation.moved_since(seen) {
            self.by_hash.remove(hash);
            if let Some(key) = entry.found {
                self.by_id.remove(&key.key.id);
            }
        }
    }

    pub fn fill_id(&self, id: ApiKeyId, found: Option<Arc<CachedKey>>, seen: u64) {
        let entry = self.entry(found);
        if let Some(key) = &entry.found {
            self.by_hash.insert(key.secret_hash.clone(), entry.clone());
        }
        self.by_id.insert(id, entry.clone());
        if self.generation.moved_since(seen) {
            self.by_id.remove(&id);
            if let Some(key) = entry.found {
                self.by_hash.remove(&key.secret_hash);
            }
        }
    }

    /// After a key was created, rolled or revoked.
    pub fn forget(&self, id: ApiKeyId, secret_hash: &str) {
        self.generation.advance();
        self.by_hash.remove(secret_hash);
        self.by_id.remove(&id);
    }

    pub fn clear(&self) {
        self.generation.advance();
        self.by_hash.clear();
        self.by_id.clear();
    }

    /// After the org's plan changed (its keys' rate limit) or the org was deleted.
    pub fn forget_org(&self, org: OrgId) {
        self.generation.advance();
        self.orgs.forget(org);
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    fn key_of(org: OrgId, secret_hash: &str) -> Arc<CachedKey> {
        let key = ApiKey {
            id: ApiKeyId::new(),
            org_id: org,
            name: "deploy".into(),
            prefix: "tnt_".into(),
            scopes: Vec::new(),
            created_by: "someone".into(),
            created_at: DateTime::UNIX_EPOCH,
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
            rolled_from: None,
        };
        Arc::new(CachedKey { key, secret_hash: secret_hash.into(), scopes: PermissionSet::EMPTY, calls_per_minute: 60 })
    }

    #[test]
    fn forgetting_an_org_forgets_its_keys_by_secret_and_by_id_and_no_others() {
        let cache = KeyCache::default();
        let org = OrgId::new();
        let other = cache.orgs.apart_from(&org, OrgId::new);
        let (mine, theirs) = (key_of(org, "mine"), key_of(other, "theirs"));
        let seen = cache.generation();
        cache.fill_hash("mine", Some(mine.clone()), seen);
        cache.fill_id(theirs.key.id, Some(theirs.clone()), seen);
        cache.fill_hash("no such key", None, seen);

        cache.forget_org(org);
        assert!(cache.by_hash("mine").is_none());
        assert!(cache.by_id(mine.key.id).is_none());
        assert!(cache.by_hash("theirs").is_some_and(|found| found.is_some()));
        assert!(cache.by_id(theirs.key.id).is_some_and(|found| found.is_some()));
        assert!(cache.by_hash("no such key").is_some_and(|found| found.is_none()), "an unknown secret stays unknown");

        let seen = cache.generation();
        cache.fill_hash("mine", Some(mine.clone()), seen);
        assert!(cache.by_id(mine.key.id).is_some_and(|found| found.is_some()), "a key read again is kept");
    }
}
