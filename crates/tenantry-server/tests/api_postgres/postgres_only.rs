//! What only holds on PostgreSQL: tenant isolation enforced by the database itself (proved as the
//! application role the service connects as), and several nodes sharing one database.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use sqlx::{AnyPool, Executor, Row};
use tenantry_core::store::CacheChange;
use tenantry_store::{ConnectOptions, Heard, SqlStore};

use crate::common::{spawn_app, Account, TestApp, HOST_TOKEN, SERVICE_TOKEN};

/// Every table holding an org's rows.
const TENANT_TABLES: &[&str] = &[
    "orgs",
    "memberships",
    "teams",
    "team_members",
    "custom_roles",
    "api_keys",
    "invitations",
    "usage_counters",
    "usage_idempotency",
    "org_settings",
    "audit_events",
    "api_key_rate_windows",
    "events",
    "deliveries",
];

/// The org-id column of a tenant table.
fn org_column(table: &str) -> &'static str {
    if table == "orgs" {
        "id"
    } else {
        "org_id"
    }
}

/// Two orgs with a row in every tenant table each.
async fn two_populated_orgs(app: &TestApp) -> [(Account, String); 2] {
    // A node alone keeps its rate-limit counts to itself; beside another it writes them.
    app.another_node().await;
    let mut orgs = Vec::new();
    for (email, name) in [("ada@example.com", "Ada"), ("bob@example.com", "Bob")] {
        let owner = app.signup(email, name).await;
        let org = app.create_org(&owner, &format!("{name} Corp")).await["id"].as_str().unwrap().to_owned();
        app.set_plan(&org, "team").await;
        app.post(
            &format!("/v1/orgs/{org}/roles"),
            Some(&owner.access),
            json!({ "key": "support", "name": "Support", "permissions": ["endpoints.view"] }),
        )
        .await
        .expect(201);
        app.post(&format!("/v1/orgs/{org}/teams"), Some(&owner.access), json!({ "name": "Core" })).await.expect(201);
        let team_member = json!({ "user_id": owner.user_id, "role": "lead" });
        app.post(&format!("/v1/orgs/{org}/teams/core/members"), Some(&owner.access), team_member).await.expect(201);
        let key = app.create_key(&owner, &org, &["endpoints.view"]).await;
        // A request with the key gives it a rate-limit window.
        app.get(&format!("/v1/orgs/{org}"), Some(&key.secret)).await.expect(200);
        app.post(
            &format!("/v1/orgs/{org}/invitations"),
            Some(&owner.access),
            json!({ "email": format!("guest-of-{email}"), "role": "viewer" }),
        )
        .await
        .expect(201);
        let meter = app
            .call_with(
                Method::POST,
                &format!("/v1/orgs/{org}/usage/endpoints"),
                Some(SERVICE_TOKEN),
                &[("idempotency-key", "first")],
                Some(json!({ "delta": 1 })),
            )
            .await;
        meter.expect(200);
        let settings = app.get(&format!("/v1/orgs/{org}/settings"), Some(&owner.access)).await.expect(200);
        let mut document = settings.body["data"].clone();
        document["retention_days"] = json!(30);
        document["notifications"]["slack_webhook_url"] = json!("https://hooks.slack.com/services/T0/B0/x");
        app.put(&format!("/v1/orgs/{org}/settings"), Some(&owner.access), document).await.expect(200);
        // A notification gives the org a delivery (to Slack; nobody answers, so it stays queued).
        let note = json!({ "subject": "Hello", "text": "A test" });
        app.post(&format!("/v1/orgs/{org}/notifications"), Some(HOST_TOKEN), note).await.expect(202);
        orgs.push((owner, org));
    }
    // Rate-limit windows reach the database when the node next shares its counts (every 250 ms).
    for _ in 0..100 {
        let windows: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM api_key_rate_windows").fetch_one(&app.db).await.unwrap();
        if windows == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let [a, b]: [(Account, String); 2] = orgs.try_into().ok().unwrap();
    [a, b]
}

/// A pool connected as the application role, exactly as the service connects.
async fn as_application(app: &TestApp) -> AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&app.config.database.url).await.unwrap()
}

