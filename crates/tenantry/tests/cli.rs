//! End-to-end tests of the command-line client: a real server on port 0 (its own SQLite file and
//! controllable clock), the built `tenantry` binary run as a subprocess with a temporary config
//! directory, and the API called directly for what the client does not do (signup, accepting).

#[path = "common/planted_faults.rs"]
mod planted_faults;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use serde_json::{json, Value};
use tenantry_core::context::{Clock, ManualClock};
use tenantry_core::domain::mfa::{TotpSecret, STEP_SECS};
use tenantry_server::config::{BillingConfig, BillingMode};
use tenantry_server::startup::Options;
use tenantry_server::{Application, Config};
use tokio::runtime::Runtime;

const PASSWORD: &str = "correct horse battery";
const ADMIN_TOKEN: &str = "test-admin-token";

/// A server running on its own runtime, so the test thread can block on subprocesses.
struct Server {
    base: String,
    /// The server's SQLite database, for `audit verify` and for tampering with it.
    database_url: String,
    runtime: Runtime,
    clock: Arc<ManualClock>,
    client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let database_url = format!("sqlite://{}", dir.path().join("tenantry.db").display());
        let config = Config {
            bind: "127.0.0.1:0".into(),
            admin_token: Some(ADMIN_TOKEN.into()),
            billing: BillingConfig { mode: BillingMode::Open },
            database: tenantry_server::config::DatabaseConfig {
                url: database_url.clone(),
                ..Config::default().database
            },
            ..Config::default()
        };
        let clock = Arc::new(ManualClock::starting_now());
        let options = Options { clock: clock.clone(), ..Options::default() };
        let app = runtime.block_on(Application::build(config, options)).expect("the app builds");
        let base = format!("http://{}", app.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = runtime.spawn(app.run(async {
            let _ = stopped.await;
        }));
        Self {
            base,
            database_url,
            runtime,
            clock,
            client: reqwest::Client::new(),
            stop: Some(stop),
            served: Some(served),
            _dir: dir,
        }
    }

    /// Runs `sql` on the database directly, as someone with access to its file could.
    fn tamper(&self, sql: &str) {
        self.runtime.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&self.database_url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        });
    }

    /// Runs `sql` with foreign keys unchecked, as a hand edit of the file could.
    fn tamper_unchecked(&self, sql: &str) {
        self.runtime.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&self.database_url).await.unwrap();
            sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut conn).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        });
    }

    /// Stops serving and waits until the listener is closed.
    fn stop(&mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.runtime.block_on(self.served.take().unwrap()).unwrap().unwrap();
    }

    fn api(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        self.runtime.block_on(async {
            let mut request = self.client.request(method.parse().unwrap(), format!("{}{path}", self.base));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.expect("the server answers");
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        })
    }

    /// Signs up `email` and returns the user id and an access token.
    fn signup(&self, email: &str, name: &str) -> (String, String) {
        let body = json!({ "email": email, "password": PASSWORD, "display_name": name });
        let (status, body) = self.api("POST", "/v1/auth/signup", None, Some(body));
        assert_eq!(status, 201, "{body}");
        (
            body["data"]["user"]["id"].as_str().unwrap().to_owned(),
            body["data"]["access_token"].as_str().unwrap().to_owned(),
        )
    }

    /// Confirms `email` with the link in its newest outbox message.
    fn verify_email(&self, email: &str) {
        let (_, outbox) = self.api("GET", "/v1/admin/outbox?limit=100", Some(ADMIN_TOKEN), None);
        let message = outbox["data"].as_array().unwrap().iter().find(|m| m["to"] == email).expect("an email");
        let text = message["text"].as_str().unwrap();
        let token = text.split("/verify-email/").nth(1).unwrap().split_whitespace().next().unwrap();
        let (status, body) = self.api("POST", "/v1/auth/verify-email", None, Some(json!({ "token": token })));
        assert_eq!(status, 204, "{body}");
    }
}

/// One person's client: a config directory of their own.
struct Client {
    dir: tempfile::TempDir,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Client {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    fn config_dir(&self) -> PathBuf {
        self.dir.path().join("tenantry")
    }

    fn credentials(&self) -> PathBuf {
        self.config_dir().join("credentials.toml")
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        run_in(&self.config_dir(), args, stdin)
    }

    /// Runs a command that must succeed; returns its stdout.
    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args, None);
        assert_eq!(run.code, 0, "tenantry {args:?} failed: {}{}", run.stdout, run.stderr);
        run.stdout
    }

    #[track_caller]
    fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let stdout = self.ok(&args);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("tenantry {args:?} printed no JSON ({e}): {stdout}"))
    }

    #[track_caller]
    fn login(&self, server: &Server, email: &str) {
        let run = self.run(&["login", "--server", &server.base, "--email", email, "--password-stdin"], Some(PASSWORD));
        assert_eq!(run.code, 0, "login failed: {}{}", run.stdout, run.stderr);
    }

    fn stored(&self) -> toml::Value {
        toml::from_str(&std::fs::read_to_string(self.credentials()).unwrap()).unwrap()
    }

    fn stored_refresh_token(&self) -> String {
        self.stored()["user"]["refresh_token"].as_str().unwrap().to_owned()
    }

    /// Rewrites the stored access token's expiry, as if time had passed on this machine.
    fn expire_access_token(&self) {
        let text = std::fs::read_to_string(self.credentials()).unwrap();
        let mut stored: toml::Table = toml::from_str(&text).unwrap();
        stored["user"].as_table_mut().unwrap().insert("access_expires_at".into(), toml::Value::Integer(0));
        std::fs::write(self.credentials(), toml::to_string(&stored).unwrap()).unwrap();
    }
}

