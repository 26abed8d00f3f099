//! SPEC 13a: member status. `PATCH …/members/{user} {status}` suspends a member (`members.remove`;
//! never the owner, never oneself, only members the caller outranks); a suspended member keeps the
//! seat but is refused on every org route (403 `member_suspended`) and by `/v1/authorize`, at once.

use serde_json::{json, Value};

use crate::common::{spawn_app, Account, Response, TestApp, ADMIN_TOKEN, PASSWORD};
use crate::page_client::Browser;

/// Acme on `team`, owned by Ada, with Bob (admin), Carol (developer) and Dan (viewer).
struct Acme {
    app: TestApp,
    org: String,
    ada: Account,
    bob: Account,
    carol: Account,
    dan: Account,
}

async fn acme() -> Acme {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let carol = app.signup("carol@example.com", "Carol").await;
    let dan = app.signup("dan@example.com", "Dan").await;
    app.add_member(&org, &bob, "admin").await;
    app.add_member(&org, &carol, "developer").await;
    app.add_member(&org, &dan, "viewer").await;
    Acme { app, org, ada, bob, carol, dan }
}

impl Acme {
    async fn patch_member(&self, by: &str, who: &Account, body: Value) -> Response {
        self.app.patch(&format!("/v1/orgs/{}/members/{}", self.org, who.user_id), Some(by), body).await
    }

    async fn set_status(&self, by: &Account, who: &Account, status: &str) -> Response {
        self.patch_member(&by.access, who, json!({ "status": status })).await
    }
}

/// Every org route a member reaches, as `(method, path, body)`.
fn member_routes(org: &str, other: &str) -> Vec<(reqwest::Method, String, Option<Value>)> {
    use reqwest::Method;
    vec![
        (Method::GET, format!("/v1/orgs/{org}"), None),
        (Method::GET, format!("/v1/orgs/{org}/members"), None),
        (Method::GET, format!("/v1/orgs/{org}/members/{other}"), None),
        (Method::GET, format!("/v1/orgs/{org}/roles"), None),
        (Method::GET, format!("/v1/orgs/{org}/usage"), None),
        (Method::POST, format!("/v1/orgs/{org}/leave"), Some(json!({}))),
        (Method::POST, format!("/v1/orgs/{org}/api-keys"), Some(json!({ "name": "k", "scopes": ["endpoints.view"] }))),
    ]
}

