//! Talking to the server: the stored login, bearer tokens (refreshed when they expire), the
//! active org, request building, full pagination, and turning answers into `CliError`s.

use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use super::config::{ActiveOrg, Credentials, Store, UserSession};
use super::error::{CliError, Result};
use super::Global;

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";
const ORG_HEADER: &str = "x-organization-id";
/// The API's largest page.
const PAGE: u32 = 100;

pub struct Api {
    http: reqwest::Client,
    server: String,
    store: Store,
    /// The stored login, when it is for `server`.
    login: Option<Credentials>,
    /// The server of a stored login for another server, to say so when refusing.
    other_server: Option<String>,
    org_override: Option<String>,
}

impl Api {
    /// `--server`/`TENANTRY_URL`, else the server of the stored login, else the default.
    pub fn open(global: &Global) -> Result<Self> {
        let store = Store::locate()?;
        let saved = store.load()?;
        let server = match &global.server {
            Some(url) => normalize_server(url)?,
            None => saved.as_ref().map_or_else(|| DEFAULT_SERVER.to_owned(), |c| c.server.clone()),
        };
        let (login, other_server) = match saved {
            Some(c) if c.server == server => (Some(c), None),
            Some(c) => (None, Some(c.server)),
            None => (None, None),
        };
        let http = reqwest::Client::builder()
            .user_agent(concat!("tenantry-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            // Per read, not per request: long exports keep streaming.
            .read_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| CliError::local(format!("cannot start the HTTP client: {e}")))?;
        Ok(Self { http, server, store, login, other_server, org_override: global.org.clone() })
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn login(&self) -> Option<&Credentials> {
        self.login.as_ref()
    }

    pub fn credentials(&self) -> Result<&Credentials> {
        self.login.as_ref().ok_or_else(|| match &self.other_server {
            Some(other) => CliError::auth(format!(
                "not logged in to {} (the stored login is for {other}); run `tenantry login --server {}`",
                self.server, self.server
            )),
            None => CliError::auth(format!("not logged in to {}; run `tenantry login`", self.server)),
        })
    }

    /// Uses credentials that are not stored (yet), e.g. to check an API key before saving it.
    pub fn use_credentials(&mut self, credentials: Credentials) {
        self.login = Some(credentials);
    }

    /// The org a command acts on: `--org`, else the active one.
    pub fn org(&self) -> Result<String> {
        if let Some(org) = &self.org_override {
            return Ok(org.clone());
        }
        self.credentials()?.org.as_ref().map(|org| org.id.clone()).ok_or_else(|| {
            CliError::usage("no active org: choose one with `tenantry org use <id-or-slug>` or pass --org")
        })
    }

    /// Whether `org` (an id or slug) is the stored active org.
    pub fn is_active(&self, id: &str, slug: &str) -> bool {
        let active = self.login.as_ref().and_then(|c| c.org.as_ref());
        active.is_some_and(|a: &ActiveOrg| a.id == id || a.slug == slug)
    }

    pub fn call(&mut self, method: Method, path: impl Into<String>) -> Call<'_> {
        Call { api: self, method, path: path.into(), query: Vec::new(), body: None, org: None, anonymous: false }
    }

    pub fn get(&mut self, path: impl Into<String>) -> Call<'_> {
        self.call(Method::GET, path)
    }

