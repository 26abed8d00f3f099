//! The error every service returns. Each variant corresponds to one HTTP status and error code
//! family of SPEC section 10; the server maps them one to one.

use serde_json::Value;

use crate::store::StoreError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input. `field` is the JSON path of the offending value.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Unauthorized(String),
    /// `code` is `forbidden` or `scope_missing`.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// The named kind of object does not exist, or is another org's.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String, details: Option<Value> },
    #[error("{message}")]
    Gone { code: &'static str, message: String },
    #[error("{message}")]
    PlanLimit { message: String, details: Value },
    #[error("{message}")]
    PreconditionFailed { message: String },
    #[error("{message}")]
    RateLimited { message: String, retry_after_secs: u64 },
    /// Anything unexpected; its text is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl ToString) -> Self {
        Self::Invalid { field: field.into(), message: message.to_string() }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden { code: "forbidden", message: message.into() }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into(), details: None }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}
