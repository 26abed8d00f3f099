//! SPEC 5: usage reports and metering — limits, concurrency, gauges, monthly counters and
//! idempotency keys.

use std::collections::BTreeSet;

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use tokio::task::JoinSet;

use crate::common::{spawn_app, ADMIN_TOKEN, SERVICE_TOKEN};

#[tokio::test]
async fn usage_has_exactly_the_spec_shape_with_minus_one_for_unlimited() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = &ada.personal_org;
    let r = app.get(&format!("/v1/orgs/{org}/usage"), Some(&ada.access)).await.expect(200);
    let keys: BTreeSet<&str> = r.body["data"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["member_count", "endpoint_count", "requests_this_month", "limits"]));
    assert_eq!(r.body["data"]["member_count"], 1);
    assert_eq!(r.body["data"]["endpoint_count"], 0);
    assert_eq!(r.body["data"]["requests_this_month"], 0);
    assert_eq!(r.body["data"]["limits"], json!({ "members": 1, "endpoints": 5, "requests": 500 }));

    app.meter(org, "endpoints", 2).await.expect(200);
    app.meter(org, "requests", 40).await.expect(200);
    app.set_plan(org, "enterprise").await;
    let r = app.get(&format!("/v1/orgs/{org}/usage"), Some(&ada.access)).await.expect(200);
    assert_eq!(r.body["data"]["endpoint_count"], 2);
    assert_eq!(r.body["data"]["requests_this_month"], 40);
    assert_eq!(r.body["data"]["limits"], json!({ "members": -1, "endpoints": -1, "requests": -1 }));
}

#[tokio::test]
async fn usage_is_for_members_and_host_apps_and_v1_usage_follows_the_active_org() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let acme = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.meter(&acme, "endpoints", 3).await.expect(200);

    app.get(&format!("/v1/orgs/{acme}/usage"), Some(&bob.access)).await.expect(404);
    app.get(&format!("/v1/orgs/{acme}/usage"), Some(SERVICE_TOKEN)).await.expect(200);
    app.get(&format!("/v1/orgs/{acme}/usage"), Some(ADMIN_TOKEN)).await.expect(200);

    // The token's org is the personal org; the header names another of the user's orgs.
    let r = app.get("/v1/usage", Some(&ada.access)).await.expect(200);
    assert_eq!(r.body["data"]["endpoint_count"], 0);
    let r = app
        .call_with(reqwest::Method::GET, "/v1/usage", Some(&ada.access), &[("x-organization-id", "acme")], None)
        .await
        .expect(200);
    assert_eq!(r.body["data"]["endpoint_count"], 3);
    app.call_with(reqwest::Method::GET, "/v1/usage", Some(&bob.access), &[("x-organization-id", "acme")], None)
        .await
        .expect(404);
    // Operators name the org in the path.
    let r = app.get("/v1/usage", Some(SERVICE_TOKEN)).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "org");
}

#[tokio::test]
async fn only_host_apps_meter_and_bad_input_is_refused() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = &ada.personal_org;
    let path = format!("/v1/orgs/{org}/usage/endpoints");
    // Members do not meter, not even the owner.
    let r = app.post(&path, Some(&ada.access), json!({ "delta": 1 })).await.expect(403);
    assert_eq!(r.code(), "forbidden");
    app.post(&path, Some(ADMIN_TOKEN), json!({ "delta": 1 })).await.expect(200);
    app.post(&format!("/v1/orgs/{org}/usage/widgets"), Some(SERVICE_TOKEN), json!({ "delta": 1 })).await.expect(404);
    app.post("/v1/orgs/no-such-org/usage/endpoints", Some(SERVICE_TOKEN), json!({ "delta": 1 })).await.expect(404);
    for (metric, delta) in [("endpoints", 0), ("requests", -1), ("requests", 0), ("endpoints", 2_000_000_000)] {
        let r = app.meter(org, metric, delta).await.expect(400);
        assert_eq!(r.body["error"]["details"]["field"], "delta", "{metric} {delta}");
    }
    let r = app
        .call_with(
            reqwest::Method::POST,
            &path,
            Some(SERVICE_TOKEN),
            &[("idempotency-key", &"k".repeat(256))],
            Some(json!({ "delta": 1 })),
        )
        .await
        .expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "Idempotency-Key");
    let r = app.get(&format!("/v1/orgs/{org}/usage"), Some(&ada.access)).await.expect(200);
    assert_eq!(r.body["data"]["endpoint_count"], 1, "only the admin's increment counted");
}

