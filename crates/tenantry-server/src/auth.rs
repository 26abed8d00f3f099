//! Authentication: who the bearer of a request is.
//!
//! `Authorization: Bearer <token>` carries either an access token (a JWT, for users), an org's API
//! key (authenticated earlier, by `key_auth`), the instance admin token, or a host app's service
//! token. Extractors name what a route accepts.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::domain::secret::hash_token;
use tenantry_core::service::{Principal, UserPrincipal};

use crate::error::ApiError;
use crate::security_events::CallerSlot;
use crate::state::AppState;

pub const ORG_HEADER: &str = "x-organization-id";

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// Resolves the request's principal; 401 when there are no valid credentials. The principal is
/// also noted for the security event of a refusal that may follow.
pub async fn principal(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let principal = credentials(parts, state).await?;
    if let Some(slot) = parts.extensions.get::<CallerSlot>() {
        slot.set(&principal);
    }
    Ok(principal)
}

async fn credentials(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    // An API key was authenticated (and rate-limited) before routing.
    if let Some(key) = parts.extensions.get::<Principal>() {
        return Ok(key.clone());
    }
    let token = bearer(&parts.headers)
        .ok_or_else(|| ApiError::unauthorized("send credentials as `Authorization: Bearer <token>`"))?;
    let hash = hash_token(token);
    if hash == state.credentials.admin_hash {
        return Ok(Principal::Admin);
    }
    if let Some((name, grants)) = state.credentials.service_hashes.get(&hash) {
        return Ok(Principal::Service { name: name.clone(), grants: *grants });
    }
    if token.matches('.').count() == 2 {
        let org_header = parts.headers.get(ORG_HEADER).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty());
        return Ok(state.tenantry.accounts().authenticate(token, org_header.map(OrgRef::from).as_ref()).await?);
    }
    Err(ApiError::unauthorized("the bearer token is not valid"))
}

/// Any authenticated caller; the service decides what each kind may do.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        principal(parts, state).await.map(Self)
    }
}

/// A signed-in user.
pub struct AuthUser(pub UserPrincipal);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match principal(parts, state).await? {
            Principal::User(user) => Ok(Self(user)),
            _ => Err(ApiError::forbidden("this endpoint is for signed-in users")),
        }
    }
}

/// The instance administrator.
pub struct AdminAuth;

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match principal(parts, state).await? {
            Principal::Admin => Ok(Self),
            _ => Err(ApiError::forbidden("this endpoint is for the instance admin")),
        }
    }
}