/// Begins a transaction scoped to `org`, as the store does.
async fn enter(conn: &mut sqlx::AnyConnection, org: &str) {
    conn.execute("BEGIN").await.unwrap();
    sqlx::query("SELECT set_config('app.current_org', $1, true)").bind(org).execute(&mut *conn).await.unwrap();
}

async fn count(pool: &mut sqlx::AnyConnection, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(&mut *pool).await.unwrap().get::<i64, _>(0)
}

#[tokio::test]
async fn the_application_role_is_not_privileged_and_every_tenant_table_forces_row_level_security() {
    let app = spawn_app().await;
    let app_role = url::Url::parse(&app.config.database.url).unwrap().username().to_owned();

    let (superuser, bypass): (bool, bool) =
        sqlx::query_as("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1")
            .bind(&app_role)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(!superuser && !bypass, "the application role must be neither superuser nor BYPASSRLS");

    // Every table with an org id is in the list, and each one enables and forces RLS.
    let with_org: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'org_id'",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    for table in &with_org {
        assert!(TENANT_TABLES.contains(&table.as_str()), "{table} holds org rows but is not checked here");
    }
    for table in TENANT_TABLES {
        let (enabled, forced): (bool, bool) =
            sqlx::query_as("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = $1")
                .bind(*table)
                .fetch_one(&app.db)
                .await
                .unwrap();
        assert!(enabled && forced, "{table}: row security enabled {enabled}, forced {forced}");
    }

    // The application role owns nothing and may not rewrite the audit log.
    let owned: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = $1")
            .bind(&app_role)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(owned, 0);
    for privilege in ["UPDATE", "DELETE", "TRUNCATE"] {
        let granted: bool = sqlx::query_scalar("SELECT has_table_privilege($1, 'audit_events', $2)")
            .bind(&app_role)
            .bind(privilege)
            .fetch_one(&app.db)
            .await
            .unwrap();
        assert!(!granted, "the application role may {privilege} audit events");
    }
}

#[tokio::test]
async fn a_transaction_without_an_org_sees_no_tenant_rows() {
    let app = spawn_app().await;
    two_populated_orgs(&app).await;
    let pool = as_application(&app).await;
    let mut conn = pool.acquire().await.unwrap();
    conn.execute("BEGIN").await.unwrap();
    for table in TENANT_TABLES {
        let there: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&app.db).await.unwrap();
        assert!(there > 0, "{table} must hold rows for this check to mean anything");
        assert_eq!(count(&mut conn, &format!("SELECT COUNT(*) FROM {table}")).await, 0, "{table} without an org");
    }
    conn.execute("ROLLBACK").await.unwrap();
}

#[tokio::test]
async fn with_one_org_set_another_orgs_rows_can_be_neither_read_nor_written() {
    let app = spawn_app().await;
    let [(_, a), (_, b)] = two_populated_orgs(&app).await;
    let pool = as_application(&app).await;
    let mut conn = pool.acquire().await.unwrap();

    enter(&mut conn, &a).await;
    for table in TENANT_TABLES {
        let column = org_column(table);
        let own = count(&mut conn, &format!("SELECT COUNT(*) FROM {table} WHERE {column} = '{a}'")).await;
        let other = count(&mut conn, &format!("SELECT COUNT(*) FROM {table} WHERE {column} = '{b}'")).await;
        let all = count(&mut conn, &format!("SELECT COUNT(*) FROM {table}")).await;
        assert!(own > 0, "{table}: the set org's own rows are visible");
        assert_eq!(other, 0, "{table}: another org's rows");
        assert_eq!(all, own, "{table}: nothing but the set org's rows");
    }
    // Writes cannot reach another org's rows …
    for table in ["orgs", "memberships", "api_keys", "invitations", "custom_roles", "org_settings"] {
        let column = org_column(table);
        let done =
            sqlx::query(&format!("DELETE FROM {table} WHERE {column} = '{b}'")).execute(&mut *conn).await.unwrap();
        assert_eq!(done.rows_affected(), 0, "{table}: deleted another org's rows");
    }
    conn.execute("ROLLBACK").await.unwrap();

    // … nor move rows into another org, nor insert there.
    for statement in [
        format!("UPDATE memberships SET org_id = '{b}' WHERE org_id = '{a}'"),
        format!("UPDATE api_keys SET org_id = '{b}' WHERE org_id = '{a}'"),
        format!("UPDATE orgs SET id = '{b}x' WHERE id = '{a}'"),
        format!(
            "INSERT INTO custom_roles (id, org_id, key, name, permissions, created_at) \
             VALUES ('role_x', '{b}', 'planted', 'Planted', '[]', 0)"
        ),
    ] {
        enter(&mut conn, &a).await;
        let refused = sqlx::query(&statement).execute(&mut *conn).await;
        let message = refused.expect_err(&statement).to_string();
        assert!(message.contains("row-level security"), "{statement}: {message}");
        conn.execute("ROLLBACK").await.unwrap();
    }

    // The audit log cannot be rewritten, not even the set org's own rows.
    enter(&mut conn, &a).await;
    let refused = sqlx::query("UPDATE audit_events SET action = 'x'").execute(&mut *conn).await;
    assert!(refused.unwrap_err().to_string().contains("permission denied"));
    conn.execute("ROLLBACK").await.unwrap();
}

