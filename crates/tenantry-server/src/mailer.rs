//! Delivers outbox messages over SMTP when `email.smtp_url` is set.
//!
//! The sender wakes when a message is committed (and every few seconds, for retries), sends what
//! is due, and records each result. Each message is claimed before it is sent (see
//! `Outbox::claim_due_message`), so when several processes share the database each message
//! is attempted by one of them at a time. A transient failure (connection trouble, a 4xx reply)
//! is retried with backoff. A permanent one (a 5xx reply, or an address the mail library cannot
//! take) would fail the same way forever, so the message is given up and shows as failed in the
//! outbox instead of being retried.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tenantry_core::domain::models::OutboxMessage;
use tenantry_core::service::outbox::OUTBOX_LEASE;
use tenantry_core::Tenantry;

const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// The longest a whole attempt may take. It ends well before the claim's lease, so no other
/// process can claim the message while this one may still be sending it.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
const _: () = assert!(SEND_TIMEOUT.as_secs() * 2 <= OUTBOX_LEASE.num_seconds() as u64);

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
            // One claim per message, so a claim's lease runs only while its message is sent,
            // never while others queued behind it in a batch are.
            loop {
                match tenantry.outbox().claim_due_message().await {
                    Ok(Some(message)) => self.deliver(&tenantry, &message).await,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "could not claim from the outbox");
                        break;
                    }
                }
            }
            let _ = tokio::time::timeout(POLL_INTERVAL, ready.notified()).await;
        }
    }

    async fn deliver(&self, tenantry: &Tenantry, message: &OutboxMessage) {
        let outcome = match self.build(message) {
            Ok(email) => match tokio::time::timeout(SEND_TIMEOUT, self.transport.send(email)).await {
                Ok(sent) => sent.map(|_| ()).map_err(|e| Failure { permanent: e.is_permanent(), error: e.to_string() }),
                Err(_) => Err(Failure { permanent: false, error: format!("no answer within {SEND_TIMEOUT:?}") }),
            },
            Err(error) => Err(Failure { permanent: true, error }),
        };
        let recorded = match &outcome {
            Ok(()) => tenantry.outbox().message_sent(message.id).await,
            Err(Failure { permanent: true, error }) => {
                tracing::warn!(message = %message.id, %error, "email refused for good; not retrying");
                tenantry.outbox().message_given_up(message, error).await
            }
            Err(Failure { permanent: false, error }) => {
                tracing::warn!(message = %message.id, attempt = message.attempts, %error, "email delivery failed; will retry");
                tenantry.outbox().message_failed(message, error).await
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
