//! What every page handler starts from (`Ctx`): the signed-in user, the anti-forgery value for
//! its forms, a notice left by the previous form, the request's audit facts, and the cookies the
//! answer must set. `Ctx` also turns a template into a response with the dashboard's headers.

use std::convert::Infallible;

use askama::Template;
use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tenantry_core::service::{Principal, RequestMeta, UserPrincipal};

use super::gzip::accepts_gzip;
use super::pieces::{Pieces, Rows};
use super::session;
use super::shell::Shell;
use crate::extract::ClientMeta;
use crate::routes::pages::{cookie, csrf, secure_headers};
use crate::state::AppState;

/// A notice shown once on the page after a form, carried by a short-lived cookie.
const FLASH_COOKIE: &str = "tenantry_flash";

pub struct Ctx {
    pub state: AppState,
    pub user: Option<UserPrincipal>,
    pub csrf: String,
    pub flash: Option<String>,
    pub meta: RequestMeta,
    /// The path and query of this request, for coming back after logging in.
    pub here: String,
    /// Whether the browser takes gzip-compressed pages.
    accepts_gzip: bool,
    cookies: Vec<String>,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let ClientMeta(meta) = ClientMeta::from_request_parts(parts, state).await?;
        let resolved = session::resolve(state, &parts.headers).await;
        let (csrf, csrf_cookie) = csrf(state, &parts.headers);
        let mut cookies = resolved.cookies;
        cookies.extend(csrf_cookie);
        let flash = cookie(&parts.headers, FLASH_COOKIE).map(|raw| {
            cookies.push(flash_cookie(state, "", 0));
            form_urlencoded::parse(format!("m={raw}").as_bytes())
                .next()
                .map(|(_, text)| text.chars().take(300).collect())
                .unwrap_or_default()
        });
        let here = parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
        let accepts_gzip = accepts_gzip(&parts.headers);
        Ok(Self { state: state.clone(), user: resolved.user, csrf, flash, meta, here, accepts_gzip, cookies })
    }
}

fn flash_cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = if state.site.secure_cookies { "; Secure" } else { "" };
    format!("{FLASH_COOKIE}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

// The refusal is the response a page handler returns as it is; boxing it would only add an
// allocation to every redirect to the login page.
#[allow(clippy::result_large_err)]
impl Ctx {
    /// The signed-in user, or the redirect to the login page that comes back here.
    pub fn require_user(&self) -> Result<UserPrincipal, Response> {
        match &self.user {
            Some(user) => Ok(user.clone()),
            None => Err(self.clone_cookies_into(see_other(&format!("/login?next={}", encode(&self.here))))),
        }
    }

    /// The signed-in user as the services' caller, or the redirect to the login page.
    pub fn signed_in(&self) -> Result<Principal, Response> {
        self.require_user().map(Principal::User)
    }

    pub fn add_cookies(&mut self, cookies: impl IntoIterator<Item = String>) {
        self.cookies.extend(cookies);
    }

    /// The skeleton of a page titled `title`.
    pub fn shell(&self, title: impl Into<String>) -> Shell {
        Shell::new(&self.state.site, title.into(), self.csrf.clone(), self.flash.clone())
    }

    /// A rendered page.
    pub fn page(&self, status: StatusCode, template: &impl Template) -> Response {
        match template.render() {
            Ok(html) => self.html(status, Body::from(html)),
            Err(error) => self.unrenderable(error),
        }
    }

    /// [`Self::page`] for a template with a [`super::pieces::ROWS_SLOT`]: `rows`, rendered
    /// beforehand, are sent in its place without being copied into the page (or, compressed when
    /// they were kept, inside a gzip member to a browser that accepts one).
    pub fn page_with_rows(&self, status: StatusCode, template: &impl Template, rows: Rows) -> Response {
        let html = match template.render() {
            Ok(html) => html,
            Err(error) => return self.unrenderable(error),
        };
        let (body, gzipped) = Pieces::splice(html, rows, self.accepts_gzip);
        let mut response = self.html(status, Body::new(body));
        let headers = response.headers_mut();
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
        if gzipped {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        response
    }

    fn html(&self, status: StatusCode, body: Body) -> Response {
        let mut response = (status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        self.clone_cookies_into(response)
    }

    /// The answer when a page, or a part of it, could not be rendered.
    pub fn unrenderable(&self, error: askama::Error) -> Response {
        tracing::error!(%error, "a dashboard page could not be rendered");
        let response = (StatusCode::INTERNAL_SERVER_ERROR, "This page could not be shown.").into_response();
        self.clone_cookies_into(response)
    }

    /// A 303 to `location` (after a form), with `notice` shown on the next page. A notice not
    /// shown yet (this request was itself redirected) goes on to the next page too.
    pub fn redirect(&self, location: &str, notice: Option<&str>) -> Response {
        let mut response = self.clone_cookies_into(see_other(location));
        if let Some(notice) = notice.or(self.flash.as_deref()) {
            let encoded: String = form_urlencoded::byte_serialize(notice.as_bytes()).collect();
            if let Ok(value) = HeaderValue::from_str(&flash_cookie(&self.state, &encoded, 60)) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        response
    }

    fn clone_cookies_into(&self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        dashboard_headers(headers);
        for cookie in &self.cookies {
            if let Ok(value) = HeaderValue::from_str(cookie) {
                headers.append(header::SET_COOKIE, value);
            }
        }
        response
    }
}

/// A bare 303.
fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// The headers of every dashboard answer: the pages' own (no caching, no framing, no referrer
/// leaving the site) and a policy that runs only this server's script and stylesheet.
fn dashboard_headers(headers: &mut axum::http::HeaderMap) {
    secure_headers(headers);
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A return path after logging in: only a path on this server (never `//host` or a scheme),
/// else the dashboard's home.
pub fn safe_return_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && path.len() <= 512
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/app".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_return_path;

    #[test]
    fn return_paths_stay_on_this_server() {
        assert_eq!(safe_return_path(Some("/app/org/acme/members?q=a")), "/app/org/acme/members?q=a");
        for hostile in
            ["//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)", "/a\nb", ""]
        {
            assert_eq!(safe_return_path(Some(hostile)), "/app", "{hostile:?}");
        }
        assert_eq!(safe_return_path(None), "/app");
    }
}
