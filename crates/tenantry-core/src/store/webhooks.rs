//! Webhook endpoints and the deliveries queue (events to endpoints, notifications to Slack and
//! Telegram). Instance-wide: no org's row scope applies.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::domain::webhook::{Attempt, Delivery, DeliveryStatus, WebhookEndpoint};

/// The reads of this capability, open to read handles (`Store::read`).
#[async_trait]
pub trait WebhooksRead: Send {
    /// Every endpoint, oldest first.
    async fn webhook_endpoints(&mut self) -> StoreResult<Vec<WebhookEndpoint>>;
    async fn webhook_endpoint(&mut self, id: WebhookId) -> StoreResult<Option<WebhookEndpoint>>;
    /// An endpoint's deliveries, newest first, older than `before` when given.
    async fn endpoint_deliveries(
        &mut self,
        endpoint: WebhookId,
        before: Option<DeliveryId>,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>>;
    async fn delivery(&mut self, id: DeliveryId) -> StoreResult<Option<Delivery>>;
    /// How many deliveries wait for an attempt.
    async fn pending_deliveries(&mut self) -> StoreResult<u64>;
}

/// The writes of this capability, only in write transactions (`Store::write`).
#[async_trait]
pub trait WebhooksTx: WebhooksRead {
    async fn insert_webhook_endpoint(&mut self, endpoint: &WebhookEndpoint) -> StoreResult<()>;
    /// Writes every field of `endpoint` but its id and creation time.
    async fn update_webhook_endpoint(&mut self, endpoint: &WebhookEndpoint) -> StoreResult<()>;
    /// Deletes the endpoint and its deliveries; whether it existed.
    async fn delete_webhook_endpoint(&mut self, id: WebhookId) -> StoreResult<bool>;
    async fn insert_delivery(&mut self, delivery: &Delivery) -> StoreResult<()>;
    /// Claims up to `limit` deliveries due at `now` for this node until `lease_until` (moving
    /// their due time there), skipping those another node is claiming at the same moment.
    async fn claim_due_deliveries(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>>;
    /// Records an attempt: the delivery's new status, and when to try again if still pending.
    async fn record_attempt(
        &mut self,
        id: DeliveryId,
        attempt: &Attempt,
        status: DeliveryStatus,
        next_attempt_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;
}
