//! The test harness: a real server on port 0 with its own database (SQLite, or PostgreSQL in the
//! suite's PostgreSQL run), a controllable clock and typed helpers for the calls most tests make.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::AnyPool;
use tenantry_core::context::ManualClock;
use tenantry_server::config::ServiceTokenConfig;
use tenantry_server::startup::Options;
use tenantry_server::{Application, Config};
use tenantry_store::SqlStore;

pub use crate::test_db::Backend;
use crate::test_db::TestDatabase;

/// Audit rows of changes: every row but the security events (logins, refused requests).
pub const CHANGES: &str = "action NOT LIKE 'security.%'";

pub const PASSWORD: &str = "correct horse battery";
pub const ADMIN_TOKEN: &str = "test-admin-token";
/// A host app's token with the default grants (verify, authorize, metering).
pub const SERVICE_TOKEN: &str = "test-service-token";
/// A host app's token granted everything (audit log, billing) on top.
pub const HOST_TOKEN: &str = "test-host-token-all-grants";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    /// The server's database, for checks the API does not expose (audit rows) and for fixtures.
    /// SQL written for it uses `$1`-style placeholders, which both databases accept.
    pub db: AnyPool,
    /// The server's store (to close it, proving a path needs no database).
    pub store: SqlStore,
    /// The configuration the server was built with (to start another node on the same database).
    pub config: Config,
    /// Dropped with the app (PostgreSQL: the database and its roles go too).
    _database: TestDatabase,
}

/// A signed-up user.
pub struct Account {
    pub user_id: String,
    pub personal_org: String,
    pub access: String,
    pub refresh: String,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Response {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        self
    }
}

