use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// A member of the org (in some presets, one holding a given role, e.g. `admin`).
    #[schema(example = "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M", pattern = "^usr_[0-7][0-9A-HJKMNP-TV-Z]{25}$")]
    pub new_owner_user_id: String,
    /// The owner's own password, re-entered. Required of the owner; the instance admin names the
    /// new owner alone.
    pub current_password: Option<String>,
}
