//! Configuration: defaults, then an optional `tenantry.toml`, then `TENANTRY_*` environment
//! variables. `ENV_KEYS` is the one list of environment names; the README's reference table is
//! written from it.

use std::net::SocketAddr;
use std::path::Path;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Deserializer, Serialize};
use tenantry_core::service::service_grants::{ServiceGrant, ServiceGrants};

/// Every environment variable, the configuration key it sets, and what it means.
pub const ENV_KEYS: &[(&str, &str, &str)] = &[
    ("TENANTRY_BIND", "bind", "address and port to listen on (default 127.0.0.1:8080)"),
    ("TENANTRY_PUBLIC_URL", "public_url", "base URL used in emailed links (default http://{bind})"),
    ("TENANTRY_PRESET", "preset", "built-in preset name or path to a preset TOML file (default standard)"),
    (
        "TENANTRY_ADMIN_TOKEN",
        "admin_token",
        "instance admin token; if unset one is generated on first start and printed once",
    ),
    (
        "TENANTRY_SERVICE_TOKENS",
        "service_tokens",
        "comma-separated tokens for host apps, each with the default grants (verify, authorize, metering)",
    ),
    (
        "TENANTRY_TRUSTED_PROXIES",
        "trusted_proxies",
        "comma-separated CIDRs of reverse proxies whose Forwarded / X-Forwarded-For headers name the client",
    ),
    (
        "TENANTRY_LOG",
        "log",
        "log filter, e.g. info or tenantry=debug; add tenantry::access=info for a line per request (default info)",
    ),
    (
        "TENANTRY_LOG_FORMAT",
        "log_format",
        "text (coloured only on a terminal) or json, one object per line (default text)",
    ),
    (
        "TENANTRY_SHUTDOWN_GRACE_SECS",
        "shutdown_grace_secs",
        "on SIGTERM or Ctrl-C, how long requests in flight may take to finish (default 30)",
    ),
    ("TENANTRY_DATABASE_URL", "database.url", "database URL (default sqlite://tenantry.db)"),
    (
        "TENANTRY_DATABASE_OWNER_URL",
        "database.owner_url",
        "PostgreSQL: the tables' owner, which runs migrations (the service itself connects as database.url)",
    ),
    ("TENANTRY_DATABASE_MAX_CONNECTIONS", "database.max_connections", "connections in the pool (default 8)"),
    (
        "TENANTRY_SMTP_URL",
        "email.smtp_url",
        "SMTP server, e.g. smtp://user:pass@host:587 or smtps://…; unset: outbox only",
    ),
    ("TENANTRY_EMAIL_FROM", "email.from", "sender of Tenantry's emails (default Tenantry <no-reply@localhost>)"),
    ("TENANTRY_BILLING_MODE", "billing.mode", "managed (plans change through billing only) or open (default managed)"),
    ("TENANTRY_ACCESS_TOKEN_TTL_SECS", "auth.access_token_ttl_secs", "access token lifetime in seconds (default 900)"),
    ("TENANTRY_REFRESH_TOKEN_TTL_DAYS", "auth.refresh_token_ttl_days", "refresh token lifetime in days (default 30)"),
    (
        "TENANTRY_EMAIL_TOKEN_TTL_HOURS",
        "auth.email_token_ttl_hours",
        "verification and reset link lifetime in hours (default 24)",
    ),
    ("TENANTRY_BRAND_NAME", "brand.name", "product name the dashboard and its emails' pages show (default Tenantry)"),
    ("TENANTRY_BRAND_LOGO_URL", "brand.logo_url", "logo shown in the dashboard's header (an http(s) URL or a path)"),
    (
        "TENANTRY_BRAND_ACCENT_COLOR",
        "brand.accent_color",
        "the dashboard's accent colour, #rgb or #rrggbb (default #4f46e5)",
    ),
    (
        "TENANTRY_APP_URL",
        "app_url",
        "the host app's URL: where \"continue to the app\" leads after accepting an invitation (default /app)",
    ),
    (
        "TENANTRY_WEBHOOKS_ALLOW_PRIVATE_TARGETS",
        "webhooks.allow_private_targets",
        "let webhook endpoints resolve to private, loopback or link-local addresses (default false)",
    ),
    (
        "TENANTRY_NOTIFICATIONS_SLACK_BASE_URL",
        "notifications.slack_base_url",
        "where orgs' Slack incoming webhooks are posted (default https://hooks.slack.com)",
    ),
    (
        "TENANTRY_NOTIFICATIONS_TELEGRAM_API_URL",
        "notifications.telegram_api_url",
        "the Telegram Bot API's base URL (default https://api.telegram.org)",
    ),
    (
        "TENANTRY_MFA_ENCRYPTION_KEY",
        "mfa.encryption_key",
        "base64 of 32 random bytes sealing TOTP secrets (default: generated on first start, kept in the database)",
    ),
    (
        "TENANTRY_METRICS_TOKEN",
        "metrics.token",
        "bearer token /metrics requires; unset: /metrics is open to whoever reaches the port",
    ),
    (
        "TENANTRY_PASSWORD_HASH_CONCURRENCY",
        "auth.password_hash_concurrency",
        "password hashes computed at once (default: CPU count)",
    ),
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub bind: String,
    pub public_url: Option<String>,
    pub preset: String,
    pub admin_token: Option<String>,
    #[serde(deserialize_with = "service_tokens")]
    pub service_tokens: Vec<ServiceTokenConfig>,
    /// Peers (CIDRs) allowed to name the client's address in `Forwarded` / `X-Forwarded-For`.
    #[serde(deserialize_with = "comma_separated")]
    pub trusted_proxies: Vec<String>,
    pub log: String,
    pub log_format: LogFormat,
    /// On SIGTERM or Ctrl-C, how long requests in flight may take to finish.
    pub shutdown_grace_secs: u64,
    pub database: DatabaseConfig,
    pub email: EmailConfig,
    pub billing: BillingConfig,
    pub auth: AuthConfig,
    pub brand: BrandConfig,
    pub app_url: Option<String>,
    pub webhooks: WebhooksConfig,
    pub notifications: NotificationsConfig,
    pub mfa: MfaConfig,
    pub metrics: MetricsConfig,
}

