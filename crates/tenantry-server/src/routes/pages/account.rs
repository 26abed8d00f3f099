//! `/verify-email/{token}` and `/reset-password/{token}`: the pages behind the links in the
//! verification and password-reset emails. Opening a link changes nothing; its form does.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::invite::{continue_to, RETURN_COOKIE};
use super::{cookie, keep_token_private, plausible_token, Form};
use crate::dashboard::{Ctx, Problem, Shell};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Confirm {}

#[derive(Deserialize)]
pub struct ResetForm {
    new_password: String,
}

enum VerifyView {
    Ask { action: String },
    Done { next_href: String, next_label: String },
    Invalid,
}

#[derive(Template)]
#[template(path = "dashboard/verify_email.html")]
struct VerifyPage {
    shell: Shell,
    problem: Problem,
    view: VerifyView,
}

enum ResetView {
    Ask { action: String },
    Done { next_href: String, next_label: String },
    Invalid,
}

#[derive(Template)]
#[template(path = "dashboard/reset_password.html")]
struct ResetPage {
    shell: Shell,
    problem: Problem,
    view: ResetView,
}

const INVALID_LINK: &str = "This link is not valid";

fn verify_page(ctx: &Ctx, status: StatusCode, title: &str, problem: Problem, view: VerifyView) -> Response {
    keep_token_private(ctx.page(status, &VerifyPage { shell: ctx.shell(title), problem, view }))
}

fn reset_page(ctx: &Ctx, status: StatusCode, title: &str, problem: Problem, view: ResetView) -> Response {
    keep_token_private(ctx.page(status, &ResetPage { shell: ctx.shell(title), problem, view }))
}

pub async fn show_verify(ctx: Ctx, Path(token): Path<String>) -> Response {
    if !plausible_token(&token) {
        return verify_page(&ctx, StatusCode::BAD_REQUEST, INVALID_LINK, Problem::none(), VerifyView::Invalid);
    }
    let view = VerifyView::Ask { action: format!("/verify-email/{token}") };
    verify_page(&ctx, StatusCode::OK, "Confirm your email address", Problem::none(), view)
}

pub async fn verify(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(_): Form<Confirm>,
) -> Response {
    match state.tenantry.accounts().verify_email(&token, &ctx.meta).await {
        Ok(()) => {
            // Back to the invitation this visitor signed up from, if any; else on into the app.
            let (next_href, next_label) = match cookie(&headers, RETURN_COOKIE).filter(|t| plausible_token(t)) {
                Some(invitation) => (format!("/accept-invite/{invitation}"), "Continue to your invitation".into()),
                None => continue_to(&state.site, None),
            };
            let view = VerifyView::Done { next_href, next_label };
            verify_page(&ctx, StatusCode::OK, "Email address confirmed", Problem::none(), view)
        }
        Err(tenantry_core::Error::Invalid { .. }) => {
            verify_page(&ctx, StatusCode::BAD_REQUEST, INVALID_LINK, Problem::none(), VerifyView::Invalid)
        }
        Err(e) => {
            let (status, problem) = Problem::from_error(e);
            let title = "Your email address could not be confirmed";
            verify_page(&ctx, status, title, problem, VerifyView::Ask { action: format!("/verify-email/{token}") })
        }
    }
}

pub async fn show_reset(ctx: Ctx, Path(token): Path<String>) -> Response {
    if !plausible_token(&token) {
        return reset_page(&ctx, StatusCode::BAD_REQUEST, INVALID_LINK, Problem::none(), ResetView::Invalid);
    }
    let view = ResetView::Ask { action: format!("/reset-password/{token}") };
    reset_page(&ctx, StatusCode::OK, "Choose a new password", Problem::none(), view)
}

pub async fn reset(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<ResetForm>,
) -> Response {
    match state.tenantry.accounts().confirm_password_reset(&token, form.new_password, &ctx.meta).await {
        Ok(()) => {
            // Every session of the account ended; a dashboard session in this browser finds
            // out on its next page and clears its own cookies.
            let (next_href, next_label) = continue_to(&state.site, None);
            let view = ResetView::Done { next_href, next_label };
            reset_page(&ctx, StatusCode::OK, "Password changed", Problem::none(), view)
        }
        Err(error @ tenantry_core::Error::Invalid { .. }) if plausible_token(&token) && is_new_password(&error) => {
            let (status, problem) = Problem::from_error(error);
            let view = ResetView::Ask { action: format!("/reset-password/{token}") };
            reset_page(&ctx, status, "Choose a new password", problem, view)
        }
        Err(tenantry_core::Error::Invalid { .. }) => {
            reset_page(&ctx, StatusCode::BAD_REQUEST, INVALID_LINK, Problem::none(), ResetView::Invalid)
        }
        Err(e) => {
            let (status, problem) = Problem::from_error(e);
            let view = ResetView::Ask { action: format!("/reset-password/{token}") };
            reset_page(&ctx, status, "Your password could not be changed", problem, view)
        }
    }
}

fn is_new_password(error: &tenantry_core::Error) -> bool {
    matches!(error, tenantry_core::Error::Invalid { field, .. } if field == "new_password")
}
