//! Invitations (SPEC 6): invite, list, revoke, resend, preview, accept, decline; expiry, plan
//! limits, role rules, exactly-once acceptance, email delivery and audit.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use tenantry_core::context::Clock;
use tokio::task::JoinSet;

use crate::common::{config, spawn_app, spawn_with, Account, Response, TestApp, ADMIN_TOKEN, SERVICE_TOKEN};
use crate::smtp_sink::SmtpSink;

/// A new org of `owner` on `plan`; returns its id.
async fn org_on(app: &TestApp, owner: &Account, name: &str, plan: &str) -> String {
    let id = app.create_org(owner, name).await["id"].as_str().unwrap().to_owned();
    app.set_plan(&id, plan).await;
    id
}

async fn invite(app: &TestApp, who: &Account, org: &str, email: &str, role: &str) -> Response {
    app.post(&format!("/v1/orgs/{org}/invitations"), Some(&who.access), json!({ "email": email, "role": role })).await
}

fn token_of(r: &Response) -> String {
    r.body["data"]["token"].as_str().unwrap().to_owned()
}

fn id_of(r: &Response) -> String {
    r.body["data"]["id"].as_str().unwrap().to_owned()
}

async fn state_of(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("SELECT state FROM invitations WHERE id = $1").bind(id).fetch_one(&app.db).await.unwrap()
}

async fn members_of(app: &TestApp, who: &Account, org: &str) -> Vec<(String, String)> {
    let r = app.get(&format!("/v1/orgs/{org}/members?limit=100"), Some(&who.access)).await.expect(200);
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["email"].as_str().unwrap().to_owned(), m["role"].as_str().unwrap().to_owned()))
        .collect()
}

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn an_invitation_carries_its_token_once_and_emails_the_link() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_on(&app, &ada, "Acme", "starter").await;
    let before = app.audit_count().await;

    let r = invite(&app, &ada, &org, "Grace@Example.com", "developer").await.expect(201);
    let data = &r.body["data"];
    let token = token_of(&r);
    assert!(token.len() >= 22, "at least 128 bits: {token}");
    assert_eq!(data["accept_url"], format!("{}/accept-invite/{token}", app.base));
    assert_eq!(data["email"], "grace@example.com");
    assert_eq!(data["role"], "developer");
    assert_eq!(data["state"], "pending");
    assert_eq!(data["invited_by"], ada.user_id.as_str());
    assert!(data["id"].as_str().unwrap().starts_with("inv_"));
    assert_eq!(time(&data["expires_at"]) - time(&data["created_at"]), Duration::days(7));

    // The email names the org and the inviter and carries the link.
    let email = app.last_email_to("grace@example.com").await;
    let subject = email["subject"].as_str().unwrap();
    assert!(subject.contains("Ada") && subject.contains("Acme"), "{subject}");
    for part in ["text", "html"] {
        let body = email[part].as_str().unwrap();
        assert!(body.contains("Ada") && body.contains("Acme"), "{part}: {body}");
        assert!(body.contains(&format!("{}/accept-invite/{token}", app.base)), "{part}: {body}");
    }

    // Only the hash is stored.
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM invitations").fetch_one(&app.db).await.unwrap();
    assert_ne!(stored, token);
    assert_eq!(stored.len(), 64);

    // The list shows the invitation without its token.
    let list = app.get(&format!("/v1/orgs/{org}/invitations"), Some(&ada.access)).await.expect(200);
    let listed = &list.body["data"][0];
    assert_eq!(listed["id"], data["id"]);
    let keys: BTreeSet<&str> = listed.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["id", "email", "role", "state", "expires_at", "invited_by", "team_ids", "created_at"])
    );
    assert!(!list.body.to_string().contains(&token));

    // The public preview shows what the invitee needs, nothing else.
    let preview = app.get(&format!("/v1/invitations/{token}"), None).await.expect(200);
    assert_eq!(
        preview.body["data"],
        json!({
            "org_name": "Acme",
            "inviter_name": "Ada",
            "role": "developer",
            "role_name": preview.body["data"]["role_name"],
            "state": "pending",
            "expires_at": data["expires_at"],
        })
    );
    assert!(!preview.body.to_string().contains("grace@"), "the preview does not show the address");

    // One audit event, without the token.
    assert_eq!(app.audit_count().await, before + 1);
    let (action, target, metadata): (String, String, String) =
        sqlx::query_as("SELECT action, target_id, metadata FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((action.as_str(), target.as_str()), ("invitation.created", data["id"].as_str().unwrap()));
    assert!(metadata.contains("grace@example.com"));
    let all: Vec<String> = sqlx::query_scalar("SELECT metadata FROM audit_events").fetch_all(&app.db).await.unwrap();
    assert!(all.iter().all(|m| !m.contains(&token)), "the token is in no audit event");
}

