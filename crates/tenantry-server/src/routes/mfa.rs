//! SPEC 14: the second step of a login, TOTP enrolment and removal, the sessions list, an org's
//! MFA impact and the instance admin's MFA reset.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use tenantry_core::domain::ids::{OrgRef, SessionId, UserId};
use tenantry_core::service::mfa::SecondFactor;
use tenantry_core::service::Principal;
use tenantry_types::accounts::SessionView;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AdminAuth, AuthUser, Caller};
use crate::error::ApiError;
use crate::extract::{path_id, ApiJson, ClientMeta};
use crate::state::AppState;
use crate::views::{data, Data, ErrorBody, MemberView};
use tenantry_types::mfa::{
    CodeBody, DisableTotpBody, LoginMfaBody, MfaStatusView, RecoveryCodesView, SessionInfoView, TotpEnrolmentView,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login_mfa))
        .routes(routes!(mfa_status))
        .routes(routes!(start_totp, disable_totp))
        .routes(routes!(confirm_totp))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(revoke_other_sessions))
        .routes(routes!(mfa_impact))
        .routes(routes!(reset_mfa))
}

/// Finish a login with MFA: the `mfa_token` and a code (or a recovery code).
#[utoipa::path(post, path = "/v1/auth/login/mfa", tag = "accounts", request_body(content = LoginMfaBody, example = json!({"mfa_token": "mfa_5dWq1cR8Yt2Hn7Pk3Lm9Vb4Xz", "code": "123456"})),
    responses((status = 200, body = Data<SessionView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn login_mfa(
    State(state): State<AppState>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<LoginMfaBody>,
) -> Result<Json<Data<SessionView>>, ApiError> {
    let factor = match (body.code, body.recovery_code) {
        (Some(code), None) => SecondFactor::Code(code),
        (None, Some(code)) => SecondFactor::RecoveryCode(code),
        _ => return Err(tenantry_core::Error::invalid("code", "give exactly one of `code` and `recovery_code`").into()),
    };
    Ok(data(state.tenantry.mfa().login_mfa(&body.mfa_token, factor, &meta).await?.into()))
}

/// Whether your account has MFA, and how many recovery codes are left.
#[utoipa::path(get, path = "/v1/me/mfa", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Data<MfaStatusView>), (status = 401, body = ErrorBody)))]
pub async fn mfa_status(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Data<MfaStatusView>>, ApiError> {
    let (enabled, recovery_codes_left) = state.tenantry.mfa().mfa_status(&user).await?;
    Ok(data(MfaStatusView { enabled, recovery_codes_left }))
}

/// Start TOTP enrolment: a secret (and its QR code) for an authenticator app, pending until
/// confirmed. Starting again replaces a pending secret.
#[utoipa::path(post, path = "/v1/me/mfa/totp", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Data<TotpEnrolmentView>), (status = 401, body = ErrorBody),
        (status = 409, description = "mfa_already_enabled", body = ErrorBody)))]
pub async fn start_totp(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Data<TotpEnrolmentView>>, ApiError> {
    Ok(data(state.tenantry.mfa().start_totp(&user).await?.into()))
}

/// Confirm enrolment with a code from the app; returns ten recovery codes, shown once.
#[utoipa::path(post, path = "/v1/me/mfa/totp/confirm", tag = "accounts", security(("bearer" = [])), request_body(content = CodeBody, example = json!({"code": "123456"})),
    responses((status = 200, body = Data<RecoveryCodesView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn confirm_totp(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Json<Data<RecoveryCodesView>>, ApiError> {
    let recovery_codes = state.tenantry.mfa().confirm_totp(&user, &body.code, &meta).await?;
    Ok(data(RecoveryCodesView { recovery_codes }))
}

/// Turn MFA off, with the password and a code.
#[utoipa::path(delete, path = "/v1/me/mfa/totp", tag = "accounts", security(("bearer" = [])), request_body(content = DisableTotpBody, example = json!({"password": "correct horse battery", "code": "123456"})),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn disable_totp(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<DisableTotpBody>,
) -> Result<StatusCode, ApiError> {
    state.tenantry.mfa().disable_totp(&user, &body.password, &body.code, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Your live sessions, most recently used first.
#[utoipa::path(get, path = "/v1/me/sessions", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Data<Vec<SessionInfoView>>), (status = 401, body = ErrorBody)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Data<Vec<SessionInfoView>>>, ApiError> {
    let sessions = state.tenantry.sessions().list_sessions(&user).await?;
    Ok(data(sessions.into_iter().map(SessionInfoView::from).collect()))
}

/// End one of your sessions; its tokens stop working on the next request.
#[utoipa::path(delete, path = "/v1/me/sessions/{session}", tag = "accounts", security(("bearer" = [])),
    params(("session" = String, Path, description = "session id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_session(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(session): Path<String>,
    ClientMeta(meta): ClientMeta,
) -> Result<StatusCode, ApiError> {
    let id: SessionId = path_id(&session, "session")?;
    state.tenantry.sessions().revoke_session(&user, &id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End every session but this one.
#[utoipa::path(post, path = "/v1/me/sessions/revoke-others", tag = "accounts", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn revoke_other_sessions(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ClientMeta(meta): ClientMeta,
) -> Result<StatusCode, ApiError> {
    state.tenantry.sessions().revoke_other_sessions(&user, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The members turning `security.mfa_required` on would refuse (those without MFA; at most
/// 1,000). Needs `org.manage`.
#[utoipa::path(get, path = "/v1/orgs/{org}/mfa-impact", tag = "settings", security(("bearer" = [])),
    params(("org" = String, Path, description = "org id or slug")),
    responses((status = 200, body = Data<Vec<MemberView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn mfa_impact(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<OrgRef>,
) -> Result<Json<Data<Vec<MemberView>>>, ApiError> {
    let members = state.tenantry.mfa().mfa_impact(&caller, &org).await?;
    Ok(data(members.iter().map(MemberView::from).collect()))
}

/// Remove a user's MFA (lost phone and recovery codes); their sessions end too.
#[utoipa::path(post, path = "/v1/admin/users/{user}/mfa/reset", tag = "admin", security(("bearer" = [])),
    params(("user" = String, Path, description = "user id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "mfa_not_enabled", body = ErrorBody)))]
pub async fn reset_mfa(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(user): Path<String>,
    ClientMeta(meta): ClientMeta,
) -> Result<StatusCode, ApiError> {
    let user: UserId = path_id(&user, "user")?;
    state.tenantry.mfa().reset_mfa(&Principal::Admin, &user, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
