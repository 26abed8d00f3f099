//! What a host app on axum needs from Tenantry on every request.
//!
//! - [`Caller`]: the user of an access token, verified offline against the server's JWKS (no call
//!   to Tenantry per request), with the token's active org, role, permissions and teams.
//! - [`HostAuth::require`]: a layer that refuses requests whose caller lacks a permission.
//! - [`KeyCaller`]: the org and scopes of an API key, verified by Tenantry (`/v1/keys/verify`,
//!   with a service token), which also counts the key's rate limit.
//!
//! ```no_run
//! use axum::{routing::post, Router};
//! use tenantry_client::host::{Caller, HostAuth};
//!
//! # fn app() -> Result<Router, tenantry_client::ClientError> {
//! let auth = HostAuth::new("http://127.0.0.1:8080", Some("a service token"))?;
//! let app = Router::new()
//!     .route("/projects", post(|caller: Caller| async move { format!("created in {:?}", caller.org_id) }))
//!     .route_layer(auth.require("projects.create"))
//!     .with_state(auth);
//! # Ok(app) }
//! ```
//!
//! An access token stays valid until it expires (15 minutes by default) even after its session
//! ends: offline verification is what makes it free. A host app that must see a logout or a role
//! change at once asks Tenantry (`Client::check` or `/v1/me`) for that request instead.

mod jwks;
mod require;

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jsonwebtoken::{decode, decode_header, Algorithm, Validation};
use serde::Deserialize;
use serde_json::json;

pub use require::{Require, RequireLayer};

use self::jwks::Jwks;
use crate::{Client, ClientError};

/// The issuer Tenantry's access tokens name.
const ISSUER: &str = "tenantry";
/// The header host apps' customers send their API keys in (else `Authorization: Bearer`).
pub const API_KEY_HEADER: &str = "x-api-key";

/// Verifies Tenantry's access tokens and API keys for a host app. Cheap to clone; keep one in the
/// app's state (`HostAuth: FromRef<State>` is all the extractors need).
#[derive(Clone)]
pub struct HostAuth {
    inner: Arc<Inner>,
}

struct Inner {
    jwks: Jwks,
    /// Calls `/v1/keys/verify`; `None` when no service token was given.
    verifier: Option<Client>,
    validation: Validation,
}

/// The user behind a verified access token (SPEC 8's claims).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: String,
    /// The session (login) the token belongs to.
    pub session_id: String,
    /// The token's active org, when it has one; role, permissions and teams are the user's there.
    pub org_id: Option<String>,
    pub role: Option<String>,
    pub permissions: Vec<String>,
    pub team_ids: Vec<String>,
    /// How the login was authenticated (RFC 8176): `["pwd"]`, or `["pwd", "otp"]` with MFA.
    pub amr: Vec<String>,
    /// Unix seconds.
    pub expires_at: i64,
}

impl Caller {
    /// Whether the user's role in the active org grants `permission`.
    pub fn can(&self, permission: &str) -> bool {
        self.org_id.is_some() && self.permissions.iter().any(|p| p == permission)
    }

    pub fn in_team(&self, team_id: &str) -> bool {
        self.team_ids.iter().any(|t| t == team_id)
    }
}

/// The org and scopes of an API key Tenantry has just verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCaller {
    pub key_id: String,
    pub org_id: String,
    pub scopes: Vec<String>,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    sid: String,
    #[serde(default)]
    amr: Vec<String>,
    #[serde(default)]
    org_id: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    team_ids: Vec<String>,
    exp: i64,
}

/// A refusal, answered in Tenantry's error format: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Rejection {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// Tenantry could not be asked: the host app cannot decide, so it refuses (fail closed).
    fn unavailable(error: ClientError) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "auth_unavailable",
            format!("cannot verify the credentials: {error}"),
        )
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": { "code": self.code, "message": self.message } }));
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl HostAuth {
    /// For the Tenantry at `tenantry_url`. `service_token` (one of its `service_tokens`) is needed
    /// only for API keys.
    pub fn new(tenantry_url: &str, service_token: Option<&str>) -> Result<Self, ClientError> {
        let client = Client::new(tenantry_url)?;
        let verifier = service_token.map(|token| client.clone().with_token(token));
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        Ok(Self { inner: Arc::new(Inner { jwks: Jwks::new(client), verifier, validation }) })
    }

    /// The caller of an access token: signature (by a key of the server's JWKS), issuer and expiry.
    pub async fn verify_token(&self, token: &str) -> Result<Caller, Rejection> {
        let kid = decode_header(token)
            .map_err(|_| Rejection::unauthenticated("not an access token"))?
            .kid
            .ok_or_else(|| Rejection::unauthenticated("the token names no signing key"))?;
        let key = self
            .inner
            .jwks
            .key(&kid)
            .await
            .map_err(Rejection::unavailable)?
            .ok_or_else(|| Rejection::unauthenticated("the token's signing key is not the server's"))?;
        let claims = decode::<Claims>(token, &key, &self.inner.validation)
            .map_err(|e| Rejection::unauthenticated(format!("the access token is not valid: {e}")))?
            .claims;
        Ok(Caller {
            user_id: claims.sub,
            session_id: claims.sid,
            org_id: claims.org_id,
            role: claims.role,
            permissions: claims.permissions,
            team_ids: claims.team_ids,
            amr: claims.amr,
            expires_at: claims.exp,
        })
    }

    /// The org and scopes of an API key, asking Tenantry (which counts its rate limit). With
    /// `permission`, the key's scopes must grant it (403 otherwise).
    pub async fn verify_key(&self, key: &str, permission: Option<&str>) -> Result<KeyCaller, Rejection> {
        let verifier = self.inner.verifier.as_ref().ok_or_else(|| {
            Rejection::new(StatusCode::INTERNAL_SERVER_ERROR, "misconfigured", "API keys need a service token")
        })?;
        let answer = verifier.verify_key(key, permission).await.map_err(Rejection::unavailable)?;
        match (answer.code.as_str(), answer.key_id, answer.org_id) {
            ("VALID", Some(key_id), Some(org_id)) => Ok(KeyCaller { key_id, org_id, scopes: answer.scopes }),
            ("INSUFFICIENT_PERMISSIONS", ..) => Err(Rejection::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("the key's scopes do not grant {}", permission.unwrap_or("this")),
            )),
            ("RATE_LIMITED", ..) => {
                Err(Rejection::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "the key's rate limit is used up"))
            }
            (code, ..) => {
                Err(Rejection::unauthenticated(format!("the API key is not valid ({})", code.to_lowercase())))
            }
        }
    }

    /// A layer refusing requests whose access token lacks `permission` in its active org (401
    /// without a valid token, 403 without the permission); the handler's [`Caller`] is the one it
    /// verified.
    pub fn require(&self, permission: impl Into<String>) -> RequireLayer {
        RequireLayer::new(self.clone(), permission.into())
    }

    pub(crate) async fn caller_of(&self, parts: &Parts) -> Result<Caller, Rejection> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let token =
            bearer(parts).ok_or_else(|| Rejection::unauthenticated("send an access token as Authorization: Bearer"))?;
        self.verify_token(token).await
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

impl<S> FromRequestParts<S> for Caller
where
    HostAuth: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        HostAuth::from_ref(state).caller_of(parts).await
    }
}

impl<S> FromRequestParts<S> for KeyCaller
where
    HostAuth: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let key = parts.headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok()).or_else(|| bearer(parts));
        let key =
            key.ok_or_else(|| Rejection::unauthenticated("send an API key as X-Api-Key or Authorization: Bearer"))?;
        HostAuth::from_ref(state).verify_key(key, None).await
    }
}
