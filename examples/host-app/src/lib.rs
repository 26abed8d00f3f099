//! "Endpoints", a host app's own API, guarded by Tenantry.
//!
//! - `GET /endpoints`: the endpoints of the caller's active org (needs `endpoints.view`).
//! - `POST /endpoints` `{"url": …}`: adds one (needs `endpoints.create`).
//! - `GET /api/endpoints`: the same list for an API key of the org (scope `endpoints.view`),
//!   sent as `X-Api-Key`.
//!
//! Access tokens are verified offline with the JWKS, so these routes make no call to Tenantry;
//! API keys are verified by Tenantry, which counts their rate limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tenantry_client::host::{Caller, HostAuth, Rejection, API_KEY_HEADER};

/// The app's state: Tenantry's verifier, and its own data (endpoints by org id).
#[derive(Clone)]
pub struct AppState {
    auth: HostAuth,
    endpoints: Arc<Mutex<HashMap<String, Vec<Endpoint>>>>,
}

impl FromRef<AppState> for HostAuth {
    fn from_ref(state: &AppState) -> HostAuth {
        state.auth.clone()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    /// The Tenantry user who added it.
    pub created_by: String,
}

#[derive(Deserialize)]
pub struct NewEndpoint {
    pub url: String,
}

pub fn app(auth: HostAuth) -> Router {
    let state = AppState { auth: auth.clone(), endpoints: Arc::default() };
    // A layer applies to the routes added before it, so each permission guards its own route.
    let viewing = Router::new().route("/endpoints", get(list)).route_layer(auth.require("endpoints.view"));
    let creating =
        Router::new().route("/endpoints", axum::routing::post(create)).route_layer(auth.require("endpoints.create"));
    Router::new().merge(viewing).merge(creating).route("/api/endpoints", get(list_for_key)).with_state(state)
}

async fn list(State(state): State<AppState>, caller: Caller) -> Json<Vec<Endpoint>> {
    Json(state.of_org(caller.org_id.as_deref().unwrap_or_default()))
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewEndpoint>,
) -> (StatusCode, Json<Endpoint>) {
    // `require` let the request through, so the token has an active org.
    let org = caller.org_id.clone().unwrap_or_default();
    let endpoint = Endpoint { url: new.url, created_by: caller.user_id };
    state.endpoints.lock().unwrap_or_else(|p| p.into_inner()).entry(org).or_default().push(endpoint.clone());
    (StatusCode::CREATED, Json(endpoint))
}

/// For machines: the key's org, if its scopes grant `endpoints.view`.
async fn list_for_key(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<Endpoint>>, Rejection> {
    let key = headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let caller = state.auth.verify_key(key, Some("endpoints.view")).await?;
    Ok(Json(state.of_org(&caller.org_id)))
}

impl AppState {
    fn of_org(&self, org_id: &str) -> Vec<Endpoint> {
        self.endpoints.lock().unwrap_or_else(|p| p.into_inner()).get(org_id).cloned().unwrap_or_default()
    }
}
