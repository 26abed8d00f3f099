use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    #[schema(example = "grace@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// A role of the org; the preset's default invitation role when absent.
    #[schema(example = "developer")]
    pub role: Option<String>,
    /// Teams of the org the invitee joins (`team_…`), at most 50.
    #[serde(default)]
    #[schema(schema_with = team_ids)]
    pub team_ids: Vec<String>,
    /// Lifetime in seconds: default 604800 (7 days), at most 2592000 (30 days).
    #[schema(example = 604800, minimum = 1, maximum = 2592000)]
    #[serde(default, deserialize_with = "crate::whole::optional")]
    pub expires_in: Option<u64>,
}

/// Up to 50 team ids (`team_…`).
fn team_ids() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let id = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^team_[0-7][0-9A-HJKMNP-TV-Z]{25}$"))
        .examples(["team_01HX2Z8Q6Y3V4W5T6R7S8P9N0M"]);
    ArrayBuilder::new()
        .items(id)
        .max_items(Some(50))
        .description(Some("Teams of the org the invitee joins (`team_…`), at most 50."))
        .build()
}
