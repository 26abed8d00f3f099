//! SPEC 5: the plan catalogue, plan changes in both billing modes, downgrades below usage, and
//! the billing customer id.

use serde_json::json;
use tenantry_server::config::{BillingConfig, BillingMode};

use crate::common::{config, spawn_app, spawn_with, Account, TestApp, ADMIN_TOKEN, HOST_TOKEN};

async fn open_mode_app() -> TestApp {
    spawn_with(tenantry_server::Config { billing: BillingConfig { mode: BillingMode::Open }, ..config() }).await
}

async fn plan_of(app: &TestApp, who: &Account, org: &str) -> String {
    app.get(&format!("/v1/orgs/{org}"), Some(&who.access)).await.expect(200).body["data"]["plan"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_plans_are_public_and_come_from_the_preset() {
    let app = spawn_app().await;
    let r = app.get("/v1/plans", None).await.expect(200);
    let plans = r.body["data"].as_array().unwrap();
    let keys: Vec<&str> = plans.iter().map(|p| p["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["free", "starter", "team", "enterprise"]);
    assert_eq!(plans[0]["default"], true);
    assert_eq!(plans[1]["default"], false);
    assert_eq!(plans[0]["limits"], json!({ "members": 1, "teams": 1, "endpoints": 5, "requests": 500 }));
    assert_eq!(plans[1]["limits"], json!({ "members": 2, "teams": 3, "endpoints": 25, "requests": 25000 }));
    assert_eq!(plans[2]["limits"], json!({ "members": -1, "teams": 20, "endpoints": 50, "requests": 500000 }));
    assert_eq!(plans[3]["limits"], json!({ "members": -1, "teams": -1, "endpoints": -1, "requests": -1 }));
    assert_eq!(plans[3]["retention_days"], 365);
    assert_eq!(plans[3]["api_calls_per_minute"], 1000);
    assert_eq!(plans[3]["features"], json!(["audit_log", "custom_roles", "sso"]));
}

#[tokio::test]
async fn in_managed_mode_only_the_admin_and_host_apps_change_plans() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let org = &ada.personal_org;
    let path = format!("/v1/orgs/{org}/plan");

    let r = app.put(&path, Some(&ada.access), json!({ "plan": "starter" })).await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("billing"), "{}", r.body);
    app.put(&path, Some(&bob.access), json!({ "plan": "starter" })).await.expect(404);
    assert_eq!(app.audit_count_of("org.plan_changed").await, 0);

    let r = app.put(&path, Some(HOST_TOKEN), json!({ "plan": "starter" })).await.expect(200);
    assert_eq!(r.body["data"]["plan"], "starter");
    assert_eq!(plan_of(&app, &ada, org).await, "starter");
    app.put(&path, Some(ADMIN_TOKEN), json!({ "plan": "team" })).await.expect(200);
    assert_eq!(plan_of(&app, &ada, org).await, "team");

    let r = app.put(&path, Some(ADMIN_TOKEN), json!({ "plan": "platinum" })).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "plan");
    app.put("/v1/orgs/no-such-org/plan", Some(ADMIN_TOKEN), json!({ "plan": "team" })).await.expect(404);

    // Setting the current plan again changes nothing.
    app.put(&path, Some(ADMIN_TOKEN), json!({ "plan": "team" })).await.expect(200);
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT actor_type, metadata FROM audit_events WHERE action = 'org.plan_changed' ORDER BY seq")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let changes: Vec<(String, String, String)> = rows
        .into_iter()
        .map(|(actor, metadata)| {
            let metadata: serde_json::Value = serde_json::from_str(&metadata).unwrap();
            (actor, metadata["from"].as_str().unwrap().to_owned(), metadata["to"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("service".to_owned(), "free".to_owned(), "starter".to_owned()),
            ("admin".to_owned(), "starter".to_owned(), "team".to_owned())
        ]
    );
}

#[tokio::test]
async fn in_open_mode_holders_of_billing_change_plan_change_plans_too() {
    let app = open_mode_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let dev = app.signup("dev@example.com", "Dev").await;
    let fin = app.signup("fin@example.com", "Fin").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    // Its members joined on `enterprise`; the changes below move it down and back up.
    app.set_plan(&org, "enterprise").await;
    app.add_member(&org, &dev, "developer").await;
    app.add_member(&org, &fin, "finance").await;
    let path = format!("/v1/orgs/{org}/plan");

    app.put(&path, Some(&ada.access), json!({ "plan": "starter" })).await.expect(200);
    let r = app.put(&path, Some(&dev.access), json!({ "plan": "team" })).await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("billing.change_plan"));
    app.put(&path, Some(&fin.access), json!({ "plan": "team" })).await.expect(200);
    app.put(&path, Some(HOST_TOKEN), json!({ "plan": "enterprise" })).await.expect(200);
    assert_eq!(plan_of(&app, &ada, &org).await, "enterprise");
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT actor_id, metadata FROM audit_events WHERE action = 'org.plan_changed'")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let actor = rows
        .into_iter()
        .find(|(_, metadata)| serde_json::from_str::<serde_json::Value>(metadata).unwrap()["to"] == "team")
        .map(|(actor, _)| actor)
        .unwrap();
    assert_eq!(actor, fin.user_id);
}

#[tokio::test]
async fn a_downgrade_below_usage_is_allowed_but_blocks_growth() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = &ada.personal_org;
    app.set_plan(org, "starter").await;
    app.meter(org, "endpoints", 10).await.expect(200);
    app.set_plan(org, "free").await;

    let r = app.get(&format!("/v1/orgs/{org}/usage"), Some(&ada.access)).await.expect(200);
    assert_eq!(r.body["data"]["endpoint_count"], 10);
    assert_eq!(r.body["data"]["limits"]["endpoints"], 5);
    let r = app.meter(org, "endpoints", 1).await.expect(402);
    assert_eq!(r.code(), "plan_limit_reached");
    // Shrinking is always allowed, and growth resumes once back under the limit.
    app.meter(org, "endpoints", -6).await.expect(200);
    let r = app.meter(org, "endpoints", 1).await.expect(200);
    assert_eq!(r.body["data"]["value"], 5);
}

#[tokio::test]
async fn the_billing_customer_id_is_set_by_billing_update_payment_holders_and_host_apps() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let dev = app.signup("dev@example.com", "Dev").await;
    let fin = app.signup("fin@example.com", "Fin").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.add_members_beyond_plan(&org, &[(&dev.user_id, "developer"), (&fin.user_id, "finance")]).await;
    let path = format!("/v1/orgs/{org}/billing");

    let r = app.get(&path, Some(&fin.access)).await.expect(200);
    assert_eq!(r.body["data"], json!({ "plan": "free", "billing_customer_id": null, "billing_mode": "managed" }));
    app.get(&path, Some(&dev.access)).await.expect(403);

    app.put(&path, Some(&dev.access), json!({ "billing_customer_id": "cus_1" })).await.expect(403);
    let r = app.put(&path, Some(&fin.access), json!({ "billing_customer_id": "cus_1" })).await.expect(200);
    assert_eq!(r.body["data"]["billing_customer_id"], "cus_1");
    let r = app.put(&path, Some(HOST_TOKEN), json!({ "billing_customer_id": "cus_2" })).await.expect(200);
    assert_eq!(r.body["data"]["billing_customer_id"], "cus_2");
    let r = app.put(&path, Some(&ada.access), json!({ "billing_customer_id": "has space" })).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "billing_customer_id");
    app.put(&path, Some(&ada.access), json!({ "billing_customer_id": null })).await.expect(200);
    let r = app.get(&path, Some(HOST_TOKEN)).await.expect(200);
    assert!(r.body["data"]["billing_customer_id"].is_null());
    assert_eq!(app.audit_count_of("org.billing_customer_changed").await, 3);
}
