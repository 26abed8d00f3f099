use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgBody {
    /// 1 to 100 characters once trimmed, without control characters.
    #[schema(
        example = "Acme, Inc.",
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: String,
    /// Lowercase letters, digits and single hyphens, 3–48 characters, not a reserved word;
    /// derived from the name when absent. Cannot be changed later.
    #[schema(
        example = "acme",
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
pub struct UpdateOrgBody {
    /// 1 to 100 characters once trimmed, without control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: Option<String>,
    /// Replaces the whole metadata object.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Refused: slugs are immutable. Present so the refusal can say so; only `null` (the same
    /// as leaving it out) is accepted.
    #[schema(schema_with = null_only)]
    pub slug: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DeleteOrgBody {
    /// The org's slug, typed again to confirm.
    #[schema(example = "acme")]
    pub confirm_slug: String,
}

/// The schema of a field only `null` may fill.
fn null_only() -> Object {
    ObjectBuilder::new().schema_type(Type::Null).build()
}
