//! `/v1/orgs/{org}/settings`: the settings document, versioned with `ETag` / `If-Match`.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::Json;
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::service::settings::SettingsRead;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ClientMeta};
use crate::state::AppState;
use crate::views::{data, Data, ErrorBody, SettingsView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_settings, put_settings))
}

fn respond(read: SettingsRead) -> (HeaderMap, Json<Data<SettingsView>>) {
    let mut headers = HeaderMap::new();
    let etag = HeaderValue::from_str(&read.etag()).expect("an ETag is a quoted number");
    headers.insert(header::ETAG, etag);
    (headers, data(read.settings.into()))
}

/// The org's settings (`org.manage`), with their `ETag`.
#[utoipa::path(get, path = "/v1/orgs/{org}/settings", tag = "orgs", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 200, body = Data<SettingsView>, headers(("ETag" = String))), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_settings(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
) -> Result<(HeaderMap, Json<Data<SettingsView>>), ApiError> {
    Ok(respond(state.tenantry.org_settings().get_settings(&caller, &org).await?))
}

/// Replace the org's settings (`org.manage`). Send `If-Match` with the `ETag` you read to refuse
/// the write (412 `precondition_failed`) if someone changed them since.
#[utoipa::path(put, path = "/v1/orgs/{org}/settings", tag = "orgs", security(("bearer" = [])), request_body(content = SettingsView, example = json!({"notifications": {"email_enabled": true}, "retention_days": 7, "security": {"mfa_required": false}, "ingest": {"token_rotation_days": 30, "rotation_grace_hours": 24}})),
    params(("org" = String, Path, description = "org id or slug"), ("If-Match" = Option<String>, Header, description = "the ETag read")),
    responses((status = 200, body = Data<SettingsView>, headers(("ETag" = String))), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 412, description = "precondition_failed", body = ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    headers: HeaderMap,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<SettingsView>,
) -> Result<(HeaderMap, Json<Data<SettingsView>>), ApiError> {
    let if_match = match headers.get(header::IF_MATCH) {
        Some(value) => Some(value.to_str().map_err(|_| ApiError::invalid("If-Match", "must be visible ASCII"))?),
        None => None,
    };
    let read = state.tenantry.org_settings().put_settings(&caller, &org, body.into(), if_match, &meta).await?;
    Ok(respond(read))
}
