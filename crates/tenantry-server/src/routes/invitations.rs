//! `/v1/orgs/{org}/invitations` (invite, list, revoke, resend) and `/v1/invitations/{token}`
//! (the public preview, accept, decline).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::service::invitations::NewInvitation;
use tenantry_types::invitations::InviteBody;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{path_id, ApiJson, ApiQuery, ClientMeta, Pagination};
use crate::state::AppState;
use crate::views::{
    data, list, AcceptedInvitationView, Data, ErrorBody, InvitationPreviewView, InvitationView, IssuedInvitationView,
    List,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_invitation, list_invitations))
        .routes(routes!(revoke_invitation))
        .routes(routes!(resend_invitation))
        .routes(routes!(preview_invitation))
        .routes(routes!(accept_invitation))
        .routes(routes!(decline_invitation))
}

#[derive(Deserialize)]
pub struct ListParams {
    state: Option<String>,
}

/// Invite someone by email (`members.invite`). The response alone carries the token and the
/// accept URL; the invitee also gets them by email.
#[utoipa::path(post, path = "/v1/orgs/{org}/invitations", tag = "invitations", security(("bearer" = [])),
    request_body(content = InviteBody, example = json!({"email": "grace@example.com", "role": "developer", "team_ids": ["team_01HX2Z8Q6Y3V4W5T6R7S8P9N0M"], "expires_in": 604800})), params(("org" = String, Path, description = "org id or slug")),
    responses((status = 201, body = Data<IssuedInvitationView>), (status = 400, body = ErrorBody),
        (status = 402, description = "plan_limit_reached: members plus pending invitations would exceed the plan", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "already_member or invitation_exists", body = ErrorBody)))]
pub async fn create_invitation(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<InviteBody>,
) -> Result<(StatusCode, Json<Data<IssuedInvitationView>>), ApiError> {
    let input =
        NewInvitation { email: body.email, role: body.role, team_ids: body.team_ids, expires_in: body.expires_in };
    let issued = state.tenantry.invitations().create_invitation(&caller, &org, input, &meta).await?;
    Ok((StatusCode::CREATED, data(issued.into())))
}

/// The org's invitations in creation order (`members.invite`), optionally in one state.
#[utoipa::path(get, path = "/v1/orgs/{org}/invitations", tag = "invitations", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug"),
        ("state" = Option<String>, Query, description = "Only the invitations in this state", pattern = "^(pending|accepted|expired|revoked|declined)$"),
        ("limit" = Option<u32>, Query, description = "1–100, default 20"), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = List<InvitationView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list_invitations(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
    ApiQuery(params): ApiQuery<ListParams>,
    Pagination(page): Pagination,
) -> Result<Json<List<InvitationView>>, ApiError> {
    let page = state.tenantry.invitations().list_invitations(&caller, &org, params.state.as_deref(), &page).await?;
    Ok(list(page, InvitationView::from))
}

/// Revoke a pending invitation (`members.invite`): its link stops working.
#[utoipa::path(delete, path = "/v1/orgs/{org}/invitations/{inv}", tag = "invitations", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug"), ("inv" = String, Path, description = "invitation id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "invitation_not_pending", body = ErrorBody), (status = 410, description = "invitation_expired", body = ErrorBody)))]
pub async fn revoke_invitation(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, inv)): Path<(OrgRef, String)>,
    ClientMeta(meta): ClientMeta,
) -> Result<StatusCode, ApiError> {
    state.tenantry.invitations().revoke_invitation(&caller, &org, path_id(&inv, "invitation")?, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a pending or expired invitation again (`members.invite`): a new token (the old link
/// stops working), 7 more days, and the caller as the inviter.
#[utoipa::path(post, path = "/v1/orgs/{org}/invitations/{inv}/resend", tag = "invitations", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug"), ("inv" = String, Path, description = "invitation id")),
    responses((status = 200, body = Data<IssuedInvitationView>), (status = 402, description = "plan_limit_reached", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "invitation_not_pending, already_member or invitation_exists", body = ErrorBody)))]
pub async fn resend_invitation(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, inv)): Path<(OrgRef, String)>,
    ClientMeta(meta): ClientMeta,
) -> Result<Json<Data<IssuedInvitationView>>, ApiError> {
    let issued =
        state.tenantry.invitations().resend_invitation(&caller, &org, path_id(&inv, "invitation")?, &meta).await?;
    Ok(data(issued.into()))
}

/// What an invitation link offers (public): the org, the inviter, the role, the state and the
/// expiry.
#[utoipa::path(get, path = "/v1/invitations/{token}", tag = "invitations",
    params(("token" = String, Path, description = "the token from the invitation link")),
    responses((status = 200, body = Data<InvitationPreviewView>), (status = 404, body = ErrorBody)))]
pub async fn preview_invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<Data<InvitationPreviewView>>, ApiError> {
    let preview = state.tenantry.invitations().preview_invitation(&token, None).await?;
    Ok(data(preview.into()))
}

/// Accept an invitation: the signed-in user, whose verified email must be the invited one,
/// joins the org with the invited role.
#[utoipa::path(post, path = "/v1/invitations/{token}/accept", tag = "invitations", security(("bearer" = [])),
    params(("token" = String, Path, description = "the token from the invitation link")),
    responses((status = 200, body = Data<AcceptedInvitationView>), (status = 401, body = ErrorBody),
        (status = 402, description = "plan_limit_reached", body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "invitation_not_pending, already_member or role_unavailable", body = ErrorBody),
        (status = 410, description = "invitation_expired", body = ErrorBody)))]
pub async fn accept_invitation(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(token): Path<String>,
    ClientMeta(meta): ClientMeta,
) -> Result<Json<Data<AcceptedInvitationView>>, ApiError> {
    let accepted = state.tenantry.invitations().accept_invitation(&caller, &token, &meta).await?;
    Ok(data(accepted.into()))
}

/// Decline an invitation (the invited, verified user).
#[utoipa::path(post, path = "/v1/invitations/{token}/decline", tag = "invitations", security(("bearer" = [])),
    params(("token" = String, Path, description = "the token from the invitation link")),
    responses((status = 200, body = Data<InvitationView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "invitation_not_pending", body = ErrorBody),
        (status = 410, description = "invitation_expired", body = ErrorBody)))]
pub async fn decline_invitation(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(token): Path<String>,
    ClientMeta(meta): ClientMeta,
) -> Result<Json<Data<InvitationView>>, ApiError> {
    let invitation = state.tenantry.invitations().decline_invitation(&caller, &token, &meta).await?;
    Ok(data(invitation.into()))
}
