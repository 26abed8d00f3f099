//! SPEC 14 from outside: TOTP enrolment, the two-step login, replay and window rules, recovery
//! codes, the `mfa_token`'s attempts, orgs that require MFA, the sessions list and the admin's
//! reset. Codes are computed from the secret the API hands out, by the suite's own RFC 6238
//! implementation (`common::code_at_step`), at the server's (controlled) time.

use chrono::Duration;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{Account, backend, base32_decode, code_at_step, spawn_app, step_now, Backend, TestApp, ADMIN_TOKEN, PASSWORD, SERVICE_TOKEN};

#[test]
fn the_tests_own_totp_matches_rfc_6238() {
    // Appendix B, SHA-1: the last six digits of the eight-digit values.
    let secret = b"12345678901234567890";
    assert_eq!(code_at_step(secret, 59 / 30), "287082");
    assert_eq!(code_at_step(secret, 1_111_111_109 / 30), "081804");
    assert_eq!(code_at_step(secret, 2_000_000_000 / 30), "279037");
}

/// The first step of a login: its `mfa_token`.
async fn first_step(app: &TestApp, email: &str) -> String {
    let r = app.post("/v1/auth/login", None, json!({ "email": email, "password": PASSWORD })).await.expect(200);
    assert_eq!(r.body["data"]["mfa_required"], true, "{}", r.body);
    assert!(r.body["data"].get("access_token").is_none(), "no tokens before the second step");
    r.body["data"]["mfa_token"].as_str().unwrap().to_owned()
}

async fn second_step(app: &TestApp, mfa_token: &str, code: &str) -> crate::common::Response {
    app.post("/v1/auth/login/mfa", None, json!({ "mfa_token": mfa_token, "code": code })).await
}

async fn claims_of(app: &TestApp, token: &str) -> Value {
    let jwks = app.get("/.well-known/jwks.json", None).await.expect(200).body;
    let decoding = DecodingKey::from_ed_components(jwks["keys"][0]["x"].as_str().unwrap()).unwrap();
    jsonwebtoken::decode::<Value>(token, &decoding, &Validation::new(Algorithm::EdDSA)).unwrap().claims
}

