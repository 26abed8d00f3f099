//! Request ids and the last line of error handling.
//!
//! Every response carries `x-request-id` (the caller's, when it sent a sane one). Errors built by
//! handlers read the id from a task-local; responses that did not come from a handler (unknown
//! route, wrong method, a panic) are rewritten here into the JSON error body, so a client never
//! sees another error format. The HTML pages' own error pages are left as they are.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ulid::Ulid;

use crate::error::ApiError;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled ("unknown" outside one).
pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_else(|_| "unknown".into())
}

fn acceptable(id: &str) -> bool {
    (1..=100).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

pub async fn middleware(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(|| format!("req_{}", Ulid::new()), str::to_owned);
    let header_value = HeaderValue::from_str(&id).expect("request ids are visible ASCII");
    request.headers_mut().insert(HEADER, header_value.clone());

    let mut response = REQUEST_ID.scope(id.clone(), next.run(request)).await;
    let is_rendered = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    let status = response.status();
    if (status.is_client_error() || status.is_server_error()) && !is_rendered {
        let error = ApiError::from_status(status);
        let headers = std::mem::take(response.headers_mut());
        response = (status, axum::Json(error.body(&id))).into_response();
        for (name, value) in headers.iter() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                response.headers_mut().insert(name.clone(), value.clone());
            }
        }
    }
    response.headers_mut().insert(HEADER, header_value);
    response
}
