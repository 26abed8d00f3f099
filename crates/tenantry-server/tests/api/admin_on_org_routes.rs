//! SPEC 13a: the host app's backend manages everything (HelloJohn's admin API): the instance admin
//! token calls every `/v1/orgs/{org}/…` route with the org owner's permissions, audited with actor
//! `{type: "admin"}`; it transfers ownership with `{new_owner_user_id}` alone. Service tokens stay
//! limited to the host-app hot paths.

use serde_json::json;

use crate::common::{spawn_app, Account, TestApp, ADMIN_TOKEN, CHANGES, SERVICE_TOKEN};

/// Acme on `team`, owned by Ada, with Bob as a developer.
async fn acme(app: &TestApp) -> (String, Account, Account) {
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    app.add_member(&org, &bob, "developer").await;
    (org, ada, bob)
}

/// `(action, actor_type)` of the org's changes after its setup, oldest first.
async fn actors_after_setup(app: &TestApp, org: &str) -> Vec<(String, String)> {
    let rows: Vec<(String, String)> = sqlx::query_as(&format!(
        "SELECT action, actor_type FROM audit_events WHERE org_id = $1 AND {CHANGES} ORDER BY seq"
    ))
    .bind(org)
    .fetch_all(&app.db)
    .await
    .unwrap();
    const SETUP: [&str; 3] = ["org.created", "org.plan_changed", "member.added"];
    rows.into_iter().skip_while(|(action, _)| SETUP.contains(&action.as_str())).collect()
}

#[tokio::test]
async fn the_admin_token_manages_an_orgs_members_invitations_and_keys_as_its_owner() {
    let app = spawn_app().await;
    let (org, _ada, bob) = acme(&app).await;
    let admin = Some(ADMIN_TOKEN);

    let r = app.get(&format!("/v1/orgs/{org}"), admin).await.expect(200);
    assert_eq!(r.body["data"]["id"], org.as_str());
    assert!(r.body["data"].get("role").is_none(), "the admin holds no role: {}", r.body);
    let r = app.get(&format!("/v1/orgs/{org}/members"), admin).await.expect(200);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 2);
    app.get("/v1/orgs/acme/members", admin).await.expect(200);

    let member = format!("/v1/orgs/{org}/members/{}", bob.user_id);
    let r = app.patch(&member, admin, json!({ "role": "admin" })).await.expect(200);
    assert_eq!(r.body["data"]["role"], "admin");
    assert!(app.allowed(&bob.user_id, &org, "members.invite").await);

    let r = app
        .post(&format!("/v1/orgs/{org}/invitations"), admin, json!({ "email": "grace@example.com", "role": "viewer" }))
        .await
        .expect(201);
    let token = r.body["data"]["token"].as_str().unwrap().to_owned();
    // The admin's invitation holds at acceptance like an owner's.
    let grace = app.verified_signup("grace@example.com", "Grace").await;
    app.post(&format!("/v1/invitations/{token}/accept"), Some(&grace.access), json!({})).await.expect(200);
    assert!(app.allowed(&grace.user_id, &org, "endpoints.view").await);

    let r = app
        .post(&format!("/v1/orgs/{org}/api-keys"), admin, json!({ "name": "backend", "scopes": ["endpoints.*"] }))
        .await
        .expect(201);
    assert!(r.body["data"]["secret"].as_str().unwrap().starts_with("tn_live_"));
    assert_eq!(r.body["data"]["created_by"], "admin");

    app.patch(&format!("/v1/orgs/{org}"), admin, json!({ "name": "Acme Inc" })).await.expect(200);
    app.delete(&member, admin).await.expect(204);
    assert!(!app.allowed(&bob.user_id, &org, "endpoints.view").await);

    let actors = actors_after_setup(&app, &org).await;
    let actions: Vec<&str> = actors.iter().map(|(action, _)| action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "member.role_changed",
            "invitation.created",
            "invitation.accepted",
            "member.added",
            "api_key.created",
            "org.updated",
            "member.removed"
        ]
    );
    for (action, actor) in &actors {
        // Grace accepted herself; the admin did the rest.
        let expected = if ["invitation.accepted", "member.added"].contains(&action.as_str()) { "user" } else { "admin" };
        assert_eq!(actor, expected, "{action}");
    }
}

#[tokio::test]
async fn the_admin_keeps_the_owner_rules() {
    let app = spawn_app().await;
    let (org, ada, bob) = acme(&app).await;
    let admin = Some(ADMIN_TOKEN);
    let owner = format!("/v1/orgs/{org}/members/{}", ada.user_id);

    let r = app.patch(&owner, admin, json!({ "role": "viewer" })).await.expect(409);
    assert_eq!(r.code(), "last_owner");
    let r = app.delete(&owner, admin).await.expect(409);
    assert_eq!(r.code(), "last_owner");
    // The owner role is given only by transfer.
    let r = app.patch(&format!("/v1/orgs/{org}/members/{}", bob.user_id), admin, json!({ "role": "owner" })).await;
    assert_eq!(r.expect(403).code(), "forbidden");
    assert_eq!(app.role_in_db(&org, &ada.user_id).await.as_deref(), Some("owner"));

    // What only a member does is refused with a clear error, not a failure.
    let r = app.post(&format!("/v1/orgs/{org}/leave"), admin, json!({})).await.expect(403);
    assert_eq!(r.code(), "forbidden");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("signed-in user"), "{}", r.body);
    // An org that does not exist is not found, for the admin too.
    app.get("/v1/orgs/org_01HX2Z8Q6Y3V4W5T6R7S8P9N0M/members", admin).await.expect(404);
}

