//! Defences found missing by an outside review, each replayed over HTTP: numbers out of range,
//! service token grants, the security-event ceilings, the client address behind proxies,
//! unverified accounts, custom roles that sidestep `assignable_by`, and undeliverable addresses.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use reqwest::Method;
use serde_json::{json, Value};
use tenantry_server::config::ServiceTokenConfig;

use crate::common::{config, spawn_app, spawn_with, TestApp, ADMIN_TOKEN, HOST_TOKEN, PASSWORD, SERVICE_TOKEN};
use crate::smtp_sink::SmtpSink;

// ---------------------------------------------------------------------------------------------
// 1 and 2: a client's number never reaches a panic or the database unchecked.

const EXTREMES: &[i64] = &[i64::MIN, i64::MIN + 1, -10_000_000_000_000_000, -1, 0, 1, 10_000_000_000_000_000, i64::MAX];

#[tokio::test]
async fn rolling_with_a_grace_out_of_range_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let owner = app.signup("ada@example.com", "Ada").await;
    let key = app.create_key(&owner, &owner.personal_org, &["endpoints.view"]).await;
    let path = format!("/v1/orgs/{}/api-keys/{}/roll", owner.personal_org, key.id);
    for grace in [10_000_000_000_000_000, i64::MAX, i64::MIN, -1, 30 * 86_400 + 1] {
        let r = app.post(&path, Some(&owner.access), json!({ "old_expires_in": grace })).await.expect(400);
        assert_eq!(r.code(), "invalid_request");
        assert_eq!(r.body["error"]["details"]["field"], "old_expires_in", "{grace}: {}", r.body);
    }
    // The key was never rolled by the refused calls.
    app.post(&path, Some(&owner.access), json!({ "old_expires_in": 60 })).await.expect(201);
}

#[tokio::test]
async fn a_delta_of_i64_min_is_refused_before_it_reaches_sql() {
    let app = spawn_app().await;
    let owner = app.signup("ada@example.com", "Ada").await;
    for delta in [i64::MIN, i64::MIN + 1, i64::MAX, -1_000_000_001] {
        let r = app.meter(&owner.personal_org, "endpoints", delta).await.expect(400);
        assert_eq!(r.body["error"]["details"]["field"], "delta", "{delta}: {}", r.body);
    }
    let usage = app.get(&format!("/v1/orgs/{}/usage", owner.personal_org), Some(&owner.access)).await.expect(200);
    assert_eq!(usage.body["data"]["endpoint_count"], 0);
}

/// A JSON number from the edges of every range a client could aim at.
fn extreme_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        proptest::sample::select(EXTREMES).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        Just(json!(1e16)),
        Just(json!(-1e300)),
        Just(json!(0.5)),
    ]
}

/// A time string from the edges of what a date parser accepts.
fn extreme_time() -> impl Strategy<Value = Value> {
    proptest::sample::select(vec![
        "+262142-12-31T23:59:59Z",
        "-262143-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999Z",
        "0000-01-01T00:00:00Z",
        "1970-01-01T00:00:00Z",
        "2262-04-11T23:47:16.854775807Z",
    ])
    .prop_map(Value::from)
}

