use crate::authorize::schema_of;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::borrow::Cow;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// What to change of a member: a role, a status, or both (at least one). Its schema is written out
/// below: the derived one cannot say "at least one".
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ChangeMemberBody {
    /// A built-in role of the preset or one of the org's custom roles (`members.change_role`).
    pub role: Option<String>,
    /// `suspended` keeps the seat but refuses the member everywhere in the org until set back to
    /// `active` (`members.remove`).
    pub status: Option<MemberStatusField>,
}

// `role`, `status` or both: a `oneOf` of "role given" and "no role, status given".
impl PartialSchema for ChangeMemberBody {
    fn schema() -> RefOr<Schema> {
        let role = json!({
            "type": "string",
            "description": "A built-in role of the preset or one of the org's custom roles (`members.change_role`).",
            "example": "admin"
        });
        let status = json!({
            "$ref": "#/components/schemas/MemberStatusField",
            "description": "`suspended` keeps the seat but refuses the member everywhere in the org until set back to `active` (`members.remove`)."
        });
        schema_of(json!({
            "type": "object",
            "description": "What to change of a member: a role, a status, or both (at least one).",
            "properties": {
                "role": { "type": ["string", "null"], "description": role["description"], "example": "admin" },
                "status": { "oneOf": [{ "type": "null" }, status.clone()] }
            },
            "additionalProperties": false,
            "oneOf": [
                {
                    "type": "object",
                    "required": ["role"],
                    "properties": { "role": role, "status": { "oneOf": [{ "type": "null" }, status.clone()] } },
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "required": ["status"],
                    "properties": { "role": { "type": "null" }, "status": status },
                    "additionalProperties": false
                }
            ]
        }))
    }
}

impl ToSchema for ChangeMemberBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ChangeMemberBody")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((MemberStatusField::name().into(), MemberStatusField::schema()));
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatusField {
    Active,
    Suspended,
}

// Conversions from the core's records, for the server.
#[cfg(feature = "core")]
mod from_core {
    use super::*;

    use tenantry_core::domain::models::MemberStatus;

    impl From<MemberStatusField> for MemberStatus {
        fn from(status: MemberStatusField) -> Self {
            match status {
                MemberStatusField::Active => Self::Active,
                MemberStatusField::Suspended => Self::Suspended,
            }
        }
    }
}
