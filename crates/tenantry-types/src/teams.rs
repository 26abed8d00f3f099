use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tenantry_ids::UserId;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TeamView {
    #[schema(example = "team_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub id: String,
    pub org_id: String,
    #[schema(example = "engineering")]
    pub slug: String,
    #[schema(example = "Engineering")]
    pub name: String,
    pub description: String,
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub created_at: DateTime<Utc>,
    pub member_count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TeamMemberView {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    /// A team role of the preset.
    #[schema(example = "lead")]
    pub role: String,
    pub joined_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeamBody {
    #[schema(example = "Engineering")]
    pub name: String,
    /// Unique within the org; derived from the name when absent.
    #[schema(example = "engineering")]
    pub slug: Option<String>,
    pub description: Option<String>,
    /// A JSON object of at most 8 KiB.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTeamBody {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<String>,
    /// Replaces the whole metadata object.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTeamMemberBody {
    /// A member of the org.
    #[schema(value_type = String, example = "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub user_id: UserId,
    /// A team role of the preset.
    #[schema(example = "member")]
    pub role: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamRoleBody {
    #[schema(example = "lead")]
    pub role: String,
}

// Conversions from the core's records, for the server.
#[cfg(feature = "core")]
mod from_core {
    use super::*;

    use tenantry_core::domain::team::{Team, TeamMember};

    impl From<&Team> for TeamView {
        fn from(team: &Team) -> Self {
            Self {
                id: team.id.to_string(),
                org_id: team.org_id.to_string(),
                slug: team.slug.to_string(),
                name: team.name.clone(),
                description: team.description.clone(),
                metadata: team.metadata.clone(),
                created_at: team.created_at,
                member_count: team.member_count,
            }
        }
    }

    impl From<&TeamMember> for TeamMemberView {
        fn from(member: &TeamMember) -> Self {
            Self {
                user_id: member.membership.user_id.to_string(),
                email: member.email.to_string(),
                display_name: member.display_name.clone(),
                role: member.membership.role.clone(),
                joined_at: member.membership.joined_at,
            }
        }
    }
}