fn run_in(config_dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenantry"));
    command
        .args(args)
        .env("TENANTRY_CONFIG_DIR", config_dir)
        .env_remove("TENANTRY_URL")
        .env_remove("TENANTRY_ORG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary runs");
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            writeln!(input, "{text}").unwrap();
        }
    }
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

#[test]
fn an_owner_runs_an_org_from_the_terminal() {
    let server = Server::start();
    server.signup("ada@example.com", "Ada Lovelace");
    // Keys and invitations need a verified address.
    server.verify_email("ada@example.com");
    let ada = Client::new();
    ada.login(&server, "ada@example.com");

    // The login is private to its user.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&ada.credentials()), 0o600);
        assert_eq!(mode(&ada.config_dir()), 0o700);
    }
    assert!(ada.ok(&["whoami"]).contains("ada@example.com"));
    assert_eq!(ada.json(&["whoami"])["user"]["email"], "ada@example.com");

    let created = ada.json(&["org", "create", "Acme Corp", "--slug", "acme"]);
    assert_eq!(created["slug"], "acme");
    assert_eq!(created["role"], "owner");
    ada.ok(&["org", "use", "acme"]);
    let orgs = ada.json(&["org", "list"]);
    let acme = orgs.as_array().unwrap().iter().find(|o| o["slug"] == "acme").expect("acme is listed");
    assert_eq!(acme["role"], "owner");
    let table = ada.ok(&["org", "list"]);
    let active: Vec<&str> = table.lines().filter(|l| l.starts_with('*')).collect();
    assert_eq!(active.len(), 1, "{table}");
    assert!(active[0].contains("acme"), "{table}");
    ada.ok(&["org", "rename", "Acme, Inc."]);
    assert_eq!(ada.json(&["org", "show"])["name"], "Acme, Inc.");
    assert!(ada.ok(&["org", "show"]).lines().any(|l| l.starts_with("Metadata") && l.ends_with('-')));
    let token = ada.stored()["user"]["access_token"].as_str().unwrap().to_owned();
    let metadata = json!({ "metadata": { "region": "eu-west", "seats_paid": 12 } });
    let (status, body) = server.api("PATCH", "/v1/orgs/acme", Some(&token), Some(metadata));
    assert_eq!(status, 200, "{body}");
    let shown = ada.ok(&["org", "show"]);
    assert!(shown.contains("region=eu-west") && shown.contains("seats_paid=12"), "{shown}");

    // The free plan admits no second member; this deployment lets the owner upgrade.
    ada.ok(&["plan", "set", "team"]);
    assert_eq!(ada.json(&["plan", "show"])["key"], "team");

    let invitation = ada.json(&["invite", "grace@example.com", "--role", "developer"]);
    assert_eq!(invitation["state"], "pending");
    let token = invitation["token"].as_str().unwrap();
    let (_, grace_token) = server.signup("grace@example.com", "Grace Hopper");
    server.verify_email("grace@example.com");
    let (status, body) = server.api("POST", &format!("/v1/invitations/{token}/accept"), Some(&grace_token), None);
    assert_eq!(status, 200, "{body}");

    let members = ada.json(&["members", "list"]);
    let grace = members.as_array().unwrap().iter().find(|m| m["email"] == "grace@example.com").expect("grace joined");
    assert_eq!(grace["role"], "developer");
    assert_eq!(ada.json(&["invites", "list", "--state", "accepted"]).as_array().unwrap().len(), 1);

    // Members are named by email or user id.
    assert!(ada.ok(&["members", "role", "grace@example.com", "admin"]).contains("now admin"));
    let grace_id = grace["user_id"].as_str().unwrap();
    let changed = ada.json(&["members", "role", grace_id, "viewer"]);
    assert_eq!(changed["role"], "viewer");
    let table = ada.ok(&["members", "list"]);
    assert!(table.lines().next().unwrap().starts_with("USER ID"), "{table}");
    assert!(table.lines().any(|l| l.contains("grace@example.com") && l.contains("viewer")), "{table}");
    assert!(ada.ok(&["members", "suspend", "grace@example.com"]).contains("now suspended"));
    assert_eq!(server.api("GET", "/v1/orgs/acme", Some(&grace_token), None).0, 403);
    let table = ada.ok(&["members", "list"]);
    assert!(table.lines().any(|l| l.contains("grace@example.com") && l.contains("suspended")), "{table}");
    assert_eq!(ada.json(&["members", "unsuspend", grace_id])["status"], "active");
    assert_eq!(server.api("GET", "/v1/orgs/acme", Some(&grace_token), None).0, 200);

    // A key's secret is printed once, with a warning on stderr.
    let run = ada.run(&["keys", "create", "CI pipeline", "--scope", "endpoints.view,members.invite", "--json"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("shown only this once"), "{}", run.stderr);
    let key: Value = serde_json::from_str(&run.stdout).unwrap();
    let secret = key["secret"].as_str().unwrap();
    assert_eq!(key["scopes"], json!(["endpoints.view", "members.invite"]));
    assert_eq!(server.api("GET", "/v1/orgs/acme", Some(secret), None).0, 200);
    let keys = ada.json(&["keys", "list"]);
    assert_eq!(keys.as_array().unwrap().len(), 1);
    assert!(keys[0].get("secret").is_none(), "lists never show secrets");
    ada.ok(&["keys", "revoke", key["id"].as_str().unwrap()]);
    assert_eq!(server.api("GET", "/v1/orgs/acme", Some(secret), None).0, 401);
    assert!(ada.ok(&["keys", "list"]).contains("revoked"));

    ada.ok(&["members", "remove", "grace@example.com"]);
    assert_eq!(ada.json(&["members", "list"]).as_array().unwrap().len(), 1);
    let run = ada.run(&["members", "remove", "nobody@example.com"], None);
    assert_eq!(run.code, 4, "{}", run.stderr);

    let usage = ada.json(&["usage"]);
    assert_eq!(usage["member_count"], 1);
    assert!(ada.ok(&["usage"]).contains("unlimited"));

    ada.ok(&["logout"]);
    assert!(!ada.credentials().exists());
    assert_eq!(ada.run(&["members", "list"], None).code, 3);
}

