//! The in-memory cache of member pages: an org's member list is read far more often than it
//! changes, and a page of 100 read from the database costs what a hundred permission checks do.
//!
//! Each org has an epoch, a number never used before; a cached page is valid only while its org's
//! epoch is the one it was read under. Every change to an org's memberships (join, leave, role
//! change, removal, transfer, custom roles, deletion) gives the org a fresh epoch after its
//! transaction commits, before the request that made it returns, so the next read of any of its
//! pages goes back to the database. A page is filled under the epoch read *before* its database
//! read: if a change commits in between, the epoch moves and the fill is never served. An org
//! whose epoch was evicted gets a fresh one, which orphans its old pages: eviction can only cost a
//! miss, never serve a stale page.
//!
//! A cached page also keeps its rendering (the API's JSON), made by the first request that serves
//! it: serialising 100 members costs more than everything else a cache hit does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use quick_cache::sync::Cache;
use quick_cache::Weighter;

use super::lookups::{LookupCounts, Lookups};

use crate::domain::ids::OrgId;
use crate::domain::models::Member;
use crate::domain::pagination::{Page, PageRequest};

/// Bytes of cached pages at most (by an estimate of each member's size).
const MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Epochs of every org of a deployment of a million: an evicted epoch costs its org's pages.
const MAX_ORGS: usize = 1_000_000;
/// A member's size in memory, roughly: ids, role, email and display name with their headers.
const MEMBER_BYTES: u64 = 256;
/// Pages of 20 members, for sizing the cache's table.
const TYPICAL_PAGE_BYTES: u64 = 20 * MEMBER_BYTES;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PageKey {
    org: OrgId,
    after: Option<String>,
    limit: u32,
}

/// A page of members as listed, with its rendering memoized.
pub struct ListedPage {
    pub page: Page<Member>,
    rendered: OnceLock<Arc<[u8]>>,
}

impl ListedPage {
    pub fn new(page: Page<Member>) -> Self {
        Self { page, rendered: OnceLock::new() }
    }

    /// The page as `render` renders it: rendered once, then shared. Every caller must render a
    /// page the same way (the rendering may not depend on who asks).
    pub fn rendered(&self, render: impl FnOnce(&Page<Member>) -> Vec<u8>) -> Arc<[u8]> {
        self.rendered.get_or_init(|| render(&self.page).into()).clone()
    }
}

struct CachedPage {
    epoch: u64,
    page: Arc<ListedPage>,
}

/// A page weighs its members (at least one, so that every page can be evicted).
#[derive(Clone)]
struct PageWeight;

impl Weighter<PageKey, Arc<CachedPage>> for PageWeight {
    fn weight(&self, _: &PageKey, cached: &Arc<CachedPage>) -> u64 {
        MEMBER_BYTES * (cached.page.page.items.len() as u64).max(1)
    }
}

pub struct MemberPageCache {
    pages: Cache<PageKey, Arc<CachedPage>, PageWeight>,
    epochs: Cache<OrgId, u64>,
    next_epoch: AtomicU64,
    lookups: Lookups,
}

impl Default for MemberPageCache {
    fn default() -> Self {
        Self {
            pages: Cache::with_weighter((MAX_BYTES / TYPICAL_PAGE_BYTES) as usize, MAX_BYTES, PageWeight),
            epochs: Cache::new(MAX_ORGS),
            next_epoch: AtomicU64::new(1),
            lookups: Lookups::default(),
        }
    }
}

impl MemberPageCache {
    /// The org's current epoch, to be read before the database read whose page will be filled
    /// under it.
    pub fn epoch(&self, org: OrgId) -> u64 {
        let fresh = || Ok::<_, std::convert::Infallible>(self.fresh_epoch());
        self.epochs.get_or_insert_with(&org, fresh).unwrap_or_else(|never| match never {})
    }

    pub fn page(&self, org: OrgId, request: &PageRequest) -> Option<Arc<ListedPage>> {
        let cached = self.pages.get(&key(org, request));
        let current = cached.filter(|cached| self.epochs.get(&org) == Some(cached.epoch));
        self.lookups.count(current.map(|cached| cached.page.clone()))
    }

    /// The cache's hits and misses so far (a page of an older epoch is a miss).
    pub fn lookups(&self) -> LookupCounts {
        self.lookups.snapshot()
    }

