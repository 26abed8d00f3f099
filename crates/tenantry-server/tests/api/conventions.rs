//! SPEC 10: envelopes, error bodies, request ids, body limits, malformed input, OpenAPI, and one
//! audit row per change.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::common::{spawn_app, ADMIN_TOKEN, PASSWORD};

#[tokio::test]
async fn every_response_has_a_request_id_and_errors_carry_it() {
    let app = spawn_app().await;
    for (method, path) in [("GET", "/health"), ("GET", "/v1/me"), ("GET", "/no/such/route"), ("DELETE", "/health")] {
        let r = app.call(method.parse().unwrap(), path, None, None).await;
        let id = r.headers["x-request-id"].to_str().unwrap().to_owned();
        assert!(!id.is_empty());
        if r.status.is_client_error() {
            assert_eq!(r.body["error"]["request_id"], id.as_str(), "{method} {path}: {}", r.body);
            assert!(r.body["error"]["code"].is_string());
            assert!(r.body["error"]["message"].is_string());
        }
    }
    // A caller's own request id is kept.
    let r = app.client.get(format!("{}/v1/me", app.base)).header("x-request-id", "trace-42").send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-42");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["request_id"], "trace-42");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let app = spawn_app().await;
    let r = app.get("/v1/nothing-here", None).await.expect(404);
    assert_eq!(r.code(), "not_found");
    let r = app.call(reqwest::Method::PUT, "/v1/auth/login", None, Some(json!({}))).await.expect(405);
    assert_eq!(r.code(), "method_not_allowed");
}

#[tokio::test]
async fn malformed_bodies_are_400_naming_the_field() {
    let app = spawn_app().await;
    let raw = |body: &'static str, content_type: &'static str| {
        app.client.post(format!("{}/v1/auth/signup", app.base)).header("content-type", content_type).body(body).send()
    };
    let r = raw("{\"email\": ", "application/json").await.unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_request");
    assert_eq!(body["error"]["details"]["field"], "body");

    let r = raw("{\"email\": 42, \"password\": \"x\", \"display_name\": \"y\"}", "application/json").await.unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["details"]["field"], "email");
    assert!(body["error"]["message"].as_str().unwrap().starts_with("email:"));

    let r = raw(
        "{\"email\": \"a@b.co\", \"password\": \"12345678\", \"display_name\": \"y\", \"admin\": true}",
        "application/json",
    )
    .await
    .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["details"]["field"], "admin");

    let r = raw("{}", "text/plain").await.unwrap();
    assert_eq!(r.status(), 415);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unsupported_media_type");
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413() {
    let app = spawn_app().await;
    let big =
        format!("{{\"email\": \"a@b.co\", \"password\": \"{}\", \"display_name\": \"x\"}}", "x".repeat(1024 * 1024));
    let r = app
        .client
        .post(format!("{}/v1/auth/signup", app.base))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&app.db).await.unwrap();
    assert_eq!(users, 0);
}

