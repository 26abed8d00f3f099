//! `/app/account`: the viewer's profile, a new verification email while the address is not
//! confirmed, changing the password (which ends the account's other sessions), and the state of
//! two-step verification and of the sessions, whose forms `security.rs` answers.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use tenantry_core::service::sessions::SessionInfo;

use super::context::Ctx;
use super::date;
use super::shell::{Problem, Shell};
use crate::routes::pages::Form;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "dashboard/account.html")]
struct AccountPage {
    shell: Shell,
    problem: Problem,
    name: String,
    email: String,
    verified: bool,
    member_since: String,
    mfa_enabled: bool,
    recovery_codes_left: u32,
    sessions: Vec<SessionRow>,
}

/// One session in the sessions list.
struct SessionRow {
    id: String,
    started: String,
    last_used: String,
    from: String,
    device: String,
    two_step: bool,
    current: bool,
}

impl From<SessionInfo> for SessionRow {
    fn from(info: SessionInfo) -> Self {
        let s = info.session;
        Self {
            id: s.id.to_string(),
            started: date(s.created_at),
            last_used: s.last_used_at.map(date).unwrap_or_default(),
            from: s.ip.unwrap_or_else(|| "unknown".into()),
            device: s.user_agent.map(|a| a.chars().take(80).collect()).unwrap_or_else(|| "unknown".into()),
            two_step: s.amr.iter().any(|f| f == "otp"),
            current: info.current,
        }
    }
}

/// The account page, with the refusal of the last form (if any) on top and beside its field.
pub(super) async fn render(ctx: Ctx, status: StatusCode, problem: Problem) -> Response {
    let user = or_respond!(ctx.require_user());
    let me = shown_or_error!(ctx, ctx.state.tenantry.accounts().me(&user).await);
    let (mfa_enabled, recovery_codes_left) = shown_or_error!(ctx, ctx.state.tenantry.mfa().mfa_status(&user).await);
    let sessions = shown_or_error!(ctx, ctx.state.tenantry.sessions().list_sessions(&user).await);
    let shell = ctx.shell("Your account").with_viewer(&me, None);
    let page = AccountPage {
        shell,
        problem,
        name: me.user.display_name.clone(),
        email: me.user.email.as_str().to_owned(),
        verified: me.user.email_verified_at.is_some(),
        member_since: date(me.user.created_at),
        mfa_enabled,
        recovery_codes_left,
        sessions: sessions.into_iter().map(SessionRow::from).collect(),
    };
    ctx.page(status, &page)
}

pub async fn show(ctx: Ctx) -> Response {
    render(ctx, StatusCode::OK, Problem::none()).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub async fn change_password(ctx: Ctx, State(state): State<AppState>, Form(form): Form<PasswordForm>) -> Response {
    let user = or_respond!(ctx.require_user());
    match state.tenantry.accounts().change_password(&user, &form.current_password, form.new_password, &ctx.meta).await {
        Ok(()) => ctx.redirect(
            "/app/account",
            Some("Your password was changed. Every other session of your account was ended."),
        ),
        Err(error) => {
            let (status, mut problem) = Problem::from_error(error);
            // The service refuses a wrong current password as the API does (403, no field); the
            // page shows that refusal beside the field it is about.
            if status == StatusCode::FORBIDDEN {
                problem.field = Some("current_password".into());
            }
            render(ctx, status, problem).await
        }
    }
}

#[derive(Deserialize)]
pub struct Nothing {}

pub async fn resend_verification(ctx: Ctx, State(state): State<AppState>, Form(_): Form<Nothing>) -> Response {
    let user = or_respond!(ctx.require_user());
    match state.tenantry.accounts().resend_verification(&user, &ctx.meta).await {
        Ok(email) => {
            let notice = format!("We sent a new link to {} to confirm the address.", email.as_str());
            ctx.redirect("/app/account", Some(&notice))
        }
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            render(ctx, status, problem).await
        }
    }
}
