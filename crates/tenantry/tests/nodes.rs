//! A node killed while it sends a webhook: the `tenantry` binary runs as a separate process, takes
//! a delivery and is killed (SIGKILL) with the request in flight; another node on the same
//! database retries it once the claim's lease has run out, and the receiver gets the same message
//! (same `webhook-id`) again and answers it. The same for an email over SMTP. A node asked to stop
//! (SIGTERM) finishes the request in flight while refusing new connections, and cuts a request
//! still unfinished when its grace period ends. On PostgreSQL when `TENANTRY_TEST_POSTGRES_URL`
//! is set (as CI sets it), else on one SQLite file shared by both processes. And `tenantry doctor`
//! finds each planted fault on that database (on PostgreSQL, as the service's role under Row Level
//! Security). And the README's curl tour runs as written against the binary (with bash, curl and
//! jq, which `.ci/run` installs).

// The server suite's per-test databases: a fresh PostgreSQL database with its own roles.
#[allow(dead_code)]
#[path = "../../tenantry-server/tests/api/test_db.rs"]
mod test_db;
// The server suite's SMTP server on loopback, which keeps every message it accepts.
#[path = "common/planted_faults.rs"]
mod planted_faults;
#[allow(dead_code)]
#[path = "../../tenantry-server/tests/api/smtp_sink.rs"]
mod smtp_sink;

use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tenantry_core::context::ManualClock;
use tenantry_core::domain::webhook::CLAIM_LEASE;
use tenantry_core::service::outbox::OUTBOX_LEASE;
use tenantry_server::config::{DatabaseConfig, EmailConfig, WebhooksConfig};
use tenantry_server::startup::Options;
use tenantry_server::{Application, Config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use smtp_sink::SmtpSink;
use test_db::{Backend, TestDatabase, POSTGRES_URL_VAR};

const ADMIN_TOKEN: &str = "test-admin-token";

/// A receiver that never answers its first request (the sender is killed meanwhile) and answers
/// every later one with 200. It keeps each request's `webhook-id`.
#[derive(Clone, Default)]
struct Receiver {
    ids: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    async fn start(&self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let ids = self.ids.clone();
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let ids = ids.clone();
                tokio::spawn(async move {
                    let Some(id) = read_webhook_id(&mut socket).await else { return };
                    let first = {
                        let mut ids = ids.lock().unwrap();
                        ids.push(id);
                        ids.len() == 1
                    };
                    if first {
                        // Hold the connection open: the request stays in flight.
                        tokio::time::sleep(Duration::from_secs(600)).await;
                    } else {
                        let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
                    }
                });
            }
        });
        url
    }

    fn ids(&self) -> Vec<String> {
        self.ids.lock().unwrap().clone()
    }

    async fn wait_for(&self, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.ids().len() < count && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.ids()
    }
}

