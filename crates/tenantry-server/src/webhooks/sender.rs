//! Attempts due deliveries. Each batch is claimed first (see `Webhooks::claim_deliveries`), so
//! with several nodes each delivery is attempted by one node at a time; the attempts of a batch
//! run concurrently, each with a 10-second timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::header::CONTENT_TYPE;
use tenantry_core::domain::webhook::{signature_header, Attempt, Delivery, RESPONSE_BODY_KEPT};
use tenantry_core::service::webhooks::{Destination, Outcome};
use tenantry_core::Tenantry;

use super::guard::{self, GuardedResolver};

const TIMEOUT: Duration = Duration::from_secs(10);
const POLL_EVERY: Duration = Duration::from_secs(1);
const BATCH: u32 = 64;

/// Where notifications go and whether webhook targets may be private.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub allow_private_targets: bool,
    pub slack_base_url: String,
    pub telegram_api_url: String,
}

pub struct Sender {
    outbound: Outbound,
    /// For webhook endpoints, whose addresses API callers chose: resolves through the guard.
    webhooks: reqwest::Client,
    /// For Slack and Telegram, whose bases the operator configured.
    notifications: reqwest::Client,
}

fn client(guarded: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Tenantry-Webhooks/", env!("CARGO_PKG_VERSION")));
    let builder = if guarded { builder.dns_resolver(Arc::new(GuardedResolver)) } else { builder };
    builder.build().expect("the HTTP client's settings are valid")
}

impl Sender {
    pub fn new(outbound: Outbound) -> Self {
        let guarded = !outbound.allow_private_targets;
        Self { webhooks: client(guarded), notifications: client(false), outbound }
    }

    /// Runs until the process ends.
    pub async fn run(self, tenantry: Arc<Tenantry>) {
        let ready = tenantry.deliveries_ready();
        loop {
            match tenantry.webhooks().claim_deliveries(BATCH).await {
                Ok(claimed) if !claimed.is_empty() => {
                    let full = claimed.len() as u32 == BATCH;
                    let outcomes =
                        join_all(claimed.into_iter().map(|(delivery, to)| self.deliver(&tenantry, delivery, to))).await;
                    if let Err(e) = tenantry.webhooks().record_deliveries(&outcomes).await {
                        tracing::error!(error = %e, "could not record delivery attempts; they are retried after the lease");
                    }
                    if full {
                        continue;
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "could not claim deliveries"),
            }
            let _ = tokio::time::timeout(POLL_EVERY, ready.notified()).await;
        }
    }

    async fn deliver(&self, tenantry: &Tenantry, delivery: Delivery, destination: Destination) -> (Delivery, Outcome) {
        let outcome = match self.request(tenantry, &delivery, destination).await {
            Err(reason) => Outcome::Abandoned(reason),
            Ok(request) => {
                let attempt = attempt(tenantry, request).await;
                if let Some(error) = &attempt.error {
                    tracing::warn!(delivery = %delivery.id, attempt = delivery.attempts + 1, %error, "delivery failed");
                }
                Outcome::Attempted(attempt)
            }
        };
        (delivery, outcome)
    }

    /// The request for one attempt, or why there is none to make.
    async fn request(
        &self,
        tenantry: &Tenantry,
        delivery: &Delivery,
        destination: Destination,
    ) -> Result<Result<reqwest::RequestBuilder, String>, String> {
        let body = delivery.payload.to_string();
        Ok(match destination {
            Destination::Gone(reason) => return Err(reason),
            Destination::Webhook { url, secrets } => {
                let checked = match guard::check_url(&url) {
                    Ok(parsed) => guard::check_target(&parsed, self.outbound.allow_private_targets).await,
                    Err(e) => Err(e),
                };
                match checked {
                    Err(refused) => Err(format!("target refused: {refused}")),
                    Ok(()) => {
                        let id = delivery.event_id.to_string();
                        let timestamp = tenantry.clock().now().timestamp();
                        let secrets: Vec<_> = secrets.iter().collect();
                        let signature = signature_header(&secrets, &id, timestamp, body.as_bytes());
                        Ok(self
                            .webhooks
                            .post(url)
                            .header(CONTENT_TYPE, "application/json")
                            .header("webhook-id", id)
                            .header("webhook-timestamp", timestamp.to_string())
                            .header("webhook-signature", signature)
                            .body(body))
                    }
                }
            }
            Destination::Slack { url } => {
                // The org's settings hold a Slack incoming webhook URL; its path goes to the
                // configured Slack base.
                let path = url::Url::parse(&url).map(|u| u.path().to_owned()).unwrap_or_default();
                let target = format!("{}{path}", self.outbound.slack_base_url.trim_end_matches('/'));
                Ok(self.notifications.post(target).header(CONTENT_TYPE, "application/json").body(body))
            }
            Destination::Telegram { bot_token } => {
                let base = self.outbound.telegram_api_url.trim_end_matches('/');
                let target = format!("{base}/bot{bot_token}/sendMessage");
                Ok(self.notifications.post(target).header(CONTENT_TYPE, "application/json").body(body))
            }
        })
    }
}

/// Makes the attempt and describes its outcome: success is a 2xx answer.
async fn attempt(tenantry: &Tenantry, request: Result<reqwest::RequestBuilder, String>) -> Attempt {
    let at = tenantry.clock().now();
    let started = Instant::now();
    let (response_status, response_body, error) = match request {
        Err(refused) => (None, None, Some(refused)),
        Ok(request) => match request.send().await {
            Err(e) => (None, None, Some(describe(e))),
            Ok(response) => {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                let kept: String = body.chars().take(RESPONSE_BODY_KEPT).collect();
                let error = (!status.is_success()).then(|| format!("the receiver answered {status}"));
                (Some(status.as_u16()), Some(kept), error)
            }
        },
    };
    let latency_ms = started.elapsed().as_millis() as u64;
    Attempt { at, response_status, response_body, latency_ms, error }
}

/// A send error in words, without the URL (a Telegram URL holds the bot's token).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    if error.is_timeout() {
        "no answer within 10 seconds".into()
    } else if error.is_connect() {
        format!("could not connect: {}", source_text(&error))
    } else {
        format!("the request failed: {}", source_text(&error))
    }
}

fn source_text(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}