#[tokio::test]
async fn a_suspended_member_is_refused_at_once_and_admitted_again_when_unsuspended() {
    let acme = acme().await;
    let Acme { app, org, bob, carol, .. } = &acme;
    // Warm every cache that answers for Carol: authorize, her standing, the member pages.
    assert!(app.allowed(&carol.user_id, org, "endpoints.create").await);
    app.get(&format!("/v1/orgs/{org}/members"), Some(&carol.access)).await.expect(200);
    app.get(&format!("/v1/orgs/{org}"), Some(&carol.access)).await.expect(200);

    let r = acme.set_status(bob, carol, "suspended").await.expect(200);
    assert_eq!(r.body["data"]["status"], "suspended");
    assert_eq!(r.body["data"]["role"], "developer", "the role is kept");

    for (method, path, body) in member_routes(org, &bob.user_id) {
        let r = app.call(method.clone(), &path, Some(&carol.access), body).await;
        assert_eq!(r.status.as_u16(), 403, "{method} {path}: {}", r.body);
        assert_eq!(r.code(), "member_suspended", "{method} {path}");
        assert!(r.body["error"]["request_id"].is_string());
    }
    let decision = app.authorize(&carol.user_id, org, "endpoints.view").await;
    assert_eq!(decision["allowed"], false);
    assert!(decision["reason"].as_str().unwrap().contains("suspended"), "{decision}");
    // By slug too (another cache key).
    assert!(!app.allowed(&carol.user_id, "acme", "endpoints.view").await);

    // She keeps her seat, and the list says she is suspended.
    let members = app.get(&format!("/v1/orgs/{org}/members"), Some(&bob.access)).await.expect(200);
    let listed = members.body["data"].as_array().unwrap();
    assert_eq!(listed.len(), 4);
    let row = listed.iter().find(|m| m["user_id"] == carol.user_id.as_str()).unwrap();
    assert_eq!(row["status"], "suspended");
    assert!(listed.iter().filter(|m| m["user_id"] != carol.user_id.as_str()).all(|m| m["status"] == "active"));
    let seats = app.get(&format!("/v1/orgs/{org}"), Some(&bob.access)).await.expect(200);
    assert_eq!(seats.body["data"]["seat_count"], 4);
    // Her other orgs are hers as before.
    app.get(&format!("/v1/orgs/{}", carol.personal_org), Some(&carol.access)).await.expect(200);

    let r = acme.set_status(bob, carol, "active").await.expect(200);
    assert_eq!(r.body["data"]["status"], "active");
    app.get(&format!("/v1/orgs/{org}"), Some(&carol.access)).await.expect(200);
    app.get(&format!("/v1/orgs/{org}/members"), Some(&carol.access)).await.expect(200);
    assert!(app.allowed(&carol.user_id, org, "endpoints.create").await);

    let events: Vec<(String, String, String, Value)> = app.audit_after_setup(org).await;
    let summary: Vec<(&str, &str, &str)> =
        events.iter().map(|(action, actor, target, _)| (action.as_str(), actor.as_str(), target.as_str())).collect();
    assert_eq!(
        summary,
        [
            ("member.suspended", bob.user_id.as_str(), carol.user_id.as_str()),
            ("member.unsuspended", bob.user_id.as_str(), carol.user_id.as_str()),
        ]
    );
    assert_eq!(events[0].3["role"], "developer");
    // Host apps hear of both, each with the membership as it became (on PostgreSQL the log
    // shows an event once no older transaction runs, so this waits a moment for them).
    let mut changes: Vec<(String, String)> = Vec::new();
    for _ in 0..100 {
        changes = app
            .org_events_once(org, 0)
            .await
            .iter()
            .filter(|e| e["data"]["user_id"] == carol.user_id.as_str() && e["type"] != "member.added")
            .map(|e| (e["type"].as_str().unwrap().to_owned(), e["data"]["status"].as_str().unwrap_or("").to_owned()))
            .collect();
        if changes.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let changes: Vec<(&str, &str)> = changes.iter().map(|(t, s)| (t.as_str(), s.as_str())).collect();
    assert_eq!(changes, [("member.suspended", "suspended"), ("member.unsuspended", "active")]);
}

#[tokio::test]
async fn suspension_needs_members_remove_and_never_reaches_the_owner_oneself_or_a_higher_role() {
    let acme = acme().await;
    let Acme { app, org, ada, bob, carol, dan } = &acme;

    // Without `members.remove`.
    let r = acme.set_status(dan, carol, "suspended").await.expect(403);
    assert_eq!(r.code(), "forbidden");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("members.remove"), "{}", r.body);
    // Never oneself.
    let r = acme.set_status(bob, bob, "suspended").await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("themselves"), "{}", r.body);
    // Never the owner, not even by the instance admin.
    let r = acme.set_status(bob, ada, "suspended").await.expect(409);
    assert_eq!(r.code(), "last_owner");
    let r = acme.patch_member(ADMIN_TOKEN, ada, json!({ "status": "suspended" })).await.expect(409);
    assert_eq!(r.code(), "last_owner");

    // A role that may remove members suspends only those it outranks.
    app.post(
        &format!("/v1/orgs/{org}/roles"),
        Some(&ada.access),
        json!({ "key": "moderator", "name": "Moderator",
                "permissions": ["members.remove", "endpoints.view", "requests.replay"] }),
    )
    .await
    .expect(201);
    let eve = app.signup("eve@example.com", "Eve").await;
    app.add_member(org, &eve, "moderator").await;
    let r = acme.set_status(&eve, carol, "suspended").await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("endpoints.create"), "{}", r.body);
    acme.set_status(&eve, dan, "suspended").await.expect(200);
    acme.set_status(&eve, dan, "active").await.expect(200);

    // The body is checked, naming the field.
    let r = acme.set_status(bob, carol, "banned").await.expect(400);
    assert_eq!(r.code(), "invalid_request");
    assert_eq!(r.body["error"]["details"]["field"], "status", "{}", r.body);
    acme.patch_member(&bob.access, carol, json!({})).await.expect(400);
    acme.patch_member(&bob.access, carol, json!({ "status": "active", "mood": "fine" })).await.expect(400);

    // Nothing was refused halfway: nobody is suspended, no event but Eve's pair.
    for who in [ada, bob, carol, dan] {
        assert!(app.get(&format!("/v1/orgs/{org}"), Some(&who.access)).await.status.is_success());
    }
    let actions: Vec<String> = app.audit_after_setup(org).await.into_iter().map(|(a, ..)| a).collect();
    assert_eq!(actions, ["role.created", "member.added", "member.suspended", "member.unsuspended"]);
}

#[tokio::test]
async fn setting_the_status_a_member_has_changes_nothing_and_role_and_status_change_together() {
    let acme = acme().await;
    let Acme { app, org, bob, carol, .. } = &acme;
    let before = app.audit_count().await;
    let r = acme.set_status(bob, carol, "active").await.expect(200);
    assert_eq!(r.body["data"]["status"], "active");
    assert_eq!(app.audit_count().await, before);

    let r = acme.patch_member(&bob.access, carol, json!({ "role": "viewer", "status": "suspended" })).await.expect(200);
    assert_eq!((r.body["data"]["role"].as_str(), r.body["data"]["status"].as_str()), (Some("viewer"), Some("suspended")));
    let actions: Vec<String> = app.audit_after_setup(org).await.into_iter().map(|(a, ..)| a).collect();
    assert_eq!(actions, ["member.role_changed", "member.suspended"]);
    let r = app.get(&format!("/v1/orgs/{org}/members/{}", carol.user_id), Some(&bob.access)).await.expect(200);
    assert_eq!(r.body["data"]["status"], "suspended");
    assert!(!app.allowed(&carol.user_id, org, "endpoints.view").await);

    // A suspended member can still be removed (and then is simply not a member).
    app.delete(&format!("/v1/orgs/{org}/members/{}", carol.user_id), Some(&bob.access)).await.expect(204);
    let r = app.get(&format!("/v1/orgs/{org}"), Some(&carol.access)).await.expect(404);
    assert_eq!(r.code(), "not_found");
}