#[tokio::test]
async fn a_key_revoked_through_one_node_is_refused_by_the_other_on_its_next_request() {
    let app = spawn_app().await;
    let other = app.another_node().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    for _ in 0..5 {
        let key = app.create_key(&ada, &org, &["endpoints.view"]).await;
        let verify = || {
            app.call_on(
                &other,
                Method::POST,
                "/v1/keys/verify",
                Some(SERVICE_TOKEN),
                Some(json!({ "key": key.secret })),
            )
        };
        // The other node caches the key as valid …
        assert_eq!(verify().await.expect(200).body["data"]["code"], "VALID");
        let r = app.call_on(&other, Method::GET, &format!("/v1/orgs/{org}"), Some(&key.secret), None).await;
        r.expect(200);
        // … until it is revoked here.
        app.delete(&format!("/v1/orgs/{org}/api-keys/{}", key.id), Some(&ada.access)).await.expect(204);
        assert_eq!(verify().await.expect(200).body["data"]["code"], "REVOKED");
        let r = app.call_on(&other, Method::GET, &format!("/v1/orgs/{org}"), Some(&key.secret), None).await;
        r.expect(401);
    }
}

/// The other node here is a bare store whose caches are slow to change: a change made through
/// the server is answered only once that node has applied it, however long that takes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_is_answered_only_after_every_other_node_has_applied_it() {
    let app = spawn_app().await;
    let slow_node = SqlStore::connect(&app.config.database.url, &ConnectOptions { max_connections: 1 })
        .await
        .expect("the other node connects");
    let applied = Arc::new(Mutex::new(Vec::new()));
    let record = applied.clone();
    let following = slow_node.follow_cache_changes(Arc::new(move |heard| {
        std::thread::sleep(Duration::from_millis(200));
        if let Heard::Change(change) = heard {
            record.lock().unwrap().push(change);
        }
    }));
    assert!(following, "a PostgreSQL store follows other nodes' changes");
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    let key = app.create_key(&ada, &org, &["endpoints.view"]).await;
    let changes_to_the_key = |applied: &[CacheChange]| {
        applied
            .iter()
            .filter(|change| matches!(change, CacheChange::Key { id, .. } if id.to_string() == key.id))
            .count()
    };
    assert_eq!(changes_to_the_key(&applied.lock().unwrap()), 1, "the key's creation was applied before the answer");
    app.delete(&format!("/v1/orgs/{org}/api-keys/{}", key.id), Some(&ada.access)).await.expect(204);
    assert_eq!(changes_to_the_key(&applied.lock().unwrap()), 2, "the revocation was applied before the answer");
}

