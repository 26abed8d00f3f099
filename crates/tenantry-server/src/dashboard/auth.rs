//! Signing up, logging in and out, and asking for a password reset.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tenantry_core::service::accounts::SignupInput;
use tenantry_core::service::mfa::{LoginOutcome, SecondFactor};

use super::context::{safe_return_path, Ctx};
use super::session::{sign_in_cookies, sign_out_cookies};
use super::shell::{Problem, Shell};
use crate::routes::pages::Form;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "dashboard/login.html")]
struct LoginPage {
    shell: Shell,
    problem: Problem,
    next: String,
    email: String,
}

/// The second step of a login with MFA.
#[derive(Template)]
#[template(path = "dashboard/login_mfa.html")]
struct LoginMfaPage {
    shell: Shell,
    problem: Problem,
    next: String,
    mfa_token: String,
}

#[derive(Deserialize)]
pub struct LoginMfaForm {
    mfa_token: String,
    code: String,
    next: Option<String>,
}

/// The page asking for the code, after a password that was right for an account with MFA.
pub(crate) fn second_step(
    ctx: &Ctx,
    status: StatusCode,
    problem: Problem,
    mfa_token: String,
    next: String,
) -> Response {
    let page = LoginMfaPage { shell: ctx.shell("Two-step verification"), problem, next, mfa_token };
    ctx.page(status, &page)
}

/// What a login answered, as the page that follows it: signed in (cookies, then `next`) or the
/// second step.
pub(crate) fn after_login(mut ctx: Ctx, state: &AppState, outcome: LoginOutcome, next: String) -> Response {
    match outcome {
        LoginOutcome::SignedIn(signed_in) => {
            ctx.add_cookies(sign_in_cookies(state, &signed_in.tokens));
            ctx.redirect(&next, None)
        }
        LoginOutcome::MfaRequired { mfa_token } => second_step(&ctx, StatusCode::OK, Problem::none(), mfa_token, next),
    }
}

/// The one field of the second step takes either kind of code: six digits are the app's.
fn second_factor(typed: &str) -> SecondFactor {
    let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
        SecondFactor::Code(digits)
    } else {
        SecondFactor::RecoveryCode(typed.to_owned())
    }
}

pub async fn login_mfa(mut ctx: Ctx, State(state): State<AppState>, Form(form): Form<LoginMfaForm>) -> Response {
    let next = safe_return_path(form.next.as_deref());
    match state.tenantry.mfa().login_mfa(&form.mfa_token, second_factor(&form.code), &ctx.meta).await {
        Ok(signed_in) => {
            ctx.add_cookies(sign_in_cookies(&state, &signed_in.tokens));
            ctx.redirect(&next, None)
        }
        Err(error) => {
            let (status, mut problem) = Problem::from_error(error);
            if problem.field.is_some() {
                problem.field = Some("code".into());
            }
            second_step(&ctx, status, problem, form.mfa_token, next)
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/signup.html")]
struct SignupPage {
    shell: Shell,
    problem: Problem,
    display_name: String,
    email: String,
}

#[derive(Template)]
#[template(path = "dashboard/forgot.html")]
struct ForgotPage {
    shell: Shell,
    problem: Problem,
    sent: bool,
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct SignupForm {
    display_name: String,
    email: String,
    password: String,
}

#[derive(Deserialize)]
pub struct EmailForm {
    email: String,
}

pub async fn show_login(ctx: Ctx, Query(query): Query<Next>) -> Response {
    let next = safe_return_path(query.next.as_deref());
    if ctx.user.is_some() {
        return ctx.redirect(&next, None);
    }
    let page = LoginPage { shell: ctx.shell("Log in"), problem: Problem::none(), next, email: String::new() };
    ctx.page(StatusCode::OK, &page)
}

pub async fn login(ctx: Ctx, State(state): State<AppState>, Form(form): Form<LoginForm>) -> Response {
    let next = safe_return_path(form.next.as_deref());
    match state.tenantry.accounts().login(&form.email, &form.password, &ctx.meta).await {
        Ok(outcome) => after_login(ctx, &state, outcome, next),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            let page = LoginPage { shell: ctx.shell("Log in"), problem, next, email: form.email };
            ctx.page(status, &page)
        }
    }
}

pub async fn show_signup(ctx: Ctx) -> Response {
    if ctx.user.is_some() {
        return ctx.redirect("/app", None);
    }
    let page = SignupPage {
        shell: ctx.shell("Sign up"),
        problem: Problem::none(),
        display_name: String::new(),
        email: String::new(),
    };
    ctx.page(StatusCode::OK, &page)
}

pub async fn signup(mut ctx: Ctx, State(state): State<AppState>, Form(form): Form<SignupForm>) -> Response {
    let input =
        SignupInput { email: form.email.clone(), password: form.password, display_name: form.display_name.clone() };
    match state.tenantry.accounts().signup(input, &ctx.meta).await {
        Ok(signed_in) => {
            ctx.add_cookies(sign_in_cookies(&state, &signed_in.tokens));
            let notice =
                format!("Welcome! We sent a link to {} to confirm your address.", signed_in.user.email.as_str());
            ctx.redirect("/app", Some(&notice))
        }
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            let page =
                SignupPage { shell: ctx.shell("Sign up"), problem, display_name: form.display_name, email: form.email };
            ctx.page(status, &page)
        }
    }
}

pub async fn show_forgot(ctx: Ctx) -> Response {
    let page = ForgotPage { shell: ctx.shell("Reset your password"), problem: Problem::none(), sent: false };
    ctx.page(StatusCode::OK, &page)
}

pub async fn forgot(ctx: Ctx, State(state): State<AppState>, Form(form): Form<EmailForm>) -> Response {
    let (status, problem, sent) = match state.tenantry.accounts().request_password_reset(&form.email, &ctx.meta).await {
        Ok(()) => (StatusCode::OK, Problem::none(), true),
        Err(error) => {
            let (status, problem) = Problem::from_error(error);
            (status, problem, false)
        }
    };
    let page = ForgotPage { shell: ctx.shell("Reset your password"), problem, sent };
    ctx.page(status, &page)
}

pub async fn logout(mut ctx: Ctx, State(state): State<AppState>, Form(_): Form<super::NoFields>) -> Response {
    if let Some(user) = ctx.user.clone() {
        if let Err(error) = state.tenantry.accounts().logout(&user, &ctx.meta).await {
            tracing::warn!(%error, "could not end a dashboard session");
        }
    }
    ctx.add_cookies(sign_out_cookies(&state));
    ctx.redirect("/login", Some("You are logged out."))
}

#[derive(Template)]
#[template(path = "dashboard/logout.html")]
struct LogoutPage {
    shell: Shell,
}

/// `GET /logout`: a button, since logging out changes something and so is a POST.
pub async fn show_logout(ctx: Ctx) -> Response {
    let page = LogoutPage { shell: ctx.shell("Log out") };
    ctx.page(StatusCode::OK, &page)
}
