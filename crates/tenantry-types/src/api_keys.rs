use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyBody {
    #[schema(example = "CI pipeline")]
    pub name: String,
    /// Catalog permissions, or `resource.*` or a bare `resource` for all of a resource; none beyond
    /// your own.
    #[schema(example = json!(["endpoints.*", "requests.replay"]))]
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// One of the preset's key prefixes (e.g. `tn_test_`); the first one when absent.
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollKeyBody {
    /// Seconds the old key keeps working (0 to 30 days); it stops at once when absent.
    pub old_expires_in: Option<i64>,
}
