//! Webhook endpoints and deliveries, and org notifications (SPEC 16), against receivers on
//! loopback: Standard Webhooks signatures checked by an implementation written here from the
//! specification, retries on a controlled clock, the SSRF guard, Slack and Telegram fakes.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::common::{config, spawn_with, TestApp, ADMIN_TOKEN, HOST_TOKEN};

/// One request a receiver got.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

/// An HTTP receiver on loopback that records every request and answers with `status`.
#[derive(Clone)]
pub(crate) struct Receiver {
    pub base: String,
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    pub async fn start() -> Self {
        let got = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let (log, answer) = (got.clone(), status.clone());
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let (log, answer) = (log.clone(), answer.clone());
            async move {
                let body = String::from_utf8_lossy(&body).into_owned();
                log.lock().unwrap().push(Received { path: uri.path().to_owned(), headers, body });
                StatusCode::from_u16(answer.load(Ordering::SeqCst)).unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, got, status }
    }

    fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `count` requests arrived, and returns them.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..200 {
            if self.received().len() >= count {
                return self.received();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {count} requests, got {:?}", self.received());
    }
}

/// The Standard Webhooks check, written from the specification: the base64 HMAC-SHA256, keyed
/// with the base64 part of `whsec_…`, of `{webhook-id}.{webhook-timestamp}.{body}`, compared with
/// each `v1,` entry of the space-separated `webhook-signature`.
fn signed_by(secret: &str, request: &Received) -> bool {
    let key = BASE64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let header = |name: &str| request.headers.get(name).unwrap().to_str().unwrap().to_owned();
    let content = format!("{}.{}.{}", header("webhook-id"), header("webhook-timestamp"), request.body);
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(content.as_bytes());
    let expected = BASE64.encode(mac.finalize().into_bytes());
    header("webhook-signature").split(' ').any(|entry| entry.strip_prefix("v1,") == Some(expected.as_str()))
}

pub(crate) async fn app_allowing_loopback() -> TestApp {
    let mut config = config();
    config.webhooks.allow_private_targets = true;
    spawn_with(config).await
}

pub(crate) async fn create_endpoint(app: &TestApp, url: &str, types: &[&str]) -> (String, String) {
    let r = app.post("/v1/admin/webhooks", Some(ADMIN_TOKEN), json!({ "url": url, "event_types": types })).await;
    let r = r.expect(201);
    (r.body["data"]["id"].as_str().unwrap().to_owned(), r.body["data"]["secret"].as_str().unwrap().to_owned())
}

async fn deliveries(app: &TestApp, endpoint: &str) -> Vec<Value> {
    let r = app.get(&format!("/v1/admin/webhooks/{endpoint}/deliveries?limit=100"), Some(ADMIN_TOKEN)).await;
    r.expect(200).body["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn events_arrive_signed_as_standard_webhooks_says_once_each_and_can_be_sent_again() {
    let app = app_allowing_loopback().await;
    let receiver = Receiver::start().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let (endpoint, secret) = create_endpoint(&app, &format!("{}/hooks", receiver.base), &["org."]).await;
    assert!(secret.starts_with("whsec_"));
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();

    let got = receiver.wait_for(1).await;
    let request = &got[0];
    assert_eq!(request.path, "/hooks");
    assert!(signed_by(&secret, request), "signature does not verify: {request:?}");
    assert!(!signed_by("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", request), "any secret verifies");
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["type"], "org.created");
    assert_eq!(body["org_id"], org.as_str());
    assert_eq!(request.headers["webhook-id"].to_str().unwrap(), body["id"].as_str().unwrap());
    let timestamp: i64 = request.headers["webhook-timestamp"].to_str().unwrap().parse().unwrap();
    assert!((timestamp - app.clock_now().timestamp()).abs() <= 1);
    // The user created before the endpoint, and types it did not ask for, are not sent.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1);

    let listed = deliveries(&app, &endpoint).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "succeeded");
    assert_eq!(listed[0]["attempts"], 1);
    assert_eq!(listed[0]["response_status"], 200);

