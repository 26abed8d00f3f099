//! `/v1/orgs/{org}/api-keys`: create, list, roll and revoke an org's keys (`api_keys.manage`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::service::api_keys::NewKey;
use tenantry_types::api_keys::{CreateKeyBody, RollKeyBody};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{path_id, ApiJson, ClientMeta, Pagination};
use crate::state::AppState;
use crate::views::{data, list, ApiKeyView, Data, ErrorBody, IssuedKeyView, List};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_keys, create_key)).routes(routes!(revoke_key)).routes(routes!(roll_key))
}

/// The org's keys, oldest first. Secrets are never shown again; `prefix` tells keys apart.
#[utoipa::path(get, path = "/v1/orgs/{org}/api-keys", tag = "api keys", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug"), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = List<ApiKeyView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_keys(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    Pagination(page): Pagination,
) -> Result<Json<List<ApiKeyView>>, ApiError> {
    let page = state.tenantry.api_keys().list_api_keys(&caller, &org, &page).await?;
    Ok(list(page, ApiKeyView::from))
}

/// Create a key. The response is the only time its `secret` is shown.
#[utoipa::path(post, path = "/v1/orgs/{org}/api-keys", tag = "api keys", security(("bearer" = [])), request_body(content = CreateKeyBody, example = json!({"name": "CI pipeline", "scopes": ["endpoints.*", "requests.replay"], "expires_at": "2099-01-01T00:00:00Z"})),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 201, body = Data<IssuedKeyView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<CreateKeyBody>,
) -> Result<(StatusCode, Json<Data<IssuedKeyView>>), ApiError> {
    let new = NewKey { name: body.name, scopes: body.scopes, expires_at: body.expires_at, prefix: body.prefix };
    let issued = state.tenantry.api_keys().create_api_key(&caller, &org, new, &meta).await?;
    Ok((StatusCode::CREATED, data(IssuedKeyView::from(issued))))
}

/// Revoke a key: it is refused from the next request on, on every node.
#[utoipa::path(delete, path = "/v1/orgs/{org}/api-keys/{key}", tag = "api keys", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug"), ("key" = String, Path, description = "key id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, key)): Path<(OrgRef, String)>,
    ClientMeta(meta): ClientMeta,
) -> Result<StatusCode, ApiError> {
    state.tenantry.api_keys().revoke_api_key(&caller, &org, path_id(&key, "API key")?, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace a key with a new secret of the same name and scopes. The old key stops at once, or
/// after `old_expires_in` seconds.
#[utoipa::path(post, path = "/v1/orgs/{org}/api-keys/{key}/roll", tag = "api keys", security(("bearer" = [])), request_body(content = RollKeyBody, example = json!({"old_expires_in": 3600})),
    params(("org" = String, Path, description = "org id or slug"), ("key" = String, Path, description = "key id")),
    responses((status = 201, body = Data<IssuedKeyView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "key_inactive", body = ErrorBody)))]
pub async fn roll_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, key)): Path<(OrgRef, String)>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<RollKeyBody>,
) -> Result<(StatusCode, Json<Data<IssuedKeyView>>), ApiError> {
    let issued = state
        .tenantry
        .api_keys()
        .roll_api_key(&caller, &org, path_id(&key, "API key")?, body.old_expires_in, &meta)
        .await?;
    Ok((StatusCode::CREATED, data(IssuedKeyView::from(issued))))
}