    pub fn post(&mut self, path: impl Into<String>, body: Value) -> Call<'_> {
        self.call(Method::POST, path).json(body)
    }

    /// Every item of a list endpoint, following cursors, or the first `limit`.
    pub async fn list(
        &mut self,
        path: &str,
        org: Option<&str>,
        query: &[(&str, Option<String>)],
        limit: Option<u32>,
    ) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let want =
                limit.map_or(PAGE, |limit| (limit as usize).saturating_sub(items.len()).min(PAGE as usize) as u32);
            if want == 0 {
                return Ok(items);
            }
            let mut call = self.get(path).query("limit", Some(want.to_string())).query("cursor", cursor.take());
            for (key, value) in query {
                call = call.query(key, value.clone());
            }
            if let Some(org) = org {
                call = call.in_org(org);
            }
            let page = call.body().await?;
            match page["data"].as_array() {
                Some(data) => items.extend(data.iter().cloned()),
                None => return Err(CliError::server(format!("{path} did not answer with a list"))),
            }
            cursor = page["pagination"]["next_cursor"].as_str().map(str::to_owned);
            if cursor.is_none() {
                return Ok(items);
            }
        }
    }

    /// Replaces the stored login by `update` applied to the newest stored copy, under the lock, so a
    /// refresh by another process in between is kept.
    pub fn update_login(&mut self, update: impl FnOnce(&mut Credentials)) -> Result<()> {
        let _lock = self.store.lock()?;
        let mut credentials = match self.store.load()?.filter(|c| c.server == self.server) {
            Some(stored) => stored,
            None => self.credentials()?.clone(),
        };
        update(&mut credentials);
        self.store.save(&credentials)?;
        self.login = Some(credentials);
        Ok(())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server)
    }

    /// The bearer token, refreshing a user's expired access token first.
    async fn bearer(&mut self) -> Result<String> {
        let credentials = self.credentials()?;
        if let Some(key) = &credentials.api_key {
            return Ok(key.clone());
        }
        let session = user_session(credentials)?;
        if session.needs_refresh(now()) {
            let used = session.access_token.clone();
            self.refresh(&used).await?;
        }
        Ok(user_session(self.credentials()?)?.access_token.clone())
    }

    /// Replaces the access token `used`, unless another process already has.
    async fn refresh(&mut self, used: &str) -> Result<()> {
        let _lock = self.store.lock()?;
        let mut credentials = match self.store.load()?.filter(|c| c.server == self.server && c.user.is_some()) {
            Some(stored) => stored,
            None => self.credentials()?.clone(),
        };
        let session = credentials.user.as_mut().ok_or_else(|| CliError::auth("not logged in as a user"))?;
        if session.access_token != used && !session.needs_refresh(now()) {
            self.login = Some(credentials);
            return Ok(());
        }
        let path = "/v1/auth/refresh";
        let response = self
            .http
            .post(self.url(path))
            .json(&json!({ "refresh_token": session.refresh_token }))
            .send()
            .await
            .map_err(|e| unreachable(&self.server, &e))?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(CliError::auth("your session has ended; log in again with `tenantry login`"));
        }
        let body = checked(response, "POST", path, &self.server).await?;
        let data = &body["data"];
        match (data["access_token"].as_str(), data["refresh_token"].as_str(), data["expires_in"].as_i64()) {
            (Some(access), Some(refresh), Some(expires_in)) => {
                session.access_token = access.to_owned();
                session.refresh_token = refresh.to_owned();
                session.access_expires_at = now() + expires_in;
            }
            _ => return Err(CliError::server("the server's answer to a token refresh lacks the tokens")),
        }
        self.store.save(&credentials)?;
        self.login = Some(credentials);
        Ok(())
    }
}

/// A request being built; `body`, `data` or `send` sends it.
pub struct Call<'a> {
    api: &'a mut Api,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
    org: Option<String>,
    anonymous: bool,
}

