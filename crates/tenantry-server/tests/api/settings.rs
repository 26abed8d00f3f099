//! SPEC 9: the org settings document — defaults, validation with field paths, wholesale
//! replacement, ETag / If-Match, the write-only Telegram token and the plan's retention cap.

use reqwest::Method;
use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::common::{spawn_app, Response, TestApp, ADMIN_TOKEN, SERVICE_TOKEN};

const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

fn document() -> Value {
    json!({
        "notifications": {
            "email_enabled": false,
            "slack_webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX",
            "telegram_bot_token": TOKEN,
            "telegram_chat_id": "-1001234567890"
        },
        "retention_days": 5,
        "security": { "mfa_required": true },
        "sso": {},
        "ingest": { "token_rotation_days": 90, "rotation_grace_hours": 12 }
    })
}

async fn put(app: &TestApp, token: &str, org: &str, body: Value, if_match: Option<&str>) -> Response {
    let headers: Vec<(&str, &str)> = if_match.map(|tag| ("if-match", tag)).into_iter().collect();
    app.call_with(Method::PUT, &format!("/v1/orgs/{org}/settings"), Some(token), &headers, Some(body)).await
}

#[tokio::test]
async fn settings_start_at_their_defaults_with_etag_zero() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let r = app.get(&format!("/v1/orgs/{}/settings", ada.personal_org), Some(&ada.access)).await.expect(200);
    assert_eq!(r.headers["etag"], "\"0\"");
    assert_eq!(
        r.body["data"],
        json!({
            "notifications": {
                "email_enabled": true, "slack_webhook_url": null, "telegram_bot_token": null, "telegram_chat_id": null
            },
            "retention_days": 7,
            "security": { "mfa_required": false },
            "sso": {},
            "ingest": { "token_rotation_days": null, "rotation_grace_hours": 24 }
        })
    );
}

#[tokio::test]
async fn a_put_replaces_the_document_masks_the_token_and_audits_the_changed_keys() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    // Requiring MFA of the org's members needs it of oneself first.
    app.enrol_mfa(&ada).await;
    let org = &ada.personal_org;
    let r = put(&app, &ada.access, org, document(), Some("\"0\"")).await.expect(200);
    assert_eq!(r.headers["etag"], "\"1\"");
    let mut expected = document();
    expected["notifications"]["telegram_bot_token"] = json!("********Dsaw");
    assert_eq!(r.body["data"], expected);
    let read = app.get(&format!("/v1/orgs/{org}/settings"), Some(&ada.access)).await.expect(200);
    assert_eq!(read.body["data"], expected);
    assert_eq!(read.headers["etag"], "\"1\"");

    let metadata: String =
        sqlx::query_scalar("SELECT metadata FROM audit_events WHERE action = 'org.settings_updated'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let metadata: serde_json::Value = serde_json::from_str(&metadata).unwrap();
    let changed: Vec<String> = serde_json::from_value(metadata["changed"].clone()).unwrap();
    assert_eq!(
        changed,
        [
            "ingest.rotation_grace_hours",
            "ingest.token_rotation_days",
            "notifications.email_enabled",
            "notifications.slack_webhook_url",
            "notifications.telegram_bot_token",
            "notifications.telegram_chat_id",
            "retention_days",
            "security.mfa_required"
        ]
    );
    let leaks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE metadata LIKE $1")
        .bind(format!("%{}%", &TOKEN[12..]))
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(leaks, 0, "the token's value is never audited");

    // Writing back what was read (the mask included) keeps the token and changes nothing.
    let again = put(&app, &ada.access, org, read.body["data"].clone(), Some("\"1\"")).await.expect(200);
    assert_eq!(again.headers["etag"], "\"1\"");
    let stored: String = sqlx::query_scalar("SELECT telegram_bot_token FROM org_settings WHERE org_id = $1")
        .bind(org)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, TOKEN);
    assert_eq!(app.audit_count_of("org.settings_updated").await, 1);

    // Wholesale: what a write leaves out returns to its default (the token is cleared).
    let r = put(&app, &ada.access, org, json!({ "security": { "mfa_required": true } }), None).await.expect(200);
    assert_eq!(r.headers["etag"], "\"2\"");
    assert_eq!(r.body["data"]["notifications"]["telegram_bot_token"], Value::Null);
    assert_eq!(r.body["data"]["notifications"]["email_enabled"], true);
    assert_eq!(r.body["data"]["retention_days"], 7);
    assert_eq!(r.body["data"]["security"]["mfa_required"], true);
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_changes_nothing() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    app.enrol_mfa(&ada).await;
    let org = &ada.personal_org;
    put(&app, &ada.access, org, document(), Some("\"0\"")).await.expect(200);
    let r = put(&app, &ada.access, org, json!({}), Some("\"0\"")).await.expect(412);
    assert_eq!(r.code(), "precondition_failed");
    put(&app, &ada.access, org, json!({}), Some("W/\"1\"")).await.expect(412);
    let read = app.get(&format!("/v1/orgs/{org}/settings"), Some(&ada.access)).await.expect(200);
    assert_eq!(read.body["data"]["retention_days"], 5);
    assert_eq!(app.audit_count_of("org.settings_updated").await, 1);
}

