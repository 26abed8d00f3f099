//! `POST /v1/orgs/{org}/transfer-ownership`.

use axum::extract::{Path, State};
use axum::Json;
use tenantry_types::ownership::TransferBody;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{body_user_id, ApiJson, ClientMeta};
use crate::state::AppState;
use crate::views::{data, Data, ErrorBody, OrgView};
use tenantry_core::domain::ids::OrgRef;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(transfer_ownership))
}

/// Hand the org to another member (the owner, re-entering the password, or the instance admin).
/// The former owner becomes an admin. The answer is the org as the caller now sees it (with the
/// former owner's new role, for the owner).
#[utoipa::path(post, path = "/v1/orgs/{org}/transfer-ownership", tag = "orgs", security(("bearer" = [])), request_body(content = TransferBody, example = json!({"new_owner_user_id": "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M", "current_password": "correct horse battery"})),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 200, body = Data<OrgView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn transfer_ownership(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<TransferBody>,
) -> Result<Json<Data<OrgView>>, ApiError> {
    let done = state
        .tenantry
        .orgs()
        .transfer_ownership(
            &caller,
            &org,
            body_user_id(&body.new_owner_user_id, "new_owner_user_id")?,
            body.current_password.as_deref(),
            &meta,
        )
        .await?;
    Ok(data(OrgView { role: done.role, ..OrgView::plain(&done.org) }))
}
