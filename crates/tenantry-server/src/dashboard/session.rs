//! The browser session: an HttpOnly cookie holding the access token and another holding the
//! refresh token. When the access token has expired the refresh token is exchanged for a new
//! pair on the next page, so a signed-in person stays signed in for the refresh token's life.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use tenantry_core::service::accounts::TokenPair;
use tenantry_core::service::{Principal, UserPrincipal};
use tokio::sync::Mutex;

use crate::routes::pages::{cookie, SESSION_COOKIE};
use crate::state::AppState;

pub const REFRESH_COOKIE: &str = "tenantry_refresh";

/// How long a node answers a refresh token it has just exchanged with the same new pair. Two
/// pages loading at once after the access token expired both send the old refresh token; without
/// this the second would count as reuse of a stolen token and end the session.
const RENEWAL_GRACE: Duration = Duration::from_secs(30);

/// Refresh tokens this node exchanged in the last `RENEWAL_GRACE`, by the token.
#[derive(Default)]
pub struct Renewals {
    recent: Mutex<HashMap<String, (Instant, TokenPair)>>,
}

/// The signed-in user of a page request, and the cookies to set when the session was renewed.
pub struct Resolved {
    pub user: Option<UserPrincipal>,
    pub cookies: Vec<String>,
}

/// `Set-Cookie` values for a freshly issued token pair.
pub fn sign_in_cookies(state: &AppState, tokens: &TokenPair) -> Vec<String> {
    vec![
        session_cookie(state, SESSION_COOKIE, &tokens.access_token, tokens.expires_in),
        session_cookie(state, REFRESH_COOKIE, &tokens.refresh_token, state.site.refresh_cookie_secs),
    ]
}

/// `Set-Cookie` values that end the browser session.
pub fn sign_out_cookies(state: &AppState) -> Vec<String> {
    vec![session_cookie(state, SESSION_COOKIE, "", 0), session_cookie(state, REFRESH_COOKIE, "", 0)]
}

/// `Set-Cookie` for a new access token in the same session (after switching orgs).
pub fn access_cookie(state: &AppState, access_token: &str, expires_in: i64) -> String {
    session_cookie(state, SESSION_COOKIE, access_token, expires_in)
}

fn session_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> String {
    let secure = if state.site.secure_cookies { "; Secure" } else { "" };
    format!("{name}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

/// The user signed in with the request's cookies, renewing the session when only the refresh
/// token is still good.
pub async fn resolve(state: &AppState, headers: &HeaderMap) -> Resolved {
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        if let Ok(Principal::User(user)) = state.tenantry.accounts().authenticate(token, None).await {
            return Resolved { user: Some(user), cookies: Vec::new() };
        }
    }
    let Some(refresh) = cookie(headers, REFRESH_COOKIE) else {
        return Resolved { user: None, cookies: Vec::new() };
    };
    match renew(state, refresh).await {
        Some(tokens) => match state.tenantry.accounts().authenticate(&tokens.access_token, None).await {
            Ok(Principal::User(user)) => Resolved { user: Some(user), cookies: sign_in_cookies(state, &tokens) },
            _ => Resolved { user: None, cookies: sign_out_cookies(state) },
        },
        None => Resolved { user: None, cookies: sign_out_cookies(state) },
    }
}

async fn renew(state: &AppState, refresh: &str) -> Option<TokenPair> {
    let mut recent = state.site.renewals.recent.lock().await;
    let now = Instant::now();
    recent.retain(|_, (at, _)| now.duration_since(*at) < RENEWAL_GRACE);
    if let Some((_, tokens)) = recent.get(refresh) {
        return Some(tokens.clone());
    }
    let signed_in = state.tenantry.accounts().refresh(refresh).await.ok()?;
    recent.insert(refresh.to_owned(), (now, signed_in.tokens.clone()));
    Some(signed_in.tokens)
}
