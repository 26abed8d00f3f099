//! The pending invitations an org page lists, by org: every view of the members page shows
//! them, and reading them from the database on each view cost more than the rest of the page's
//! lookups together.
//!
//! An entry is exact until one of two things happens: an invitation of the org is created,
//! resent, revoked, accepted or declined (each such write hands `CacheChange::OrgInvitations` to
//! its unit of work, which forgets the org after the commit), or the first of the listed
//! invitations expires (pending is "not answered and not yet expired", so time alone moves the
//! list: an entry is served only before its earliest expiry). A fill that raced a change is
//! dropped (`Generation`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use quick_cache::sync::Cache;
use quick_cache::Weighter;

use super::generation::Generation;
use super::lookups::{LookupCounts, Lookups};
use crate::domain::ids::OrgId;
use crate::domain::invitation::Invitation;

/// Bytes of cached invitations at most (by an estimate of each invitation's size).
const MAX_BYTES: u64 = 32 * 1024 * 1024;
/// An invitation's size in memory, roughly: ids, email, role, team ids, inviter and token hash.
const INVITATION_BYTES: u64 = 400;
/// What an org with none pending weighs: its key and the entry's own bookkeeping.
const EMPTY_ENTRY_BYTES: u64 = 64;

struct Pending {
    invitations: Arc<[Invitation]>,
    /// The earliest expiry of the listed invitations: from then on the list is not the pending one.
    valid_until: Option<DateTime<Utc>>,
}

/// An org's entry weighs its invitations and its own bookkeeping.
#[derive(Clone)]
struct PendingWeight;

impl Weighter<OrgId, Arc<Pending>> for PendingWeight {
    fn weight(&self, _: &OrgId, pending: &Arc<Pending>) -> u64 {
        INVITATION_BYTES * pending.invitations.len() as u64 + EMPTY_ENTRY_BYTES
    }
}

pub struct PendingInvitationCache {
    orgs: Cache<OrgId, Arc<Pending>, PendingWeight>,
    generation: Generation,
    lookups: Lookups,
}

impl Default for PendingInvitationCache {
    fn default() -> Self {
        Self {
            // Most orgs list none or a few.
            orgs: Cache::with_weighter(
                (MAX_BYTES / (EMPTY_ENTRY_BYTES + INVITATION_BYTES)) as usize,
                MAX_BYTES,
                PendingWeight,
            ),
            generation: Generation::default(),
            lookups: Lookups::default(),
        }
    }
}

impl PendingInvitationCache {
    /// Read before the database read whose list will be passed to `fill`.
    pub fn generation(&self) -> u64 {
        self.generation.current()
    }

    /// The org's pending invitations as listed at some earlier moment, if none has changed or
    /// expired since.
    pub fn get(&self, org: OrgId, now: DateTime<Utc>) -> Option<Arc<[Invitation]>> {
        let cached = self.orgs.get(&org).filter(|pending| pending.valid_until.is_none_or(|until| now < until));
        self.lookups.count(cached.map(|pending| pending.invitations.clone()))
    }

    /// Keeps the org's pending invitations as the database listed them, and hands them back.
    pub fn fill(&self, org: OrgId, invitations: Vec<Invitation>, seen: u64) -> Arc<[Invitation]> {
        let valid_until = invitations.iter().map(|i| i.expires_at).min();
        let invitations: Arc<[Invitation]> = invitations.into();
        self.orgs.insert(org, Arc::new(Pending { invitations: invitations.clone(), valid_until }));
        if self.generation.moved_since(seen) {
            self.orgs.remove(&org);
        }
        invitations
    }

    /// After an invitation of `org` was created or changed state, or the org was deleted.
    pub fn forget_org(&self, org: OrgId) {
        self.generation.advance();
        self.orgs.remove(&org);
    }

    pub fn clear(&self) {
        self.generation.advance();
        self.orgs.clear();
    }

    /// The cache's hits and misses so far (an expired list is a miss).
    pub fn lookups(&self) -> LookupCounts {
        self.lookups.snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::email::Email;
    use crate::domain::ids::InvitationId;
    use crate::domain::invitation::InvitationState;
    use chrono::Duration;

    fn invitation(org: OrgId, expires_at: DateTime<Utc>) -> Invitation {
        Invitation {
            id: InvitationId::new(),
            org_id: org,
            email: Email::from_trusted("invitee@example.com".into()),
            role: "member".into(),
            team_ids: Vec::new(),
            invited_by: "someone".into(),
            state: InvitationState::Pending,
            token_hash: "hash".into(),
            expires_at,
            created_at: expires_at - Duration::days(7),
            responded_at: None,
        }
    }

    #[test]
    fn a_list_is_served_until_its_org_changes() {
        let cache = PendingInvitationCache::default();
        let (org, other) = (OrgId::new(), OrgId::new());
        let now = DateTime::UNIX_EPOCH + Duration::days(1000);
        let seen = cache.generation();
        cache.fill(org, vec![invitation(org, now + Duration::days(1))], seen);
        cache.fill(other, Vec::new(), seen);
        assert_eq!(cache.get(org, now).map(|l| l.len()), Some(1));

        cache.forget_org(org);
        assert!(cache.get(org, now).is_none());
        assert_eq!(cache.get(other, now).map(|l| l.len()), Some(0), "other orgs keep theirs");
    }

    #[test]
    fn a_list_is_not_served_once_one_of_its_invitations_has_expired() {
        let cache = PendingInvitationCache::default();
        let org = OrgId::new();
        let now = DateTime::UNIX_EPOCH + Duration::days(1000);
        let soonest = now + Duration::hours(1);
        let seen = cache.generation();
        cache.fill(org, vec![invitation(org, now + Duration::days(3)), invitation(org, soonest)], seen);
        assert!(cache.get(org, soonest - Duration::seconds(1)).is_some());
        assert!(cache.get(org, soonest).is_none(), "at its expiry the invitation is no longer pending");
    }

    #[test]
    fn a_fill_read_before_a_change_is_never_served() {
        let cache = PendingInvitationCache::default();
        let org = OrgId::new();
        let now = DateTime::UNIX_EPOCH + Duration::days(1000);
        // A read starts, an invitation is revoked and the org forgotten, then the read's list
        // (from before the revocation) arrives.
        let seen = cache.generation();
        cache.forget_org(org);
        let listed = cache.fill(org, vec![invitation(org, now + Duration::days(1))], seen);
        assert_eq!(listed.len(), 1, "the reader itself is answered with what it read");
        assert!(cache.get(org, now).is_none());
    }
}
