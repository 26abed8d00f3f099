//! Each shipped preset, replaying the role rules of its product's seed document.

use serde_json::json;

use crate::common::{config, spawn_with, Account, TestApp};
use crate::spec_table::{holds, ROLES, TABLE};
use tenantry_server::Config;

async fn app_with(preset: &str) -> TestApp {
    spawn_with(Config { preset: preset.into(), ..config() }).await
}

/// An org owned by `owner@…` with one signed-in member per `(name, role)`.
async fn org_with(app: &TestApp, members: &[(&str, &str)]) -> (String, Account, Vec<Account>) {
    let owner = app.signup("owner@example.com", "Owner").await;
    let org = app.create_org(&owner, "Acme").await["id"].as_str().unwrap().to_owned();
    let mut accounts = Vec::new();
    for (name, role) in members {
        let account = app.signup(&format!("{name}@example.com"), name).await;
        app.add_member(&org, &account, role).await;
        accounts.push(account);
    }
    (org, owner, accounts)
}

async fn role_keys(app: &TestApp, org: &str, who: &Account) -> Vec<String> {
    let r = app.get(&format!("/v1/orgs/{org}/roles"), Some(&who.access)).await.expect(200);
    r.body["data"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap().to_owned()).collect()
}

fn member_path(org: &str, who: &Account) -> String {
    format!("/v1/orgs/{org}/members/{}", who.user_id)
}

#[tokio::test]
async fn hooklistener_admins_manage_members_and_keys_but_not_billing_and_members_only_build() {
    let app = app_with("hooklistener").await;
    let (org, owner, accounts) =
        org_with(&app, &[("admin", "admin"), ("member", "member"), ("member2", "member")]).await;
    let [admin, member, member2] = &accounts[..] else { unreachable!() };
    assert_eq!(role_keys(&app, &org, member).await, ["owner", "admin", "member"]);

    for permission in ["members.invite", "members.remove", "members.change_role", "api_keys.manage", "org.manage"] {
        assert!(app.allowed(&admin.user_id, &org, permission).await, "admin: {permission}");
    }
    for permission in ["billing.view", "billing.update_payment", "billing.change_plan", "org.transfer_ownership"] {
        assert!(!app.allowed(&admin.user_id, &org, permission).await, "admin: {permission}");
    }
    for permission in ["endpoints.view", "endpoints.create", "monitors.view", "monitors.create"] {
        assert!(app.allowed(&member.user_id, &org, permission).await, "member: {permission}");
    }
    for permission in ["members.invite", "members.remove", "members.change_role", "billing.view", "endpoints.delete"] {
        assert!(!app.allowed(&member.user_id, &org, permission).await, "member: {permission}");
    }
    for permission in ["billing.change_plan", "secrets.manage", "monitors.delete"] {
        assert!(app.allowed(&owner.user_id, &org, permission).await, "owner: {permission}");
    }

    // Members cannot manage members; admins can; nobody removes the owner.
    app.patch(&member_path(&org, member2), Some(&member.access), json!({ "role": "admin" })).await.expect(403);
    app.delete(&member_path(&org, member2), Some(&member.access)).await.expect(403);
    app.patch(&member_path(&org, member), Some(&admin.access), json!({ "role": "admin" })).await.expect(200);
    app.delete(&member_path(&org, member2), Some(&admin.access)).await.expect(204);
    let r = app.delete(&member_path(&org, &owner), Some(&admin.access)).await.expect(409);
    assert_eq!(r.code(), "last_owner");
    // The admin edits the org's settings (name) but billing is not theirs.
    app.patch(&format!("/v1/orgs/{org}"), Some(&admin.access), json!({ "name": "Acme Hooks" })).await.expect(200);
}

#[tokio::test]
async fn yipyap_admins_cannot_grant_admin_but_the_owner_can() {
    let app = app_with("yipyap").await;
    let (org, owner, accounts) =
        org_with(&app, &[("admin", "admin"), ("member", "member"), ("viewer", "viewer")]).await;
    let [admin, member, viewer] = &accounts[..] else { unreachable!() };
    let roles = app.get(&format!("/v1/orgs/{org}/roles"), Some(&viewer.access)).await.expect(200);
    let admin_role = roles.body["data"].as_array().unwrap().iter().find(|r| r["key"] == "admin").unwrap().clone();
    assert_eq!(admin_role["assignable_by"], json!(["owner"]));
    assert_eq!(role_keys(&app, &org, viewer).await, ["owner", "admin", "member", "viewer"]);

    let r = app.patch(&member_path(&org, member), Some(&admin.access), json!({ "role": "admin" })).await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("`owner`"), "{}", r.body);
    assert!(!app.allowed(&member.user_id, &org, "members.invite").await);
    // The admin manages the other roles.
    app.patch(&member_path(&org, viewer), Some(&admin.access), json!({ "role": "member" })).await.expect(200);
    app.patch(&member_path(&org, viewer), Some(&admin.access), json!({ "role": "viewer" })).await.expect(200);
    // The owner grants admin.
    app.patch(&member_path(&org, member), Some(&owner.access), json!({ "role": "admin" })).await.expect(200);
    assert!(app.allowed(&member.user_id, &org, "members.invite").await);

    for permission in ["monitors.edit", "alerts.edit", "incidents.edit", "status_pages.edit"] {
        assert!(app.allowed(&viewer.user_id, &org, &permission.replace(".edit", ".view")).await);
        assert!(!app.allowed(&viewer.user_id, &org, permission).await, "viewer: {permission}");
    }
    // Admins have no billing in YipYap: it is the owner's.
    assert!(!app.allowed(&admin.user_id, &org, "billing.change_plan").await);
    assert!(app.allowed(&owner.user_id, &org, "billing.change_plan").await);
}

