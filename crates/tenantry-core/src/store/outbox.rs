//! The email outbox: every message is written here first and delivered afterwards.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::domain::ids::MessageId;
use crate::domain::models::OutboxMessage;
use crate::domain::pagination::PageRequest;

/// The reads of this capability, open to read handles (`Store::read`).
#[async_trait]
pub trait OutboxRead: Send {
    /// Newest first, by id.
    async fn list_outbox(&mut self, page: &PageRequest) -> StoreResult<Vec<OutboxMessage>>;
    /// Unsent messages whose next attempt is due at `now`, oldest first.
    async fn due_outbox(&mut self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<OutboxMessage>>;
}

/// The writes of this capability, only in write transactions (`Store::write`).
#[async_trait]
pub trait OutboxTx: OutboxRead {
    async fn insert_outbox(&mut self, message: &OutboxMessage) -> StoreResult<()>;
    async fn mark_outbox_sent(&mut self, id: MessageId, at: DateTime<Utc>) -> StoreResult<()>;
    async fn mark_outbox_failed(
        &mut self,
        id: MessageId,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()>;
    /// A permanent refusal: no further attempt (`next_attempt_at` cleared), `failed_at` set.
    async fn mark_outbox_given_up(&mut self, id: MessageId, at: DateTime<Utc>, error: &str) -> StoreResult<()>;
}
