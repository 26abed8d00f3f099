//! `/v1/admin/webhooks`: the instance's webhook endpoints and their deliveries (SPEC 16), for the
//! instance admin.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tenantry_core::domain::host_event::EventTypes;
use tenantry_core::domain::ids::{DeliveryId, WebhookId};
use tenantry_core::domain::webhook::{Delivery, WebhookEndpoint};
use tenantry_core::service::webhooks::{NewWebhook, WebhookChanges, WebhookWithSecret};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AdminAuth;
use crate::error::ApiError;
use crate::extract::{ApiJson, ClientMeta, Pagination};
use crate::state::AppState;
use crate::views::{data, list, Data, ErrorBody, List};
use crate::webhooks::guard;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(rotate_webhook_secret))
        .routes(routes!(send_test_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(redeliver))
}

#[derive(Serialize, ToSchema)]
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

/// An endpoint with its signing secret, shown only here.
#[derive(Serialize, ToSchema)]
pub struct WebhookWithSecretView {
    #[serde(flatten)]
    pub endpoint: WebhookView,
    /// `whsec_…`: verify deliveries with it (Standard Webhooks). Shown once.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

impl From<WebhookWithSecret> for WebhookWithSecretView {
    fn from(w: WebhookWithSecret) -> Self {
        Self { endpoint: WebhookView::from(&w.endpoint), secret: w.secret }
    }
}

#[derive(Serialize, ToSchema)]
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

#[derive(Deserialize, ToSchema)]
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

#[derive(Deserialize, ToSchema)]
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

async fn checked_url(state: &AppState, url: &str) -> Result<String, ApiError> {
    guard::checked_target(url, state.allow_private_targets).await.map_err(|m| ApiError::invalid("url", m))
}

fn event_types(types: &[String]) -> Result<EventTypes, ApiError> {
    EventTypes::parse(types).map_err(|m| ApiError::invalid("event_types", m))
}

fn webhook_id(raw: &str) -> Result<WebhookId, ApiError> {
    raw.parse().map_err(|_| ApiError::from(tenantry_core::Error::NotFound("webhook endpoint")))
}

/// Every webhook endpoint, oldest first.
#[utoipa::path(get, path = "/v1/admin/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Data<Vec<WebhookView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<Data<Vec<WebhookView>>>, ApiError> {
    let endpoints = state.tenantry.list_webhooks().await?;
    Ok(data(endpoints.iter().map(WebhookView::from).collect()))
}

/// Create an endpoint; its secret is in this answer only.
#[utoipa::path(post, path = "/v1/admin/webhooks", tag = "webhooks", security(("bearer" = [])), request_body = CreateWebhookBody,
    responses((status = 201, body = Data<WebhookWithSecretView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<CreateWebhookBody>,
) -> Result<(StatusCode, Json<Data<WebhookWithSecretView>>), ApiError> {
    // The checks that need no lookup come before resolving the URL's host.
    let types = event_types(&body.event_types.unwrap_or_default())?;
    let url = checked_url(&state, &body.url).await?;
    let new = NewWebhook { url, event_types: types, description: body.description.unwrap_or_default() };
    let created = state.tenantry.create_webhook(&meta, new).await?;
    Ok((StatusCode::CREATED, data(created.into())))
}

/// One endpoint.
#[utoipa::path(get, path = "/v1/admin/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Data<WebhookView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_webhook(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
) -> Result<Json<Data<WebhookView>>, ApiError> {
    Ok(data(WebhookView::from(&state.tenantry.get_webhook(webhook_id(&id)?).await?)))
}

/// Change an endpoint's URL, event types or description; disable or enable it.
#[utoipa::path(patch, path = "/v1/admin/webhooks/{id}", tag = "webhooks", security(("bearer" = [])), request_body = UpdateWebhookBody,
    params(("id" = String, Path)),
    responses((status = 200, body = Data<WebhookView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn update_webhook(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<UpdateWebhookBody>,
) -> Result<Json<Data<WebhookView>>, ApiError> {
    let id = webhook_id(&id)?;
    let types = body.event_types.as_deref().map(event_types).transpose()?;
    let url = match body.url {
        Some(url) => Some(checked_url(&state, &url).await?),
        None => None,
    };
    let changes = WebhookChanges { url, event_types: types, description: body.description, enabled: body.enabled };
    let endpoint = state.tenantry.update_webhook(&meta, id, changes).await?;
    Ok(data(WebhookView::from(&endpoint)))
}

/// Delete an endpoint and its deliveries.
#[utoipa::path(delete, path = "/v1/admin/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
    ClientMeta(meta): ClientMeta,
) -> Result<StatusCode, ApiError> {
    state.tenantry.delete_webhook(&meta, webhook_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing secret (shown once); the previous one keeps signing beside it for 24 hours.
#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/rotate-secret", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Data<WebhookWithSecretView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn rotate_webhook_secret(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
    ClientMeta(meta): ClientMeta,
) -> Result<Json<Data<WebhookWithSecretView>>, ApiError> {
    Ok(data(state.tenantry.rotate_webhook_secret(&meta, webhook_id(&id)?).await?.into()))
}

/// Send a `webhook.test` event to the endpoint now.
#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/test", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 202, body = Data<DeliveryView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn send_test_webhook(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Data<DeliveryView>>), ApiError> {
    let delivery = state.tenantry.send_test_webhook(webhook_id(&id)?).await?;
    Ok((StatusCode::ACCEPTED, data(delivery.into())))
}

/// The endpoint's deliveries, newest first, with the outcome of each one's latest attempt.
#[utoipa::path(get, path = "/v1/admin/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path), ("limit" = Option<u32>, Query, description = "1–100, default 20"), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = List<DeliveryView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
    Pagination(page): Pagination,
) -> Result<Json<List<DeliveryView>>, ApiError> {
    let page = state.tenantry.list_deliveries(webhook_id(&id)?, &page).await?;
    Ok(list(page, DeliveryView::from))
}

/// Send a delivery's message again, as a new delivery due now.
#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/deliveries/{delivery}/redeliver", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path), ("delivery" = String, Path)),
    responses((status = 202, body = Data<DeliveryView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn redeliver(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Data<DeliveryView>>), ApiError> {
    let delivery: DeliveryId =
        delivery.parse().map_err(|_| ApiError::from(tenantry_core::Error::NotFound("delivery")))?;
    let redelivered = state.tenantry.redeliver(webhook_id(&id)?, delivery).await?;
    Ok((StatusCode::ACCEPTED, data(redelivered.into())))
}
