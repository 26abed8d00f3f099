//! `POST /v1/authorize`: the SPEC 3 matrix, single and batch checks, reasons, validation and who
//! may ask.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::common::{spawn_app, TestApp, ADMIN_TOKEN, SERVICE_TOKEN};
use crate::spec_table::{holds, ROLES, TABLE};

/// An org (`acme`, on `team`) with one member per standard role; returns the org id and role →
/// user id.
async fn org_with_every_role(app: &TestApp) -> (String, BTreeMap<&'static str, String>) {
    let owner = app.signup("owner@example.com", "Owner").await;
    let org = app.create_org(&owner, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    let mut users = BTreeMap::from([("owner", owner.user_id.clone())]);
    for role in &ROLES[1..] {
        let user = app.insert_user(role).await;
        app.add_user(&org, &user, role).await;
        users.insert(*role, user);
    }
    (org, users)
}

fn check(user: &str, org: &str, permission: &str) -> Value {
    json!({ "subject": { "user_id": user }, "org": org, "permission": permission })
}

#[tokio::test]
async fn every_standard_role_holds_exactly_the_permissions_of_the_spec_table() {
    let app = spawn_app().await;
    let (org, users) = org_with_every_role(&app).await;
    let mut wrong = Vec::new();
    for (permission, _) in TABLE {
        for role in ROLES {
            let answer = app.authorize(&users[role], &org, permission).await;
            if answer["allowed"] != holds(role, permission) {
                wrong.push(format!("{role} / {permission}: {answer}"));
            }
        }
    }
    assert!(wrong.is_empty(), "answers that differ from SPEC 3:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_batch_answers_every_check_in_order() {
    let app = spawn_app().await;
    let (org, users) = org_with_every_role(&app).await;
    let mut checks = Vec::new();
    let mut expected = Vec::new();
    for (permission, _) in TABLE {
        for role in ROLES {
            // Alternate id and slug: both name the org.
            let reference = if checks.len() % 2 == 0 { org.as_str() } else { "acme" };
            checks.push(check(&users[role], reference, permission));
            expected.push((role, permission, holds(role, permission)));
        }
    }
    assert_eq!(checks.len(), 85);
    let r = app.post("/v1/authorize", Some(SERVICE_TOKEN), json!({ "checks": checks })).await.expect(200);
    let answers = r.body["data"].as_array().unwrap();
    assert_eq!(answers.len(), expected.len());
    for (answer, (role, permission, allowed)) in answers.iter().zip(expected) {
        assert_eq!(answer["allowed"], allowed, "{role} / {permission}: {answer}");
    }
}

#[tokio::test]
async fn reasons_name_the_role_and_the_permission_that_decided() {
    let app = spawn_app().await;
    let (org, users) = org_with_every_role(&app).await;
    let granted = app.authorize(&users["developer"], &org, "endpoints.create").await;
    assert_eq!(granted["allowed"], true);
    let reason = granted["reason"].as_str().unwrap();
    assert!(reason.contains("`developer`") && reason.contains("endpoints.create"), "{reason}");

    let refused = app.authorize(&users["viewer"], &org, "endpoints.delete").await;
    assert_eq!(refused["allowed"], false);
    let reason = refused["reason"].as_str().unwrap();
    assert!(reason.contains("`viewer`") && reason.contains("endpoints.delete"), "{reason}");
}

#[tokio::test]
async fn with_several_permissions_all_must_be_held_and_the_missing_ones_are_named() {
    let app = spawn_app().await;
    let (org, users) = org_with_every_role(&app).await;
    let ask = |user: &str, permissions: Value| {
        app.post(
            "/v1/authorize",
            Some(SERVICE_TOKEN),
            json!({ "subject": { "user_id": user }, "org": org, "permissions": permissions }),
        )
    };
    let both = ask(&users["developer"], json!(["endpoints.create", "endpoints.edit"])).await.expect(200);
    assert_eq!(both.body["data"]["allowed"], true);

    let one_missing = ask(&users["developer"], json!(["endpoints.create", "endpoints.delete"])).await.expect(200);
    assert_eq!(one_missing.body["data"]["allowed"], false);
    let reason = one_missing.body["data"]["reason"].as_str().unwrap();
    assert!(reason.contains("endpoints.delete") && !reason.contains("endpoints.create"), "{reason}");
    assert!(reason.contains("`developer`"), "{reason}");

    let finance = ask(&users["finance"], json!(["billing.view", "endpoints.view", "audit.view"])).await.expect(200);
    let reason = finance.body["data"]["reason"].as_str().unwrap();
    assert_eq!(finance.body["data"]["allowed"], false);
    assert!(
        reason.contains("endpoints.view") && reason.contains("audit.view") && !reason.contains("billing"),
        "{reason}"
    );

    // In a batch too.
    let r = app
        .post(
            "/v1/authorize",
            Some(SERVICE_TOKEN),
            json!({ "checks": [
                { "subject": { "user_id": users["owner"] }, "org": org, "permissions": ["endpoints.delete", "org.transfer_ownership"] },
                { "subject": { "user_id": users["admin"] }, "org": org, "permissions": ["endpoints.delete", "org.manage"] },
            ] }),
        )
        .await
        .expect(200);
    assert_eq!(r.body["data"][0]["allowed"], true);
    assert_eq!(r.body["data"][1]["allowed"], false);
}

#[tokio::test]
async fn an_unknown_permission_is_400_naming_its_field() {
    let app = spawn_app().await;
    let (org, users) = org_with_every_role(&app).await;
    let user = &users["admin"];
    let subject = json!({ "user_id": user });
    for (body, field) in [
        (json!({ "subject": subject, "org": org, "permission": "endpoints.destroy" }), "permission"),
        (json!({ "subject": subject, "org": org, "permissions": ["endpoints.view", "nope.nope"] }), "permissions[1]"),
        (json!({ "subject": subject, "org": org, "permissions": [] }), "permissions"),
        (
            json!({ "checks": [check(user, &org, "endpoints.view"), check(user, &org, "billing.refund")] }),
            "checks[1].permission",
        ),
        (
            json!({ "checks": [{ "subject": subject, "org": org, "permissions": ["endpoints.view", "audit.view", "x.y"] }] }),
            "checks[0].permissions[2]",
        ),
        (json!({ "subject": subject, "org": org }), "permission"),
        (
            json!({ "subject": subject, "org": org, "permission": "audit.view", "permissions": ["audit.view"] }),
            "permission",
        ),
        (json!({ "subject": {}, "org": org, "permission": "audit.view" }), "subject"),
        (
            json!({ "subject": { "user_id": user, "key_id": "key_01HX0000000000000000000000" }, "org": org, "permission": "audit.view" }),
            "subject",
        ),
        (
            json!({ "subject": { "user_id": "not-a-user-id" }, "org": org, "permission": "audit.view" }),
            "subject.user_id",
        ),
        (json!({ "subject": subject, "permission": "audit.view" }), "org"),
        (json!({ "checks": [check(user, &org, "audit.view")], "org": org }), "checks"),
    ] {
        let r = app.post("/v1/authorize", Some(SERVICE_TOKEN), body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.code(), "invalid_request");
        assert_eq!(r.body["error"]["details"]["field"], field, "{body}: {}", r.body);
    }
}

#[tokio::test]
async fn a_batch_holds_one_to_a_hundred_checks() {
    let app = spawn_app().await;
    let (org, users) = org_with_every_role(&app).await;
    let many = |n: usize| json!({ "checks": vec![check(&users["viewer"], &org, "endpoints.view"); n] });
    let r = app.post("/v1/authorize", Some(SERVICE_TOKEN), many(100)).await.expect(200);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 100);
    assert!(r.body["data"].as_array().unwrap().iter().all(|d| d["allowed"] == true));
    for n in [0, 101] {
        let r = app.post("/v1/authorize", Some(SERVICE_TOKEN), many(n)).await.expect(400);
        assert_eq!(r.body["error"]["details"]["field"], "checks", "{n} checks");
    }
}

#[tokio::test]
async fn non_members_unknown_orgs_unknown_users_and_unknown_keys_are_denied() {
    let app = spawn_app().await;
    let (org, users) = org_with_every_role(&app).await;
    let outsider = app.signup("eve@example.com", "Eve").await;
    let stranger = app.insert_user("Stranger").await;
    for (user, reference, why) in [
        (outsider.user_id.as_str(), org.as_str(), "a member of another org"),
        (outsider.user_id.as_str(), "acme", "a member of another org, by slug"),
        (stranger.as_str(), org.as_str(), "a user in no org"),
        ("usr_01HX0000000000000000000000", org.as_str(), "an unknown user"),
        (users["owner"].as_str(), "org_01HX0000000000000000000000", "an unknown org id"),
        (users["owner"].as_str(), "no-such-org", "an unknown slug"),
        (users["owner"].as_str(), "org_not-an-id", "a malformed org id"),
        (users["owner"].as_str(), &outsider.personal_org, "the owner of acme in someone else's org"),
    ] {
        let answer = app.authorize(user, reference, "endpoints.view").await;
        assert_eq!(answer["allowed"], false, "{why}: {answer}");
        assert!(answer["reason"].as_str().unwrap().contains("not a member"), "{why}: {answer}");
    }
    let r = app
        .post(
            "/v1/authorize",
            Some(SERVICE_TOKEN),
            json!({ "subject": { "key_id": "key_01HX0000000000000000000000" }, "org": org, "permission": "endpoints.view" }),
        )
        .await
        .expect(200);
    assert_eq!(r.body["data"]["allowed"], false);
}

#[tokio::test]
async fn only_host_apps_and_the_instance_admin_may_ask() {
    let app = spawn_app().await;
    let (org, users) = org_with_every_role(&app).await;
    let owner = app
        .post("/v1/auth/login", None, json!({ "email": "owner@example.com", "password": crate::common::PASSWORD }))
        .await
        .expect(200);
    let user_token = owner.body["data"]["access_token"].as_str().unwrap().to_owned();
    let body = check(&users["admin"], &org, "org.manage");

    let r = app.post("/v1/authorize", Some(&user_token), body.clone()).await.expect(403);
    assert_eq!(r.code(), "forbidden");
    app.post("/v1/authorize", None, body.clone()).await.expect(401);
    app.post("/v1/authorize", Some("not-a-token"), body.clone()).await.expect(401);
    for token in [SERVICE_TOKEN, ADMIN_TOKEN] {
        let r = app.post("/v1/authorize", Some(token), body.clone()).await.expect(200);
        assert_eq!(r.body["data"]["allowed"], true);
    }
}
