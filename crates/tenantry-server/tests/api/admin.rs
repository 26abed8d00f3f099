//! The instance admin and service tokens as principals.

use serde_json::json;

use crate::common::{spawn_app, ADMIN_TOKEN, SERVICE_TOKEN};

#[tokio::test]
async fn the_admin_lists_every_org_and_the_outbox() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    app.signup("bob@example.com", "Bob").await;
    app.create_org(&ada, "Acme").await;

    let r = app.get("/v1/admin/orgs?limit=2", Some(ADMIN_TOKEN)).await.expect(200);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 2);
    let cursor = r.body["pagination"]["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/v1/admin/orgs?limit=2&cursor={cursor}"), Some(ADMIN_TOKEN)).await.expect(200);
    assert_eq!(rest.body["data"].as_array().unwrap().len(), 1);

    let outbox = app.get("/v1/admin/outbox", Some(ADMIN_TOKEN)).await.expect(200);
    let messages = outbox.body["data"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["to"], "bob@example.com", "newest first");
    for field in ["id", "to", "subject", "text", "html", "created_at", "sent_at"] {
        assert!(messages[0].get(field).is_some(), "outbox message lacks {field}");
    }
}

#[tokio::test]
async fn admin_endpoints_refuse_everyone_else() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    app.get("/v1/admin/orgs", None).await.expect(401);
    app.get("/v1/admin/orgs", Some("wrong-token")).await.expect(401);
    app.get("/v1/admin/orgs", Some(&ada.access)).await.expect(403);
    app.get("/v1/admin/outbox", Some(SERVICE_TOKEN)).await.expect(403);
    // And the admin is not a user.
    app.get("/v1/me", Some(ADMIN_TOKEN)).await.expect(403);
    app.post("/v1/orgs", Some(SERVICE_TOKEN), json!({ "name": "x" })).await.expect(403);
}

#[tokio::test]
async fn without_a_configured_admin_token_one_is_generated_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::common::config();
    config.admin_token = None;
    config.database.url = format!("sqlite://{}", dir.path().join("t.db").display());
    let first = tenantry_server::Application::build(config.clone(), Default::default()).await.unwrap();
    let token = first.generated_admin_token().expect("generated on first start").to_owned();
    drop(first);
    let second = tenantry_server::Application::build(config, Default::default()).await.unwrap();
    assert!(second.generated_admin_token().is_none(), "printed only once");
    let base = format!("http://{}", second.local_addr());
    tokio::spawn(second.run(std::future::pending()));
    let r = reqwest::Client::new().get(format!("{base}/v1/admin/orgs")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
}
