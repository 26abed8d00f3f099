//! `/v1/admin/webhooks`: the instance's webhook endpoints and their deliveries (SPEC 16), for the
//! instance admin.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use tenantry_core::domain::host_event::EventTypes;
use tenantry_core::domain::ids::{DeliveryId, WebhookId};
use tenantry_core::service::webhooks::{NewWebhook, WebhookChanges};
use tenantry_types::webhooks::{
    CreateWebhookBody, DeliveryView, UpdateWebhookBody, WebhookView, WebhookWithSecretView,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AdminAuth;
use crate::error::ApiError;
use crate::extract::{path_id, ApiJson, ClientMeta, Pagination};
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

async fn checked_url(state: &AppState, url: &str) -> Result<String, ApiError> {
    guard::checked_target(url, state.allow_private_targets).await.map_err(|m| ApiError::invalid("url", m))
}

fn event_types(types: &[String]) -> Result<EventTypes, ApiError> {
    EventTypes::parse(types).map_err(|m| ApiError::invalid("event_types", m))
}

fn webhook_id(raw: &str) -> Result<WebhookId, ApiError> {
    Ok(path_id(raw, "webhook endpoint")?)
}

/// Every webhook endpoint, oldest first.
#[utoipa::path(get, path = "/v1/admin/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Data<Vec<WebhookView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<Data<Vec<WebhookView>>>, ApiError> {
    let endpoints = state.tenantry.webhooks().list_webhooks().await?;
    Ok(data(endpoints.iter().map(WebhookView::from).collect()))
}

/// Create an endpoint; its secret is in this answer only.
#[utoipa::path(post, path = "/v1/admin/webhooks", tag = "webhooks", security(("bearer" = [])), request_body(content = CreateWebhookBody, example = json!({"url": "https://app.example.com/webhooks/tenantry", "event_types": ["member.", "org.deleted"], "description": "Mirrors members into the app"})),
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
    let created = state.tenantry.webhooks().create_webhook(&meta, new).await?;
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
    Ok(data(WebhookView::from(&state.tenantry.webhooks().get_webhook(webhook_id(&id)?).await?)))
}

/// Change an endpoint's URL, event types or description; disable or enable it.
#[utoipa::path(patch, path = "/v1/admin/webhooks/{id}", tag = "webhooks", security(("bearer" = [])), request_body(content = UpdateWebhookBody, example = json!({"event_types": ["member.", "org.", "team."], "enabled": true})),
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
    let endpoint = state.tenantry.webhooks().update_webhook(&meta, id, changes).await?;
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
    state.tenantry.webhooks().delete_webhook(&meta, webhook_id(&id)?).await?;
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
    Ok(data(state.tenantry.webhooks().rotate_webhook_secret(&meta, webhook_id(&id)?).await?.into()))
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
    let delivery = state.tenantry.webhooks().send_test_webhook(webhook_id(&id)?).await?;
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
    let page = state.tenantry.webhooks().list_deliveries(webhook_id(&id)?, &page).await?;
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
    let delivery: DeliveryId = path_id(&delivery, "delivery")?;
    let redelivered = state.tenantry.webhooks().redeliver(webhook_id(&id)?, delivery).await?;
    Ok((StatusCode::ACCEPTED, data(redelivered.into())))
}
