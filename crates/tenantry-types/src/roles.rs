use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleBody {
    /// 2–32 lowercase letters, digits or underscores, starting with a letter; unique in the org.
    #[schema(example = "support", min_length = 2, max_length = 32, pattern = "^[a-z][a-z0-9_]{1,31}$")]
    pub key: String,
    /// 1 to 64 characters once trimmed, without control characters.
    #[schema(
        example = "Support",
        min_length = 1,
        max_length = 64,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: String,
    /// Permissions from the catalog, none beyond your own.
    #[schema(example = json!(["endpoints.view", "requests.replay"]))]
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoleBody {
    /// 1 to 64 characters once trimmed, without control characters.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: Option<String>,
    /// Replaces the role's permissions.
    pub permissions: Option<Vec<String>>,
}
