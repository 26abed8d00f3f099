//! `GET /v1/me` is answered from memory: every change to what it shows — the user, their
//! memberships, each of their orgs — is in the next answer. Each scenario reads `/v1/me` before a
//! change (so the answer is cached) and right after it.
//!
//! The scenarios make their changes through `app` and read through the node at `node`: here the
//! same server; in the PostgreSQL run also another node on the same database (`me_nodes.rs`).

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{spawn_app, Account, TestApp, PASSWORD};

/// `/v1/me` of `who`, read through `node`.
async fn me(app: &TestApp, node: &str, who: &str) -> Value {
    app.call_on(node, Method::GET, "/v1/me", Some(who), None).await.expect(200).body["data"].clone()
}

/// The org `org` as `who`'s `/v1/me` lists it, read through `node`.
async fn listed(app: &TestApp, node: &str, who: &Account, org: &str) -> Option<Value> {
    me(app, node, &who.access).await["orgs"].as_array().unwrap().iter().find(|o| o["id"] == org).cloned()
}

/// Ada owns Acme (on `team`, with room for members), where Bob is a viewer.
async fn acme(app: &TestApp) -> (Account, Account, String) {
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    app.add_member(&org, &bob, "viewer").await;
    (ada, bob, org)
}

/// A rename, new metadata, a plan change and members coming and going (the seat count) are in
/// every member's answer.
pub async fn an_orgs_changes_are_shown_to_every_member_at_once(app: &TestApp, node: &str) {
    let (ada, bob, org) = acme(app).await;
    let carol = app.insert_user("Carol").await;
    let shown = |who: &'static str, field: &'static str| {
        let account = if who == "ada" { &ada } else { &bob };
        let org = org.as_str();
        async move { listed(app, node, account, org).await.expect("a member's org is listed")[field].clone() }
    };
    for who in ["ada", "bob"] {
        assert_eq!(shown(who, "name").await, "Acme");
        assert_eq!(shown(who, "seat_count").await, 2);
    }

    let update = json!({ "name": "Acme Corp", "metadata": { "tier": "gold" } });
    app.patch(&format!("/v1/orgs/{org}"), Some(&ada.access), update).await.expect(200);
    for who in ["ada", "bob"] {
        assert_eq!(shown(who, "name").await, "Acme Corp", "{who}");
        assert_eq!(shown(who, "metadata").await, json!({ "tier": "gold" }), "{who}");
    }

    app.set_plan(&org, "enterprise").await;
    for who in ["ada", "bob"] {
        assert_eq!(shown(who, "plan").await, "enterprise", "{who}");
    }

    // Someone else joining or leaving moves the seat count every member sees.
    app.add_user(&org, &carol, "developer").await;
    for who in ["ada", "bob"] {
        assert_eq!(shown(who, "seat_count").await, 3, "{who}");
    }
    app.delete(&format!("/v1/orgs/{org}/members/{carol}"), Some(&ada.access)).await.expect(204);
    for who in ["ada", "bob"] {
        assert_eq!(shown(who, "seat_count").await, 2, "{who}");
    }
}

/// A role change, leaving, joining again, a removal and a new org are in the member's answer.
pub async fn a_members_changes_are_shown_at_once(app: &TestApp, node: &str) {
    let (ada, bob, org) = acme(app).await;
    assert_eq!(listed(app, node, &bob, &org).await.unwrap()["role"], "viewer");
    assert_eq!(listed(app, node, &ada, &org).await.unwrap()["seat_count"], 2);

    let member = format!("/v1/orgs/{org}/members/{}", bob.user_id);
    app.patch(&member, Some(&ada.access), json!({ "role": "developer" })).await.expect(200);
    assert_eq!(listed(app, node, &bob, &org).await.unwrap()["role"], "developer");

    app.post(&format!("/v1/orgs/{org}/leave"), Some(&bob.access), json!({})).await.expect(204);
    assert_eq!(listed(app, node, &bob, &org).await, None, "Bob left");
    assert_eq!(listed(app, node, &ada, &org).await.unwrap()["seat_count"], 1);

    app.add_member(&org, &bob, "viewer").await;
    assert_eq!(listed(app, node, &bob, &org).await.unwrap()["role"], "viewer", "Bob joined again");
    app.delete(&member, Some(&ada.access)).await.expect(204);
    assert_eq!(listed(app, node, &bob, &org).await, None, "Bob was removed");
    let mine: Vec<Value> =
        me(app, node, &bob.access).await["orgs"].as_array().unwrap().iter().map(|o| o["id"].clone()).collect();
    assert_eq!(mine, [json!(bob.personal_org)], "Bob keeps his personal org");

    let globex = app.create_org(&ada, "Globex").await["id"].as_str().unwrap().to_owned();
    assert_eq!(listed(app, node, &ada, &globex).await.unwrap()["role"], "owner");
}

