//! The host apps' event log (SPEC 16): one event per change, written with it; pulled in pages
//! oldest first, by type; never skipping under concurrent writers; never carrying a secret.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{spawn_app, ADMIN_TOKEN, HOST_TOKEN, SERVICE_TOKEN};

#[tokio::test]
async fn each_change_writes_its_event_once_and_a_refused_change_writes_none() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    assert_eq!(app.event_types(2).await, ["user.created", "user.created"]);

    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    app.add_member(&org, &bob, "viewer").await;
    let path = format!("/v1/orgs/{org}/members/{}", bob.user_id);
    app.patch(&path, Some(&ada.access), json!({ "role": "admin" })).await.expect(200);
    let key = app.create_key(&ada, &org, &["endpoints.view"]).await;
    app.delete(&format!("/v1/orgs/{org}/members/{}", bob.user_id), Some(&ada.access)).await.expect(204);
    let expected = [
        "user.created",
        "user.created",
        "org.created",
        "org.plan_changed",
        "member.added",
        "member.role_changed",
        "api_key.created",
        "member.removed",
    ];
    let events = app.events_once(expected.len()).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, expected);

    // Each event is the object after the change, in the org it happened in.
    let added = &events[4];
    assert_eq!(added["org_id"], org.as_str());
    assert_eq!(added["data"]["user_id"], bob.user_id.as_str());
    assert_eq!(added["data"]["role"], "viewer");
    assert_eq!(events[5]["data"]["role"], "admin");
    assert_eq!(events[6]["data"]["id"], key.id.as_str());
    // Never a secret.
    let log = serde_json::to_string(&events).unwrap();
    assert!(!log.contains(&key.secret), "the key's secret is in the event log");
    assert!(!log.contains("password"), "{log}");

    // Refused changes write nothing.
    app.patch(&path, Some(&ada.access), json!({ "role": "admin" })).await.expect(404);
    app.post(&format!("/v1/orgs/{org}/teams"), Some(&ada.access), json!({ "name": "" })).await.expect(400);
    app.post("/v1/orgs", Some(&ada.access), json!({ "name": "Acme", "slug": "acme" })).await;
    let before = app.events_once(expected.len()).await.len();
    app.post("/v1/orgs", Some(&ada.access), json!({ "name": "Again", "slug": "acme" })).await.expect(409);
    assert_eq!(app.events().await.len(), before);
}

#[tokio::test]
async fn the_log_is_read_in_pages_oldest_first_and_by_type() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    for name in ["One", "Two", "Three"] {
        app.create_org(&ada, name).await;
    }
    let all = app.events_once(4).await;
    assert_eq!(all.len(), 4);

    let first = app.get("/v1/events?limit=2", Some(ADMIN_TOKEN)).await.expect(200);
    let page: Vec<_> = first.body["data"].as_array().unwrap().iter().map(|e| e["id"].clone()).collect();
    assert_eq!(page, [all[0]["id"].clone(), all[1]["id"].clone()]);
    let next = first.body["pagination"]["next_cursor"].as_str().unwrap();
    assert_eq!(next, all[1]["id"]);
    let second = app.get(&format!("/v1/events?limit=2&after={next}"), Some(ADMIN_TOKEN)).await.expect(200);
    assert_eq!(second.body["data"][0]["id"], all[2]["id"]);
    assert_eq!(second.body["pagination"]["next_cursor"], json!(null));

    let orgs = app.get("/v1/events?types=org.", Some(HOST_TOKEN)).await.expect(200);
    assert_eq!(orgs.body["data"].as_array().unwrap().len(), 3);
    let exact = app.get("/v1/events?types=user.created,team.", Some(HOST_TOKEN)).await.expect(200);
    assert_eq!(exact.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(exact.body["data"][0]["type"], "user.created");

    // Bad input names its parameter; only the admin and granted host apps read.
    for (query, field) in
        [("types=Org.*", "types"), ("after=nope", "after"), ("limit=0", "limit"), ("limit=101", "limit"), ("x=1", "x")]
    {
        let r = app.get(&format!("/v1/events?{query}"), Some(ADMIN_TOKEN)).await.expect(400);
        assert_eq!(r.body["error"]["details"]["field"], field, "{query}: {}", r.body);
    }
    let unknown = format!("/v1/events?after=evt_{}", ulid::Ulid::new());
    app.get(&unknown, Some(ADMIN_TOKEN)).await.expect(400);
    app.get("/v1/events", Some(&ada.access)).await.expect(403);
    app.get("/v1/events", Some(SERVICE_TOKEN)).await.expect(403);
    app.get("/v1/events", None).await.expect(401);
    // A caller who may not read the log hears that, whatever cursor they send.
    app.get("/v1/events?after=nope", Some(&ada.access)).await.expect(403);
    app.get("/v1/events?after=nope", Some(SERVICE_TOKEN)).await.expect(403);
}