impl Call<'_> {
    pub fn query(mut self, key: &str, value: Option<String>) -> Self {
        if let Some(value) = value {
            self.query.push((key.to_owned(), value));
        }
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Names the org the request acts on in `x-organization-id`.
    pub fn in_org(mut self, org: &str) -> Self {
        self.org = Some(org.to_owned());
        self
    }

    /// Sent without credentials (login, public endpoints).
    pub fn anonymous(mut self) -> Self {
        self.anonymous = true;
        self
    }

    /// The answer's `data`.
    pub async fn data(self) -> Result<Value> {
        Ok(self.body().await?.get_mut("data").map(Value::take).unwrap_or(Value::Null))
    }

    /// The whole JSON answer (`Null` for 204).
    pub async fn body(self) -> Result<Value> {
        let (method, path, server) = (self.method.to_string(), self.path.clone(), self.api.server.clone());
        let response = self.send().await?;
        checked(response, &method, &path, &server).await
    }

    /// The successful response, unread (for streaming).
    pub async fn stream(self) -> Result<Response> {
        let (method, path, server) = (self.method.to_string(), self.path.clone(), self.api.server.clone());
        let response = self.send().await?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(refusal(response, &method, &path, &server).await)
    }

    async fn send(self) -> Result<Response> {
        let Call { api, method, path, query, body, org, anonymous } = self;
        let mut retried = false;
        loop {
            let token = if anonymous { None } else { Some(api.bearer().await?) };
            let mut request = api.http.request(method.clone(), api.url(&path)).query(&query);
            if let Some(token) = &token {
                request = request.bearer_auth(token);
            }
            if let Some(org) = &org {
                request = request.header(ORG_HEADER, org);
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(|e| unreachable(&api.server, &e))?;
            // The server's clock or a revoked access token may disagree with the stored expiry.
            let user_token = api.login.as_ref().is_some_and(|c| c.user.is_some() && c.api_key.is_none());
            if response.status() == StatusCode::UNAUTHORIZED && !retried && user_token {
                if let Some(token) = token {
                    retried = true;
                    api.refresh(&token).await?;
                    continue;
                }
            }
            return Ok(response);
        }
    }
}

/// The JSON body of a successful answer, or the API's error as a `CliError`.
async fn checked(response: Response, method: &str, path: &str, server: &str) -> Result<Value> {
    if !response.status().is_success() {
        return Err(refusal(response, method, path, server).await);
    }
    let text = response.text().await.map_err(|e| unreachable(server, &e))?;
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).map_err(|_| {
        CliError::server(format!(
            "{server} answered {method} {path} with something other than JSON; is it a Tenantry server?"
        ))
    })
}

/// An unsuccessful answer: the API's error body (SPEC 10), or a server that is not this API.
async fn refusal(response: Response, method: &str, path: &str, server: &str) -> CliError {
    let status = response.status();
    let request_id = response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let text = match response.text().await {
        Ok(text) => text,
        Err(e) => return unreachable(server, &e),
    };
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let error = &body["error"];
    let missing = || {
        CliError::server(format!(
            "{server} does not offer {method} {path} ({status}); it runs an older Tenantry than this client, or is not Tenantry"
        ))
    };
    match (error["code"].as_str(), error["message"].as_str()) {
        // The server's answer for a route it does not have, as opposed to a missing object.
        (Some("not_found"), Some("no such route")) | (Some("method_not_allowed"), _) => missing(),
        (Some(code), Some(message)) => CliError::api(
            status.as_u16(),
            code,
            message,
            error["details"]["field"].as_str(),
            error["request_id"].as_str().or(request_id.as_deref()),
        ),
        _ if status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED => missing(),
        _ => CliError::server(format!("{server} answered {method} {path} with {status} and no API error")),
    }
}

/// One line saying why the server could not be reached.
fn unreachable(server: &str, error: &reqwest::Error) -> CliError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut io_kind = None;
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
        }
        source = e.source();
    }
    let reason = match io_kind {
        _ if error.is_timeout() => "it did not answer in time".to_owned(),
        Some(std::io::ErrorKind::ConnectionRefused) => "connection refused; is it running?".to_owned(),
        Some(kind) => format!("{kind}"),
        None if error.is_connect() => "cannot connect".to_owned(),
        None => innermost(error),
    };
    CliError::server(format!(
        "cannot reach the Tenantry server at {server}: {reason} (set it with --server or TENANTRY_URL)"
    ))
}

fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut last = error;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

fn user_session(credentials: &Credentials) -> Result<&UserSession> {
    credentials.user.as_ref().ok_or_else(|| CliError::auth("the stored login has neither a session nor an API key"))
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// `https://host/` → `https://host`; anything but an http(s) URL is a usage error.
pub fn normalize_server(url: &str) -> Result<String> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| CliError::usage(format!("--server / TENANTRY_URL: `{url}` is not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(CliError::usage(format!("--server / TENANTRY_URL: `{url}` is not an http(s) URL")));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// A path segment with everything but unreserved characters percent-encoded.
pub fn seg(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
