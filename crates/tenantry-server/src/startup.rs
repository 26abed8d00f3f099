//! Building and running the application: configuration → preset → store → services → router.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{bail, Context};
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::serve::ListenerExt;
use axum::{Extension, Router};
use chrono::Duration;
use tenantry_core::context::{Clock, OsRandom, SystemClock};
use tenantry_core::domain::preset::Preset;
use tenantry_core::domain::secret::hash_token;
use tenantry_core::service::admin::AdminToken;
use tenantry_core::service::{MfaKey, ServiceSettings};
use tenantry_core::Tenantry;
use tenantry_store::{Backend, ConnectOptions, Heard, PostgresRoles, SqlStore};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::client_addr::TrustedProxies;
use crate::config::Config;
use crate::dashboard::{Branding, Site};
use crate::extract::BODY_LIMIT;
use crate::mailer::Mailer;
use crate::metrics::Metrics;
use crate::openapi::ApiDoc;
use crate::request_log::RequestSpan;
use crate::state::{AppState, Credentials, Shared};

/// Knobs for embedding the application (tests control the clock and the flush pace).
pub struct Options {
    pub clock: Arc<dyn Clock>,
    /// How often API keys' `last_used_at` is written (each key at most once a minute).
    pub key_usage_flush_every: std::time::Duration,
    /// Whether changes write host apps' events (always, in service; the benchmark turns it off to
    /// measure what they cost).
    pub host_events: bool,
    /// Whether each request is counted and timed for `/metrics` (always, in service; the
    /// benchmark turns it off to measure what it costs).
    pub request_metrics: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            key_usage_flush_every: std::time::Duration::from_secs(5),
            host_events: true,
            request_metrics: true,
        }
    }
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    store: SqlStore,
    admin_token: AdminToken,
    /// How long requests in flight may take to finish once shutdown begins.
    shutdown_grace: std::time::Duration,
}

/// Opens the database named by the configuration and applies pending migrations (on
/// PostgreSQL as the owner role, when `database.owner_url` names one).
pub async fn open_store(config: &Config) -> anyhow::Result<SqlStore> {
    let store = connect_store(config).await?;
    let roles = match (&config.database.owner_url, store.backend()) {
        (Some(owner_url), Backend::Postgres) => Some(PostgresRoles { owner_url: owner_url.clone() }),
        (Some(_), Backend::Sqlite) => bail!("database.owner_url is for PostgreSQL only"),
        (None, _) => None,
    };
    store.migrate(roles.as_ref()).await.context("cannot apply database migrations")?;
    Ok(store)
}

/// Opens the database named by the configuration as it is, without migrating it.
pub async fn connect_store(config: &Config) -> anyhow::Result<SqlStore> {
    let url = &config.database.url;
    if Backend::of_url(url).is_none() {
        bail!("database.url: `{url}` is not supported; use sqlite://PATH or postgres://USER@HOST/DATABASE");
    }
    let options = ConnectOptions { max_connections: config.database.max_connections };
    SqlStore::connect(url, &options).await.with_context(|| format!("cannot open the database {url}"))
}

/// Applies a cache change another process committed.
fn follow_cache_change(tenantry: &Tenantry, heard: Heard) {
    match heard {
        Heard::Change(change) => tenantry.apply_cache_change(&change),
        // Missed changes: forget everything rather than serve a stale answer.
        Heard::Gap => tenantry.clear_caches(),
    }
}

/// The OpenAPI document and the router it describes.
pub fn api_router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(crate::routes::api()).split_for_parts()
}