#[tokio::test]
async fn enrolment_and_a_two_step_login_with_codes_computed_from_the_secret() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    assert_eq!(claims_of(&app, &ada.access).await["amr"], json!(["pwd"]));

    let r = app.post("/v1/me/mfa/totp", Some(&ada.access), json!(null)).await.expect(200);
    let data = &r.body["data"];
    let secret_text = data["secret"].as_str().unwrap().to_owned();
    assert!(data["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/"));
    assert!(data["otpauth_url"].as_str().unwrap().contains(&format!("secret={secret_text}")));
    assert!(data["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let secret = base32_decode(&secret_text);
    assert_eq!(secret.len(), 20);

    // Until confirmed, logins are one step and MFA is off.
    let status = app.get("/v1/me/mfa", Some(&ada.access)).await.expect(200);
    assert_eq!(status.body["data"]["enabled"], false);
    let wrong = if code_at_step(&secret, step_now(&app)) == "000000" { "111111" } else { "000000" };
    let r = app.post("/v1/me/mfa/totp/confirm", Some(&ada.access), json!({ "code": wrong })).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "code");

    let code = code_at_step(&secret, step_now(&app));
    let r = app.post("/v1/me/mfa/totp/confirm", Some(&ada.access), json!({ "code": code })).await.expect(200);
    let recovery = r.body["data"]["recovery_codes"].as_array().unwrap().clone();
    assert_eq!(recovery.len(), 10);
    let status = app.get("/v1/me/mfa", Some(&ada.access)).await.expect(200);
    assert_eq!(status.body["data"], json!({ "enabled": true, "recovery_codes_left": 10 }));

    // At rest the secret is sealed: neither its base32 form nor its bytes are in the row.
    let sealed: String = sqlx::query_scalar("SELECT sealed FROM user_totp WHERE user_id = $1")
        .bind(&ada.user_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!sealed.contains(&secret_text));
    assert!(!sealed.contains(&base64_of(&secret)));
    let stored_codes: Vec<String> = sqlx::query_scalar("SELECT code_hash FROM recovery_codes WHERE user_id = $1")
        .bind(&ada.user_id)
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored_codes.len(), 10);
    for code in &recovery {
        assert!(!stored_codes.iter().any(|h| h.contains(code.as_str().unwrap())));
    }

    // The code that confirmed enrolment cannot log in (replay); the next step's code can.
    let mfa_token = first_step(&app, "ada@example.com").await;
    second_step(&app, &mfa_token, &code).await.expect(400);
    app.clock.advance(Duration::seconds(30));
    let r = second_step(&app, &mfa_token, &code_at_step(&secret, step_now(&app))).await.expect(200);
    let access = r.body["data"]["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims_of(&app, &access).await["amr"], json!(["pwd", "otp"]));
    app.get("/v1/me", Some(&access)).await.expect(200);
    // The token did its work: used, it opens nothing more.
    app.clock.advance(Duration::seconds(30));
    second_step(&app, &mfa_token, &code_at_step(&secret, step_now(&app))).await.expect(401);

    assert_eq!(app.audit_count_of("security.mfa_enabled").await, 1);
    let factor: String = sqlx::query_scalar(
        "SELECT metadata FROM audit_events WHERE action = 'security.login' ORDER BY occurred_at DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(serde_json::from_str::<Value>(&factor).unwrap()["factor"], "totp");
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn one_step_either_side_is_accepted_two_are_not_and_no_code_twice() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let secret = app.enrol_mfa(&ada).await;
    app.clock.advance(Duration::minutes(5));
    let now = step_now(&app);

    let token = first_step(&app, "ada@example.com").await;
    second_step(&app, &token, &code_at_step(&secret, now - 2)).await.expect(400);
    second_step(&app, &token, &code_at_step(&secret, now + 2)).await.expect(400);
    second_step(&app, &token, &code_at_step(&secret, now - 1)).await.expect(200);
    for offset in [0, 1] {
        let token = first_step(&app, "ada@example.com").await;
        second_step(&app, &token, &code_at_step(&secret, now + offset)).await.expect(200);
    }
    // Every code of the window is used now, the earlier ones by being earlier.
    let token = first_step(&app, "ada@example.com").await;
    for offset in [-1, 0, 1] {
        second_step(&app, &token, &code_at_step(&secret, now + offset)).await.expect(400);
    }
}

#[tokio::test]
async fn two_logins_racing_with_one_code_let_one_in() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let secret = app.enrol_mfa(&ada).await;
    app.clock.advance(Duration::seconds(30));
    let first = first_step(&app, "ada@example.com").await;
    let second = first_step(&app, "ada@example.com").await;
    let code = code_at_step(&secret, step_now(&app));
    let (a, b) = tokio::join!(second_step(&app, &first, &code), second_step(&app, &second, &code));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400], "{} / {}", a.body, b.body);
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let r = app.post("/v1/me/mfa/totp", Some(&ada.access), json!(null)).await.expect(200);
    let secret = base32_decode(r.body["data"]["secret"].as_str().unwrap());
    let code = code_at_step(&secret, step_now(&app));
    let r = app.post("/v1/me/mfa/totp/confirm", Some(&ada.access), json!({ "code": code })).await.expect(200);
    let recovery = r.body["data"]["recovery_codes"][3].as_str().unwrap().to_owned();

    let token = first_step(&app, "ada@example.com").await;
    let body = json!({ "mfa_token": token, "recovery_code": recovery.to_uppercase() });
    let r = app.post("/v1/auth/login/mfa", None, body).await.expect(200);
    let access = r.body["data"]["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/v1/me/mfa", Some(&access)).await.body["data"]["recovery_codes_left"], 9);

    let token = first_step(&app, "ada@example.com").await;
    let body = json!({ "mfa_token": token, "recovery_code": recovery });
    let r = app.post("/v1/auth/login/mfa", None, body).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "recovery_code");
    // Both kinds at once, or neither, is a bad request.
    let body = json!({ "mfa_token": token, "code": "123456", "recovery_code": recovery });
    app.post("/v1/auth/login/mfa", None, body).await.expect(400);
}