/// The `/metrics` endpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// When set, `/metrics` answers only requests bearing it (`Authorization: Bearer …`).
    pub token: Option<String>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, coloured only on a terminal.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Multi-factor authentication.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfaConfig {
    /// The AES-256-GCM key that seals TOTP secrets, base64 of 32 bytes (`openssl rand -base64
    /// 32`). Kept outside the database, a copy of the database alone does not reveal them.
    pub encryption_key: Option<String>,
}

/// Outbound webhook deliveries.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Lets endpoints resolve to private, loopback or link-local addresses (the SSRF guard is
    /// off): for a receiver on the same host or network.
    pub allow_private_targets: bool,
}

/// Where orgs' Slack and Telegram notifications go. The org's settings name its Slack webhook
/// path and its Telegram bot; these bases say which service receives them, so tests (or a
/// proxy) can stand in for both.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationsConfig {
    pub slack_base_url: String,
    pub telegram_api_url: String,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self { slack_base_url: "https://hooks.slack.com".into(), telegram_api_url: "https://api.telegram.org".into() }
    }
}

/// How the dashboard names and colours the host product.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrandConfig {
    pub name: String,
    pub logo_url: Option<String>,
    pub accent_color: String,
}

impl Default for BrandConfig {
    fn default() -> Self {
        let defaults = crate::dashboard::Branding::default();
        Self { name: defaults.name, logo_url: defaults.logo_url, accent_color: defaults.accent_color }
    }
}

/// A host app's token and what it may do (`[[service_tokens]] token = "…", grants = ["…"]`). A
/// token given as a plain string (or in the comma-separated environment form) holds the default
/// grants: the hot paths `verify`, `authorize` and `metering`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceTokenConfig {
    pub token: String,
    #[serde(default = "default_grants")]
    pub grants: Vec<String>,
}

fn default_grants() -> Vec<String> {
    ServiceGrant::DEFAULT.iter().map(|g| g.name().to_owned()).collect()
}

