//! Delivers outbox messages over SMTP when `email.smtp_url` is set.
//!
//! The sender wakes when a message is committed (and every few seconds, for retries), sends what
//! is due, and records each result. A transient failure (connection trouble, a 4xx reply) is
//! retried with backoff. A permanent one (a 5xx reply, or an address the mail library cannot
//! take) would fail the same way forever, so the message is given up and shows as failed in the
//! outbox instead of being retried.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tenantry_core::domain::models::OutboxMessage;
use tenantry_core::Tenantry;

const POLL_INTERVAL: Duration = Duration::from_secs(5);
const BATCH: u32 = 20;

/// Why an attempt failed, and whether trying again could help.
struct Failure {
    permanent: bool,
    error: String,
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(smtp_url: &str, from: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| format!("email.smtp_url: {e}"))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = from.parse().map_err(|e| format!("email.from: {e}"))?;
        Ok(Self { transport, from })
    }

    /// Runs until the process ends.
    pub async fn run(self, tenantry: Arc<Tenantry>) {
        let ready = tenantry.outbox_ready();
        loop {
            match tenantry.due_messages(BATCH).await {
                Ok(messages) => {
                    for message in messages {
                        self.deliver(&tenantry, &message).await;
                    }
                }
                Err(e) => tracing::error!(error = %e, "could not read the outbox"),
            }
            let _ = tokio::time::timeout(POLL_INTERVAL, ready.notified()).await;
        }
    }

    async fn deliver(&self, tenantry: &Tenantry, message: &OutboxMessage) {
        let outcome = match self.build(message) {
            Ok(email) => self
                .transport
                .send(email)
                .await
                .map(|_| ())
                .map_err(|e| Failure { permanent: e.is_permanent(), error: e.to_string() }),
            Err(error) => Err(Failure { permanent: true, error }),
        };
        let recorded = match &outcome {
            Ok(()) => tenantry.message_sent(message.id).await,
            Err(Failure { permanent: true, error }) => {
                tracing::warn!(message = %message.id, %error, "email refused for good; not retrying");
                tenantry.message_given_up(message, error).await
            }
            Err(Failure { permanent: false, error }) => {
                tracing::warn!(message = %message.id, attempt = message.attempts + 1, %error, "email delivery failed; will retry");
                tenantry.message_failed(message, error).await
            }
        };
        if let Err(e) = recorded {
            tracing::error!(message = %message.id, error = %e, "could not record the delivery outcome");
        }
    }

    fn build(&self, message: &OutboxMessage) -> Result<Message, String> {
        let to: Mailbox = message.to.as_str().parse().map_err(|e| format!("recipient: {e}"))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&message.subject)
            .multipart(MultiPart::alternative_plain_html(message.text.clone(), message.html.clone()))
            .map_err(|e| e.to_string())
    }
}
