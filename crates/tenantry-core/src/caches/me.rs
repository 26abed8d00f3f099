//! The in-memory cache behind `GET /v1/me`, which host apps call on every page load: each user's
//! account (their row and their memberships, oldest first) and each org's row, cached apart and
//! put together on every request, so that one change drops one entry.
//!
//! - An account is dropped when the user's row is written (address verified, password set,
//!   suspended or unsuspended) or one of their memberships is added, changed or removed.
//! - An org is dropped when its row changes: its name or metadata, owner, plan, billing customer,
//!   or seat count. Seats move whenever anyone joins or leaves, so keeping the org apart from its
//!   members' accounts makes a join cost one org entry, not the accounts of all its members.
//! - A change to an org's custom roles may move many members to another role at once (deleting
//!   a role moves its holders): every account with a membership in the org is dropped, through
//!   the org's scope (`Scopes`, as `GrantCache` does for the same change). Deleting an org drops
//!   the org: an account that still names it finds no org, and is read again.
//!
//! Invalidation is exact: every change calls `forget_*` after its transaction commits, before the
//! request that made it returns (and on other nodes before that, see `CacheChange`). As in
//! `GrantCache`, a generation counter, bumped by every invalidation and checked after every fill,
//! removes a fill that read the database before a concurrent change committed.
//!
//! An account also keeps the last answer rendered from it (the API's JSON), with the orgs it was
//! rendered from: serialising the answer costs more than finding its parts. It is served again
//! only while it was rendered from the very org entries the cache holds now (compared by pointer;
//! the rendering keeps them alive, so an address cannot be reused) and for the same active org;
//! a changed account is a new entry, without it.

use std::sync::{Arc, Mutex};

use quick_cache::sync::Cache;

use super::generation::Generation;
use super::lookups::{LookupCounts, Lookups};
use super::scopes::{Scopes, Stamp};

use crate::domain::ids::{OrgId, UserId};
use crate::domain::models::{Membership, Org, OrgWithRole, User};

/// As many users as the session cache holds live sessions: each signed-in user calls `/v1/me`.
const MAX_ACCOUNTS: usize = 300_000;
/// The orgs of those users: each has a personal org, and most share a team's org or a few. An
/// evicted org costs its members' next answer a database read, never a stale one.
const MAX_ORGS: usize = 2 * MAX_ACCOUNTS;

/// A user's row and memberships, as `/v1/me` shows them.
struct Account {
    user: User,
    memberships: Box<[Membership]>,
    /// The scope of each membership's org, in the same order.
    stamps: Box<[Stamp]>,
    rendered: Mutex<Option<Arc<Rendered>>>,
}

/// An answer's JSON, and what it was rendered from besides its account.
struct Rendered {
    orgs: Box<[Arc<Org>]>,
    active_org: Option<OrgId>,
    json: Arc<[u8]>,
}

/// A user's account and their orgs, as found in the cache or just read.
pub struct Found {
    account: Arc<Account>,
    /// The org of each membership, in the same order.
    orgs: Box<[Arc<Org>]>,
}

impl Found {
    pub fn user(&self) -> &User {
        &self.account.user
    }

    /// The user's orgs with their role, oldest membership first.
    pub fn orgs(&self) -> Vec<OrgWithRole> {
        let memberships = self.account.memberships.iter();
        memberships
            .zip(self.orgs.iter())
            .map(|(m, org)| OrgWithRole { org: Org::clone(org), membership: m.clone() })
            .collect()
    }

    /// Whether `org` is one of the user's orgs.
    pub fn is_member_of(&self, org: OrgId) -> bool {
        self.account.memberships.iter().any(|m| m.org_id == org)
    }