#[tokio::test]
async fn extreme_numbers_in_any_field_are_a_4xx_never_a_500() {
    let app = spawn_app().await;
    let owner = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&owner, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan_in_db(&org, "enterprise").await;
    let mut runner = TestRunner::new(ProptestConfig { cases: 48, ..ProptestConfig::default() });
    let numbers = extreme_number();
    let times = prop_oneof![extreme_number(), extreme_time()];
    for case in 0..48 {
        let n = numbers.new_tree(&mut runner).unwrap().current();
        let t = times.new_tree(&mut runner).unwrap().current();
        let key = app.create_key(&owner, &org, &["endpoints.view"]).await;
        let query = |v: &Value| v.to_string().trim_matches('"').replace('+', "%2B");
        let calls: Vec<(Method, String, Option<&str>, Option<Value>)> = vec![
            (
                Method::POST,
                format!("/v1/orgs/{org}/api-keys/{}/roll", key.id),
                Some(&owner.access),
                Some(json!({ "old_expires_in": n })),
            ),
            (
                Method::POST,
                format!("/v1/orgs/{org}/api-keys"),
                Some(&owner.access),
                Some(json!({ "name": "k", "scopes": ["endpoints.view"], "expires_at": t })),
            ),
            (
                Method::POST,
                format!("/v1/orgs/{org}/invitations"),
                Some(&owner.access),
                Some(json!({ "email": format!("guest{case}@example.com"), "expires_in": n })),
            ),
            (Method::POST, format!("/v1/orgs/{org}/usage/endpoints"), Some(SERVICE_TOKEN), Some(json!({ "delta": n }))),
            (Method::POST, format!("/v1/orgs/{org}/usage/requests"), Some(SERVICE_TOKEN), Some(json!({ "delta": n }))),
            (
                Method::POST,
                format!("/v1/orgs/{org}/audit-events"),
                Some(HOST_TOKEN),
                Some(json!({
                    "action": "deploy.created",
                    "actor": { "type": "user", "id": "u1" },
                    "target": { "type": "deploy", "id": "d1" },
                    "occurred_at": t,
                })),
            ),
            (Method::GET, format!("/v1/orgs/{org}/members?limit={}", query(&n)), Some(&owner.access), None),
            (Method::GET, format!("/v1/orgs/{org}/api-keys?limit={}", query(&n)), Some(&owner.access), None),
            (
                Method::GET,
                format!("/v1/orgs/{org}/audit-events?since={}&limit={}", query(&t), query(&n)),
                Some(&owner.access),
                None,
            ),
            (Method::GET, format!("/v1/admin/outbox?limit={}", query(&n)), Some(ADMIN_TOKEN), None),
        ];
        for (method, path, token, body) in calls {
            let r = app.call(method.clone(), &path, token, body.clone()).await;
            let status = r.status.as_u16();
            assert!(
                r.status.is_success() || (400..500).contains(&status),
                "{method} {path} {body:?} answered {status}: {}",
                r.body
            );
            if !r.status.is_success() {
                assert!(!r.code().is_empty(), "{method} {path}: not the error format: {}", r.body);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 3: service tokens hold the hot paths only, unless granted more by name.

#[tokio::test]
async fn a_service_token_without_grants_cannot_read_an_orgs_audit_log_or_change_its_plan() {
    let app = spawn_app().await;
    let owner = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&owner, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan_in_db(&org, "team").await;
    let audit = format!("/v1/orgs/{org}/audit-events");
    for path in [audit.clone(), format!("{audit}/export?format=csv"), format!("/v1/orgs/{org}/billing")] {
        let r = app.get(&path, Some(SERVICE_TOKEN)).await.expect(403);
        assert!(r.body["error"]["message"].as_str().unwrap().contains("grant"), "{path}: {}", r.body);
    }
    app.put(&format!("/v1/orgs/{org}/plan"), Some(SERVICE_TOKEN), json!({ "plan": "starter" })).await.expect(403);
    let event = json!({ "action": "deploy.created", "actor": { "type": "user", "id": "u" }, "target": { "type": "deploy", "id": "d" } });
    app.post(&audit, Some(SERVICE_TOKEN), event.clone()).await.expect(403);

    // The hot paths work with the default grants.
    let key = app.create_key(&owner, &org, &["endpoints.view"]).await;
    assert_eq!(app.verify_key(&key.secret, None).await["valid"], true);
    assert!(app.allowed(&owner.user_id, &org, "endpoints.view").await);
    app.meter(&org, "endpoints", 1).await.expect(200);
    app.get(&format!("/v1/orgs/{org}/usage"), Some(SERVICE_TOKEN)).await.expect(200);

    // A token granted more may do more.
    app.get(&audit, Some(HOST_TOKEN)).await.expect(200);
    app.get(&format!("{audit}/export?format=csv"), Some(HOST_TOKEN)).await.expect(200);
    app.post(&audit, Some(HOST_TOKEN), event).await.expect(201);
    app.put(&format!("/v1/orgs/{org}/plan"), Some(HOST_TOKEN), json!({ "plan": "enterprise" })).await.expect(200);
}

#[tokio::test]
async fn a_service_token_granted_only_metering_cannot_verify_keys() {
    let mut config = config();
    config.service_tokens = vec![ServiceTokenConfig { token: "meter-only".into(), grants: vec!["metering".into()] }];
    let app = spawn_with(config).await;
    let owner = app.signup("ada@example.com", "Ada").await;
    let key = app.create_key(&owner, &owner.personal_org, &["endpoints.view"]).await;
    app.post("/v1/keys/verify", Some("meter-only"), json!({ "key": key.secret })).await.expect(403);
    let check =
        json!({ "subject": { "user_id": owner.user_id }, "org": owner.personal_org, "permission": "org.manage" });
    app.post("/v1/authorize", Some("meter-only"), check).await.expect(403);
    let path = format!("/v1/orgs/{}/usage/endpoints", owner.personal_org);
    app.post(&path, Some("meter-only"), json!({ "delta": 1 })).await.expect(200);
}

// ---------------------------------------------------------------------------------------------
// 4: junk from one source cannot hide failed logins.

async fn failed_logins_recorded_for(app: &TestApp, user: &str) -> Vec<Value> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT metadata FROM audit_events WHERE action = 'security.login_failed' AND target_id = $1 ORDER BY seq",
    )
    .bind(user)
    .fetch_all(&app.db)
    .await
    .unwrap();
    rows.into_iter().map(|(m,)| serde_json::from_str(&m).unwrap()).collect()
}

#[tokio::test]
async fn a_flood_of_junk_requests_does_not_hide_the_attack_on_an_account() {
    let app = spawn_app().await;
    let victim = app.signup("victim@example.com", "Victim").await;
    // 605 refused requests, each its own (who, what, where): more than any ceiling lets through.
    for i in 0..605 {
        app.get(&format!("/v1/orgs/j{i}"), None).await.expect(401);
    }
    let wrong = json!({ "email": "victim@example.com", "password": "wrong password!" });
    app.post("/v1/auth/login", None, wrong.clone()).await.expect(401);
    app.post("/v1/auth/login", None, wrong).await.expect(401);
    let recorded = failed_logins_recorded_for(&app, &victim.user_id).await;
    assert_eq!(recorded.len(), 1, "one aggregated event per account and minute: {recorded:?}");
    assert_eq!(recorded[0]["aggregated"], true);

    // The next minute's aggregated event carries the count of those folded into the last one.
    app.clock.advance(chrono::Duration::seconds(61));
    for i in 0..605 {
        app.get(&format!("/v1/orgs/j{i}"), None).await.expect(401);
    }
    let wrong = json!({ "email": "victim@example.com", "password": "wrong again!!" });
    app.post("/v1/auth/login", None, wrong).await.expect(401);
    let recorded = failed_logins_recorded_for(&app, &victim.user_id).await;
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert_eq!(recorded[1]["aggregated"], true);
    assert_eq!(recorded[1]["left_out"], 1, "{recorded:?}");
}

// ---------------------------------------------------------------------------------------------
// 5: behind a trusted proxy each client has its own address.

fn login_body(password: &str) -> Value {
    json!({ "email": "ada@example.com", "password": password })
}

async fn login_from(app: &TestApp, forwarded_for: &str, password: &str) -> u16 {
    let headers = [("x-forwarded-for", forwarded_for)];
    app.call_with(Method::POST, "/v1/auth/login", None, &headers, Some(login_body(password))).await.status.as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_one_clients_failures_do_not_lock_out_another() {
    let mut config = config();
    config.trusted_proxies = vec!["127.0.0.0/8".into()];
    let app = spawn_with(config).await;
    app.signup("ada@example.com", "Ada").await;
    for _ in 0..5 {
        assert_eq!(login_from(&app, "198.51.100.66, 203.0.113.9", "wrong password!").await, 401);
    }
    assert_eq!(login_from(&app, "203.0.113.9", PASSWORD).await, 429, "the guessing client is throttled");
    // The owner, elsewhere, behind the same proxy.
    assert_eq!(login_from(&app, "203.0.113.10", PASSWORD).await, 200);
    assert_eq!(login_ips(&app).await.last().unwrap(), "203.0.113.10");
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    let app = spawn_app().await;
    app.signup("ada@example.com", "Ada").await;
    for i in 0..5 {
        assert_eq!(login_from(&app, &format!("203.0.113.{i}"), "wrong password!").await, 401);
    }
    assert_eq!(login_from(&app, "203.0.113.77", PASSWORD).await, 429, "a client cannot choose its address");
}

#[tokio::test]
async fn a_host_app_relaying_a_login_with_its_service_token_names_the_users_address() {
    let app = spawn_app().await;
    app.signup("ada@example.com", "Ada").await;
    let headers = [("x-tenantry-client-ip", "192.0.2.44")];
    for token in [SERVICE_TOKEN, "not-a-service-token"] {
        app.call_with(Method::POST, "/v1/auth/login", Some(token), &headers, Some(login_body(PASSWORD)))
            .await
            .expect(200);
    }
    assert_eq!(login_ips(&app).await, ["192.0.2.44", "127.0.0.1"], "only a service token may name the address");
}

/// The addresses of successful logins, oldest first.
async fn login_ips(app: &TestApp) -> Vec<String> {
    let rows: Vec<(Option<String>,)> =
        sqlx::query_as("SELECT ip FROM audit_events WHERE action = 'security.login' ORDER BY seq")
            .fetch_all(&app.db)
            .await
            .unwrap();
    rows.into_iter().map(|(ip,)| ip.unwrap_or_default()).collect()
}

// ---------------------------------------------------------------------------------------------
// 6: an unverified account cannot plant keys or send invitations.

#[tokio::test]
async fn an_unverified_account_may_not_create_keys_or_invite_until_it_verifies() {
    let app = spawn_app().await;
    let squatter = app.signup_unverified("ada@example.com", "Not Ada").await;
    let org = app.create_org(&squatter, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan_in_db(&org, "team").await;
    let keys = format!("/v1/orgs/{org}/api-keys");
    let body = json!({ "name": "planted", "scopes": ["endpoints.view"] });
    let r = app.post(&keys, Some(&squatter.access), body.clone()).await.expect(403);
    assert_eq!(r.code(), "email_unverified");
    let invite = json!({ "email": "friend@example.com", "role": "developer" });
    let r = app.post(&format!("/v1/orgs/{org}/invitations"), Some(&squatter.access), invite.clone()).await.expect(403);
    assert_eq!(r.code(), "email_unverified");

    let token = app.emailed_token("ada@example.com", "/verify-email/").await;
    app.post("/v1/auth/verify-email", None, json!({ "token": token })).await.expect(204);
    app.post(&keys, Some(&squatter.access), body).await.expect(201);
    app.post(&format!("/v1/orgs/{org}/invitations"), Some(&squatter.access), invite).await.expect(201);
}

#[tokio::test]
async fn the_owner_taking_an_account_back_by_password_reset_revokes_keys_made_before() {
    let app = spawn_app().await;
    let squatter = app.signup_unverified("ada@example.com", "Not Ada").await;
    // A key made while the address was unproven (as before this rule existed).
    app.set_verified_in_db(&squatter.user_id, true).await;
    let planted = app.create_key(&squatter, &squatter.personal_org, &["endpoints.view"]).await;
    app.set_verified_in_db(&squatter.user_id, false).await;
    assert_eq!(app.verify_key(&planted.secret, None).await["valid"], true);

    app.post("/v1/auth/password-reset/request", None, json!({ "email": "ada@example.com" })).await.expect(202);
    let token = app.emailed_token("ada@example.com", "/reset-password/").await;
    let confirm = json!({ "token": token, "new_password": "the real ada's password" });
    app.post("/v1/auth/password-reset/confirm", None, confirm).await.expect(204);

    let verdict = app.verify_key(&planted.secret, None).await;
    assert_eq!(verdict["valid"], false, "{verdict}");
    assert_eq!(verdict["code"], "REVOKED");
    let revoked = app.audit_of(&squatter.personal_org).await;
    assert!(revoked.iter().any(|(action, _, target, _)| action == "api_key.revoked" && *target == planted.id));
}

// ---------------------------------------------------------------------------------------------
// 7: a custom role holding part of a restricted role inherits its restriction.

#[tokio::test]
async fn yipyap_admins_cannot_grant_admin_minus_one_permission() {
    let app = spawn_with(tenantry_server::Config { preset: "yipyap".into(), ..config() }).await;
    let owner = app.signup("owner@example.com", "Owner").await;
    let org = app.create_org(&owner, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan_in_db(&org, "team").await;
    let admin = app.signup("admin@example.com", "Admin").await;
    app.add_member(&org, &admin, "admin").await;
    let member = app.signup("member@example.com", "Member").await;
    app.add_member(&org, &member, "member").await;
    let almost_admin = json!([
        "org.manage",
        "members.invite",
        "members.remove",
        "members.change_role",
        "teams.manage",
        "api_keys.manage",
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
    let body = json!({ "key": "deputy", "name": "Deputy", "permissions": almost_admin });
    let r = app.post(&roles, Some(&admin.access), body.clone()).await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("`owner`"), "{}", r.body);
    app.post(&roles, Some(&owner.access), body).await.expect(201);
    let member_path = format!("/v1/orgs/{org}/members/{}", member.user_id);
    let r = app.patch(&member_path, Some(&admin.access), json!({ "role": "deputy" })).await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("`admin`"), "{}", r.body);
    assert!(!app.allowed(&member.user_id, &org, "members.invite").await);
    app.patch(&member_path, Some(&owner.access), json!({ "role": "deputy" })).await.expect(200);

    // A role of permissions unrestricted roles also hold stays the admin's to give.
    let body = json!({ "key": "watcher", "name": "Watcher", "permissions": ["monitors.view", "alerts.view"] });
    app.post(&roles, Some(&admin.access), body).await.expect(201);
    app.patch(&member_path, Some(&owner.access), json!({ "role": "member" })).await.expect(200);
    app.patch(&member_path, Some(&admin.access), json!({ "role": "watcher" })).await.expect(200);
}

// ---------------------------------------------------------------------------------------------
// 8: addresses are those the mailer can send to; a permanent refusal ends the retries.

#[tokio::test]
async fn an_address_the_mailer_cannot_parse_is_refused() {
    let app = spawn_app().await;
    for email in ["a<b@c>@d.com", "<ada@example.com>", "ada,bob@example.com"] {
        let body = json!({ "email": email, "password": PASSWORD, "display_name": "Ada" });
        let r = app.post("/v1/auth/signup", None, body).await.expect(400);
        assert_eq!(r.body["error"]["details"]["field"], "email", "{email}: {}", r.body);
    }
    let owner = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&owner, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan_in_db(&org, "team").await;
    let body = json!({ "email": "a<b@c>@d.com", "role": "developer" });
    let r = app.post(&format!("/v1/orgs/{org}/invitations"), Some(&owner.access), body).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "email");
}

#[tokio::test]
async fn a_permanent_smtp_refusal_ends_the_retries_and_shows_in_the_outbox() {
    let sink = SmtpSink::start_refusing().await;
    let mut config = config();
    config.email.smtp_url = Some(format!("smtp://127.0.0.1:{}", sink.port));
    let app = spawn_with(config).await;
    app.signup_unverified("ada@example.com", "Ada").await;
    let mut message = Value::Null;
    for _ in 0..200 {
        message = app.last_email_to("ada@example.com").await;
        if !message["failed_at"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(!message["failed_at"].is_null(), "never marked failed: {message}");
    assert!(message["sent_at"].is_null());
    assert_eq!(message["attempts"], 1);
    assert!(message["last_error"].as_str().unwrap().contains("550"), "{message}");
    let (next,): (Option<i64>,) =
        sqlx::query_as("SELECT next_attempt_at FROM outbox").fetch_one(&app.db).await.unwrap();
    assert_eq!(next, None, "no retry is scheduled");
    // Long after any backoff, nothing was tried again.
    app.clock.advance(chrono::Duration::hours(2));
    app.signup_unverified("bob@example.com", "Bob").await;
    sink.wait_for_attempts(2).await;
    let message = app.last_email_to("ada@example.com").await;
    assert_eq!(message["attempts"], 1, "{message}");
}