#[tokio::test]
async fn a_reader_polling_during_eight_concurrent_writers_misses_nothing_and_sees_nothing_twice() {
    let app = Arc::new(spawn_app().await);
    let ada = app.signup("ada@example.com", "Ada").await;
    // One org per writer, so their transactions do not wait for each other's org lock.
    let mut orgs = Vec::new();
    for w in 0..8 {
        let org = app.create_org(&ada, &format!("Org {w}")).await["id"].as_str().unwrap().to_owned();
        app.set_plan(&org, "enterprise").await;
        orgs.push(org);
    }
    let before = app.events_once(1 + 8 * 2).await.len();
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (app, token, org) = (app.clone(), ada.access.clone(), orgs[w].clone());
            tokio::spawn(async move {
                for i in 0..6 {
                    let body = json!({ "name": format!("Team {w}-{i}") });
                    app.post(&format!("/v1/orgs/{org}/teams"), Some(&token), body).await.expect(201);
                }
            })
        })
        .collect();
    // The reader continues from the last event it saw, as a host app does. An event that
    // committed behind its cursor would never be read, and the count would never reach 48.
    let mut seen: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < 48 {
        assert!(Instant::now() < deadline, "the reader saw {} of the 48 events", seen.len());
        let after = seen.last().cloned().unwrap_or_default();
        let page = app.get(&format!("/v1/events?types=team.&limit=3&after={after}"), Some(ADMIN_TOKEN)).await.expect(200);
        seen.extend(page.body["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an event was read twice");
    let logged: HashSet<String> = app
        .events_once(before + 48)
        .await
        .iter()
        .filter(|e| e["type"] == "team.created")
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(logged, seen.into_iter().collect::<HashSet<_>>());
}

#[tokio::test]
async fn events_are_kept_thirty_days() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    app.create_org(&ada, "Acme").await;
    assert_eq!(app.events_once(2).await.len(), 2);

    // A node prunes the log when it starts (and hourly after): 29 days on, nothing goes.
    app.clock.advance(chrono::Duration::days(29));
    app.another_node().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.events().await.len(), 2);
    app.signup("bob@example.com", "Bob").await;
    // Two days later the first two are past 30 days and go; Bob's, a day old, stays.
    app.clock.advance(chrono::Duration::days(2));
    app.another_node().await;
    for _ in 0..100 {
        let left = app.events().await;
        if left.len() == 1 {
            assert_eq!(left[0]["data"]["email"], "bob@example.com", "{left:?}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("events older than 30 days are still kept: {:?}", app.events().await);
}

/// After each call of an org's life, the log holds exactly the event that call wrote.
#[tokio::test]
async fn each_call_of_an_orgs_life_writes_exactly_its_event() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "enterprise").await;
    let mut seen = app.org_events_once(&org, 2).await.len();
    // Each step's call, then the one event it must add to the org's log.
    let mut step = |expected: &'static str| {
        let app = &app;
        let org = org.clone();
        let before = seen;
        seen += 1;
        async move {
            let events = app.org_events_once(&org, before + 1).await;
            let added: Vec<&str> = events[before..].iter().map(|e| e["type"].as_str().unwrap()).collect();
            assert_eq!(added, [expected], "after the call that writes {expected}");
        }
    };
    let base = format!("/v1/orgs/{org}");
    app.patch(&base, Some(&ada.access), json!({ "name": "Acme Robotics" })).await.expect(200);
    step("org.updated").await;
    app.put(&format!("{base}/settings"), Some(&ada.access), json!({ "retention_days": 30 })).await.expect(200);
    step("org.settings_updated").await;
    let invited = app
        .post(&format!("{base}/invitations"), Some(&ada.access), json!({ "email": "bob@example.com", "role": "viewer" }))
        .await
        .expect(201);
    step("invitation.created").await;
    let token = invited.body["data"]["token"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/invitations/{token}/decline"), Some(&bob.access), json!({})).await.expect(200);
    step("invitation.declined").await;
    let again = app
        .post(&format!("{base}/invitations"), Some(&ada.access), json!({ "email": "eve@example.com", "role": "viewer" }))
        .await
        .expect(201);
    step("invitation.created").await;
    let inv = again.body["data"]["id"].as_str().unwrap().to_owned();
    app.delete(&format!("{base}/invitations/{inv}"), Some(&ada.access)).await.expect(204);
    step("invitation.revoked").await;
    let role = json!({ "key": "support", "name": "Support", "permissions": ["endpoints.view"] });
    app.post(&format!("{base}/roles"), Some(&ada.access), role).await.expect(201);
    step("role.created").await;
    app.patch(&format!("{base}/roles/support"), Some(&ada.access), json!({ "name": "Helpdesk" })).await.expect(200);
    step("role.updated").await;
    app.delete(&format!("{base}/roles/support"), Some(&ada.access)).await.expect(204);
    step("role.deleted").await;
    let key = app.create_key(&ada, &org, &["endpoints.view"]).await;
    step("api_key.created").await;
    app.post(&format!("{base}/api-keys/{}/roll", key.id), Some(&ada.access), json!({})).await.expect(201);
    step("api_key.rolled").await;
    let team = app.post(&format!("{base}/teams"), Some(&ada.access), json!({ "name": "Core" })).await.expect(201);
    step("team.created").await;
    let team = team.body["data"]["id"].as_str().unwrap().to_owned();
    app.patch(&format!("{base}/teams/{team}"), Some(&ada.access), json!({ "name": "Platform" })).await.expect(200);
    step("team.updated").await;
    app.delete(&format!("{base}/teams/{team}"), Some(&ada.access)).await.expect(204);
    step("team.deleted").await;
    app.add_member(&org, &bob, "viewer").await;
    step("member.added").await;
    app.post(&format!("{base}/leave"), Some(&bob.access), json!({})).await.expect(204);
    step("member.removed").await;
}