#[tokio::test]
async fn the_sixth_attempt_on_one_mfa_token_is_refused_and_wrong_codes_throttle_the_account() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let secret = app.enrol_mfa(&ada).await;
    app.clock.advance(Duration::seconds(30));
    let right = code_at_step(&secret, step_now(&app));
    let wrong = if right == "000000" { "111111" } else { "000000" };

    let token = first_step(&app, "ada@example.com").await;
    for _ in 0..5 {
        second_step(&app, &token, wrong).await.expect(400);
    }
    // The sixth, even with the right code, is refused: the token is used up.
    let r = second_step(&app, &token, &right).await.expect(401);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("mfa_token"));

    // A new token does not reset the account's count of wrong codes.
    let token = first_step(&app, "ada@example.com").await;
    let r = second_step(&app, &token, &right).await.expect(429);
    assert!(r.headers.contains_key("retry-after"));
    app.clock.advance(Duration::minutes(16));
    let token = first_step(&app, "ada@example.com").await;
    second_step(&app, &token, &code_at_step(&secret, step_now(&app))).await.expect(200);

    // An mfa_token lives five minutes.
    let token = first_step(&app, "ada@example.com").await;
    app.clock.advance(Duration::minutes(6));
    second_step(&app, &token, &code_at_step(&secret, step_now(&app))).await.expect(401);
}

#[tokio::test]
async fn disabling_needs_the_password_and_a_code() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let secret = app.enrol_mfa(&ada).await;
    app.clock.advance(Duration::seconds(30));
    let code = code_at_step(&secret, step_now(&app));
    let body = json!({ "password": "not the password", "code": code });
    app.call(Method::DELETE, "/v1/me/mfa/totp", Some(&ada.access), Some(body)).await.expect(400);
    let body = json!({ "password": PASSWORD, "code": "12345x" });
    app.call(Method::DELETE, "/v1/me/mfa/totp", Some(&ada.access), Some(body)).await.expect(400);
    let body = json!({ "password": PASSWORD, "code": code });
    app.call(Method::DELETE, "/v1/me/mfa/totp", Some(&ada.access), Some(body)).await.expect(204);
    assert_eq!(app.get("/v1/me/mfa", Some(&ada.access)).await.body["data"]["enabled"], false);
    assert_eq!(app.audit_count_of("security.mfa_disabled").await, 1);
    // Logins are one step again.
    let r = app.post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": PASSWORD })).await;
    assert!(r.expect(200).body["data"]["access_token"].is_string());
}

/// Ada's org Acme (team plan) with Bob as an admin; Ada has MFA, Bob has not.
async fn acme_with_bob() -> (TestApp, Account, Account, String) {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    app.add_member(&org, &bob, "admin").await;
    app.enrol_mfa(&ada).await;
    (app, ada, bob, org)
}

