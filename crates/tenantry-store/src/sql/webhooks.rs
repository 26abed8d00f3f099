//! Webhook endpoints and the deliveries queue. Instance-wide tables: no org's row scope applies.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use tenantry_core::domain::host_event::EventTypes;
use tenantry_core::domain::ids::{DeliveryId, WebhookId};
use tenantry_core::domain::webhook::{Attempt, Channel, Delivery, DeliveryStatus, WebhookEndpoint, WebhookSecret};
use tenantry_core::store::{StoreResult, WebhooksRead, WebhooksTx};

use super::SqlTx;
use crate::rows::{self, ms};
use crate::{db_err, Backend};

const ENDPOINT_COLUMNS: &str = "id, url, description, event_types, secret, previous_secret, previous_secret_until, \
     disabled_at, disabled_reason, failing_since, created_at, updated_at";

const DELIVERY_COLUMNS: &str = "id, channel, endpoint_id, org_id, event_id, event_type, payload, status, attempts, \
     created_at, next_attempt_at, last_attempt_at, response_status, response_body, latency_ms, last_error";

fn endpoint(row: &AnyRow) -> StoreResult<WebhookEndpoint> {
    let types: String = rows::get(row, "event_types")?;
    let types: Vec<String> = serde_json::from_str(&types).map_err(|_| rows::corrupt("event types"))?;
    let previous: Option<String> = rows::get(row, "previous_secret")?;
    let previous_until = rows::opt_time(row, "previous_secret_until")?;
    Ok(WebhookEndpoint {
        id: rows::id(row, "id")?,
        url: rows::get(row, "url")?,
        description: rows::get(row, "description")?,
        event_types: EventTypes::parse(&types).map_err(|_| rows::corrupt("event types"))?,
        secret: WebhookSecret::from_stored(rows::get(row, "secret")?),
        previous_secret: previous.zip(previous_until).map(|(s, until)| (WebhookSecret::from_stored(s), until)),
        disabled_at: rows::opt_time(row, "disabled_at")?,
        disabled_reason: rows::get(row, "disabled_reason")?,
        failing_since: rows::opt_time(row, "failing_since")?,
        created_at: rows::time(row, "created_at")?,
        updated_at: rows::time(row, "updated_at")?,
    })
}

fn delivery(row: &AnyRow) -> StoreResult<Delivery> {
    let channel: String = rows::get(row, "channel")?;
    let status: String = rows::get(row, "status")?;
    let payload: String = rows::get(row, "payload")?;
    let attempts: i64 = rows::get(row, "attempts")?;
    let response_status: Option<i64> = rows::get(row, "response_status")?;
    let latency: Option<i64> = rows::get(row, "latency_ms")?;
    Ok(Delivery {
        id: rows::id(row, "id")?,
        channel: Channel::parse(&channel).ok_or_else(|| rows::corrupt("channel"))?,
        endpoint_id: rows::opt_id(row, "endpoint_id")?,
        org_id: rows::opt_id(row, "org_id")?,
        event_id: rows::id(row, "event_id")?,
        event_type: rows::get(row, "event_type")?,
        payload: serde_json::from_str(&payload).map_err(|_| rows::corrupt("payload"))?,
        status: DeliveryStatus::parse(&status).ok_or_else(|| rows::corrupt("delivery status"))?,
        attempts: attempts as u32,
        created_at: rows::time(row, "created_at")?,
        next_attempt_at: rows::opt_time(row, "next_attempt_at")?,
        last_attempt_at: rows::opt_time(row, "last_attempt_at")?,
        response_status: response_status.and_then(|s| u16::try_from(s).ok()),
        response_body: rows::get(row, "response_body")?,
        latency_ms: latency.map(|l| l.max(0) as u64),
        last_error: rows::get(row, "last_error")?,
    })
}

fn types_text(types: &EventTypes) -> String {
    rows::json_list(types.entries())
}

#[async_trait]
impl WebhooksRead for SqlTx {
    async fn webhook_endpoints(&mut self) -> StoreResult<Vec<WebhookEndpoint>> {
        let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY id");
        let found = sqlx::query(&sql).fetch_all(self.conn()).await.map_err(db_err)?;
        found.iter().map(endpoint).collect()
    }

    async fn webhook_endpoint(&mut self, id: WebhookId) -> StoreResult<Option<WebhookEndpoint>> {
        let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1");
        let found = sqlx::query(&sql).bind(id.to_string()).fetch_optional(self.conn()).await.map_err(db_err)?;
        found.as_ref().map(endpoint).transpose()
    }

    async fn endpoint_deliveries(
        &mut self,
        endpoint: WebhookId,
        before: Option<DeliveryId>,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE endpoint_id = $1 AND ($2 = '' OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        );
        self.all_orgs(true).await?;
        let found = sqlx::query(&sql)
            .bind(endpoint.to_string())
            .bind(before.map(|b| b.to_string()).unwrap_or_default())
            .bind(i64::from(limit))
            .fetch_all(self.conn())
            .await
            .map_err(db_err);
        self.all_orgs(false).await?;
        found?.iter().map(delivery).collect()
    }

