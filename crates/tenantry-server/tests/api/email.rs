//! Email delivery: the outbox by default, SMTP when configured.

use serde_json::json;

use crate::common::{config, spawn_app, spawn_with, ADMIN_TOKEN};
use crate::smtp_sink::SmtpSink;

#[tokio::test]
async fn without_smtp_messages_wait_in_the_outbox() {
    let app = spawn_app().await;
    app.signup("ada@example.com", "Ada").await;
    let message = app.last_email_to("ada@example.com").await;
    assert!(message["sent_at"].is_null());
    assert!(message["text"].as_str().unwrap().contains(&format!("{}/verify-email/", app.base)));
}

#[tokio::test]
async fn with_smtp_the_verification_email_is_delivered_with_a_working_link() {
    let sink = SmtpSink::start().await;
    let mut config = config();
    config.email.smtp_url = Some(format!("smtp://127.0.0.1:{}", sink.port));
    let app = spawn_with(config).await;
    app.signup("ada@example.com", "Ada").await;

    let delivered = sink.wait_for(1).await;
    assert_eq!(delivered.len(), 1, "one message reached the SMTP server");
    let raw = &delivered[0];
    assert!(raw.contains("To: ada@example.com"), "{raw}");
    assert!(raw.contains("Subject: Confirm your email address"), "{raw}");
    assert!(raw.contains("multipart/alternative"), "text and HTML parts: {raw}");

    // The link in the delivered message confirms the address.
    let unfolded = raw.replace("=\n", "");
    let marker = "/verify-email/";
    let start = unfolded.find(marker).unwrap() + marker.len();
    let token: String =
        unfolded[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    app.post("/v1/auth/verify-email", None, json!({ "token": token })).await.expect(204);

    // The outbox records the delivery.
    for _ in 0..100 {
        let r = app.get("/v1/admin/outbox", Some(ADMIN_TOKEN)).await.expect(200);
        if !r.body["data"][0]["sent_at"].is_null() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("sent_at was never recorded");
}

#[tokio::test]
async fn a_delivery_failure_keeps_the_message_for_a_later_retry() {
    // Nothing listens on this port: every attempt fails.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = config();
    config.email.smtp_url = Some(format!("smtp://127.0.0.1:{closed}"));
    let app = spawn_with(config).await;
    app.signup("ada@example.com", "Ada").await;
    for _ in 0..200 {
        let (attempts, next, error): (i64, Option<i64>, Option<String>) =
            sqlx::query_as("SELECT attempts, next_attempt_at, last_error FROM outbox")
                .fetch_one(&app.db)
                .await
                .unwrap();
        if attempts > 0 {
            assert!(next.is_some(), "a retry is scheduled");
            assert!(error.is_some());
            let message = app.last_email_to("ada@example.com").await;
            assert!(message["sent_at"].is_null());
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no delivery attempt was recorded");
}