#[tokio::test]
async fn fifty_concurrent_increments_against_a_limit_of_five_accept_exactly_five() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = ada.personal_org.clone();
    let mut set = JoinSet::new();
    for _ in 0..50 {
        let (client, url) = (app.client.clone(), format!("{}/v1/orgs/{org}/usage/endpoints", app.base));
        set.spawn(async move {
            client.post(url).bearer_auth(SERVICE_TOKEN).json(&json!({ "delta": 1 })).send().await.unwrap().status()
        });
    }
    let statuses: Vec<u16> = set.join_all().await.into_iter().map(|s| s.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 402).count(), 45, "{statuses:?}");
    let r = app.get(&format!("/v1/orgs/{org}/usage"), Some(&ada.access)).await.expect(200);
    assert_eq!(r.body["data"]["endpoint_count"], 5);
}

#[tokio::test]
async fn an_increment_past_the_limit_is_402_changes_nothing_and_is_audited_once_an_hour() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = &ada.personal_org;
    let r = app.meter(org, "endpoints", 4).await.expect(200);
    assert_eq!(r.body["data"], json!({ "metric": "endpoints", "value": 4, "limit": 5, "period": null }));
    let before = app.audit_count().await;
    let r = app.meter(org, "endpoints", 2).await.expect(402);
    assert_eq!(r.code(), "plan_limit_reached");
    assert_eq!(r.body["error"]["details"]["limit"], 5);
    assert_eq!(r.body["error"]["details"]["value"], 4);
    assert_eq!(app.audit_count_of("usage.limit_refused").await, 1);
    assert_eq!(app.audit_count().await, before + 1, "accepted increments are not audited; the refusal is");
    let (actor_type, metadata): (String, String) =
        sqlx::query_as("SELECT actor_type, metadata FROM audit_events WHERE action = 'usage.limit_refused'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(actor_type, "service");
    let metadata: serde_json::Value = serde_json::from_str(&metadata).unwrap();
    assert_eq!((metadata["metric"].as_str(), metadata["delta"].as_i64()), (Some("endpoints"), Some(2)));

    // Repeated refusals within the hour add no events; after it, the next one does.
    app.meter(org, "endpoints", 2).await.expect(402);
    assert_eq!(app.audit_count_of("usage.limit_refused").await, 1);
    app.clock.advance(Duration::minutes(61));
    app.meter(org, "endpoints", 2).await.expect(402);
    assert_eq!(app.audit_count_of("usage.limit_refused").await, 2);

    // Exactly filling the limit is fine.
    app.meter(org, "endpoints", 1).await.expect(200);
    let r = app.meter(org, "endpoints", 1).await.expect(402);
    assert_eq!(r.body["error"]["details"]["value"], 5);
}

#[tokio::test]
async fn a_gauge_never_goes_below_zero() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = &ada.personal_org;
    let r = app.meter(org, "endpoints", -1).await.expect(409);
    assert_eq!(r.code(), "usage_below_zero");
    app.meter(org, "endpoints", 2).await.expect(200);
    app.meter(org, "endpoints", -3).await.expect(409);
    let r = app.meter(org, "endpoints", -2).await.expect(200);
    assert_eq!(r.body["data"]["value"], 0);
    assert_eq!(app.audit_count_of("usage.limit_refused").await, 0);
}

