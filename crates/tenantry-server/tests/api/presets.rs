//! Each shipped preset, replaying the role rules of its product's seed document.

use serde_json::json;

use crate::common::{config, spawn_with, Account, TestApp};
use crate::spec_table::{holds, ROLES, TABLE};
use tenantry_server::Config;

async fn app_with(preset: &str) -> TestApp {
    spawn_with(Config { preset: preset.into(), ..config() }).await
}

/// An org owned by `owner@…` with one signed-in member per `(name, role)`, on the preset's
/// default plan.
async fn org_with(app: &TestApp, members: &[(&str, &str)]) -> (String, Account, Vec<Account>) {
    let owner = app.signup("owner@example.com", "Owner").await;
    let org = app.create_org(&owner, "Acme").await["id"].as_str().unwrap().to_owned();
    let mut accounts = Vec::new();
    for (name, _) in members {
        accounts.push(app.signup(&format!("{name}@example.com"), name).await);
    }
    let joining: Vec<(&str, &str)> =
        accounts.iter().zip(members).map(|(account, (_, role))| (account.user_id.as_str(), *role)).collect();
    app.add_members_beyond_plan(&org, &joining).await;
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
async fn yipyap_admins_cannot_grant_admin_under_another_name() {
    let app = app_with("yipyap").await;
    let (org, owner, accounts) = org_with(&app, &[("admin", "admin"), ("member", "member")]).await;
    let [admin, member] = &accounts[..] else { unreachable!() };
    app.set_plan_in_db(&org, "team").await;
    let admin_permissions = json!([
        "org.manage",
        "members.invite",
        "members.remove",
        "members.change_role",
        "teams.manage",
        "api_keys.manage",
        "audit.view",
        "monitors.view",
        "monitors.edit",
        "alerts.view",
        "alerts.edit",
        "incidents.view",
        "incidents.edit",
        "status_pages.view",
        "status_pages.edit"
    ]);
    let roles = format!("/v1/orgs/{org}/roles");
    // A role holding everything `admin` holds is `admin` by another name: only the owner grants it.
    let body = json!({ "key": "deputy", "name": "Deputy", "permissions": admin_permissions });
    let r = app.post(&roles, Some(&admin.access), body.clone()).await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("`admin`"), "{}", r.body);
    // Nor can an admin widen a role someone holds into it.
    let narrow = json!({ "key": "helper", "name": "Helper", "permissions": ["monitors.view"] });
    app.post(&roles, Some(&owner.access), narrow).await.expect(201);
    app.patch(&member_path(&org, member), Some(&owner.access), json!({ "role": "helper" })).await.expect(200);
    app.patch(&format!("{roles}/helper"), Some(&admin.access), json!({ "permissions": admin_permissions }))
        .await
        .expect(403);
    assert!(!app.allowed(&member.user_id, &org, "members.invite").await);
    // The owner may define it and grant it.
    app.post(&roles, Some(&owner.access), body).await.expect(201);
    app.patch(&member_path(&org, member), Some(&owner.access), json!({ "role": "deputy" })).await.expect(200);
    assert!(app.allowed(&member.user_id, &org, "members.invite").await);
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
    app.set_plan_in_db(&org, "team").await;
    app.post(&format!("/v1/orgs/{org}/roles"), Some(&alice.access), body).await.expect(201);
    app.patch(&member_path(&org, carol), Some(&alice.access), json!({ "role": "auditor" })).await.expect(200);
    assert!(app.allowed(&carol.user_id, &org, "audit.view").await);
    assert!(!app.allowed(&carol.user_id, &org, "endpoints.create").await);
    assert_eq!(role_keys(&app, &org, carol).await, ["owner", "admin", "member", "auditor"]);
    // Carol belongs to two orgs with a different role in each.
    let design = app.create_org(&owner, "Design").await["id"].as_str().unwrap().to_owned();
    app.add_members_beyond_plan(&design, &[(&carol.user_id, "admin")]).await;
    assert!(app.allowed(&carol.user_id, &design, "members.invite").await);
    assert!(!app.allowed(&carol.user_id, &org, "members.invite").await);
    // Removing a member.
    app.delete(&member_path(&org, bob), Some(&alice.access)).await.expect(204);
    assert!(!app.allowed(&bob.user_id, &org, "endpoints.view").await);
}