    let id = listed[0]["id"].as_str().unwrap();
    let path = format!("/v1/admin/webhooks/{endpoint}/deliveries/{id}/redeliver");
    app.post(&path, Some(ADMIN_TOKEN), json!({})).await.expect(202);
    let again = receiver.wait_for(2).await;
    assert_eq!(again[1].headers["webhook-id"], again[0].headers["webhook-id"]);
    app.post(&format!("/v1/admin/webhooks/{endpoint}/test"), Some(ADMIN_TOKEN), json!({})).await.expect(202);
    let test = receiver.wait_for(3).await;
    assert!(test[2].body.contains("webhook.test"));
    assert!(signed_by(&secret, &test[2]));
    assert_eq!(deliveries(&app, &endpoint).await.len(), 3);

    // Only the admin manages endpoints; none is shown its secret again.
    app.get("/v1/admin/webhooks", Some(&ada.access)).await.expect(403);
    let shown = app.get(&format!("/v1/admin/webhooks/{endpoint}"), Some(ADMIN_TOKEN)).await.expect(200);
    assert_eq!(shown.body["data"].get("secret"), None);
    app.get("/v1/admin/webhooks/wh_nope", Some(ADMIN_TOKEN)).await.expect(404);
}

#[tokio::test]
async fn after_a_rotation_both_secrets_sign_for_a_day_then_only_the_new_one() {
    let app = app_allowing_loopback().await;
    let receiver = Receiver::start().await;
    let (endpoint, old) = create_endpoint(&app, &receiver.base, &[]).await;
    let r = app.post(&format!("/v1/admin/webhooks/{endpoint}/rotate-secret"), Some(ADMIN_TOKEN), json!({})).await;
    let new = r.expect(200).body["data"]["secret"].as_str().unwrap().to_owned();
    assert_ne!(old, new);
    app.signup("ada@example.com", "Ada").await;
    let got = receiver.wait_for(1).await;
    assert!(signed_by(&old, &got[0]) && signed_by(&new, &got[0]));

    app.clock.advance(chrono::Duration::hours(25));
    app.signup("bob@example.com", "Bob").await;
    let got = receiver.wait_for(2).await;
    assert!(signed_by(&new, &got[1]));
    assert!(!signed_by(&old, &got[1]));
}