#[tokio::test]
async fn two_nodes_hold_a_keys_rate_limit_together_within_the_stated_tolerance() {
    let app = spawn_app().await;
    let other = app.another_node().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    // The free plan allows 60 requests a minute per key.
    let key = app.create_key(&ada, &org, &["endpoints.view"]).await;
    let (mut admitted, mut refused_with_headers) = (0, 0);
    for round in 0..12 {
        for i in 0..10 {
            let node = if i % 2 == 0 { app.base.clone() } else { other.clone() };
            let r = app.call_on(&node, Method::GET, &format!("/v1/orgs/{org}"), Some(&key.secret), None).await;
            match r.status.as_u16() {
                200 => admitted += 1,
                429 => refused_with_headers += usize::from(r.headers.contains_key("retry-after")),
                status => panic!("round {round}: unexpected {status}"),
            }
        }
        // Longer than the sharing interval (250 ms): each node has told the other what it admitted.
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    }
    // Alone, each node would admit 60 (all 120 requests). Together they admit the plan's 60, plus
    // at most what one node admits between two exchanges (5 requests a round here).
    assert!((60..=65).contains(&admitted), "admitted {admitted} of 120");
    assert_eq!(admitted + refused_with_headers, 120);
}

async fn rate_windows_in_the_database(app: &TestApp) -> Vec<i64> {
    sqlx::query_scalar("SELECT count FROM api_key_rate_windows").fetch_all(&app.db).await.unwrap()
}

#[tokio::test]
async fn a_node_alone_shares_no_counts_until_a_second_node_starts_and_then_learns_within_two_intervals() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    // The free plan allows 60 requests a minute per key.
    let key = app.create_key(&ada, &org, &["endpoints.view"]).await;
    for _ in 0..3 {
        app.get(&format!("/v1/orgs/{org}"), Some(&key.secret)).await.expect(200);
    }
    // Several sharing intervals (250 ms each) pass with nothing written.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(rate_windows_in_the_database(&app).await, Vec::<i64>::new());

    let other = app.another_node().await;
    let mut shared = Vec::new();
    for _ in 0..50 {
        shared = rate_windows_in_the_database(&app).await;
        if !shared.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(shared, [3], "the first node shares what it counted alone once the second starts");
    let path = format!("/v1/orgs/{org}");
    let first = app.call_on(&other, Method::GET, &path, Some(&key.secret), None).await;
    assert_eq!(first.expect(200).headers["x-ratelimit-limit"], "60");
    // After the newcomer's own exchange it counts the first node's three.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let second = app.call_on(&other, Method::GET, &path, Some(&key.secret), None).await;
    assert_eq!(second.expect(200).headers["x-ratelimit-remaining"], "55", "60 less 3 + 2");
}

#[tokio::test]
async fn a_role_change_and_a_removal_through_one_node_are_seen_by_the_other_at_once() {
    let app = spawn_app().await;
    let other = app.another_node().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    app.add_member(&org, &bob, "admin").await;
    let allowed = |permission: &'static str| {
        let body = json!({ "subject": { "user_id": bob.user_id }, "org": org, "permission": permission });
        let request = app.call_on(&other, Method::POST, "/v1/authorize", Some(SERVICE_TOKEN), Some(body));
        async move { request.await.expect(200).body["data"]["allowed"].as_bool().unwrap() }
    };
    assert!(allowed("members.invite").await);
    app.patch(&format!("/v1/orgs/{org}/members/{}", bob.user_id), Some(&ada.access), json!({ "role": "viewer" }))
        .await
        .expect(200);
    assert!(!allowed("members.invite").await, "the demotion is seen by the other node");
    assert!(allowed("endpoints.view").await);
    app.delete(&format!("/v1/orgs/{org}/members/{}", bob.user_id), Some(&ada.access)).await.expect(204);
    assert!(!allowed("endpoints.view").await, "the removal is seen by the other node");
}

