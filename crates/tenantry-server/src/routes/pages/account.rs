//! `/verify-email/{token}` and `/reset-password/{token}`: the pages behind the links in the
//! verification and password-reset emails. Opening a link changes nothing; its form does.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::invite::RETURN_COOKIE;
use super::{button_form, cookie, csrf, csrf_field, esc, plausible_token, Form, Page};
use crate::extract::ClientMeta;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Confirm {}

#[derive(Deserialize)]
pub struct ResetForm {
    new_password: String,
}

fn invalid_link() -> Page {
    Page::new(
        StatusCode::BAD_REQUEST,
        "This link is not valid",
        "<p class=\"error\">The link is invalid, expired or already used. Links in our emails work once, for a \
         limited time; ask for a new email.</p>",
    )
}

pub async fn show_verify(State(state): State<AppState>, Path(token): Path<String>, headers: HeaderMap) -> Response {
    if !plausible_token(&token) {
        return invalid_link().into_response();
    }
    let (csrf_value, csrf_cookie) = csrf(&state, &headers);
    Page::ok(
        "Confirm your email address",
        format!(
            "<p>Confirm that this email address is yours.</p>{}",
            button_form(&format!("/verify-email/{token}"), &csrf_value, "Confirm my email address")
        ),
    )
    .with_cookies(csrf_cookie)
    .into_response()
}

pub async fn verify(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    ClientMeta(meta): ClientMeta,
    Form(_): Form<Confirm>,
) -> Response {
    match state.tenantry.verify_email(&token, &meta).await {
        Ok(()) => {
            // Back to the invitation this visitor signed up from, if any.
            let next = match cookie(&headers, RETURN_COOKIE).filter(|t| plausible_token(t)) {
                Some(invitation) => format!(
                    "<p><a href=\"{}\">Continue to your invitation</a></p>",
                    esc(&format!("/accept-invite/{invitation}"))
                ),
                None => "<p>You can close this page and continue where you were.</p>".to_owned(),
            };
            Page::ok(
                "Email address confirmed",
                format!("<p class=\"ok\">Thank you, your address is confirmed.</p>{next}"),
            )
            .into_response()
        }
        Err(tenantry_core::Error::Invalid { .. }) => invalid_link().into_response(),
        Err(e) => Page::from_error("Your email address could not be confirmed", e).into_response(),
    }
}

fn reset_form(token: &str, csrf: &str, notice: &str) -> String {
    format!(
        "{notice}<form method=\"post\" action=\"{}\">{}\
         <label for=\"new-password\">New password (8 to 128 characters)</label>\
         <input type=\"password\" id=\"new-password\" name=\"new_password\" required minlength=\"8\" maxlength=\"128\" autocomplete=\"new-password\">\
         <button type=\"submit\">Set new password</button></form>",
        esc(&format!("/reset-password/{token}")),
        csrf_field(csrf)
    )
}

pub async fn show_reset(State(state): State<AppState>, Path(token): Path<String>, headers: HeaderMap) -> Response {
    if !plausible_token(&token) {
        return invalid_link().into_response();
    }
    let (csrf_value, csrf_cookie) = csrf(&state, &headers);
    Page::ok("Choose a new password", reset_form(&token, &csrf_value, "")).with_cookies(csrf_cookie).into_response()
}

pub async fn reset(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    ClientMeta(meta): ClientMeta,
    Form(form): Form<ResetForm>,
) -> Response {
    match state.tenantry.confirm_password_reset(&token, form.new_password, &meta).await {
        Ok(()) => Page::ok(
            "Password changed",
            "<p class=\"ok\">Your password was changed and every session of your account was ended. Log in with \
             the new password.</p>",
        )
        .into_response(),
        Err(tenantry_core::Error::Invalid { field, message }) if field == "new_password" && plausible_token(&token) => {
            let (csrf_value, _) = csrf(&state, &headers);
            let notice = format!("<p class=\"error\">The password {}.</p>", esc(&message));
            Page::new(StatusCode::BAD_REQUEST, "Choose a new password", reset_form(&token, &csrf_value, &notice))
                .into_response()
        }
        Err(tenantry_core::Error::Invalid { .. }) => invalid_link().into_response(),
        Err(e) => Page::from_error("Your password could not be changed", e).into_response(),
    }
}
