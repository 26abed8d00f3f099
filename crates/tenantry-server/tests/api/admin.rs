//! The instance admin and service tokens as principals, and the admin API: searching orgs and
//! users, creating orgs for users, adding members directly, and suspending accounts.

use serde_json::json;

use crate::common::{spawn_app, ADMIN_TOKEN, PASSWORD, SERVICE_TOKEN};

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
    let (mut config, _database) = crate::common::config_on_fresh_database().await;
    config.admin_token = None;
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

#[tokio::test]
async fn the_admin_searches_orgs_and_users() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada Lovelace").await;
    app.signup("bob@example.org", "Bob").await;
    app.create_org(&ada, "Acme Rockets").await;
    app.create_org(&ada, "Globex").await;
    app.create_org(&ada, "100% Real").await;

    let names = |r: &crate::common::Response, field: &str| -> Vec<String> {
        r.body["data"].as_array().unwrap().iter().map(|o| o[field].as_str().unwrap().to_owned()).collect()
    };
    let r = app.get("/v1/admin/orgs?q=ROCK", Some(ADMIN_TOKEN)).await.expect(200);
    assert_eq!(names(&r, "name"), ["Acme Rockets"]);
    let r = app.get("/v1/admin/orgs?q=glob", Some(ADMIN_TOKEN)).await.expect(200);
    assert_eq!(names(&r, "slug"), ["globex"]);
    // Wildcards are literal.
    let r = app.get("/v1/admin/orgs?q=%25", Some(ADMIN_TOKEN)).await.expect(200);
    assert_eq!(names(&r, "name"), ["100% Real"]);
    let r = app.get("/v1/admin/orgs?q=", Some(ADMIN_TOKEN)).await.expect(200);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 5);
    // Search pages like the plain list.
    let r = app.get("/v1/admin/orgs?q=e&limit=1", Some(ADMIN_TOKEN)).await.expect(200);
    let cursor = r.body["pagination"]["next_cursor"].as_str().unwrap();
    let next = app.get(&format!("/v1/admin/orgs?q=e&limit=1&cursor={cursor}"), Some(ADMIN_TOKEN)).await.expect(200);
    assert_ne!(names(&r, "id"), names(&next, "id"));

    let r = app.get("/v1/admin/users?q=.ORG", Some(ADMIN_TOKEN)).await.expect(200);
    assert_eq!(names(&r, "email"), ["bob@example.org"]);
    let r = app.get("/v1/admin/users?q=lovelace", Some(ADMIN_TOKEN)).await.expect(200);
    assert_eq!(r.body["data"][0]["status"], "active");
    assert_eq!(r.body["data"][0]["id"], ada.user_id.as_str());
    let r = app.get("/v1/admin/users?limit=1", Some(ADMIN_TOKEN)).await.expect(200);
    assert!(r.body["pagination"]["next_cursor"].is_string());
    let r = app.get(&format!("/v1/admin/users?q={}", "x".repeat(101)), Some(ADMIN_TOKEN)).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "q");
    app.get("/v1/admin/users", Some(&ada.access)).await.expect(403);
    app.get("/v1/admin/users", Some(SERVICE_TOKEN)).await.expect(403);
}

#[tokio::test]
async fn the_admin_creates_an_org_for_a_user() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let r = app
        .post(
            "/v1/admin/orgs",
            Some(ADMIN_TOKEN),
            json!({ "owner_id": ada.user_id, "name": "Engineering", "metadata": { "team_lead": "ada" } }),
        )
        .await
        .expect(201);
    let org = &r.body["data"];
    assert_eq!(org["owner_id"], ada.user_id.as_str());
    assert_eq!(org["slug"], "engineering");
    assert_eq!(org["is_personal"], false);
    let mine = app.get("/v1/orgs", Some(&ada.access)).await.expect(200);
    assert_eq!(mine.body["data"][1]["role"], "owner");
    let actor: String =
        sqlx::query_scalar("SELECT actor_type FROM audit_events WHERE action = 'org.created' AND org_id = $1")
            .bind(org["id"].as_str().unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(actor, "admin");

    let r = app
        .post("/v1/admin/orgs", Some(ADMIN_TOKEN), json!({ "owner_id": "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M", "name": "X" }))
        .await
        .expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "owner_id");
    app.post(
        "/v1/admin/orgs",
        Some(ADMIN_TOKEN),
        json!({ "owner_id": ada.user_id, "name": "Eng", "slug": "engineering" }),
    )
    .await
    .expect(409);
    app.post("/v1/admin/orgs", Some(&ada.access), json!({ "owner_id": ada.user_id, "name": "Mine" })).await.expect(403);
}