#[tokio::test]
async fn a_logout_and_a_role_change_through_one_node_are_seen_by_the_other_at_once() {
    let app = spawn_app().await;
    let other = app.another_node().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    app.add_member(&org, &bob, "developer").await;
    let roles_seen_by_other = || async {
        let r = app.call_on(&other, Method::GET, &format!("/v1/orgs/{org}/members"), Some(&ada.access), None).await;
        let body = r.expect(200).body;
        body["data"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    // The other node has Ada's session and the member page in its caches …
    assert_eq!(roles_seen_by_other().await, ["owner", "developer"]);
    app.patch(&format!("/v1/orgs/{org}/members/{}", bob.user_id), Some(&ada.access), json!({ "role": "viewer" }))
        .await
        .expect(200);
    assert_eq!(roles_seen_by_other().await, ["owner", "viewer"], "the role change is seen by the other node");

    // … and Bob's session too, until he logs out here.
    app.call_on(&other, Method::GET, "/v1/me", Some(&bob.access), None).await.expect(200);
    app.post("/v1/auth/logout", Some(&bob.access), json!({})).await.expect(204);
    app.call_on(&other, Method::GET, "/v1/me", Some(&bob.access), None).await.expect(401);
}

#[tokio::test]
async fn twenty_concurrent_accepts_spread_over_two_nodes_create_one_membership() {
    let app = spawn_app().await;
    let other = app.another_node().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    let grace = app.verified_signup("grace@example.com", "Grace").await;
    let r = app
        .post(&format!("/v1/orgs/{org}/invitations"), Some(&ada.access), json!({ "email": "grace@example.com" }))
        .await
        .expect(201);
    let token = r.body["data"]["token"].as_str().unwrap().to_owned();
    let nodes = [app.base.clone(), other];
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..20 {
        let url = format!("{}/v1/invitations/{token}/accept", nodes[i % 2]);
        let (client, access) = (app.client.clone(), grace.access.clone());
        attempts.spawn(async move {
            client.post(url).bearer_auth(access).json(&json!({})).send().await.unwrap().status().as_u16()
        });
    }
    let statuses = attempts.join_all().await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 19, "{statuses:?}");
    let memberships: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(&org)
        .bind(&grace.user_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(memberships, 1);
    let seats: i64 =
        sqlx::query_scalar("SELECT seat_count FROM orgs WHERE id = $1").bind(&org).fetch_one(&app.db).await.unwrap();
    assert_eq!(seats, 2);
}

#[tokio::test]
async fn team_changes_through_one_node_are_answered_by_the_other_on_its_next_check() {
    let app = spawn_app().await;
    let other = app.another_node().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    let carol = app.insert_user("Carol").await;
    app.add_user(&org, &carol, "viewer").await;
    app.post(&format!("/v1/orgs/{org}/teams"), Some(&ada.access), json!({ "name": "Engineering" })).await.expect(201);
    let body =
        json!({ "subject": { "user_id": carol }, "org": org, "team": "engineering", "permission": "endpoints.create" });
    let check = || async {
        let r = app.call_on(&other, Method::POST, "/v1/authorize", Some(SERVICE_TOKEN), Some(body.clone())).await;
        r.expect(200).body["data"]["allowed"].as_bool().unwrap()
    };
    // The other node caches "not in the team" …
    assert!(!check().await);
    let members = format!("/v1/orgs/{org}/teams/engineering/members");
    app.post(&members, Some(&ada.access), json!({ "user_id": carol, "role": "lead" })).await.expect(201);
    // … and answers each change made here on its next check.
    assert!(check().await);
    app.patch(&format!("{members}/{carol}"), Some(&ada.access), json!({ "role": "member" })).await.expect(200);
    assert!(!check().await);
    app.patch(&format!("{members}/{carol}"), Some(&ada.access), json!({ "role": "lead" })).await.expect(200);
    assert!(check().await);
    app.delete(&format!("/v1/orgs/{org}/members/{carol}"), Some(&ada.access)).await.expect(204);
    assert!(!check().await, "leaving the org leaves the team");
    app.add_user(&org, &carol, "viewer").await;
    app.post(&members, Some(&ada.access), json!({ "user_id": carol, "role": "lead" })).await.expect(201);
    assert!(check().await);
    app.delete(&format!("/v1/orgs/{org}/teams/engineering"), Some(&ada.access)).await.expect(204);
    assert!(!check().await, "a deleted team grants nothing");
}
