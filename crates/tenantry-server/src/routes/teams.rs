//! `/v1/orgs/{org}/teams`: an org's teams and their members (SPEC 13).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use tenantry_core::domain::ids::{OrgRef, TeamRef};
use tenantry_core::service::teams::{NewTeam, TeamPatch};
use tenantry_types::teams::{
    AddTeamMemberBody, CreateTeamBody, TeamMemberView, TeamRoleBody, TeamView, UpdateTeamBody,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{path_id, ApiJson, ClientMeta, Pagination};
use crate::state::AppState;
use crate::views::{data, list, Data, ErrorBody, List};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_teams, create_team))
        .routes(routes!(get_team, update_team, delete_team))
        .routes(routes!(list_team_members, add_team_member))
        .routes(routes!(change_team_member_role, remove_team_member))
}

/// The teams of an org you belong to, oldest first.
#[utoipa::path(get, path = "/v1/orgs/{org}/teams", tag = "teams", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug"), ("limit" = Option<u32>, Query, description = "1–100, default 20"), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = List<TeamView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_teams(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    Pagination(page): Pagination,
) -> Result<Json<List<TeamView>>, ApiError> {
    let page = state.tenantry.teams().list_teams(&caller, &org, &page).await?;
    Ok(list(page, |team| TeamView::from(&team)))
}

/// Create a team (`teams.manage`), within the plan's `teams` limit.
#[utoipa::path(post, path = "/v1/orgs/{org}/teams", tag = "teams", security(("bearer" = [])), request_body(content = CreateTeamBody, example = json!({"name": "Platform", "slug": "platform", "description": "Runs the platform", "metadata": {"area": "infra"}})),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 201, body = Data<TeamView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 402, description = "plan_limit_reached", body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "slug_taken", body = ErrorBody)))]
pub async fn create_team(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<CreateTeamBody>,
) -> Result<(StatusCode, Json<Data<TeamView>>), ApiError> {
    let new = NewTeam { name: body.name, slug: body.slug, description: body.description, metadata: body.metadata };
    let team = state.tenantry.teams().create_team(&caller, &org, new, &meta).await?;
    Ok((StatusCode::CREATED, data(TeamView::from(&team))))
}

/// One team, by id or slug.
#[utoipa::path(get, path = "/v1/orgs/{org}/teams/{team}", tag = "teams", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug"), ("team" = String, Path, description = "team id or slug")),
    responses((status = 200, body = Data<TeamView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_team(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, team)): Path<(OrgRef, String)>,
) -> Result<Json<Data<TeamView>>, ApiError> {
    let team = state.tenantry.teams().get_team(&caller, &org, &TeamRef::from(team)).await?;
    Ok(data(TeamView::from(&team)))
}

/// Edit a team (`teams.manage`, or `team.manage` in this team).
#[utoipa::path(patch, path = "/v1/orgs/{org}/teams/{team}", tag = "teams", security(("bearer" = [])), request_body(content = UpdateTeamBody, example = json!({"name": "Platform Core", "description": "Runs the core platform"})),
    params(("org" = String, Path, description = "org id or slug"), ("team" = String, Path, description = "team id or slug")),
    responses((status = 200, body = Data<TeamView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "slug_taken", body = ErrorBody)))]
pub async fn update_team(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, team)): Path<(OrgRef, String)>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<UpdateTeamBody>,
) -> Result<Json<Data<TeamView>>, ApiError> {
    let patch = TeamPatch { name: body.name, slug: body.slug, description: body.description, metadata: body.metadata };
    let team = state.tenantry.teams().update_team(&caller, &org, &TeamRef::from(team), patch, &meta).await?;
    Ok(data(TeamView::from(&team)))
}

/// Delete a team and its memberships (`teams.manage`).
#[utoipa::path(delete, path = "/v1/orgs/{org}/teams/{team}", tag = "teams", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug"), ("team" = String, Path, description = "team id or slug")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_team(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, team)): Path<(OrgRef, String)>,
    ClientMeta(meta): ClientMeta,
) -> Result<StatusCode, ApiError> {
    state.tenantry.teams().delete_team(&caller, &org, &TeamRef::from(team), &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The members of a team, with their team role.
#[utoipa::path(get, path = "/v1/orgs/{org}/teams/{team}/members", tag = "teams", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug"), ("team" = String, Path, description = "team id or slug"),
        ("limit" = Option<u32>, Query, description = "1–100, default 20"), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = List<TeamMemberView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_team_members(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, team)): Path<(OrgRef, String)>,
    Pagination(page): Pagination,
) -> Result<Json<List<TeamMemberView>>, ApiError> {
    let page = state.tenantry.teams().list_team_members(&caller, &org, &TeamRef::from(team), &page).await?;
    Ok(list(page, |member| TeamMemberView::from(&member)))
}

/// Add an org member to the team with a team role (the team's managers; nobody grants a team
/// role holding a permission they lack).
#[utoipa::path(post, path = "/v1/orgs/{org}/teams/{team}/members", tag = "teams", security(("bearer" = [])),
    request_body(content = AddTeamMemberBody, example = json!({"user_id": "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M", "role": "lead"})),
    params(("org" = String, Path, description = "org id or slug"), ("team" = String, Path, description = "team id or slug")),
    responses((status = 201, body = Data<TeamMemberView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "already_team_member", body = ErrorBody)))]
pub async fn add_team_member(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, team)): Path<(OrgRef, String)>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<AddTeamMemberBody>,
) -> Result<(StatusCode, Json<Data<TeamMemberView>>), ApiError> {
    let team = TeamRef::from(team);
    let member = state.tenantry.teams().add_team_member(&caller, &org, &team, body.user_id, &body.role, &meta).await?;
    Ok((StatusCode::CREATED, data(TeamMemberView::from(&member))))
}

/// Change a team member's team role (the team's managers, without escalation).
#[utoipa::path(patch, path = "/v1/orgs/{org}/teams/{team}/members/{user}", tag = "teams", security(("bearer" = [])),
    request_body(content = TeamRoleBody, example = json!({"role": "member"})),
    params(("org" = String, Path, description = "org id or slug"), ("team" = String, Path, description = "team id or slug"),
        ("user" = String, Path, description = "user id")),
    responses((status = 200, body = Data<TeamMemberView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn change_team_member_role(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, team, user)): Path<(OrgRef, String, String)>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<TeamRoleBody>,
) -> Result<Json<Data<TeamMemberView>>, ApiError> {
    let (team, user) = (TeamRef::from(team), path_id(&user, "team member")?);
    let member = state.tenantry.teams().change_team_member_role(&caller, &org, &team, user, &body.role, &meta).await?;
    Ok(data(TeamMemberView::from(&member)))
}

/// Remove someone from the team (the team's managers); removing yourself is leaving the team.
#[utoipa::path(delete, path = "/v1/orgs/{org}/teams/{team}/members/{user}", tag = "teams", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug"), ("team" = String, Path, description = "team id or slug"),
        ("user" = String, Path, description = "user id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_team_member(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, team, user)): Path<(OrgRef, String, String)>,
    ClientMeta(meta): ClientMeta,
) -> Result<StatusCode, ApiError> {
    let (team, user) = (TeamRef::from(team), path_id(&user, "team member")?);
    state.tenantry.teams().remove_team_member(&caller, &org, &team, user, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
