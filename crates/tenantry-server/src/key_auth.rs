//! Requests authenticated with an API key: the key is checked and counted against its rate limit
//! before routing, and every response to it carries the key's `X-RateLimit-*` headers (a 429 with
//! `Retry-After` when the minute's allowance is spent).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tenantry_core::caches::rate_limit::RateStatus;
use tenantry_core::service::Principal;

use crate::auth::bearer;
use crate::error::ApiError;
use crate::state::AppState;

const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
/// When the window ends, in Unix seconds.
const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

fn rate_headers(headers: &mut HeaderMap, rate: &RateStatus) {
    headers.insert(LIMIT, HeaderValue::from(rate.limit));
    headers.insert(REMAINING, HeaderValue::from(rate.remaining));
    headers.insert(RESET, HeaderValue::from(rate.reset_at.timestamp()));
}

pub async fn middleware(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(secret) = bearer(request.headers()).filter(|t| state.tenantry.api_keys().looks_like_api_key(t)) else {
        return next.run(request).await;
    };
    let authenticated = match state.tenantry.api_keys().authenticate_key(secret).await {
        Ok(authenticated) => authenticated,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let rate = authenticated.rate;
    let mut response = if rate.allowed {
        request.extensions_mut().insert(Principal::ApiKey(authenticated.principal));
        next.run(request).await
    } else {
        let retry_after_secs = rate.retry_after_secs(state.tenantry.clock().now());
        let error = tenantry_core::Error::RateLimited {
            message: format!("this API key may make {} requests a minute", rate.limit),
            retry_after_secs,
        };
        ApiError::from(error).into_response()
    };
    rate_headers(response.headers_mut(), &rate);
    response
}
