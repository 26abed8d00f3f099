//! The in-memory cache behind `authorize`: who holds which role in which org (and whether they,
//! or their membership there, are suspended), each org's custom roles, each org's teams and each
//! member's team roles, and slug → id (until the org is deleted).
//!
//! Invalidation is exact: every change to a membership or a custom role calls `forget_*` after
//! its transaction commits, before the request that made it returns, so the next check sees it.
//! A fill that read the database before a concurrent change committed could otherwise put the
//! old answer back after the change's invalidation; a generation counter, bumped by every
//! invalidation and checked after every fill, removes such a fill again. A change to a whole org
//! (its roles, teams or security) or to a user's standing everywhere forgets their grants through
//! the org's or the user's scope (`Scopes`), without walking the cache.

use std::sync::Arc;

use quick_cache::sync::Cache;

use super::generation::Generation;
use super::lookups::{LookupCounts, Lookups};
use super::scopes::{Scopes, Stamp};

use crate::domain::ids::{OrgId, TeamId, UserId};
use crate::domain::permission::Role;
#[cfg(test)]
use crate::domain::team::TeamPlace;
use crate::domain::team::TeamRoles;

/// An org's teams as `(id, slug)`.
pub type OrgTeams = Arc<[(TeamId, Arc<str>)]>;

const MAX_MEMBERSHIPS: usize = 2_000_000;
/// Every org of a deployment of a million: below that, calls spread over more orgs than the
/// cache holds would go to the database for a slug or an org's custom roles.
const MAX_ORGS: usize = 1_000_000;

/// What a user holds in one org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberGrant {
    /// An active member with this role, and their team roles in the org (`None` when in no team).
    Role(Arc<str>, Option<TeamRoles>),
    NotMember,
    /// A member whose account is suspended: they hold nothing while it lasts.
    Suspended,
    /// A member suspended in this org only: they keep the seat but hold nothing while it lasts.
    MemberSuspended,
    /// A member of an org that requires MFA, without MFA.
    MfaMissing,
}

/// A member's grant, stamped with the scopes of their org and of their user.
#[derive(Clone)]
struct StampedGrant {
    grant: MemberGrant,
    org: Stamp,
    user: Stamp,
}

pub struct GrantCache {
    members: Cache<(OrgId, UserId), StampedGrant>,
    orgs: Scopes,
    users: Scopes,
    custom_roles: Cache<OrgId, Arc<Vec<Role>>>,
    slugs: Cache<String, OrgId>,
    teams: Cache<OrgId, OrgTeams>,
    /// Whether each org requires MFA of its members.
    mfa_required: Cache<OrgId, bool>,
    generation: Generation,
    lookups: [Lookups; 5],
}

/// `GrantCache::lookups`' entries, in the order of the metrics' `cache` label.
const MEMBERS: usize = 0;
const CUSTOM_ROLES: usize = 1;
const SLUGS: usize = 2;
const TEAMS: usize = 3;
const MFA_REQUIRED: usize = 4;
const LOOKUP_NAMES: [&str; 5] = ["member_grants", "custom_roles", "org_slugs", "org_teams", "org_mfa_required"];

impl Default for GrantCache {
    fn default() -> Self {
        Self {
            members: Cache::new(MAX_MEMBERSHIPS),
            orgs: Scopes::default(),
            users: Scopes::default(),
            custom_roles: Cache::new(MAX_ORGS),
            slugs: Cache::new(MAX_ORGS),
            teams: Cache::new(MAX_ORGS),
            mfa_required: Cache::new(MAX_ORGS),
            generation: Generation::default(),
            lookups: Default::default(),
        }
    }
}