#[tokio::test]
async fn a_suspended_member_cannot_be_made_owner_nor_vouch_for_invitations() {
    let acme = acme().await;
    let Acme { app, org, ada, bob, carol, .. } = &acme;
    // Bob invites Grace, then is suspended: his invitation no longer vouches for her.
    let r = app
        .post(
            &format!("/v1/orgs/{org}/invitations"),
            Some(&bob.access),
            json!({ "email": "grace@example.com", "role": "developer" }),
        )
        .await
        .expect(201);
    let token = r.body["data"]["token"].as_str().unwrap().to_owned();
    acme.set_status(ada, bob, "suspended").await.expect(200);
    let grace = app.verified_signup("grace@example.com", "Grace").await;
    app.post(&format!("/v1/invitations/{token}/accept"), Some(&grace.access), json!({})).await.expect(403);

    let r = app
        .post(
            &format!("/v1/orgs/{org}/transfer-ownership"),
            Some(&ada.access),
            json!({ "new_owner_user_id": bob.user_id, "current_password": PASSWORD }),
        )
        .await
        .expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "new_owner_user_id");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("suspended"), "{}", r.body);

    // Switching to the org, or naming it in a header, is refused too.
    let r = app.post("/v1/auth/switch-org", Some(&bob.access), json!({ "org_id": org })).await.expect(403);
    assert_eq!(r.code(), "member_suspended");
    let r = app
        .call_with(reqwest::Method::GET, "/v1/me", Some(&carol.access), &[("x-organization-id", org)], None)
        .await
        .expect(200);
    assert_eq!(r.body["data"]["user"]["id"], carol.user_id.as_str());
    let r = app
        .call_with(reqwest::Method::GET, "/v1/me", Some(&bob.access), &[("x-organization-id", org)], None)
        .await
        .expect(403);
    assert_eq!(r.code(), "member_suspended");
}

#[tokio::test]
async fn the_dashboard_shows_suspended_members_and_suspends_with_a_plain_form() {
    let acme = acme().await;
    let Acme { app, org, ada, bob, carol, .. } = &acme;
    let browser = Browser::new(app);
    browser.log_in("bob@example.com", PASSWORD).await;
    let status_form = |who: &Account| format!("/app/org/acme/members/{}/status", who.user_id);

    let page = browser.get("/app/org/acme/members").await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains(&format!("formaction=\"{}\"", status_form(carol))), "{}", page.html);
    // Not on the owner's row, nor on one's own.
    assert!(!page.html.contains(&format!("action=\"{}\"", status_form(ada))));
    assert!(!page.html.contains(&format!("action=\"{}\"", status_form(bob))));
    assert!(!page.html.contains("<span class=\"tag\">suspended</span>"));

    let after = browser.submit(&status_form(carol), &page, &[("status", "suspended")]).await;
    assert_eq!((after.status, after.path.as_str()), (200, "/app/org/acme/members"), "{}", after.html);
    assert!(after.html.contains("<span class=\"tag\">suspended</span>"), "{}", after.html);
    assert!(after.html.contains("Unsuspend"));
    let r = app.get(&format!("/v1/orgs/{org}"), Some(&carol.access)).await.expect(403);
    assert_eq!(r.code(), "member_suspended");

    // A form without the anti-forgery field changes nothing.
    let forged = browser.post(&status_form(carol), &[("status", "active")]).await;
    assert_eq!(forged.status, 403);
    app.get(&format!("/v1/orgs/{org}"), Some(&carol.access)).await.expect(403);

    let after = browser.submit(&status_form(carol), &after, &[("status", "active")]).await;
    assert_eq!(after.status, 200);
    assert!(!after.html.contains("<span class=\"tag\">suspended</span>"), "{}", after.html);
    app.get(&format!("/v1/orgs/{org}"), Some(&carol.access)).await.expect(200);
}

#[tokio::test]
async fn the_openapi_document_describes_the_status_of_members_and_of_the_patch() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json", None).await.expect(200).body;
    let schemas = &doc["components"]["schemas"];
    let member = &schemas["MemberView"]["properties"];
    assert!(member["status"].is_object(), "{}", schemas["MemberView"]);
    let body = &schemas["ChangeMemberBody"]["properties"];
    assert!(body["role"].is_object() && body["status"].is_object(), "{}", schemas["ChangeMemberBody"]);
    let patch = &doc["paths"]["/v1/orgs/{org}/members/{user}"]["patch"];
    let reference = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str().unwrap();
    assert!(reference.ends_with("/ChangeMemberBody"), "{reference}");
    assert_eq!(schemas["MemberStatusField"]["enum"], json!(["active", "suspended"]), "{}", schemas);
}
