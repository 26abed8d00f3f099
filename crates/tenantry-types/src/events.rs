use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// One event: `data` is the object after the change (never a secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    #[schema(example = "evt_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub id: String,
    #[serde(rename = "type")]
    #[schema(example = "member.added")]
    pub event_type: String,
    pub occurred_at: String,
    pub org_id: Option<String>,
    #[schema(value_type = Object)]
    pub data: Value,
}
