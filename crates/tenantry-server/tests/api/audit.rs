//! The audit log (SPEC 9): reading with filters and stable pagination, plan gating, CSV and JSON
//! Lines exports, host apps' own events, security events, and the hash chains that
//! `tenantry audit verify` walks.

use std::collections::HashSet;

use chrono::{Duration, SecondsFormat};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use tenantry_core::domain::audit::ChainBreak;
use tenantry_core::domain::ids::{OrgId, OrgRef};
use tenantry_core::service::audit::{verify_audit_chains, ChainReport};

use crate::common::{spawn_app, Account, TestApp, ADMIN_TOKEN, HOST_TOKEN, PASSWORD};

/// Ada's org on `plan`.
async fn org_on(app: &TestApp, plan: &str) -> (Account, String) {
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, plan).await;
    (ada, org)
}

fn events_path(org: &str, query: &str) -> String {
    format!("/v1/orgs/{org}/audit-events?{query}")
}

async fn actions(app: &TestApp, token: &str, org: &str, query: &str) -> Vec<String> {
    let r = app.get(&events_path(org, query), Some(token)).await.expect(200);
    r.body["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

async fn host_event(app: &TestApp, org: &str, body: Value) -> crate::common::Response {
    app.post(&format!("/v1/orgs/{org}/audit-events"), Some(HOST_TOKEN), body).await
}

fn deploy(target: &str) -> Value {
    json!({
        "actor": { "type": "user", "id": "host-user-1" },
        "action": "deploy.created",
        "target": { "type": "deployment", "id": target },
        "metadata": { "region": "eu" },
    })
}

#[tokio::test]
async fn reading_needs_the_plan_feature_the_permission_and_membership() {
    let app = spawn_app().await;
    let (ada, org) = org_on(&app, "free").await;
    let r = app.get(&events_path(&org, ""), Some(&ada.access)).await.expect(402);
    assert_eq!(r.code(), "plan_limit_reached");
    assert_eq!(r.body["error"]["details"]["feature"], "audit_log");
    let export = app.get(&format!("/v1/orgs/{org}/audit-events/export?format=csv"), Some(&ada.access)).await;
    assert_eq!(export.expect(402).code(), "plan_limit_reached");

    app.set_plan(&org, "starter").await;
    assert_eq!(actions(&app, &ada.access, &org, "").await, ["org.plan_changed", "org.created"]);

    let bob = app.signup("bob@example.com", "Bob").await;
    app.add_member(&org, &bob, "developer").await;
    assert_eq!(app.get(&events_path(&org, ""), Some(&bob.access)).await.expect(403).code(), "forbidden");

    let eve = app.signup("eve@example.com", "Eve").await;
    app.get(&events_path(&org, ""), Some(&eve.access)).await.expect(404);

    let reader = app.create_key(&ada, &org, &["audit.view"]).await;
    app.get(&events_path(&org, ""), Some(&reader.secret)).await.expect(200);
    let other = app.create_key(&ada, &org, &["endpoints.view"]).await;
    assert_eq!(app.get(&events_path(&org, ""), Some(&other.secret)).await.expect(403).code(), "scope_missing");
}

#[tokio::test]
async fn filters_narrow_by_actor_action_target_and_time() {
    let app = spawn_app().await;
    let (ada, org) = org_on(&app, "team").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    app.add_member(&org, &bob, "developer").await;
    app.clock.advance(Duration::minutes(1));
    let start = app.clock_now();

    app.clock.advance(Duration::minutes(3));
    app.patch(&format!("/v1/orgs/{org}"), Some(&ada.access), json!({ "name": "Acme 2" })).await.expect(200);
    app.clock.advance(Duration::minutes(3));
    let middle = app.clock_now();
    app.patch(&format!("/v1/orgs/{org}/members/{}", bob.user_id), Some(&ada.access), json!({ "role": "viewer" }))
        .await
        .expect(200);
    app.clock.advance(Duration::minutes(3));
    app.post(
        &format!("/v1/orgs/{org}/roles"),
        Some(&ada.access),
        json!({ "key": "auditor", "name": "Auditor", "permissions": ["audit.view"] }),
    )
    .await
    .expect(201);

    let all = actions(&app, &ada.access, &org, "").await;
    assert_eq!(
        all,
        ["role.created", "member.role_changed", "org.updated", "member.added", "org.plan_changed", "org.created"]
    );
    assert_eq!(actions(&app, &ada.access, &org, "action=org.updated").await, ["org.updated"]);
    // A prefix ends with a dot; `_` in it is not a wildcard.
    assert_eq!(actions(&app, &ada.access, &org, "action=member.").await, ["member.role_changed", "member.added"]);
    assert_eq!(actions(&app, &ada.access, &org, "action=org.").await.len(), 3);
    assert!(actions(&app, &ada.access, &org, "action=org_").await.is_empty());
    assert_eq!(
        actions(&app, &ada.access, &org, &format!("target={}", bob.user_id)).await,
        ["member.role_changed", "member.added"]
    );
    // The admin changed the plan and added Bob; Ada did the rest.
    assert_eq!(actions(&app, &ada.access, &org, &format!("actor={}", ada.user_id)).await.len(), 4);
    assert_eq!(actions(&app, &ada.access, &org, "actor=admin").await, ["member.added", "org.plan_changed"]);

    let at = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true).replace('+', "%2B");
    assert_eq!(
        actions(&app, &ada.access, &org, &format!("since={}", at(middle))).await,
        ["role.created", "member.role_changed"]
    );
    assert_eq!(
        actions(&app, &ada.access, &org, &format!("since={}&until={}", at(start), at(middle))).await,
        ["org.updated"]
    );
    assert_eq!(
        actions(&app, &ada.access, &org, &format!("action=member.&since={}", at(start))).await,
        ["member.role_changed"]
    );

    let bad = app.get(&events_path(&org, "since=yesterday"), Some(&ada.access)).await.expect(400);
    assert_eq!(bad.body["error"]["details"]["field"], "since");
    let bad = app.get(&events_path(&org, "cursor=garbage"), Some(&ada.access)).await.expect(400);
    assert_eq!(bad.code(), "invalid_request");
}

#[tokio::test]
async fn pages_neither_repeat_nor_skip_when_events_arrive_between_them() {
    let app = spawn_app().await;
    let (_ada, org) = org_on(&app, "team").await;
    for i in 0..7 {
        host_event(&app, &org, deploy(&format!("d{i}"))).await.expect(201);
    }
    // 2 events from set-up (org.created, org.plan_changed) + 7 deploys.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("limit=3&cursor={c}"),
            None => "limit=3".to_owned(),
        };
        let r = app.get(&events_path(&org, &query), Some(ADMIN_TOKEN)).await.expect(200);
        seen.extend(r.body["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        // New events keep arriving while the pages are read.
        host_event(&app, &org, deploy("late")).await.expect(201);
        match r.body["pagination"]["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 9, "every event that existed before the first page, once");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 9);
}

#[tokio::test]
async fn host_apps_add_events_that_are_validated() {
    let app = spawn_app().await;
    let (ada, org) = org_on(&app, "team").await;
    let occurred = (app.clock_now() - Duration::hours(2)).to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut body = deploy("dep_1");
    body["occurred_at"] = json!(occurred);
    let created = host_event(&app, &org, body).await.expect(201).body["data"].clone();
    assert_eq!(created["action"], "deploy.created");
    assert_eq!(created["org_id"], org);
    assert_eq!(created["actor"], json!({ "type": "user", "id": "host-user-1" }));
    assert_eq!(created["occurred_at"], occurred);
    let listed = app.get(&events_path(&org, "action=deploy.created"), Some(&ada.access)).await.expect(200);
    assert_eq!(listed.body["data"][0], created);

    // Only host apps (and the instance admin) add events.
    let r = app.post(&format!("/v1/orgs/{org}/audit-events"), Some(&ada.access), deploy("x")).await;
    assert_eq!(r.expect(403).code(), "forbidden");
    app.post(&format!("/v1/orgs/{org}/audit-events"), Some(ADMIN_TOKEN), deploy("x")).await.expect(201);
    host_event(&app, &OrgId::new().to_string(), deploy("x")).await.expect(404);

    let refused = |field: &'static str, change: Box<dyn Fn(&mut Value)>| {
        let mut body = deploy("x");
        change(&mut body);
        (field, body)
    };
    let cases = [
        refused("action", Box::new(|b| b["action"] = json!("Deploy.Created"))),
        refused("action", Box::new(|b| b["action"] = json!("deploy"))),
        refused("action", Box::new(|b| b["action"] = json!("deploy.créé"))),
        // Tenantry's own namespaces cannot be forged.
        refused("action", Box::new(|b| b["action"] = json!("member.removed"))),
        refused("actor.id", Box::new(|b| b["actor"]["id"] = json!(""))),
        refused("target.id", Box::new(|b| b["target"]["id"] = json!("x".repeat(201)))),
        refused("metadata", Box::new(|b| b["metadata"] = json!([1, 2]))),
        refused("metadata", Box::new(|b| b["metadata"] = json!({ "blob": "x".repeat(17 * 1024) }))),
        refused("occurred_at", Box::new(|b| b["occurred_at"] = json!("2999-01-01T00:00:00Z"))),
        refused("occurred_at", Box::new(|b| b["occurred_at"] = json!("last tuesday"))),
        refused("action", Box::new(|b| b.as_object_mut().unwrap().remove("action").map(drop).unwrap_or(()))),
    ];
    for (field, body) in cases {
        let r = host_event(&app, &org, body.clone()).await.expect(400);
        assert_eq!(r.body["error"]["details"]["field"], field, "body {body}");
    }
    assert_eq!(actions(&app, ADMIN_TOKEN, &org, "action=deploy.").await.len(), 2, "refused events leave no row");
}

/// Parses CSV text back into records, header first.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn exports_match_the_list_in_csv_and_json_lines() {
    let app = spawn_app().await;
    let (ada, org) = org_on(&app, "team").await;
    for i in 0..5 {
        host_event(&app, &org, deploy(&format!("dep_{i}"))).await.expect(201);
    }
    let listed = app.get(&events_path(&org, "limit=100"), Some(&ada.access)).await.expect(200).body["data"].clone();
    let listed = listed.as_array().unwrap();

    let url = |format: &str, query: &str| format!("/v1/orgs/{org}/audit-events/export?format={format}{query}");
    let jsonl = app.call_with(Method::GET, &url("jsonl", ""), Some(&ada.access), &[], None).await.expect(200);
    assert_eq!(jsonl.headers["content-type"], "application/jsonl");
    let lines: Vec<Value> = jsonl.body.as_str().unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(&lines, listed, "JSON Lines holds exactly what the list shows, in the same order");

    let csv = app.call_with(Method::GET, &url("csv", ""), Some(&ada.access), &[], None).await.expect(200);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.headers["content-disposition"].to_str().unwrap().contains("audit-events.csv"));
    let rows = parse_csv(csv.body.as_str().unwrap());
    assert_eq!(rows[0][..5], ["id", "occurred_at", "actor_type", "actor_id", "action"]);
    assert_eq!(rows.len(), listed.len() + 1);
    for (row, event) in rows[1..].iter().zip(listed) {
        assert_eq!(row[0], event["id"].as_str().unwrap());
        assert_eq!(row[4], event["action"].as_str().unwrap());
        assert_eq!(serde_json::from_str::<Value>(&row[9]).unwrap(), event["metadata"]);
        assert_eq!(row[10], event["hash"].as_str().unwrap());
    }

    // The same filters as the list.
    let filtered = app.call_with(Method::GET, &url("csv", "&action=org."), Some(&ada.access), &[], None).await;
    let rows = parse_csv(filtered.expect(200).body.as_str().unwrap());
    assert!(rows[1..].iter().all(|r| r[4].starts_with("org.")));
    assert_eq!(rows.len(), 1 + 2);

    let bad = app.get(&url("xml", ""), Some(&ada.access)).await.expect(400);
    assert_eq!(bad.body["error"]["details"]["field"], "format");
}

