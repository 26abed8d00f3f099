//! `HostAuth::require(permission)`: a tower layer in front of a route that lets through only the
//! callers whose access token grants the permission in its active org.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use super::{HostAuth, Rejection};

#[derive(Clone)]
pub struct RequireLayer {
    auth: HostAuth,
    permission: Arc<str>,
}

impl RequireLayer {
    pub(super) fn new(auth: HostAuth, permission: String) -> Self {
        Self { auth, permission: permission.into() }
    }
}

impl<S> Layer<S> for RequireLayer {
    type Service = Require<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Require { inner, auth: self.auth.clone(), permission: self.permission.clone() }
    }
}

/// The service [`RequireLayer`] wraps a route in.
#[derive(Clone)]
pub struct Require<S> {
    inner: S,
    auth: HostAuth,
    permission: Arc<str>,
}

impl<S> Service<Request> for Require<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The service that was polled ready is the one to call; a fresh clone stays behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        let permission = self.permission.clone();
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let caller = match auth.caller_of(&parts).await {
                Ok(caller) => caller,
                Err(rejection) => return Ok(rejection.into_response()),
            };
            if !caller.can(&permission) {
                let message = match &caller.org_id {
                    Some(_) => format!("your role does not grant {permission}"),
                    None => format!("{permission} needs an active org: switch to one first"),
                };
                return Ok(Rejection::new(StatusCode::FORBIDDEN, "forbidden", message).into_response());
            }
            // The handler's `Caller` extractor takes this one rather than verifying again.
            parts.extensions.insert(caller);
            inner.call(Request::from_parts(parts, body)).await
        })
    }
}
