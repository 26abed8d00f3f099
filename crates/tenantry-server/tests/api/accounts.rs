//! Signup, login, tokens, sessions, email verification and password reset.

use chrono::Duration;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use crate::common::{spawn_app, PASSWORD};

#[tokio::test]
async fn signup_creates_the_user_and_a_personal_org_they_own() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/v1/auth/signup",
            None,
            json!({ "email": "Ada@Example.com", "password": PASSWORD, "display_name": "Ada Lovelace" }),
        )
        .await
        .expect(201);
    let data = &r.body["data"];
    assert_eq!(data["user"]["email"], "ada@example.com");
    assert_eq!(data["user"]["display_name"], "Ada Lovelace");
    assert_eq!(data["user"]["email_verified"], false);
    assert!(data["user"]["id"].as_str().unwrap().starts_with("usr_"));
    assert_eq!(data["token_type"], "Bearer");
    assert_eq!(data["expires_in"], 900);
    let org = &data["org"];
    assert!(org["id"].as_str().unwrap().starts_with("org_"));
    assert_eq!(org["name"], "Ada Lovelace");
    assert_eq!(org["slug"], "ada-lovelace");
    assert_eq!(org["is_personal"], true);
    assert_eq!(org["plan"], "free");
    assert_eq!(org["seat_count"], 1);
    assert_eq!(org["owner_id"], data["user"]["id"]);
    assert_eq!(org["role"], "owner");

    let access = data["access_token"].as_str().unwrap();
    let me = app.get("/v1/me", Some(access)).await.expect(200);
    assert_eq!(me.body["data"]["user"]["id"], data["user"]["id"]);
    assert_eq!(me.body["data"]["active_org_id"], org["id"]);
    let orgs = me.body["data"]["orgs"].as_array().unwrap();
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0]["role"], "owner");

    let members = app.get(&format!("/v1/orgs/{}/members", org["id"].as_str().unwrap()), Some(access)).await.expect(200);
    let members = members.body["data"].as_array().unwrap().clone();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["user_id"], data["user"]["id"]);
    assert_eq!(members[0]["role"], "owner");
    assert_eq!(members[0]["email"], "ada@example.com");
    assert!(members[0]["id"].as_str().unwrap().starts_with("mem_"));
}

#[tokio::test]
async fn a_second_signup_with_the_same_email_in_another_case_is_409() {
    let app = spawn_app().await;
    app.signup("grace@example.com", "Grace").await;
    let r = app
        .post(
            "/v1/auth/signup",
            None,
            json!({ "email": "GRACE@example.COM", "password": PASSWORD, "display_name": "G" }),
        )
        .await
        .expect(409);
    assert_eq!(r.code(), "email_taken");
}

#[tokio::test]
async fn concurrent_signups_with_one_email_create_one_account() {
    let app = std::sync::Arc::new(spawn_app().await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let app = app.clone();
        tasks.spawn(async move {
            let email = if i % 2 == 0 { "race@example.com" } else { "RACE@example.com" };
            app.post("/v1/auth/signup", None, json!({ "email": email, "password": PASSWORD, "display_name": "R" }))
                .await
                .status
                .as_u16()
        });
    }
    let statuses: Vec<u16> = tasks.join_all().await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 7, "{statuses:?}");
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&app.db).await.unwrap();
    assert_eq!(users, 1);
}

#[tokio::test]
async fn signup_validates_every_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({ "email": "not-an-email", "password": PASSWORD, "display_name": "A" }), "email"),
        (json!({ "email": "a@example.com", "password": "short", "display_name": "A" }), "password"),
        (json!({ "email": "a@example.com", "password": "x".repeat(129), "display_name": "A" }), "password"),
        (json!({ "email": "a@example.com", "password": PASSWORD, "display_name": "  " }), "display_name"),
        (json!({ "email": "a@example.com", "password": PASSWORD }), "display_name"),
    ];
    for (body, field) in cases {
        let r = app.post("/v1/auth/signup", None, body).await.expect(400);
        assert_eq!(r.code(), "invalid_request");
        assert_eq!(r.body["error"]["details"]["field"], field, "{}", r.body);
    }
    // 128 characters is allowed, and every one of them counts.
    let long = "p".repeat(127) + "q";
    app.post("/v1/auth/signup", None, json!({ "email": "long@example.com", "password": long, "display_name": "L" }))
        .await
        .expect(201);
    let almost = "p".repeat(127) + "r";
    app.post("/v1/auth/login", None, json!({ "email": "long@example.com", "password": almost })).await.expect(401);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_401() {
    let app = spawn_app().await;
    app.signup("ada@example.com", "Ada").await;
    let wrong = app
        .post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": "wrong password" }))
        .await
        .expect(401);
    let unknown = app
        .post("/v1/auth/login", None, json!({ "email": "nobody@example.com", "password": "wrong password" }))
        .await
        .expect(401);
    assert_eq!(wrong.code(), "unauthorized");
    assert_eq!(wrong.body["error"]["message"], unknown.body["error"]["message"]);
    assert_eq!(wrong.code(), unknown.code());

    let ok =
        app.post("/v1/auth/login", None, json!({ "email": "ADA@example.com", "password": PASSWORD })).await.expect(200);
    assert_eq!(ok.body["data"]["user"]["email"], "ada@example.com");
    assert_eq!(ok.body["data"]["org"]["role"], "owner");
}