pub fn config() -> Config {
    Config {
        bind: "127.0.0.1:0".into(),
        admin_token: Some(ADMIN_TOKEN.into()),
        service_tokens: vec![
            SERVICE_TOKEN.into(),
            ServiceTokenConfig {
                token: HOST_TOKEN.into(),
                grants: [
                    "verify",
                    "authorize",
                    "metering",
                    "audit.read",
                    "audit.write",
                    "billing",
                    "events.read",
                    "notifications",
                ]
                .map(String::from)
                .into(),
            },
        ],
        ..Config::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_with(config()).await
}

/// A configuration on a fresh database of this run's kind, for tests that build the application
/// themselves (restarts); the database lives as long as the returned handle.
pub async fn config_on_fresh_database() -> (Config, TestDatabase) {
    let database = TestDatabase::create(backend()).await;
    let mut config = config();
    config.database.url = database.url.clone();
    config.database.owner_url = database.owner_url.clone();
    (config, database)
}

/// The database this test binary runs on.
pub fn backend() -> Backend {
    crate::BACKEND
}

pub async fn spawn_with(mut config: Config) -> TestApp {
    let database = TestDatabase::create(backend()).await;
    config.database.url = database.url.clone();
    config.database.owner_url = database.owner_url.clone();
    let clock = Arc::new(ManualClock::starting_now());
    let options = Options {
        clock: clock.clone(),
        key_usage_flush_every: std::time::Duration::from_millis(50),
        ..Options::default()
    };
    let app = Application::build(config.clone(), options).await.expect("the app builds");
    let base = format!("http://{}", app.local_addr());
    let db = database.admin_pool().await;
    let store = app.store().clone();
    tokio::spawn(app.run(std::future::pending()));
    TestApp { base, client: reqwest::Client::new(), clock, db, store, config, _database: database }
}

impl TestApp {
    /// Starts another server on the same database and clock, as a second node would run, and
    /// returns its base URL.
    pub async fn another_node(&self) -> String {
        self.another_node_with(self.config.clone()).await
    }

    /// Like [`Self::another_node`], with its own `config` (e.g. one that sends email); the
    /// database settings are this app's.
    pub async fn another_node_with(&self, mut config: Config) -> String {
        config.database = self.config.database.clone();
        let options = Options {
            clock: self.clock.clone(),
            key_usage_flush_every: std::time::Duration::from_millis(50),
            ..Options::default()
        };
        let node = Application::build(config, options).await.expect("the second node builds");
        let base = format!("http://{}", node.local_addr());
        tokio::spawn(node.run(std::future::pending()));
        base
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Response {
        self.call_on(&self.base, method, path, token, body).await
    }

    /// A request to the server at `base` (another node).
    pub async fn call_on(
        &self,
        base: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.client.request(method, format!("{base}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Response { status, headers, body }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    /// A signed-up account whose address counts as verified (as after following the emailed
    /// link, without its audit event), so it may create keys and send invitations.
    pub async fn signup(&self, email: &str, name: &str) -> Account {
        let account = self.signup_unverified(email, name).await;
        self.set_verified_in_db(&account.user_id, true).await;
        account
    }

    /// Marks an account's address verified (or not) in the database.
    pub async fn set_verified_in_db(&self, user: &str, verified: bool) {
        let at = verified.then(|| chrono::Utc::now().timestamp_millis());
        sqlx::query("UPDATE users SET email_verified_at = $1 WHERE id = $2")
            .bind(at)
            .bind(user)
            .execute(&self.db)
            .await
            .unwrap();
    }

    /// A signed-up account that has not verified its address.
    pub async fn signup_unverified(&self, email: &str, name: &str) -> Account {
        let r = self
            .post("/v1/auth/signup", None, json!({ "email": email, "password": PASSWORD, "display_name": name }))
            .await
            .expect(201);
        let data = &r.body["data"];
        Account {
            user_id: data["user"]["id"].as_str().unwrap().to_owned(),
            personal_org: data["org"]["id"].as_str().unwrap().to_owned(),
            access: data["access_token"].as_str().unwrap().to_owned(),
            refresh: data["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn create_org(&self, account: &Account, name: &str) -> Value {
        self.post("/v1/orgs", Some(&account.access), json!({ "name": name })).await.expect(201).body["data"].clone()
    }

    /// The newest outbox message to `to`, read through the admin API.
    pub async fn last_email_to(&self, to: &str) -> Value {
        let r = self.get("/v1/admin/outbox?limit=100", Some(ADMIN_TOKEN)).await.expect(200);
        r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["to"] == to)
            .cloned()
            .unwrap_or_else(|| panic!("no email to {to}"))
    }

    /// The token at the end of the link after `path_marker` (e.g. `/verify-email/`) in the newest
    /// email to `to`.
    pub async fn emailed_token(&self, to: &str, path_marker: &str) -> String {
        let message = self.last_email_to(to).await;
        let text = message["text"].as_str().unwrap();
        let start =
            text.find(path_marker).unwrap_or_else(|| panic!("no {path_marker} link in {text}")) + path_marker.len();
        text[start..].split_whitespace().next().unwrap().to_owned()
    }

    pub async fn audit_count(&self) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM audit_events WHERE {CHANGES}"))
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        sqlx::query_scalar(&format!("SELECT action FROM audit_events WHERE {CHANGES} ORDER BY seq"))
            .fetch_all(&self.db)
            .await
            .unwrap()
    }

    /// Adds `account` to `org` with `role`, as the instance admin does (see `add_user`).
    pub async fn add_member(&self, org: &str, account: &Account, role: &str) {
        self.add_user(org, &account.user_id, role).await;
    }
}

/// An API key as created: its id and its secret.
pub struct Key {
    pub id: String,
    pub secret: String,
}

impl TestApp {
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.call(Method::DELETE, path, token, None).await
    }

    /// Creates an API key in `org` with `scopes`, as `account`.
    pub async fn create_key(&self, account: &Account, org: &str, scopes: &[&str]) -> Key {
        let r = self
            .post(
                &format!("/v1/orgs/{org}/api-keys"),
                Some(&account.access),
                json!({ "name": "test key", "scopes": scopes }),
            )
            .await
            .expect(201);
        Key {
            id: r.body["data"]["id"].as_str().unwrap().to_owned(),
            secret: r.body["data"]["secret"].as_str().unwrap().to_owned(),
        }
    }

    /// `POST /v1/keys/verify` as the host app; returns the `data` object.
    pub async fn verify_key(&self, secret: &str, permission: Option<&str>) -> Value {
        let mut body = json!({ "key": secret });
        if let Some(permission) = permission {
            body["permission"] = json!(permission);
        }
        self.post("/v1/keys/verify", Some(SERVICE_TOKEN), body).await.expect(200).body["data"].clone()
    }
}

impl TestApp {
    /// The server's (controlled) time.
    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use tenantry_core::context::Clock;
        self.clock.now()
    }
}

/// Helpers for invitation tests.
impl TestApp {
    /// Signs up and confirms the email address with the emailed link.
    pub async fn verified_signup(&self, email: &str, name: &str) -> Account {
        let account = self.signup_unverified(email, name).await;
        let token = self.emailed_token(email, "/verify-email/").await;
        self.post("/v1/auth/verify-email", None, json!({ "token": token })).await.expect(204);
        account
    }

    /// A fresh access token for an account (after the clock moved past the old one's expiry).
    pub async fn login(&self, email: &str) -> String {
        let r = self.post("/v1/auth/login", None, json!({ "email": email, "password": PASSWORD })).await.expect(200);
        r.body["data"]["access_token"].as_str().unwrap().to_owned()
    }
}

impl TestApp {
    /// A request with extra headers.
    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Response {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Response { status, headers, body }
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    /// A DELETE with a body (confirmations).
    pub async fn delete_with(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.call(Method::DELETE, path, token, Some(body)).await
    }

    /// Puts `org` on `plan` as the instance admin.
    pub async fn set_plan(&self, org: &str, plan: &str) {
        self.put(&format!("/v1/orgs/{org}/plan"), Some(ADMIN_TOKEN), json!({ "plan": plan })).await.expect(200);
    }

    /// Meters `delta` of `metric` for `org` with the service token.
    pub async fn meter(&self, org: &str, metric: &str, delta: i64) -> Response {
        self.post(&format!("/v1/orgs/{org}/usage/{metric}"), Some(SERVICE_TOKEN), json!({ "delta": delta })).await
    }

    /// How many audit events with `action` were written.
    pub async fn audit_count_of(&self, action: &str) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = $1")
            .bind(action)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }
}

/// Helpers for role, membership and authorization tests.
impl TestApp {
    /// A user written straight to the database (without a usable password), for subjects of
    /// authorization checks and targets of member operations: no password hashing.
    pub async fn insert_user(&self, name: &str) -> String {
        let id = format!("usr_{}", ulid::Ulid::new());
        sqlx::query("INSERT INTO users (id, email, display_name, password_hash, status, created_at) VALUES ($1, $2, $3, 'x', 'active', 0)")
            .bind(&id)
            .bind(format!("{}@fixture.test", id.to_lowercase()))
            .bind(name)
            .execute(&self.db)
            .await
            .unwrap();
        id
    }

    /// Adds `user` to `org` with `role` through the admin API (`POST /v1/admin/orgs/{org}/members`),
    /// so the membership is made as the service makes any: the seat count kept, the plan's member
    /// limit applied, `member.added` audited, caches told. The org's plan must have room (`free`
    /// admits its owner alone): put the org on `team` first, or see `add_members_beyond_plan`.
    pub async fn add_user(&self, org: &str, user: &str, role: &str) {
        self.post(
            &format!("/v1/admin/orgs/{org}/members"),
            Some(ADMIN_TOKEN),
            json!({ "user_id": user, "role": role }),
        )
        .await
        .expect(201);
    }

    /// Adds each `(user id, role)` to `org` whatever room its plan leaves, as an org keeps the
    /// members it gained on a larger plan after moving down (a member limit stops growth, it never
    /// shrinks an org): the org moves to `team`, they join, and it moves back to its plan, each
    /// step through the API and audited.
    pub async fn add_members_beyond_plan(&self, org: &str, members: &[(&str, &str)]) {
        let billing = self.get(&format!("/v1/orgs/{org}/billing"), Some(HOST_TOKEN)).await.expect(200);
        let plan = billing.body["data"]["plan"].as_str().unwrap().to_owned();
        self.set_plan(org, "team").await;
        for (user, role) in members {
            self.add_user(org, user, role).await;
        }
        self.set_plan(org, &plan).await;
    }

    /// Moves an org to another plan in the database, without an audit event of its own (for
    /// tests that count the audit rows of other changes).
    pub async fn set_plan_in_db(&self, org: &str, plan: &str) {
        sqlx::query("UPDATE orgs SET plan = $1 WHERE id = $2").bind(plan).bind(org).execute(&self.db).await.unwrap();
    }

    /// `(action, actor_id, target_id, metadata)` of an org's audit events, oldest first.
    pub async fn audit_of(&self, org: &str) -> Vec<(String, String, String, Value)> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(&format!(
            "SELECT action, actor_id, target_id, metadata FROM audit_events WHERE org_id = $1 AND {CHANGES} ORDER BY seq"
        ))
        .bind(org)
        .fetch_all(&self.db)
        .await
        .unwrap();
        rows.into_iter().map(|(a, actor, target, m)| (a, actor, target, serde_json::from_str(&m).unwrap())).collect()
    }

    /// Like `audit_of`, without the events of the org's setup: the leading run of its creation,
    /// plan changes and members added (what fixtures such as `add_member` write), so that a test
    /// sees the changes it made itself.
    pub async fn audit_after_setup(&self, org: &str) -> Vec<(String, String, String, Value)> {
        const SETUP: [&str; 3] = ["org.created", "org.plan_changed", "member.added"];
        self.audit_of(org).await.into_iter().skip_while(|(action, ..)| SETUP.contains(&action.as_str())).collect()
    }

    /// The role `user` holds in `org` according to the database, if any.
    pub async fn role_in_db(&self, org: &str, user: &str) -> Option<String> {
        sqlx::query_scalar("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org)
            .bind(user)
            .fetch_optional(&self.db)
            .await
            .unwrap()
    }

    /// `/v1/authorize` for one permission, asked by a host app; returns `data`.
    pub async fn authorize(&self, user: &str, org: &str, permission: &str) -> Value {
        let body = json!({ "subject": { "user_id": user }, "org": org, "permission": permission });
        self.post("/v1/authorize", Some(SERVICE_TOKEN), body).await.expect(200).body["data"].clone()
    }

    pub async fn allowed(&self, user: &str, org: &str, permission: &str) -> bool {
        self.authorize(user, org, permission).await["allowed"].as_bool().unwrap()
    }
}

/// The host apps' event log, as the instance admin reads it.
impl TestApp {
    pub async fn events(&self) -> Vec<Value> {
        let mut all = Vec::new();
        let mut after = String::new();
        loop {
            let path = format!("/v1/events?limit=100&after={after}");
            let page = self.get(&path, Some(ADMIN_TOKEN)).await.expect(200);
            let items = page.body["data"].as_array().unwrap().clone();
            all.extend(items);
            match page.body["pagination"]["next_cursor"].as_str() {
                Some(next) => after = next.to_owned(),
                None => return all,
            }
        }
    }

    /// Every kept event, oldest first, once there are at least `count`. On PostgreSQL the log
    /// shows an event once no older transaction of the server is still running (another test's,
    /// meanwhile, may be), so a just-committed event can take a moment to appear.
    pub async fn events_once(&self, count: usize) -> Vec<Value> {
        for _ in 0..100 {
            let events = self.events().await;
            if events.len() >= count {
                return events;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.events().await
    }

    /// The events of one org, oldest first, once there are at least `count` (see `events_once`).
    pub async fn org_events_once(&self, org: &str, count: usize) -> Vec<Value> {
        for _ in 0..100 {
            let events: Vec<Value> = self.events().await.into_iter().filter(|e| e["org_id"] == org).collect();
            if events.len() >= count {
                return events;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.events().await.into_iter().filter(|e| e["org_id"] == org).collect()
    }

    /// The types of one org's events, oldest first, once there are at least `count`.
    pub async fn org_event_types(&self, org: &str, count: usize) -> Vec<String> {
        self.org_events_once(org, count).await.iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
    }

    /// The types of the event log, oldest first, once there are at least `count`.
    pub async fn event_types(&self, count: usize) -> Vec<String> {
        self.events_once(count).await.iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
    }
}

// TOTP as an authenticator app computes it, written here from RFC 6238 (independent of the
// server's implementation), for the MFA tests.

/// RFC 4648 base32 without padding, as the secret is given.
pub fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits: u64 = 0;
    let mut held = 0;
    let mut out = Vec::new();
    for c in text.chars() {
        let value = ALPHABET.find(c).expect("a base32 character") as u64;
        bits = (bits << 5) | value;
        held += 5;
        if held >= 8 {
            held -= 8;
            out.push((bits >> held) as u8);
        }
    }
    out
}

/// The RFC 6238 code (HMAC-SHA-1, 6 digits) of `secret` for the 30-second step `step`.
pub fn code_at_step(secret: &[u8], step: i64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).unwrap();
    mac.update(&(step as u64).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let value = u32::from_be_bytes(digest[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff;
    format!("{:06}", value % 1_000_000)
}

pub fn step_now(app: &TestApp) -> i64 {
    app.clock_now().timestamp() / 30
}

impl TestApp {
    /// Enrols `account` and returns the secret; the confirming code used the current step.
    pub async fn enrol_mfa(&self, account: &Account) -> Vec<u8> {
        let r = self.post("/v1/me/mfa/totp", Some(&account.access), json!(null)).await.expect(200);
        let secret = base32_decode(r.body["data"]["secret"].as_str().unwrap());
        let code = code_at_step(&secret, step_now(self));
        self.post("/v1/me/mfa/totp/confirm", Some(&account.access), json!({ "code": code })).await.expect(200);
        secret
    }
}
