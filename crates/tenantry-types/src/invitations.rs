use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    #[schema(example = "grace@example.com")]
    pub email: String,
    /// A role of the org; the preset's default invitation role when absent.
    #[schema(example = "developer")]
    pub role: Option<String>,
    /// Teams the invitee joins (`team_…`).
    #[serde(default)]
    pub team_ids: Vec<String>,
    /// Lifetime in seconds: default 604800 (7 days), at most 2592000 (30 days).
    #[schema(example = 604800)]
    pub expires_in: Option<u64>,
}