#[tokio::test]
async fn the_lifetime_defaults_to_seven_days_and_is_at_most_thirty() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_on(&app, &ada, "Acme", "team").await;
    let path = format!("/v1/orgs/{org}/invitations");
    let r = app
        .post(&path, Some(&ada.access), json!({ "email": "a@example.com", "role": "viewer", "expires_in": 3600 }))
        .await
        .expect(201);
    assert_eq!(time(&r.body["data"]["expires_at"]), app.clock.now() + Duration::hours(1));
    let r = app
        .post(&path, Some(&ada.access), json!({ "email": "b@example.com", "role": "viewer", "expires_in": 2_592_000 }))
        .await
        .expect(201);
    assert_eq!(time(&r.body["data"]["expires_at"]), app.clock.now() + Duration::days(30));
    for bad in [json!(2_592_001), json!(0), json!(-5), json!("soon")] {
        let r = app
            .post(&path, Some(&ada.access), json!({ "email": "c@example.com", "role": "viewer", "expires_in": bad }))
            .await
            .expect(400);
        assert_eq!(r.body["error"]["details"]["field"], "expires_in", "{bad}");
    }
    // Without a role, the preset's default invitation role.
    let r = app.post(&path, Some(&ada.access), json!({ "email": "d@example.com" })).await.expect(201);
    assert_eq!(r.body["data"]["role"], "developer");
    let r = app.post(&path, Some(&ada.access), json!({ "email": "not an email", "role": "viewer" })).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "email");
}

#[tokio::test]
async fn a_free_org_cannot_invite() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let before = (app.audit_count().await, app.get("/v1/admin/outbox", Some(ADMIN_TOKEN)).await.body["data"].clone());
    let r = invite(&app, &ada, &ada.personal_org, "grace@example.com", "developer").await.expect(402);
    assert_eq!(r.code(), "plan_limit_reached");
    assert_eq!(r.body["error"]["details"]["max"], 1);
    let after = (app.audit_count().await, app.get("/v1/admin/outbox", Some(ADMIN_TOKEN)).await.body["data"].clone());
    assert_eq!(before, after, "a refusal writes nothing and sends nothing");
}

#[tokio::test]
async fn pending_invitations_count_against_the_member_limit() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_on(&app, &ada, "Acme", "starter").await;
    let first = invite(&app, &ada, &org, "grace@example.com", "developer").await.expect(201);
    let r = invite(&app, &ada, &org, "linus@example.com", "developer").await.expect(402);
    assert_eq!(r.body["error"]["details"]["pending_invitations"], 1);
    // Revoking frees the slot; an expired invitation frees it too.
    app.delete(&format!("/v1/orgs/{org}/invitations/{}", id_of(&first)), Some(&ada.access)).await.expect(204);
    invite(&app, &ada, &org, "linus@example.com", "developer").await.expect(201);
    app.clock.advance(Duration::days(8));
    let ada = Account { access: app.login("ada@example.com").await, ..ada };
    invite(&app, &ada, &org, "grace@example.com", "developer").await.expect(201);
}