#[test]
fn the_active_org_is_resumed_at_the_next_login() {
    let server = Server::start();
    server.signup("ada@example.com", "Ada Lovelace");
    let ada = Client::new();
    ada.login(&server, "ada@example.com");
    let personal = ada.json(&["org", "show"])["slug"].as_str().unwrap().to_owned();
    ada.json(&["org", "create", "Acme", "--slug", "acme"]);
    ada.ok(&["org", "use", "acme"]);
    ada.ok(&["logout"]);
    ada.login(&server, "ada@example.com");
    assert_eq!(ada.json(&["org", "show"])["slug"], "acme", "the org active at logout");
    ada.ok(&["org", "use", &personal]);
    ada.ok(&["logout"]);
    ada.login(&server, "ada@example.com");
    assert_eq!(ada.json(&["org", "show"])["slug"], personal.as_str());
}

#[test]
fn an_org_other_than_the_active_one_is_named_with_org() {
    let server = Server::start();
    server.signup("ada@example.com", "Ada Lovelace");
    let ada = Client::new();
    ada.login(&server, "ada@example.com");
    ada.json(&["org", "create", "Beta", "--slug", "beta"]);
    // The personal org stays active; --org acts on another for one command.
    assert_ne!(ada.json(&["org", "show"])["slug"], "beta");
    assert_eq!(ada.json(&["org", "show", "--org", "beta"])["slug"], "beta");
    let run = ada.run(&["org", "show", "--org", "someone-elses"], None);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.starts_with("error: not_found: "), "{}", run.stderr);
    let run = ada.run(&["org", "use", "someone-elses"], None);
    assert_eq!(run.code, 4, "{}", run.stderr);
}

