//! Custom roles, defined per org.

use async_trait::async_trait;

use super::{MaybeStale, Stale, StoreResult};
use crate::domain::ids::OrgId;
use crate::domain::models::CustomRole;

/// The reads of this capability, open to read handles (`Store::read`).
#[async_trait]
pub trait RolesRead: Send {
    /// The org's custom roles, oldest first.
    async fn custom_roles(&mut self, org: OrgId) -> StoreResult<Vec<CustomRole>>;
}

/// The writes of this capability, only in write transactions (`Store::write`).
#[async_trait]
pub trait RolesTx: RolesRead {
    async fn insert_custom_role(&mut self, role: &CustomRole) -> StoreResult<Stale>;
    /// Writes `name` and `permissions` of the role with `role.key` in `role.org_id`.
    async fn update_custom_role(&mut self, role: &CustomRole) -> StoreResult<Stale>;
    async fn delete_custom_role(&mut self, org: OrgId, key: &str) -> StoreResult<MaybeStale>;
}