/// After a transfer, both see the new owner and their new roles.
pub async fn an_ownership_transfer_is_shown_to_both_at_once(app: &TestApp, node: &str) {
    let (ada, bob, org) = acme(app).await;
    app.patch(&format!("/v1/orgs/{org}/members/{}", bob.user_id), Some(&ada.access), json!({ "role": "admin" }))
        .await
        .expect(200);
    for who in [&ada, &bob] {
        assert_eq!(listed(app, node, who, &org).await.unwrap()["owner_id"], ada.user_id.as_str());
    }
    let transfer = json!({ "new_owner_user_id": bob.user_id, "current_password": PASSWORD });
    app.post(&format!("/v1/orgs/{org}/transfer-ownership"), Some(&ada.access), transfer).await.expect(200);
    for (who, role) in [(&ada, "admin"), (&bob, "owner")] {
        let shown = listed(app, node, who, &org).await.unwrap();
        assert_eq!(shown["owner_id"], bob.user_id.as_str());
        assert_eq!(shown["role"], role);
    }
}

/// Following the emailed link is in the user's answer.
pub async fn an_email_verification_is_shown_at_once(app: &TestApp, node: &str) {
    let grace = app.signup_unverified("grace@example.com", "Grace").await;
    let user = me(app, node, &grace.access).await["user"].clone();
    assert_eq!(user["email_verified"], false);
    assert_eq!(user["display_name"], "Grace");
    let token = app.emailed_token("grace@example.com", "/verify-email/").await;
    app.post("/v1/auth/verify-email", None, json!({ "token": token })).await.expect(204);
    assert_eq!(me(app, node, &grace.access).await["user"]["email_verified"], true);
}

/// A deleted org leaves every member's list, and stops being anyone's active org.
pub async fn a_deleted_org_leaves_every_members_answer_at_once(app: &TestApp, node: &str) {
    let (ada, bob, org) = acme(app).await;
    let r = app.post("/v1/auth/switch-org", Some(&bob.access), json!({ "org_id": org })).await.expect(200);
    let in_acme = r.body["data"]["access_token"].as_str().unwrap().to_owned();
    assert_eq!(me(app, node, &in_acme).await["active_org_id"], org.as_str());
    assert!(listed(app, node, &ada, &org).await.is_some());

    let slug = listed(app, node, &ada, &org).await.unwrap()["slug"].as_str().unwrap().to_owned();
    app.delete_with(&format!("/v1/orgs/{org}"), Some(&ada.access), json!({ "confirm_slug": slug })).await.expect(204);
    let bobs = me(app, node, &in_acme).await;
    assert_eq!(bobs["active_org_id"], Value::Null);
    assert!(bobs["orgs"].as_array().unwrap().iter().all(|o| o["id"] != org), "{bobs}");
    assert_eq!(listed(app, node, &ada, &org).await, None);
}

/// Deleting a custom role moves its holders to another role, in their answers too.
pub async fn a_custom_roles_deletion_moves_its_holders_at_once(app: &TestApp, node: &str) {
    let (ada, bob, org) = acme(app).await;
    let role = json!({ "key": "support", "name": "Support", "permissions": ["endpoints.view"] });
    app.post(&format!("/v1/orgs/{org}/roles"), Some(&ada.access), role).await.expect(201);
    app.patch(&format!("/v1/orgs/{org}/members/{}", bob.user_id), Some(&ada.access), json!({ "role": "support" }))
        .await
        .expect(200);
    assert_eq!(listed(app, node, &bob, &org).await.unwrap()["role"], "support");
    app.delete(&format!("/v1/orgs/{org}/roles/support?reassign_to=developer"), Some(&ada.access)).await.expect(204);
    assert_eq!(listed(app, node, &bob, &org).await.unwrap()["role"], "developer");
}

#[tokio::test]
async fn an_orgs_changes_are_shown_to_every_member_on_their_next_call() {
    let app = spawn_app().await;
    an_orgs_changes_are_shown_to_every_member_at_once(&app, &app.base).await;
}

#[tokio::test]
async fn a_members_changes_are_shown_on_their_next_call() {
    let app = spawn_app().await;
    a_members_changes_are_shown_at_once(&app, &app.base).await;
}

#[tokio::test]
async fn an_ownership_transfer_is_shown_to_both_on_their_next_call() {
    let app = spawn_app().await;
    an_ownership_transfer_is_shown_to_both_at_once(&app, &app.base).await;
}

#[tokio::test]
async fn an_email_verification_is_shown_on_the_next_call() {
    let app = spawn_app().await;
    an_email_verification_is_shown_at_once(&app, &app.base).await;
}

#[tokio::test]
async fn a_deleted_org_leaves_every_members_answer_on_their_next_call() {
    let app = spawn_app().await;
    a_deleted_org_leaves_every_members_answer_at_once(&app, &app.base).await;
}

#[tokio::test]
async fn a_custom_roles_deletion_moves_its_holders_on_their_next_call() {
    let app = spawn_app().await;
    a_custom_roles_deletion_moves_its_holders_at_once(&app, &app.base).await;
}
