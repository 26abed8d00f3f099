//! `/v1/admin/*`: the instance administrator's endpoints. An org's plan is changed through
//! `PUT /v1/orgs/{org}/plan`, which admits the admin token.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::service::admin::AdminNewOrg;
use tenantry_types::admin::{AdminAddMemberBody, AdminCreateOrgBody};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AdminAuth;
use crate::error::ApiError;
use crate::extract::{body_user_id, path_id, ApiJson, ApiQuery, ClientMeta, Pagination};
use crate::state::AppState;
use crate::views::{data, list, AdminUserView, Data, ErrorBody, List, MemberView, OrgView, OutboxView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orgs, create_org))
        .routes(routes!(add_member))
        .routes(routes!(list_users))
        .routes(routes!(suspend_user))
        .routes(routes!(unsuspend_user))
        .routes(routes!(list_outbox))
}

/// `?q=`: search text. No `deny_unknown_fields`: it shares the query string with pagination.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Part of a slug or name (orgs) or of an email or display name (users), ignoring case.
    pub q: Option<String>,
}

/// Every org of the instance, by id; `?q=` searches slugs and names.
#[utoipa::path(get, path = "/v1/admin/orgs", operation_id = "admin_list_orgs", tag = "admin", security(("bearer" = [])),
    params(SearchParams, ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = List<OrgView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_orgs(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiQuery(search): ApiQuery<SearchParams>,
    Pagination(page): Pagination,
) -> Result<Json<List<OrgView>>, ApiError> {
    let page = state.tenantry.admin().admin_list_orgs(search.q.as_deref(), &page).await?;
    Ok(list(page, |org| OrgView::plain(&org)))
}

/// Create an org owned by a user.
#[utoipa::path(post, path = "/v1/admin/orgs", operation_id = "admin_create_org", tag = "admin", security(("bearer" = [])), request_body(content = AdminCreateOrgBody, example = json!({"owner_id": "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M", "name": "Engineering", "slug": "engineering", "metadata": {"cost_center": "42"}})),
    responses((status = 201, body = Data<OrgView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "slug_taken", body = ErrorBody)))]
pub async fn create_org(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<AdminCreateOrgBody>,
) -> Result<(StatusCode, Json<Data<OrgView>>), ApiError> {
    let owner_id = body_user_id(&body.owner_id, "owner_id")?;
    let new = AdminNewOrg { owner_id, name: body.name, slug: body.slug, metadata: body.metadata };
    let org = state.tenantry.admin().admin_create_org(new, &meta).await?;
    Ok((StatusCode::CREATED, data(OrgView::plain(&org.org))))
}

/// Add a user to an org directly, without an invitation. The owner role is refused, and the
/// plan's member limit applies (402 `plan_limit_reached`; change the plan first).
#[utoipa::path(post, path = "/v1/admin/orgs/{org}/members", tag = "admin", security(("bearer" = [])), request_body(content = AdminAddMemberBody, example = json!({"user_id": "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M", "role": "developer"})),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 201, body = Data<MemberView>), (status = 400, body = ErrorBody), (status = 402, description = "plan_limit_reached", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "already_member", body = ErrorBody)))]
pub async fn add_member(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(org): Path<OrgRef>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<AdminAddMemberBody>,
) -> Result<(StatusCode, Json<Data<MemberView>>), ApiError> {
    let member = state
        .tenantry
        .admin()
        .admin_add_member(&org, body_user_id(&body.user_id, "user_id")?, &body.role, &meta)
        .await?;
    Ok((StatusCode::CREATED, data(MemberView::from(&member))))
}

/// Every user of the instance, by id; `?q=` searches emails and display names.
#[utoipa::path(get, path = "/v1/admin/users", tag = "admin", security(("bearer" = [])),
    params(SearchParams, ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = List<AdminUserView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiQuery(search): ApiQuery<SearchParams>,
    Pagination(page): Pagination,
) -> Result<Json<List<AdminUserView>>, ApiError> {
    let page = state.tenantry.admin().admin_list_users(search.q.as_deref(), &page).await?;
    Ok(list(page, AdminUserView::from))
}

/// Suspend a user: every session ends at once (refresh and access tokens stop working) and they
/// cannot log in until unsuspended.
#[utoipa::path(post, path = "/v1/admin/users/{user}/suspend", tag = "admin", security(("bearer" = [])),
    params(("user" = String, Path, description = "user id")),
    responses((status = 200, body = Data<AdminUserView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn suspend_user(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(user): Path<String>,
    ClientMeta(meta): ClientMeta,
) -> Result<Json<Data<AdminUserView>>, ApiError> {
    Ok(data(state.tenantry.admin().admin_set_suspended(path_id(&user, "user")?, true, &meta).await?.into()))
}

/// Lift a suspension; the user logs in again.
#[utoipa::path(post, path = "/v1/admin/users/{user}/unsuspend", tag = "admin", security(("bearer" = [])),
    params(("user" = String, Path, description = "user id")),
    responses((status = 200, body = Data<AdminUserView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unsuspend_user(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(user): Path<String>,
    ClientMeta(meta): ClientMeta,
) -> Result<Json<Data<AdminUserView>>, ApiError> {
    Ok(data(state.tenantry.admin().admin_set_suspended(path_id(&user, "user")?, false, &meta).await?.into()))
}

/// The email outbox, newest first.
#[utoipa::path(get, path = "/v1/admin/outbox", tag = "admin", security(("bearer" = [])),
    params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = List<OutboxView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_outbox(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Pagination(page): Pagination,
) -> Result<Json<List<OutboxView>>, ApiError> {
    let page = state.tenantry.admin().admin_list_outbox(&page).await?;
    Ok(list(page, OutboxView::from))
}