impl GrantCache {
    /// Each of the caches' hits and misses so far, by name.
    pub fn lookups(&self) -> impl Iterator<Item = (&'static str, LookupCounts)> + '_ {
        LOOKUP_NAMES.into_iter().zip(self.lookups.iter().map(Lookups::snapshot))
    }

    /// Read before a database lookup whose result will be passed to a `fill_*`.
    pub fn generation(&self) -> u64 {
        self.generation.current()
    }

    pub fn member_grant(&self, org: OrgId, user: UserId) -> Option<MemberGrant> {
        let stamped = self.members.get(&(org, user));
        let current = stamped.filter(|s| self.orgs.holds(s.org) && self.users.holds(s.user)).map(|s| s.grant);
        self.lookups[MEMBERS].count(current)
    }

    pub fn fill_member_grant(&self, org: OrgId, user: UserId, grant: MemberGrant, seen: u64) {
        let stamped = StampedGrant { grant, org: self.orgs.stamp(org), user: self.users.stamp(user) };
        self.members.insert((org, user), stamped);
        if self.generation.moved_since(seen) {
            self.members.remove(&(org, user));
        }
    }

    pub fn custom_roles(&self, org: OrgId) -> Option<Arc<Vec<Role>>> {
        self.lookups[CUSTOM_ROLES].count(self.custom_roles.get(&org))
    }

    pub fn fill_custom_roles(&self, org: OrgId, roles: Arc<Vec<Role>>, seen: u64) {
        self.custom_roles.insert(org, roles);
        if self.generation.moved_since(seen) {
            self.custom_roles.remove(&org);
        }
    }

    pub fn slug(&self, slug: &str) -> Option<OrgId> {
        self.lookups[SLUGS].count(self.slugs.get(slug))
    }

    /// A slug names one org until that org is deleted; the generation check keeps a fill that
    /// raced the deletion from outliving it.
    pub fn fill_slug(&self, slug: &str, org: OrgId, seen: u64) {
        self.slugs.insert(slug.to_owned(), org);
        if self.generation.moved_since(seen) {
            self.slugs.remove(slug);
        }
    }

    pub fn teams(&self, org: OrgId) -> Option<OrgTeams> {
        self.lookups[TEAMS].count(self.teams.get(&org))
    }

    pub fn fill_teams(&self, org: OrgId, teams: OrgTeams, seen: u64) {
        self.teams.insert(org, teams);
        if self.generation.moved_since(seen) {
            self.teams.remove(&org);
        }
    }

    pub fn mfa_required(&self, org: OrgId) -> Option<bool> {
        self.lookups[MFA_REQUIRED].count(self.mfa_required.get(&org))
    }

    pub fn fill_mfa_required(&self, org: OrgId, required: bool, seen: u64) {
        self.mfa_required.insert(org, required);
        if self.generation.moved_since(seen) {
            self.mfa_required.remove(&org);
        }
    }

    /// The org's security settings changed: whether it requires MFA, and so its members' grants.
    pub fn forget_org_security(&self, org: OrgId) {
        self.generation.advance();
        self.mfa_required.remove(&org);
        self.orgs.forget(org);
    }

    /// After a membership of `user` in `org`, or one of their team memberships in it, was
    /// added, changed or removed.
    pub fn forget_member(&self, org: OrgId, user: UserId) {
        self.generation.advance();
        self.members.remove(&(org, user));
    }

    /// After a team of `org` was created, renamed or deleted (with its memberships): the org's
    /// teams, and its members' grants (which hold their team roles).
    pub fn forget_org_teams(&self, org: OrgId) {
        self.generation.advance();
        self.teams.remove(&org);
        self.orgs.forget(org);
    }

    /// After `user` was suspended or unsuspended: their standing in every org.
    pub fn forget_user(&self, user: UserId) {
        self.generation.advance();
        self.users.forget(user);
    }

    pub fn clear(&self) {
        self.generation.advance();
        self.members.clear();
        self.custom_roles.clear();
        self.teams.clear();
        self.mfa_required.clear();
    }

    /// After `org`'s custom roles changed (which may also have moved members between roles).
    pub fn forget_org_roles(&self, org: OrgId) {
        self.generation.advance();
        self.custom_roles.remove(&org);
        self.orgs.forget(org);
    }

    /// After `org` was deleted: every grant in it, its roles, and its slug (which a new org may
    /// take).
    pub fn forget_org(&self, org: OrgId, slug: &str) {
        self.forget_org_roles(org);
        self.forget_org_teams(org);
        self.forget_org_security(org);
        self.slugs.remove(slug);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(key: &str) -> MemberGrant {
        MemberGrant::Role(key.into(), None)
    }

    #[test]
    fn a_fill_that_read_before_an_invalidation_is_discarded() {
        let cache = GrantCache::default();
        let (org, user) = (OrgId::new(), UserId::new());
        // A lookup starts, the membership changes and is forgotten, then the lookup's stale
        // answer arrives.
        let seen = cache.generation();
        cache.forget_member(org, user);
        cache.fill_member_grant(org, user, role("admin"), seen);
        assert_eq!(cache.member_grant(org, user), None);

        let seen = cache.generation();
        cache.forget_org_roles(OrgId::new());
        cache.fill_custom_roles(org, Arc::new(Vec::new()), seen);
        assert!(cache.custom_roles(org).is_none());

        // Without a change in between, the answer is kept.
        let seen = cache.generation();
        cache.fill_member_grant(org, user, role("viewer"), seen);
        assert_eq!(cache.member_grant(org, user), Some(role("viewer")));
    }

    #[test]
    fn forgetting_an_orgs_roles_forgets_its_members_and_no_one_else() {
        let cache = GrantCache::default();
        let (org, user) = (OrgId::new(), UserId::new());
        let other = cache.orgs.apart_from(&org, OrgId::new);
        let seen = cache.generation();
        cache.fill_member_grant(org, user, role("support"), seen);
        cache.fill_member_grant(other, user, role("support"), seen);
        cache.fill_custom_roles(org, Arc::new(Vec::new()), seen);
        cache.forget_org_roles(org);
        assert_eq!(cache.member_grant(org, user), None);
        assert!(cache.custom_roles(org).is_none());
        assert_eq!(cache.member_grant(other, user), Some(role("support")));
    }

    #[test]
    fn a_team_change_forgets_the_orgs_teams_and_its_members_grants_and_no_one_elses() {
        let cache = GrantCache::default();
        let (org, user) = (OrgId::new(), UserId::new());
        let other = cache.orgs.apart_from(&org, OrgId::new);
        let place = TeamPlace { team: TeamId::new(), slug: "core".into(), role: "lead".into() };
        let roles: TeamRoles = Arc::from(vec![place]);
        let lead = MemberGrant::Role("viewer".into(), Some(roles));
        let seen = cache.generation();
        cache.fill_teams(org, Arc::from(Vec::new()), seen);
        cache.fill_member_grant(org, user, lead.clone(), seen);
        cache.fill_member_grant(other, user, lead.clone(), seen);
        cache.forget_org_teams(org);
        assert!(cache.teams(org).is_none());
        assert_eq!(cache.member_grant(org, user), None);
        assert_eq!(cache.member_grant(other, user), Some(lead));
    }

    #[test]
    fn forgetting_a_user_forgets_them_in_every_org_and_no_one_else() {
        let cache = GrantCache::default();
        let (org, other, user) = (OrgId::new(), OrgId::new(), UserId::new());
        let someone = cache.users.apart_from(&user, UserId::new);
        let seen = cache.generation();
        cache.fill_member_grant(org, user, role("admin"), seen);
        cache.fill_member_grant(other, user, role("viewer"), seen);
        cache.fill_member_grant(org, someone, role("viewer"), seen);
        cache.forget_user(user);
        assert_eq!(cache.member_grant(org, user), None);
        assert_eq!(cache.member_grant(other, user), None);
        assert_eq!(cache.member_grant(org, someone), Some(role("viewer")));
    }
}