#[tokio::test]
async fn repeated_failed_logins_are_throttled_then_released() {
    let app = spawn_app().await;
    app.signup("ada@example.com", "Ada").await;
    for _ in 0..5 {
        app.post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": "guess guess" }))
            .await
            .expect(401);
    }
    // Even the right password waits: the password is not checked while throttled.
    let r =
        app.post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": PASSWORD })).await.expect(429);
    assert_eq!(r.code(), "rate_limited");
    let retry_after: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after > 0 && retry_after <= 15 * 60);
    // Other accounts from the same client are not affected by this account's window.
    app.signup("bob@example.com", "Bob").await;
    app.post("/v1/auth/login", None, json!({ "email": "bob@example.com", "password": PASSWORD })).await.expect(200);

    app.clock.advance(Duration::minutes(15));
    app.post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": PASSWORD })).await.expect(200);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_session() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;

    let first = app.post("/v1/auth/refresh", None, json!({ "refresh_token": ada.refresh })).await.expect(200);
    let second_refresh = first.body["data"]["refresh_token"].as_str().unwrap().to_owned();
    let second_access = first.body["data"]["access_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, ada.refresh);
    app.get("/v1/me", Some(&second_access)).await.expect(200);

    // The old token again: theft is assumed, and every token of the session dies.
    let reuse = app.post("/v1/auth/refresh", None, json!({ "refresh_token": ada.refresh })).await.expect(401);
    assert_eq!(reuse.code(), "unauthorized");
    app.post("/v1/auth/refresh", None, json!({ "refresh_token": second_refresh })).await.expect(401);
    app.get("/v1/me", Some(&second_access)).await.expect(401);
    app.get("/v1/me", Some(&ada.access)).await.expect(401);

    // Another login starts a fresh session.
    app.post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": PASSWORD })).await.expect(200);
}

#[tokio::test]
async fn a_refresh_token_expires() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    app.clock.advance(Duration::days(30) + Duration::seconds(1));
    app.post("/v1/auth/refresh", None, json!({ "refresh_token": ada.refresh })).await.expect(401);
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    app.clock.advance(Duration::minutes(14));
    app.get("/v1/me", Some(&ada.access)).await.expect(200);
    app.clock.advance(Duration::minutes(1) + Duration::seconds(1));
    let r = app.get("/v1/me", Some(&ada.access)).await.expect(401);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn forged_or_garbled_tokens_are_refused() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let mut forged = ada.access.clone();
    forged.pop();
    forged.push(if ada.access.ends_with('A') { 'B' } else { 'A' });
    app.get("/v1/me", Some(&forged)).await.expect(401);
    app.get("/v1/me", Some("a.b.c")).await.expect(401);
    app.get("/v1/me", Some("not-a-token")).await.expect(401);
    app.get("/v1/me", None).await.expect(401);
}

#[tokio::test]
async fn logout_ends_the_session_at_once() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    app.post("/v1/auth/logout", Some(&ada.access), json!({})).await.expect(204);
    app.get("/v1/me", Some(&ada.access)).await.expect(401);
    app.post("/v1/auth/refresh", None, json!({ "refresh_token": ada.refresh })).await.expect(401);
}

#[tokio::test]
async fn access_tokens_verify_offline_with_the_jwks() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let jwks = app.get("/.well-known/jwks.json", None).await.expect(200).body;
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    let header = jsonwebtoken::decode_header(&ada.access).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());

    let decoding = DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&["tenantry"]);
    let claims = jsonwebtoken::decode::<Value>(&ada.access, &decoding, &validation).unwrap().claims;
    assert_eq!(claims["sub"], ada.user_id.as_str());
    assert_eq!(claims["org_id"], ada.personal_org.as_str());
    assert_eq!(claims["role"], "owner");
    assert_eq!(claims["permissions"].as_array().unwrap().len(), 17);
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 900);
}

#[tokio::test]
async fn the_signing_key_survives_a_restart() {
    let (config, _database) = crate::common::config_on_fresh_database().await;
    let jwks = |config: tenantry_server::Config| async move {
        let app = tenantry_server::Application::build(config, Default::default()).await.unwrap();
        app.state().tenantry.jwks()
    };
    let first = jwks(config.clone()).await;
    let second = jwks(config).await;
    assert_eq!(first, second);
}

