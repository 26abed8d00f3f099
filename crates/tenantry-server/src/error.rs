//! The one HTTP error type: every failure leaves as the JSON body of SPEC section 10,
//! `{"error": {"code", "message", "request_id", "details"?}}`. Internal errors are logged with
//! their cause and shown only as "internal error".

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tenantry_core::Error;

use crate::request_id::current_request_id;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: None, retry_after_secs: None }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn invalid(field: &str, message: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", format!("{field}: {message}"))
            .with_details(json!({ "field": field }))
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// The error a bare status stands for, for responses produced outside the handlers (an
    /// unknown route, a wrong method, a panic).
    pub fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such route"),
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this route does not accept that method"),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is larger than 1 MiB"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "send the body as application/json"),
            StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
            s if s.is_client_error() => ("invalid_request", "the request could not be handled"),
            _ => ("internal", "internal error"),
        };
        Self::new(status, code, message)
    }

    pub fn body(&self, request_id: &str) -> Value {
        let mut error = json!({ "code": self.code, "message": self.message, "request_id": request_id });
        if let Some(details) = &self.details {
            error["details"] = details.clone();
        }
        json!({ "error": error })
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid { field, message } => Self::invalid(&field, message),
            Error::Unauthorized(message) => Self::unauthorized(message),
            Error::Forbidden { code, message } => Self::new(StatusCode::FORBIDDEN, code, message),
            Error::NotFound(what) => Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found")),
            Error::Conflict { code, message, details } => {
                Self { details, ..Self::new(StatusCode::CONFLICT, code, message) }
            }
            Error::Gone { code, message } => Self::new(StatusCode::GONE, code, message),
            Error::PlanLimit { message, details } => {
                Self::new(StatusCode::PAYMENT_REQUIRED, "plan_limit_reached", message).with_details(details)
            }
            Error::PreconditionFailed { message } => {
                Self::new(StatusCode::PRECONDITION_FAILED, "precondition_failed", message)
            }
            Error::RateLimited { message, retry_after_secs } => Self {
                retry_after_secs: Some(retry_after_secs),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
            },
            Error::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body(&current_request_id());
        let mut response = (self.status, axum::Json(body)).into_response();
        if matches!(self.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            response.extensions_mut().insert(crate::security_events::Refused { code: self.code });
        }
        if let Some(secs) = self.retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
