//! The instance administrator's view, the admin token, and the outbox delivery bookkeeping used by
//! the mail sender.

use chrono::Duration;

use super::Tenantry;
use crate::domain::ids::MessageId;
use crate::domain::models::{Org, OutboxMessage};
use crate::domain::pagination::{Page, PageRequest};
use crate::domain::secret::hash_token;
use crate::Result;

const ADMIN_TOKEN_SECRET: &str = "admin_token_sha256";

/// The longest wait between two delivery attempts of one message.
pub const MAX_RETRY_DELAY: Duration = Duration::hours(1);

/// How the instance admin token was settled at start-up.
pub enum AdminToken {
    /// From configuration; nothing is stored.
    Configured(String),
    /// Generated now: shown this once, only its hash is kept.
    Generated(String),
    /// Generated on an earlier start; only the hash is known.
    Stored,
}

impl Tenantry {
    /// Settles the admin token: the configured one, else the stored hash, else a new random
    /// token whose hash is stored. Returns the token's hash and how it was settled.
    pub async fn settle_admin_token(&self, configured: Option<&str>) -> Result<(String, AdminToken)> {
        if let Some(token) = configured {
            return Ok((hash_token(token), AdminToken::Configured(token.to_owned())));
        }
        let mut tx = self.store.write().await?;
        if let Some(hash) = tx.instance_secret(ADMIN_TOKEN_SECRET).await? {
            return Ok((hash, AdminToken::Stored));
        }
        let token = format!("tnadm_{}", self.issue_token().plain);
        let hash = hash_token(&token);
        tx.set_instance_secret(ADMIN_TOKEN_SECRET, &hash).await?;
        tx.commit().await?;
        Ok((hash, AdminToken::Generated(token)))
    }

    /// Replaces the stored admin token with a new one and returns it (shown once).
    pub async fn rotate_admin_token(&self) -> Result<String> {
        let token = format!("tnadm_{}", self.issue_token().plain);
        let mut tx = self.store.write().await?;
        tx.set_instance_secret(ADMIN_TOKEN_SECRET, &hash_token(&token)).await?;
        tx.commit().await?;
        Ok(token)
    }

    pub async fn admin_list_orgs(&self, page: &PageRequest) -> Result<Page<Org>> {
        let rows = self.store.read().await?.list_orgs(page).await?;
        Ok(Page::from_rows(rows, page, |org| org.id.to_string()))
    }

    pub async fn admin_list_outbox(&self, page: &PageRequest) -> Result<Page<OutboxMessage>> {
        let rows = self.store.read().await?.list_outbox(page).await?;
        Ok(Page::from_rows(rows, page, |m| m.id.to_string()))
    }

    /// Messages due for a delivery attempt.
    pub async fn due_messages(&self, limit: u32) -> Result<Vec<OutboxMessage>> {
        Ok(self.store.read().await?.due_outbox(self.clock.now(), limit).await?)
    }

    pub async fn message_sent(&self, id: MessageId) -> Result<()> {
        let mut tx = self.store.write().await?;
        tx.mark_outbox_sent(id, self.clock.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed attempt and schedules the next one with exponential backoff (30 s,
    /// 1 min, 2 min … up to an hour). The message stays in the outbox: it is never dropped.
    pub async fn message_failed(&self, message: &OutboxMessage, error: &str) -> Result<()> {
        let next = self.clock.now() + retry_delay(message.attempts);
        let mut tx = self.store.write().await?;
        tx.mark_outbox_failed(message.id, next, error).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The wait after the attempt numbered `attempts` (0 for the first) failed.
pub fn retry_delay(attempts: u32) -> Duration {
    let secs = 30i64.saturating_mul(1i64 << attempts.min(16));
    Duration::seconds(secs).min(MAX_RETRY_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(retry_delay(0), Duration::seconds(30));
        assert_eq!(retry_delay(1), Duration::seconds(60));
        assert_eq!(retry_delay(3), Duration::seconds(240));
        assert_eq!(retry_delay(30), MAX_RETRY_DELAY);
    }
}
