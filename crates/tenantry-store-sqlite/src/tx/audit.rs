//! Appending to the audit log.

use async_trait::async_trait;
use tenantry_core::domain::audit::AuditEvent;
use tenantry_core::domain::ids::OrgId;
use tenantry_core::store::{AuditTx, StoreResult};

use crate::rows::ms;

use super::SqlTx;
use crate::db_err;

#[async_trait]
impl AuditTx for SqlTx {
    async fn last_audit_hash(&mut self, org: Option<OrgId>) -> StoreResult<Option<String>> {
        // Held until commit: the next append to this chain waits for this one.
        self.lock_audit_chain(org).await?;
        let sql = "SELECT hash FROM audit_events WHERE org_id IS NOT DISTINCT FROM $1 ORDER BY seq DESC LIMIT 1";
        let query = sqlx::query_scalar(sql).bind(org.map(|o| o.to_string()));
        match org {
            Some(org) => query.fetch_optional(self.in_org(org).await?).await.map_err(db_err),
            None => {
                // The instance chain belongs to no org.
                self.all_orgs(true).await?;
                let hash = query.fetch_optional(self.conn()).await.map_err(db_err)?;
                self.all_orgs(false).await?;
                Ok(hash)
            }
        }
    }

    async fn insert_audit(&mut self, event: &AuditEvent, prev_hash: &str, hash: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_events (id, org_id, actor_type, actor_id, action, target_type, target_id, occurred_at, ip, user_agent, metadata, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
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
        .execute(match event.org_id {
            Some(org) => self.in_org(org).await?,
            None => self.conn(),
        })
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
