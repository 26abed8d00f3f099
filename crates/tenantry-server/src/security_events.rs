//! Refused requests (401, 403) become security events in the audit log.
//!
//! The middleware hands each request a slot where authentication notes the caller; an error
//! response marks itself `Refused`. After the handler, a refused response is recorded with the
//! caller (if any), the org the path names, and the endpoint.

use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tenantry_core::domain::ids::OrgRef;
use tenantry_core::service::security_events::Refusal;
use tenantry_core::service::Principal;

use crate::auth::ORG_HEADER;
use crate::extract::{client_ip, request_meta};
use crate::request_log::redacted_path;
use crate::state::AppState;

/// Set on 401 and 403 responses by the error type.
#[derive(Clone, Copy)]
pub struct Refused {
    pub code: &'static str,
}

/// Endpoints that record their own security events (a failed login is `security.login_failed`,
/// not also a refused request).
const RECORDING_THEIR_OWN: &[&str] = &["/v1/auth/login"];

/// Where authentication notes who the caller is.
#[derive(Clone, Default)]
pub struct CallerSlot(Arc<Mutex<Option<Principal>>>);

impl CallerSlot {
    pub fn set(&self, principal: &Principal) {
        *self.0.lock().expect("slot lock is never poisoned") = Some(principal.clone());
    }

    fn take(&self) -> Option<Principal> {
        self.0.lock().expect("slot lock is never poisoned").take()
    }
}

/// The org a request names: `/v1/orgs/{org}/…`, else the `x-organization-id` header.
fn named_org(path: &str, header: Option<&HeaderValue>) -> Option<String> {
    let from_path = path.strip_prefix("/v1/orgs/").and_then(|rest| rest.split('/').next());
    from_path
        .filter(|org| !org.is_empty())
        .map(str::to_owned)
        .or_else(|| header.and_then(|v| v.to_str().ok()).map(str::to_owned))
}

pub async fn middleware(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let slot = CallerSlot::default();
    request.extensions_mut().insert(slot.clone());
    // Cheap copies (shared buffers): the texts of the event are made only for a refusal.
    let (method, uri) = (request.method().clone(), request.uri().clone());
    let org_header = request.headers().get(ORG_HEADER).cloned();
    let user_agent = request.headers().get(header::USER_AGENT).cloned();
    let client = client_ip(request.extensions());
    let response = next.run(request).await;
    let Some(refused) = response.extensions().get::<Refused>() else { return response };
    let path = redacted_path(uri.path());
    if RECORDING_THEIR_OWN.contains(&path.as_str()) {
        return response;
    }
    let refusal = Refusal {
        principal: slot.take(),
        org: named_org(uri.path(), org_header.as_ref()).map(OrgRef::from),
        status: response.status().as_u16(),
        code: refused.code.to_owned(),
        method: method.to_string(),
        path,
    };
    state.tenantry.record_refusal(refusal, &request_meta(client, user_agent.as_ref())).await;
    response
}
