//! The event log for host apps: appended beside audit records, read in pages by position, pruned
//! after its retention, and fanned out to webhook endpoints by one node at a time.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::domain::host_event::{EventPosition, EventTypes, HostEvent, LoggedEvent};
use crate::domain::ids::EventId;

/// The reads of this capability, open to read handles (`Store::read`).
#[async_trait]
pub trait EventsRead: Send {
    /// Where the event `id` sits, if it is still kept.
    async fn event_position(&mut self, id: EventId) -> StoreResult<Option<EventPosition>>;
    /// Events after `after` of the wanted `types`, in log order. Only events that no transaction
    /// still running can precede are returned, so a reader that continues from the last one it
    /// saw never skips an event committed later.
    async fn events_after(
        &mut self,
        after: EventPosition,
        types: &EventTypes,
        limit: u32,
    ) -> StoreResult<Vec<LoggedEvent>>;
}

/// The writes of this capability, only in write transactions (`Store::write`).
#[async_trait]
pub trait EventsTx: EventsRead {
    async fn insert_event(&mut self, event: &HostEvent) -> StoreResult<()>;
    /// Deletes events that occurred before `before`; returns how many.
    async fn prune_events(&mut self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// Takes the dispatcher's place for this transaction and returns how far it got, or `None`
    /// when another node holds it now (it will dispatch; this one need not wait).
    async fn lock_dispatch(&mut self) -> StoreResult<Option<EventPosition>>;
    async fn set_dispatch(&mut self, position: EventPosition) -> StoreResult<()>;
}
