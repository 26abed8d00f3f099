//! SPEC 13a: a bare resource name as an API key scope (`"monitors"`, as YipYap documents its key
//! request) means every permission of that resource, `monitors.*`.

use serde_json::json;

use crate::common::{config, spawn_with, TestApp, SERVICE_TOKEN};
use tenantry_server::Config;

async fn yipyap() -> TestApp {
    spawn_with(Config { preset: "yipyap".into(), ..config() }).await
}

#[tokio::test]
async fn the_yipyap_seeds_key_request_sent_verbatim_makes_a_key_holding_whole_resources() {
    let app = yipyap().await;
    // The seed's expiry is a fixed date: the server's clock stands before it, whenever this runs.
    app.clock.set("2026-12-01T00:00:00Z".parse().unwrap());
    let owner = app.signup("owner@example.com", "Owner").await;
    let org = app.create_org(&owner, "Acme").await["id"].as_str().unwrap().to_owned();

    // From the YipYap seed's "POST /api/v1/org/api-keys", byte for byte.
    let seed_body = r#"{
"name": "CI pipeline",
"scopes": ["monitors", "alerts"],
"expires_at": "2027-04-24T00:00:00Z"
}"#;
    let response = app
        .client
        .post(format!("{}/v1/orgs/{org}/api-keys", app.base))
        .bearer_auth(&owner.access)
        .header("content-type", "application/json")
        .body(seed_body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let created: serde_json::Value = response.json().await.unwrap();
    let key = &created["data"];
    assert!(key["secret"].as_str().unwrap().starts_with("yy_live_"), "{created}");
    assert_eq!(key["scopes"], json!(["monitors", "alerts"]), "scopes are kept as given");
    assert_eq!(key["expires_at"], "2027-04-24T00:00:00Z");

    let secret = key["secret"].as_str().unwrap();
    for permission in ["monitors.view", "monitors.edit", "alerts.view", "alerts.edit"] {
        assert_eq!(app.verify_key(secret, Some(permission)).await["code"], "VALID", "{permission}");
    }
    for permission in ["incidents.view", "members.invite"] {
        assert_eq!(app.verify_key(secret, Some(permission)).await["code"], "INSUFFICIENT_PERMISSIONS", "{permission}");
    }
    let check = json!({ "subject": { "key_id": key["id"] }, "org": org, "permission": "monitors.edit" });
    let r = app.post("/v1/authorize", Some(SERVICE_TOKEN), check).await.expect(200);
    assert_eq!(r.body["data"]["allowed"], true, "{}", r.body);
}

#[tokio::test]
async fn a_bare_name_that_is_no_resource_is_refused_naming_its_field() {
    let app = yipyap().await;
    let owner = app.signup("owner@example.com", "Owner").await;
    let org = app.create_org(&owner, "Acme").await["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/orgs/{org}/api-keys");
    for scopes in [json!(["monitors", "monitor"]), json!(["monitors", "widgets"]), json!(["monitors", "monitors."])] {
        let r = app.post(&path, Some(&owner.access), json!({ "name": "k", "scopes": scopes })).await.expect(400);
        assert_eq!(r.code(), "invalid_request");
        assert_eq!(r.body["error"]["details"]["field"], "scopes[1]", "{}", r.body);
    }
    // A bare name grants the whole resource, so only someone holding all of it may give it.
    app.set_plan_in_db(&org, "team").await;
    let role = json!({ "key": "keeper", "name": "Keeper", "permissions": ["api_keys.manage", "monitors.view"] });
    app.post(&format!("/v1/orgs/{org}/roles"), Some(&owner.access), role).await.expect(201);
    let keeper = app.signup("keeper@example.com", "Keeper").await;
    app.add_user(&org, &keeper.user_id, "keeper").await;
    let r = app.post(&path, Some(&keeper.access), json!({ "name": "k", "scopes": ["monitors"] })).await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("monitors.edit"), "{}", r.body);
    app.post(&path, Some(&keeper.access), json!({ "name": "k", "scopes": ["monitors.view"] })).await.expect(201);
}