/// Waits until the delivery has been attempted `attempts` times, and returns it.
async fn attempted(app: &TestApp, endpoint: &str, attempts: u64) -> Value {
    for _ in 0..200 {
        let listed = deliveries(app, endpoint).await;
        if let Some(d) = listed.first().filter(|d| d["attempts"].as_u64() >= Some(attempts)) {
            return d.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the delivery was not attempted {attempts} times: {:?}", deliveries(app, endpoint).await);
}

#[tokio::test]
async fn failures_are_retried_with_backoff_until_success_and_an_endpoint_failing_three_days_is_disabled() {
    let app = app_allowing_loopback().await;
    let receiver = Receiver::start().await;
    receiver.answer(500);
    let (endpoint, _) = create_endpoint(&app, &receiver.base, &[]).await;
    app.signup("ada@example.com", "Ada").await;

    let first = attempted(&app, &endpoint, 1).await;
    assert_eq!(first["status"], "pending");
    assert_eq!(first["response_status"], 500);
    // Not again before its time: the first wait is 10 s give or take a quarter.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.received().len(), 1);
    app.clock.advance(chrono::Duration::seconds(13));
    attempted(&app, &endpoint, 2).await;
    receiver.answer(200);
    app.clock.advance(chrono::Duration::seconds(26));
    let done = attempted(&app, &endpoint, 3).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(receiver.received().len(), 3);

    // Now it fails for good: retried for three days, then given up, and the endpoint disabled.
    receiver.answer(503);
    app.signup("bob@example.com", "Bob").await;
    for _ in 0..200 {
        if deliveries(&app, &endpoint).await.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    attempted(&app, &endpoint, 1).await;
    let mut attempts = 1;
    loop {
        let delivery = deliveries(&app, &endpoint).await[0].clone();
        if delivery["status"] != "pending" {
            assert_eq!(delivery["status"], "failed");
            break;
        }
        assert!(attempts < 40, "still retrying after {attempts} attempts");
        app.clock.advance(chrono::Duration::hours(11));
        attempts += 1;
        attempted(&app, &endpoint, attempts).await;
    }
    let shown = app.get(&format!("/v1/admin/webhooks/{endpoint}"), Some(ADMIN_TOKEN)).await.expect(200);
    assert_eq!(shown.body["data"]["enabled"], false);
    assert!(shown.body["data"]["disabled_reason"].as_str().unwrap().contains("3 days"));
    let disabled = app.get("/v1/events?types=webhook_endpoint.", Some(ADMIN_TOKEN)).await.expect(200);
    assert_eq!(disabled.body["data"][0]["type"], "webhook_endpoint.disabled");
    assert_eq!(disabled.body["data"][0]["data"]["id"], endpoint.as_str());

    // A disabled endpoint is sent nothing more.
    let before = receiver.received().len();
    app.signup("carol@example.com", "Carol").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.received().len(), before);
}

#[tokio::test]
async fn a_delivery_left_claimed_by_a_node_that_died_is_sent_after_its_lease() {
    let app = app_allowing_loopback().await;
    let receiver = Receiver::start().await;
    let (endpoint, _) = create_endpoint(&app, &receiver.base, &[]).await;
    // What a node that claimed a delivery and died leaves behind: due again at the lease's end.
    let lease_end = (app.clock_now() + chrono::Duration::seconds(60)).timestamp_millis();
    let event = format!("evt_{}", ulid::Ulid::new());
    sqlx::query(
        "INSERT INTO deliveries (id, channel, endpoint_id, event_id, event_type, payload, status, attempts, created_at, next_attempt_at) \
         VALUES ($1, 'webhook', $2, $3, 'org.created', '{}', 'pending', 0, $4, $5)",
    )
    .bind(format!("dlv_{}", ulid::Ulid::new()))
    .bind(&endpoint)
    .bind(&event)
    .bind(app.clock_now().timestamp_millis())
    .bind(lease_end)
    .execute(&app.db)
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(receiver.received().is_empty(), "sent during another node's lease");
    app.clock.advance(chrono::Duration::seconds(61));
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].headers["webhook-id"].to_str().unwrap(), event);
}