#[tokio::test]
async fn an_org_requiring_mfa_refuses_a_member_without_it_at_once_and_admits_them_after_enrolment() {
    let (app, ada, bob, org) = acme_with_bob().await;
    let members = format!("/v1/orgs/{org}/members");
    // Warm every cache on the way: the change must reach them.
    app.get(&members, Some(&bob.access)).await.expect(200);
    assert!(app.allowed(&bob.user_id, &org, "endpoints.view").await);

    // Before turning it on: who would be refused.
    let impact = app.get(&format!("/v1/orgs/{org}/mfa-impact"), Some(&ada.access)).await.expect(200);
    let ids: Vec<&str> = impact.body["data"].as_array().unwrap().iter().map(|m| m["user_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [bob.user_id.as_str()]);
    app.get(&format!("/v1/orgs/{org}/mfa-impact"), Some(&bob.access)).await.expect(200);

    // Bob, without MFA himself, may not require it (he would lock himself out); Ada may.
    let body = json!({ "security": { "mfa_required": true } });
    let r = app.put(&format!("/v1/orgs/{org}/settings"), Some(&bob.access), body.clone()).await.expect(403);
    assert_eq!(r.code(), "mfa_required");
    app.get(&members, Some(&bob.access)).await.expect(200);
    app.put(&format!("/v1/orgs/{org}/settings"), Some(&ada.access), body).await.expect(200);

    let r = app.get(&members, Some(&bob.access)).await.expect(403);
    assert_eq!(r.code(), "mfa_required");
    app.post(&format!("/v1/orgs/{org}/invitations"), Some(&bob.access), json!({ "email": "c@example.com", "role": "viewer" }))
        .await
        .expect(403);
    app.post("/v1/auth/switch-org", Some(&bob.access), json!({ "org_id": org })).await.expect(403);
    let decision = app.authorize(&bob.user_id, &org, "endpoints.view").await;
    assert_eq!(decision["allowed"], false);
    assert!(decision["reason"].as_str().unwrap().contains("multi-factor"), "{decision}");
    // The owner, who has MFA, carries on.
    app.get(&members, Some(&ada.access)).await.expect(200);

    // Enrolling (no org header needed, and with one it still works) admits Bob at once.
    let r = app
        .call_with(Method::POST, "/v1/me/mfa/totp", Some(&bob.access), &[("x-organization-id", org.as_str())], None)
        .await
        .expect(200);
    let secret = base32_decode(r.body["data"]["secret"].as_str().unwrap());
    let code = code_at_step(&secret, step_now(&app));
    app.post("/v1/me/mfa/totp/confirm", Some(&bob.access), json!({ "code": code })).await.expect(200);
    app.get(&members, Some(&bob.access)).await.expect(200);
    assert!(app.allowed(&bob.user_id, &org, "endpoints.view").await);
    let impact = app.get(&format!("/v1/orgs/{org}/mfa-impact"), Some(&ada.access)).await.expect(200);
    assert_eq!(impact.body["data"], json!([]));

    // Turning it off lifts the rule for everyone at once.
    let eve = app.signup("eve@example.com", "Eve").await;
    app.add_member(&org, &eve, "viewer").await;
    app.get(&members, Some(&eve.access)).await.expect(403);
    let body = json!({ "security": { "mfa_required": false } });
    app.put(&format!("/v1/orgs/{org}/settings"), Some(&ada.access), body).await.expect(200);
    app.get(&members, Some(&eve.access)).await.expect(200);
    assert!(app.allowed(&eve.user_id, &org, "endpoints.view").await);
}

#[tokio::test]
async fn a_member_without_mfa_may_still_leave_and_their_tokens_carry_no_permissions_there() {
    let (app, ada, bob, org) = acme_with_bob().await;
    let body = json!({ "security": { "mfa_required": true } });
    app.put(&format!("/v1/orgs/{org}/settings"), Some(&ada.access), body).await.expect(200);

    // A token naming the org (Bob's session had it active) grants nothing there.
    sqlx::query("UPDATE sessions SET active_org_id = $1 WHERE user_id = $2")
        .bind(&org)
        .bind(&bob.user_id)
        .execute(&app.db)
        .await
        .unwrap();
    let r = app.post("/v1/auth/refresh", None, json!({ "refresh_token": bob.refresh })).await.expect(200);
    let claims = claims_of(&app, r.body["data"]["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["org_id"], org.as_str());
    assert_eq!(claims["permissions"], json!([]));

    app.post(&format!("/v1/orgs/{org}/leave"), Some(&bob.access), json!({})).await.expect(204);
}

#[tokio::test]
async fn accepting_an_invitation_into_an_org_requiring_mfa_needs_mfa_first() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    app.enrol_mfa(&ada).await;
    let body = json!({ "security": { "mfa_required": true } });
    app.put(&format!("/v1/orgs/{org}/settings"), Some(&ada.access), body).await.expect(200);
    app.post(&format!("/v1/orgs/{org}/invitations"), Some(&ada.access), json!({ "email": "bob@example.com", "role": "viewer" }))
        .await
        .expect(201);
    let token = app.emailed_token("bob@example.com", "/accept-invite/").await;
    let bob = app.signup("bob@example.com", "Bob").await;

    let accept = format!("/v1/invitations/{token}/accept");
    let r = app.post(&accept, Some(&bob.access), json!({})).await.expect(403);
    assert_eq!(r.code(), "mfa_required");
    app.enrol_mfa(&bob).await;
    app.post(&accept, Some(&bob.access), json!({})).await.expect(200);
}

#[tokio::test]
async fn sessions_are_listed_and_revoking_one_ends_it_on_the_next_request_on_every_node() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let other = app.login("ada@example.com").await;
    // With a shared database (PostgreSQL) a second node serves the same sessions; it has
    // checked the other session before the revocation, so its cache must be told.
    let nodes = match backend() {
        Backend::Postgres => vec![app.base.clone(), app.another_node().await],
        Backend::Sqlite => vec![app.base.clone()],
    };
    for node in &nodes {
        app.call_on(node, Method::GET, "/v1/me", Some(&other), None).await.expect(200);
    }

    let r = app.get("/v1/me/sessions", Some(&ada.access)).await.expect(200);
    let sessions = r.body["data"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let theirs = sessions.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(theirs["amr"], json!(["pwd"]));
    assert!(theirs["ip"].is_string() && theirs["created_at"].is_string());

    let id = theirs["id"].as_str().unwrap();
    app.delete(&format!("/v1/me/sessions/{id}"), Some(&ada.access)).await.expect(204);
    for node in &nodes {
        app.call_on(node, Method::GET, "/v1/me", Some(&other), None).await.expect(401);
    }
    app.get("/v1/me", Some(&ada.access)).await.expect(200);
    // Someone else's session, or one already ended, is not found.
    app.delete(&format!("/v1/me/sessions/{id}"), Some(&ada.access)).await.expect(404);
    let bob = app.signup("bob@example.com", "Bob").await;
    let bobs = app.get("/v1/me/sessions", Some(&bob.access)).await.body["data"][0]["id"].as_str().unwrap().to_owned();
    app.delete(&format!("/v1/me/sessions/{bobs}"), Some(&ada.access)).await.expect(404);
    app.delete("/v1/me/sessions/not-a-session", Some(&ada.access)).await.expect(404);

    // Revoke the others: only the caller's session stays.
    let third = app.login("ada@example.com").await;
    for node in &nodes {
        app.call_on(node, Method::GET, "/v1/me", Some(&third), None).await.expect(200);
    }
    app.post("/v1/me/sessions/revoke-others", Some(&ada.access), json!({})).await.expect(204);
    for node in &nodes {
        app.call_on(node, Method::GET, "/v1/me", Some(&third), None).await.expect(401);
    }
    let left = app.get("/v1/me/sessions", Some(&ada.access)).await.expect(200).body["data"].as_array().unwrap().len();
    assert_eq!(left, 1);
    app.get("/v1/me", Some(&bob.access)).await.expect(200);
    assert_eq!(app.audit_count_of("session.revoked").await, 1);
    assert_eq!(app.audit_count_of("session.revoked_others").await, 1);
}

#[tokio::test]
async fn the_instance_admin_resets_a_users_mfa_and_ends_their_sessions() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    app.enrol_mfa(&ada).await;
    let path = format!("/v1/admin/users/{}/mfa/reset", ada.user_id);
    app.post(&path, Some(&ada.access), json!({})).await.expect(403);
    app.post(&path, Some(SERVICE_TOKEN), json!({})).await.expect(403);
    app.post(&path, Some(ADMIN_TOKEN), json!({})).await.expect(204);
    app.get("/v1/me", Some(&ada.access)).await.expect(401);
    app.post(&path, Some(ADMIN_TOKEN), json!({})).await.expect(409);
    app.post("/v1/admin/users/usr_nobody/mfa/reset", Some(ADMIN_TOKEN), json!({})).await.expect(404);
    assert_eq!(app.audit_count_of("security.mfa_reset").await, 1);
    // Logins are one step again.
    let r = app.post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": PASSWORD })).await;
    assert!(r.expect(200).body["data"]["access_token"].is_string());
}
