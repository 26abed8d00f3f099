use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminCreateOrgBody {
    /// The user who owns the new org.
    #[schema(example = "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub owner_id: String,
    #[schema(example = "Engineering")]
    pub name: String,
    /// Derived from the name when absent.
    #[schema(example = "engineering")]
    pub slug: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminAddMemberBody {
    #[schema(example = "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub user_id: String,
    /// Any role of the org but the owner's.
    #[schema(example = "admin")]
    pub role: String,
}
