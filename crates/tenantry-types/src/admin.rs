use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AdminCreateOrgBody {
    /// The user who owns the new org.
    #[schema(example = "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M", pattern = "^usr_[0-7][0-9A-HJKMNP-TV-Z]{25}$")]
    pub owner_id: String,
    /// 1 to 100 characters once trimmed, without control characters.
    #[schema(
        example = "Engineering",
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: String,
    /// Lowercase letters, digits and single hyphens, 3–48 characters, not a reserved word;
    /// derived from the name when absent.
    #[schema(
        example = "engineering",
        min_length = 3,
        max_length = 48,
        pattern = "^(?!(?:about|accept-invite|account|admin|administrator|api|app|apps|assets|auth|billing|blog|dashboard|docs|help|health|invitations|login|logout|me|new|null|oauth|openapi|org|orgs|organization|organizations|owner|personal|root|security|settings|signup|static|status|support|system|tenantry|undefined|user|users|v1|v2|www)$)(?=[a-z0-9-]{3,48}$)[a-z0-9]+(?:-[a-z0-9]+)*$"
    )]
    pub slug: Option<String>,
    /// A JSON object of at most 8 KiB.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AdminAddMemberBody {
    #[schema(example = "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M", pattern = "^usr_[0-7][0-9A-HJKMNP-TV-Z]{25}$")]
    pub user_id: String,
    /// Any role of the org but the owner's.
    #[schema(example = "admin")]
    pub role: String,
}
