//! Webhook endpoints and deliveries (SPEC 16): the Standard Webhooks signature, the retry
//! schedule, and the secrets that sign.
//!
//! A delivery is one message to one destination: an event to an endpoint, or an org's
//! notification to its Slack or Telegram channel. Each is attempted until it succeeds or three
//! days have passed, with exponential backoff and jitter between attempts.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use ring::hmac;
use serde_json::Value;

use super::host_event::EventTypes;
use super::ids::{DeliveryId, EventId, OrgId, WebhookId};

/// How long a delivery is retried, and how long an endpoint may fail before it is disabled.
pub const RETRY_FOR: Duration = Duration::days(3);
/// The first wait after a failure; each later one doubles, up to [`MAX_RETRY_DELAY`].
pub const FIRST_RETRY_DELAY: Duration = Duration::seconds(10);
pub const MAX_RETRY_DELAY: Duration = Duration::hours(8);
/// How long the previous secret still signs after a rotation, so receivers can switch over.
pub const PREVIOUS_SECRET_SIGNS_FOR: Duration = Duration::hours(24);
/// A node that claimed a delivery owns it this long; if it dies mid-send, another node retries
/// it afterwards. Longer than the request timeout, so a slow but live send is never duplicated.
pub const CLAIM_LEASE: Duration = Duration::seconds(60);
/// How much of a receiver's answer is kept with the delivery.
pub const RESPONSE_BODY_KEPT: usize = 1024;

/// Where a delivery goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Webhook,
    Slack,
    Telegram,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Slack => "slack",
            Self::Telegram => "telegram",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Webhook, Self::Slack, Self::Telegram].into_iter().find(|c| c.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or being attempted now).
    Pending,
    Succeeded,
    /// Given up: retried for three days, or its endpoint was disabled or deleted.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Succeeded, Self::Failed].into_iter().find(|c| c.as_str() == s)
    }
}

/// A webhook endpoint of the instance.
#[derive(Debug, Clone)]
pub struct WebhookEndpoint {
    pub id: WebhookId,
    pub url: String,
    pub description: String,
    pub event_types: EventTypes,
    pub secret: WebhookSecret,
    /// The secret before the last rotation, and until when it still signs.
    pub previous_secret: Option<(WebhookSecret, DateTime<Utc>)>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    /// Since when every attempt to this endpoint has failed (none since its last success).
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookEndpoint {
    pub fn is_enabled(&self) -> bool {
        self.disabled_at.is_none()
    }

    /// The secrets that sign a message sent at `now`: the current one, and the previous one
    /// during the overlap after a rotation.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&WebhookSecret> {
        let mut secrets = vec![&self.secret];
        if let Some((previous, until)) = &self.previous_secret {
            if now < *until {
                secrets.push(previous);
            }
        }
        secrets
    }
}

/// One message to one destination, with the outcome of its latest attempt.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: DeliveryId,
    pub channel: Channel,
    pub endpoint_id: Option<WebhookId>,
    pub org_id: Option<OrgId>,
    /// The event's id: the `webhook-id` header, the same on every attempt so receivers can
    /// drop duplicates.
    pub event_id: EventId,
    pub event_type: String,
    /// The body, fixed when the delivery was created.
    pub payload: Value,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub response_status: Option<u16>,
    pub response_body: Option<String>,
    pub latency_ms: Option<u64>,
    pub last_error: Option<String>,
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    /// The receiver's status code, if it answered.
    pub response_status: Option<u16>,
    pub response_body: Option<String>,
    pub latency_ms: u64,
    /// Why it failed, if it did (a non-2xx answer, a timeout, a refused target …).
    pub error: Option<String>,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

/// The wait after the `attempts`-th failed attempt (1 for the first), before jitter: 10 s,
/// 20 s, 40 s … up to 8 hours.
pub fn retry_delay(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(20);
    let seconds = FIRST_RETRY_DELAY.num_seconds().saturating_mul(1 << doublings);
    Duration::seconds(seconds).min(MAX_RETRY_DELAY)
}

/// `delay` scaled by `jitter` in [0, 1) to between 75% and 125% of itself, so receivers that
/// came back are not met by every retry at once.
pub fn with_jitter(delay: Duration, jitter: f64) -> Duration {
    let factor = 0.75 + jitter.clamp(0.0, 1.0) / 2.0;
    Duration::milliseconds((delay.num_milliseconds() as f64 * factor) as i64)
}

/// A signing secret, `whsec_` and the base64 of its key bytes, as Standard Webhooks writes it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("whsec_********")
    }
}

pub const SECRET_PREFIX: &str = "whsec_";

impl WebhookSecret {
    /// A new secret from 32 random bytes.
    pub fn from_key(key: &[u8; 32]) -> Self {
        Self(format!("{SECRET_PREFIX}{}", BASE64.encode(key)))
    }

    /// A stored secret, as written by [`Self::from_key`].
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    fn key(&self) -> Vec<u8> {
        let encoded = self.0.strip_prefix(SECRET_PREFIX).unwrap_or(&self.0);
        BASE64.decode(encoded).unwrap_or_else(|_| encoded.as_bytes().to_vec())
    }

    /// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
    pub fn sign(&self, message_id: &str, timestamp: i64, body: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.key());
        let mut context = hmac::Context::with_key(&key);
        context.update(message_id.as_bytes());
        context.update(b".");
        context.update(timestamp.to_string().as_bytes());
        context.update(b".");
        context.update(body);
        format!("v1,{}", BASE64.encode(context.sign().as_ref()))
    }
}

/// The `webhook-signature` header: one signature per secret, separated by spaces.
pub fn signature_header(secrets: &[&WebhookSecret], message_id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets.iter().map(|s| s.sign(message_id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_webhooks_example_signs_as_published() {
        // The example of the Standard Webhooks specification.
        let secret = WebhookSecret::from_stored("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into());
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn retries_double_from_ten_seconds_up_to_eight_hours() {
        assert_eq!(retry_delay(1), Duration::seconds(10));
        assert_eq!(retry_delay(2), Duration::seconds(20));
        assert_eq!(retry_delay(5), Duration::seconds(160));
        assert_eq!(retry_delay(40), MAX_RETRY_DELAY);
        let jittered = with_jitter(Duration::seconds(100), 0.5);
        assert_eq!(jittered, Duration::seconds(100));
        assert!(with_jitter(Duration::seconds(100), 0.0) >= Duration::seconds(75));
        assert!(with_jitter(Duration::seconds(100), 0.999) < Duration::seconds(125));
    }

    #[test]
    fn the_previous_secret_signs_only_during_the_overlap() {
        let now = Utc::now();
        let endpoint = WebhookEndpoint {
            id: WebhookId::new(),
            url: "https://example.com/hook".into(),
            description: String::new(),
            event_types: EventTypes::all(),
            secret: WebhookSecret::from_key(&[1; 32]),
            previous_secret: Some((WebhookSecret::from_key(&[2; 32]), now + Duration::hours(1))),
            disabled_at: None,
            disabled_reason: None,
            failing_since: None,
            created_at: now,
            updated_at: now,
        };
        assert_eq!(endpoint.signing_secrets(now).len(), 2);
        assert_eq!(endpoint.signing_secrets(now + Duration::hours(2)).len(), 1);
    }
}