    pub fn fill(&self, org: OrgId, request: &PageRequest, page: Arc<ListedPage>, epoch: u64) {
        self.pages.insert(key(org, request), Arc::new(CachedPage { epoch, page }));
    }

    /// After a change to `org`'s memberships: every page of it read so far is stale.
    pub fn forget_org(&self, org: OrgId) {
        self.epochs.insert(org, self.fresh_epoch());
    }

    pub fn clear(&self) {
        self.epochs.clear();
        self.pages.clear();
    }

    fn fresh_epoch(&self) -> u64 {
        self.next_epoch.fetch_add(1, Ordering::SeqCst)
    }
}

fn key(org: OrgId, request: &PageRequest) -> PageKey {
    PageKey { org, after: request.after.clone(), limit: request.limit }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::email::Email;
    use crate::domain::ids::{MembershipId, UserId};
    use crate::domain::models::{MemberStatus, Membership};

    fn page_of(org: OrgId, role: &str) -> Arc<ListedPage> {
        let member = Member {
            membership: Membership {
                id: MembershipId::new(),
                org_id: org,
                user_id: UserId::new(),
                role: role.into(),
                status: MemberStatus::Active,
                joined_at: chrono::DateTime::UNIX_EPOCH,
            },
            email: Email::from_trusted("someone@example.com".into()),
            display_name: "Someone".into(),
            team_ids: Vec::new(),
        };
        Arc::new(ListedPage::new(Page { items: vec![member], next_cursor: None }))
    }

    fn role_in(page: Option<Arc<ListedPage>>) -> Option<String> {
        page.map(|p| p.page.items[0].membership.role.clone())
    }

    #[test]
    fn a_page_is_rendered_once() {
        let listed = page_of(OrgId::new(), "admin");
        let first = listed.rendered(|page| page.items[0].membership.role.as_bytes().to_vec());
        let again = listed.rendered(|_| panic!("a rendered page is not rendered again"));
        assert_eq!(&*first, b"admin");
        assert!(Arc::ptr_eq(&first, &again));
    }

    #[test]
    fn a_page_is_served_until_its_org_changes() {
        let cache = MemberPageCache::default();
        let (org, other) = (OrgId::new(), OrgId::new());
        let first = PageRequest::first(100);
        let epoch = cache.epoch(org);
        cache.fill(org, &first, page_of(org, "admin"), epoch);
        let other_epoch = cache.epoch(other);
        cache.fill(other, &first, page_of(other, "viewer"), other_epoch);
        assert_eq!(role_in(cache.page(org, &first)).as_deref(), Some("admin"));
        assert!(cache.page(org, &PageRequest::first(20)).is_none(), "another limit is another page");

        cache.forget_org(org);
        assert!(cache.page(org, &first).is_none());
        assert_eq!(role_in(cache.page(other, &first)).as_deref(), Some("viewer"), "other orgs keep theirs");
    }

    #[test]
    fn a_fill_read_before_a_change_is_never_served() {
        let cache = MemberPageCache::default();
        let org = OrgId::new();
        let first = PageRequest::first(100);
        // A read starts, a membership changes and the org is forgotten, then the read's page
        // (from before the change) arrives.
        let epoch = cache.epoch(org);
        cache.forget_org(org);
        cache.fill(org, &first, page_of(org, "admin"), epoch);
        assert!(cache.page(org, &first).is_none());

        let epoch = cache.epoch(org);
        cache.fill(org, &first, page_of(org, "member"), epoch);
        assert_eq!(role_in(cache.page(org, &first)).as_deref(), Some("member"));
    }

    #[test]
    fn an_org_whose_epoch_was_evicted_serves_none_of_its_old_pages() {
        let cache = MemberPageCache::default();
        let org = OrgId::new();
        let first = PageRequest::first(100);
        let epoch = cache.epoch(org);
        cache.fill(org, &first, page_of(org, "admin"), epoch);
        cache.epochs.remove(&org);
        assert!(cache.page(org, &first).is_none());
        let epoch = cache.epoch(org);
        assert!(cache.page(org, &first).is_none(), "a fresh epoch orphans pages filled under the old one");
        cache.fill(org, &first, page_of(org, "member"), epoch);
        assert_eq!(role_in(cache.page(org, &first)).as_deref(), Some("member"));
    }
}
