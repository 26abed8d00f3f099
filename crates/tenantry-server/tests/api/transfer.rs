//! SPEC 9: ownership transfer — who may, to whom, the roles afterwards, and races.

use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::common::{config, spawn_app, spawn_with, Account, TestApp, PASSWORD, SERVICE_TOKEN};

async fn transfer(app: &TestApp, who: &Account, org: &str, to: &str, password: &str) -> crate::common::Response {
    app.post(
        &format!("/v1/orgs/{org}/transfer-ownership"),
        Some(&who.access),
        json!({ "new_owner_user_id": to, "current_password": password }),
    )
    .await
}

/// Acme, owned by `owner`, on `team` (room for members).
async fn org_on_team(app: &TestApp, owner: &Account) -> String {
    let org = app.create_org(owner, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    org
}

async fn role_of(app: &TestApp, org: &str, user: &str) -> String {
    sqlx::query_scalar("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(org)
        .bind(user)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn owner_of(app: &TestApp, org: &str) -> String {
    sqlx::query_scalar("SELECT owner_id FROM orgs WHERE id = $1").bind(org).fetch_one(&app.db).await.unwrap()
}

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

#[tokio::test]
async fn the_owner_hands_the_org_to_a_member_and_becomes_admin() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let org = org_on_team(&app, &ada).await;
    app.add_member(&org, &bob, "developer").await;
    // Warm the authorization cache, so the test shows it is invalidated.
    assert!(allowed(&app, &ada.user_id, &org, "org.transfer_ownership").await);
    assert!(!allowed(&app, &bob.user_id, &org, "org.transfer_ownership").await);

    let r = transfer(&app, &ada, &org, &bob.user_id, "not my password").await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("current_password"));
    assert_eq!(owner_of(&app, &org).await, ada.user_id);
    assert_eq!(app.audit_count_of("org.ownership_transferred").await, 0);

    let r = transfer(&app, &ada, &org, &bob.user_id, PASSWORD).await.expect(200);
    assert_eq!(r.body["data"]["owner_id"], bob.user_id.as_str());
    assert_eq!(r.body["data"]["role"], "admin");
    assert_eq!(owner_of(&app, &org).await, bob.user_id);
    assert_eq!(role_of(&app, &org, &ada.user_id).await, "admin");
    assert_eq!(role_of(&app, &org, &bob.user_id).await, "owner");
    assert!(!allowed(&app, &ada.user_id, &org, "org.transfer_ownership").await);
    assert!(allowed(&app, &bob.user_id, &org, "org.transfer_ownership").await);
    let (actor, metadata): (String, String) = sqlx::query_as(
        "SELECT actor_id, metadata FROM audit_events WHERE action = 'org.ownership_transferred' AND org_id = $1",
    )
    .bind(&org)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(actor, ada.user_id);
    let metadata: Value = serde_json::from_str(&metadata).unwrap();
    assert_eq!(metadata["from"], ada.user_id.as_str());
    assert_eq!(metadata["to"], bob.user_id.as_str());

    // The former owner may leave now; the new owner may not, and Ada can no longer transfer.
    transfer(&app, &ada, &org, &bob.user_id, PASSWORD).await.expect(403);
    app.post(&format!("/v1/orgs/{org}/leave"), Some(&bob.access), json!({})).await.expect(409);
    app.post(&format!("/v1/orgs/{org}/leave"), Some(&ada.access), json!({})).await.expect(204);

    // Host apps hear of the transfer and of Ada leaving, after the org's setup, and of nothing
    // the refused attempts tried.
    let events = app.org_events_once(&org, 5).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["org.created", "org.plan_changed", "member.added", "org.ownership_transferred", "member.removed"]);
    let transferred = events[3]["data"].to_string();
    assert!(transferred.contains(&bob.user_id) && transferred.contains(&ada.user_id), "{transferred}");
    assert_eq!(events[4]["data"]["user_id"], ada.user_id.as_str());
}

#[tokio::test]
async fn only_the_owner_transfers_and_only_to_another_member() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let eve = app.signup("eve@example.com", "Eve").await;
    let org = org_on_team(&app, &ada).await;
    app.add_member(&org, &bob, "admin").await;

    // An admin is not the owner; outsiders do not see the org; host apps are not users.
    transfer(&app, &bob, &org, &bob.user_id, PASSWORD).await.expect(403);
    transfer(&app, &eve, &org, &eve.user_id, PASSWORD).await.expect(404);
    app.post(
        &format!("/v1/orgs/{org}/transfer-ownership"),
        Some(SERVICE_TOKEN),
        json!({ "new_owner_user_id": bob.user_id, "current_password": PASSWORD }),
    )
    .await
    .expect(403);

    for (target, why) in [(&eve.user_id, "not a member"), (&ada.user_id, "already the owner")] {
        let r = transfer(&app, &ada, &org, target, PASSWORD).await.expect(400);
        assert_eq!(r.body["error"]["details"]["field"], "new_owner_user_id", "{why}");
    }
    transfer(&app, &ada, &org, "usr_nonsense", PASSWORD).await.expect(400);
    assert_eq!(owner_of(&app, &org).await, ada.user_id);
}

