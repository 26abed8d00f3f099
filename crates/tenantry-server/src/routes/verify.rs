//! `POST /v1/keys/verify`: the host app asks whether a key its caller presented is good. A hot
//! path: the answer comes from the key cache. The outcome is always a 200 with a `code`.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use tenantry_core::service::api_keys::{Verification, VerifyCode};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::views::{data, Data, ErrorBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(verify_key))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// The key as presented to the host app.
    pub key: String,
    /// When given, the key's scopes must grant it.
    #[schema(example = "endpoints.create")]
    pub permission: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RateLimitView {
    pub limit: u32,
    pub remaining: u32,
    /// When the window ends, in Unix seconds.
    pub reset: i64,
}

#[derive(Serialize, ToSchema)]
pub struct VerificationView {
    pub valid: bool,
    /// `VALID`, `NOT_FOUND`, `EXPIRED`, `REVOKED`, `INSUFFICIENT_PERMISSIONS` or `RATE_LIMITED`.
    #[schema(example = "VALID")]
    pub code: &'static str,
    pub org_id: Option<String>,
    pub key_id: Option<String>,
    /// The key's scopes as created; empty when no key was found.
    pub scopes: Vec<String>,
    /// The key's rate-limit window after this call, when it was counted.
    pub rate_limit: Option<RateLimitView>,
}

impl From<Verification> for VerificationView {
    fn from(v: Verification) -> Self {
        let key = v.key.as_ref().map(|k| &k.key);
        Self {
            valid: v.code == VerifyCode::Valid,
            code: v.code.as_str(),
            org_id: key.map(|k| k.org_id.to_string()),
            key_id: key.map(|k| k.id.to_string()),
            scopes: key.map(|k| k.scopes.clone()).unwrap_or_default(),
            rate_limit: v.rate.map(|r| RateLimitView {
                limit: r.limit,
                remaining: r.remaining,
                reset: r.reset_at.timestamp(),
            }),
        }
    }
}

/// Verify an API key for a host app (service token or instance admin).
#[utoipa::path(post, path = "/v1/keys/verify", tag = "host apps", security(("bearer" = [])), request_body = VerifyBody,
    responses((status = 200, body = Data<VerificationView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn verify_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<VerifyBody>,
) -> Result<Json<Data<VerificationView>>, ApiError> {
    let verification = state.tenantry.verify_key(&caller, &body.key, body.permission.as_deref()).await?;
    Ok(data(VerificationView::from(verification)))
}