#[tokio::test]
async fn the_admin_adds_members_directly_within_the_plan_and_never_as_owner() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let cy = app.signup("cy@example.com", "Cy").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/admin/orgs/{org}/members");

    let r = app.post(&path, Some(ADMIN_TOKEN), json!({ "user_id": bob.user_id, "role": "admin" })).await.expect(402);
    assert_eq!(r.code(), "plan_limit_reached");
    app.set_plan(&org, "starter").await;
    let r = app.post(&path, Some(ADMIN_TOKEN), json!({ "user_id": bob.user_id, "role": "owner" })).await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("transferring ownership"));
    let r = app.post(&path, Some(ADMIN_TOKEN), json!({ "user_id": bob.user_id, "role": "wizard" })).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "role");
    let r = app
        .post(&path, Some(ADMIN_TOKEN), json!({ "user_id": "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M", "role": "admin" }))
        .await
        .expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "user_id");

    // A pending invitation holds the starter plan's second seat.
    let invited = app
        .post(&format!("/v1/orgs/{org}/invitations"), Some(&ada.access), json!({ "email": "dee@example.com" }))
        .await
        .expect(201);
    app.post(&path, Some(ADMIN_TOKEN), json!({ "user_id": bob.user_id, "role": "admin" })).await.expect(402);
    let invitation = invited.body["data"]["id"].as_str().unwrap();
    app.delete(&format!("/v1/orgs/{org}/invitations/{invitation}"), Some(&ada.access)).await.expect(204);

    let r = app.post(&path, Some(ADMIN_TOKEN), json!({ "user_id": bob.user_id, "role": "admin" })).await.expect(201);
    assert_eq!(r.body["data"]["user_id"], bob.user_id.as_str());
    assert_eq!(r.body["data"]["role"], "admin");
    assert_eq!(r.body["data"]["email"], "bob@example.com");
    let r = app.post(&path, Some(ADMIN_TOKEN), json!({ "user_id": bob.user_id, "role": "viewer" })).await.expect(409);
    assert_eq!(r.code(), "already_member");
    app.post(&path, Some(ADMIN_TOKEN), json!({ "user_id": cy.user_id, "role": "viewer" })).await.expect(402);
    app.post(
        "/v1/admin/orgs/no-such-org/members",
        Some(ADMIN_TOKEN),
        json!({ "user_id": cy.user_id, "role": "viewer" }),
    )
    .await
    .expect(404);
    app.post(&path, Some(&ada.access), json!({ "user_id": cy.user_id, "role": "viewer" })).await.expect(403);

    // Bob is a member at once, also for the host app's checks.
    app.get(&format!("/v1/orgs/{org}/members/{}", bob.user_id), Some(&bob.access)).await.expect(200);
    let check = app
        .post(
            "/v1/authorize",
            Some(SERVICE_TOKEN),
            json!({ "subject": { "user_id": bob.user_id }, "org": org, "permission": "members.invite" }),
        )
        .await
        .expect(200);
    assert_eq!(check.body["data"]["allowed"], true);
    let actor: String = sqlx::query_scalar("SELECT actor_type FROM audit_events WHERE action = 'member.added'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(actor, "admin");
}

#[tokio::test]
async fn suspending_a_user_ends_their_sessions_at_once() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let path = format!("/v1/admin/users/{}/suspend", ada.user_id);
    app.post(&path, Some(&ada.access), json!({})).await.expect(403);
    app.get("/v1/me", Some(&ada.access)).await.expect(200);

    let r = app.post(&path, Some(ADMIN_TOKEN), json!({})).await.expect(200);
    assert_eq!(r.body["data"]["status"], "suspended");
    let r = app.post("/v1/auth/refresh", None, json!({ "refresh_token": ada.refresh })).await.expect(401);
    assert_eq!(r.code(), "unauthorized");
    app.get("/v1/me", Some(&ada.access)).await.expect(401);
    app.post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": PASSWORD })).await.expect(403);
    // Suspending again changes nothing.
    app.post(&path, Some(ADMIN_TOKEN), json!({})).await.expect(200);
    assert_eq!(app.audit_count_of("user.suspended").await, 1);

    let r = app.post(&format!("/v1/admin/users/{}/unsuspend", ada.user_id), Some(ADMIN_TOKEN), json!({})).await;
    assert_eq!(r.expect(200).body["data"]["status"], "active");
    app.post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": PASSWORD })).await.expect(200);
    app.post("/v1/auth/refresh", None, json!({ "refresh_token": ada.refresh })).await.expect(401);
    assert_eq!(app.audit_count_of("user.unsuspended").await, 1);
    app.post("/v1/admin/users/usr_nope/suspend", Some(ADMIN_TOKEN), json!({})).await.expect(404);
}
