//! The owner of an org, changed only conditionally on who owns it now.

use async_trait::async_trait;
use tenantry_core::domain::ids::{OrgId, UserId};
use tenantry_core::store::{OwnershipTx, StoreResult};

use super::SqliteTx;
use crate::db_err;

#[async_trait]
impl OwnershipTx for SqliteTx {
    async fn set_owner(&mut self, org: OrgId, from: UserId, to: UserId) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE orgs SET owner_id = ? WHERE id = ? AND owner_id = ?")
            .bind(to.to_string())
            .bind(org.to_string())
            .bind(from.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }
}
