//! The owner of an org, changed only conditionally on who owns it now.

use async_trait::async_trait;
use tenantry_core::domain::ids::{OrgId, UserId};
use tenantry_core::store::{CacheChange, MaybeStale, OwnershipRead, OwnershipTx, Stale, StoreResult};

use super::SqlTx;
use crate::db_err;

impl OwnershipRead for SqlTx {}

#[async_trait]
impl OwnershipTx for SqlTx {
    async fn set_owner(&mut self, org: OrgId, from: UserId, to: UserId) -> StoreResult<MaybeStale> {
        let done = sqlx::query("UPDATE orgs SET owner_id = $1 WHERE id = $2 AND owner_id = $3")
            .bind(to.to_string())
            .bind(org.to_string())
            .bind(from.to_string())
            .execute(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        Ok((done.rows_affected() == 1).then(|| Stale::new(CacheChange::Org { org })).into())
    }
}
