//! `/v1/auth/*` and `/v1/me`: signup, login, tokens, the active org, email flows.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::service::accounts::SignupInput;
use tenantry_core::service::mfa::LoginOutcome;
use tenantry_types::accounts::{
    AcceptedView, LoginBody, LoginView, MeView, MfaChallengeView, RefreshBody, ResetConfirmBody, ResetRequestBody,
    SessionView, SignupBody, SwitchOrgBody, SwitchedView, TokenBody,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::extract::{ApiJson, ClientMeta};
use crate::state::AppState;
use crate::views::{data, Data, ErrorBody, OrgView, UserView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(switch_org))
        .routes(routes!(verify_email))
        .routes(routes!(request_password_reset))
        .routes(routes!(confirm_password_reset))
}

/// Create an account and its personal organization.
#[utoipa::path(post, path = "/v1/auth/signup", tag = "accounts", request_body(content = SignupBody, example = json!({"email": "ada@example.com", "password": "correct horse battery", "display_name": "Ada Lovelace"})),
    responses((status = 201, body = Data<SessionView>), (status = 400, body = ErrorBody), (status = 409, description = "email_taken", body = ErrorBody)))]
pub async fn signup(
    State(state): State<AppState>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<SignupBody>,
) -> Result<(StatusCode, Json<Data<SessionView>>), ApiError> {
    let input = SignupInput { email: body.email, password: body.password, display_name: body.display_name };
    let signed_in = state.tenantry.accounts().signup(input, &meta).await?;
    Ok((StatusCode::CREATED, data(signed_in.into())))
}

/// Log in with email and password. An account with MFA gets `{mfa_required, mfa_token}` and no
/// tokens; the code goes to `POST /v1/auth/login/mfa`.
#[utoipa::path(post, path = "/v1/auth/login", tag = "accounts", request_body(content = LoginBody, example = json!({"email": "ada@example.com", "password": "correct horse battery"})),
    responses((status = 200, body = Data<LoginView>), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Json<Data<LoginView>>, ApiError> {
    Ok(data(match state.tenantry.accounts().login(&body.email, &body.password, &meta).await? {
        LoginOutcome::SignedIn(signed_in) => LoginView::Session(Box::new((*signed_in).into())),
        LoginOutcome::MfaRequired { mfa_token } => LoginView::Mfa(MfaChallengeView { mfa_required: true, mfa_token }),
    }))
}

/// Exchange a refresh token for a new token pair. Reusing a refresh token ends its session.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "accounts", request_body(content = RefreshBody, example = json!({"refresh_token": "rt_3q2+7w9Zk1mX0pLs8VnB4cD6eF"})),
    responses((status = 200, body = Data<SessionView>), (status = 401, body = ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<Json<Data<SessionView>>, ApiError> {
    Ok(data(state.tenantry.accounts().refresh(&body.refresh_token).await?.into()))
}

/// End the current session (its refresh and access tokens).
#[utoipa::path(post, path = "/v1/auth/logout", tag = "accounts", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ClientMeta(meta): ClientMeta,
) -> Result<StatusCode, ApiError> {
    state.tenantry.accounts().logout(&user, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user with their orgs and roles.
#[utoipa::path(get, path = "/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Data<MeView>), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, AuthUser(user): AuthUser) -> Result<Response, ApiError> {
    // Host apps ask on every page load: the answer comes from a cache, which keeps its JSON.
    let body = state
        .tenantry
        .accounts()
        .me_rendered(&user, |me| {
            let view = MeView {
                user: UserView::from(&me.user),
                orgs: me.orgs.iter().map(OrgView::with_role).collect(),
                active_org_id: me.active_org_id.map(|id| id.to_string()),
            };
            serde_json::to_vec(&Data { data: view }).expect("an answer serialises to JSON")
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], Bytes::from_owner(body))
        .into_response())
}

/// Make another of your orgs the active one; returns an access token for it.
#[utoipa::path(post, path = "/v1/auth/switch-org", tag = "accounts", security(("bearer" = [])), request_body(content = SwitchOrgBody, example = json!({"org_id": "acme"})),
    responses((status = 200, body = Data<SwitchedView>), (status = 404, body = ErrorBody)))]
pub async fn switch_org(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(body): ApiJson<SwitchOrgBody>,
) -> Result<Json<Data<SwitchedView>>, ApiError> {
    let (access_token, expires_in, org) =
        state.tenantry.accounts().switch_org(&user, &OrgRef::from(body.org_id.as_str())).await?;
    Ok(data(SwitchedView { access_token, token_type: "Bearer".to_owned(), expires_in, org: OrgView::with_role(&org) }))
}

/// Confirm an email address with the token from the verification email.
#[utoipa::path(post, path = "/v1/auth/verify-email", tag = "accounts", request_body(content = TokenBody, example = json!({"token": "Qm9vdHN0cmFwIHRva2VuIGZyb20gdGhlIGVtYWls"})),
    responses((status = 204), (status = 400, body = ErrorBody)))]
pub async fn verify_email(
    State(state): State<AppState>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<StatusCode, ApiError> {
    state.tenantry.accounts().verify_email(&body.token, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Email a password reset link, if the address has an account (the answer is the same either way).
#[utoipa::path(post, path = "/v1/auth/password-reset/request", tag = "accounts", request_body(content = ResetRequestBody, example = json!({"email": "ada@example.com"})),
    responses((status = 202, body = Data<AcceptedView>), (status = 400, body = ErrorBody)))]
pub async fn request_password_reset(
    State(state): State<AppState>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<ResetRequestBody>,
) -> Result<(StatusCode, Json<Data<AcceptedView>>), ApiError> {
    state.tenantry.accounts().request_password_reset(&body.email, &meta).await?;
    Ok((
        StatusCode::ACCEPTED,
        data(AcceptedView { message: "if the address has an account, a reset link is on its way".to_owned() }),
    ))
}

/// Set a new password with the token from the reset email. Ends every session of the account.
#[utoipa::path(post, path = "/v1/auth/password-reset/confirm", tag = "accounts", request_body(content = ResetConfirmBody, example = json!({"token": "Qm9vdHN0cmFwIHRva2VuIGZyb20gdGhlIGVtYWls", "new_password": "another horse battery"})),
    responses((status = 204), (status = 400, body = ErrorBody)))]
pub async fn confirm_password_reset(
    State(state): State<AppState>,
    ClientMeta(meta): ClientMeta,
    ApiJson(body): ApiJson<ResetConfirmBody>,
) -> Result<StatusCode, ApiError> {
    state.tenantry.accounts().confirm_password_reset(&body.token, body.new_password, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
