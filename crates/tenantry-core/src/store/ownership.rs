//! Who owns an org.

use async_trait::async_trait;

use super::{MaybeStale, StoreResult};
use crate::domain::ids::{OrgId, UserId};

/// The reads of this capability (none).
pub trait OwnershipRead: Send {}

#[async_trait]
pub trait OwnershipTx: OwnershipRead {
    /// Makes `to` the org's owner if `from` still is; `None` when someone else owns it by now.
    async fn set_owner(&mut self, org: OrgId, from: UserId, to: UserId) -> StoreResult<MaybeStale>;
}
