//! The email outbox.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tenantry_core::domain::ids::MessageId;
use tenantry_core::domain::models::OutboxMessage;
use tenantry_core::domain::pagination::PageRequest;
use tenantry_core::store::{OutboxRead, OutboxTx, StoreResult, UNFINISHED_ATTEMPT};

use crate::rows::{self, ms};

use super::SqlTx;
use crate::{db_err, Backend};

#[async_trait]
impl OutboxRead for SqlTx {
    async fn list_outbox(&mut self, page: &PageRequest) -> StoreResult<Vec<OutboxMessage>> {
        let sql = format!(
            "SELECT {} FROM outbox WHERE ($1 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
            rows::OUTBOX_COLUMNS
        );
        let found = sqlx::query(&sql)
            .bind(page.after.as_deref())
            .bind(page.after.as_deref())
            .bind(i64::from(page.fetch_limit()))
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        found.iter().map(rows::outbox).collect()
    }

    async fn pending_outbox(&mut self) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL")
            .fetch_one(self.conn())
            .await
            .map_err(db_err)?;
        Ok(count.max(0) as u64)
    }
}

#[async_trait]
impl OutboxTx for SqlTx {
    async fn insert_outbox(&mut self, message: &OutboxMessage) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO outbox (id, recipient, subject, text_body, html_body, created_at, sent_at, attempts, next_attempt_at, last_error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(message.id.to_string())
        .bind(message.to.as_str())
        .bind(&message.subject)
        .bind(&message.text)
        .bind(&message.html)
        .bind(ms(message.created_at))
        .bind(message.sent_at.map(ms))
        .bind(i64::from(message.attempts))
        .bind(message.next_attempt_at.map(ms))
        .bind(&message.last_error)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn claim_due_outbox(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMessage>> {
        // On PostgreSQL two nodes' claims run at once: each locks the rows it picks and skips
        // those another claim has locked, so no row is picked twice (without `SKIP LOCKED` the
        // second claim would wait for the first and then take the same rows again). SQLite's
        // writer is single (`BEGIN IMMEDIATE`), so its claims never overlap.
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE outbox SET next_attempt_at = $1, attempts = attempts + 1, last_error = $2 \
             WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $3 \
             ORDER BY next_attempt_at LIMIT $4 {lock}) RETURNING {}",
            rows::OUTBOX_COLUMNS
        );
        let claimed = sqlx::query(&sql)
            .bind(ms(lease_until))
            .bind(UNFINISHED_ATTEMPT)
            .bind(ms(now))
            .bind(i64::from(limit))
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        let mut claimed: Vec<OutboxMessage> = claimed.iter().map(rows::outbox).collect::<StoreResult<_>>()?;
        // `RETURNING` keeps no order; the oldest is sent first.
        claimed.sort_by_key(|m| m.created_at);
        Ok(claimed)
    }

    async fn mark_outbox_sent(&mut self, id: MessageId, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET sent_at = $1, next_attempt_at = NULL, last_error = NULL WHERE id = $2")
            .bind(ms(at))
            .bind(id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn mark_outbox_failed(
        &mut self,
        id: MessageId,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET next_attempt_at = $1, last_error = $2 WHERE id = $3")
            .bind(ms(next_attempt_at))
            .bind(error)
            .bind(id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn mark_outbox_given_up(&mut self, id: MessageId, at: DateTime<Utc>, error: &str) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET next_attempt_at = NULL, failed_at = $1, last_error = $2 WHERE id = $3")
            .bind(ms(at))
            .bind(error)
            .bind(id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
