//! `/v1/orgs`: create, list, read, update and delete organizations.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::service::orgs::OrgPatch;
use tenantry_types::orgs::{CreateOrgBody, DeleteOrgBody, UpdateOrgBody};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AuthUser, Caller};
use crate::error::ApiError;
use crate::extract::{ApiJson, ClientMeta, Pagination};
use crate::state::AppState;
use crate::views::{data, list, Data, ErrorBody, List, OrgView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_orgs, create_org)).routes(routes!(get_org, update_org, delete_org))
}

/// The orgs you belong to, with your role in each.
#[utoipa::path(get, path = "/v1/orgs", tag = "orgs", security(("bearer" = [])),
    params(("limit" = Option<u32>, Query, description = "1–100, default 20"), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = List<OrgView>), (status = 401, body = ErrorBody)))]
pub async fn list_orgs(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Pagination(page): Pagination,
) -> Result<Json<List<OrgView>>, ApiError> {
    let page = state.tenantry.orgs().list_my_orgs(&user, &page).await?;
    Ok(list(page, |org| OrgView::with_role(&org)))
}

/// Create an org; you become its owner.
#[utoipa::path(post, path = "/v1/orgs", tag = "orgs", security(("bearer" = [])), request_body(content = CreateOrgBody, example = json!({"name": "Acme, Inc.", "slug": "acme", "metadata": {"region": "eu"}})),
    responses((status = 201, body = Data<OrgView>), (status = 400, body = ErrorBody), (status = 409, description = "slug_taken", body = ErrorBody)))]
pub async fn create_org(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<CreateOrgBody>,
) -> Result<(StatusCode, Json<Data<OrgView>>), ApiError> {
    let org = state.tenantry.orgs().create_org(&user, body.name, body.slug, body.metadata, &meta).await?;
    Ok((StatusCode::CREATED, data(OrgView::with_role(&org))))
}

/// An org you belong to, by id or slug.
#[utoipa::path(get, path = "/v1/orgs/{org}", tag = "orgs", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 200, body = Data<OrgView>), (status = 404, body = ErrorBody)))]
pub async fn get_org(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
) -> Result<Json<Data<OrgView>>, ApiError> {
    let access = state.tenantry.orgs().get_org(&caller, &org).await?;
    Ok(data(OrgView::for_caller(&access)))
}

/// Rename an org or replace its metadata (`org.manage`).
#[utoipa::path(patch, path = "/v1/orgs/{org}", tag = "orgs", security(("bearer" = [])), request_body(content = UpdateOrgBody, example = json!({"name": "Acme Corp", "metadata": {"region": "eu", "tier": "gold"}})),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 200, body = Data<OrgView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_org(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<UpdateOrgBody>,
) -> Result<Json<Data<OrgView>>, ApiError> {
    if body.slug.is_some() {
        return Err(ApiError::invalid("slug", "is immutable after creation"));
    }
    let patch = OrgPatch { name: body.name, metadata: body.metadata };
    let access = state.tenantry.orgs().update_org(&caller, &org, patch, &meta).await?;
    Ok(data(OrgView::for_caller(&access)))
}

/// Delete an org (owner only, confirming with its slug). Its memberships, invitations and API keys
/// go with it; users and the audit log remain. A personal org cannot be deleted while it is its
/// owner's only org.
#[utoipa::path(delete, path = "/v1/orgs/{org}", tag = "orgs", security(("bearer" = [])), request_body(content = DeleteOrgBody, example = json!({"confirm_slug": "acme"})),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "only_org", body = ErrorBody)))]
pub async fn delete_org(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<DeleteOrgBody>,
) -> Result<StatusCode, ApiError> {
    state.tenantry.orgs().delete_org(&caller, &org, &body.confirm_slug, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
