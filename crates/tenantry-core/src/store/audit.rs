//! The append-only audit log: appending to a chain, querying, and walking chains to verify them.

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::audit::{AuditFilter, AuditRecord, Chain, ChainedRecord};

/// The reads of this capability, open to read handles (`Store::read`).
#[async_trait]
pub trait AuditRead: Send {
    /// The hash of the newest event of `chain`, locking the chain until the transaction ends so
    /// appends to it happen one after another.
    async fn last_audit_hash(&mut self, chain: Chain) -> StoreResult<Option<String>>;
    /// Events of `chain` matching `filter`, newest first, older than `before_seq` when given.
    async fn audit_events(
        &mut self,
        chain: Chain,
        filter: &AuditFilter,
        before_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<ChainedRecord>>;
    /// Every chain that has events.
    async fn audit_chains(&mut self) -> StoreResult<Vec<Chain>>;
    /// Events of `chain` in chain order, after `after_seq`.
    async fn audit_chain_rows(&mut self, chain: Chain, after_seq: i64, limit: u32) -> StoreResult<Vec<ChainedRecord>>;
}

/// The writes of this capability, only in write transactions (`Store::write`).
#[async_trait]
pub trait AuditTx: AuditRead {
    /// Appends `record` after the chain link `prev_hash` (empty for a chain's first event);
    /// returns its place in the log.
    async fn insert_audit(&mut self, record: &AuditRecord, prev_hash: &str, hash: &str) -> StoreResult<i64>;
}
