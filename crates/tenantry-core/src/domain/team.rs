//! Teams: sub-groups of one org's members, each member holding one team role per team.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::email::Email;
use super::ids::{OrgId, TeamId, UserId};
use super::permission::PermissionSet;
use super::slug::Slug;

/// The team-only permission of a team role: manage this team's details and members. It is not
/// in the org's catalog, so no org role or API key can hold it.
pub const TEAM_MANAGE: &str = "team.manage";

#[derive(Debug, Clone)]
pub struct Team {
    pub id: TeamId,
    pub org_id: OrgId,
    /// Unique within the org.
    pub slug: Slug,
    pub name: String,
    pub description: String,
    /// Always a JSON object.
    pub metadata: Value,
    pub created_at: DateTime<Utc>,
    /// Counted when the team is read.
    pub member_count: u64,
}

/// One member's place in a team. Every team member is a member of the team's org.
#[derive(Debug, Clone)]
pub struct TeamMembership {
    pub org_id: OrgId,
    pub team_id: TeamId,
    pub user_id: UserId,
    pub role: String,
    pub joined_at: DateTime<Utc>,
}

/// A team membership with the member's public profile, as team member lists show it.
#[derive(Debug, Clone)]
pub struct TeamMember {
    pub membership: TeamMembership,
    pub email: Email,
    pub display_name: String,
}

/// A role inside a team, from the preset's `[[team_roles]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamRole {
    pub key: String,
    pub name: String,
    /// Permissions of the org's catalog this role grants inside its team.
    pub permissions: PermissionSet,
    /// Whether it holds `team.manage`.
    pub manages_team: bool,
}

/// One of a member's teams, as checks naming a team need it: the team (by id and slug) and the
/// member's team role there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamPlace {
    pub team: TeamId,
    pub slug: String,
    pub role: String,
}

/// A member's teams in one org, as the authorize cache keeps them.
pub type TeamRoles = std::sync::Arc<[TeamPlace]>;
