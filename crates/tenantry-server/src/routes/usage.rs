//! Usage reports and metering: `/v1/orgs/{org}/usage`, `/v1/usage`, and
//! `POST /v1/orgs/{org}/usage/{metric}` for host apps.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::Json;
use tenantry_types::usage::MeterBody;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ClientMeta};
use crate::state::AppState;
use crate::views::{data, Data, ErrorBody, MeteredView, UsageView};
use tenantry_core::domain::ids::OrgRef;

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on an answer replayed for a repeated `Idempotency-Key`.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(org_usage)).routes(routes!(my_usage)).routes(routes!(meter))
}

/// An org's usage against its plan (any member, the org's API keys, admin and service tokens).
#[utoipa::path(get, path = "/v1/orgs/{org}/usage", tag = "billing", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 200, body = Data<UsageView>), (status = 404, body = ErrorBody)))]
pub async fn org_usage(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
) -> Result<Json<Data<UsageView>>, ApiError> {
    Ok(data(state.tenantry.metering().usage(&caller, &org).await?.into()))
}

/// The usage of the caller's org: an API key's own org, or a user's active org
/// (`x-organization-id`, else the access token's `org_id`).
#[utoipa::path(get, path = "/v1/usage", tag = "billing", security(("bearer" = [])),
    responses((status = 200, body = Data<UsageView>, headers(
            ("X-RateLimit-Limit" = u32, description = "To an API key: the requests it may make this UTC minute (the plan's `api_calls_per_minute`)"),
            ("X-RateLimit-Remaining" = u32, description = "To an API key: the requests left this minute"),
            ("X-RateLimit-Reset" = i64, description = "To an API key: when the minute ends, in Unix seconds"))),
        (status = 400, description = "invalid_request: no org to report on (a user without an active org, or an admin or service token)", body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn my_usage(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<Json<Data<UsageView>>, ApiError> {
    Ok(data(state.tenantry.metering().my_usage(&caller).await?.into()))
}

/// Meter a resource of the host app (service tokens; the org's API keys scoped `{metric}.*`).
/// An increment past the plan's limit is refused with 402 and changes nothing; a gauge never goes
/// below zero (409). With an `Idempotency-Key` header, a retry within 24 hours gets the first
/// answer again (marked `Idempotent-Replayed: true`) and counts nothing.
#[utoipa::path(post, path = "/v1/orgs/{org}/usage/{metric}", tag = "host apps", security(("bearer" = [])), request_body(content = MeterBody, example = json!({"delta": 1})),
    params(("org" = String, Path, description = "org id or slug"), ("metric" = String, Path, description = "a metric of the preset, e.g. `endpoints` or `requests`"),
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters", pattern = "^[\\x21-\\x7e]{1,255}$")),
    responses((status = 200, body = Data<MeteredView>), (status = 400, body = ErrorBody), (status = 402, description = "plan_limit_reached", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "usage_below_zero or idempotency_key_reused", body = ErrorBody)))]
pub async fn meter(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, metric)): Path<(OrgRef, String)>,
    headers: HeaderMap,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<MeterBody>,
) -> Result<(HeaderMap, Json<Data<MeteredView>>), ApiError> {
    let key = match headers.get(IDEMPOTENCY_KEY) {
        Some(value) => Some(value.to_str().map_err(|_| ApiError::invalid("Idempotency-Key", "must be visible ASCII"))?),
        None => None,
    };
    let metered = state.tenantry.metering().meter(&caller, &org, &metric, body.delta, key, &meta).await?;
    let mut out = HeaderMap::new();
    if metered.replayed {
        out.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    Ok((out, data(metered.into())))
}
