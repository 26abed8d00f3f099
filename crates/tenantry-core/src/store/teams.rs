//! Teams and team memberships. Every operation is scoped to one org: a team of another org is
//! never found.

use async_trait::async_trait;

use super::{MaybeStale, Stale, StoreResult};
use crate::domain::ids::{OrgId, TeamId, TeamRef, UserId};
use crate::domain::pagination::PageRequest;
use crate::domain::team::{Team, TeamMember, TeamMembership, TeamPlace};

/// The reads of this capability, open to read handles (`Store::read`).
#[async_trait]
pub trait TeamsRead: Send {
    /// The org's teams in creation order (keyed by id), after the page's cursor.
    async fn list_teams(&mut self, org: OrgId, page: &PageRequest) -> StoreResult<Vec<Team>>;
    async fn team(&mut self, org: OrgId, team: &TeamRef) -> StoreResult<Option<Team>>;
    /// Every team of the org as `(id, slug)`: what checks naming a team resolve against.
    async fn team_slugs(&mut self, org: OrgId) -> StoreResult<Vec<(TeamId, String)>>;
    async fn count_teams(&mut self, org: OrgId) -> StoreResult<u64>;
    /// A team's members in the order they joined it (keyed by user id), after the page's cursor.
    async fn list_team_members(&mut self, org: OrgId, team: TeamId, page: &PageRequest)
        -> StoreResult<Vec<TeamMember>>;
    async fn team_member(&mut self, org: OrgId, team: TeamId, user: UserId) -> StoreResult<Option<TeamMember>>;
    /// The user's teams in the org with their team role, by team id.
    async fn team_roles_of(&mut self, org: OrgId, user: UserId) -> StoreResult<Vec<TeamPlace>>;
}

/// The writes of this capability, only in write transactions (`Store::write`).
#[async_trait]
pub trait TeamsTx: TeamsRead {
    /// Refuses a slug the org already uses (`StoreError::Unique("teams.slug")`).
    async fn insert_team(&mut self, team: &Team) -> StoreResult<Stale>;
    /// Writes `slug`, `name`, `description` and `metadata`.
    async fn update_team(&mut self, team: &Team) -> StoreResult<Stale>;
    /// Deletes the team and its memberships.
    async fn delete_team(&mut self, org: OrgId, team: TeamId) -> StoreResult<MaybeStale>;
    async fn insert_team_member(&mut self, membership: &TeamMembership) -> StoreResult<Stale>;
    async fn set_team_member_role(
        &mut self,
        org: OrgId,
        team: TeamId,
        user: UserId,
        role: &str,
    ) -> StoreResult<MaybeStale>;
    async fn delete_team_member(&mut self, org: OrgId, team: TeamId, user: UserId) -> StoreResult<MaybeStale>;
}
