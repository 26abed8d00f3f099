//! Two nodes on one database deliver each event to an endpoint once: the dispatcher's place is
//! taken by one node at a time, and each delivery is claimed before it is sent.

use std::collections::HashMap;
use std::time::Duration;

use crate::common::PASSWORD;
use crate::webhooks::{app_allowing_loopback, create_endpoint, Receiver};

#[tokio::test]
async fn two_nodes_deliver_each_event_once() {
    let app = app_allowing_loopback().await;
    let other = app.another_node().await;
    let receiver = Receiver::start().await;
    create_endpoint(&app, &receiver.base, &["user."]).await;
    let signups = (0..30).map(|i| {
        let (app, other) = (&app, other.clone());
        async move {
            let email = format!("user{i}@example.com");
            let base = if i % 2 == 0 { app.base.clone() } else { other };
            let body = serde_json::json!({ "email": email, "password": PASSWORD, "display_name": "U" });
            app.call_on(&base, reqwest::Method::POST, "/v1/auth/signup", None, Some(body)).await.expect(201);
        }
    });
    futures_util::future::join_all(signups).await;
    let got = receiver.wait_for(30).await;
    // A quiet moment for any duplicate to arrive.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut times: HashMap<String, usize> = HashMap::new();
    for request in receiver.received() {
        *times.entry(request.headers["webhook-id"].to_str().unwrap().to_owned()).or_default() += 1;
    }
    let twice: Vec<_> = times.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(times.len(), 30, "{} of 30 delivered", got.len());
}
