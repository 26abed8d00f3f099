//! The pages that emailed links lead to: `/accept-invite/{token}`, `/verify-email/{token}` and
//! `/reset-password/{token}`. They wear the dashboard's look and branding (its layout, stylesheet
//! and session) and lead on into it, but are not part of the JSON API (nor of its OpenAPI
//! document).
//!
//! Nothing changes on GET: each change is a form POSTed back to the page (form-urlencoded),
//! carrying an anti-forgery value that must match the `tenantry_csrf` cookie (double submit); the
//! cookies are `SameSite=Lax`, so other sites can neither read them nor send them along with a
//! cross-site POST. `Form` checks that value for every dashboard form too. A visitor who logs in
//! or signs up on a page is signed in to the dashboard as on its own login page. Failures are
//! pages too, never a JSON error or a stack trace.

mod account;
mod invite;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;

use crate::dashboard::Ctx;
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) const SESSION_COOKIE: &str = "tenantry_session";
const CSRF_COOKIE: &str = "tenantry_csrf";

pub fn router() -> OpenApiRouter<AppState> {
    use axum::routing::{get, post};
    OpenApiRouter::new()
        .route("/accept-invite/{token}", get(invite::show))
        .route("/accept-invite/{token}/signup", post(invite::signup))
        .route("/accept-invite/{token}/login", post(invite::login))
        .route("/accept-invite/{token}/logout", post(invite::logout))
        .route("/accept-invite/{token}/accept", post(invite::accept))
        .route("/accept-invite/{token}/decline", post(invite::decline))
        .route("/verify-email/{token}", get(account::show_verify).post(account::verify))
        .route("/reset-password/{token}", get(account::show_reset).post(account::reset))
}

/// Whether a path segment could be a token Tenantry issued (URL-safe base64), so it can be put
/// into a form's URL as it is.
fn plausible_token(token: &str) -> bool {
    (20..=100).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A sentence for a person from an API error.
pub(crate) fn describe(error: &ApiError) -> String {
    if error.status.is_server_error() {
        return "Something went wrong on our side. Please try again in a moment.".into();
    }
    let mut message = error.message.clone();
    if let Some(first) = message.get(0..1) {
        message.replace_range(0..1, &first.to_uppercase());
    }
    if !message.ends_with('.') {
        message.push('.');
    }
    message
}

/// Never cache a page, never frame it, never guess its type. The dashboard adds its content
/// security policy and referrer policy on top (`dashboard::context`).
pub(crate) fn secure_headers(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}

/// These pages carry a secret in their URL: no referrer at all may leave them, not even to this
/// server's own stylesheet, where it would land in a request log.
fn keep_token_private(mut response: Response) -> Response {
    response.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// The value of the request's cookie `name`.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> String {
    let secure = if state.tenantry.public_url().starts_with("https://") { "; Secure" } else { "" };
    format!("{name}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

/// The anti-forgery value for this visitor's forms, and the cookie to set when it is new.
pub(crate) fn csrf(state: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    match cookie(headers, CSRF_COOKIE).filter(|v| plausible_token(v)) {
        Some(value) => (value.to_owned(), None),
        None => {
            let value = state.tenantry.fresh_secret();
            let cookie = set_cookie(state, CSRF_COOKIE, &value, 60 * 60 * 24);
            (value, Some(cookie))
        }
    }
}

fn equal_in_constant_time(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A form-urlencoded body whose anti-forgery field matches the visitor's cookie. Anything else
/// is answered with a page.
pub struct Form<T>(pub T);

#[derive(Deserialize)]
struct CsrfField {
    csrf: String,
}

/// Forms are a few fields; anything larger is not one of ours.
const FORM_LIMIT: usize = 64 * 1024;

impl<T: DeserializeOwned> FromRequest<AppState> for Form<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let expected = cookie(&parts.headers, CSRF_COOKIE).map(str::to_owned);
        if !is_form {
            return Err(refused(&mut parts, state, StatusCode::BAD_REQUEST, "Send this form from its page.").await);
        }
        let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
            return Err(refused(&mut parts, state, StatusCode::BAD_REQUEST, "The form could not be read.").await);
        };
        let sent: Option<CsrfField> = serde_urlencoded::from_bytes(&bytes).ok();
        let matches = match (expected, sent) {
            (Some(expected), Some(sent)) => equal_in_constant_time(expected.as_bytes(), sent.csrf.as_bytes()),
            _ => false,
        };
        if !matches {
            let text = "The form's security check failed. Reload the page (with cookies enabled) and try again.";
            return Err(refused(&mut parts, state, StatusCode::FORBIDDEN, text).await);
        }
        if let Ok(form) = serde_urlencoded::from_bytes::<T>(&bytes) {
            return Ok(Self(form));
        }
        Err(refused(&mut parts, state, StatusCode::BAD_REQUEST, "Some fields of the form are missing.").await)
    }
}

/// A refused form, as a dashboard page.
async fn refused(parts: &mut Parts, state: &AppState, status: StatusCode, text: &str) -> Response {
    let ctx = match Ctx::from_request_parts(parts, state).await {
        Ok(ctx) => ctx,
        Err(never) => match never {},
    };
    let title = if status == StatusCode::FORBIDDEN { "This form has expired" } else { "This form could not be sent" };
    crate::dashboard::message(&ctx, status, title, text, true)
}
