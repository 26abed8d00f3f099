use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgBody {
    #[schema(example = "Acme, Inc.")]
    pub name: String,
    /// Lowercase letters, digits and hyphens, 3–48 characters; derived from the name when absent.
    /// Cannot be changed later.
    #[schema(example = "acme")]
    pub slug: Option<String>,
    /// A JSON object of at most 8 KiB.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrgBody {
    pub name: Option<String>,
    /// Replaces the whole metadata object.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Refused: slugs are immutable. Present so the refusal can say so.
    #[schema(value_type = Option<String>)]
    pub slug: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteOrgBody {
    /// The org's slug, typed again to confirm.
    #[schema(example = "acme")]
    pub confirm_slug: String,
}
