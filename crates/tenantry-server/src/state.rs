//! What every handler can reach.

use std::collections::HashMap;
use std::sync::Arc;

use tenantry_core::service::service_grants::ServiceGrants;
use tenantry_core::Tenantry;

use crate::client_addr::TrustedProxies;
use crate::dashboard::Site;

/// Cloned for every middleware and handler of every request, so it is one pointer: cloning it is
/// one reference count, not one per part (each a cache line the cores would pass back and forth).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub tenantry: Arc<Tenantry>,
    pub credentials: Arc<Credentials>,
    pub proxies: Arc<TrustedProxies>,
    /// The dashboard's branding and assets.
    pub site: Arc<Site>,
    /// Whether webhook endpoints may resolve to private addresses (`webhooks.allow_private_targets`).
    pub allow_private_targets: bool,
    /// The database, for readiness (`/ready`) and the metrics' pool figures.
    pub store: tenantry_store::SqlStore,
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// The non-user bearer tokens, kept only as SHA-256 hashes so comparing them leaks nothing about
/// their prefix through timing.
pub struct Credentials {
    pub admin_hash: String,
    /// Service token hash → the service's name (`service_1`, `service_2`, … in configuration
    /// order) and what its token was granted.
    pub service_hashes: HashMap<String, (String, ServiceGrants)>,
}