#[tokio::test]
async fn of_concurrent_writes_with_one_etag_exactly_one_succeeds() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = ada.personal_org.clone();
    let mut set = JoinSet::new();
    for days in 1..=7 {
        let (client, url, token) =
            (app.client.clone(), format!("{}/v1/orgs/{org}/settings", app.base), ada.access.clone());
        set.spawn(async move {
            let body = json!({ "retention_days": days });
            client.put(url).bearer_auth(token).header("if-match", "\"0\"").json(&body).send().await.unwrap().status()
        });
    }
    let statuses: Vec<u16> = set.join_all().await.into_iter().map(|s| s.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 412).count(), 6, "{statuses:?}");
}

#[tokio::test]
async fn unknown_keys_and_bad_values_are_400_naming_the_field_path() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = &ada.personal_org;
    let cases = [
        (json!({ "colour": "blue" }), "colour"),
        (json!({ "notifications": { "sms": true } }), "notifications.sms"),
        (json!({ "sso": { "enabled": true } }), "sso.enabled"),
        (json!({ "notifications": { "email_enabled": "yes" } }), "notifications.email_enabled"),
        (
            json!({ "notifications": { "slack_webhook_url": "http://example.com/hook" } }),
            "notifications.slack_webhook_url",
        ),
        (json!({ "notifications": { "telegram_bot_token": "********Dsaw" } }), "notifications.telegram_bot_token"),
        (json!({ "notifications": { "telegram_chat_id": "my chat" } }), "notifications.telegram_chat_id"),
        (json!({ "retention_days": 8 }), "retention_days"),
        (json!({ "retention_days": 0 }), "retention_days"),
        (json!({ "retention_days": -1 }), "retention_days"),
        (json!({ "ingest": { "token_rotation_days": 0 } }), "ingest.token_rotation_days"),
        (json!({ "ingest": { "rotation_grace_hours": 200 } }), "ingest.rotation_grace_hours"),
    ];
    for (body, field) in cases {
        let r = put(&app, &ada.access, org, body.clone(), None).await.expect(400);
        assert_eq!(r.body["error"]["details"]["field"], field, "{body}");
    }
    assert_eq!(app.audit_count_of("org.settings_updated").await, 0);
}

#[tokio::test]
async fn retention_is_capped_by_the_plan_even_after_a_downgrade() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = &ada.personal_org;
    put(&app, &ada.access, org, json!({ "retention_days": 30 }), None).await.expect(400);
    app.set_plan(org, "starter").await;
    let r = put(&app, &ada.access, org, json!({ "retention_days": 30 }), None).await.expect(200);
    assert_eq!(r.body["data"]["retention_days"], 30);
    app.set_plan(org, "free").await;
    let r = app.get(&format!("/v1/orgs/{org}/settings"), Some(&ada.access)).await.expect(200);
    assert_eq!(r.body["data"]["retention_days"], 7);
    // Following the plan (no pinned value) tracks upgrades.
    put(&app, &ada.access, org, json!({ "retention_days": null }), None).await.expect(200);
    app.set_plan(org, "team").await;
    let r = app.get(&format!("/v1/orgs/{org}/settings"), Some(&ada.access)).await.expect(200);
    assert_eq!(r.body["data"]["retention_days"], 90);
}

#[tokio::test]
async fn settings_need_org_manage() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let dev = app.signup("dev@example.com", "Dev").await;
    let adm = app.signup("adm@example.com", "Adm").await;
    let eve = app.signup("eve@example.com", "Eve").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    app.add_member(&org, &dev, "developer").await;
    app.add_member(&org, &adm, "admin").await;
    let path = format!("/v1/orgs/{org}/settings");
    app.get(&path, Some(&dev.access)).await.expect(403);
    put(&app, &dev.access, &org, json!({}), None).await.expect(403);
    app.get(&path, Some(&eve.access)).await.expect(404);
    app.get(&path, Some(SERVICE_TOKEN)).await.expect(403);
    app.enrol_mfa(&adm).await;
    put(&app, &adm.access, &org, json!({ "security": { "mfa_required": true } }), None).await.expect(200);
    // From here the org refuses its members without MFA (the owner too); the admin token reads.
    let r = app.get(&path, Some(&ada.access)).await.expect(403);
    assert_eq!(r.code(), "mfa_required");
    let r = app.get(&path, Some(ADMIN_TOKEN)).await.expect(200);
    assert_eq!(r.body["data"]["security"]["mfa_required"], true);
}
