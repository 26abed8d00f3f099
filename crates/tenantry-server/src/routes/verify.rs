//! `POST /v1/keys/verify`: the host app asks whether a key its caller presented is good. A hot
//! path: the answer comes from the key cache. The outcome is always a 200 with a `code`.

use axum::extract::State;
use axum::Json;
use tenantry_types::verify::{VerificationView, VerifyBody};
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

/// Verify an API key for a host app (service token or instance admin).
#[utoipa::path(post, path = "/v1/keys/verify", tag = "host apps", security(("bearer" = [])), request_body(content = VerifyBody, example = json!({"key": "tn_live_5Fq8Wd2Lk9Zr3Mx7Pb1Nc6Vt4Hs0Jy3bQ9xQk", "permission": "endpoints.create"})),
    responses((status = 200, body = Data<VerificationView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn verify_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<VerifyBody>,
) -> Result<Json<Data<VerificationView>>, ApiError> {
    let verification = state.tenantry.api_keys().verify_key(&caller, &body.key, body.permission.as_deref()).await?;
    Ok(data(VerificationView::from(verification)))
}
