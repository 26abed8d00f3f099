use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct HostEventBody {
    /// Who did it, in the host app's terms.
    pub actor: HostRefBody,
    /// Dotted lowercase words (`^[a-z_]+(\.[a-z_]+)+$`), at most 200 characters, outside
    /// Tenantry's own namespaces (`org.`, `member.`, `role.`, …).
    #[schema(
        example = "deploy.created",
        max_length = 200,
        pattern = "^(?!(?:api_key|audit|auth|invitation|member|org|role|security|session|usage|user)\\.)[a-z_]+(\\.[a-z_]+)+$"
    )]
    pub action: String,
    pub target: HostRefBody,
    /// A JSON object of at most 16 KiB.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// When it happened; now when absent. At most five minutes ahead of the server's clock.
    pub occurred_at: Option<DateTime<Utc>>,
}

/// Who acted, or what was acted on, in a host app's event: `{type, id}`, each 1 to 200 characters
/// and not blank.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct HostRefBody {
    #[serde(rename = "type")]
    #[schema(example = "user", min_length = 1, max_length = 200, pattern = "\\S")]
    pub kind: String,
    #[schema(example = "usr_42", min_length = 1, max_length = 200, pattern = "\\S")]
    pub id: String,
}
