//! `/v1/orgs/{org}/members` and `/leave`: the member list, one member, role changes, removal, and
//! password resets for members.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tenantry_types::accounts::AcceptedView;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{path_id, ApiJson, ClientMeta, Pagination};
use crate::state::AppState;
use crate::views::{data, list_shared, Data, ErrorBody, List, MemberView};
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::domain::models::MemberStatus;
use tenantry_core::service::members::MemberPatch;
use tenantry_types::members::ChangeMemberBody;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_members))
        .routes(routes!(get_member, change_member, remove_member))
        .routes(routes!(leave))
        .routes(routes!(send_password_reset))
}

/// The members of an org you belong to, in the order they joined.
#[utoipa::path(get, path = "/v1/orgs/{org}/members", tag = "members", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug"), ("limit" = Option<u32>, Query, description = "1–100, default 20"), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = List<MemberView>), (status = 404, body = ErrorBody)))]
pub async fn list_members(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    Pagination(page): Pagination,
) -> Result<Response, ApiError> {
    let listed = state.tenantry.members().list_members(&caller, &org, &page).await?;
    // Pages come from a cache, which keeps each one's JSON once made.
    let body = listed.rendered(|page| {
        serde_json::to_vec(&list_shared(page, |member| MemberView::from(member)).0)
            .expect("a member page serialises to JSON")
    });
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], Bytes::from_owner(body))
        .into_response())
}

/// One member of an org you belong to.
#[utoipa::path(get, path = "/v1/orgs/{org}/members/{user}", tag = "members", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug"), ("user" = String, Path, description = "user id")),
    responses((status = 200, body = Data<MemberView>), (status = 404, body = ErrorBody)))]
pub async fn get_member(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, user)): Path<(OrgRef, String)>,
) -> Result<Json<Data<MemberView>>, ApiError> {
    let member = state.tenantry.members().get_member(&caller, &org, path_id(&user, "member")?).await?;
    Ok(data(MemberView::from(&member)))
}

/// Change a member's role (`members.change_role`) or status (`members.remove`). Nobody changes
/// their own role or status, the owner's role changes only by transfer and the owner is never
/// suspended, and nobody grants a role holding a permission they lack.
#[utoipa::path(patch, path = "/v1/orgs/{org}/members/{user}", tag = "members", security(("bearer" = [])),
    request_body(content = ChangeMemberBody, example = json!({"role": "admin"})),
    params(("org" = String, Path, description = "org id or slug"), ("user" = String, Path, description = "user id")),
    responses((status = 200, body = Data<MemberView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "last_owner", body = ErrorBody)))]
pub async fn change_member(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, user)): Path<(OrgRef, String)>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<ChangeMemberBody>,
) -> Result<Json<Data<MemberView>>, ApiError> {
    let patch = MemberPatch { role: body.role, status: body.status.map(MemberStatus::from) };
    let member =
        state.tenantry.members().update_member(&caller, &org, path_id(&user, "member")?, &patch, &meta).await?;
    Ok(data(MemberView::from(&member)))
}

/// Remove a member (`members.remove`); removing yourself is leaving. The owner cannot be removed.
#[utoipa::path(delete, path = "/v1/orgs/{org}/members/{user}", tag = "members", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug"), ("user" = String, Path, description = "user id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "last_owner", body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, user)): Path<(OrgRef, String)>,
    ClientMeta(meta): ClientMeta,
) -> Result<StatusCode, ApiError> {
    state.tenantry.members().remove_member(&caller, &org, path_id(&user, "member")?, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Leave an org. The owner transfers ownership first.
#[utoipa::path(post, path = "/v1/orgs/{org}/leave", tag = "members", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, description = "last_owner", body = ErrorBody)))]
pub async fn leave(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    ClientMeta(meta): ClientMeta,
) -> Result<StatusCode, ApiError> {
    state.tenantry.members().leave_org(&caller, &org, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Email a member a password reset link (`org.manage`; not for members who outrank you).
#[utoipa::path(post, path = "/v1/orgs/{org}/members/{user}/reset-password", tag = "members", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug"), ("user" = String, Path, description = "user id")),
    responses((status = 202, body = Data<AcceptedView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn send_password_reset(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, user)): Path<(OrgRef, String)>,
    ClientMeta(meta): ClientMeta,
) -> Result<(StatusCode, Json<Data<AcceptedView>>), ApiError> {
    state.tenantry.members().send_member_password_reset(&caller, &org, path_id(&user, "member")?, &meta).await?;
    Ok((
        StatusCode::ACCEPTED,
        data(AcceptedView { message: "a password reset link is on its way to the member".to_owned() }),
    ))
}