#[tokio::test]
async fn csv_exports_neutralise_spreadsheet_formulas() {
    let app = spawn_app().await;
    let (ada, org) = org_on(&app, "team").await;
    let hostile = ["=HYPERLINK(\"http://x\",\"y\")", "+SUM(1,2)", "-1+1", "@cmd", "\tTAB", "a,\"b\"\nc"];
    for value in hostile {
        let body = json!({
            "actor": { "type": "user", "id": value },
            "action": "doc.shared",
            "target": { "type": "doc", "id": value },
        });
        host_event(&app, &org, body).await.expect(201);
    }
    let csv = app
        .call_with(
            Method::GET,
            &format!("/v1/orgs/{org}/audit-events/export?format=csv&action=doc.shared"),
            Some(&ada.access),
            &[],
            None,
        )
        .await
        .expect(200);
    let rows = parse_csv(csv.body.as_str().unwrap());
    let mut exported: Vec<&str> = rows[1..].iter().map(|r| r[6].as_str()).collect();
    exported.reverse();
    assert_eq!(exported, ["'=HYPERLINK(\"http://x\",\"y\")", "'+SUM(1,2)", "'-1+1", "'@cmd", "'\tTAB", "a,\"b\"\nc"]);
    assert!(rows[1..].iter().all(|r| r[3] == r[6]), "actor cells are neutralised the same way");
}