    async fn delivery(&mut self, id: DeliveryId) -> StoreResult<Option<Delivery>> {
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1");
        self.all_orgs(true).await?;
        let found = sqlx::query(&sql).bind(id.to_string()).fetch_optional(self.conn()).await.map_err(db_err);
        self.all_orgs(false).await?;
        found?.as_ref().map(delivery).transpose()
    }

    async fn pending_deliveries(&mut self) -> StoreResult<u64> {
        self.all_orgs(true).await?;
        let count: StoreResult<i64> = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")
            .fetch_one(self.conn())
            .await
            .map_err(db_err);
        self.all_orgs(false).await?;
        Ok(count?.max(0) as u64)
    }
}

#[async_trait]
impl WebhooksTx for SqlTx {
    async fn insert_webhook_endpoint(&mut self, e: &WebhookEndpoint) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(e.id.to_string())
        .bind(e.url.clone())
        .bind(e.description.clone())
        .bind(types_text(&e.event_types))
        .bind(e.secret.expose().to_owned())
        .bind(e.previous_secret.as_ref().map(|(s, _)| s.expose().to_owned()))
        .bind(e.previous_secret.as_ref().map(|(_, until)| ms(*until)))
        .bind(e.disabled_at.map(ms))
        .bind(e.disabled_reason.clone())
        .bind(e.failing_since.map(ms))
        .bind(ms(e.created_at))
        .bind(ms(e.updated_at))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn update_webhook_endpoint(&mut self, e: &WebhookEndpoint) -> StoreResult<()> {
        sqlx::query(
            "UPDATE webhook_endpoints SET url = $2, description = $3, event_types = $4, secret = $5, \
             previous_secret = $6, previous_secret_until = $7, disabled_at = $8, disabled_reason = $9, \
             failing_since = $10, updated_at = $11 WHERE id = $1",
        )
        .bind(e.id.to_string())
        .bind(e.url.clone())
        .bind(e.description.clone())
        .bind(types_text(&e.event_types))
        .bind(e.secret.expose().to_owned())
        .bind(e.previous_secret.as_ref().map(|(s, _)| s.expose().to_owned()))
        .bind(e.previous_secret.as_ref().map(|(_, until)| ms(*until)))
        .bind(e.disabled_at.map(ms))
        .bind(e.disabled_reason.clone())
        .bind(e.failing_since.map(ms))
        .bind(ms(e.updated_at))
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn delete_webhook_endpoint(&mut self, id: WebhookId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
            .bind(id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_delivery(&mut self, d: &Delivery) -> StoreResult<()> {
        self.all_orgs(true).await?;
        let done = sqlx::query(&format!(
            "INSERT INTO deliveries ({DELIVERY_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))
        .bind(d.id.to_string())
        .bind(d.channel.as_str())
        .bind(d.endpoint_id.map(|e| e.to_string()))
        .bind(d.org_id.map(|o| o.to_string()))
        .bind(d.event_id.to_string())
        .bind(d.event_type.clone())
        .bind(d.payload.to_string())
        .bind(d.status.as_str())
        .bind(i64::from(d.attempts))
        .bind(ms(d.created_at))
        .bind(d.next_attempt_at.map(ms))
        .bind(d.last_attempt_at.map(ms))
        .bind(d.response_status.map(i64::from))
        .bind(d.response_body.clone())
        .bind(d.latency_ms.map(|l| l as i64))
        .bind(d.last_error.clone())
        .execute(self.conn())
        .await
        .map_err(db_err);
        self.all_orgs(false).await?;
        done.map(|_| ())
    }

    async fn claim_due_deliveries(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>> {
        // One statement picks and claims: on PostgreSQL rows another node is claiming are
        // skipped rather than waited for; SQLite has one writer, so nothing can interleave.
        let skip_locked = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE deliveries SET next_attempt_at = $1 WHERE id IN (\
               SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $2 \
               ORDER BY next_attempt_at LIMIT $3 {skip_locked}) \
             RETURNING {DELIVERY_COLUMNS}"
        );
        self.all_orgs(true).await?;
        let found = sqlx::query(&sql)
            .bind(ms(lease_until))
            .bind(ms(now))
            .bind(i64::from(limit))
            .fetch_all(self.conn())
            .await
            .map_err(db_err);
        self.all_orgs(false).await?;
        found?.iter().map(delivery).collect()
    }

    async fn record_attempt(
        &mut self,
        id: DeliveryId,
        attempt: &Attempt,
        status: DeliveryStatus,
        next_attempt_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        self.all_orgs(true).await?;
        let done = sqlx::query(
            "UPDATE deliveries SET status = $2, attempts = attempts + 1, next_attempt_at = $3, last_attempt_at = $4, \
             response_status = $5, response_body = $6, latency_ms = $7, last_error = $8 WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(status.as_str())
        .bind(next_attempt_at.map(ms))
        .bind(ms(attempt.at))
        .bind(attempt.response_status.map(i64::from))
        .bind(attempt.response_body.clone())
        .bind(attempt.latency_ms as i64)
        .bind(attempt.error.clone())
        .execute(self.conn())
        .await
        .map_err(db_err);
        self.all_orgs(false).await?;
        done.map(|_| ())
    }
}