#[tokio::test]
async fn every_change_writes_exactly_one_audit_row_and_refusals_write_none() {
    let app = spawn_app().await;
    let mut expected = 0;
    let mut step = |label: &str, count: i64, expected_delta: i64| {
        expected += expected_delta;
        assert_eq!(count, expected, "after {label}");
    };
    let ada = app.signup("ada@example.com", "Ada").await;
    step("signup", app.audit_count().await, 1);
    app.post("/v1/auth/signup", None, json!({ "email": "ada@example.com", "password": PASSWORD, "display_name": "A" }))
        .await
        .expect(409);
    step("refused signup", app.audit_count().await, 0);
    let org = app.create_org(&ada, "Acme").await;
    step("org create", app.audit_count().await, 1);
    app.post("/v1/orgs", Some(&ada.access), json!({ "name": "Dup", "slug": "acme" })).await.expect(409);
    step("refused org create", app.audit_count().await, 0);
    let path = format!("/v1/orgs/{}", org["id"].as_str().unwrap());
    app.patch(&path, Some(&ada.access), json!({ "name": "Acme 2" })).await.expect(200);
    step("org update", app.audit_count().await, 1);
    app.patch(&path, Some(&ada.access), json!({ "name": "Acme 2" })).await.expect(200);
    step("no-op update", app.audit_count().await, 0);
    let token = app.emailed_token("ada@example.com", "/verify-email/").await;
    app.post("/v1/auth/verify-email", None, json!({ "token": token })).await.expect(204);
    step("verify email", app.audit_count().await, 1);
    app.post("/v1/auth/password-reset/request", None, json!({ "email": "ada@example.com" })).await.expect(202);
    step("reset request", app.audit_count().await, 1);
    let reset = app.emailed_token("ada@example.com", "/reset-password/").await;
    app.post("/v1/auth/password-reset/confirm", None, json!({ "token": reset, "new_password": "another secret" }))
        .await
        .expect(204);
    step("reset confirm", app.audit_count().await, 1);
    let login = app
        .post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": "another secret" }))
        .await
        .expect(200);
    let access = login.body["data"]["access_token"].as_str().unwrap();
    app.post("/v1/auth/logout", Some(access), json!({})).await.expect(204);
    step("logout", app.audit_count().await, 1);

    assert_eq!(
        app.audit_actions().await,
        [
            "user.signed_up",
            "org.created",
            "org.updated",
            "user.email_verified",
            "user.password_reset_requested",
            "user.password_reset",
            "session.revoked"
        ]
    );
    // Each event records who, what and from where.
    let (actor_type, actor_id, ip): (String, String, Option<String>) =
        sqlx::query_as("SELECT actor_type, actor_id, ip FROM audit_events WHERE action = 'org.created'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((actor_type.as_str(), actor_id.as_str()), ("user", ada.user_id.as_str()));
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn audit_rows_are_hash_chained_per_org() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await;
    let path = format!("/v1/orgs/{}", org["id"].as_str().unwrap());
    for i in 0..3 {
        app.patch(&path, Some(&ada.access), json!({ "name": format!("Acme {i}") })).await.expect(200);
    }
    let chain: Vec<(String, String)> =
        sqlx::query_as("SELECT prev_hash, hash FROM audit_events WHERE org_id = $1 ORDER BY seq")
            .bind(org["id"].as_str().unwrap())
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(chain.len(), 4);
    assert_eq!(chain[0].0, "");
    for pair in chain.windows(2) {
        assert_eq!(pair[1].0, pair[0].1, "each row links to the previous row of its org");
    }
}

/// Every route the API serves, as (method, path).
const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/auth/login/mfa"),
    ("get", "/v1/me/mfa"),
    ("post", "/v1/me/mfa/totp"),
    ("delete", "/v1/me/mfa/totp"),
    ("post", "/v1/me/mfa/totp/confirm"),
    ("get", "/v1/me/sessions"),
    ("delete", "/v1/me/sessions/{session}"),
    ("post", "/v1/me/sessions/revoke-others"),
    ("get", "/v1/orgs/{org}/mfa-impact"),
    ("post", "/v1/admin/users/{user}/mfa/reset"),
    ("get", "/v1/events"),
    ("get", "/v1/admin/webhooks"),
    ("post", "/v1/admin/webhooks"),
    ("get", "/v1/admin/webhooks/{id}"),
    ("patch", "/v1/admin/webhooks/{id}"),
    ("delete", "/v1/admin/webhooks/{id}"),
    ("post", "/v1/admin/webhooks/{id}/rotate-secret"),
    ("post", "/v1/admin/webhooks/{id}/test"),
    ("get", "/v1/admin/webhooks/{id}/deliveries"),
    ("post", "/v1/admin/webhooks/{id}/deliveries/{delivery}/redeliver"),
    ("post", "/v1/orgs/{org}/notifications"),
    ("post", "/v1/orgs/{org}/notifications/test"),
    ("get", "/health"),
    ("get", "/ready"),
    ("get", "/metrics"),
    ("get", "/.well-known/jwks.json"),
    ("get", "/openapi.json"),
    ("post", "/v1/auth/signup"),
    ("post", "/v1/auth/login"),
    ("post", "/v1/auth/refresh"),
    ("post", "/v1/auth/logout"),
    ("post", "/v1/auth/switch-org"),
    ("post", "/v1/auth/verify-email"),
    ("post", "/v1/auth/password-reset/request"),
    ("post", "/v1/auth/password-reset/confirm"),
    ("get", "/v1/me"),
    ("get", "/v1/orgs"),
    ("post", "/v1/orgs"),
    ("get", "/v1/orgs/{org}"),
    ("patch", "/v1/orgs/{org}"),
    ("get", "/v1/orgs/{org}/members"),
    ("get", "/v1/orgs/{org}/members/{user}"),
    ("patch", "/v1/orgs/{org}/members/{user}"),
    ("delete", "/v1/orgs/{org}/members/{user}"),
    ("post", "/v1/orgs/{org}/leave"),
    ("get", "/v1/orgs/{org}/roles"),
    ("post", "/v1/orgs/{org}/roles"),
    ("patch", "/v1/orgs/{org}/roles/{key}"),
    ("delete", "/v1/orgs/{org}/roles/{key}"),
    ("post", "/v1/authorize"),
    ("get", "/v1/orgs/{org}/api-keys"),
    ("post", "/v1/orgs/{org}/api-keys"),
    ("delete", "/v1/orgs/{org}/api-keys/{key}"),
    ("post", "/v1/orgs/{org}/api-keys/{key}/roll"),
    ("post", "/v1/keys/verify"),
    ("get", "/v1/orgs/{org}/invitations"),
    ("post", "/v1/orgs/{org}/invitations"),
    ("delete", "/v1/orgs/{org}/invitations/{inv}"),
    ("post", "/v1/orgs/{org}/invitations/{inv}/resend"),
    ("get", "/v1/invitations/{token}"),
    ("post", "/v1/invitations/{token}/accept"),
    ("post", "/v1/invitations/{token}/decline"),
    ("get", "/v1/admin/orgs"),
    ("get", "/v1/admin/outbox"),
    ("get", "/v1/admin/audit-events"),
    ("get", "/v1/orgs/{org}/audit-events"),
    ("post", "/v1/orgs/{org}/audit-events"),
    ("get", "/v1/orgs/{org}/audit-events/export"),
    ("delete", "/v1/orgs/{org}"),
    ("post", "/v1/orgs/{org}/members/{user}/reset-password"),
    ("get", "/v1/plans"),
    ("put", "/v1/orgs/{org}/plan"),
    ("get", "/v1/orgs/{org}/billing"),
    ("put", "/v1/orgs/{org}/billing"),
    ("get", "/v1/orgs/{org}/usage"),
    ("get", "/v1/usage"),
    ("post", "/v1/orgs/{org}/usage/{metric}"),
    ("get", "/v1/orgs/{org}/settings"),
    ("put", "/v1/orgs/{org}/settings"),
    ("post", "/v1/orgs/{org}/transfer-ownership"),
    ("post", "/v1/admin/orgs"),
    ("post", "/v1/admin/orgs/{org}/members"),
    ("get", "/v1/admin/users"),
    ("post", "/v1/admin/users/{user}/suspend"),
    ("post", "/v1/admin/users/{user}/unsuspend"),
    ("get", "/v1/orgs/{org}/teams"),
    ("post", "/v1/orgs/{org}/teams"),
    ("get", "/v1/orgs/{org}/teams/{team}"),
    ("patch", "/v1/orgs/{org}/teams/{team}"),
    ("delete", "/v1/orgs/{org}/teams/{team}"),
    ("get", "/v1/orgs/{org}/teams/{team}/members"),
    ("post", "/v1/orgs/{org}/teams/{team}/members"),
    ("patch", "/v1/orgs/{org}/teams/{team}/members/{user}"),
    ("delete", "/v1/orgs/{org}/teams/{team}/members/{user}"),
];

