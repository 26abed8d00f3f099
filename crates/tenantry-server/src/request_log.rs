//! The request log: one span per request with its method, path and headers, and one access line
//! per request (`tenantry::access`: request id, method, matched route, status, latency) — never a
//! secret.
//!
//! Credentials in headers are marked sensitive before the span is made (they show as
//! `Sensitive`). Paths can carry single-use tokens (`/accept-invite/{token}`,
//! `/v1/invitations/{token}/accept`, `/verify-email/{token}` …), so every path segment long
//! enough to be one is replaced by `…`; ids (`org_…`, 30 characters) and slugs stay readable.

use axum::body::Body;
use axum::http::Request;
use tower_http::trace::MakeSpan;
use tracing::Span;

/// Segments at least this long, made only of token characters, are taken for secrets. Issued
/// tokens are 43 characters; the longest id is 30.
const SECRET_MIN_CHARS: usize = 40;

pub fn redacted_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            let secret_like = segment.len() >= SECRET_MIN_CHARS
                && segment.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if secret_like {
                "…"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The route a request matched, as its pattern (`/v1/orgs/{org}/members`), or `unmatched`: what
/// the access log and the metrics name a request by, so no id or token ever reaches either. A
/// copy, not a clone of the router's shared string, whose reference count every core would write.
pub fn matched_route(request: &axum::extract::Request) -> String {
    request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned())
}

/// Logs one line per request once it is answered. The route is the matched pattern
/// (`/v1/orgs/{org}/members`), never the raw path, so no id or token reaches the log. Off unless
/// the `tenantry::access` target is enabled (e.g. `TENANTRY_LOG=info,tenantry::access=info`),
/// so a busy node pays nothing for it by default.
pub async fn access_log(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    if !tracing::enabled!(target: "tenantry::access", tracing::Level::INFO) {
        return next.run(request).await;
    }
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let route = matched_route(&request);
    let response = next.run(request).await;
    tracing::info!(
        target: "tenantry::access",
        request_id = %crate::request_id::current_request_id(),
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

#[derive(Clone, Copy, Default)]
pub struct RequestSpan;

impl MakeSpan<Body> for RequestSpan {
    fn make_span(&mut self, request: &Request<Body>) -> Span {
        tracing::debug_span!(
            "request",
            method = %request.method(),
            path = %redacted_path(request.uri().path()),
            version = ?request.version(),
            headers = ?request.headers(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_paths_are_hidden_and_ids_are_not() {
        let token = "q8Zr3_0kLx-9YwVbN2mT7uHcE4aS1dFgJ6pK5oI8rUe";
        assert_eq!(redacted_path(&format!("/v1/invitations/{token}/accept")), "/v1/invitations/…/accept");
        assert_eq!(redacted_path(&format!("/accept-invite/{token}")), "/accept-invite/…");
        let org = "/v1/orgs/org_01HX2Z8Q6Y3V4W5T6R7S8P9N0M/members/usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M";
        assert_eq!(redacted_path(org), org);
    }
}