#[tokio::test]
async fn service_tokens_stay_off_the_org_routes() {
    let app = spawn_app().await;
    let (org, _ada, bob) = acme(&app).await;
    let service = Some(SERVICE_TOKEN);
    app.get(&format!("/v1/orgs/{org}/members"), service).await.expect(403);
    app.patch(&format!("/v1/orgs/{org}/members/{}", bob.user_id), service, json!({ "role": "admin" })).await.expect(403);
    app.post(&format!("/v1/orgs/{org}/api-keys"), service, json!({ "name": "k", "scopes": ["endpoints.view"] }))
        .await
        .expect(403);
    let transfer = json!({ "new_owner_user_id": bob.user_id });
    app.post(&format!("/v1/orgs/{org}/transfer-ownership"), service, transfer).await.expect(403);
    assert_eq!(app.role_in_db(&org, &bob.user_id).await.as_deref(), Some("developer"));
}

#[tokio::test]
async fn the_admin_transfers_ownership_naming_the_new_owner_alone() {
    let app = spawn_app().await;
    let (org, ada, bob) = acme(&app).await;
    let path = format!("/v1/orgs/{org}/transfer-ownership");

    let r = app.post(&path, Some(ADMIN_TOKEN), json!({ "new_owner_user_id": ada.user_id })).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "new_owner_user_id");
    let stranger = app.signup("eve@example.com", "Eve").await;
    app.post(&path, Some(ADMIN_TOKEN), json!({ "new_owner_user_id": stranger.user_id })).await.expect(400);
    // The owner still re-enters a password.
    let r = app.post(&path, Some(&ada.access), json!({ "new_owner_user_id": bob.user_id })).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "current_password");

    let r = app.post(&path, Some(ADMIN_TOKEN), json!({ "new_owner_user_id": bob.user_id })).await.expect(200);
    assert_eq!(r.body["data"]["owner_id"], bob.user_id.as_str());
    assert!(r.body["data"].get("role").is_none(), "{}", r.body);
    assert_eq!(app.role_in_db(&org, &bob.user_id).await.as_deref(), Some("owner"));
    assert_eq!(app.role_in_db(&org, &ada.user_id).await.as_deref(), Some("admin"));
    assert!(app.allowed(&bob.user_id, &org, "org.transfer_ownership").await);
    assert!(!app.allowed(&ada.user_id, &org, "org.transfer_ownership").await);
    assert_eq!(actors_after_setup(&app, &org).await, [("org.ownership_transferred".to_owned(), "admin".to_owned())]);
}

#[tokio::test]
async fn the_admin_deletes_an_org_only_confirming_its_slug() {
    let app = spawn_app().await;
    let (org, ada, _bob) = acme(&app).await;
    let path = format!("/v1/orgs/{org}");

    let r = app.delete_with(&path, Some(ADMIN_TOKEN), json!({})).await.expect(400);
    assert_eq!(r.code(), "invalid_request");
    let r = app.delete_with(&path, Some(ADMIN_TOKEN), json!({ "confirm_slug": "acme-inc" })).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "confirm_slug");
    // A personal org that is its owner's only org stays, for the admin too.
    let lone = app.signup("lone@example.com", "Lone").await;
    let personal = app.get(&format!("/v1/orgs/{}", lone.personal_org), Some(&lone.access)).await.expect(200);
    let slug = personal.body["data"]["slug"].as_str().unwrap().to_owned();
    let r = app
        .delete_with(&format!("/v1/orgs/{}", lone.personal_org), Some(ADMIN_TOKEN), json!({ "confirm_slug": slug }))
        .await
        .expect(409);
    assert_eq!(r.code(), "only_org");

    app.delete_with(&path, Some(ADMIN_TOKEN), json!({ "confirm_slug": "acme" })).await.expect(204);
    app.get(&path, Some(&ada.access)).await.expect(404);
    let actor: String =
        sqlx::query_scalar("SELECT actor_type FROM audit_events WHERE action = 'org.deleted' AND org_id = $1")
            .bind(&org)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(actor, "admin");
}

#[tokio::test]
async fn the_admin_reads_every_org_route_a_member_reads() {
    let app = spawn_app().await;
    let (org, _ada, bob) = acme(&app).await;
    for path in [
        String::new(),
        "/members".into(),
        format!("/members/{}", bob.user_id),
        "/roles".into(),
        "/settings".into(),
        "/usage".into(),
        "/billing".into(),
        "/invitations".into(),
        "/api-keys".into(),
        "/audit-events".into(),
        "/audit-events/export?format=csv".into(),
    ] {
        let r = app.get(&format!("/v1/orgs/{org}{path}"), Some(ADMIN_TOKEN)).await;
        assert!(r.status.is_success(), "{path}: {} {}", r.status, r.body);
    }
    // And writes beyond members: a custom role, a password reset for a member.
    let role = json!({ "key": "support", "name": "Support", "permissions": ["endpoints.view"] });
    app.post(&format!("/v1/orgs/{org}/roles"), Some(ADMIN_TOKEN), role).await.expect(201);
    let reset = format!("/v1/orgs/{org}/members/{}/reset-password", bob.user_id);
    app.post(&reset, Some(ADMIN_TOKEN), json!({})).await.expect(202);
    let actors = actors_after_setup(&app, &org).await;
    assert_eq!(actors.len(), 2, "{actors:?}");
    assert!(actors.iter().all(|(_, actor)| actor == "admin"), "{actors:?}");
}