/// What `openapi-spec-validator` (run by `.ci/run`) checks first, kept here as well so a
/// regression fails the Rust suite: every path parameter is in its path, and every
/// operationId is unique.
#[tokio::test]
async fn the_openapi_documents_parameters_and_operation_ids_are_consistent() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json", None).await.expect(200).body;
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(parameter["in"] == "path", in_path, "{method} {path}: parameter {name} is `in: {}`", parameter["in"]);
            }
        }
    }
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_lists_exactly_the_served_routes() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json", None).await.expect(200).body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    assert_eq!(doc["info"]["title"], "Tenantry");
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |method| (method.clone(), path.clone())))
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(documented, expected);

    // And the router serves each of them: none answers "no such route" or "method not allowed".
    for (method, path) in ROUTES {
        let concrete = path.replace("{org}", "some-org");
        let body = (*method != "get").then(|| json!({}));
        let r = app.call(method.to_uppercase().parse().unwrap(), &concrete, Some(ADMIN_TOKEN), body).await;
        assert_ne!(r.status, 405, "{method} {path}");
        assert_ne!(r.body["error"]["message"], "no such route", "{method} {path}");
    }
    // Every documented operation has a response schema for its success status.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path} documents no success response");
        }
    }
}

#[tokio::test]
async fn list_responses_use_the_pagination_envelope() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let r = app.get("/v1/orgs", Some(&ada.access)).await.expect(200);
    assert!(r.body["data"].is_array());
    assert!(r.body["pagination"].as_object().unwrap().contains_key("next_cursor"));
    let r = app.get("/health", None).await.expect(200);
    assert_eq!(r.body["status"], "ok");
}

