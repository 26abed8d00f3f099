//! The email outbox: every message is written here first and delivered afterwards.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::domain::ids::MessageId;
use crate::domain::models::OutboxMessage;
use crate::domain::pagination::PageRequest;

/// The `last_error` of a claimed message until its attempt's outcome is recorded. It is what the
/// outbox shows for an attempt whose process stopped before recording one, so the attempt it
/// counted is explained.
pub const UNFINISHED_ATTEMPT: &str = "no outcome recorded: the attempt is under way, or the process sending it stopped";

/// The reads of this capability, open to read handles (`Store::read`).
#[async_trait]
pub trait OutboxRead: Send {
    /// Newest first, by id.
    async fn list_outbox(&mut self, page: &PageRequest) -> StoreResult<Vec<OutboxMessage>>;
    /// Messages neither sent nor given up on.
    async fn pending_outbox(&mut self) -> StoreResult<u64>;
}

/// The writes of this capability, only in write transactions (`Store::write`).
#[async_trait]
pub trait OutboxTx: OutboxRead {
    async fn insert_outbox(&mut self, message: &OutboxMessage) -> StoreResult<()>;
    /// Claims up to `limit` unsent messages due at `now`, oldest first, for one delivery attempt
    /// each, and returns them as claimed. A claim is a write, not a read, so that processes
    /// sharing the database never take the same message: it moves the message's next attempt to
    /// `lease_until`, hiding it from every other claim until then, counts the attempt (so one cut
    /// short by a crash counts too) and sets `last_error` to [`UNFINISHED_ATTEMPT`]. One of the
    /// `mark_outbox_*` writes then records the outcome; if none does, the message is due again
    /// when the lease ends. Rows another transaction is claiming are skipped, not waited for.
    async fn claim_due_outbox(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMessage>>;
    /// The outcomes of a claimed attempt, which the claim already counted.
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
