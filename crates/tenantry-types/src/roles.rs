use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleBody {
    /// 2–32 lowercase letters, digits or underscores, starting with a letter; unique in the org.
    #[schema(example = "support")]
    pub key: String,
    #[schema(example = "Support")]
    pub name: String,
    /// Permissions from the catalog, none beyond your own.
    #[schema(example = json!(["endpoints.view", "requests.replay"]))]
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoleBody {
    pub name: Option<String>,
    /// Replaces the role's permissions.
    pub permissions: Option<Vec<String>>,
}
