//! SPEC 9: deleting an org — owner only, confirmed by slug; nothing scoped to it survives or stays
//! usable; users and audit rows remain; a personal org is never a user's last one to go.

use serde_json::json;

use crate::common::{backend, spawn_app, Backend, TestApp, PASSWORD, SERVICE_TOKEN};

async fn allowed(app: &TestApp, user: &str, org: &str, permission: &str) -> bool {
    let r = app
        .post(
            "/v1/authorize",
            Some(SERVICE_TOKEN),
            json!({ "subject": { "user_id": user }, "org": org, "permission": permission }),
        )
        .await
        .expect(200);
    r.body["data"]["allowed"].as_bool().unwrap()
}

/// Rows naming `org` in every table with an `org_id` column except the audit log, which outlives
/// orgs. Tables added later (invitations, API keys, …) are covered without changing this test.
// The audit log, the host apps' event log and the deliveries of its events are history: they
// outlive the org (the event log ends with `org.deleted`) until their retention ends.
async fn rows_naming(app: &TestApp, org: &str) -> Vec<(String, i64)> {
    let catalog = match backend() {
        Backend::Sqlite => {
            "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND c.name = 'org_id' AND m.name NOT IN ('audit_events', 'events', 'deliveries')"
        }
        Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND column_name = 'org_id' \
               AND table_name NOT IN ('audit_events', 'events', 'deliveries')"
        }
    };
    let tables: Vec<String> = sqlx::query_scalar(catalog).fetch_all(&app.db).await.unwrap();
    assert!(tables.len() >= 5, "{tables:?}");
    let mut found = Vec::new();
    for table in tables {
        let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE org_id = $1"))
            .bind(org)
            .fetch_one(&app.db)
            .await
            .unwrap();
        found.push((table, count));
    }
    found
}

#[tokio::test]
async fn the_owner_deletes_an_org_and_nothing_of_it_stays_usable() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let created = app.create_org(&ada, "Acme").await;
    let org = created["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    app.add_member(&org, &bob, "admin").await;
    app.meter(&org, "endpoints", 2).await.expect(200);
    app.put(&format!("/v1/orgs/{org}/settings"), Some(&ada.access), json!({ "retention_days": 30 })).await.expect(200);
    app.post(
        &format!("/v1/orgs/{org}/roles"),
        Some(&ada.access),
        json!({ "key": "support", "name": "Support", "permissions": ["endpoints.view"] }),
    )
    .await
    .expect(201);
    // Warm the authorization cache by id and by slug.
    assert!(allowed(&app, &bob.user_id, &org, "endpoints.view").await);
    assert!(allowed(&app, &bob.user_id, "acme", "endpoints.view").await);

    let path = format!("/v1/orgs/{org}");
    let r = app.delete_with(&path, Some(&ada.access), json!({ "confirm_slug": "acme-inc" })).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "confirm_slug");
    app.delete_with(&path, Some(&ada.access), json!({})).await.expect(400);
    app.delete_with(&path, Some(&bob.access), json!({ "confirm_slug": "acme" })).await.expect(403);
    // Host apps are not org owners (the instance admin is; see `admin_on_org_routes.rs`).
    app.delete_with(&path, Some(SERVICE_TOKEN), json!({ "confirm_slug": "acme" })).await.expect(403);
    assert!(rows_naming(&app, &org).await.iter().any(|(_, n)| *n > 0));

    app.delete_with("/v1/orgs/acme", Some(&ada.access), json!({ "confirm_slug": "acme" })).await.expect(204);

    for (table, count) in rows_naming(&app, &org).await {
        assert_eq!(count, 0, "{table} still names the deleted org");
    }
    app.get(&path, Some(&ada.access)).await.expect(404);
    app.get(&format!("{path}/members"), Some(&bob.access)).await.expect(404);
    app.get(&format!("{path}/usage"), Some(SERVICE_TOKEN)).await.expect(404);
    app.meter(&org, "endpoints", 1).await.expect(404);
    assert!(!allowed(&app, &bob.user_id, &org, "endpoints.view").await);
    assert!(!allowed(&app, &bob.user_id, "acme", "endpoints.view").await);
    let mine = app.get("/v1/orgs", Some(&bob.access)).await.expect(200);
    assert_eq!(mine.body["data"].as_array().unwrap().len(), 1, "only Bob's personal org is left");

    // Users remain and can log in; the audit log keeps the org's history and its deletion.
    app.post("/v1/auth/login", None, json!({ "email": "bob@example.com", "password": PASSWORD })).await.expect(200);
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_events WHERE org_id = $1 ORDER BY seq")
        .bind(&org)
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(actions.first().map(String::as_str), Some("org.created"));
    assert_eq!(actions.last().map(String::as_str), Some("org.deleted"));
    // So does the event log host apps read: every change of the org, its deletion last.
    let types = app.org_event_types(&org, 6).await;
    assert_eq!(
        types,
        ["org.created", "org.plan_changed", "member.added", "org.settings_updated", "role.created", "org.deleted"]
    );

    // The slug is free again, and checks by slug now reach the new org.
    let again = app.post("/v1/orgs", Some(&bob.access), json!({ "name": "Acme", "slug": "acme" })).await.expect(201);
    assert_ne!(again.body["data"]["id"], org.as_str());
    assert!(allowed(&app, &bob.user_id, "acme", "org.manage").await);
}

#[tokio::test]
async fn a_personal_org_is_not_deleted_while_it_is_the_owners_only_org() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let personal = ada.personal_org.clone();
    let slug = app.get(&format!("/v1/orgs/{personal}"), Some(&ada.access)).await.expect(200).body["data"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/orgs/{personal}");
    let r = app.delete_with(&path, Some(&ada.access), json!({ "confirm_slug": slug })).await.expect(409);
    assert_eq!(r.code(), "only_org");
    assert_eq!(app.audit_count_of("org.deleted").await, 0);

    app.create_org(&ada, "Acme").await;
    app.delete_with(&path, Some(&ada.access), json!({ "confirm_slug": slug })).await.expect(204);
    let mine = app.get("/v1/orgs", Some(&ada.access)).await.expect(200);
    assert_eq!(mine.body["data"][0]["slug"], "acme");
}
