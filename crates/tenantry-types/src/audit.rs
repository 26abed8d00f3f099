use crate::views::TypedRef;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostEventBody {
    /// Who did it, in the host app's terms.
    pub actor: TypedRef,
    /// Dotted lowercase words (`^[a-z_]+(\.[a-z_]+)+$`), outside Tenantry's own namespaces
    /// (`org.`, `member.`, `role.`, …).
    #[schema(example = "deploy.created")]
    pub action: String,
    pub target: TypedRef,
    /// A JSON object of at most 16 KiB.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// When it happened; now when absent. At most five minutes ahead of the server's clock.
    pub occurred_at: Option<DateTime<Utc>>,
}