#[tokio::test]
async fn private_loopback_and_metadata_targets_are_refused_at_creation_and_at_delivery() {
    let app = crate::common::spawn_app().await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "ftp://example.com/",
        "https://user:secret@example.com/",
    ] {
        let r = app.post("/v1/admin/webhooks", Some(ADMIN_TOKEN), json!({ "url": url })).await.expect(400);
        assert_eq!(r.body["error"]["details"]["field"], "url", "{url}");
    }
    let r = app.post("/v1/admin/webhooks", Some(ADMIN_TOKEN), json!({ "url": "https://example.com", "event_types": ["Bad"] }));
    assert_eq!(r.await.expect(400).body["error"]["details"]["field"], "event_types");

    // An endpoint whose address became private since it was created is refused at delivery.
    let receiver = Receiver::start().await;
    let now = app.clock_now().timestamp_millis();
    let endpoint = format!("wh_{}", ulid::Ulid::new());
    sqlx::query(
        "INSERT INTO webhook_endpoints (id, url, description, event_types, secret, created_at, updated_at) \
         VALUES ($1, $2, '', '[]', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', $3, $3)",
    )
    .bind(&endpoint)
    .bind(&receiver.base)
    .bind(now)
    .execute(&app.db)
    .await
    .unwrap();
    app.signup("ada@example.com", "Ada").await;
    let refused = attempted(&app, &endpoint, 1).await;
    assert!(refused["last_error"].as_str().unwrap().contains("target refused"), "{refused}");
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn notifications_reach_the_orgs_slack_and_telegram_and_its_managers_by_email() {
    let receiver = Receiver::start().await;
    let mut config = config();
    config.notifications.slack_base_url = receiver.base.clone();
    config.notifications.telegram_api_url = format!("{}/telegram", receiver.base);
    let app = spawn_with(config).await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    let token = format!("123456:{}", "A".repeat(35));
    let settings = json!({ "notifications": {
        "email_enabled": true,
        "slack_webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX",
        "telegram_bot_token": token,
        "telegram_chat_id": "-100123",
    }});
    app.put(&format!("/v1/orgs/{org}/settings"), Some(&ada.access), settings).await.expect(200);

    let body = json!({ "subject": "Monitor down", "text": "api.example.com does not answer", "severity": "critical" });
    let r = app.post(&format!("/v1/orgs/{org}/notifications"), Some(HOST_TOKEN), body.clone()).await.expect(202);
    assert_eq!(r.body["data"]["channels"], json!(["email", "slack", "telegram"]));
    let got = receiver.wait_for(2).await;
    let slack = got.iter().find(|r| r.path == "/services/T000/B000/XXXX").expect("Slack got it");
    let slack: Value = serde_json::from_str(&slack.body).unwrap();
    assert!(slack["text"].as_str().unwrap().contains("Monitor down"));
    let telegram = got.iter().find(|r| r.path == format!("/telegram/bot{token}/sendMessage")).expect("Telegram got it");
    let telegram: Value = serde_json::from_str(&telegram.body).unwrap();
    assert_eq!(telegram["chat_id"], "-100123");
    assert!(telegram["text"].as_str().unwrap().contains("api.example.com does not answer"));
    let mail = app.last_email_to("ada@example.com").await;
    assert!(mail["subject"].as_str().unwrap().contains("Monitor down"), "{mail}");

    // Members do not send notifications, but whoever manages the settings sends a test.
    app.post(&format!("/v1/orgs/{org}/notifications"), Some(&ada.access), body.clone()).await.expect(403);
    app.post(&format!("/v1/orgs/{org}/notifications/test"), Some(&ada.access), json!({})).await.expect(202);
    receiver.wait_for(4).await;
    let bad = json!({ "subject": "", "text": "x" });
    let r = app.post(&format!("/v1/orgs/{org}/notifications"), Some(HOST_TOKEN), bad).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "subject");
}

#[tokio::test]
async fn the_settings_page_sends_a_test_notification_to_the_saved_channels() {
    let receiver = Receiver::start().await;
    let mut config = config();
    config.notifications.slack_base_url = receiver.base.clone();
    let app = spawn_with(config).await;
    let ada = app.verified_signup("ada@example.com", "Ada").await;
    app.create_org(&ada, "Acme").await;
    let browser = crate::page_client::Browser::new(&app);
    browser.log_in("ada@example.com", crate::common::PASSWORD).await;
    let settings = browser.get("/app/org/acme/settings").await;
    assert!(settings.html.contains("Send test notification"), "{}", settings.html);

    let saved = browser
        .submit(
            "/app/org/acme/settings",
            &settings,
            &[
                ("version", &version_in(&settings.html)),
                ("email_enabled", "on"),
                ("slack_webhook_url", "https://hooks.slack.com/services/T1/B1/zz"),
                ("telegram_bot_token", ""),
                ("telegram_chat_id", ""),
                ("retention_days", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.html);
    let sent = browser.submit("/app/org/acme/settings/test-notification", &saved, &[]).await;
    assert!(sent.html.contains("A test notification is on its way to: email, slack."), "{}", sent.html);
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].path, "/services/T1/B1/zz");
    let mail = app.last_email_to("ada@example.com").await;
    assert!(mail["subject"].as_str().unwrap().contains("Test notification"), "{mail}");
}

/// The settings document's version in the settings form.
fn version_in(html: &str) -> String {
    let marker = "name=\"version\" value=\"";
    let start = html.find(marker).expect("the settings form has its version") + marker.len();
    html[start..].chars().take_while(|c| *c != '"').collect()
}
