//! Public, unversioned endpoints: health, the JWKS, and the OpenAPI document.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health)).routes(routes!(jwks)).routes(routes!(openapi_json))
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
