use serde::{Deserialize, Serialize};
use serde_json::json;
use std::borrow::Cow;
use tenantry_ids::{ApiKeyId, UserId};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// Who a check is about: a user (through their membership) or an API key (through its scopes),
/// exactly one of the two. (Its schema is written out below: the derived one cannot say "exactly
/// one".)
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SubjectBody {
    pub user_id: Option<UserId>,
    pub key_id: Option<ApiKeyId>,
}

/// One check: a subject, an org, and `permission` or `permissions` (exactly one of the two).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    pub subject: SubjectBody,
    /// The org, by id or slug.
    pub org: String,
    /// A team of the org, by id or slug: the subject's team role there counts too.
    pub team: Option<String>,
    /// One permission …
    pub permission: Option<String>,
    /// … or several, all of which must be held.
    pub permissions: Option<Vec<String>>,
}

/// One check (`subject`, `org`, `permission` or `permissions`), or a batch of 1 to 100 under
/// `checks`. One flat shape for serde, so a bad field is named exactly; its schema states the two
/// alternatives the server takes.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeBody {
    pub checks: Option<Vec<CheckBody>>,
    pub subject: Option<SubjectBody>,
    pub org: Option<String>,
    /// A team of the org, by id or slug: the subject's team role there counts too.
    pub team: Option<String>,
    pub permission: Option<String>,
    pub permissions: Option<Vec<String>>,
}

// The request schemas, written as JSON Schema. "Exactly one of" is a `oneOf` whose branches list
// every field: the one chosen as required and non-null, the others as `null` when present (serde
// reads `null` as absent).

const USER_ID_PATTERN: &str = "^usr_[0-7][0-9A-HJKMNP-TV-Z]{25}$";
const KEY_ID_PATTERN: &str = "^key_[0-7][0-9A-HJKMNP-TV-Z]{25}$";

/// A schema written as JSON.
pub(crate) fn schema_of(value: serde_json::Value) -> RefOr<Schema> {
    RefOr::T(serde_json::from_value(value).expect("a valid schema object"))
}

/// One check, with `permission` (`many` false) or `permissions`; `batch_field` adds `checks` as
/// `null`, for a single check at the top level.
fn check_branch(many: bool, batch_field: bool) -> serde_json::Value {
    let absent = json!({ "type": "null" });
    let permission =
        json!({ "type": "string", "description": "The permission to check.", "example": "endpoints.create" });
    let permissions = json!({
        "type": "array",
        "items": { "type": "string" },
        "minItems": 1,
        "description": "Several permissions, all of which must be held."
    });
    let mut properties = json!({
        "subject": { "$ref": "#/components/schemas/SubjectBody" },
        "org": { "type": "string", "description": "The org, by id or slug.", "example": "acme" },
        "team": {
            "type": ["string", "null"],
            "description": "A team of the org, by id or slug: the subject's team role there counts too.",
            "example": "platform"
        },
        "permission": if many { absent.clone() } else { permission },
        "permissions": if many { permissions } else { absent.clone() },
    });
    if batch_field {
        properties["checks"] = absent;
    }
    json!({
        "type": "object",
        "required": ["subject", "org", if many { "permissions" } else { "permission" }],
        "properties": properties,
        "additionalProperties": false
    })
}

fn subject_branch(chosen: &str, other: &str, pattern: &str, example: &str) -> serde_json::Value {
    json!({
        "type": "object",
        "required": [chosen],
        "properties": {
            chosen: { "type": "string", "pattern": pattern, "example": example },
            other: { "type": "null" }
        },
        "additionalProperties": false
    })
}

impl PartialSchema for SubjectBody {
    fn schema() -> RefOr<Schema> {
        schema_of(json!({
            "description": "Who a check is about: a user (through their membership) or an API key (through its scopes), exactly one of the two.",
            "oneOf": [
                subject_branch("user_id", "key_id", USER_ID_PATTERN, "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M"),
                subject_branch("key_id", "user_id", KEY_ID_PATTERN, "key_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")
            ]
        }))
    }
}

impl ToSchema for SubjectBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SubjectBody")
    }
}

impl PartialSchema for CheckBody {
    fn schema() -> RefOr<Schema> {
        schema_of(json!({
            "description": "One check: a subject, an org, and `permission` or `permissions`.",
            "oneOf": [check_branch(false, false), check_branch(true, false)]
        }))
    }
}

impl ToSchema for CheckBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CheckBody")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((SubjectBody::name().into(), SubjectBody::schema()));
    }
}

impl PartialSchema for AuthorizeBody {
    fn schema() -> RefOr<Schema> {
        let absent = json!({ "type": "null" });
        let batch = json!({
            "type": "object",
            "required": ["checks"],
            "properties": {
                "checks": {
                    "type": "array",
                    "items": { "$ref": "#/components/schemas/CheckBody" },
                    "minItems": 1,
                    "maxItems": 100,
                    "description": "Each check is answered in order."
                },
                "subject": absent, "org": absent, "team": absent, "permission": absent, "permissions": absent
            },
            "additionalProperties": false
        });
        schema_of(json!({
            "description": "One check (with `permission` or `permissions`), or a batch of 1 to 100 under `checks`.",
            "oneOf": [check_branch(false, true), check_branch(true, true), batch]
        }))
    }
}

impl ToSchema for AuthorizeBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("AuthorizeBody")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((CheckBody::name().into(), CheckBody::schema()));
        <CheckBody as ToSchema>::schemas(schemas);
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DecisionView {
    pub allowed: bool,
    /// The role (or key) and the permission that decided, e.g. "role `viewer` lacks endpoints.delete".
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AuthorizeAnswer {
    Single(DecisionView),
    Batch(Vec<DecisionView>),
}