#[test]
fn teams_and_their_members_are_managed_from_the_terminal() {
    let server = Server::start();
    server.signup("ada@example.com", "Ada Lovelace");
    server.verify_email("ada@example.com");
    let ada = Client::new();
    ada.login(&server, "ada@example.com");
    ada.json(&["org", "create", "Acme", "--slug", "acme"]);
    ada.ok(&["org", "use", "acme"]);
    ada.ok(&["plan", "set", "team"]);

    let team = ada.json(&["teams", "create", "Engineering", "--description", "Builders"]);
    assert_eq!(team["slug"], "engineering");
    assert!(ada.ok(&["teams", "list"]).lines().any(|l| l.contains("engineering")));
    assert_eq!(ada.json(&["teams", "rename", "engineering", "Platform"])["name"], "Platform");
    assert_eq!(ada.json(&["teams", "show", team["id"].as_str().unwrap()])["name"], "Platform");

    assert!(ada.ok(&["teams", "members", "add", "engineering", "ada@example.com", "member"]).contains("as member"));
    assert!(ada.ok(&["teams", "members", "role", "engineering", "ada@example.com", "lead"]).contains("now lead"));
    let members = ada.json(&["teams", "members", "list", "engineering"]);
    assert_eq!(members[0]["email"], "ada@example.com");
    assert_eq!(members[0]["role"], "lead");
    assert!(ada.ok(&["teams", "members", "list", "engineering"]).starts_with("USER ID"));
    ada.ok(&["teams", "members", "remove", "engineering", "ada@example.com"]);
    assert_eq!(ada.json(&["teams", "members", "list", "engineering"]), json!([]));
    let run = ada.run(&["teams", "members", "add", "engineering", "ada@example.com", "captain"], None);
    assert_eq!(run.code, 5, "{}", run.stderr);

    ada.ok(&["teams", "delete", "engineering"]);
    assert_eq!(ada.json(&["teams", "list"]), json!([]));
    assert_eq!(ada.run(&["teams", "show", "engineering"], None).code, 4);
}

#[test]
fn lists_are_fetched_page_by_page_unless_limited() {
    let server = Server::start();
    let (_, token) = server.signup("ada@example.com", "Ada Lovelace");
    for i in 0..104 {
        let (status, body) = server.api("POST", "/v1/orgs", Some(&token), Some(json!({ "name": format!("Org {i}") })));
        assert_eq!(status, 201, "{body}");
    }
    let ada = Client::new();
    ada.login(&server, "ada@example.com");
    let all = ada.json(&["org", "list"]);
    let mut ids: Vec<&str> = all.as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 105, "104 orgs and the personal one");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 105, "no org twice across pages");
    assert_eq!(ada.json(&["org", "list", "--limit", "3"]).as_array().unwrap().len(), 3);
}

#[test]
fn an_expired_access_token_is_refreshed_and_the_new_refresh_token_kept() {
    let server = Server::start();
    server.signup("ada@example.com", "Ada Lovelace");
    let ada = Client::new();
    ada.login(&server, "ada@example.com");
    let first = ada.stored_refresh_token();

    // Expired by this machine's clock: refreshed before the request.
    ada.expire_access_token();
    ada.ok(&["whoami"]);
    let second = ada.stored_refresh_token();
    assert_ne!(first, second, "the rotated refresh token is stored");

    // Expired by the server's clock only: the 401 leads to a refresh and a retry.
    server.clock.advance(chrono::Duration::minutes(16));
    ada.ok(&["whoami"]);
    let third = ada.stored_refresh_token();
    assert_ne!(second, third);
    ada.ok(&["members", "list"]);
    assert_eq!(ada.stored_refresh_token(), third, "a fresh token is not refreshed again");

    // Commands refreshing at once take turns: none presents a used refresh token (which would
    // end the session for all of them).
    ada.expire_access_token();
    let dir = ada.config_dir();
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4).map(|_| scope.spawn(|| run_in(&dir, &["whoami"], None))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for run in &runs {
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    ada.ok(&["whoami"]);
}

#[test]
fn an_ended_session_asks_for_a_new_login() {
    let server = Server::start();
    server.signup("ada@example.com", "Ada Lovelace");
    let ada = Client::new();
    ada.login(&server, "ada@example.com");
    let stale = ada.stored_refresh_token();
    ada.expire_access_token();
    ada.ok(&["whoami"]);
    // Presenting a used refresh token ends the whole session (SPEC 8).
    let (status, _) = server.api("POST", "/v1/auth/refresh", None, Some(json!({ "refresh_token": stale })));
    assert_eq!(status, 401);
    let run = ada.run(&["whoami"], None);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("log in again"), "{}", run.stderr);
}

#[test]
fn a_login_with_two_step_verification_asks_for_the_code() {
    let server = Server::start();
    let (_, token) = server.signup("ada@example.com", "Ada Lovelace");
    let (status, body) = server.api("POST", "/v1/me/mfa/totp", Some(&token), None);
    assert_eq!(status, 200, "{body}");
    let secret = TotpSecret::from_base32(body["data"]["secret"].as_str().unwrap()).unwrap();
    let code_now = |server: &Server| secret.code_at_step(server.clock.now().timestamp() as u64 / STEP_SECS);
    let (status, body) =
        server.api("POST", "/v1/me/mfa/totp/confirm", Some(&token), Some(json!({ "code": code_now(&server) })));
    assert_eq!(status, 200, "{body}");
    let recovery = body["data"]["recovery_codes"][0].as_str().unwrap().to_owned();
    server.clock.advance(chrono::Duration::seconds(30));

    // Without a terminal to ask on, the code must come as --code.
    let ada = Client::new();
    let login = ["login", "--server", server.base.as_str(), "--email", "ada@example.com", "--password-stdin"];
    let run = ada.run(&login, Some(PASSWORD));
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("--code"), "{}", run.stderr);
    let code = code_now(&server);
    let run = ada.run(&[&login[..], &["--code", &code]].concat(), Some(PASSWORD));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(ada.ok(&["whoami"]).contains("ada@example.com"));

    // A recovery code works the same way, once.
    let other = Client::new();
    let run = other.run(&[&login[..], &["--code", &recovery]].concat(), Some(PASSWORD));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let run = other.run(&[&login[..], &["--code", &recovery]].concat(), Some(PASSWORD));
    assert_ne!(run.code, 0, "a used recovery code: {}", run.stdout);
}

