//! Custom roles; permissions are stored as a JSON array of keys.

use async_trait::async_trait;
use tenantry_core::domain::ids::OrgId;
use tenantry_core::domain::models::CustomRole;
use tenantry_core::store::{CacheChange, MaybeStale, RolesRead, RolesTx, Stale, StoreResult};

use crate::rows::{self, ms};

use super::SqlTx;
use crate::db_err;

#[async_trait]
impl RolesRead for SqlTx {
    async fn custom_roles(&mut self, org: OrgId) -> StoreResult<Vec<CustomRole>> {
        let found = sqlx::query(
            "SELECT id, org_id, key, name, permissions, created_at FROM custom_roles WHERE org_id = $1 ORDER BY id",
        )
        .bind(org.to_string())
        .fetch_all(self.in_org(org).await?)
        .await
        .map_err(db_err)?;
        found.iter().map(rows::custom_role).collect()
    }
}

#[async_trait]
impl RolesTx for SqlTx {
    async fn insert_custom_role(&mut self, role: &CustomRole) -> StoreResult<Stale> {
        sqlx::query(
            "INSERT INTO custom_roles (id, org_id, key, name, permissions, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(role.id.to_string())
        .bind(role.org_id.to_string())
        .bind(&role.key)
        .bind(&role.name)
        .bind(rows::json_list(&role.permissions))
        .bind(ms(role.created_at))
        .execute(self.in_org(role.org_id).await?)
        .await
        .map_err(db_err)?;
        Ok(Stale::new(CacheChange::OrgRoles { org: role.org_id }))
    }

    async fn update_custom_role(&mut self, role: &CustomRole) -> StoreResult<Stale> {
        sqlx::query("UPDATE custom_roles SET name = $1, permissions = $2 WHERE org_id = $3 AND key = $4")
            .bind(&role.name)
            .bind(rows::json_list(&role.permissions))
            .bind(role.org_id.to_string())
            .bind(&role.key)
            .execute(self.in_org(role.org_id).await?)
            .await
            .map_err(db_err)?;
        Ok(Stale::new(CacheChange::OrgRoles { org: role.org_id }))
    }

    async fn delete_custom_role(&mut self, org: OrgId, key: &str) -> StoreResult<MaybeStale> {
        let done = sqlx::query("DELETE FROM custom_roles WHERE org_id = $1 AND key = $2")
            .bind(org.to_string())
            .bind(key)
            .execute(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        Ok((done.rows_affected() == 1).then(|| Stale::new(CacheChange::OrgRoles { org })).into())
    }
}
