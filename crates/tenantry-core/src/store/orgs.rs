//! Organizations and their memberships.

use async_trait::async_trait;

use super::{MaybeStale, Stale, StoreResult};
use crate::domain::ids::{OrgId, UserId};
use crate::domain::models::{Member, MemberStatus, Membership, Org, OrgWithRole};
use crate::domain::pagination::PageRequest;
use crate::domain::slug::Slug;

/// The reads of this capability, open to read handles (`Store::read`).
#[async_trait]
pub trait OrgsRead: Send {
    async fn org(&mut self, id: OrgId) -> StoreResult<Option<Org>>;
    async fn org_by_slug(&mut self, slug: &str) -> StoreResult<Option<Org>>;
    /// The user's orgs with their role, oldest membership first (keyed by membership id); all of
    /// them when `page` is `None`.
    async fn orgs_of_user(&mut self, user: UserId, page: Option<&PageRequest>) -> StoreResult<Vec<OrgWithRole>>;
    async fn slug_exists(&mut self, slug: &Slug) -> StoreResult<bool>;
    /// How many orgs the user is a member of.
    async fn count_orgs_of_user(&mut self, user: UserId) -> StoreResult<u64>;
    async fn membership(&mut self, org: OrgId, user: UserId) -> StoreResult<Option<Membership>>;
    /// Members of an org by membership id (join order), after the page's cursor.
    async fn list_members(&mut self, org: OrgId, page: &PageRequest) -> StoreResult<Vec<Member>>;
    async fn member(&mut self, org: OrgId, user: UserId) -> StoreResult<Option<Member>>;
    /// Members whose email or display name contains `query` (ignoring ASCII case), in join
    /// order after the page's cursor.
    async fn search_members(&mut self, org: OrgId, query: &str, page: &PageRequest) -> StoreResult<Vec<Member>>;
    async fn count_members_with_role(&mut self, org: OrgId, role: &str) -> StoreResult<u64>;
}

/// The writes of this capability, only in write transactions (`Store::write`).
#[async_trait]
pub trait OrgsTx: OrgsRead {
    async fn insert_org(&mut self, org: &Org) -> StoreResult<()>;
    /// Writes `name` and `metadata`; nothing else of an org changes through this call.
    async fn update_org_profile(&mut self, org: &Org) -> StoreResult<Stale>;
    /// Deletes the org; everything scoped to it (memberships, roles, invitations, keys, usage,
    /// settings) goes with it. `None` when there is no such org.
    async fn delete_org(&mut self, org: OrgId) -> StoreResult<MaybeStale>;
    /// Inserts the membership and counts the seat.
    async fn insert_membership(&mut self, membership: &Membership) -> StoreResult<Stale>;
    /// Sets the role of an existing membership; `None` when there is none.
    async fn set_member_role(&mut self, org: OrgId, user: UserId, role: &str) -> StoreResult<MaybeStale>;
    /// Sets the status of an existing membership; `None` when there is none.
    async fn set_member_status(&mut self, org: OrgId, user: UserId, status: MemberStatus) -> StoreResult<MaybeStale>;
    /// Deletes the membership and frees the seat; `None` when there is none.
    async fn delete_membership(&mut self, org: OrgId, user: UserId) -> StoreResult<MaybeStale>;
    /// Moves every member holding `from` to `to`, returning how many moved.
    async fn reassign_role(&mut self, org: OrgId, from: &str, to: &str) -> StoreResult<(u64, Stale)>;
}
