//! Talking to the server: the stored login, bearer tokens (refreshed when they expire), the
//! active org, and turning the typed client's failures into `CliError`s.
//!
//! Requests go through `tenantry_client::Client` with the API's own request and answer types
//! (`tenantry_client::types`); this module adds what a command line needs around it: credentials
//! from the config directory, a refresh and one retry when the server refuses an access token,
//! and messages and exit codes that say what went wrong. Commands name each request by method
//! and path (rather than through the client's operation methods) because those messages name
//! the route, e.g. when a server too old to have it answers.

use std::future::Future;
use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
pub use tenantry_client::path_segment as seg;
use tenantry_client::{Client, ClientError};

use super::config::{ActiveOrg, Credentials, Store, UserSession};
use super::error::{CliError, Result};
use super::Global;

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

pub struct Api {
    /// The server, without credentials: each request gets the current bearer token, which a
    /// refresh may replace between two requests of one command.
    client: Client,
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
        let client = Client::with_http(http, &server)
            .map_err(|_| CliError::usage(format!("--server / TENANTRY_URL: `{server}` is not an http(s) URL")))?;
        Ok(Self { client, server, store, login, other_server, org_override: global.org.clone() })
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

    pub fn post<B: Serialize + ?Sized>(&mut self, path: impl Into<String>, body: &B) -> Call<'_> {
        self.call(Method::POST, path).json(body)
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
        let refreshed = match self.client.refresh(&session.refresh_token).await {
            Ok(refreshed) => refreshed,
            Err(e) if e.status() == Some(StatusCode::UNAUTHORIZED) => {
                return Err(CliError::auth("your session has ended; log in again with `tenantry login`"))
            }
            Err(e) => return Err(refusal(e, &Method::POST, "/v1/auth/refresh", &self.server)),
        };
        session.access_token = refreshed.access_token;
        session.refresh_token = refreshed.refresh_token;
        session.access_expires_at = now() + refreshed.expires_in;
        self.store.save(&credentials)?;
        self.login = Some(credentials);
        Ok(())
    }

    /// Whether requests carry a user's access token, which a refresh can replace.
    fn refreshable(&self) -> bool {
        self.login.as_ref().is_some_and(|c| c.user.is_some() && c.api_key.is_none())
    }

    /// Runs `request` on a client holding the current bearer token (none when `anonymous`) and
    /// `org`; when the server refuses a user's access token, refreshes it and runs it once more.
    /// `method` and `path` name the request in messages.
    async fn authorized<T, F, Fut>(
        &mut self,
        (method, path): (&Method, &str),
        org: Option<&str>,
        anonymous: bool,
        request: F,
    ) -> Result<T>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let mut retried = false;
        loop {
            let token = if anonymous { None } else { Some(self.bearer().await?) };
            let mut client = self.client.clone();
            if let Some(token) = &token {
                client = client.with_token(token.as_str());
            }
            if let Some(org) = org {
                client = client.in_org(org);
            }
            let result = request(client).await;
            let refused = matches!(&result, Err(e) if e.status() == Some(StatusCode::UNAUTHORIZED));
            match token {
                // The server's clock or a revoked access token may disagree with the stored expiry.
                Some(token) if refused && !retried && self.refreshable() => {
                    retried = true;
                    self.refresh(&token).await?;
                }
                _ => return result.map_err(|e| refusal(e, method, path, &self.server)),
            }
        }
    }
}

/// A request being built; `data`, `list`, `no_content` or `stream` sends it.
pub struct Call<'a> {
    api: &'a mut Api,
    method: Method,
    path: String,
    query: Vec<(&'static str, String)>,
    /// Kept as JSON so a retry after a refresh can send it again.
    body: Option<serde_json::Result<Value>>,
    org: Option<String>,
    anonymous: bool,
}

impl Call<'_> {
    pub fn query(mut self, key: &'static str, value: Option<String>) -> Self {
        if let Some(value) = value {
            self.query.push((key, value));
        }
        self
    }

    pub fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Self {
        self.body = Some(serde_json::to_value(body));
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
    pub async fn data<T: DeserializeOwned>(self) -> Result<T> {
        self.request(|call| call.data::<T>()).await
    }

    /// For answers without a body (204).
    pub async fn no_content(self) -> Result<()> {
        self.request(tenantry_client::Call::no_content).await
    }

    /// The successful response, unread (for streaming).
    pub async fn stream(self) -> Result<Response> {
        self.request(tenantry_client::Call::send).await
    }

    /// Every item of a list endpoint (a `GET`), following cursors, or the first `limit`.
    pub async fn list<T: DeserializeOwned>(self, limit: Option<u32>) -> Result<Vec<T>> {
        let Call { api, method, path, query, body: _, org, anonymous } = self;
        let limit = limit.map(|limit| limit as usize);
        let (path, query) = (path.as_str(), query.as_slice());
        let request = move |client: Client| async move { client.list_all::<T>(path, query, limit).await };
        api.authorized((&method, path), org.as_deref(), anonymous, request).await
    }

    async fn request<T, F, Fut>(self, finish: F) -> Result<T>
    where
        F: Fn(tenantry_client::Call) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let Call { api, method, path, query, body, org, anonymous } = self;
        let body = body
            .transpose()
            .map_err(|e| CliError::local(format!("cannot encode the request to {method} {path}: {e}")))?;
        let build = |client: Client| {
            let mut call = client.call(method.clone(), &path).query(&query);
            if let Some(body) = &body {
                call = call.json(body);
            }
            finish(call)
        };
        api.authorized((&method, &path), org.as_deref(), anonymous, build).await
    }
}

/// A failed request as a `CliError`: the API's error (SPEC 10), a server that is not this API,
/// or no answer at all.
fn refusal(error: ClientError, method: &Method, path: &str, server: &str) -> CliError {
    let missing = |status: StatusCode| {
        CliError::server(format!(
            "{server} does not offer {method} {path} ({status}); it runs an older Tenantry than this client, or is not Tenantry"
        ))
    };
    match error {
        ClientError::Transport(e) => unreachable(server, &e),
        // The server's answer for a route it does not have, as opposed to a missing object.
        ClientError::Api { status, error }
            if (error.code == "not_found" && error.message == "no such route") || error.code == "method_not_allowed" =>
        {
            missing(status)
        }
        ClientError::Api { status, error } => {
            let field = error.details.as_ref().and_then(|d| d["field"].as_str());
            CliError::api(status.as_u16(), &error.code, &error.message, field, Some(&error.request_id))
        }
        // A success in a shape the API's types do not describe: not Tenantry, or another version.
        ClientError::Unexpected { status, detail } if status.is_success() => CliError::server(format!(
            "{server} answered {method} {path} with something this client cannot read ({detail}); is it a Tenantry server of this version?"
        )),
        ClientError::Unexpected { status, .. }
            if status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED =>
        {
            missing(status)
        }
        ClientError::Unexpected { status, .. } => {
            CliError::server(format!("{server} answered {method} {path} with {status} and no API error"))
        }
        ClientError::BadUrl(url) => CliError::usage(format!("--server / TENANTRY_URL: `{url}` is not an http(s) URL")),
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