#[tokio::test]
async fn the_member_limit_is_checked_again_at_acceptance() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_on(&app, &ada, "Acme", "starter").await;
    let r = invite(&app, &ada, &org, "grace@example.com", "developer").await.expect(201);
    let grace = app.verified_signup("grace@example.com", "Grace").await;

    app.set_plan(&org, "free").await;
    let before = app.audit_count().await;
    let r2 = app.post(&format!("/v1/invitations/{}/accept", token_of(&r)), Some(&grace.access), json!({})).await;
    assert_eq!(r2.expect(402).code(), "plan_limit_reached");
    assert_eq!(state_of(&app, &id_of(&r)).await, "pending");
    assert_eq!(app.audit_count().await, before);
    assert_eq!(members_of(&app, &ada, &org).await.len(), 1);

    app.set_plan(&org, "starter").await;
    app.post(&format!("/v1/invitations/{}/accept", token_of(&r)), Some(&grace.access), json!({})).await.expect(200);
    assert_eq!(members_of(&app, &ada, &org).await.len(), 2);
}

#[tokio::test]
async fn members_and_pending_addresses_cannot_be_invited_twice() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_on(&app, &ada, "Acme", "team").await;
    let r = invite(&app, &ada, &org, "ADA@example.com", "viewer").await.expect(409);
    assert_eq!(r.code(), "already_member");

    let first = invite(&app, &ada, &org, "grace@example.com", "viewer").await.expect(201);
    let r = invite(&app, &ada, &org, "Grace@Example.COM", "developer").await.expect(409);
    assert_eq!(r.code(), "invitation_exists");
    assert_eq!(r.body["error"]["details"]["invitation_id"], first.body["data"]["id"]);
    assert!(r.body["error"]["message"].as_str().unwrap().contains(first.body["data"]["id"].as_str().unwrap()));
}

#[tokio::test]
async fn concurrent_invitations_to_one_address_create_one() {
    let app = Arc::new(spawn_app().await);
    let ada = Arc::new(app.signup("ada@example.com", "Ada").await);
    let org = org_on(&app, &ada, "Acme", "team").await;
    let mut set = JoinSet::new();
    for _ in 0..10 {
        let (app, ada, org) = (app.clone(), ada.clone(), org.clone());
        set.spawn(async move { invite(&app, &ada, &org, "grace@example.com", "viewer").await.status.as_u16() });
    }
    let mut statuses = Vec::new();
    while let Some(status) = set.join_next().await {
        statuses.push(status.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [vec![201], vec![409; 9]].concat());
}

#[tokio::test]
async fn the_role_must_exist_and_be_grantable_by_the_inviter() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let dev = app.signup("dev@example.com", "Dev").await;
    let org = org_on(&app, &ada, "Acme", "team").await;
    app.add_member(&org, &bob, "admin").await;
    app.add_member(&org, &dev, "developer").await;

    let r = invite(&app, &ada, &org, "g@example.com", "wizard").await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "role");
    invite(&app, &ada, &org, "g@example.com", "owner").await.expect(403);
    let r = invite(&app, &dev, &org, "g@example.com", "viewer").await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("members.invite"));

    // A custom role holding a permission the admin lacks cannot be granted by the admin.
    app.post(
        &format!("/v1/orgs/{org}/roles"),
        Some(&ada.access),
        json!({ "key": "cleaner", "name": "Cleaner", "permissions": ["endpoints.delete"] }),
    )
    .await
    .expect(201);
    let r = invite(&app, &bob, &org, "g@example.com", "cleaner").await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("endpoints.delete"));
    invite(&app, &ada, &org, "g@example.com", "cleaner").await.expect(201);
    invite(&app, &bob, &org, "h@example.com", "admin").await.expect(201);
}

#[tokio::test]
async fn assignable_by_limits_who_may_invite_to_a_role() {
    let mut config = config();
    config.preset = "yipyap".into();
    let app = spawn_with(config).await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let org = org_on(&app, &ada, "Acme", "team").await;
    app.add_member(&org, &bob, "admin").await;
    let r = invite(&app, &bob, &org, "g@example.com", "admin").await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("owner"), "{}", r.body);
    invite(&app, &bob, &org, "g@example.com", "member").await.expect(201);
    invite(&app, &ada, &org, "h@example.com", "admin").await.expect(201);
}

