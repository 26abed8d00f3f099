use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookView {
    #[schema(example = "wh_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub id: String,
    #[schema(example = "https://app.example.com/webhooks/tenantry")]
    pub url: String,
    pub description: String,
    /// Types or prefixes ending in `.`; empty means every type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    /// Since when every delivery has failed (null once one succeeds).
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation still signs beside the current one.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An endpoint with its signing secret, shown only here.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookWithSecretView {
    #[serde(flatten)]
    pub endpoint: WebhookView,
    /// `whsec_…`: verify deliveries with it (Standard Webhooks). Shown once.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliveryView {
    #[schema(example = "dlv_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub id: String,
    /// The event's id, also the `webhook-id` header.
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub response_status: Option<u16>,
    /// The first 1,024 characters of the receiver's last answer.
    pub response_body: Option<String>,
    pub latency_ms: Option<u64>,
    pub last_error: Option<String>,
    #[schema(value_type = Object)]
    pub payload: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookBody {
    /// An http(s) URL on the public internet (unless `webhooks.allow_private_targets`).
    #[schema(example = "https://app.example.com/webhooks/tenantry", max_length = 2000)]
    pub url: String,
    /// Types or prefixes ending in `.`; absent or empty means every type.
    #[schema(example = json!(["member.", "org.deleted"]))]
    pub event_types: Option<Vec<String>>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookBody {
    #[schema(max_length = 2000)]
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// `false` disables the endpoint; `true` enables it again.
    pub enabled: Option<bool>,
}

// Conversions from the core's records, for the server.
#[cfg(feature = "core")]
mod from_core {
    use super::*;

    use tenantry_core::domain::webhook::{Delivery, WebhookEndpoint};
    use tenantry_core::service::webhooks::WebhookWithSecret;

    impl From<&WebhookEndpoint> for WebhookView {
        fn from(e: &WebhookEndpoint) -> Self {
            Self {
                id: e.id.to_string(),
                url: e.url.clone(),
                description: e.description.clone(),
                event_types: e.event_types.entries().to_vec(),
                enabled: e.is_enabled(),
                disabled_at: e.disabled_at,
                disabled_reason: e.disabled_reason.clone(),
                failing_since: e.failing_since,
                previous_secret_expires_at: e.previous_secret.as_ref().map(|(_, until)| *until),
                created_at: e.created_at,
                updated_at: e.updated_at,
            }
        }
    }

    impl From<WebhookWithSecret> for WebhookWithSecretView {
        fn from(w: WebhookWithSecret) -> Self {
            Self { endpoint: WebhookView::from(&w.endpoint), secret: w.secret }
        }
    }

    impl From<Delivery> for DeliveryView {
        fn from(d: Delivery) -> Self {
            Self {
                id: d.id.to_string(),
                event_id: d.event_id.to_string(),
                event_type: d.event_type,
                status: d.status.as_str().to_owned(),
                attempts: d.attempts,
                created_at: d.created_at,
                next_attempt_at: d.next_attempt_at,
                last_attempt_at: d.last_attempt_at,
                response_status: d.response_status,
                response_body: d.response_body,
                latency_ms: d.latency_ms,
                last_error: d.last_error,
                payload: d.payload,
            }
        }
    }
}
