use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyBody {
    /// 1 to 100 characters once trimmed, without control characters.
    #[schema(
        example = "CI pipeline",
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: String,
    /// Catalog permissions, or `resource.*` or a bare `resource` for all of a resource; none beyond
    /// your own.
    #[schema(example = json!(["endpoints.*", "requests.replay"]), min_items = 1)]
    pub scopes: Vec<String>,
    /// When the key stops working; must be in the future. Never, when absent.
    pub expires_at: Option<DateTime<Utc>>,
    /// One of the preset's key prefixes (e.g. `tn_test_`); the first one when absent.
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollKeyBody {
    /// Seconds the old key keeps working (0 to 30 days); it stops at once when absent.
    #[schema(minimum = 0, maximum = 2592000, example = 3600)]
    #[serde(default, deserialize_with = "crate::whole::optional")]
    pub old_expires_in: Option<i64>,
}