#[tokio::test]
async fn only_the_verified_invited_user_may_accept() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_on(&app, &ada, "Acme", "starter").await;
    let r = invite(&app, &ada, &org, "grace@example.com", "developer").await.expect(201);
    let (id, token) = (id_of(&r), token_of(&r));
    let accept = format!("/v1/invitations/{token}/accept");

    app.post(&accept, None, json!({})).await.expect(401);
    app.post(&accept, Some(ADMIN_TOKEN), json!({})).await.expect(403);
    let mallory = app.verified_signup("mallory@example.com", "Mallory").await;
    let r = app.post(&accept, Some(&mallory.access), json!({})).await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("another email address"));
    app.post(&format!("/v1/invitations/{token}/decline"), Some(&mallory.access), json!({})).await.expect(403);

    let grace = app.signup_unverified("grace@example.com", "Grace").await;
    let r = app.post(&accept, Some(&grace.access), json!({})).await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("confirm your email"));
    assert_eq!(state_of(&app, &id).await, "pending");

    let verify = app.emailed_token("grace@example.com", "/verify-email/").await;
    app.post("/v1/auth/verify-email", None, json!({ "token": verify })).await.expect(204);
    let before = app.audit_count().await;
    let r = app.post(&accept, Some(&grace.access), json!({})).await.expect(200);
    assert_eq!(r.body["data"]["org"]["id"], org.as_str());
    assert_eq!(r.body["data"]["org"]["role"], "developer");
    assert_eq!(r.body["data"]["org"]["seat_count"], 2);
    assert_eq!(r.body["data"]["member"]["user_id"], grace.user_id.as_str());
    assert_eq!(r.body["data"]["member"]["role"], "developer");
    assert_eq!(state_of(&app, &id).await, "accepted");
    assert!(members_of(&app, &ada, &org).await.contains(&("grace@example.com".into(), "developer".into())));
    // The new member's permissions hold at once.
    app.get(&format!("/v1/orgs/{org}"), Some(&grace.access)).await.expect(200);

    assert_eq!(app.audit_count().await, before + 2);
    let events: Vec<(String, String, String, String)> =
        sqlx::query_as("SELECT action, actor_id, target_type, target_id FROM audit_events ORDER BY seq DESC LIMIT 2")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        events,
        vec![
            ("member.added".into(), grace.user_id.clone(), "user".into(), grace.user_id.clone()),
            ("invitation.accepted".into(), grace.user_id.clone(), "invitation".into(), id.clone()),
        ]
    );

    let r = app.post(&accept, Some(&grace.access), json!({})).await.expect(409);
    assert_eq!(r.code(), "invitation_not_pending");
    let preview = app.get(&format!("/v1/invitations/{token}"), None).await.expect(200);
    assert_eq!(preview.body["data"]["state"], "accepted");
}

#[tokio::test]
async fn twenty_concurrent_accepts_create_exactly_one_membership() {
    let app = Arc::new(spawn_app().await);
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_on(&app, &ada, "Acme", "starter").await;
    let token = token_of(&invite(&app, &ada, &org, "grace@example.com", "viewer").await.expect(201));
    let grace = Arc::new(app.verified_signup("grace@example.com", "Grace").await);

    let mut set = JoinSet::new();
    for _ in 0..20 {
        let (app, grace, token) = (app.clone(), grace.clone(), token.clone());
        set.spawn(async move {
            let r = app.post(&format!("/v1/invitations/{token}/accept"), Some(&grace.access), json!({})).await;
            (r.status.as_u16(), r.code().to_owned())
        });
    }
    let mut outcomes = Vec::new();
    while let Some(outcome) = set.join_next().await {
        outcomes.push(outcome.unwrap());
    }
    assert_eq!(outcomes.iter().filter(|(s, _)| *s == 200).count(), 1, "{outcomes:?}");
    let refused: Vec<_> = outcomes.iter().filter(|(s, _)| *s != 200).collect();
    assert_eq!(refused.len(), 19);
    assert!(refused.iter().all(|(s, code)| *s == 409 && code == "invitation_not_pending"), "{refused:?}");

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
    let added: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'member.added'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(added, 1);
}

