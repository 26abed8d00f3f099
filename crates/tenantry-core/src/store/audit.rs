//! The append-only audit log.

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::audit::AuditEvent;
use crate::domain::ids::OrgId;

#[async_trait]
pub trait AuditTx: Send {
    /// The hash of the newest event of `org`'s chain (`None`: the instance chain).
    async fn last_audit_hash(&mut self, org: Option<OrgId>) -> StoreResult<Option<String>>;
    /// Appends `event` after the chain link `prev_hash` (empty for a chain's first event).
    async fn insert_audit(&mut self, event: &AuditEvent, prev_hash: &str, hash: &str) -> StoreResult<()>;
}
