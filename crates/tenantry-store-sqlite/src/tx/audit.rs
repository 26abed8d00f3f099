//! Appending to the audit log.

use async_trait::async_trait;
use tenantry_core::domain::audit::AuditEvent;
use tenantry_core::domain::ids::OrgId;
use tenantry_core::store::{AuditTx, StoreResult};

use crate::rows::ms;

use super::SqliteTx;
use crate::db_err;

#[async_trait]
impl AuditTx for SqliteTx {
    async fn last_audit_hash(&mut self, org: Option<OrgId>) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT hash FROM audit_events WHERE org_id IS ? ORDER BY seq DESC LIMIT 1")
            .bind(org.map(|o| o.to_string()))
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)
    }

    async fn insert_audit(&mut self, event: &AuditEvent, prev_hash: &str, hash: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_events (id, org_id, actor_type, actor_id, action, target_type, target_id, occurred_at, ip, user_agent, metadata, prev_hash, hash) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(event.id.to_string())
        .bind(event.org_id.map(|o| o.to_string()))
        .bind(&event.actor.kind)
        .bind(&event.actor.id)
        .bind(&event.action)
        .bind(&event.target.kind)
        .bind(&event.target.id)
        .bind(ms(event.occurred_at))
        .bind(&event.ip)
        .bind(&event.user_agent)
        .bind(event.metadata.to_string())
        .bind(prev_hash)
        .bind(hash)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