#[tokio::test]
async fn an_invitation_expires_with_the_clock() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_on(&app, &ada, "Acme", "starter").await;
    let r = invite(&app, &ada, &org, "grace@example.com", "viewer").await.expect(201);
    let (id, token) = (id_of(&r), token_of(&r));
    let list = |state: &'static str, access: String| {
        let (app, org) = (&app, &org);
        async move {
            let r = app.get(&format!("/v1/orgs/{org}/invitations?state={state}"), Some(&access)).await.expect(200);
            r.body["data"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };

    app.clock.advance(Duration::days(7) - Duration::milliseconds(1));
    let ada = Account { access: app.login("ada@example.com").await, ..ada };
    assert_eq!(list("pending", ada.access.clone()).await, vec![id.clone()]);
    app.clock.advance(Duration::milliseconds(1));
    assert_eq!(list("pending", ada.access.clone()).await, Vec::<String>::new());
    assert_eq!(list("expired", ada.access.clone()).await, vec![id.clone()]);
    let grace = app.verified_signup("grace@example.com", "Grace").await;
    let all = app.get(&format!("/v1/orgs/{org}/invitations"), Some(&ada.access)).await.expect(200);
    assert_eq!(all.body["data"][0]["state"], "expired");
    let preview = app.get(&format!("/v1/invitations/{token}"), None).await.expect(200);
    assert_eq!(preview.body["data"]["state"], "expired");

    let r = app.post(&format!("/v1/invitations/{token}/accept"), Some(&grace.access), json!({})).await.expect(410);
    assert_eq!(r.code(), "invitation_expired");
    app.post(&format!("/v1/invitations/{token}/decline"), Some(&grace.access), json!({})).await.expect(410);
    app.delete(&format!("/v1/orgs/{org}/invitations/{id}"), Some(&ada.access)).await.expect(410);

    // Resending revives it with a new link and a fresh week.
    let r =
        app.post(&format!("/v1/orgs/{org}/invitations/{id}/resend"), Some(&ada.access), json!({})).await.expect(200);
    assert_eq!(r.body["data"]["state"], "pending");
    assert_eq!(time(&r.body["data"]["expires_at"]), app.clock.now() + Duration::days(7));
    let fresh = token_of(&r);
    app.get(&format!("/v1/invitations/{token}"), None).await.expect(404);
    app.post(&format!("/v1/invitations/{fresh}/accept"), Some(&grace.access), json!({})).await.expect(200);
}

#[tokio::test]
async fn resending_replaces_the_token_and_names_the_resender() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let org = org_on(&app, &ada, "Acme", "team").await;
    app.add_member(&org, &bob, "admin").await;
    let r = invite(&app, &ada, &org, "grace@example.com", "viewer").await.expect(201);
    let (id, old) = (id_of(&r), token_of(&r));
    app.clock.advance(Duration::days(2));
    let bob = Account { access: app.login("bob@example.com").await, ..bob };
    let ada = Account { access: app.login("ada@example.com").await, ..ada };

    let r =
        app.post(&format!("/v1/orgs/{org}/invitations/{id}/resend"), Some(&bob.access), json!({})).await.expect(200);
    let new = token_of(&r);
    assert_ne!(new, old);
    assert_eq!(r.body["data"]["id"], id.as_str());
    assert_eq!(r.body["data"]["invited_by"], bob.user_id.as_str());
    assert_eq!(r.body["data"]["accept_url"], format!("{}/accept-invite/{new}", app.base));
    assert_eq!(time(&r.body["data"]["expires_at"]), app.clock.now() + Duration::days(7));
    app.get(&format!("/v1/invitations/{old}"), None).await.expect(404);
    let preview = app.get(&format!("/v1/invitations/{new}"), None).await.expect(200);
    assert_eq!(preview.body["data"]["inviter_name"], "Bob");
    let email = app.last_email_to("grace@example.com").await;
    assert!(email["text"].as_str().unwrap().contains(&new));
    assert!(email["subject"].as_str().unwrap().contains("Bob"));
    assert_eq!(app.audit_actions().await.last().unwrap(), "invitation.resent");
    let metadata: String = sqlx::query_scalar("SELECT metadata FROM audit_events WHERE action = 'invitation.resent'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!metadata.contains(&new) && !metadata.contains(&old));

    // Accepted, revoked or declined invitations are not resent.
    let grace = app.verified_signup("grace@example.com", "Grace").await;
    app.post(&format!("/v1/invitations/{new}/accept"), Some(&grace.access), json!({})).await.expect(200);
    let r =
        app.post(&format!("/v1/orgs/{org}/invitations/{id}/resend"), Some(&ada.access), json!({})).await.expect(409);
    assert_eq!(r.code(), "invitation_not_pending");
    let other = id_of(&invite(&app, &ada, &org, "linus@example.com", "viewer").await.expect(201));
    app.delete(&format!("/v1/orgs/{org}/invitations/{other}"), Some(&ada.access)).await.expect(204);
    let r = app.post(&format!("/v1/orgs/{org}/invitations/{other}/resend"), Some(&ada.access), json!({})).await;
    assert_eq!(r.expect(409).code(), "invitation_not_pending");
}