#[tokio::test]
async fn a_suspended_member_cannot_receive_the_org() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let org = org_on_team(&app, &ada).await;
    app.add_member(&org, &bob, "admin").await;
    app.post(&format!("/v1/admin/users/{}/suspend", bob.user_id), Some(crate::common::ADMIN_TOKEN), json!({}))
        .await
        .expect(200);
    transfer(&app, &ada, &org, &bob.user_id, PASSWORD).await.expect(400);
    assert_eq!(owner_of(&app, &org).await, ada.user_id);
}

#[tokio::test]
async fn wrong_passwords_are_throttled() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let org = org_on_team(&app, &ada).await;
    app.add_member(&org, &bob, "admin").await;
    for _ in 0..5 {
        transfer(&app, &ada, &org, &bob.user_id, "guess guess").await.expect(403);
    }
    let r = transfer(&app, &ada, &org, &bob.user_id, PASSWORD).await.expect(429);
    assert!(r.headers.contains_key("retry-after"));
    assert_eq!(owner_of(&app, &org).await, ada.user_id);
}

#[tokio::test]
async fn in_yipyap_ownership_goes_only_to_an_admin() {
    let app = spawn_with(tenantry_server::Config { preset: "yipyap".into(), ..config() }).await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let cy = app.signup("cy@example.com", "Cy").await;
    let org = org_on_team(&app, &ada).await;
    app.add_member(&org, &bob, "member").await;
    app.add_member(&org, &cy, "admin").await;
    let r = transfer(&app, &ada, &org, &bob.user_id, PASSWORD).await.expect(400);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("`admin`"), "{}", r.body);
    transfer(&app, &ada, &org, &cy.user_id, PASSWORD).await.expect(200);
    assert_eq!(role_of(&app, &org, &cy.user_id).await, "owner");
    assert_eq!(role_of(&app, &org, &ada.user_id).await, "admin");
}

#[tokio::test]
async fn in_hookdeploy_the_new_owner_is_super_admin_and_the_old_one_admin() {
    let app = spawn_with(tenantry_server::Config { preset: "hookdeploy".into(), ..config() }).await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let org = org_on_team(&app, &ada).await;
    app.add_member(&org, &bob, "viewer").await;
    transfer(&app, &ada, &org, &bob.user_id, PASSWORD).await.expect(200);
    assert_eq!(role_of(&app, &org, &bob.user_id).await, "super_admin");
    assert_eq!(role_of(&app, &org, &ada.user_id).await, "admin");
}

#[tokio::test]
async fn of_two_racing_transfers_exactly_one_wins() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let cy = app.signup("cy@example.com", "Cy").await;
    let org = org_on_team(&app, &ada).await;
    app.add_member(&org, &bob, "admin").await;
    app.add_member(&org, &cy, "admin").await;

    let mut set = JoinSet::new();
    for target in [bob.user_id.clone(), cy.user_id.clone()] {
        let (client, url, token) =
            (app.client.clone(), format!("{}/v1/orgs/{org}/transfer-ownership", app.base), ada.access.clone());
        set.spawn(async move {
            let body = json!({ "new_owner_user_id": target, "current_password": PASSWORD });
            let status = client.post(url).bearer_auth(token).json(&body).send().await.unwrap().status().as_u16();
            (status, target)
        });
    }
    let results = set.join_all().await;
    let winners: Vec<&String> = results.iter().filter(|(s, _)| *s == 200).map(|(_, t)| t).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(results.iter().all(|(s, _)| *s == 200 || *s == 403 || *s == 409), "{results:?}");

    let owners: Vec<String> =
        sqlx::query_scalar("SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'owner'")
            .bind(&org)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(owners, [winners[0].clone()]);
    assert_eq!(&owner_of(&app, &org).await, winners[0]);
    assert_eq!(role_of(&app, &org, &ada.user_id).await, "admin");
    assert_eq!(app.audit_count_of("org.ownership_transferred").await, 1);
}
