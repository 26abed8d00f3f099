//! `/metrics`: the node's figures in Prometheus' text format (0.0.4), on `prometheus-client`.
//!
//! - `tenantry_http_requests_total` and `tenantry_http_request_duration_seconds` by method,
//!   matched route (`/v1/orgs/{org}/members`, never the raw path, so ids and tokens neither
//!   reach the series nor multiply them; `unmatched` for every path no route knows) and status
//!   class (`2xx` … `5xx`).
//! - `tenantry_cache_lookups_total` by cache and result (`hit`, `miss`).
//! - `tenantry_password_hash_queue_depth` and `tenantry_password_hashes_running`.
//! - `tenantry_email_backlog` and `tenantry_delivery_backlog` (webhook deliveries and org
//!   notifications not yet sent), read from the database at each scrape, and
//!   `tenantry_database_up`, 0 when that read failed.
//! - `tenantry_db_connections_open`, `…_in_use` and `…_max` by pool.
//!
//! Request figures are recorded by `record` on every request, per thread (`requests`);
//! everything else is read when scraped, so it costs nothing between scrapes.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use tenantry_core::domain::secret::hash_token;
use tenantry_core::Tenantry;

use crate::state::AppState;
use requests::{RequestCollector, RequestFigures};

mod requests;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
}

/// The node's registry and the handles `record` and the scrape write to.
pub struct Metrics {
    registry: Registry,
    requests: Arc<RequestFigures>,
    hash_queue: Gauge,
    hashes_running: Gauge,
    email_backlog: Gauge,
    delivery_backlog: Gauge,
    database_up: Gauge,
    connections_open: Family<PoolLabels, Gauge>,
    connections_in_use: Family<PoolLabels, Gauge>,
    connections_max: Family<PoolLabels, Gauge>,
    /// SHA-256 of `metrics.token`, when the endpoint is guarded.
    token_hash: Option<String>,
}

impl Metrics {
    pub fn new(tenantry: Arc<Tenantry>, token: Option<&str>) -> Self {
        let mut registry = Registry::with_prefix("tenantry");
        let requests = Arc::new(RequestFigures::default());
        registry.register_collector(Box::new(RequestCollector(requests.clone())));
        registry.register_collector(Box::new(CacheLookups(tenantry)));
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let gauge = Gauge::default();
            registry.register(name, help, gauge.clone());
            gauge
        };
        let hash_queue = gauge(&mut registry, "password_hash_queue_depth", "Password hashes waiting for a turn");
        let hashes_running = gauge(&mut registry, "password_hashes_running", "Password hashes being computed");
        let email_backlog = gauge(&mut registry, "email_backlog", "Emails queued and not yet sent");
        let delivery_backlog =
            gauge(&mut registry, "delivery_backlog", "Webhook deliveries and org notifications waiting to be sent");
        let database_up = gauge(&mut registry, "database_up", "1 when this scrape could read the database, else 0");
        let pools = |registry: &mut Registry, name: &str, help: &str| {
            let family = Family::<PoolLabels, Gauge>::default();
            registry.register(name, help, family.clone());
            family
        };
        let connections_open = pools(&mut registry, "db_connections_open", "Database connections open, by pool");
        let connections_in_use = pools(&mut registry, "db_connections_in_use", "Database connections in use, by pool");
        let connections_max = pools(&mut registry, "db_connections_max", "Database connections a pool may open");
        Self {
            registry,
            requests,
            hash_queue,
            hashes_running,
            email_backlog,
            delivery_backlog,
            database_up,
            connections_open,
            connections_in_use,
            connections_max,
            token_hash: token.map(hash_token),
        }
    }

    /// Reads what is measured at the scrape and renders the whole registry.
    pub async fn render(&self, state: &AppState) -> Result<String, std::fmt::Error> {
        let load = state.tenantry.password_hash_load();
        self.hash_queue.set(gauge_value(load.waiting as u64));
        self.hashes_running.set(gauge_value(load.running as u64));
        match state.tenantry.backlog().await {
            Ok(backlog) => {
                self.email_backlog.set(gauge_value(backlog.emails));
                self.delivery_backlog.set(gauge_value(backlog.deliveries));
                self.database_up.set(1);
            }
            Err(error) => {
                tracing::warn!(%error, "metrics: cannot read the backlog; the last figures are shown");
                self.database_up.set(0);
            }
        }
        for pool in state.store.pool_use() {
            let labels = PoolLabels { pool: pool.pool };
            self.connections_open.get_or_create(&labels).set(i64::from(pool.open));
            self.connections_in_use.get_or_create(&labels).set(i64::from(pool.in_use));
            self.connections_max.get_or_create(&labels).set(i64::from(pool.max));
        }
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }

    /// Whether the request may read the metrics: always when no `metrics.token` is set.
    pub fn admits(&self, request: &axum::http::HeaderMap) -> bool {
        let Some(expected) = &self.token_hash else {
            return true;
        };
        let presented = request
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        // Compared as hashes, so the comparison's time says nothing about the token's prefix.
        presented.is_some_and(|token| &hash_token(token) == expected)
    }
}

fn gauge_value(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Middleware: counts and times every request by its matched route.
pub async fn record(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = crate::request_log::matched_route(&request);
    let response = next.run(request).await;
    metrics.requests.record(method, &route, status_class(response.status()), started.elapsed().as_secs_f64());
    response
}

/// Each cache's hits and misses, read from the services' own counters at the scrape.
struct CacheLookups(Arc<Tenantry>);

impl std::fmt::Debug for CacheLookups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CacheLookups")
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LookupLabels {
    cache: &'static str,
    result: &'static str,
}

impl Collector for CacheLookups {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut family = encoder.encode_descriptor(
            "cache_lookups",
            "Lookups in each in-memory cache, by whether they found their entry.",
            None,
            MetricType::Counter,
        )?;
        for (cache, counts) in self.0.cache_lookups() {
            for (result, value) in [("hit", counts.hits), ("miss", counts.misses)] {
                let labels = LookupLabels { cache, result };
                ConstCounter::new(value).encode(family.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}