#[tokio::test]
async fn revoking_kills_the_link() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let dev = app.signup("dev@example.com", "Dev").await;
    let org = org_on(&app, &ada, "Acme", "team").await;
    app.add_member(&org, &dev, "developer").await;
    let r = invite(&app, &ada, &org, "grace@example.com", "viewer").await.expect(201);
    let (id, token) = (id_of(&r), token_of(&r));
    let grace = app.verified_signup("grace@example.com", "Grace").await;

    app.delete(&format!("/v1/orgs/{org}/invitations/{id}"), Some(&dev.access)).await.expect(403);
    app.delete(&format!("/v1/orgs/{org}/invitations/{id}"), Some(&ada.access)).await.expect(204);
    assert_eq!(app.audit_actions().await.last().unwrap(), "invitation.revoked");
    let preview = app.get(&format!("/v1/invitations/{token}"), None).await.expect(200);
    assert_eq!(preview.body["data"]["state"], "revoked");
    let r = app.post(&format!("/v1/invitations/{token}/accept"), Some(&grace.access), json!({})).await.expect(409);
    assert_eq!(r.code(), "invitation_not_pending");
    let r = app.delete(&format!("/v1/orgs/{org}/invitations/{id}"), Some(&ada.access)).await.expect(409);
    assert_eq!(r.code(), "invitation_not_pending");
    app.delete(&format!("/v1/orgs/{org}/invitations/inv_nonsense"), Some(&ada.access)).await.expect(404);
    let listed = app.get(&format!("/v1/orgs/{org}/invitations?state=revoked"), Some(&ada.access)).await.expect(200);
    assert_eq!(listed.body["data"][0]["id"], id.as_str());
}

#[tokio::test]
async fn declining_closes_the_invitation() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_on(&app, &ada, "Acme", "starter").await;
    let r = invite(&app, &ada, &org, "grace@example.com", "viewer").await.expect(201);
    let token = token_of(&r);
    let grace = app.verified_signup("grace@example.com", "Grace").await;
    let r = app.post(&format!("/v1/invitations/{token}/decline"), Some(&grace.access), json!({})).await.expect(200);
    assert_eq!(r.body["data"]["state"], "declined");
    assert!(r.body["data"].get("token").is_none());
    assert_eq!(app.audit_actions().await.last().unwrap(), "invitation.declined");
    let r = app.post(&format!("/v1/invitations/{token}/accept"), Some(&grace.access), json!({})).await.expect(409);
    assert_eq!(r.code(), "invitation_not_pending");
    app.post(&format!("/v1/invitations/{token}/decline"), Some(&grace.access), json!({})).await.expect(409);
    // The slot is free again.
    invite(&app, &ada, &org, "grace@example.com", "viewer").await.expect(201);
}