#[tokio::test]
async fn switch_org_issues_a_token_for_an_org_of_mine_and_404s_otherwise() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let team = app.create_org(&ada, "Analytical Engines").await;
    let team_id = team["id"].as_str().unwrap();

    let r = app.post("/v1/auth/switch-org", Some(&ada.access), json!({ "org_id": team_id })).await.expect(200);
    assert_eq!(r.body["data"]["org"]["id"], team_id);
    let token = r.body["data"]["access_token"].as_str().unwrap();
    let me = app.get("/v1/me", Some(token)).await.expect(200);
    assert_eq!(me.body["data"]["active_org_id"], team_id);

    // The session remembers it: a refresh keeps the switched org.
    let refreshed = app.post("/v1/auth/refresh", None, json!({ "refresh_token": ada.refresh })).await.expect(200);
    assert_eq!(refreshed.body["data"]["org"]["id"], team_id);

    // By slug works too.
    app.post("/v1/auth/switch-org", Some(&ada.access), json!({ "org_id": team["slug"] })).await.expect(200);

    let r = app.post("/v1/auth/switch-org", Some(&bob.access), json!({ "org_id": team_id })).await.expect(404);
    assert_eq!(r.code(), "not_found");
    app.post("/v1/auth/switch-org", Some(&bob.access), json!({ "org_id": "org_01HXNOTANORGATALL0000000000" }))
        .await
        .expect(404);
}

#[tokio::test]
async fn the_organization_header_selects_the_active_org_and_refuses_foreign_ones() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let team = app.create_org(&ada, "Engines").await;

    let with_header = |token: &str, org: &str| {
        app.client
            .get(format!("{}/v1/me", app.base))
            .bearer_auth(token.to_owned())
            .header("x-organization-id", org.to_owned())
    };
    let r: Value = with_header(&ada.access, team["id"].as_str().unwrap()).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["data"]["active_org_id"], team["id"]);
    let r = with_header(&bob.access, team["id"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn email_verification_is_single_use_and_expires() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let email = app.last_email_to("ada@example.com").await;
    assert_eq!(email["subject"], "Confirm your email address");
    assert!(email["html"].as_str().unwrap().contains("/verify-email/"));
    let token = app.emailed_token("ada@example.com", "/verify-email/").await;
    assert!(token.len() >= 22, "at least 128 bits of base64url");

    app.post("/v1/auth/verify-email", None, json!({ "token": token })).await.expect(204);
    let me = app.get("/v1/me", Some(&ada.access)).await.expect(200);
    assert_eq!(me.body["data"]["user"]["email_verified"], true);
    let again = app.post("/v1/auth/verify-email", None, json!({ "token": token })).await.expect(400);
    assert_eq!(again.body["error"]["details"]["field"], "token");

    // A second account's link, used after it expired.
    app.signup("bob@example.com", "Bob").await;
    let late = app.emailed_token("bob@example.com", "/verify-email/").await;
    app.clock.advance(Duration::hours(24) + Duration::seconds(1));
    app.post("/v1/auth/verify-email", None, json!({ "token": late })).await.expect(400);
}

#[tokio::test]
async fn tokens_are_stored_only_as_hashes() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let token = app.emailed_token("ada@example.com", "/verify-email/").await;
    let dump: Vec<String> = sqlx::query_scalar(
        "SELECT hash FROM refresh_tokens UNION ALL SELECT hash FROM email_tokens UNION ALL SELECT password_hash FROM users",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    for stored in &dump {
        assert_ne!(stored, &ada.refresh);
        assert_ne!(stored, &token);
        assert!(!stored.contains(PASSWORD));
    }
    assert!(dump.iter().any(|s| s.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")));
}

#[tokio::test]
async fn password_reset_is_single_use_and_ends_every_session() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    // Unknown and known addresses get the same answer.
    let unknown =
        app.post("/v1/auth/password-reset/request", None, json!({ "email": "nobody@example.com" })).await.expect(202);
    let known =
        app.post("/v1/auth/password-reset/request", None, json!({ "email": "ada@example.com" })).await.expect(202);
    assert_eq!(unknown.body, known.body);
    let token = app.emailed_token("ada@example.com", "/reset-password/").await;
    // The session is in use (and so known to be live) when the reset ends it.
    app.get("/v1/me", Some(&ada.access)).await.expect(200);

    app.post("/v1/auth/password-reset/confirm", None, json!({ "token": token, "new_password": "short" }))
        .await
        .expect(400);
    app.post("/v1/auth/password-reset/confirm", None, json!({ "token": token, "new_password": "a brand new secret" }))
        .await
        .expect(204);
    app.post("/v1/auth/password-reset/confirm", None, json!({ "token": token, "new_password": "yet another secret" }))
        .await
        .expect(400);

    app.get("/v1/me", Some(&ada.access)).await.expect(401);
    app.post("/v1/auth/refresh", None, json!({ "refresh_token": ada.refresh })).await.expect(401);
    app.post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": PASSWORD })).await.expect(401);
    let r = app
        .post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": "a brand new secret" }))
        .await
        .expect(200);
    assert_eq!(r.body["data"]["user"]["email_verified"], true, "following the emailed link proves the address");
}

#[tokio::test]
async fn a_password_reset_link_expires() {
    let app = spawn_app().await;
    app.signup("ada@example.com", "Ada").await;
    app.post("/v1/auth/password-reset/request", None, json!({ "email": "ada@example.com" })).await.expect(202);
    let token = app.emailed_token("ada@example.com", "/reset-password/").await;
    app.clock.advance(Duration::hours(25));
    app.post("/v1/auth/password-reset/confirm", None, json!({ "token": token, "new_password": "a brand new secret" }))
        .await
        .expect(400);
}