#[tokio::test]
async fn logins_and_refused_requests_are_security_events_that_cannot_flood_the_log() {
    let app = spawn_app().await;
    let (ada, org) = org_on(&app, "team").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    app.add_member(&org, &bob, "viewer").await;

    app.post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": PASSWORD })).await.expect(200);
    for _ in 0..3 {
        let wrong = json!({ "email": "ada@example.com", "password": "wrong password" });
        app.post("/v1/auth/login", None, wrong).await.expect(401);
    }
    app.post("/v1/auth/login", None, json!({ "email": "nobody@example.com", "password": "wrong password" }))
        .await
        .expect(401);
    for _ in 0..20 {
        app.get("/v1/me", Some("not-a-token")).await.expect(401);
    }

    let instance = app.get("/v1/admin/audit-events?action=security.&limit=100", Some(ADMIN_TOKEN)).await.expect(200);
    let instance = instance.body["data"].as_array().unwrap().clone();
    let of = |action: &str| instance.iter().filter(|e| e["action"] == action).cloned().collect::<Vec<_>>();
    let login = of("security.login");
    assert_eq!(login.len(), 1);
    assert_eq!(login[0]["actor"], json!({ "type": "user", "id": ada.user_id }));
    let failed = of("security.login_failed");
    assert_eq!(failed.len(), 2, "one per account and client a minute: {failed:?}");
    assert!(failed.iter().any(|e| e["target"] == json!({ "type": "user", "id": ada.user_id })));
    assert!(failed.iter().any(|e| e["target"] == json!({ "type": "email", "id": "nobody@example.com" })));
    assert!(failed.iter().all(|e| e["actor"] == json!({ "type": "anonymous", "id": "127.0.0.1" })));
    let unauthenticated = of("security.unauthenticated");
    assert_eq!(unauthenticated.len(), 1, "20 refusals, one event");
    assert_eq!(unauthenticated[0]["target"]["id"], "GET /v1/me");
    assert_eq!(unauthenticated[0]["metadata"]["status"], 401);

    // A member refused in their org: the org's log shows it.
    let invite = json!({ "email": "carol@example.com", "role": "viewer" });
    for _ in 0..5 {
        let r = app.post(&format!("/v1/orgs/{org}/invitations"), Some(&bob.access), invite.clone()).await;
        r.expect(403);
    }
    let denied = app.get(&events_path(&org, "action=security.forbidden"), Some(&ada.access)).await.expect(200);
    let denied = denied.body["data"].as_array().unwrap().clone();
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["actor"], json!({ "type": "user", "id": bob.user_id }));
    assert_eq!(denied[0]["metadata"]["code"], "forbidden");
    assert_eq!(denied[0]["target"]["id"], format!("POST /v1/orgs/{org}/invitations"));

    // A minute later the next refusal is recorded with the count of those left out.
    app.clock.advance(Duration::seconds(61));
    app.post(&format!("/v1/orgs/{org}/invitations"), Some(&bob.access), invite).await.expect(403);
    let denied = app.get(&events_path(&org, "action=security.forbidden"), Some(&ada.access)).await.expect(200);
    assert_eq!(denied.body["data"][0]["metadata"]["left_out"], 4);

    // Someone with no standing in the org cannot write into its log by being refused there.
    let key = app.create_key(&ada, &ada.personal_org, &["endpoints.view"]).await;
    app.post(&format!("/v1/orgs/{org}/transfer-ownership"), Some(&key.secret), json!({})).await;
    let all = actions(&app, &ada.access, &org, "action=security.&limit=100").await;
    assert_eq!(all, ["security.forbidden", "security.forbidden"]);
}

