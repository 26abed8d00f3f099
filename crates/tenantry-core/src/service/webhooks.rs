//! Webhook endpoints (managed by the instance admin; the server admits only the admin token)
//! and the delivery of queued messages: claiming due ones, and recording each attempt with its
//! consequences (the next attempt, giving up after three days, disabling an endpoint that has
//! failed for three days).

use serde_json::{json, Value};

use super::events::event_body;
use super::unit_of_work::{Bookkeeping, Change, Event};
use super::{RequestMeta, Webhooks};
use crate::domain::audit::{Actor, Target};
use crate::domain::host_event::{EventTypes, HostEvent};
use crate::domain::ids::{DeliveryId, EventId, OrgId, WebhookId};
use crate::domain::pagination::{Page, PageRequest};
use crate::domain::webhook::{
    retry_delay, with_jitter, Attempt, Channel, Delivery, DeliveryStatus, WebhookEndpoint, WebhookSecret, CLAIM_LEASE,
    PREVIOUS_SECRET_SIGNS_FOR, RETRY_FOR,
};
use crate::{Error, Result};

/// The longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// The longest target URL.
pub const MAX_URL_CHARS: usize = 2000;

/// A new endpoint, its URL already checked by the server (scheme, and where it resolves).
pub struct NewWebhook {
    pub url: String,
    pub event_types: EventTypes,
    pub description: String,
}

/// A change to an endpoint; absent fields stay as they are.
#[derive(Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub event_types: Option<EventTypes>,
    pub description: Option<String>,
    /// `false` disables the endpoint, `true` enables it again.
    pub enabled: Option<bool>,
}

/// An endpoint with its secret, shown once: at creation and at rotation.
pub struct WebhookWithSecret {
    pub endpoint: WebhookEndpoint,
    pub secret: String,
}

/// What became of a claimed delivery.
pub enum Outcome {
    /// It was attempted.
    Attempted(Attempt),
    /// It was not, its destination being gone (the reason).
    Abandoned(String),
}

/// Where a claimed delivery goes, as the sender needs it.
pub enum Destination {
    Webhook {
        url: String,
        secrets: Vec<WebhookSecret>,
    },
    Slack {
        url: String,
    },
    Telegram {
        bot_token: String,
    },
    /// Nowhere any more (the endpoint was disabled or deleted, the channel removed from the
    /// org's settings): the delivery is given up with this reason.
    Gone(String),
}

fn admin() -> Actor {
    Actor::new("admin", "admin")
}

fn endpoint_target(id: WebhookId) -> Target {
    Target::new("webhook_endpoint", id)
}

/// The endpoint as events describe it: never its secret.
pub fn endpoint_object(endpoint: &WebhookEndpoint) -> Value {
    json!({
        "id": endpoint.id.to_string(),
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types.entries(),
        "enabled": endpoint.is_enabled(),
        "disabled_reason": endpoint.disabled_reason,
    })
}

fn check_description(description: &str) -> Result<()> {
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(Error::invalid("description", format!("must be at most {MAX_DESCRIPTION_CHARS} characters")));
    }
    Ok(())
}