impl ServiceTokenConfig {
    /// The token's grants, refusing names that grant nothing (a typo would otherwise go unseen).
    pub fn grants(&self) -> Result<ServiceGrants, String> {
        let grants = self.grants.iter().map(|name| ServiceGrant::parse(name)).collect::<Result<Vec<_>, _>>();
        grants.map(ServiceGrants::of).map_err(|e| format!("service_tokens: {e}"))
    }
}

impl From<&str> for ServiceTokenConfig {
    fn from(token: &str) -> Self {
        Self { token: token.to_owned(), grants: default_grants() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
    pub owner_url: Option<String>,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailConfig {
    pub smtp_url: Option<String>,
    pub from: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillingMode {
    Managed,
    Open,
}

impl From<BillingMode> for tenantry_core::domain::plan::BillingMode {
    fn from(mode: BillingMode) -> Self {
        match mode {
            BillingMode::Managed => Self::Managed,
            BillingMode::Open => Self::Open,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BillingConfig {
    pub mode: BillingMode,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_days: u64,
    pub email_token_ttl_hours: u64,
    pub password_hash_concurrency: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            public_url: None,
            preset: "standard".into(),
            admin_token: None,
            service_tokens: Vec::new(),
            trusted_proxies: Vec::new(),
            log: "info".into(),
            log_format: LogFormat::Text,
            shutdown_grace_secs: 30,
            database: DatabaseConfig::default(),
            email: EmailConfig::default(),
            billing: BillingConfig::default(),
            auth: AuthConfig::default(),
            brand: BrandConfig::default(),
            app_url: None,
            webhooks: WebhooksConfig::default(),
            notifications: NotificationsConfig::default(),
            mfa: MfaConfig::default(),
            metrics: MetricsConfig::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { url: "sqlite://tenantry.db".into(), owner_url: None, max_connections: 8 }
    }
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self { smtp_url: None, from: "Tenantry <no-reply@localhost>".into() }
    }
}

impl Default for BillingConfig {
    fn default() -> Self {
        Self { mode: BillingMode::Managed }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_token_ttl_secs: 900,
            refresh_token_ttl_days: 30,
            email_token_ttl_hours: 24,
            password_hash_concurrency: None,
        }
    }
}

/// Accepts a list or a comma-separated string (the environment's form).
fn comma_separated<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Raw::deserialize(deserializer)? {
        Raw::List(list) => list,
        Raw::Text(text) => text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect(),
    })
}

/// Accepts a list of tokens (plain strings or `{token, grants}` tables) or a comma-separated
/// string of plain tokens (the environment's form).
fn service_tokens<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<ServiceTokenConfig>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Entry {
        Plain(String),
        Granted(ServiceTokenConfig),
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<Entry>),
        Text(String),
    }
    Ok(match Raw::deserialize(deserializer)? {
        Raw::List(list) => list
            .into_iter()
            .map(|entry| match entry {
                Entry::Plain(token) => ServiceTokenConfig::from(token.as_str()),
                Entry::Granted(config) => config,
            })
            .collect(),
        Raw::Text(text) => {
            text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(ServiceTokenConfig::from).collect()
        }
    })
}

impl Config {
    /// Reads the configuration file (if it exists) and the environment.
    pub fn load(file: &Path) -> Result<Self, Box<figment::Error>> {
        let env = Env::raw().filter_map(|name| {
            let upper = name.as_str().to_ascii_uppercase();
            ENV_KEYS.iter().find(|(env, _, _)| *env == upper).map(|(_, key, _)| (*key).into())
        });
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(env)
            .extract()
            .map_err(Box::new)
    }

    pub fn bind_addr(&self) -> Result<SocketAddr, String> {
        self.bind.parse().map_err(|_| format!("bind: `{}` is not an address like 127.0.0.1:8080", self.bind))
    }

    /// The base of emailed links, without a trailing slash.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{bound}")).trim_end_matches('/').to_owned()
    }
}