/// Every chain's report, by org (`None`: the instance chain).
async fn verify(app: &TestApp) -> Vec<ChainReport> {
    verify_audit_chains(&app.store, None).await.unwrap()
}

fn broken(reports: &[ChainReport]) -> Vec<(Option<OrgId>, ChainBreak)> {
    reports.iter().filter_map(|r| r.broken.as_ref().map(|b| (r.chain, b.kind))).collect()
}

#[tokio::test]
async fn verify_passes_an_intact_log_after_a_thousand_concurrent_changes() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let mut orgs = Vec::new();
    for name in ["One", "Two", "Three", "Four"] {
        orgs.push(app.create_org(&ada, name).await["id"].as_str().unwrap().to_owned());
    }
    let changes = (0..1000).map(|i| {
        let (app, access, org) = (&app, ada.access.clone(), orgs[i % orgs.len()].clone());
        async move {
            app.patch(&format!("/v1/orgs/{org}"), Some(&access), json!({ "name": format!("Name {i}") }))
                .await
                .expect(200);
        }
    });
    futures_util::stream::iter(changes).buffer_unordered(32).collect::<Vec<()>>().await;

    let reports = verify(&app).await;
    assert!(broken(&reports).is_empty(), "{reports:?}");
    for org in &orgs {
        let report = reports.iter().find(|r| r.chain.map(|o| o.to_string()).as_deref() == Some(org.as_str())).unwrap();
        assert_eq!(report.checked, 1 + 250, "org.created and its 250 updates");
    }
    let by_slug = verify_audit_chains(&app.store, Some(&OrgRef::from("one"))).await.unwrap();
    assert_eq!(by_slug.len(), 1);
    assert_eq!(by_slug[0].checked, 251);
}

