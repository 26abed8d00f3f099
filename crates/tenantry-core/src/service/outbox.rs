//! The mail outbox's bookkeeping, for the mail sender: claiming the next message due, and
//! recording how its attempt went. A message is never dropped: a failed attempt is retried with
//! exponential backoff, and only a permanent refusal gives it up.

use chrono::Duration;

use super::Outbox;
use crate::domain::ids::MessageId;
use crate::domain::models::OutboxMessage;
use crate::Result;

/// The longest wait between two delivery attempts of one message.
pub const MAX_RETRY_DELAY: Duration = Duration::hours(1);

/// How long a claimed message is left to the process that claimed it before another may attempt
/// it. The sender bounds each attempt well within it, so two processes never attempt a message
/// at once; it is also how long a message waits when its process stopped mid-attempt.
pub const OUTBOX_LEASE: Duration = Duration::seconds(60);

impl Outbox<'_> {
    /// Claims the oldest message due for a delivery attempt, if any, for [`OUTBOX_LEASE`]. The
    /// claim commits before the caller sends, so every other process skips the message while
    /// this one attempts it (see `OutboxTx::claim_due_outbox`); the caller then records the
    /// outcome with [`Self::message_sent`], [`Self::message_failed`] or
    /// [`Self::message_given_up`].
    pub async fn claim_due_message(&self) -> Result<Option<OutboxMessage>> {
        let now = self.clock.now();
        let mut w = self.bookkeeping().await?;
        let claimed = w.tx().claim_due_outbox(now, now + OUTBOX_LEASE, 1).await?;
        w.commit().await?;
        Ok(claimed.into_iter().next())
    }

    pub async fn message_sent(&self, id: MessageId) -> Result<()> {
        let mut w = self.bookkeeping().await?;
        w.tx().mark_outbox_sent(id, self.clock.now()).await?;
        w.commit().await
    }

    /// Records a failed attempt and schedules the next one with exponential backoff (30 s,
    /// 1 min, 2 min … up to an hour). The message stays in the outbox: it is never dropped.
    /// `message` is as claimed, so its `attempts` already counts this attempt.
    pub async fn message_failed(&self, message: &OutboxMessage, error: &str) -> Result<()> {
        let next = self.clock.now() + retry_delay(message.attempts.saturating_sub(1));
        let mut w = self.bookkeeping().await?;
        w.tx().mark_outbox_failed(message.id, next, error).await?;
        w.commit().await
    }

    /// Records a permanent refusal (the server answered 5xx, or the address cannot be sent to):
    /// retrying would only repeat it, so the message is given up and shows as failed.
    pub async fn message_given_up(&self, message: &OutboxMessage, error: &str) -> Result<()> {
        let mut w = self.bookkeeping().await?;
        w.tx().mark_outbox_given_up(message.id, self.clock.now(), error).await?;
        w.commit().await
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
