use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeterBody {
    /// Gauges (`endpoints`): positive to add, negative to remove. Monthly counters (`requests`):
    /// positive only.
    #[schema(example = 1)]
    pub delta: i64,
}