/// An org with `n` events after its creation.
async fn org_with_events(app: &TestApp, n: usize) -> (String, Vec<i64>) {
    let (_ada, org) = org_on(app, "team").await;
    for i in 0..n {
        host_event(app, &org, deploy(&format!("dep_{i}"))).await.expect(201);
    }
    let seqs: Vec<i64> = sqlx::query_scalar("SELECT seq FROM audit_events WHERE org_id = $1 ORDER BY seq")
        .bind(&org)
        .fetch_all(&app.db)
        .await
        .unwrap();
    (org, seqs)
}

fn chain_of(org: &str) -> Option<OrgId> {
    Some(org.parse().unwrap())
}

#[tokio::test]
async fn verify_finds_an_edited_row() {
    let app = spawn_app().await;
    let (org, seqs) = org_with_events(&app, 4).await;
    sqlx::query("UPDATE audit_events SET actor_id = 'someone-else' WHERE seq = $1")
        .bind(seqs[3])
        .execute(&app.db)
        .await
        .unwrap();
    let reports = verify(&app).await;
    assert_eq!(broken(&reports), [(chain_of(&org), ChainBreak::Altered)]);
    let report = reports.iter().find(|r| r.broken.is_some()).unwrap();
    assert_eq!(report.broken.as_ref().unwrap().seq, seqs[3]);
}

#[tokio::test]
async fn verify_finds_a_deleted_row() {
    let app = spawn_app().await;
    let (org, seqs) = org_with_events(&app, 4).await;
    sqlx::query("DELETE FROM audit_events WHERE seq = $1").bind(seqs[2]).execute(&app.db).await.unwrap();
    let reports = verify(&app).await;
    assert_eq!(broken(&reports), [(chain_of(&org), ChainBreak::Unlinked)]);
    assert_eq!(reports.iter().find_map(|r| r.broken.as_ref()).unwrap().seq, seqs[3], "found at the row after the gap");
}

/// The columns of an audit row but its position.
type Stored =
    (String, String, String, String, String, String, i64, Option<String>, Option<String>, String, String, String);
const STORED: &str =
    "id, actor_type, actor_id, action, target_type, target_id, occurred_at, ip, user_agent, metadata, prev_hash, hash";

async fn read_row(app: &TestApp, seq: i64) -> Stored {
    sqlx::query_as(&format!("SELECT {STORED} FROM audit_events WHERE seq = $1"))
        .bind(seq)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn write_row(app: &TestApp, seq: i64, row: Stored) {
    let assignments: Vec<String> = STORED.split(", ").enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
    sqlx::query(&format!("UPDATE audit_events SET {} WHERE seq = $13", assignments.join(", ")))
        .bind(row.0)
        .bind(row.1)
        .bind(row.2)
        .bind(row.3)
        .bind(row.4)
        .bind(row.5)
        .bind(row.6)
        .bind(row.7)
        .bind(row.8)
        .bind(row.9)
        .bind(row.10)
        .bind(row.11)
        .bind(seq)
        .execute(&app.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn verify_finds_a_swapped_pair() {
    let app = spawn_app().await;
    let (org, seqs) = org_with_events(&app, 4).await;
    // Exchange two rows whole (but for their positions): the log now tells them in the other order.
    let (a, b) = (seqs[1], seqs[2]);
    let (row_a, row_b) = (read_row(&app, a).await, read_row(&app, b).await);
    sqlx::query("UPDATE audit_events SET id = 'moving' WHERE seq = $1").bind(a).execute(&app.db).await.unwrap();
    write_row(&app, b, row_a).await;
    write_row(&app, a, row_b).await;

    let reports = verify(&app).await;
    assert_eq!(broken(&reports), [(chain_of(&org), ChainBreak::Unlinked)]);
    assert_eq!(reports.iter().find_map(|r| r.broken.as_ref()).unwrap().seq, a);
}