#[test]
fn an_api_key_logs_in_for_its_org() {
    let server = Server::start();
    server.signup("ada@example.com", "Ada Lovelace");
    // Keys and invitations need a verified address.
    server.verify_email("ada@example.com");
    let ada = Client::new();
    ada.login(&server, "ada@example.com");
    ada.json(&["org", "create", "Acme", "--slug", "acme"]);
    let key = ada.json(&["keys", "create", "bot", "--scope", "members.invite", "--org", "acme"]);
    let secret = key["secret"].as_str().unwrap();

    let bot = Client::new();
    let run = bot.run(&["login", "--server", &server.base, "--api-key", "-", "--org", "acme"], Some(secret));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!bot.stored().as_table().unwrap().contains_key("user"));
    assert!(bot.ok(&["whoami"]).contains("acme"));
    assert_eq!(bot.json(&["org", "list"])[0]["slug"], "acme");
    assert_eq!(bot.json(&["members", "list"]).as_array().unwrap().len(), 1);
    // Its scopes bound it: listing keys needs api_keys.manage.
    let run = bot.run(&["keys", "list"], None);
    assert_eq!(run.code, 8, "{}", run.stderr);
    assert!(run.stderr.contains("scope_missing"), "{}", run.stderr);

    // A key proves nothing about another org, and a wrong key is refused before anything is stored.
    let other = Client::new();
    let personal = ada.json(&["org", "list"]).as_array().unwrap().iter().find(|o| o["slug"] != "acme").unwrap()["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = other.run(&["login", "--server", &server.base, "--api-key", secret, "--org", &personal], None);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(!other.credentials().exists());
}

#[test]
fn refusals_and_usage_errors_have_their_own_exit_codes() {
    let server = Server::start();
    server.signup("ada@example.com", "Ada Lovelace");
    server.verify_email("ada@example.com");
    let ada = Client::new();

    // Not logged in.
    let run = ada.run(&["members", "list"], None);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("not logged in"), "{}", run.stderr);
    let run = ada.run(
        &["login", "--server", &server.base, "--email", "ada@example.com", "--password-stdin"],
        Some("wrong password"),
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("unauthorized"), "{}", run.stderr);
    assert!(!ada.credentials().exists());

    // Bad arguments.
    for args in [
        &["org", "frobnicate"][..],
        &["keys", "create", "no-scope"],
        &["audit", "list", "--since", "yesterday"],
        &["login", "--api-key", "tn_live_x"],
        &["invites", "list", "--state", "lost"],
        &["org", "list", "--limit", "0"],
    ] {
        let run = ada.run(args, None);
        assert_eq!(run.code, 2, "tenantry {args:?}: {}", run.stderr);
    }

    // An API refusal names its code, message and field.
    ada.login(&server, "ada@example.com");
    let run = ada.run(&["org", "create", "X", "--slug", "Not A Slug"], None);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("invalid_request") && run.stderr.contains("`slug`"), "{}", run.stderr);
    let run = ada.run(&["invite", "grace@example.com"], None);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("plan_limit_reached"), "{}", run.stderr);

    // Logged in, but not allowed: a refusal by permission (403) has its own code, so a script
    // does not log in again for nothing.
    let (_, owner_token) = server.signup("olivia@example.com", "Olivia");
    let (status, org) =
        server.api("POST", "/v1/orgs", Some(&owner_token), Some(json!({ "name": "Closed", "slug": "closed" })));
    assert_eq!(status, 201, "{org}");
    let (status, body) = server.api("PUT", "/v1/orgs/closed/plan", Some(ADMIN_TOKEN), Some(json!({ "plan": "team" })));
    assert_eq!(status, 200, "{body}");
    let ada_id = ada.json(&["whoami"])["user"]["id"].as_str().unwrap().to_owned();
    let (status, body) = server.api(
        "POST",
        "/v1/admin/orgs/closed/members",
        Some(ADMIN_TOKEN),
        Some(json!({ "user_id": ada_id, "role": "viewer" })),
    );
    assert_eq!(status, 201, "{body}");
    let run = ada.run(&["keys", "create", "ci", "--scope", "endpoints.view", "--org", "closed"], None);
    assert_eq!(run.code, 8, "{}", run.stderr);
    assert!(run.stderr.contains("forbidden"), "{}", run.stderr);

    // Completions for each shell, and into a pipe already closed (`| head`) without a panic.
    for shell in ["bash", "zsh", "fish"] {
        assert!(ada.ok(&["completions", shell]).contains("members"), "{shell}");
    }
    let mut closed = Command::new(env!("CARGO_BIN_EXE_tenantry"))
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(closed.stdout.take());
    let output = closed.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && !stderr.contains("panicked"), "{:?}: {stderr}", output.status);
}

