//! Writing audit events. Every change calls `record` inside its own transaction, so the change
//! and its event commit together or not at all.

use serde_json::Value;

use super::{RequestMeta, Tenantry};
use crate::domain::audit::{chain_hash, Actor, AuditEvent, Target};
use crate::domain::ids::{EventId, OrgId};
use crate::store::Tx;
use crate::Result;

/// What a change says about itself.
pub struct Change<'a> {
    pub org: Option<OrgId>,
    pub actor: Actor,
    pub action: &'static str,
    pub target: Target,
    pub meta: &'a RequestMeta,
    pub metadata: Value,
}

impl Tenantry {
    pub(crate) async fn record(&self, tx: &mut dyn Tx, change: Change<'_>) -> Result<()> {
        let event = AuditEvent {
            id: EventId::new(),
            org_id: change.org,
            actor: change.actor,
            action: change.action.to_owned(),
            target: change.target,
            occurred_at: self.clock.now(),
            ip: change.meta.ip.clone(),
            user_agent: change.meta.user_agent.clone(),
            metadata: change.metadata,
        };
        let previous = tx.last_audit_hash(change.org).await?.unwrap_or_default();
        let hash = chain_hash(&previous, &event);
        tx.insert_audit(&event, &previous, &hash).await?;
        Ok(())
    }
}