#[tokio::test]
async fn an_invitation_belongs_to_its_org() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let eve = app.signup("eve@example.com", "Eve").await;
    let acme = org_on(&app, &ada, "Acme", "team").await;
    let evil = org_on(&app, &eve, "Evil", "team").await;
    let id = id_of(&invite(&app, &ada, &acme, "grace@example.com", "viewer").await.expect(201));

    app.delete(&format!("/v1/orgs/{evil}/invitations/{id}"), Some(&eve.access)).await.expect(404);
    app.post(&format!("/v1/orgs/{evil}/invitations/{id}/resend"), Some(&eve.access), json!({})).await.expect(404);
    app.get(&format!("/v1/orgs/{acme}/invitations"), Some(&eve.access)).await.expect(404);
    invite(&app, &eve, &acme, "x@example.com", "viewer").await.expect(404);
    let r = app.get(&format!("/v1/orgs/{evil}/invitations"), Some(&eve.access)).await.expect(200);
    assert_eq!(r.body["data"], json!([]));
    assert_eq!(state_of(&app, &id).await, "pending");

    // Accepting joins the invitation's org and no other.
    let grace = app.verified_signup("grace@example.com", "Grace").await;
    let token = token_of(
        &app.post(&format!("/v1/orgs/{acme}/invitations/{id}/resend"), Some(&ada.access), json!({})).await.expect(200),
    );
    app.post(&format!("/v1/invitations/{token}/accept"), Some(&grace.access), json!({})).await.expect(200);
    assert_eq!(members_of(&app, &ada, &acme).await.len(), 2);
    assert_eq!(members_of(&app, &eve, &evil).await.len(), 1);
}

#[tokio::test]
async fn the_list_filters_by_state_and_pages() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_on(&app, &ada, "Acme", "team").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(id_of(&invite(&app, &ada, &org, &format!("p{i}@example.com"), "viewer").await.expect(201)));
    }
    app.delete(&format!("/v1/orgs/{org}/invitations/{}", ids[1]), Some(&ada.access)).await.expect(204);

    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = app
            .get(&format!("/v1/orgs/{org}/invitations?limit=2&cursor={cursor}"), Some(&ada.access))
            .await
            .expect(200);
        seen.extend(r.body["data"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match r.body["pagination"]["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let r = app.get(&format!("/v1/orgs/{org}/invitations?state=pending"), Some(&ada.access)).await.expect(200);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 4);
    let r = app.get(&format!("/v1/orgs/{org}/invitations?state=bogus"), Some(&ada.access)).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "state");
}

#[tokio::test]
async fn acceptance_rechecks_the_inviter_and_the_role() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let org = org_on(&app, &ada, "Acme", "team").await;
    app.add_member(&org, &bob, "admin").await;
    let r = invite(&app, &bob, &org, "grace@example.com", "developer").await.expect(201);
    let (id, token) = (id_of(&r), token_of(&r));
    let grace = app.verified_signup("grace@example.com", "Grace").await;

    // The inviter left: the invitation no longer stands on its own...
    app.delete(&format!("/v1/orgs/{org}/members/{}", bob.user_id), Some(&ada.access)).await.expect(204);
    let r = app.post(&format!("/v1/invitations/{token}/accept"), Some(&grace.access), json!({})).await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("new invitation"));
    assert_eq!(state_of(&app, &id).await, "pending");
    // ...until someone who may grant the role sends it again.
    let token = token_of(
        &app.post(&format!("/v1/orgs/{org}/invitations/{id}/resend"), Some(&ada.access), json!({})).await.expect(200),
    );
    app.post(&format!("/v1/invitations/{token}/accept"), Some(&grace.access), json!({})).await.expect(200);

    // A custom role deleted before acceptance.
    app.post(
        &format!("/v1/orgs/{org}/roles"),
        Some(&ada.access),
        json!({ "key": "support", "name": "Support", "permissions": ["endpoints.view"] }),
    )
    .await
    .expect(201);
    let token = token_of(&invite(&app, &ada, &org, "linus@example.com", "support").await.expect(201));
    let linus = app.verified_signup("linus@example.com", "Linus").await;
    app.delete(&format!("/v1/orgs/{org}/roles/support"), Some(&ada.access)).await.expect(204);
    let r = app.post(&format!("/v1/invitations/{token}/accept"), Some(&linus.access), json!({})).await.expect(409);
    assert_eq!(r.code(), "role_unavailable");
}

