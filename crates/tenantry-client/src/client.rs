//! The transport: base URL, bearer token, active org, the `{"data": …}` envelope, pagination and
//! the API's error format.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tenantry_types::{Data, ErrorBody, ErrorDetail, List};

/// The header that picks the org a request acts in, for tokens without an active org.
const ORG_HEADER: &str = "x-organization-id";
/// The API's largest page.
pub(crate) const PAGE: u32 = 100;

/// A Tenantry server, as one caller (an access token, an API key, a service or admin token).
/// Cheap to clone: clones share one connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    org: Option<String>,
}

/// What a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error in the API's format (SPEC 10).
    #[error("{status}: {} ({})", .error.message, .error.code)]
    Api { status: StatusCode, error: ErrorDetail },
    /// An answer that is neither the expected shape nor an error in the API's format (e.g. from
    /// a proxy in between).
    #[error("unexpected answer ({status}): {detail}")]
    Unexpected { status: StatusCode, detail: String },
    /// No answer: the server is unreachable, the connection broke, or it timed out.
    #[error("cannot reach the server: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("not a server URL: {0}")]
    BadUrl(String),
}

impl ClientError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api { status, .. } | Self::Unexpected { status, .. } => Some(*status),
            Self::Transport(e) => e.status(),
            Self::BadUrl(_) => None,
        }
    }

    /// The API's error code (`not_found`, `forbidden`, `email_unverified`, …), when it sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { error, .. } => Some(&error.code),
            _ => None,
        }
    }
}

impl Client {
    /// A client for the server at `base_url` (e.g. `http://127.0.0.1:8080`), with no credentials.
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("tenantry-client/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            // Per read, not per request: long exports keep streaming.
            .read_timeout(Duration::from_secs(60))
            .build()?;
        Self::with_http(http, base_url)
    }

    /// As [`Client::new`], on a `reqwest::Client` of the caller's (its pool, proxies, timeouts).
    pub fn with_http(http: reqwest::Client, base_url: &str) -> Result<Self, ClientError> {
        let base = base_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() <= "https://".len() {
            return Err(ClientError::BadUrl(base_url.to_owned()));
        }
        Ok(Self { http, base, token: None, org: None })
    }

    /// Calls as the holder of `token`: an access token, API key, service token or admin token.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Acts in `org` (an id or slug) on requests whose token has no active org.
    pub fn in_org(mut self, org: impl Into<String>) -> Self {
        self.org = Some(org.into());
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// A request to `path` (from the root, e.g. `/v1/me`), to finish with the [`Call`] methods.
    pub fn call(&self, method: Method, path: &str) -> Call {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(org) = &self.org {
            request = request.header(ORG_HEADER, org);
        }
        Call { request }
    }

    /// `GET path`, its `data`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.call(Method::GET, path).data().await
    }

    /// `method path` with a JSON body, its `data`.
    pub async fn send<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.call(method, path).json(body).data().await
    }

    /// Every item of a list, following `next_cursor` page by page; at most `limit` when given.
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        limit: Option<usize>,
    ) -> Result<Vec<T>, ClientError> {
        let mut items: Vec<T> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let want = limit.map_or(PAGE as usize, |limit| limit.saturating_sub(items.len()).min(PAGE as usize));
            if want == 0 {
                return Ok(items);
            }
            let mut call = self.call(Method::GET, path).query(query).query(&[("limit", want.to_string())]);
            if let Some(cursor) = &cursor {
                call = call.query(&[("cursor", cursor)]);
            }
            let page: List<T> = call.answer().await?;
            items.extend(page.data);
            match page.pagination.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
    }
}

/// One request being built.
pub struct Call {
    request: reqwest::RequestBuilder,
}

impl Call {
    pub fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Self {
        self.request = self.request.json(body);
        self
    }

    pub fn query<Q: Serialize + ?Sized>(mut self, query: &Q) -> Self {
        self.request = self.request.query(query);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    /// Overrides the client's org for this request.
    pub fn in_org(mut self, org: &str) -> Self {
        self.request = self.request.header(ORG_HEADER, org);
        self
    }

    /// The answer's `data`.
    pub async fn data<T: DeserializeOwned>(self) -> Result<T, ClientError> {
        Ok(self.answer::<Data<T>>().await?.data)
    }

    /// The whole answer, for shapes without the `data` envelope (lists, `/health`).
    pub async fn answer<T: DeserializeOwned>(self) -> Result<T, ClientError> {
        let response = self.send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Unexpected { status, detail: e.to_string() })
    }

    /// For answers without a body (204).
    pub async fn no_content(self) -> Result<(), ClientError> {
        self.send().await.map(drop)
    }

    /// The response, once it is known not to be an error (for exports and other non-JSON bodies).
    pub async fn send(self) -> Result<reqwest::Response, ClientError> {
        let response = self.request.send().await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let bytes = response.bytes().await?;
        Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => ClientError::Api { status, error: body.error },
            Err(_) => {
                ClientError::Unexpected { status, detail: String::from_utf8_lossy(&bytes).chars().take(200).collect() }
            }
        })
    }
}
