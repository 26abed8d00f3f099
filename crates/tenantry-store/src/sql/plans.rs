//! An org's plan and billing customer.

use async_trait::async_trait;
use tenantry_core::domain::ids::OrgId;
use tenantry_core::store::{CacheChange, MaybeStale, PlansRead, PlansTx, Stale, StoreResult};

use super::SqlTx;
use crate::db_err;

impl PlansRead for SqlTx {}

#[async_trait]
impl PlansTx for SqlTx {
    async fn set_org_plan(&mut self, org: OrgId, plan: &str) -> StoreResult<MaybeStale> {
        let done = sqlx::query("UPDATE orgs SET plan = $1 WHERE id = $2")
            .bind(plan)
            .bind(org.to_string())
            .execute(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        Ok((done.rows_affected() == 1).then(|| Stale::new(CacheChange::OrgPlan { org })).into())
    }

    async fn set_billing_customer(&mut self, org: OrgId, customer: Option<&str>) -> StoreResult<MaybeStale> {
        let done = sqlx::query("UPDATE orgs SET billing_customer_id = $1 WHERE id = $2")
            .bind(customer)
            .bind(org.to_string())
            .execute(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        Ok((done.rows_affected() == 1).then(|| Stale::new(CacheChange::Org { org })).into())
    }
}
