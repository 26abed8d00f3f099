//! Public, unversioned endpoints: health, the JWKS, and the OpenAPI document.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;
use crate::views::ErrorBody;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(jwks))
        .routes(routes!(openapi_json))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: answers without touching the database.
#[utoipa::path(get, path = "/health", tag = "meta", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness: the database answers, its migrations are the ones this build expects and (on
/// PostgreSQL) the listener for other nodes' cache changes is connected. 503 names each failing
/// part in `details.failing`, so a load balancer takes the node out until it recovers.
#[utoipa::path(get, path = "/ready", tag = "meta",
    responses((status = 200, body = Health), (status = 503, description = "not_ready", body = ErrorBody)))]
pub async fn ready(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let failing = state.store.unready_parts().await;
    if failing.is_empty() {
        return Ok(Json(Health { status: "ready" }));
    }
    let names: Vec<&str> = failing.iter().map(|(part, _)| *part).collect();
    let details: serde_json::Map<String, Value> =
        failing.iter().map(|(part, why)| ((*part).to_owned(), Value::String(why.clone()))).collect();
    Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", format!("not ready: {}", names.join(", ")))
        .with_details(serde_json::json!({ "failing": details })))
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