#[tokio::test]
async fn hookdeploy_owners_are_super_admins_and_the_matrix_is_the_standard_one() {
    let app = app_with("hookdeploy").await;
    let ada = app
        .post(
            "/v1/auth/signup",
            None,
            json!({ "email": "ada@example.com", "password": crate::common::PASSWORD, "display_name": "Ada" }),
        )
        .await
        .expect(201);
    assert_eq!(ada.body["data"]["org"]["role"], "super_admin");
    assert_eq!(ada.body["data"]["org"]["is_personal"], true);
    let ada_token = ada.body["data"]["access_token"].as_str().unwrap();
    let me = app.get("/v1/me", Some(ada_token)).await.expect(200);
    assert_eq!(me.body["data"]["orgs"][0]["role"], "super_admin");

    let roles: Vec<(&str, &str)> = ROLES.iter().map(|r| (*r, if *r == "owner" { "super_admin" } else { r })).collect();
    let (org, owner, accounts) =
        org_with(&app, &roles[1..].iter().map(|(name, role)| (*name, *role)).collect::<Vec<_>>()).await;
    let created = app.get(&format!("/v1/orgs/{org}"), Some(&owner.access)).await.expect(200);
    assert_eq!(created.body["data"]["role"], "super_admin");
    let members = app.get(&format!("/v1/orgs/{org}/members"), Some(&accounts[0].access)).await.expect(200);
    assert_eq!(members.body["data"][0]["role"], "super_admin");
    assert_eq!(members.body["data"][0]["user_id"], owner.user_id.as_str());

    let users: Vec<&str> =
        std::iter::once(owner.user_id.as_str()).chain(accounts.iter().map(|a| a.user_id.as_str())).collect();
    let mut wrong = Vec::new();
    for (permission, _) in TABLE {
        for (column, (spec_role, _)) in roles.iter().enumerate() {
            if app.allowed(users[column], &org, permission).await != holds(spec_role, permission) {
                wrong.push(format!("{spec_role} / {permission}"));
            }
        }
    }
    assert!(wrong.is_empty(), "hookdeploy differs from SPEC 3 in: {wrong:?}");

    // The super admin is the owner: never demoted, removed or granted.
    let admin = &accounts[0];
    let r = app.patch(&member_path(&org, &owner), Some(&admin.access), json!({ "role": "admin" })).await.expect(409);
    assert_eq!(r.code(), "last_owner");
    app.patch(&member_path(&org, &accounts[1]), Some(&owner.access), json!({ "role": "super_admin" }))
        .await
        .expect(403);
    // "You cannot change your own role. Another admin must do it."
    app.patch(&member_path(&org, admin), Some(&admin.access), json!({ "role": "viewer" })).await.expect(403);
}

#[tokio::test]
async fn hellojohn_has_owner_admin_member_and_custom_roles_on_plans_with_them() {
    let app = app_with("hellojohn").await;
    let (org, owner, accounts) = org_with(&app, &[("alice", "admin"), ("bob", "member"), ("carol", "member")]).await;
    let [alice, bob, carol] = &accounts[..] else { unreachable!() };
    assert_eq!(role_keys(&app, &org, bob).await, ["owner", "admin", "member"]);
    assert!(app.allowed(&alice.user_id, &org, "members.change_role").await);
    assert!(app.allowed(&alice.user_id, &org, "org.manage").await);
    assert!(!app.allowed(&bob.user_id, &org, "members.remove").await);
    assert!(app.allowed(&bob.user_id, &org, "endpoints.view").await);

    let body = json!({ "key": "auditor", "name": "Auditor", "permissions": ["audit.view", "endpoints.view"] });
    let r = app.post(&format!("/v1/orgs/{org}/roles"), Some(&alice.access), body.clone()).await.expect(402);
    assert_eq!(r.body["error"]["details"]["feature"], "custom_roles");
    app.set_plan(&org, "team").await;
    app.post(&format!("/v1/orgs/{org}/roles"), Some(&alice.access), body).await.expect(201);
    app.patch(&member_path(&org, carol), Some(&alice.access), json!({ "role": "auditor" })).await.expect(200);
    assert!(app.allowed(&carol.user_id, &org, "audit.view").await);
    assert!(!app.allowed(&carol.user_id, &org, "endpoints.create").await);
    assert_eq!(role_keys(&app, &org, carol).await, ["owner", "admin", "member", "auditor"]);
    // Carol belongs to two orgs with a different role in each.
    let design = app.create_org(&owner, "Design").await["id"].as_str().unwrap().to_owned();
    app.add_member(&design, carol, "admin").await;
    assert!(app.allowed(&carol.user_id, &design, "members.invite").await);
    assert!(!app.allowed(&carol.user_id, &org, "members.invite").await);
    // Removing a member.
    app.delete(&member_path(&org, bob), Some(&alice.access)).await.expect(204);
    assert!(!app.allowed(&bob.user_id, &org, "endpoints.view").await);
}
