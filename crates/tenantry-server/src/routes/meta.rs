//! Public, unversioned endpoints: health, readiness, metrics, the JWKS, and the OpenAPI document.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde_json::Value;
use tenantry_types::meta::Health;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;
use crate::views::ErrorBody;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(metrics))
        .routes(routes!(jwks))
        .routes(routes!(openapi_json))
}

/// Liveness: answers without touching the database.
#[utoipa::path(get, path = "/health", tag = "meta", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok".to_owned() })
}

/// Readiness: the database answers, its migrations are the ones this build expects and (on
/// PostgreSQL) the listener for other nodes' cache changes is connected. 503 names each failing
/// part in `details.failing`, so a load balancer takes the node out until it recovers.
#[utoipa::path(get, path = "/ready", tag = "meta",
    responses((status = 200, body = Health), (status = 503, description = "not_ready", body = ErrorBody)))]
pub async fn ready(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let failing = state.store.unready_parts().await;
    if failing.is_empty() {
        return Ok(Json(Health { status: "ready".to_owned() }));
    }
    let names: Vec<&str> = failing.iter().map(|(part, _)| *part).collect();
    let details: serde_json::Map<String, Value> =
        failing.iter().map(|(part, why)| ((*part).to_owned(), Value::String(why.clone()))).collect();
    Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", format!("not ready: {}", names.join(", ")))
        .with_details(serde_json::json!({ "failing": details })))
}

/// The node's metrics in Prometheus' text format (see `crate::metrics` for what they are). When
/// `metrics.token` is set, only a request bearing it is answered.
#[utoipa::path(get, path = "/metrics", tag = "meta", security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String),
        (status = 401, description = "unauthorized: `metrics.token` is set and this request does not bear it", body = ErrorBody),
    ))]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<impl IntoResponse, ApiError> {
    let metrics = state.metrics.clone();
    if !metrics.admits(&headers) {
        return Err(ApiError::unauthorized("the metrics need `Authorization: Bearer <metrics.token>`"));
    }
    let text = metrics.render(&state).await.map_err(|_| ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR))?;
    Ok(([(header::CONTENT_TYPE, prometheus_client::encoding::prometheus_text::CONTENT_TYPE)], text))
}

/// Public keys for verifying access tokens offline (EdDSA / Ed25519).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "meta", responses((status = 200, body = Object)))]
pub async fn jwks(State(state): State<AppState>) -> Json<Value> {
    Json(state.tenantry.jwks())
}

/// The OpenAPI 3.1 document, generated from the handlers.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, body = Object)))]
pub async fn openapi_json(Extension(doc): Extension<Arc<String>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], doc.as_str().to_owned())
}