#[cfg(test)]
// figment's Jail fixes the closures' error type to its own (large) error.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_file_and_no_environment() {
        figment::Jail::expect_with(|_jail| {
            let config = Config::load(Path::new("tenantry.toml")).map_err(|e| e.to_string())?;
            assert_eq!(config.bind, "127.0.0.1:8080");
            assert_eq!(config.database.url, "sqlite://tenantry.db");
            assert_eq!(config.preset, "standard");
            assert_eq!(config.billing.mode, BillingMode::Managed);
            assert!(config.admin_token.is_none());
            Ok(())
        });
    }

    #[test]
    fn the_environment_overrides_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "tenantry.toml",
                r#"
                bind = "0.0.0.0:9000"
                preset = "yipyap"
                service_tokens = ["from-file"]
                [database]
                url = "sqlite://file.db"
                [email]
                smtp_url = "smtp://file:25"
                "#,
            )?;
            jail.set_env("TENANTRY_DATABASE_URL", "sqlite://env.db");
            jail.set_env("TENANTRY_SMTP_URL", "smtp://env:2525");
            jail.set_env("TENANTRY_SERVICE_TOKENS", "one, two,three");
            jail.set_env("TENANTRY_BILLING_MODE", "open");
            jail.set_env("TENANTRY_ACCESS_TOKEN_TTL_SECS", "60");
            let config = Config::load(Path::new("tenantry.toml")).map_err(|e| e.to_string())?;
            assert_eq!(config.bind, "0.0.0.0:9000");
            assert_eq!(config.preset, "yipyap");
            assert_eq!(config.database.url, "sqlite://env.db");
            assert_eq!(config.email.smtp_url.as_deref(), Some("smtp://env:2525"));
            let tokens: Vec<_> = config.service_tokens.iter().map(|t| t.token.as_str()).collect();
            assert_eq!(tokens, ["one", "two", "three"]);
            assert!(config.service_tokens.iter().all(|t| t.grants == default_grants()));
            assert_eq!(config.billing.mode, BillingMode::Open);
            assert_eq!(config.auth.access_token_ttl_secs, 60);
            Ok(())
        });
    }

    #[test]
    fn service_tokens_carry_named_grants() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "tenantry.toml",
                r#"
                trusted_proxies = ["10.0.0.0/8"]
                [[service_tokens]]
                token = "billing"
                grants = ["metering", "billing"]
                [[service_tokens]]
                token = "plain"
                "#,
            )?;
            let config = Config::load(Path::new("tenantry.toml")).map_err(|e| e.to_string())?;
            assert_eq!(config.service_tokens[0].grants, ["metering", "billing"]);
            let grants = config.service_tokens[0].grants().unwrap();
            assert!(grants.contains(ServiceGrant::Billing) && !grants.contains(ServiceGrant::Verify));
            assert_eq!(config.service_tokens[1].grants().unwrap(), ServiceGrants::default());
            assert_eq!(config.trusted_proxies, ["10.0.0.0/8"]);
            let typo = ServiceTokenConfig { token: "t".into(), grants: vec!["audit.reed".into()] };
            assert!(typo.grants().unwrap_err().contains("audit.reed"));
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("tenantry.toml", "bnid = \"0.0.0.0:1\"")?;
            let error = Config::load(Path::new("tenantry.toml")).unwrap_err().to_string();
            assert!(error.contains("bnid"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn every_env_key_names_a_real_setting() {
        figment::Jail::expect_with(|jail| {
            for (env, key, _) in ENV_KEYS {
                let value = if key.ends_with("_secs")
                    || key.ends_with("_days")
                    || key.ends_with("_hours")
                    || key.ends_with("concurrency")
                    || key.ends_with("max_connections")
                {
                    "7"
                } else if *key == "billing.mode" {
                    "open"
                } else if *key == "brand.accent_color" {
                    "#123456"
                } else if *key == "log_format" {
                    "json"
                } else if *key == "webhooks.allow_private_targets" {
                    "true"
                } else {
                    "x"
                };
                jail.set_env(env, value);
            }
            Config::load(Path::new("absent.toml")).map_err(|e| e.to_string())?;
            Ok(())
        });
    }

    #[test]
    fn the_readme_lists_every_environment_key() {
        let readme = include_str!("../../../README.md");
        for (env, key, _) in ENV_KEYS {
            let row = format!("| `{env}` | `{key}` |");
            assert!(readme.contains(&row), "README.md's configuration table has no row for {env} (`{key}`)");
        }
    }
}
