//! The test harness: a real server on port 0 with its own SQLite file, a controllable clock and
//! typed helpers for the calls most tests make.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::SqlitePool;
use tenantry_core::context::ManualClock;
use tenantry_server::startup::Options;
use tenantry_server::{Application, Config};

pub const PASSWORD: &str = "correct horse battery";
pub const ADMIN_TOKEN: &str = "test-admin-token";
pub const SERVICE_TOKEN: &str = "test-service-token";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    /// The server's database, for checks the API does not expose (audit rows) and for fixtures.
    pub db: SqlitePool,
    _dir: tempfile::TempDir,
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
        service_tokens: vec![SERVICE_TOKEN.into()],
        ..Config::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_with(config()).await
}

pub async fn spawn_with(mut config: Config) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    config.database.url = format!("sqlite://{}", dir.path().join("tenantry.db").display());
    let clock = Arc::new(ManualClock::starting_now());
    let app = Application::build(config, Options { clock: clock.clone() }).await.expect("the app builds");
    let base = format!("http://{}", app.local_addr());
    let db = app.store().pool().clone();
    tokio::spawn(app.run(std::future::pending()));
    TestApp { base, client: reqwest::Client::new(), clock, db, _dir: dir }
}

impl TestApp {
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Response {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
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

    pub async fn signup(&self, email: &str, name: &str) -> Account {
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
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events").fetch_one(&self.db).await.unwrap()
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        sqlx::query_scalar("SELECT action FROM audit_events ORDER BY seq").fetch_all(&self.db).await.unwrap()
    }

    /// Adds `account` to `org` with `role` directly in the database (until invitations exist,
    /// the only way to give a test org a second member).
    pub async fn add_member(&self, org: &str, account: &Account, role: &str) {
        let id = format!("mem_{}", ulid::Ulid::new());
        sqlx::query("INSERT INTO memberships (id, org_id, user_id, role, joined_at) VALUES (?, ?, ?, ?, 0)")
            .bind(id)
            .bind(org)
            .bind(&account.user_id)
            .bind(role)
            .execute(&self.db)
            .await
            .unwrap();
        sqlx::query("UPDATE orgs SET seat_count = seat_count + 1 WHERE id = ?")
            .bind(org)
            .execute(&self.db)
            .await
            .unwrap();
    }
}

/// Helpers for role, membership and authorization tests.
impl TestApp {
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.call(Method::DELETE, path, token, None).await
    }

    /// A user written straight to the database (without a usable password), for subjects of
    /// authorization checks and targets of member operations: no password hashing.
    pub async fn insert_user(&self, name: &str) -> String {
        let id = format!("usr_{}", ulid::Ulid::new());
        sqlx::query("INSERT INTO users (id, email, display_name, password_hash, status, created_at) VALUES (?, ?, ?, 'x', 'active', 0)")
            .bind(&id)
            .bind(format!("{}@fixture.test", id.to_lowercase()))
            .bind(name)
            .execute(&self.db)
            .await
            .unwrap();
        id
    }

    /// Like `add_member`, by user id.
    pub async fn add_user(&self, org: &str, user: &str, role: &str) {
        sqlx::query("INSERT INTO memberships (id, org_id, user_id, role, joined_at) VALUES (?, ?, ?, ?, 0)")
            .bind(format!("mem_{}", ulid::Ulid::new()))
            .bind(org)
            .bind(user)
            .bind(role)
            .execute(&self.db)
            .await
            .unwrap();
        sqlx::query("UPDATE orgs SET seat_count = seat_count + 1 WHERE id = ?")
            .bind(org)
            .execute(&self.db)
            .await
            .unwrap();
    }

    /// Moves an org to another plan directly (the plan API is not what these tests are about).
    pub async fn set_plan(&self, org: &str, plan: &str) {
        sqlx::query("UPDATE orgs SET plan = ? WHERE id = ?").bind(plan).bind(org).execute(&self.db).await.unwrap();
    }

    /// `(action, actor_id, target_id, metadata)` of an org's audit events, oldest first.
    pub async fn audit_of(&self, org: &str) -> Vec<(String, String, String, Value)> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT action, actor_id, target_id, metadata FROM audit_events WHERE org_id = ? ORDER BY seq",
        )
        .bind(org)
        .fetch_all(&self.db)
        .await
        .unwrap();
        rows.into_iter().map(|(a, actor, target, m)| (a, actor, target, serde_json::from_str(&m).unwrap())).collect()
    }

    /// The role `user` holds in `org` according to the database, if any.
    pub async fn role_in_db(&self, org: &str, user: &str) -> Option<String> {
        sqlx::query_scalar("SELECT role FROM memberships WHERE org_id = ? AND user_id = ?")
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
