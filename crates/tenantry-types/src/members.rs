use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What to change of a member: a role, a status, or both (at least one).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeMemberBody {
    /// A built-in role of the preset or one of the org's custom roles (`members.change_role`).
    #[schema(example = "admin")]
    pub role: Option<String>,
    /// `suspended` keeps the seat but refuses the member everywhere in the org until set back to
    /// `active` (`members.remove`).
    pub status: Option<MemberStatusField>,
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