    /// The answer with `active_org` as the active org, as `render` renders it: rendered once,
    /// then shared until the account or one of its orgs changes. Every caller must render an
    /// answer the same way (the rendering may depend on nothing else).
    pub fn rendered(&self, active_org: Option<OrgId>, render: impl FnOnce() -> Vec<u8>) -> Arc<[u8]> {
        let last = lock(&self.account.rendered).clone();
        if let Some(last) = last {
            let same_orgs = last.orgs.len() == self.orgs.len()
                && last.orgs.iter().zip(self.orgs.iter()).all(|(then, now)| Arc::ptr_eq(then, now));
            if same_orgs && last.active_org == active_org {
                return last.json.clone();
            }
        }
        let json: Arc<[u8]> = render().into();
        let rendered = Rendered { orgs: self.orgs.clone(), active_org, json: json.clone() };
        *lock(&self.account.rendered) = Some(Arc::new(rendered));
        json
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while rendering leaves at worst no rendering kept.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub struct MeCache {
    accounts: Cache<UserId, Arc<Account>>,
    orgs: Cache<OrgId, Arc<Org>>,
    /// Accounts with a membership in an org are forgotten through the org's scope.
    members_of: Scopes,
    generation: Generation,
    lookups: [Lookups; 2],
}

/// `MeCache::lookups`' entries, in the order of the metrics' `cache` label.
const ACCOUNTS: usize = 0;
const ORGS: usize = 1;
const LOOKUP_NAMES: [&str; 2] = ["me_accounts", "me_orgs"];

impl Default for MeCache {
    fn default() -> Self {
        Self {
            accounts: Cache::new(MAX_ACCOUNTS),
            orgs: Cache::new(MAX_ORGS),
            members_of: Scopes::default(),
            generation: Generation::default(),
            lookups: Default::default(),
        }
    }
}

impl MeCache {
    /// Each of the caches' hits and misses so far, by name.
    pub fn lookups(&self) -> impl Iterator<Item = (&'static str, LookupCounts)> + '_ {
        LOOKUP_NAMES.into_iter().zip(self.lookups.iter().map(Lookups::snapshot))
    }

    /// Read before a database lookup whose result will be passed to `fill`.
    pub fn generation(&self) -> u64 {
        self.generation.current()
    }

    /// The user's account and each of its orgs, if all are cached.
    pub fn get(&self, user: UserId) -> Option<Found> {
        let account = self.accounts.get(&user).filter(|a| a.stamps.iter().all(|s| self.members_of.holds(*s)));
        let account = self.lookups[ACCOUNTS].count(account)?;
        let orgs = account
            .memberships
            .iter()
            .map(|membership| self.lookups[ORGS].count(self.orgs.get(&membership.org_id)))
            .collect::<Option<_>>()?;
        Some(Found { account, orgs })
    }

    /// Fills the user's account and its orgs, as the database has them (`orgs_of_user`), and
    /// hands them back.
    pub fn fill(&self, user: User, orgs: Vec<OrgWithRole>, seen: u64) -> Found {
        let id = user.id;
        let (orgs, memberships): (Vec<Arc<Org>>, Vec<Membership>) =
            orgs.into_iter().map(|o| (Arc::new(o.org), o.membership)).unzip();
        let stamps = memberships.iter().map(|m| self.members_of.stamp(m.org_id)).collect();
        let account = Arc::new(Account { user, memberships: memberships.into(), stamps, rendered: Mutex::new(None) });
        self.accounts.insert(id, account.clone());
        for org in &orgs {
            self.orgs.insert(org.id, org.clone());
        }
        if self.generation.moved_since(seen) {
            self.accounts.remove(&id);
            for org in &orgs {
                self.orgs.remove(&org.id);
            }
        }
        Found { account, orgs: orgs.into() }
    }

    /// After the user's row changed: their address, password or status.
    pub fn forget_user(&self, user: UserId) {
        self.generation.advance();
        self.accounts.remove(&user);
    }

    /// After a membership of `user` in `org` was added, changed or removed: the user's account,
    /// and the org's seat count.
    pub fn forget_member(&self, org: OrgId, user: UserId) {
        self.generation.advance();
        self.accounts.remove(&user);
        self.orgs.remove(&org);
    }

    /// After the org's row changed (name, metadata, owner, plan, billing customer), or the org
    /// was deleted: an account naming a deleted org finds no org, and is read again.
    pub fn forget_org(&self, org: OrgId) {
        self.generation.advance();
        self.orgs.remove(&org);
    }

    /// After members of `org` may have moved between roles (its custom roles changed): every
    /// account with a membership in it.
    pub fn forget_org_members(&self, org: OrgId) {
        self.generation.advance();
        self.members_of.forget(org);
    }

    pub fn clear(&self) {
        self.generation.advance();
        self.accounts.clear();
        self.orgs.clear();
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use serde_json::json;

    use super::*;
    use crate::domain::email::Email;
    use crate::domain::ids::MembershipId;
    use crate::domain::models::{MemberStatus, UserStatus};
    use crate::domain::slug::Slug;

    fn user(id: UserId) -> User {
        User {
            id,
            email: Email::from_trusted("ada@example.com".into()),
            display_name: "Ada".into(),
            password_hash: String::new(),
            email_verified_at: None,
            status: UserStatus::Active,
            created_at: DateTime::UNIX_EPOCH,
        }
    }

    fn org(name: &str, seats: u64) -> Org {
        Org {
            id: OrgId::new(),
            slug: Slug::parse("acme").unwrap(),
            name: name.into(),
            owner_id: UserId::new(),
            is_personal: false,
            plan: "team".into(),
            billing_customer_id: None,
            metadata: json!({}),
            created_at: DateTime::UNIX_EPOCH,
            seat_count: seats,
        }
    }

    fn member_of(org: &Org, user: UserId, role: &str) -> OrgWithRole {
        let membership = Membership {
            id: MembershipId::new(),
            org_id: org.id,
            user_id: user,
            role: role.into(),
            status: MemberStatus::Active,
            joined_at: DateTime::UNIX_EPOCH,
        };
        OrgWithRole { org: org.clone(), membership }
    }

    /// Fills `user`'s account with `orgs` (each `(org, role)`), read after no change.
    fn fill(cache: &MeCache, user: UserId, orgs: &[(&Org, &str)]) {
        let seen = cache.generation();
        let _ = cache.fill(self::user(user), orgs.iter().map(|(o, role)| member_of(o, user, role)).collect(), seen);
    }

    /// `(org name, seats, role)` of each of the user's orgs, if cached.
    fn shown(cache: &MeCache, user: UserId) -> Option<Vec<(String, u64, String)>> {
        let found = cache.get(user)?;
        Some(found.orgs().into_iter().map(|o| (o.org.name, o.org.seat_count, o.membership.role)).collect())
    }

    fn entry(name: &str, seats: u64, role: &str) -> (String, u64, String) {
        (name.into(), seats, role.into())
    }

    #[test]
    fn a_fill_that_read_before_an_invalidation_is_discarded() {
        let cache = MeCache::default();
        let ada = UserId::new();
        let acme = org("Acme", 1);
        let seen = cache.generation();
        cache.forget_member(acme.id, ada);
        let found = cache.fill(user(ada), vec![member_of(&acme, ada, "owner")], seen);
        assert_eq!(found.user().id, ada, "the reader still gets what it read");
        assert!(cache.get(ada).is_none());
        assert!(cache.orgs.get(&acme.id).is_none());

        fill(&cache, ada, &[(&acme, "owner")]);
        assert_eq!(shown(&cache, ada), Some(vec![entry("Acme", 1, "owner")]));
    }

    #[test]
    fn someone_joining_an_org_drops_the_org_and_not_its_members_accounts() {
        let cache = MeCache::default();
        let (ada, bob, newcomer) = (UserId::new(), UserId::new(), UserId::new());
        let acme = org("Acme", 2);
        fill(&cache, ada, &[(&acme, "owner")]);
        fill(&cache, bob, &[(&acme, "viewer")]);

        cache.forget_member(acme.id, newcomer);
        assert!(cache.get(ada).is_none(), "the org's seat count is stale");
        assert!(cache.accounts.get(&ada).is_some() && cache.accounts.get(&bob).is_some());
        // Whoever reads the org again fills it for every member.
        let acme = Org { seat_count: 3, ..acme };
        fill(&cache, ada, &[(&acme, "owner")]);
        assert_eq!(shown(&cache, bob), Some(vec![entry("Acme", 3, "viewer")]));
    }

    #[test]
    fn a_membership_change_drops_that_members_account_only() {
        let cache = MeCache::default();
        let (ada, bob) = (UserId::new(), UserId::new());
        let (acme, globex) = (org("Acme", 2), org("Globex", 1));
        fill(&cache, ada, &[(&acme, "owner")]);
        fill(&cache, bob, &[(&acme, "viewer"), (&globex, "owner")]);
        cache.forget_member(acme.id, bob);
        assert!(cache.accounts.get(&bob).is_none());
        assert!(cache.accounts.get(&ada).is_some());
        assert!(cache.orgs.get(&globex.id).is_some(), "the user's other orgs stay");
    }

    #[test]
    fn a_role_move_drops_every_account_in_the_org_and_no_other() {
        let cache = MeCache::default();
        let (ada, bob) = (UserId::new(), UserId::new());
        let acme = org("Acme", 1);
        let globex = cache.members_of.apart_from(&acme.id, OrgId::new);
        let globex = Org { id: globex, ..org("Globex", 1) };
        fill(&cache, ada, &[(&acme, "support")]);
        fill(&cache, bob, &[(&globex, "support")]);
        cache.forget_org_members(acme.id);
        assert!(cache.get(ada).is_none());
        assert_eq!(shown(&cache, bob), Some(vec![entry("Globex", 1, "support")]));

        fill(&cache, ada, &[(&acme, "viewer")]);
        assert_eq!(shown(&cache, ada), Some(vec![entry("Acme", 1, "viewer")]), "an account read after is kept");
    }

    #[test]
    fn an_account_naming_a_deleted_org_is_a_miss() {
        let cache = MeCache::default();
        let ada = UserId::new();
        let (acme, globex) = (org("Acme", 1), org("Globex", 1));
        fill(&cache, ada, &[(&acme, "owner"), (&globex, "viewer")]);
        cache.forget_org(acme.id);
        assert!(cache.get(ada).is_none());
    }

    #[test]
    fn a_user_in_no_org_is_cached_as_such() {
        let cache = MeCache::default();
        let ada = UserId::new();
        fill(&cache, ada, &[]);
        assert_eq!(shown(&cache, ada), Some(Vec::new()));
    }

    #[test]
    fn a_rendering_is_served_until_an_org_or_the_active_org_changes() {
        let cache = MeCache::default();
        let ada = UserId::new();
        let (acme, globex) = (org("Acme", 1), org("Globex", 1));
        fill(&cache, ada, &[(&acme, "owner"), (&globex, "viewer")]);
        let render = |text: &str| {
            let text = text.to_owned();
            move || text.into_bytes()
        };
        let first = cache.get(ada).unwrap().rendered(Some(acme.id), render("first"));
        let again = cache.get(ada).unwrap().rendered(Some(acme.id), || panic!("a kept rendering is not made again"));
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(
            &*cache.get(ada).unwrap().rendered(Some(globex.id), render("other active org")),
            b"other active org"
        );

        // Globex read again (as after a change to it): the account stays, its rendering does not.
        cache.forget_org(globex.id);
        fill(&cache, UserId::new(), &[(&globex, "owner")]);
        assert_eq!(&*cache.get(ada).unwrap().rendered(Some(globex.id), render("renamed")), b"renamed");
    }
}