#[tokio::test]
async fn an_invitation_email_goes_out_over_smtp_with_a_working_link() {
    let sink = SmtpSink::start().await;
    let mut config = config();
    config.email.smtp_url = Some(format!("smtp://127.0.0.1:{}", sink.port));
    let app = spawn_with(config).await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_on(&app, &ada, "Acme", "starter").await;
    let token = token_of(&invite(&app, &ada, &org, "grace@example.com", "viewer").await.expect(201));

    let delivered = sink.wait_for(2).await;
    let raw = delivered.iter().find(|m| m.contains("To: grace@example.com")).expect("the invitation was delivered");
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(raw.contains("Subject: Ada invited you to join Acme"), "{raw}");
    let unfolded = raw.replace("=\n", "");
    let marker = "/accept-invite/";
    let start = unfolded.find(marker).unwrap() + marker.len();
    let link: String =
        unfolded[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    assert_eq!(link, token);

    // The link opens the accept page.
    let page = app.client.get(format!("{}/accept-invite/{link}", app.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Acme"));
}

#[tokio::test]
async fn a_cached_authorization_sees_the_new_member_at_once() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_on(&app, &ada, "Acme", "starter").await;
    let token = token_of(&invite(&app, &ada, &org, "grace@example.com", "developer").await.expect(201));
    let grace = app.verified_signup("grace@example.com", "Grace").await;
    let check = json!({ "subject": { "user_id": grace.user_id }, "org": org, "permission": "endpoints.create" });
    let allowed = || async { app.post("/v1/authorize", Some(SERVICE_TOKEN), check.clone()).await.expect(200) };
    assert_eq!(allowed().await.body["data"]["allowed"], false);
    app.post(&format!("/v1/invitations/{token}/accept"), Some(&grace.access), json!({})).await.expect(200);
    assert_eq!(allowed().await.body["data"]["allowed"], true);
}

#[tokio::test]
async fn someone_who_joined_meanwhile_cannot_accept_but_may_decline() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_on(&app, &ada, "Acme", "team").await;
    let r = invite(&app, &ada, &org, "grace@example.com", "developer").await.expect(201);
    let (id, token) = (id_of(&r), token_of(&r));
    let grace = app.verified_signup("grace@example.com", "Grace").await;
    app.add_member(&org, &grace, "viewer").await;
    let r = app.post(&format!("/v1/invitations/{token}/accept"), Some(&grace.access), json!({})).await.expect(409);
    assert_eq!(r.code(), "already_member");
    assert_eq!(state_of(&app, &id).await, "pending");
    app.post(&format!("/v1/invitations/{token}/decline"), Some(&grace.access), json!({})).await.expect(200);
    assert_eq!(members_of(&app, &ada, &org).await.len(), 2);
}

#[tokio::test]
async fn team_ids_must_be_team_ids() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_on(&app, &ada, "Acme", "team").await;
    let path = format!("/v1/orgs/{org}/invitations");
    let created = app.post(&format!("/v1/orgs/{org}/teams"), Some(&ada.access), json!({ "name": "Eng" })).await;
    let team = created.expect(201).body["data"]["id"].as_str().unwrap().to_owned();
    let r = app
        .post(&path, Some(&ada.access), json!({ "email": "g@example.com", "role": "viewer", "team_ids": [team, team] }))
        .await
        .expect(201);
    assert_eq!(r.body["data"]["team_ids"], json!([team]));
    let r = app
        .post(
            &path,
            Some(&ada.access),
            json!({ "email": "h@example.com", "role": "viewer", "team_ids": [team, "org_x"] }),
        )
        .await
        .expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "team_ids[1]");
}