#[tokio::test]
async fn the_standard_roles_listed_are_those_of_the_spec_table() {
    let app = app_with("standard").await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let r = app.get(&format!("/v1/orgs/{}/roles", ada.personal_org), Some(&ada.access)).await.expect(200);
    let listed = r.body["data"].as_array().unwrap();
    assert_eq!(listed.len(), ROLES.len());
    for (role, spec_role) in listed.iter().zip(ROLES) {
        assert_eq!(role["key"], spec_role);
        assert_eq!(role["built_in"], true);
        let mut held: Vec<&str> = role["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        let mut spec = crate::spec_table::permissions_of(spec_role);
        held.sort();
        spec.sort();
        assert_eq!(held, spec, "{spec_role}");
    }
}

/// The standard preset with `edit` applied to its text, written to a file.
fn preset_file(dir: &tempfile::TempDir, edit: impl Fn(&str) -> String) -> String {
    let path = dir.path().join("custom.toml");
    let standard = tenantry_core::domain::preset::BUILT_IN[0].1;
    std::fs::write(&path, edit(standard)).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn a_preset_file_of_ones_own_extends_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let path = preset_file(&dir, |text| {
        text.replacen("name = \"standard\"", "name = \"acme\"", 1)
            .replacen("[permissions]\n", "[permissions]\n\"reports.export\" = \"Export reports\"\n", 1)
            .replacen(
                "\"billing.change_plan\", \"api_keys.manage\", \"audit.view\"]",
                "\"billing.change_plan\", \"api_keys.manage\", \"audit.view\", \"reports.export\"]",
                1,
            )
            + "\n[[roles]]\nkey = \"analyst\"\nname = \"Analyst\"\npermissions = [\"reports.export\", \"endpoints.view\"]\n"
    });
    let app = app_with(&path).await;
    let (org, owner, accounts) = org_with(&app, &[("ann", "analyst"), ("dev", "developer")]).await;
    assert!(app.allowed(&owner.user_id, &org, "reports.export").await);
    assert!(app.allowed(&accounts[0].user_id, &org, "reports.export").await);
    assert!(!app.allowed(&accounts[1].user_id, &org, "reports.export").await);
    assert_eq!(
        role_keys(&app, &org, &accounts[1]).await,
        ["owner", "admin", "developer", "viewer", "finance", "analyst"]
    );
}

#[tokio::test]
async fn a_malformed_preset_stops_start_up_with_a_message_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    for (edit, says) in [
        (
            ("\"endpoints.view\", \"requests.replay\"]", "\"endpoints.view\", \"requests.replya\"]"),
            "unknown permission `requests.replya`",
        ),
        (("key = \"viewer\"", "key = \"developer\""), "duplicate role key `developer`"),
        (("owner_role = \"owner\"", "owner_role = \"boss\""), "owner_role `boss`"),
    ] {
        let path = preset_file(&dir, |text| text.replacen(edit.0, edit.1, 1));
        let text = std::fs::read_to_string(&path).unwrap();
        let line = text.lines().enumerate().filter(|(_, l)| l.contains(edit.1)).last().unwrap().0 + 1;
        let mut config = Config { preset: path.clone(), ..config() };
        config.database.url = format!("sqlite://{}", dir.path().join("t.db").display());
        let error = match tenantry_server::Application::build(config, Default::default()).await {
            Ok(_) => panic!("started with a preset where {says}"),
            Err(e) => format!("{e:#}"),
        };
        assert!(error.contains(says), "{error}");
        assert!(error.contains(&format!("{path}:{line}:")), "expected line {line}: {error}");
    }
}