impl Application {
    /// Binds the listener (port 0 picks a free one) and prepares everything; nothing is served
    /// until `run`.
    pub async fn build(config: Config, options: Options) -> anyhow::Result<Self> {
        let preset = Preset::load(&config.preset).map_err(|e| anyhow::anyhow!("preset: {e}"))?;
        let bind = config.bind_addr().map_err(anyhow::Error::msg)?;
        let listener = TcpListener::bind(bind).await.with_context(|| format!("cannot listen on {bind}"))?;
        let bound = listener.local_addr()?;

        let store = open_store(&config).await?;
        let settings = ServiceSettings {
            public_url: config.public_url(bound),
            access_token_ttl: Duration::seconds(config.auth.access_token_ttl_secs as i64),
            refresh_token_ttl: Duration::days(config.auth.refresh_token_ttl_days as i64),
            email_token_ttl: Duration::hours(config.auth.email_token_ttl_hours as i64),
            log_email_links: config.email.smtp_url.is_none(),
            password_hash_concurrency: config
                .auth
                .password_hash_concurrency
                .unwrap_or_else(|| ServiceSettings::default().password_hash_concurrency),
            billing_mode: config.billing.mode.into(),
            host_events: options.host_events,
            mfa_encryption_key: config.mfa.encryption_key.clone().map(MfaKey),
        };
        let tenantry = Arc::new(
            Tenantry::new(Arc::new(store.clone()), Arc::new(preset), options.clock, Arc::new(OsRandom), settings)
                .await?,
        );

        let (admin_hash, admin_token) = tenantry.admin().settle_admin_token(config.admin_token.as_deref()).await?;
        let service_hashes = config
            .service_tokens
            .iter()
            .enumerate()
            .map(|(i, token)| Ok((hash_token(&token.token), (format!("service_{}", i + 1), token.grants()?))))
            .collect::<Result<HashMap<_, _>, String>>()
            .map_err(anyhow::Error::msg)?;
        let proxies = Arc::new(TrustedProxies::parse(&config.trusted_proxies).map_err(anyhow::Error::msg)?);

        tokio::spawn(flush_key_usage(tenantry.clone(), options.key_usage_flush_every));
        tokio::spawn(sweep_rate_windows(tenantry.clone()));
        // A database shared by several nodes: caches follow each other's changes, and rate limits
        // are held together.
        let follower = tenantry.clone();
        if store.follow_cache_changes(Arc::new(move |heard| follow_cache_change(&follower, heard))) {
            tokio::spawn(share_rate_counts(tenantry.clone()));
        }
        if let Some(url) = &config.email.smtp_url {
            let mailer = Mailer::new(url, &config.email.from).map_err(anyhow::Error::msg)?;
            tokio::spawn(mailer.run(tenantry.clone()));
        }
        tokio::spawn(crate::webhooks::dispatch(tenantry.clone()));
        tokio::spawn(crate::webhooks::prune(tenantry.clone()));
        let outbound = crate::webhooks::Outbound {
            allow_private_targets: config.webhooks.allow_private_targets,
            slack_base_url: config.notifications.slack_base_url.clone(),
            telegram_api_url: config.notifications.telegram_api_url.clone(),
        };
        tokio::spawn(crate::webhooks::Sender::new(outbound).run(tenantry.clone()));

        let brand = Branding {
            name: config.brand.name.clone(),
            logo_url: config.brand.logo_url.clone(),
            accent_color: config.brand.accent_color.clone(),
            app_url: config.app_url.clone(),
        };
        let refresh_cookie_secs = (config.auth.refresh_token_ttl_days as i64).saturating_mul(86_400);
        let site = Site::new(brand, tenantry.public_url(), refresh_cookie_secs).map_err(anyhow::Error::msg)?;
        let credentials = Arc::new(Credentials { admin_hash, service_hashes });
        let metrics = Arc::new(Metrics::new(tenantry.clone(), config.metrics.token.as_deref()));
        let state = AppState::new(Shared {
            tenantry,
            credentials,
            proxies,
            site: Arc::new(site),
            allow_private_targets: config.webhooks.allow_private_targets,
            store: store.clone(),
            metrics: metrics.clone(),
        });
        let (router, doc) = api_router();
        let router = router.merge(crate::dashboard::router());
        let doc = Arc::new(doc.to_json().context("cannot serialise the OpenAPI document")?);
        let router = router
            .with_state(state.clone())
            .layer(Extension(doc))
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
            .layer(axum::middleware::from_fn_with_state(state.clone(), crate::key_auth::middleware))
            .layer(axum::middleware::from_fn_with_state(state.clone(), crate::security_events::middleware))
            // Before everything that records the client's address.
            .layer(axum::middleware::from_fn_with_state(state.clone(), crate::client_addr::middleware))
            .layer(TraceLayer::new_for_http().make_span_with(RequestSpan))
            // Credentials show as "Sensitive" in the request log.
            .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
            .layer(CatchPanicLayer::new())
            .layer(axum::middleware::from_fn(crate::request_log::access_log));
        let router = if options.request_metrics {
            router.layer(axum::middleware::from_fn_with_state(metrics, crate::metrics::record))
        } else {
            router
        };
        let router = router.layer(axum::middleware::from_fn(crate::request_id::middleware));
        let shutdown_grace = std::time::Duration::from_secs(config.shutdown_grace_secs);
        Ok(Self { listener, router, state, store, admin_token, shutdown_grace })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn store(&self) -> &SqlStore {
        &self.store
    }

    /// A token generated on this start, to be shown once.
    pub fn generated_admin_token(&self) -> Option<&str> {
        match &self.admin_token {
            AdminToken::Generated(token) => Some(token),
            _ => None,
        }
    }

    /// Serves until `shutdown` resolves, then shuts down gracefully: stops accepting, lets the
    /// requests in flight finish (for at most `shutdown_grace_secs`), writes what is kept in
    /// memory (API key usage, this node's rate-limit counts) and closes the database pool.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let (began, shutting_down) = tokio::sync::oneshot::channel::<()>();
        let signalled = async move {
            shutdown.await;
            tracing::info!("shutting down: no new connections; finishing the requests in flight");
            let _ = began.send(());
        };
        // Responses go out as soon as they are written: without TCP_NODELAY a page written in
        // more than one piece waits on the client's acknowledgement of the first.
        let listener = self.listener.tap_io(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "could not set TCP_NODELAY on a connection");
            }
        });
        let served = axum::serve(listener, service).with_graceful_shutdown(signalled);
        let grace = self.shutdown_grace;
        let served = tokio::select! {
            served = served => served,
            () = async {
                if shutting_down.await.is_ok() {
                    tokio::time::sleep(grace).await;
                } else {
                    std::future::pending::<()>().await;
                }
            } => {
                tracing::warn!(grace_secs = grace.as_secs(), "requests still in flight after the grace period; closing");
                Ok(())
            }
        };
        if let Err(error) = self.state.tenantry.api_keys().flush_key_usage().await {
            tracing::warn!(%error, "could not write API key usage at shutdown");
        }
        if let Err(error) = self.state.tenantry.api_keys().share_rate_counts().await {
            tracing::warn!(%error, "could not write rate-limit counts at shutdown");
        }
        self.store.close().await;
        served
    }
}