#[test]
fn operator_commands_refuse_a_database_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("never.db");
    let url = format!("sqlite://{}", missing.display());
    for args in [&["audit", "verify"][..], &["doctor"], &["backup", dir.path().join("copy.db").to_str().unwrap()]] {
        let (code, stdout, stderr) = operator(&url, args);
        assert_eq!(code, 4, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains("no database at"), "{args:?}: {stderr}");
        assert!(!missing.exists(), "{args:?} created the database");
    }
}

#[test]
fn a_stopped_server_is_reported_in_one_line() {
    let mut server = Server::start();
    server.signup("ada@example.com", "Ada Lovelace");
    let ada = Client::new();
    ada.login(&server, "ada@example.com");
    server.stop();
    let run = ada.run(&["org", "list"], None);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("cannot reach the Tenantry server at http://127.0.0.1:"), "{}", run.stderr);
    assert!(run.stderr.contains("connection refused"), "{}", run.stderr);
    assert!(ada.credentials().exists(), "an unreachable server logs nobody out");
}

#[test]
fn audit_events_are_listed_exported_and_their_chains_verified() {
    let server = Server::start();
    server.signup("ada@example.com", "Ada Lovelace");
    let ada = Client::new();
    ada.login(&server, "ada@example.com");
    ada.json(&["org", "create", "Acme Corp", "--slug", "acme"]);
    ada.ok(&["org", "use", "acme"]);
    ada.ok(&["plan", "set", "team"]);
    for i in 0..4 {
        ada.ok(&["org", "rename", &format!("Acme {i}")]);
    }

    let filters = ["--action", "org.updated", "--since", "24h"];
    let renames = ada.json(&[&["audit", "list"][..], &filters].concat());
    let renames = renames.as_array().unwrap();
    assert_eq!(renames.len(), 4, "{renames:?}");
    assert!(renames.iter().all(|e| e["action"] == "org.updated"));
    assert_eq!(ada.json(&[&["audit", "list", "--limit", "3"][..], &filters].concat()).as_array().unwrap().len(), 3);
    let table = ada.ok(&["audit", "list", "--action", "org."]);
    assert!(table.lines().next().unwrap().starts_with("TIME"), "{table}");
    assert!(table.contains("org.created") && table.contains("organization:org_"), "{table}");

    let all = ada.json(&["audit", "list"]);
    let file = ada.dir.path().join("audit.csv");
    let run = ada.run(&["audit", "export", "--format", "csv", "--output", file.to_str().unwrap()], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let csv = std::fs::read_to_string(&file).unwrap();
    assert!(csv.starts_with("id,occurred_at,actor_type,actor_id,action"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + all.as_array().unwrap().len());
    let events = all.as_array().unwrap().len();
    assert!(
        run.stderr.contains(&format!("Wrote {events} events (")) && run.stderr.contains("audit.csv"),
        "says what it wrote: {}",
        run.stderr
    );
    assert!(!ada.dir.path().join("audit.csv.part").exists());
    let jsonl = ada.ok(&["audit", "export", "--format", "jsonl", "--action", "org.updated"]);
    let exported: Vec<Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(&exported, renames);

    // The operator checks the chains in the server's database.
    let verify = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tenantry"));
        command.args(["audit", "verify", "--config", "/nonexistent/tenantry.toml"]).args(args);
        command.env("TENANTRY_DATABASE_URL", &server.database_url).env_remove("TENANTRY_ORG");
        let output = command.output().unwrap();
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (output.status.code().unwrap(), text(output.stdout), text(output.stderr))
    };
    let (code, stdout, stderr) = verify(&[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.lines().next().unwrap().starts_with("CHAIN"), "{stdout}");
    assert!(stdout.lines().skip(1).all(|l| l.contains("intact")), "{stdout}");
    let (code, stdout, _) = verify(&["--org", "acme", "--json"]);
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report[0]["checked"], 6, "org.created, the plan change and four renames: {report}");

    server.tamper("UPDATE audit_events SET metadata = '{}' WHERE action = 'org.updated'");
    let (code, stdout, stderr) = verify(&["--org", "acme"]);
    assert_eq!(code, 7, "{stdout}{stderr}");
    assert!(stdout.contains("BROKEN at event evt_") && stdout.contains("edited"), "{stdout}");
    assert!(stderr.contains("1 of 1 audit chains are broken"), "{stderr}");
    let (code, _, stderr) = verify(&["--org", "no-such-org"]);
    assert_eq!(code, 4, "{stderr}");
}

#[test]
fn a_route_the_server_lacks_is_named_as_such() {
    // A server that answers every route like Tenantry answers an unknown one.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new().fallback(|| async {
        let body = json!({ "error": { "code": "not_found", "message": "no such route", "request_id": "req_1" } });
        (axum::http::StatusCode::NOT_FOUND, axum::Json(body))
    });
    runtime.spawn(async move { axum::serve(listener, router).await });

    let bot = Client::new();
    std::fs::create_dir_all(bot.config_dir()).unwrap();
    let stored = format!("server = \"{base}\"\napi_key = \"tn_live_key\"\n\n[org]\nid = \"org_1\"\nslug = \"one\"\n");
    std::fs::write(bot.credentials(), stored).unwrap();
    let run = bot.run(&["usage"], None);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(run.stderr.contains(&format!("{base} does not offer GET /v1/orgs/org_1/usage")), "{}", run.stderr);
}

