//! `/v1/orgs/{org}/roles`: the preset's built-in roles and the org's custom roles.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::service::roles::{RoleInput, RolePatch};
use tenantry_types::roles::{CreateRoleBody, UpdateRoleBody};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, ClientMeta};
use crate::state::AppState;
use crate::views::{data, Data, ErrorBody, RoleView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_roles, create_role)).routes(routes!(update_role, delete_role))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteRoleParams {
    /// The role that members holding the deleted role move to. Required while anyone holds it.
    pub reassign_to: Option<String>,
}

/// Every role usable in the org: the preset's built-ins, then the org's custom roles.
#[utoipa::path(get, path = "/v1/orgs/{org}/roles", tag = "roles", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 200, body = Data<Vec<RoleView>>), (status = 404, body = ErrorBody)))]
pub async fn list_roles(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
) -> Result<Json<Data<Vec<RoleView>>>, ApiError> {
    let roles = state.tenantry.roles().list_roles(&caller, &org).await?;
    Ok(data(roles.iter().map(|r| RoleView::new(r, state.tenantry.preset())).collect()))
}

/// Define a custom role (`members.change_role`; plan feature `custom_roles`).
#[utoipa::path(post, path = "/v1/orgs/{org}/roles", tag = "roles", security(("bearer" = [])), request_body(content = CreateRoleBody, example = json!({"key": "support", "name": "Support", "permissions": ["endpoints.view", "requests.replay"]})),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 201, body = Data<RoleView>), (status = 400, body = ErrorBody), (status = 402, description = "plan_limit_reached", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "role_exists", body = ErrorBody)))]
pub async fn create_role(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<CreateRoleBody>,
) -> Result<(StatusCode, Json<Data<RoleView>>), ApiError> {
    let input = RoleInput { key: body.key, name: body.name, permissions: body.permissions };
    let role = state.tenantry.roles().create_role(&caller, &org, input, &meta).await?;
    Ok((StatusCode::CREATED, data(RoleView::new(&role, state.tenantry.preset()))))
}

/// Rename a custom role or replace its permissions (`members.change_role`).
#[utoipa::path(patch, path = "/v1/orgs/{org}/roles/{key}", tag = "roles", security(("bearer" = [])), request_body(content = UpdateRoleBody, example = json!({"name": "Customer support", "permissions": ["endpoints.view"]})),
    params(("org" = String, Path, description = "org id or slug"), ("key" = String, Path, description = "role key")),
    responses((status = 200, body = Data<RoleView>), (status = 400, body = ErrorBody), (status = 402, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_role(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, key)): Path<(OrgRef, String)>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<UpdateRoleBody>,
) -> Result<Json<Data<RoleView>>, ApiError> {
    let patch = RolePatch { name: body.name, permissions: body.permissions };
    let role = state.tenantry.roles().update_role(&caller, &org, &key, patch, &meta).await?;
    Ok(data(RoleView::new(&role, state.tenantry.preset())))
}

/// Delete a custom role (`members.change_role`). While members hold it, `reassign_to` must name
/// the role they move to; otherwise 409 `role_in_use`.
#[utoipa::path(delete, path = "/v1/orgs/{org}/roles/{key}", tag = "roles", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug"), ("key" = String, Path, description = "role key"), DeleteRoleParams),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "role_in_use", body = ErrorBody)))]
pub async fn delete_role(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, key)): Path<(OrgRef, String)>,
    ApiQuery(params): ApiQuery<DeleteRoleParams>,
    ClientMeta(meta): ClientMeta,
) -> Result<StatusCode, ApiError> {
    state.tenantry.roles().delete_role(&caller, &org, &key, params.reassign_to.as_deref(), &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
