//! An org's plan and its payment provider's customer id.

use async_trait::async_trait;

use super::{MaybeStale, StoreResult};
use crate::domain::ids::OrgId;

/// The reads of this capability (none).
pub trait PlansRead: Send {}

#[async_trait]
pub trait PlansTx: PlansRead {
    /// Sets the org's plan; `None` when there is no such org.
    async fn set_org_plan(&mut self, org: OrgId, plan: &str) -> StoreResult<MaybeStale>;
    /// Sets (or, with `None`, clears) the org's billing customer id; `None` when there is no such org.
    async fn set_billing_customer(&mut self, org: OrgId, customer: Option<&str>) -> StoreResult<MaybeStale>;
}