#[test]
fn invitations_are_resent_and_revoked_keys_rolled_and_ownership_handed_over() {
    let server = Server::start();
    server.signup("ada@example.com", "Ada Lovelace");
    server.verify_email("ada@example.com");
    let (grace_id, _) = server.signup("grace@example.com", "Grace Hopper");
    server.verify_email("grace@example.com");
    let ada = Client::new();
    ada.login(&server, "ada@example.com");
    ada.json(&["org", "create", "Acme", "--slug", "acme"]);
    ada.ok(&["org", "use", "acme"]);
    ada.ok(&["plan", "set", "team"]);

    let first = ada.json(&["invite", "grace@example.com"]);
    let id = first["id"].as_str().unwrap();
    // Named by the invitee's email as well as by id.
    let resent = ada.json(&["invites", "resend", "GRACE@example.com"]);
    assert_eq!(resent["id"], id);
    assert_ne!(resent["token"], first["token"], "a new link");
    let old = first["token"].as_str().unwrap();
    assert_ne!(server.api("GET", &format!("/v1/invitations/{old}"), None, None).0, 200, "the old link is dead");
    let human = ada.ok(&["invites", "resend", id]);
    assert!(human.contains(&format!("{}/accept-invite/", server.base)), "{human}");
    ada.ok(&["invites", "revoke", id]);
    assert_eq!(ada.json(&["invites", "list", "--state", "revoked"])[0]["id"], id);
    let run = ada.run(&["invites", "revoke", id], None);
    assert_eq!(run.code, 5, "revoking twice is a conflict: {}", run.stderr);

    let key = ada.json(&["keys", "create", "ci", "--scope", "endpoints.view", "--expires-at", "30d"]);
    assert!(key["expires_at"].as_str().is_some());
    let rolled = ada.json(&["keys", "roll", key["id"].as_str().unwrap(), "--old-expires-in", "0"]);
    assert_ne!(rolled["secret"], key["secret"]);
    assert_eq!(rolled["scopes"], key["scopes"]);
    assert_eq!(server.api("GET", "/v1/orgs/acme", Some(key["secret"].as_str().unwrap()), None).0, 401);
    assert_eq!(server.api("GET", "/v1/orgs/acme", Some(rolled["secret"].as_str().unwrap()), None).0, 200);
    // A key is named by its name as well as by id; a name two live keys share is refused.
    ada.ok(&["keys", "revoke", "ci"]);
    assert_eq!(server.api("GET", "/v1/orgs/acme", Some(rolled["secret"].as_str().unwrap()), None).0, 401);
    let run = ada.run(&["keys", "revoke", "ci"], None);
    assert_eq!(run.code, 4, "no live key is named ci any more: {}", run.stderr);
    ada.json(&["keys", "create", "deploy", "--scope", "endpoints.view"]);
    ada.json(&["keys", "create", "deploy", "--scope", "endpoints.view"]);
    let run = ada.run(&["keys", "revoke", "deploy"], None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("2 keys are named `deploy`"), "{}", run.stderr);

    // Ownership goes to a member only, and only with the owner's password.
    let grace_invite = ada.json(&["invite", "grace@example.com", "--role", "admin"]);
    let grace_token =
        server.api("POST", "/v1/auth/login", None, Some(json!({ "email": "grace@example.com", "password": PASSWORD })));
    let grace_access = grace_token.1["data"]["access_token"].as_str().unwrap().to_owned();
    let accept = format!("/v1/invitations/{}/accept", grace_invite["token"].as_str().unwrap());
    assert_eq!(server.api("POST", &accept, Some(&grace_access), None).0, 200);
    let run = ada.run(&["transfer-ownership", "grace@example.com", "--password-stdin"], Some("not my password"));
    assert_eq!(run.code, 8, "{}", run.stderr);
    let run = ada.run(&["transfer-ownership", "grace@example.com", "--password-stdin"], Some(PASSWORD));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let org = ada.json(&["org", "show"]);
    assert_eq!(org["owner_id"], grace_id.as_str());
    assert_eq!(org["role"], "admin");
}