/// How often a node adds its rate-limit counts to the shared ones: a key can exceed its limit by
/// what the other nodes admit for it within this interval.
const RATE_SHARE_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

async fn share_rate_counts(tenantry: Arc<Tenantry>) {
    let mut ticks = tokio::time::interval(RATE_SHARE_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = tenantry.api_keys().share_rate_counts().await {
            tracing::warn!(%error, "could not share rate-limit counts; will retry");
        }
    }
}

/// How often rate-limit windows of past minutes are dropped: until then they only take memory,
/// so the windows held are at most those of the keys used in the last minute and this interval.
const RATE_SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

async fn sweep_rate_windows(tenantry: Arc<Tenantry>) {
    let mut ticks = tokio::time::interval(RATE_SWEEP_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let sweeper = tenantry.clone();
        // A sweep of 200,000 windows takes milliseconds: on a blocking thread, it delays no
        // request queued behind it on a runtime worker.
        if let Err(error) = tokio::task::spawn_blocking(move || sweeper.api_keys().sweep_rate_windows()).await {
            tracing::warn!(%error, "the rate-limit window sweep failed");
        }
    }
}

/// Writes API keys' `last_used_at` in batches, off the request path.
async fn flush_key_usage(tenantry: Arc<Tenantry>, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = tenantry.api_keys().flush_key_usage().await {
            tracing::warn!(%error, "could not write API key usage; will retry");
        }
    }
}
