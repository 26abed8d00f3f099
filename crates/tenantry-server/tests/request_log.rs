//! The request log never shows a credential: with every log line captured at the most verbose
//! level, an API key's secret, a bearer token, a password and the single-use tokens in paths
//! appear nowhere, while the log does record that an `authorization` header was sent (masked). Its own test binary, because it
//! installs a process-wide log subscriber.

#[allow(dead_code)]
#[path = "api/common.rs"]
mod common;
#[allow(dead_code)]
#[path = "api/test_db.rs"]
mod test_db;

const BACKEND: common::Backend = common::Backend::Sqlite;

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;

use common::{config, spawn_with, PASSWORD};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_never_reach_the_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    // With SMTP configured (here a closed port: delivery fails and is retried), emailed links are
    // not logged; without it they are, by design, so a fresh install can follow them.
    let mut config = config();
    config.email.smtp_url = Some("smtp://127.0.0.1:1".into());
    let app = spawn_with(config).await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    let key = app.create_key(&ada, &org, &["endpoints.view", "api_keys.manage"]).await;
    app.get(&format!("/v1/orgs/{org}"), Some(&key.secret)).await.expect(200);
    app.get(&format!("/v1/orgs/{org}/api-keys"), Some(&key.secret)).await.expect(200);
    app.verify_key(&key.secret, Some("endpoints.view")).await;
    let rolled =
        app.post(&format!("/v1/orgs/{org}/api-keys/{}/roll", key.id), Some(&ada.access), json!({})).await.expect(201);
    let rolled_secret = rolled.body["data"]["secret"].as_str().unwrap().to_owned();
    app.get(&format!("/v1/orgs/{org}"), Some(&key.secret)).await.expect(401);
    app.post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": PASSWORD })).await.expect(200);
    // Single-use tokens travel in paths: the invitation's, and the emailed verification link's.
    app.put(&format!("/v1/orgs/{org}/plan"), Some(common::ADMIN_TOKEN), json!({ "plan": "team" })).await.expect(200);
    let invited =
        app.post(&format!("/v1/orgs/{org}/invitations"), Some(&ada.access), json!({ "email": "g@example.com" })).await;
    let invitation = invited.expect(201).body["data"]["token"].as_str().unwrap().to_owned();
    app.get(&format!("/v1/invitations/{invitation}"), None).await.expect(200);
    app.get(&format!("/accept-invite/{invitation}"), None).await;
    let verification = app.emailed_token("ada@example.com", "/verify-email/").await;
    app.get(&format!("/verify-email/{verification}"), None).await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("authorization"), "the request log records headers");
    assert!(log.contains("Sensitive"), "and masks the credentials among them");
    assert!(log.contains("/v1/invitations/…"), "the request log records paths, with tokens hidden");
    for secret in [
        key.secret.as_str(),
        rolled_secret.as_str(),
        ada.access.as_str(),
        ada.refresh.as_str(),
        PASSWORD,
        invitation.as_str(),
        verification.as_str(),
    ] {
        assert!(
            !log.contains(secret),
            "a secret reached the log: {}",
            log.lines().find(|l| l.contains(secret)).unwrap_or_default()
        );
    }
}