/// `tenantry` run as the operator (no client login), with the database given by environment.
fn operator(database_url: &str, args: &[&str]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenantry"));
    command.args(args).env("TENANTRY_CONFIG", "/nonexistent/tenantry.toml");
    command.env("TENANTRY_DATABASE_URL", database_url).env_remove("TENANTRY_ORG");
    let output = command.output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (output.status.code().unwrap(), text(output.stdout), text(output.stderr))
}

#[test]
fn a_backup_taken_under_writes_holds_every_acknowledged_write_and_its_chains_verify() {
    let server = Server::start();
    let (_, owner) = server.signup("owner@example.com", "Owner");
    let (status, body) = server.api("POST", "/v1/orgs", Some(&owner), Some(json!({ "name": "Acme", "slug": "acme" })));
    assert_eq!(status, 201, "{body}");

    // Writers keep signing up and renaming while the backup runs; each acknowledged write is noted.
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|writer| {
            let (base, client) = (server.base.clone(), server.client.clone());
            let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
            server.runtime.spawn(async move {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let email = format!("writer{writer}-{n}@example.com");
                    let body = json!({ "email": email, "password": PASSWORD, "display_name": "W" });
                    let r = client.post(format!("{base}/v1/auth/signup")).json(&body).send().await.unwrap();
                    if r.status() == 201 {
                        acknowledged.lock().unwrap().push(email);
                    }
                    n += 1;
                }
            })
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    let (code, stdout, stderr) = operator(&server.database_url, &["backup", copy.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("Backed up to"), "{stdout}");
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for writer in writers {
        server.runtime.block_on(writer).unwrap();
    }

    // The copy opens, every write acknowledged before the backup began is in it, and its audit
    // chains are intact.
    let copy_url = format!("sqlite://{}", copy.display());
    let emails: Vec<String> = server.runtime.block_on(async {
        let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&copy_url).await.unwrap();
        sqlx::query_scalar("SELECT email FROM users").fetch_all(&pool).await.unwrap()
    });
    let missing: Vec<&String> = before.iter().filter(|e| !emails.contains(e)).collect();
    assert!(missing.is_empty(), "acknowledged before the backup but not in it: {missing:?}");
    let (code, stdout, stderr) = operator(&copy_url, &["audit", "verify"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.lines().skip(1).all(|l| l.contains("intact")), "{stdout}");

    // Never over an existing file; PostgreSQL has its own tools.
    let (code, _, stderr) = operator(&server.database_url, &["backup", copy.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(stderr.contains("exists already"), "{stderr}");
    let (code, _, stderr) = operator("postgres://nobody@127.0.0.1:1/none", &["backup", "/tmp/never.db"]);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("pg_dump"), "{stderr}");
}

#[test]
fn doctor_finds_each_fault_planted_in_the_database() {
    let server = Server::start();
    let (owner, token) = server.signup("owner@example.com", "Owner");
    let (status, body) = server.api("POST", "/v1/orgs", Some(&token), Some(json!({ "name": "Acme", "slug": "acme" })));
    assert_eq!(status, 201, "{body}");
    let org = body["data"]["id"].as_str().unwrap().to_owned();
    let doctor = || {
        let (code, stdout, stderr) = operator(&server.database_url, &["doctor", "--json"]);
        let kinds: Vec<String> = serde_json::from_str::<Vec<Value>>(&stdout)
            .unwrap_or_else(|_| panic!("not JSON: {stdout}{stderr}"))
            .iter()
            .map(|f| f["kind"].as_str().unwrap().to_owned())
            .collect();
        (code, kinds)
    };
    assert_eq!(doctor(), (0, vec![]));
    let (code, stdout, _) = operator(&server.database_url, &["doctor"]);
    assert_eq!((code, stdout.trim()), (0, "No problems found."));

    // Each fault is written as someone editing the file would (foreign keys off), then found.
    let faults = planted_faults::faults(&org, &owner);
    for (kind, sql) in faults {
        server.tamper_unchecked(&sql);
        let (code, kinds) = doctor();
        assert_eq!(code, 7, "{kind}: {kinds:?}");
        assert_eq!(kinds.iter().filter(|k| *k == kind).count(), 1, "{kind} found once: {kinds:?}");
    }
    let (code, stdout, stderr) = operator(&server.database_url, &["doctor"]);
    assert_eq!(code, 7);
    assert!(
        stdout.contains("org_owner: org ") && stdout.contains("key_of_deleted_org: API key key_planted"),
        "{stdout}"
    );
    assert!(stderr.contains("6 problem(s) found"), "{stderr}");
}
