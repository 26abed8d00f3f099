//! Request extractors whose failures speak the API's error format: JSON bodies (naming the
//! offending field), pagination parameters and the request facts recorded in audit events.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, Extensions, HeaderValue, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tenantry_core::domain::pagination::PageRequest;
use tenantry_core::service::RequestMeta;

use crate::client_addr::ClientAddr;
use crate::error::ApiError;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// A JSON body. Malformed JSON, a missing field or a value of the wrong type is a 400
/// `invalid_request` whose `details.field` is the JSON path of the problem.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
            v.split(';').next().is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
        });
        if !is_json {
            return Err(ApiError::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE)
            } else {
                ApiError::invalid("body", "could not be read")
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        json_error(&path, e.into_inner())
    })?;
    deserializer.end().map_err(|e| json_error(".", e))?;
    Ok(value)
}

fn json_error(path: &str, error: serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let text = error.to_string();
    // serde_json appends " at line L column C"; the field path says more.
    let message = text.split(" at line ").next().unwrap_or(&text).to_owned();
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::invalid("body", format!("is not valid JSON ({text})"))
        }
        Category::Data => {
            let join = |name: &str| {
                if path == "." {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                }
            };
            if let Some(name) = quoted(&message, "missing field `") {
                ApiError::invalid(&join(name), "is required")
            } else if let Some(name) = quoted(&message, "unknown field `") {
                // Here the path already ends at the unknown field.
                let field = if path == "." { name } else { path };
                ApiError::invalid(field, "is not a known field")
            } else {
                let field = if path == "." { "body" } else { path };
                ApiError::invalid(field, message)
            }
        }
    }
}

/// The text between `prefix` and the next backtick.
fn quoted<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    message.strip_prefix(prefix)?.split('`').next()
}

/// Query parameters, refused in the API's error format (naming the parameter) when malformed.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer).map(Self).map_err(|e| {
            let message = e.inner().to_string();
            let field = quoted(&message, "unknown field `")
                .or_else(|| quoted(&message, "missing field `"))
                .map_or_else(|| e.path().to_string(), str::to_owned);
            let field = if field == "." { "query".to_owned() } else { field };
            ApiError::invalid(&field, message)
        })
    }
}

/// `?limit=` and `?cursor=` of a list endpoint.
pub struct Pagination(pub PageRequest);

#[derive(Deserialize)]
struct PageParams {
    cursor: Option<String>,
    limit: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Pagination {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let ApiQuery(params) = ApiQuery::<PageParams>::from_request_parts(parts, _state).await?;
        let limit = params
            .limit
            .map(|l| l.parse::<u32>().map_err(|_| ApiError::invalid("limit", "must be a whole number from 1 to 100")))
            .transpose()?;
        let request = PageRequest::parse(params.cursor.as_deref(), limit).map_err(|e| {
            let field =
                if matches!(e, tenantry_core::domain::pagination::PageError::Limit) { "limit" } else { "cursor" };
            ApiError::invalid(field, e)
        })?;
        Ok(Self(request))
    }
}

/// The client's address and user agent, for audit events.
pub struct ClientMeta(pub RequestMeta);

impl<S: Send + Sync> FromRequestParts<S> for ClientMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(request_meta(client_ip(&parts.extensions), parts.headers.get(header::USER_AGENT))))
    }
}

/// The client's address: as resolved through trusted proxies, else the peer's.
pub fn client_ip(extensions: &Extensions) -> Option<IpAddr> {
    extensions
        .get::<ClientAddr>()
        .map(|ClientAddr(ip)| *ip)
        .or_else(|| extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip()))
}

/// The audit facts of a request from its client address and `User-Agent` (at most 512
/// characters).
pub fn request_meta(client: Option<IpAddr>, user_agent: Option<&HeaderValue>) -> RequestMeta {
    RequestMeta {
        ip: client.map(|ip| ip.to_string()),
        user_agent: user_agent.and_then(|v| v.to_str().ok()).map(|ua| ua.chars().take(512).collect()),
    }
}

/// An id named in a path (`/members/{user}`), parsed here so the services take typed ids. A
/// malformed id names nothing, so it is "not found" exactly like a well-formed one that does not
/// exist: answers never tell ids of another kind or shape apart from missing ones.
pub fn path_id<T: std::str::FromStr>(raw: &str, what: &'static str) -> tenantry_core::Result<T> {
    raw.parse().map_err(|_| tenantry_core::Error::NotFound(what))
}

/// A user id given in a request body's `field` (a bad request when it is not one).
pub fn body_user_id(raw: &str, field: &str) -> tenantry_core::Result<tenantry_core::domain::ids::UserId> {
    raw.parse().map_err(|_| tenantry_core::Error::invalid(field, "is not a user id (`usr_…`)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        nested: Option<Nested>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Nested {
        count: u32,
    }

    fn field_of(json: &str) -> String {
        let error = parse_json::<Body>(json.as_bytes()).unwrap_err();
        error.details.unwrap()["field"].as_str().unwrap().to_owned()
    }

    #[test]
    fn names_the_offending_field() {
        assert_eq!(field_of(r#"{}"#), "name");
        assert_eq!(field_of(r#"{"name": 1}"#), "name");
        assert_eq!(field_of(r#"{"name": "a", "nested": {"count": "x"}}"#), "nested.count");
        assert_eq!(field_of(r#"{"name": "a", "nested": {}}"#), "nested.count");
        assert_eq!(field_of(r#"{"name": "a", "extra": 1}"#), "extra");
        assert_eq!(field_of(r#"{"name": "#), "body");
        assert_eq!(field_of(r#"{"name": "a"} trailing"#), "body");
    }
}