/// Reads one HTTP request's head and body; its `webhook-id` header.
async fn read_webhook_id(socket: &mut tokio::net::TcpStream) -> Option<String> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        bytes.extend_from_slice(&chunk[..n]);
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let header = |name: &str| {
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
        })
    };
    let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    while bytes.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
    header("webhook-id")
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The `tenantry` binary serving `database` on `port`, to be started as a process of its own:
/// quiet (warnings only, output discarded) unless the caller says otherwise.
fn node_command(database: &TestDatabase, port: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenantry"));
    if let Some(owner) = &database.owner_url {
        command.env("TENANTRY_DATABASE_OWNER_URL", owner);
    }
    command
        .arg("serve")
        .env("TENANTRY_BIND", format!("127.0.0.1:{port}"))
        .env("TENANTRY_DATABASE_URL", &database.url)
        .env("TENANTRY_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("TENANTRY_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true")
        .env("TENANTRY_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Starts `node_command` with `env` added.
fn spawn_node(database: &TestDatabase, port: u16, env: &[(&str, String)]) -> Child {
    node_command(database, port)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .spawn()
        .expect("the tenantry binary starts")
}

async fn wait_until_serving(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(format!("{base}/health")).send().await.is_err() {
        assert!(Instant::now() < deadline, "node A did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Node B, in this process on the same database, with a clock the test moves.
async fn start_node_b(database: &TestDatabase, clock: Arc<ManualClock>, smtp_url: Option<String>) -> String {
    let config = Config {
        bind: "127.0.0.1:0".into(),
        admin_token: Some(ADMIN_TOKEN.into()),
        database: DatabaseConfig {
            url: database.url.clone(),
            owner_url: database.owner_url.clone(),
            ..Config::default().database
        },
        webhooks: WebhooksConfig { allow_private_targets: true },
        email: EmailConfig { smtp_url, ..Config::default().email },
        ..Config::default()
    };
    let node_b = Application::build(config, Options { clock, ..Options::default() }).await.expect("node B builds");
    let base = format!("http://{}", node_b.local_addr());
    tokio::spawn(node_b.run(std::future::pending::<()>()));
    base
}

fn backend() -> Backend {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(_) => Backend::Postgres,
        Err(_) => Backend::Sqlite,
    }
}

async fn call(client: &reqwest::Client, method: &str, url: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = client.request(method.parse().unwrap(), url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the node answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_in_flight_on_a_killed_node_is_retried_by_another_after_the_lease() {
    let database = TestDatabase::create(backend()).await;
    let receiver = Receiver::default();
    let hook = receiver.start().await;
    let client = reqwest::Client::new();

    // Node A, a process of its own: an endpoint, then a change whose event it starts to send.
    let port = free_port();
    let mut node_a = spawn_node(&database, port, &[]);
    let a = format!("http://127.0.0.1:{port}");
    wait_until_serving(&client, &a).await;
    let body = json!({ "url": hook, "event_types": ["user."] });
    let (status, created) = call(&client, "POST", &format!("{a}/v1/admin/webhooks"), Some(ADMIN_TOKEN), body).await;
    assert_eq!(status, 201, "{created}");
    let endpoint = created["data"]["id"].as_str().unwrap().to_owned();
    let body = json!({ "email": "ada@example.com", "password": "correct horse battery", "display_name": "Ada" });
    let (status, _) = call(&client, "POST", &format!("{a}/v1/auth/signup"), None, body).await;
    assert_eq!(status, 201);
    let first = receiver.wait_for(1).await;
    assert_eq!(first.len(), 1, "node A sent the event");

    // Killed with the request in flight: nothing of it answers or records anything any more.
    node_a.kill().expect("SIGKILL");
    node_a.wait().unwrap();

    // Node B on the same database: it leaves the delivery alone while node A's lease runs, and
    // takes it once the lease is over.
    let clock = Arc::new(ManualClock::starting_now());
    let b = start_node_b(&database, clock.clone(), None).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(receiver.ids().len(), 1, "node B must not send while node A's claim holds");
    clock.advance(CLAIM_LEASE + chrono::Duration::seconds(5));

    let ids = receiver.wait_for(2).await;
    assert_eq!(ids.len(), 2, "node B retried the delivery");
    assert_eq!(ids[0], ids[1], "the same message, so the receiver can tell it is a retry");
    let path = format!("{b}/v1/admin/webhooks/{endpoint}/deliveries");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, listed) = call(&client, "GET", &path, Some(ADMIN_TOKEN), Value::Null).await;
        assert_eq!(status, 200, "{listed}");
        let delivery = &listed["data"][0];
        if delivery["status"] == "succeeded" {
            assert_eq!(listed["data"].as_array().unwrap().len(), 1);
            assert_eq!(delivery["event_id"], ids[0].as_str());
            assert_eq!(delivery["response_status"], 200);
            break;
        }
        assert!(Instant::now() < deadline, "the delivery did not succeed: {listed}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A front for the SMTP sink on `sink_port` that holds its first connection open without a word
/// (the mailer waits for the greeting while its node is killed) and passes every later one
/// through. `connected` turns true when the first one arrives.
async fn holding_first_connection(sink_port: u16, connected: Arc<Mutex<bool>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let first = !std::mem::replace(&mut *connected.lock().unwrap(), true);
            tokio::spawn(async move {
                if first {
                    tokio::time::sleep(Duration::from_secs(600)).await;
                    drop(socket);
                } else if let Ok(mut sink) = tokio::net::TcpStream::connect(("127.0.0.1", sink_port)).await {
                    let _ = tokio::io::copy_bidirectional(&mut socket, &mut sink).await;
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_in_flight_on_a_killed_node_is_sent_once_by_another_after_the_lease() {
    let database = TestDatabase::create(backend()).await;
    let sink = SmtpSink::start().await;
    let connected = Arc::new(Mutex::new(false));
    let front = holding_first_connection(sink.port, connected.clone()).await;
    let smtp_url = format!("smtp://127.0.0.1:{front}");
    let client = reqwest::Client::new();

    // Node A, a process of its own, starts sending the verification email of a signup.
    let port = free_port();
    let mut node_a = spawn_node(&database, port, &[("TENANTRY_SMTP_URL", smtp_url.clone())]);
    let a = format!("http://127.0.0.1:{port}");
    wait_until_serving(&client, &a).await;
    let body = json!({ "email": "ada@example.com", "password": "correct horse battery", "display_name": "Ada" });
    let (status, _) = call(&client, "POST", &format!("{a}/v1/auth/signup"), None, body).await;
    assert_eq!(status, 201);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !*connected.lock().unwrap() {
        assert!(Instant::now() < deadline, "node A never connected to the SMTP server");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    node_a.kill().expect("SIGKILL");
    node_a.wait().unwrap();

    // Node B leaves the message alone while node A's claim holds, then sends it, once.
    let clock = Arc::new(ManualClock::starting_now());
    start_node_b(&database, clock.clone(), Some(smtp_url)).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(sink.messages.lock().unwrap().is_empty(), "node B must not send while node A's claim holds");
    clock.advance(OUTBOX_LEASE + chrono::Duration::seconds(5));
    let sent = sink.wait_for(1).await;
    assert_eq!(sent.len(), 1, "node B sent the email");
    assert!(sent[0].contains("ada@example.com"), "{}", sent[0]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.messages.lock().unwrap().len(), 1, "sent once");
}

/// A signup whose body is still arriving: the head and 10 bytes are sent; the rest is returned
/// for the caller to send (or not).
async fn start_slow_signup(port: u16) -> (tokio::net::TcpStream, Vec<u8>) {
    let body =
        json!({ "email": "ada@example.com", "password": "correct horse battery", "display_name": "Ada" }).to_string();
    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "POST /v1/auth/signup HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(&body.as_bytes()[..10]).await.unwrap();
    (slow, body.as_bytes()[10..].to_vec())
}

fn send_sigterm(node: &Child) {
    let terminated = Command::new("kill").args(["-TERM", &node.id().to_string()]).status().unwrap();
    assert!(terminated.success());
}

/// Waits for the node to exit by itself, at most `within`.
async fn exit_status(node: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = node.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the node did not exit within {within:?} of SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sigterm_a_request_in_flight_finishes_while_new_connections_are_refused() {
    let database = TestDatabase::create(backend()).await;
    let port = free_port();
    let mut node = spawn_node(&database, port, &[]);
    let client = reqwest::Client::new();
    wait_until_serving(&client, &format!("http://127.0.0.1:{port}")).await;

    let (mut slow, rest) = start_slow_signup(port).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    send_sigterm(&node);
    // New connections are refused once the node stops accepting.
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
        assert!(Instant::now() < deadline, "the node still accepts connections after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The request in flight still completes.
    slow.write_all(&rest).await.unwrap();
    let mut answer = String::new();
    slow.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");

    // And the node exits by itself, cleanly.
    let status = exit_status(&mut node, Duration::from_secs(20)).await;
    assert!(status.success(), "exited with {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_still_in_flight_when_the_grace_period_ends_is_cut_and_the_node_exits() {
    let database = TestDatabase::create(backend()).await;
    let port = free_port();
    let mut node = spawn_node(&database, port, &[("TENANTRY_SHUTDOWN_GRACE_SECS", "1".into())]);
    let client = reqwest::Client::new();
    wait_until_serving(&client, &format!("http://127.0.0.1:{port}")).await;

    // A client that never finishes its request.
    let (mut stalled, _never_sent) = start_slow_signup(port).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    send_sigterm(&node);

    // The node waits out its one second of grace, no longer, and still exits cleanly.
    let status = exit_status(&mut node, Duration::from_secs(15)).await;
    assert!(status.success(), "exited with {status}");
    let waited = signalled.elapsed();
    assert!(waited >= Duration::from_millis(900), "exited after {waited:?}, before the grace period ended");
    // The stalled request got no answer: its connection was closed.
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stalled.read_to_end(&mut answer)).await;
    assert!(matches!(read, Ok(Ok(_)) | Ok(Err(_))), "the connection is still open after the node exited");
    assert!(!String::from_utf8_lossy(&answer).contains("201"), "{}", String::from_utf8_lossy(&answer));
    // Nothing was written for it.
    let users: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&database.admin_pool().await).await.unwrap();
    assert_eq!(users, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_have_one_object_per_line_with_the_request_and_no_secret() {
    let database = TestDatabase::create(backend()).await;
    let port = free_port();
    let node = node_command(&database, port)
        .env("TENANTRY_LOG_FORMAT", "json")
        .env("TENANTRY_LOG", "info,tenantry::access=info")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_until_serving(&client, &base).await;

    let password = "correct horse battery";
    let body = json!({ "email": "ada@example.com", "password": password, "display_name": "Ada" });
    let (_, signed_up) = call(&client, "POST", &format!("{base}/v1/auth/signup"), None, body).await;
    let access = signed_up["data"]["access_token"].as_str().unwrap().to_owned();
    let org = signed_up["data"]["org"]["id"].as_str().unwrap().to_owned();
    call(&client, "GET", &format!("{base}/v1/orgs/{org}/members"), Some(&access), Value::Null).await;
    let token = "q8Zr3_0kLx-9YwVbN2mT7uHcE4aS1dFgJ6pK5oI8rUe";
    client.get(format!("{base}/accept-invite/{token}")).send().await.unwrap();
    Command::new("kill").args(["-TERM", &node.id().to_string()]).status().unwrap();
    let output = tokio::task::spawn_blocking(move || node.wait_with_output().unwrap()).await.unwrap();
    let log = String::from_utf8(output.stdout).unwrap();

    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not one JSON object: {line}")))
        .collect();
    let access_lines: Vec<&Value> = lines.iter().filter(|l| l["target"] == "tenantry::access").collect();
    let members = access_lines
        .iter()
        .find(|l| l["route"] == "/v1/orgs/{org}/members")
        .unwrap_or_else(|| panic!("no line for the members request: {log}"));
    assert_eq!(members["status"], 200);
    assert_eq!(members["method"], "GET");
    assert!(members["request_id"].as_str().unwrap().starts_with("req_"), "{members}");
    assert!(members["latency_ms"].as_f64().unwrap() >= 0.0);
    assert!(members["level"] == "INFO" && members["timestamp"].is_string(), "{members}");
    assert!(access_lines.iter().any(|l| l["route"] == "/v1/auth/signup" && l["status"] == 201));
    for secret in [password, access.as_str(), token] {
        assert!(!log.contains(secret), "a secret reached the log: {log}");
    }
}

/// Plants `sql` as a hand edit of the database would: with foreign keys (and, on PostgreSQL,
/// the triggers that keep the audit log append-only) not enforced.
async fn plant(database: &TestDatabase, sql: &str) {
    let pool = database.admin_pool().await;
    let mut conn = pool.acquire().await.unwrap();
    let unchecked = match backend() {
        Backend::Sqlite => "PRAGMA foreign_keys = OFF",
        Backend::Postgres => "SET session_replication_role = replica",
    };
    sqlx::query(unchecked).execute(&mut *conn).await.unwrap();
    sqlx::query(sql).execute(&mut *conn).await.unwrap_or_else(|e| panic!("planting `{sql}`: {e}"));
}

/// `tenantry doctor --json` against `database` as the service connects to it: on PostgreSQL the
/// application role, under Row Level Security.
fn doctor(database: &TestDatabase) -> (i32, Vec<String>) {
    let output = Command::new(env!("CARGO_BIN_EXE_tenantry"))
        .args(["doctor", "--json"])
        .env("TENANTRY_CONFIG", "/nonexistent/tenantry.toml")
        .env("TENANTRY_DATABASE_URL", &database.url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let findings: Vec<Value> = serde_json::from_str(&stdout)
        .unwrap_or_else(|_| panic!("not JSON: {stdout}{}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code().unwrap(), findings.iter().map(|f| f["kind"].as_str().unwrap().to_owned()).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_finds_each_planted_fault_on_this_runs_database() {
    let database = TestDatabase::create(backend()).await;
    let port = free_port();
    let mut node = spawn_node(&database, port, &[]);
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    wait_until_serving(&client, &base).await;
    let signup = json!({ "email": "owner@example.com", "password": "correct horse battery", "display_name": "Owner" });
    let (status, body) = call(&client, "POST", &format!("{base}/v1/auth/signup"), None, signup).await;
    assert_eq!(status, 201, "{body}");
    let (owner, token) = (body["data"]["user"]["id"].as_str().unwrap(), body["data"]["access_token"].as_str().unwrap());
    let (status, body) =
        call(&client, "POST", &format!("{base}/v1/orgs"), Some(token), json!({ "name": "Acme", "slug": "acme" })).await;
    assert_eq!(status, 201, "{body}");
    let org = body["data"]["id"].as_str().unwrap();
    node.kill().unwrap();
    node.wait().unwrap();

    assert_eq!(doctor(&database), (0, vec![]));
    for (kind, sql) in planted_faults::faults(org, owner) {
        plant(&database, &sql).await;
        let (code, kinds) = doctor(&database);
        assert_eq!(code, 7, "{kind}: {kinds:?}");
        assert_eq!(kinds.iter().filter(|k| *k == kind).count(), 1, "{kind} found once: {kinds:?}");
    }
}

/// The `sh` blocks of the README's curl tour after the one that starts the server, as one script.
fn readme_tour() -> String {
    let readme = include_str!("../../../README.md");
    let start = readme.find("## A quick tour with curl").expect("the README has its tour");
    // Up to the next heading (`## ` or `### `; a `#` alone starts a comment in the blocks).
    let after = &readme[start + 1..];
    let end = start + 1 + ["\n## ", "\n### "].iter().filter_map(|h| after.find(h)).min().expect("a heading follows");
    let mut blocks = Vec::new();
    let mut rest = &readme[start..end];
    while let Some(open) = rest.find("```sh\n") {
        let body = &rest[open + 6..];
        let close = body.find("```").expect("a closed block");
        blocks.push(&body[..close]);
        rest = &body[close + 3..];
    }
    assert!(blocks.len() >= 3 && blocks[0].contains("cargo run"), "the tour opens by starting the server");
    blocks[1..].concat()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readmes_curl_tour_runs_as_written() {
    let database = TestDatabase::create(backend()).await;
    let port = free_port();
    // As the tour starts the server (its first block), on this test's database and port.
    let env = [("TENANTRY_ADMIN_TOKEN", "admin-secret".to_owned()), ("TENANTRY_SERVICE_TOKENS", "host-secret".into())];
    let mut node = spawn_node(&database, port, &env);
    wait_until_serving(&reqwest::Client::new(), &format!("http://127.0.0.1:{port}")).await;

    let script = readme_tour().replace("localhost:8080", &format!("127.0.0.1:{port}"));
    let dir = tempfile::tempdir().unwrap();
    // The node is a process of its own: waiting here holds up nothing it needs.
    let output = Command::new("bash")
        .args(["-eu", "-o", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .output()
        .expect("bash runs");
    node.kill().unwrap();
    node.wait().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the tour stopped ({}): {stderr}\n{stdout}", output.status);
    // Every answer is a success: no step printed an error body (a value jq could not find would
    // be `null` in the next step's address or body, and refused there).
    assert!(!stdout.contains("\"error\":{"), "a step was refused: {stdout}");
    // The answers the tour shows in its comments.
    for shown in ["\"allowed\":false", "\"allowed\":true", "\"valid\":true", "X-RateLimit-Limit", "member.role_changed"]
    {
        assert!(stdout.to_lowercase().contains(&shown.to_lowercase()), "no {shown} in the tour's output: {stdout}");
    }
    let csv = std::fs::read_to_string(dir.path().join("audit-events.csv")).expect("the export was written");
    assert!(csv.starts_with("id,occurred_at,"), "{csv}");
}
