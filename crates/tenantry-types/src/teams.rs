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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateTeamBody {
    /// 1 to 100 characters once trimmed, without control characters.
    #[schema(
        example = "Engineering",
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: String,
    /// Lowercase letters, digits and single hyphens, 3–48 characters, not a reserved word; unique
    /// within the org; derived from the name when absent.
    #[schema(
        example = "engineering",
        min_length = 3,
        max_length = 48,
        pattern = "^(?!(?:about|accept-invite|account|admin|administrator|api|app|apps|assets|auth|billing|blog|dashboard|docs|help|health|invitations|login|logout|me|new|null|oauth|openapi|org|orgs|organization|organizations|owner|personal|root|security|settings|signup|static|status|support|system|tenantry|undefined|user|users|v1|v2|www)$)(?=[a-z0-9-]{3,48}$)[a-z0-9]+(?:-[a-z0-9]+)*$"
    )]
    pub slug: Option<String>,
    /// At most 500 characters, without control characters but line breaks.
    #[schema(
        example = "The platform team",
        max_length = 500,
        pattern = "^[^\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f]*$"
    )]
    pub description: Option<String>,
    /// A JSON object of at most 8 KiB.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateTeamBody {
    /// 1 to 100 characters once trimmed, without control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: Option<String>,
    /// Lowercase letters, digits and single hyphens, 3–48 characters, not a reserved word.
    #[schema(
        min_length = 3,
        max_length = 48,
        pattern = "^(?!(?:about|accept-invite|account|admin|administrator|api|app|apps|assets|auth|billing|blog|dashboard|docs|help|health|invitations|login|logout|me|new|null|oauth|openapi|org|orgs|organization|organizations|owner|personal|root|security|settings|signup|static|status|support|system|tenantry|undefined|user|users|v1|v2|www)$)(?=[a-z0-9-]{3,48}$)[a-z0-9]+(?:-[a-z0-9]+)*$"
    )]
    pub slug: Option<String>,
    /// At most 500 characters, without control characters but line breaks.
    #[schema(max_length = 500, pattern = "^[^\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f]*$")]
    pub description: Option<String>,
    /// Replaces the whole metadata object.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AddTeamMemberBody {
    /// A member of the org.
    #[schema(value_type = String, example = "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M", pattern = "^usr_[0-7][0-9A-HJKMNP-TV-Z]{25}$")]
    pub user_id: UserId,
    /// A team role of the preset.
    #[schema(example = "member")]
    pub role: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
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
