//! Email delivery on several nodes: each node's sender claims a message before sending it, so a
//! message reaches the mail server once however many nodes send, and a message whose node
//! stopped mid-attempt is sent by another node once its claim's lease ends.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::json;
use tenantry_core::context::Clock;
use tenantry_core::service::outbox::OUTBOX_LEASE;
use tenantry_core::store::Store;

use crate::common::{config, spawn_app, spawn_with, TestApp, PASSWORD};
use crate::smtp_sink::SmtpSink;

/// How many messages the sink received for each recipient (from each message's `To:` header).
fn recipients(messages: &[String]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for message in messages {
        let to = message.lines().find_map(|line| line.strip_prefix("To: ")).expect("a To header");
        *counts.entry(to.to_owned()).or_default() += 1;
    }
    counts
}

/// Waits (bounded) until the outbox holds no unsent message but those to `except` (`""` for
/// none), then gives the sink's messages.
async fn sent_but(app: &TestApp, sink: &SmtpSink, except: &str) -> Vec<String> {
    for _ in 0..400 {
        let unsent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND recipient <> $1")
            .bind(except)
            .fetch_one(&app.db)
            .await
            .unwrap();
        if unsent == 0 {
            return sink.messages.lock().unwrap().clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the outbox still holds unsent messages");
}

/// Signs up `email` through the node at `node`, which queues its verification email there (and
/// so wakes that node's sender).
async fn signup_on(app: &TestApp, node: &str, email: &str) {
    let body = json!({ "email": email, "password": PASSWORD, "display_name": "Someone" });
    app.call_on(node, Method::POST, "/v1/auth/signup", None, Some(body)).await.expect(201);
}

#[tokio::test]
async fn two_nodes_sending_email_deliver_each_message_once() {
    let sink = SmtpSink::start().await;
    let mut config = config();
    config.email.smtp_url = Some(format!("smtp://127.0.0.1:{}", sink.port));
    let app = spawn_with(config).await;
    let other = app.another_node().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;

    // Invitations queued at once through both nodes wake both senders while the other's
    // messages are still due, so both look at the same messages.
    let path = format!("/v1/orgs/{org}/invitations");
    let invites = (0..30).map(|i| {
        let node = if i % 2 == 0 { app.base.clone() } else { other.clone() };
        let body = json!({ "email": format!("guest{i}@example.com"), "role": "viewer" });
        let (app, path, token) = (&app, &path, &ada.access);
        async move { app.call_on(&node, Method::POST, path, Some(token), Some(body)).await.expect(201) }
    });
    futures_util::future::join_all(invites).await;

    let delivered = recipients(&sent_but(&app, &sink, "").await);
    let twice: Vec<_> = delivered.iter().filter(|(_, &n)| n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(delivered.len(), 31, "Ada's verification and the 30 invitations: {delivered:?}");
    let retried: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE attempts <> 1").fetch_one(&app.db).await.unwrap();
    assert_eq!(retried, 0, "one attempt each");
}

#[tokio::test]
async fn a_message_claimed_by_a_node_that_stopped_is_sent_by_another_once_the_lease_ends() {
    // This node sends no email: its claim below stands for a node that stopped mid-attempt.
    let app = spawn_app().await;
    app.signup("ada@example.com", "Ada").await;
    let now = app.clock.now();
    let mut tx = app.store.write().await.unwrap();
    let claimed = tx.claim_due_outbox(now, now + OUTBOX_LEASE, 10).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].to.as_str(), "ada@example.com");

    let sink = SmtpSink::start().await;
    let mut sending = config();
    sending.email.smtp_url = Some(format!("smtp://127.0.0.1:{}", sink.port));
    let other = app.another_node_with(sending).await;

    // While the lease lasts, the other node's sender passes over Ada's message: woken by Bob's,
    // it sends only his.
    signup_on(&app, &other, "bob@example.com").await;
    let delivered = recipients(&sent_but(&app, &sink, "ada@example.com").await);
    assert_eq!(delivered, BTreeMap::from([("bob@example.com".to_owned(), 1)]));

    // Once the lease has ended, the next time the sender wakes it sends Ada's message too.
    app.clock.advance(OUTBOX_LEASE);
    signup_on(&app, &other, "carol@example.com").await;
    let delivered = recipients(&sent_but(&app, &sink, "").await);
    let expected = ["ada@example.com", "bob@example.com", "carol@example.com"].map(|to| (to.to_owned(), 1));
    assert_eq!(delivered, BTreeMap::from(expected));
    let ada = app.last_email_to("ada@example.com").await;
    assert_eq!(ada["attempts"], 2, "the stopped node's attempt and the one that delivered: {ada}");
    assert!(ada["last_error"].is_null(), "{ada}");
}
