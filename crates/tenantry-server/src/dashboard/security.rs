//! The account's security: setting up two-step verification (QR code, then a first code, then the
//! recovery codes shown once), turning it off, and the sessions list with sign-out buttons. The
//! account page shows the state of both (`account.rs`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tenantry_core::domain::ids::SessionId;
use tenantry_core::service::mfa::TotpEnrolment;

use super::account;
use super::context::{safe_return_path, Ctx};
use super::shell::{Problem, Shell};
use crate::routes::pages::Form;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "dashboard/mfa_setup.html")]
struct SetupPage {
    shell: Shell,
    problem: Problem,
    secret: String,
    /// Our own SVG, from the secret's URL: no user input reaches it unescaped.
    qr_svg: String,
    next: String,
}

#[derive(Template)]
#[template(path = "dashboard/recovery_codes.html")]
struct RecoveryCodesPage {
    shell: Shell,
    codes: Vec<String>,
    next: String,
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct StartForm {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    code: String,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct DisableForm {
    password: String,
    code: String,
}

#[derive(Deserialize)]
pub struct Nothing {}

fn setup_page(ctx: &Ctx, status: StatusCode, problem: Problem, enrolment: TotpEnrolment, next: String) -> Response {
    let page = SetupPage {
        shell: ctx.shell("Set up two-step verification"),
        problem,
        secret: enrolment.secret,
        qr_svg: enrolment.qr_svg,
        next,
    };
    ctx.page(status, &page)
}

/// The pending set-up (its QR code again), or the account page when none is pending.
pub async fn show_setup(ctx: Ctx, Query(query): Query<Next>) -> Response {
    let user = or_respond!(ctx.require_user());
    let next = safe_return_path(query.next.as_deref());
    match shown_or_error!(ctx, ctx.state.tenantry.mfa().pending_totp(&user).await) {
        Some(enrolment) => setup_page(&ctx, StatusCode::OK, Problem::none(), enrolment, next),
        None => ctx.redirect("/app/account", None),
    }
}

/// Starts set-up: a new secret, shown as a QR code, waiting for a first code.
pub async fn start(ctx: Ctx, State(state): State<AppState>, Form(form): Form<StartForm>) -> Response {
    let user = or_respond!(ctx.require_user());
    let next = safe_return_path(form.next.as_deref());
    match state.tenantry.mfa().start_totp(&user).await {
        Ok(_) => ctx.redirect(&format!("/app/account/mfa?next={}", super::context::encode(&next)), None),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            account::render(ctx, status, problem).await
        }
    }
}

/// Confirms set-up with a first code and shows the recovery codes, this once.
pub async fn confirm(ctx: Ctx, State(state): State<AppState>, Form(form): Form<ConfirmForm>) -> Response {
    let user = or_respond!(ctx.require_user());
    let next = safe_return_path(form.next.as_deref());
    match state.tenantry.mfa().confirm_totp(&user, &form.code, &ctx.meta).await {
        Ok(codes) => {
            let page = RecoveryCodesPage { shell: ctx.shell("Your recovery codes"), codes, next };
            ctx.page(StatusCode::OK, &page)
        }
        Err(error) => {
            let (status, mut problem) = Problem::from_error(error);
            if problem.field.is_some() {
                problem.field = Some("code".into());
            }
            match shown_or_error!(ctx, state.tenantry.mfa().pending_totp(&user).await) {
                Some(enrolment) => setup_page(&ctx, status, problem, enrolment, next),
                None => account::render(ctx, status, problem).await,
            }
        }
    }
}

pub async fn disable(ctx: Ctx, State(state): State<AppState>, Form(form): Form<DisableForm>) -> Response {
    let user = or_respond!(ctx.require_user());
    match state.tenantry.mfa().disable_totp(&user, &form.password, &form.code, &ctx.meta).await {
        Ok(()) => ctx.redirect("/app/account", Some("Two-step verification is off.")),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            account::render(ctx, status, problem).await
        }
    }
}

pub async fn revoke_session(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(_): Form<Nothing>,
) -> Response {
    let user = or_respond!(ctx.require_user());
    let Ok(id) = id.parse::<SessionId>() else {
        return account::render(ctx, StatusCode::NOT_FOUND, Problem::text("There is no such session.")).await;
    };
    match state.tenantry.sessions().revoke_session(&user, &id, &ctx.meta).await {
        Ok(()) if id == user.session_id => ctx.redirect("/login", Some("You signed out of this browser.")),
        Ok(()) => ctx.redirect("/app/account", Some("That session was signed out.")),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            account::render(ctx, status, problem).await
        }
    }
}

pub async fn revoke_others(ctx: Ctx, State(state): State<AppState>, Form(_): Form<Nothing>) -> Response {
    let user = or_respond!(ctx.require_user());
    match state.tenantry.sessions().revoke_other_sessions(&user, &ctx.meta).await {
        Ok(()) => ctx.redirect("/app/account", Some("Every other session was signed out.")),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            account::render(ctx, status, problem).await
        }
    }
}