/// Ids in paths are parsed before any service sees them; one of the wrong kind or shape names
/// nothing, so it is 404 like an id that does not exist, and a user id in a body is a 400 naming
/// its field.
#[tokio::test]
async fn an_id_of_the_wrong_shape_is_not_found_and_a_bad_user_id_in_a_body_names_its_field() {
    let app = spawn_app().await;
    let owner = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&owner, "Acme").await;
    let slug = org["slug"].as_str().unwrap();
    let token = Some(owner.access.as_str());
    let other_kind = &owner.personal_org;
    app.post("/v1/orgs/acme/teams", token, json!({"name": "Platform"})).await.expect(201);
    for id in ["nope", "usr_nope", other_kind] {
        app.get(&format!("/v1/orgs/{slug}/members/{id}"), token).await.expect(404);
        app.patch(&format!("/v1/orgs/{slug}/members/{id}"), token, json!({"role": "viewer"})).await.expect(404);
        app.delete(&format!("/v1/orgs/{slug}/members/{id}"), token).await.expect(404);
        app.delete(&format!("/v1/orgs/{slug}/api-keys/{id}"), token).await.expect(404);
        app.post(&format!("/v1/orgs/{slug}/api-keys/{id}/roll"), token, json!({})).await.expect(404);
        app.delete(&format!("/v1/orgs/{slug}/invitations/{id}"), token).await.expect(404);
        app.delete(&format!("/v1/orgs/{slug}/teams/platform/members/{id}"), token).await.expect(404);
        app.delete(&format!("/v1/me/sessions/{id}"), token).await.expect(404);
        app.post(&format!("/v1/admin/users/{id}/suspend"), Some(ADMIN_TOKEN), json!({})).await.expect(404);
    }
    let r = app
        .post(&format!("/v1/orgs/{slug}/transfer-ownership"), token, json!({"new_owner_user_id": "nope", "current_password": PASSWORD}))
        .await
        .expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "new_owner_user_id");
    let r = app
        .post(&format!("/v1/admin/orgs/{slug}/members"), Some(ADMIN_TOKEN), json!({"user_id": other_kind, "role": "viewer"}))
        .await
        .expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "user_id");
}

/// JSON Schema counts `3600.0` as an integer, so clients generated from the document may send
/// one: whole numbers written with a fraction part are taken, real fractions are not.
#[tokio::test]
async fn an_integer_field_takes_a_whole_number_written_with_a_fraction_part() {
    let app = spawn_app().await;
    let owner = app.signup("ada@example.com", "Ada").await;
    let token = Some(owner.access.as_str());
    let org = &owner.personal_org;
    let key = app
        .post(&format!("/v1/orgs/{org}/api-keys"), token, json!({"name": "ci", "scopes": ["endpoints.view"]}))
        .await
        .expect(201);
    let id = key.body["data"]["id"].as_str().unwrap().to_owned();
    let roll = format!("/v1/orgs/{org}/api-keys/{id}/roll");
    let r = app.post(&roll, token, json!({"old_expires_in": 3600.5})).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "old_expires_in");
    app.post(&roll, token, json!({"old_expires_in": 3600.0})).await.expect(201);
}

/// The document's slug patterns spell out the reserved words (a JSON Schema pattern cannot name a
/// list kept elsewhere), so they must list exactly the words the server refuses.
#[tokio::test]
async fn the_documents_slug_patterns_reserve_exactly_the_servers_reserved_words() {
    let app = spawn_app().await;
    let document = app.get("/openapi.json", None).await.expect(200).body;
    let mut reserved: Vec<&str> = tenantry_core::domain::slug::RESERVED.to_vec();
    reserved.sort_unstable();
    let mut checked = 0;
    for (name, schema) in document["components"]["schemas"].as_object().unwrap() {
        let Some(pattern) = schema["properties"]["slug"]["pattern"].as_str() else { continue };
        let (_, rest) = pattern.split_once("^(?!(?:").expect("a slug pattern opens with its reserved words");
        let (words, _) = rest.split_once(")$)").unwrap();
        let mut words: Vec<&str> = words.split('|').collect();
        words.sort_unstable();
        assert_eq!(words, reserved, "{name}.slug");
        checked += 1;
    }
    assert!(checked >= 3, "the create and update bodies of orgs and teams have slug patterns");
}