impl Webhooks<'_> {
    fn new_webhook_secret(&self) -> WebhookSecret {
        let mut key = [0u8; 32];
        self.random.fill(&mut key);
        WebhookSecret::from_key(&key)
    }

    /// A random number in [0, 1), for jitter.
    fn unit_random(&self) -> f64 {
        let mut bytes = [0u8; 8];
        self.random.fill(&mut bytes);
        (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
    }

    pub async fn create_webhook(&self, meta: &RequestMeta, new: NewWebhook) -> Result<WebhookWithSecret> {
        check_description(&new.description)?;
        let now = self.clock.now();
        let secret = self.new_webhook_secret();
        let endpoint = WebhookEndpoint {
            id: WebhookId::new(),
            url: new.url,
            description: new.description,
            event_types: new.event_types,
            secret: secret.clone(),
            previous_secret: None,
            disabled_at: None,
            disabled_reason: None,
            failing_since: None,
            created_at: now,
            updated_at: now,
        };
        let mut w = self.write(meta).await?;
        w.tx().insert_webhook_endpoint(&endpoint).await?;
        let event = Event::new("webhook_endpoint.created", endpoint_target(endpoint.id), endpoint_object(&endpoint));
        w.commit(Change { org: None, actor: admin(), event }).await?;
        Ok(WebhookWithSecret { endpoint, secret: secret.expose().to_owned() })
    }

    pub async fn list_webhooks(&self) -> Result<Vec<WebhookEndpoint>> {
        Ok(self.store.read().await?.webhook_endpoints().await?)
    }

    pub async fn get_webhook(&self, id: WebhookId) -> Result<WebhookEndpoint> {
        self.store.read().await?.webhook_endpoint(id).await?.ok_or(Error::NotFound("webhook endpoint"))
    }

    pub async fn update_webhook(
        &self,
        meta: &RequestMeta,
        id: WebhookId,
        changes: WebhookChanges,
    ) -> Result<WebhookEndpoint> {
        if let Some(description) = &changes.description {
            check_description(description)?;
        }
        let mut w = self.write(meta).await?;
        let mut endpoint = w.tx().webhook_endpoint(id).await?.ok_or(Error::NotFound("webhook endpoint"))?;
        let now = self.clock.now();
        let action = match changes.enabled {
            Some(false) if endpoint.is_enabled() => {
                endpoint.disabled_at = Some(now);
                endpoint.disabled_reason = Some("disabled by the instance admin".into());
                "webhook_endpoint.disabled"
            }
            Some(true) if !endpoint.is_enabled() => {
                endpoint.disabled_at = None;
                endpoint.disabled_reason = None;
                endpoint.failing_since = None;
                "webhook_endpoint.enabled"
            }
            _ => "webhook_endpoint.updated",
        };
        if let Some(url) = changes.url {
            endpoint.url = url;
        }
        if let Some(types) = changes.event_types {
            endpoint.event_types = types;
        }
        if let Some(description) = changes.description {
            endpoint.description = description;
        }
        endpoint.updated_at = now;
        w.tx().update_webhook_endpoint(&endpoint).await?;
        let event = Event::new(action, endpoint_target(id), endpoint_object(&endpoint));
        w.commit(Change { org: None, actor: admin(), event }).await?;
        Ok(endpoint)
    }

    /// A new secret; the old one keeps signing beside it for 24 hours.
    pub async fn rotate_webhook_secret(&self, meta: &RequestMeta, id: WebhookId) -> Result<WebhookWithSecret> {
        let mut w = self.write(meta).await?;
        let mut endpoint = w.tx().webhook_endpoint(id).await?.ok_or(Error::NotFound("webhook endpoint"))?;
        let now = self.clock.now();
        let secret = self.new_webhook_secret();
        let previous = std::mem::replace(&mut endpoint.secret, secret.clone());
        endpoint.previous_secret = Some((previous, now + PREVIOUS_SECRET_SIGNS_FOR));
        endpoint.updated_at = now;
        w.tx().update_webhook_endpoint(&endpoint).await?;
        let metadata = json!({ "previous_secret_signs_until": now + PREVIOUS_SECRET_SIGNS_FOR });
        let event = Event::new("webhook_endpoint.secret_rotated", endpoint_target(id), metadata);
        w.commit(Change { org: None, actor: admin(), event }).await?;
        Ok(WebhookWithSecret { endpoint, secret: secret.expose().to_owned() })
    }

    /// Deletes the endpoint and its deliveries.
    pub async fn delete_webhook(&self, meta: &RequestMeta, id: WebhookId) -> Result<()> {
        let mut w = self.write(meta).await?;
        let endpoint = w.tx().webhook_endpoint(id).await?.ok_or(Error::NotFound("webhook endpoint"))?;
        w.tx().delete_webhook_endpoint(id).await?;
        let event = Event::new("webhook_endpoint.deleted", endpoint_target(id), endpoint_object(&endpoint));
        w.commit(Change { org: None, actor: admin(), event }).await
    }

    /// Queues a `webhook.test` event for the endpoint alone (not in the event log).
    pub async fn send_test_webhook(&self, id: WebhookId) -> Result<Delivery> {
        let mut w = self.bookkeeping().await?;
        let endpoint = w.tx().webhook_endpoint(id).await?.ok_or(Error::NotFound("webhook endpoint"))?;
        let event = HostEvent {
            id: EventId::new(),
            event_type: "webhook.test".into(),
            org_id: None,
            occurred_at: self.clock.now(),
            data: json!({ "webhook_endpoint_id": endpoint.id.to_string(), "message": "a test event from Tenantry" }),
        };
        let delivery = self.new_delivery(
            Channel::Webhook,
            Some(endpoint.id),
            None,
            event.id,
            &event.event_type,
            event_body(&event),
        );
        w.tx().insert_delivery(&delivery).await?;
        w.commit().await?;
        self.deliveries_ready.notify_one();
        Ok(delivery)
    }

    /// The endpoint's deliveries, newest first.
    pub async fn list_deliveries(&self, id: WebhookId, page: &PageRequest) -> Result<Page<Delivery>> {
        let mut tx = self.store.read().await?;
        tx.webhook_endpoint(id).await?.ok_or(Error::NotFound("webhook endpoint"))?;
        let before = match &page.after {
            Some(key) => Some(key.parse().map_err(|_| Error::invalid("cursor", "is not a cursor this API issued"))?),
            None => None,
        };
        let rows = tx.endpoint_deliveries(id, before, page.fetch_limit()).await?;
        Ok(Page::from_rows(rows, page, |d| d.id.to_string()))
    }

    /// Sends a delivery's message again, as a new delivery due now (the old one keeps its
    /// history).
    pub async fn redeliver(&self, endpoint: WebhookId, id: DeliveryId) -> Result<Delivery> {
        let mut w = self.bookkeeping().await?;
        let old = w
            .tx()
            .delivery(id)
            .await?
            .filter(|d| d.endpoint_id == Some(endpoint))
            .ok_or(Error::NotFound("delivery"))?;
        let delivery =
            self.new_delivery(old.channel, old.endpoint_id, old.org_id, old.event_id, &old.event_type, old.payload);
        w.tx().insert_delivery(&delivery).await?;
        w.commit().await?;
        self.deliveries_ready.notify_one();
        Ok(delivery)
    }

    pub(crate) fn new_delivery(
        &self,
        channel: Channel,
        endpoint_id: Option<WebhookId>,
        org_id: Option<OrgId>,
        event_id: EventId,
        event_type: &str,
        payload: Value,
    ) -> Delivery {
        let now = self.clock.now();
        Delivery {
            id: DeliveryId::new(),
            channel,
            endpoint_id,
            org_id,
            event_id,
            event_type: event_type.to_owned(),
            payload,
            status: DeliveryStatus::Pending,
            attempts: 0,
            created_at: now,
            next_attempt_at: Some(now),
            last_attempt_at: None,
            response_status: None,
            response_body: None,
            latency_ms: None,
            last_error: None,
        }
    }

    /// Claims up to `limit` due deliveries for this node (see `domain::webhook::CLAIM_LEASE`),
    /// each with where it goes.
    pub async fn claim_deliveries(&self, limit: u32) -> Result<Vec<(Delivery, Destination)>> {
        let now = self.clock.now();
        let mut w = self.bookkeeping().await?;
        let claimed = w.tx().claim_due_deliveries(now, now + CLAIM_LEASE, limit).await?;
        let mut out = Vec::with_capacity(claimed.len());
        for delivery in claimed {
            let destination = self.destination(w.tx(), &delivery).await?;
            out.push((delivery, destination));
        }
        w.commit().await?;
        Ok(out)
    }

    async fn destination(&self, tx: &mut dyn crate::store::Tx, delivery: &Delivery) -> Result<Destination> {
        let now = self.clock.now();
        Ok(match delivery.channel {
            Channel::Webhook => match delivery.endpoint_id {
                None => Destination::Gone("no endpoint".into()),
                Some(id) => match tx.webhook_endpoint(id).await? {
                    None => Destination::Gone("the endpoint was deleted".into()),
                    Some(e) if !e.is_enabled() => Destination::Gone("the endpoint is disabled".into()),
                    Some(e) => Destination::Webhook {
                        secrets: e.signing_secrets(now).into_iter().cloned().collect(),
                        url: e.url,
                    },
                },
            },
            Channel::Slack | Channel::Telegram => {
                let Some(org) = delivery.org_id else {
                    return Ok(Destination::Gone("no org".into()));
                };
                let n = tx.org_settings(org).await?.unwrap_or_default().settings.notifications;
                match (delivery.channel, n.slack_webhook_url, n.telegram_bot_token) {
                    (Channel::Slack, Some(url), _) => Destination::Slack { url },
                    (Channel::Telegram, _, Some(bot_token)) => Destination::Telegram { bot_token },
                    _ => Destination::Gone("the channel was removed from the org's settings".into()),
                }
            }
        })
    }

    /// Records what became of a batch of claimed deliveries, in one transaction (one write per
    /// batch rather than per delivery keeps a single-writer database free for the changes
    /// themselves). See [`Webhooks::record_outcome`].
    pub async fn record_deliveries(&self, outcomes: &[(Delivery, Outcome)]) -> Result<()> {
        let mut w = self.bookkeeping().await?;
        for (delivery, outcome) in outcomes {
            self.record_outcome(&mut w, delivery, outcome).await?;
        }
        w.commit().await
    }

    /// An attempt is done when it succeeded; else retried with backoff, or given up once three
    /// days have passed since the delivery was queued. An endpoint whose attempts have all failed
    /// for three days is disabled, with an event saying so. A delivery whose destination is gone
    /// is given up at once.
    async fn record_outcome(&self, w: &mut Bookkeeping<'_>, delivery: &Delivery, outcome: &Outcome) -> Result<()> {
        let attempt = match outcome {
            Outcome::Abandoned(reason) => {
                let given_up = Attempt {
                    at: self.clock.now(),
                    response_status: None,
                    response_body: None,
                    latency_ms: 0,
                    error: Some(reason.clone()),
                };
                return Ok(w.tx().record_attempt(delivery.id, &given_up, DeliveryStatus::Failed, None).await?);
            }
            Outcome::Attempted(attempt) => attempt,
        };
        let now = attempt.at;
        let attempts = delivery.attempts + 1;
        let (status, next) = if attempt.succeeded() {
            (DeliveryStatus::Succeeded, None)
        } else if now - delivery.created_at >= RETRY_FOR {
            (DeliveryStatus::Failed, None)
        } else {
            let wait = with_jitter(retry_delay(attempts), self.unit_random());
            (DeliveryStatus::Pending, Some(now + wait))
        };
        w.tx().record_attempt(delivery.id, attempt, status, next).await?;
        let Some(id) = delivery.endpoint_id else { return Ok(()) };
        let Some(mut endpoint) = w.tx().webhook_endpoint(id).await? else { return Ok(()) };
        let before = (endpoint.failing_since, endpoint.disabled_at);
        if attempt.succeeded() {
            endpoint.failing_since = None;
        } else {
            let since = *endpoint.failing_since.get_or_insert(now);
            if endpoint.is_enabled() && now - since >= RETRY_FOR {
                endpoint.disabled_at = Some(now);
                endpoint.disabled_reason = Some(format!(
                    "every delivery failed for 3 days; the last error: {}",
                    attempt.error.as_deref().unwrap_or("unknown")
                ));
            }
        }
        if before == (endpoint.failing_since, endpoint.disabled_at) {
            return Ok(());
        }
        endpoint.updated_at = now;
        w.tx().update_webhook_endpoint(&endpoint).await?;
        if before.1.is_none() && endpoint.disabled_at.is_some() {
            let object = endpoint_object(&endpoint);
            let event =
                Event::new("webhook_endpoint.disabled", endpoint_target(id), object.clone()).with_object(object);
            let change = Change { org: None, actor: Actor::new("system", "webhooks"), event };
            w.audit(&RequestMeta::default(), change).await?;
        }
        Ok(())
    }
}
