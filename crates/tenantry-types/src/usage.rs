use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct MeterBody {
    /// Gauges (`endpoints`): positive to add, negative to remove. Monthly counters (`requests`):
    /// positive only.
    #[schema(example = 1, minimum = -1000000000, maximum = 1000000000)]
    #[serde(deserialize_with = "crate::whole::number")]
    pub delta: i64,
}
