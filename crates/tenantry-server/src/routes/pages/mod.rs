//! The server-rendered pages that emailed links lead to: `/accept-invite/{token}`,
//! `/verify-email/{token}` and `/reset-password/{token}`. They need no front-end build and are
//! not part of the JSON API (nor of its OpenAPI document).
//!
//! Every value is HTML-escaped. Nothing changes on GET: each change is a form POSTed back to the
//! page (form-urlencoded), carrying an anti-forgery value that must match the `tenantry_csrf`
//! cookie (double submit); the cookies are `SameSite=Lax`, so other sites can neither read them
//! nor send them along with a cross-site POST. A visitor who logs in or signs up on a page gets
//! an HttpOnly `tenantry_session` cookie holding their access token. Failures are pages too,
//! never a JSON error or a stack trace.

mod account;
mod invite;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tenantry_core::service::email::escape_html;
use tenantry_core::service::Principal;
use utoipa_axum::router::OpenApiRouter;

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

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    escape_html(text)
}

/// Whether a path segment could be a token Tenantry issued (URL-safe base64), so it can be put
/// into a form's URL as it is.
fn plausible_token(token: &str) -> bool {
    (20..=100).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An HTML page with its status and the cookies it sets.
pub struct Page {
    status: StatusCode,
    title: String,
    body: String,
    cookies: Vec<String>,
}

impl Page {
    fn new(status: StatusCode, title: impl Into<String>, body: impl Into<String>) -> Self {
        Self { status, title: title.into(), body: body.into(), cookies: Vec::new() }
    }

    fn ok(title: impl Into<String>, body: impl Into<String>) -> Self {
        Self::new(StatusCode::OK, title, body)
    }

    fn with_cookies(mut self, cookies: impl IntoIterator<Item = String>) -> Self {
        self.cookies.extend(cookies);
        self
    }

    /// The page for a refusal or failure of a service call; internals are never shown.
    fn from_error(title: &str, error: impl Into<ApiError>) -> Self {
        let error = error.into();
        Self::new(error.status, title, format!("<p class=\"error\">{}</p>", esc(&describe(&error))))
    }
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

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f6f7f9;color:#1d2330;margin:0}\
main{max-width:34rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:.5rem;box-shadow:0 1px 3px #0002}\
h1{font-size:1.4rem;margin-top:0}h2{font-size:1.05rem;margin-bottom:.4rem}label{display:block;margin:.6rem 0 .2rem}\
input[type=text],input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:.45rem;font-size:1rem}\
button{margin-top:.8rem;padding:.5rem 1rem;font-size:1rem;cursor:pointer}.row{display:flex;gap:.6rem}\
.muted{color:#667}.error{background:#fdecec;color:#8a1c1c;padding:.6rem .8rem;border-radius:.3rem}\
.ok{background:#e9f7ee;color:#1d5c33;padding:.6rem .8rem;border-radius:.3rem}section{margin-top:1.4rem}";

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let html = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{} · Tenantry</title>\
             <style>{STYLE}</style></head><body><main><h1>{}</h1>{}</main></body></html>",
            esc(&self.title),
            esc(&self.title),
            self.body
        );
        let mut response = (self.status, html).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        secure_headers(headers);
        for cookie in self.cookies {
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                headers.append(header::SET_COOKIE, value);
            }
        }
        response
    }
}

/// Pages carry secrets in their URLs: never cache them, never leak them as a referrer, never
/// frame them, and run no script.
pub(crate) fn secure_headers(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
}

/// A 303 to a page (after a form that changed something), setting `cookies`.
fn see_other(location: &str, cookies: Vec<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    secure_headers(headers);
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
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

fn session_cookie(state: &AppState, access_token: &str, expires_in: i64) -> String {
    set_cookie(state, SESSION_COOKIE, access_token, expires_in)
}

fn clear_session_cookie(state: &AppState) -> String {
    set_cookie(state, SESSION_COOKIE, "", 0)
}

/// The signed-in user of the page session, if the cookie holds a valid access token.
async fn page_user(state: &AppState, headers: &HeaderMap) -> Option<Principal> {
    let token = cookie(headers, SESSION_COOKIE)?;
    match state.tenantry.authenticate(token, None).await {
        Ok(principal @ Principal::User(_)) => Some(principal),
        _ => None,
    }
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

/// A form's hidden anti-forgery field.
fn csrf_field(value: &str) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(value))
}

/// A form with only a button (and the anti-forgery field).
fn button_form(action: &str, csrf: &str, label: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\">{}<button type=\"submit\">{}</button></form>",
        esc(action),
        csrf_field(csrf),
        esc(label)
    )
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

impl<T: DeserializeOwned> FromRequest<AppState> for Form<T> {
    type Rejection = Page;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Page> {
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let expected = cookie(request.headers(), CSRF_COOKIE).map(str::to_owned);
        let refused = |text: &str| {
            Page::new(StatusCode::BAD_REQUEST, "This form could not be sent", format!("<p class=\"error\">{text}</p>"))
        };
        if !is_form {
            return Err(refused("Send this form from its page."));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|_| refused("The form could not be read."))?;
        let sent: Option<CsrfField> = serde_urlencoded::from_bytes(&bytes).ok();
        let matches = match (expected, sent) {
            (Some(expected), Some(sent)) => equal_in_constant_time(expected.as_bytes(), sent.csrf.as_bytes()),
            _ => false,
        };
        if !matches {
            return Err(Page::new(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "<p class=\"error\">The form's security check failed. Reload the page (with cookies enabled) and try again.</p>",
            ));
        }
        serde_urlencoded::from_bytes(&bytes).map(Self).map_err(|_| refused("Some fields of the form are missing."))
    }
}