#[tokio::test]
async fn monthly_counters_restart_each_utc_calendar_month() {
    let app = spawn_app().await;
    app.clock.set(Utc.with_ymd_and_hms(2030, 1, 31, 23, 50, 0).unwrap());
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = &ada.personal_org;
    app.meter(org, "endpoints", 3).await.expect(200);
    let r = app.meter(org, "requests", 500).await.expect(200);
    assert_eq!(r.body["data"]["period"], "2030-01");
    app.meter(org, "requests", 1).await.expect(402);

    app.clock.advance(Duration::minutes(10));
    let r = app.meter(org, "requests", 1).await.expect(200);
    assert_eq!(r.body["data"]["period"], "2030-02");
    assert_eq!(r.body["data"]["value"], 1);
    let r = app.get(&format!("/v1/orgs/{org}/usage"), Some(SERVICE_TOKEN)).await.expect(200);
    assert_eq!(r.body["data"]["requests_this_month"], 1);
    assert_eq!(r.body["data"]["endpoint_count"], 3, "gauges do not restart");
}

#[tokio::test]
async fn an_idempotency_key_makes_a_retry_return_the_first_answer_and_count_once() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = &ada.personal_org;
    let path = format!("/v1/orgs/{org}/usage/endpoints");
    let send = |key: &'static str, delta: i64| {
        let path = path.clone();
        let app = &app;
        async move {
            app.call_with(
                reqwest::Method::POST,
                &path,
                Some(SERVICE_TOKEN),
                &[("idempotency-key", key)],
                Some(json!({ "delta": delta })),
            )
            .await
        }
    };
    let first = send("create-endpoint-1", 1).await.expect(200);
    assert!(first.headers.get("idempotent-replayed").is_none());
    app.meter(org, "endpoints", 1).await.expect(200);
    let retry = send("create-endpoint-1", 1).await.expect(200);
    assert_eq!(retry.body, first.body, "the first answer, although the value has moved since");
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    let r = app.get(&format!("/v1/orgs/{org}/usage"), Some(&ada.access)).await.expect(200);
    assert_eq!(r.body["data"]["endpoint_count"], 2);

    // The same key with another delta is a different call.
    let r = send("create-endpoint-1", 2).await.expect(409);
    assert_eq!(r.code(), "idempotency_key_reused");

    // Keys are per metric: the same key on another metric is a new call.
    app.call_with(
        reqwest::Method::POST,
        &format!("/v1/orgs/{org}/usage/requests"),
        Some(SERVICE_TOKEN),
        &[("idempotency-key", "create-endpoint-1")],
        Some(json!({ "delta": 1 })),
    )
    .await
    .expect(200);

    // A refusal is remembered too.
    send("too-many", 10).await.expect(402);
    app.set_plan(org, "starter").await;
    send("too-many", 10).await.expect(402);
    send("too-many-retry-with-new-key", 10).await.expect(200);

    // After 24 hours a key is forgotten.
    app.clock.advance(Duration::hours(25));
    let r = send("create-endpoint-1", 1).await.expect(200);
    assert_eq!(r.body["data"]["value"], 13);
}

#[tokio::test]
async fn concurrent_retries_with_one_key_count_once() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = ada.personal_org.clone();
    let mut set = JoinSet::new();
    for _ in 0..10 {
        let (client, url) = (app.client.clone(), format!("{}/v1/orgs/{org}/usage/requests", app.base));
        set.spawn(async move {
            let r = client
                .post(url)
                .bearer_auth(SERVICE_TOKEN)
                .header("idempotency-key", "batch-7")
                .json(&json!({ "delta": 3 }))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: serde_json::Value = r.json().await.unwrap();
            (status, body["data"]["value"].clone())
        });
    }
    for (status, value) in set.join_all().await {
        assert_eq!((status, value), (200, json!(3)));
    }
    let r = app.get(&format!("/v1/orgs/{org}/usage"), Some(&ada.access)).await.expect(200);
    assert_eq!(r.body["data"]["requests_this_month"], 3);
}
