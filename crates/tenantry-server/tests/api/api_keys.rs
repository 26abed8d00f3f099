//! SPEC 7: API keys — once-shown secrets, scopes without escalation, key authentication of
//! Tenantry's own API, revocation, expiry and rolling on the next request, rate limits and the
//! `/v1/keys/verify` hot path.

use chrono::Duration;
use serde_json::{json, Value};

use crate::common::{spawn_app, Account, TestApp, ADMIN_TOKEN, SERVICE_TOKEN};

async fn org_with_owner(app: &TestApp) -> (Account, String) {
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    (ada, org)
}

fn keys_path(org: &str) -> String {
    format!("/v1/orgs/{org}/api-keys")
}

#[tokio::test]
async fn the_secret_is_shown_once_and_only_its_prefix_is_listed() {
    let app = spawn_app().await;
    let (ada, org) = org_with_owner(&app).await;
    let r = app
        .post(
            &keys_path(&org),
            Some(&ada.access),
            json!({ "name": "CI", "scopes": ["endpoints.*"], "prefix": "tn_test_" }),
        )
        .await
        .expect(201);
    let created = &r.body["data"];
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("tn_test_"), "{secret}");
    assert_eq!(secret.len(), "tn_test_".len() + 32 + 6);
    assert_eq!(created["prefix"], &secret[..12]);
    assert_eq!(created["created_by"], ada.user_id.as_str());
    assert_eq!(created["scopes"], json!(["endpoints.*"]));
    assert!(created["id"].as_str().unwrap().starts_with("key_"));

    let listed = app.get(&keys_path(&org), Some(&ada.access)).await.expect(200);
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
    assert!(listed.body["data"][0].get("secret").is_none());
    assert!(!listed.body.to_string().contains(secret));

    // Never stored in clear, never in the audit log.
    let hashes: Vec<String> = sqlx::query_scalar("SELECT secret_hash FROM api_keys").fetch_all(&app.db).await.unwrap();
    assert_eq!(hashes.len(), 1);
    assert_ne!(hashes[0], secret);
    let audit: Vec<String> = sqlx::query_scalar("SELECT metadata FROM audit_events").fetch_all(&app.db).await.unwrap();
    assert!(audit.iter().all(|m| !m.contains(secret)));
    assert!(app.audit_actions().await.contains(&"api_key.created".to_owned()));

    // A prefix the preset does not have is refused.
    let r = app
        .post(
            &keys_path(&org),
            Some(&ada.access),
            json!({ "name": "x", "scopes": ["endpoints.view"], "prefix": "hd_live_" }),
        )
        .await
        .expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "prefix");
}

#[tokio::test]
async fn scopes_must_exist_and_may_not_exceed_the_creators_permissions() {
    let app = spawn_app().await;
    let (ada, org) = org_with_owner(&app).await;
    app.set_plan(&org, "team").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    app.add_member(&org, &bob, "admin").await;
    let dev = app.signup("dev@example.com", "Dev").await;
    app.add_member(&org, &dev, "developer").await;

    for (scopes, field) in [
        (json!([]), "scopes"),
        (json!(["endpoints.view", "nope.read"]), "scopes[1]"),
        (json!(["endpoint.*"]), "scopes[0]"),
    ] {
        let r =
            app.post(&keys_path(&org), Some(&ada.access), json!({ "name": "k", "scopes": scopes })).await.expect(400);
        assert_eq!(r.body["error"]["details"]["field"], field);
    }
    // An admin lacks endpoints.delete (SPEC 3), so neither it nor `endpoints.*` may be granted.
    for scope in ["endpoints.delete", "endpoints.*"] {
        let r =
            app.post(&keys_path(&org), Some(&bob.access), json!({ "name": "k", "scopes": [scope] })).await.expect(403);
        assert!(r.body["error"]["message"].as_str().unwrap().contains(scope), "{}", r.body);
    }
    app.post(&keys_path(&org), Some(&bob.access), json!({ "name": "k", "scopes": ["endpoints.view", "requests.*"] }))
        .await
        .expect(201);
    // A developer may not manage keys at all.
    app.post(&keys_path(&org), Some(&dev.access), json!({ "name": "k", "scopes": ["endpoints.view"] }))
        .await
        .expect(403);
    app.get(&keys_path(&org), Some(&dev.access)).await.expect(403);
    // Past expiry is refused.
    let past = (app.clock_now() - Duration::minutes(1)).to_rfc3339();
    let r = app
        .post(
            &keys_path(&org),
            Some(&ada.access),
            json!({ "name": "k", "scopes": ["endpoints.view"], "expires_at": past }),
        )
        .await
        .expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "expires_at");
}

#[tokio::test]
async fn a_key_acts_as_its_org_within_its_scopes() {
    let app = spawn_app().await;
    let (ada, org) = org_with_owner(&app).await;
    app.set_plan(&org, "team").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    app.add_member(&org, &bob, "viewer").await;
    let viewer_key = app.create_key(&ada, &org, &["endpoints.view", "requests.replay"]).await;

    // Reading the org and its members is open to every member, and to the org's keys.
    let r = app.get(&format!("/v1/orgs/{org}"), Some(&viewer_key.secret)).await.expect(200);
    assert_eq!(r.body["data"]["id"], org.as_str());
    assert!(r.body["data"].get("role").is_none());
    app.get(&format!("/v1/orgs/{org}/members"), Some(&viewer_key.secret)).await.expect(200);
    // But nothing beyond its scopes.
    let r = app
        .patch(
            &format!("/v1/orgs/{org}/members/{}", bob.user_id),
            Some(&viewer_key.secret),
            json!({ "role": "developer" }),
        )
        .await
        .expect(403);
    assert_eq!(r.code(), "scope_missing");
    let r =
        app.patch(&format!("/v1/orgs/{org}"), Some(&viewer_key.secret), json!({ "name": "Renamed" })).await.expect(403);
    assert_eq!(r.code(), "scope_missing");
    app.get(&keys_path(&org), Some(&viewer_key.secret)).await.expect(403);

    // A key with the right scope acts, and the audit log names the key.
    let manager =
        app.create_key(&ada, &org, &["members.change_role", "endpoints.*", "requests.replay", "org.manage"]).await;
    app.patch(
        &format!("/v1/orgs/{org}/members/{}", bob.user_id),
        Some(&manager.secret),
        json!({ "role": "developer" }),
    )
    .await
    .expect(200);
    let actor: (String, String) =
        sqlx::query_as("SELECT actor_type, actor_id FROM audit_events WHERE action = 'member.role_changed'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(actor, ("api_key".to_owned(), manager.id.clone()));

    // Another org's objects do not exist for it, and user-only endpoints refuse it.
    let other = app.create_org(&ada, "Other").await["id"].as_str().unwrap().to_owned();
    let r = app.get(&format!("/v1/orgs/{other}"), Some(&manager.secret)).await.expect(404);
    assert_eq!(r.code(), "not_found");
    app.get(&format!("/v1/orgs/{other}/members"), Some(&manager.secret)).await.expect(404);
    app.get("/v1/orgs", Some(&manager.secret)).await.expect(403);
    app.post(&format!("/v1/orgs/{org}/leave"), Some(&manager.secret), json!({})).await.expect(403);
}

#[tokio::test]
async fn a_key_may_not_create_a_key_beyond_its_own_scopes() {
    let app = spawn_app().await;
    let (ada, org) = org_with_owner(&app).await;
    let key = app.create_key(&ada, &org, &["api_keys.manage", "endpoints.view"]).await;
    let r = app
        .post(&keys_path(&org), Some(&key.secret), json!({ "name": "k", "scopes": ["endpoints.view"] }))
        .await
        .expect(201);
    assert_eq!(r.body["data"]["created_by"], key.id.as_str());
    app.post(&keys_path(&org), Some(&key.secret), json!({ "name": "k", "scopes": ["members.invite"] }))
        .await
        .expect(403);
}

#[tokio::test]
async fn revocation_takes_effect_on_the_next_request() {
    let app = spawn_app().await;
    let (ada, org) = org_with_owner(&app).await;
    let key = app.create_key(&ada, &org, &["endpoints.view"]).await;
    // Warm every cache first, so the test proves invalidation rather than a cold lookup.
    app.get(&format!("/v1/orgs/{org}"), Some(&key.secret)).await.expect(200);
    assert_eq!(app.verify_key(&key.secret, None).await["code"], "VALID");

    app.delete(&format!("{}/{}", keys_path(&org), key.id), Some(&ada.access)).await.expect(204);
    let r = app.get(&format!("/v1/orgs/{org}"), Some(&key.secret)).await.expect(401);
    assert_eq!(r.code(), "unauthorized");
    let v = app.verify_key(&key.secret, None).await;
    assert_eq!((v["valid"].clone(), v["code"].clone()), (json!(false), json!("REVOKED")));
    assert_eq!(v["key_id"], key.id.as_str());
    let listed = app.get(&keys_path(&org), Some(&ada.access)).await.expect(200);
    assert!(listed.body["data"][0]["revoked_at"].is_string());

    // Revoking again changes nothing; another org's key is not found.
    app.delete(&format!("{}/{}", keys_path(&org), key.id), Some(&ada.access)).await.expect(204);
    assert_eq!(app.audit_actions().await.iter().filter(|a| *a == "api_key.revoked").count(), 1);
    let other = app.create_org(&ada, "Other").await["id"].as_str().unwrap().to_owned();
    app.delete(&format!("{}/{}", keys_path(&other), key.id), Some(&ada.access)).await.expect(404);
}

#[tokio::test]
async fn an_expired_key_is_refused() {
    let app = spawn_app().await;
    let (ada, org) = org_with_owner(&app).await;
    let expires = (app.clock_now() + Duration::hours(1)).to_rfc3339();
    let r = app
        .post(
            &keys_path(&org),
            Some(&ada.access),
            json!({ "name": "k", "scopes": ["endpoints.view"], "expires_at": expires }),
        )
        .await
        .expect(201);
    let secret = r.body["data"]["secret"].as_str().unwrap().to_owned();
    assert_eq!(app.verify_key(&secret, None).await["code"], "VALID");
    app.get(&format!("/v1/orgs/{org}"), Some(&secret)).await.expect(200);
    app.clock.advance(Duration::hours(1));
    assert_eq!(app.verify_key(&secret, None).await["code"], "EXPIRED");
    app.get(&format!("/v1/orgs/{org}"), Some(&secret)).await.expect(401);
}

#[tokio::test]
async fn rolling_replaces_the_secret_now_or_after_a_grace_period() {
    let app = spawn_app().await;
    let (ada, org) = org_with_owner(&app).await;
    let first = app.create_key(&ada, &org, &["endpoints.view"]).await;
    assert_eq!(app.verify_key(&first.secret, None).await["code"], "VALID");

    let r = app.post(&format!("{}/{}/roll", keys_path(&org), first.id), Some(&ada.access), json!({})).await.expect(201);
    let second = r.body["data"]["secret"].as_str().unwrap().to_owned();
    let second_id = r.body["data"]["id"].as_str().unwrap().to_owned();
    assert_ne!(second_id, first.id);
    assert_eq!(r.body["data"]["scopes"], json!(["endpoints.view"]));
    assert_eq!(app.verify_key(&first.secret, None).await["code"], "REVOKED", "immediately by default");
    assert_eq!(app.verify_key(&second, None).await["code"], "VALID");

    // With a grace period the old secret keeps working until it ends.
    let r = app
        .post(&format!("{}/{second_id}/roll", keys_path(&org)), Some(&ada.access), json!({ "old_expires_in": 600 }))
        .await
        .expect(201);
    let third = r.body["data"]["secret"].as_str().unwrap().to_owned();
    assert_eq!(app.verify_key(&second, None).await["code"], "VALID");
    assert_eq!(app.verify_key(&third, None).await["code"], "VALID");
    app.clock.advance(Duration::seconds(600));
    assert_eq!(app.verify_key(&second, None).await["code"], "EXPIRED");
    assert_eq!(app.verify_key(&third, None).await["code"], "VALID");

    // A revoked key cannot be rolled; the grace period is bounded.
    app.post(&format!("{}/{}/roll", keys_path(&org), first.id), Some(&ada.access), json!({})).await.expect(409);
    let r = app
        .post(&format!("{}/{second_id}/roll", keys_path(&org)), Some(&ada.access), json!({ "old_expires_in": -1 }))
        .await
        .expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "old_expires_in");
    let rolled = app.audit_actions().await.iter().filter(|a| *a == "api_key.rolled").count();
    assert_eq!(rolled, 2);
}

#[tokio::test]
async fn rolling_needs_every_scope_of_the_key() {
    let app = spawn_app().await;
    let (ada, org) = org_with_owner(&app).await;
    app.set_plan(&org, "team").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    app.add_member(&org, &bob, "admin").await;
    let strong = app.create_key(&ada, &org, &["endpoints.delete"]).await;
    let r =
        app.post(&format!("{}/{}/roll", keys_path(&org), strong.id), Some(&bob.access), json!({})).await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("endpoints.delete"));
    assert_eq!(app.verify_key(&strong.secret, None).await["code"], "VALID", "a refused roll changes nothing");
}

#[tokio::test]
async fn verify_answers_every_outcome_with_a_200() {
    let app = spawn_app().await;
    let (ada, org) = org_with_owner(&app).await;
    let key = app.create_key(&ada, &org, &["endpoints.view", "requests.*"]).await;

    let v = app.verify_key(&key.secret, Some("requests.delete")).await;
    assert_eq!(v["valid"], true);
    assert_eq!(v["code"], "VALID");
    assert_eq!(v["org_id"], org.as_str());
    assert_eq!(v["key_id"], key.id.as_str());
    assert_eq!(v["scopes"], json!(["endpoints.view", "requests.*"]));
    assert_eq!(v["rate_limit"]["limit"], 60);

    let v = app.verify_key(&key.secret, Some("endpoints.delete")).await;
    assert_eq!((v["valid"].clone(), v["code"].clone()), (json!(false), json!("INSUFFICIENT_PERMISSIONS")));

    // Malformed, mistyped, unknown and foreign keys are all simply not found.
    let mut mistyped = key.secret.clone();
    let last = mistyped.pop().unwrap();
    mistyped.push(if last == 'a' { 'b' } else { 'a' });
    let other_instance = spawn_app().await;
    let (other_ada, other_org) = org_with_owner(&other_instance).await;
    let foreign = other_instance.create_key(&other_ada, &other_org, &["endpoints.view"]).await;
    for bad in ["", "nonsense", "hd_live_abc", mistyped.as_str(), foreign.secret.as_str()] {
        let v = app.verify_key(bad, None).await;
        assert_eq!(v["code"], "NOT_FOUND", "{bad}");
        assert_eq!(v["valid"], false);
        assert!(v["key_id"].is_null() && v["org_id"].is_null());
    }

    // Only host apps and the instance admin may verify; the request itself is validated.
    app.post("/v1/keys/verify", Some(ADMIN_TOKEN), json!({ "key": key.secret })).await.expect(200);
    app.post("/v1/keys/verify", Some(&ada.access), json!({ "key": key.secret })).await.expect(403);
    app.post("/v1/keys/verify", Some(&key.secret), json!({ "key": key.secret })).await.expect(403);
    app.post("/v1/keys/verify", None, json!({ "key": key.secret })).await.expect(401);
    let r =
        app.post("/v1/keys/verify", Some(SERVICE_TOKEN), json!({ "key": key.secret, "permission": "no.such" })).await;
    assert_eq!(r.expect(400).body["error"]["details"]["field"], "permission");
    let r = app.post("/v1/keys/verify", Some(SERVICE_TOKEN), json!({})).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "key");
}

#[tokio::test]
async fn a_malformed_key_is_refused_without_touching_the_database() {
    let app = spawn_app().await;
    let (ada, org) = org_with_owner(&app).await;
    let key = app.create_key(&ada, &org, &["endpoints.view"]).await;
    let mut mistyped = key.secret.clone();
    mistyped.replace_range(10..11, if &key.secret[10..11] == "x" { "y" } else { "x" });
    let mut well_formed_unknown = key.secret[..key.secret.len() - 6].to_owned();
    well_formed_unknown.replace_range(12..13, if &key.secret[12..13] == "Q" { "R" } else { "Q" });
    let unknown = checksummed(&well_formed_unknown);

    app.store.close().await;
    // With the database gone, a lookup fails loudly; a malformed key never needs one.
    assert_eq!(app.verify_key(&mistyped, None).await["code"], "NOT_FOUND");
    let r = app.post("/v1/keys/verify", Some(SERVICE_TOKEN), json!({ "key": unknown })).await;
    assert_eq!(r.status.as_u16(), 500, "a well-formed key is looked up: {}", r.body);
}

/// `body` followed by its base62 CRC32, as Tenantry formats keys.
fn checksummed(body: &str) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut value = crc32(body.as_bytes()) as u64;
    let mut sum = [b'0'; 6];
    for slot in sum.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    format!("{body}{}", std::str::from_utf8(&sum).unwrap())
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[tokio::test]
async fn keyed_responses_carry_rate_limit_headers_and_the_61st_call_a_minute_is_refused() {
    let app = spawn_app().await;
    let (ada, org) = org_with_owner(&app).await;
    let key = app.create_key(&ada, &org, &["endpoints.view"]).await;
    // Start at the top of a minute so the whole run falls in one window.
    let now = app.clock_now();
    app.clock.advance(Duration::seconds(60 - now.timestamp() % 60));
    let window_end = (app.clock_now().timestamp() / 60 + 1) * 60;

    for i in 0..60 {
        let r = app.get(&format!("/v1/orgs/{org}"), Some(&key.secret)).await.expect(200);
        assert_eq!(r.headers["x-ratelimit-limit"], "60");
        assert_eq!(r.headers["x-ratelimit-remaining"], (59 - i).to_string().as_str());
        assert_eq!(r.headers["x-ratelimit-reset"], window_end.to_string().as_str());
    }
    let r = app.get(&format!("/v1/orgs/{org}"), Some(&key.secret)).await.expect(429);
    assert_eq!(r.code(), "rate_limited");
    assert_eq!(r.headers["retry-after"], "60");
    assert_eq!(r.headers["x-ratelimit-remaining"], "0");
    assert_eq!(app.verify_key(&key.secret, None).await["code"], "RATE_LIMITED");
    // Errors of a keyed request carry the headers too; other callers are not limited by it.
    app.get(&format!("/v1/orgs/{org}"), Some(&ada.access)).await.expect(200);

    app.clock.advance(Duration::seconds(60));
    let r = app.get(&format!("/v1/orgs/{org}"), Some(&key.secret)).await.expect(200);
    assert_eq!(r.headers["x-ratelimit-remaining"], "59");

    // The limit follows the org's plan.
    sqlx::query("UPDATE orgs SET plan = 'team' WHERE id = $1").bind(&org).execute(&app.db).await.unwrap();
    let fresh = app.create_key(&ada, &org, &["endpoints.view"]).await;
    let r = app.get(&format!("/v1/orgs/{org}"), Some(&fresh.secret)).await.expect(200);
    assert_eq!(r.headers["x-ratelimit-limit"], "300");
}

#[tokio::test]
async fn last_used_is_shown_at_once_and_written_at_most_once_a_minute() {
    let app = spawn_app().await;
    let (ada, org) = org_with_owner(&app).await;
    let key = app.create_key(&ada, &org, &["endpoints.view"]).await;
    let stored = || async {
        sqlx::query_scalar::<_, Option<i64>>("SELECT last_used_at FROM api_keys WHERE id = $1")
            .bind(&key.id)
            .fetch_one(&app.db)
            .await
            .unwrap()
    };
    let listed = app.get(&keys_path(&org), Some(&ada.access)).await.expect(200);
    assert!(listed.body["data"][0]["last_used_at"].is_null());

    let first_use = app.clock_now().timestamp_millis();
    app.get(&format!("/v1/orgs/{org}"), Some(&key.secret)).await.expect(200);
    let listed = app.get(&keys_path(&org), Some(&ada.access)).await.expect(200);
    assert!(listed.body["data"][0]["last_used_at"].is_string(), "known before it is written");
    wait_for(|| async { stored().await == Some(first_use) }).await;

    // More uses within the minute are shown but not written.
    app.clock.advance(Duration::seconds(30));
    let later_use = app.clock_now();
    for _ in 0..5 {
        app.get(&format!("/v1/orgs/{org}"), Some(&key.secret)).await.expect(200);
    }
    let listed = app.get(&keys_path(&org), Some(&ada.access)).await.expect(200);
    assert_eq!(listed.body["data"][0]["last_used_at"], json!(later_use));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // several flush periods
    assert_eq!(stored().await, Some(first_use));

    // A minute after the last write, the newest use is written — once.
    app.clock.advance(Duration::seconds(31));
    wait_for(|| async { stored().await == Some(later_use.timestamp_millis()) }).await;
    let newest_use = app.clock_now();
    app.get(&format!("/v1/orgs/{org}"), Some(&key.secret)).await.expect(200);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(stored().await, Some(later_use.timestamp_millis()), "not again within the minute");
    app.clock.advance(Duration::seconds(60));
    wait_for(|| async { stored().await == Some(newest_use.timestamp_millis()) }).await;
}

/// Polls `condition` (a background flush runs every 50 ms in tests) for up to five seconds.
async fn wait_for<F, Fut>(condition: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if condition().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("condition not met within five seconds");
}

#[tokio::test]
async fn authorize_answers_for_keys_by_their_scopes() {
    let app = spawn_app().await;
    let (ada, org) = org_with_owner(&app).await;
    let key = app.create_key(&ada, &org, &["endpoints.*"]).await;
    let check =
        |permission: &str, org: &str| json!({ "subject": { "key_id": key.id }, "org": org, "permission": permission });
    let answer = |r: Value| (r["data"]["allowed"].as_bool().unwrap(), r["data"]["reason"].as_str().unwrap().to_owned());

    let (allowed, reason) =
        answer(app.post("/v1/authorize", Some(SERVICE_TOKEN), check("endpoints.delete", &org)).await.expect(200).body);
    assert!(allowed, "{reason}");
    let (allowed, reason) =
        answer(app.post("/v1/authorize", Some(SERVICE_TOKEN), check("billing.view", &org)).await.expect(200).body);
    assert!(!allowed);
    assert!(reason.contains("billing.view"), "{reason}");

    let other = app.create_org(&ada, "Other").await["id"].as_str().unwrap().to_owned();
    let (allowed, _) =
        answer(app.post("/v1/authorize", Some(SERVICE_TOKEN), check("endpoints.view", &other)).await.expect(200).body);
    assert!(!allowed, "a key holds nothing in another org");

    app.delete(&format!("{}/{}", keys_path(&org), key.id), Some(&ada.access)).await.expect(204);
    let (allowed, reason) =
        answer(app.post("/v1/authorize", Some(SERVICE_TOKEN), check("endpoints.view", &org)).await.expect(200).body);
    assert!(!allowed);
    assert!(reason.contains("revoked"), "{reason}");
}

#[tokio::test]
async fn a_key_invites_within_its_scopes_and_vouches_for_its_invitations_only_while_active() {
    let app = spawn_app().await;
    let (ada, org) = org_with_owner(&app).await;
    app.set_plan(&org, "team").await;
    let invitations = format!("/v1/orgs/{org}/invitations");

    // A viewer-scoped key cannot invite.
    let viewer = app.create_key(&ada, &org, &["endpoints.view", "requests.replay"]).await;
    let r = app.post(&invitations, Some(&viewer.secret), json!({ "email": "x@example.com" })).await.expect(403);
    assert_eq!(r.code(), "scope_missing");

    // One with `members.invite` invites to roles within its scopes, as itself.
    let inviter = app.create_key(&ada, &org, &["members.invite", "endpoints.*", "requests.replay"]).await;
    let r = app
        .post(&invitations, Some(&inviter.secret), json!({ "email": "grace@example.com", "role": "developer" }))
        .await
        .expect(201);
    assert_eq!(r.body["data"]["invited_by"], inviter.id.as_str());
    let token = r.body["data"]["token"].as_str().unwrap().to_owned();
    let r = app
        .post(&invitations, Some(&inviter.secret), json!({ "email": "h@example.com", "role": "admin" }))
        .await
        .expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("API key"), "{}", r.body);

    // Once the key is revoked, its invitation no longer admits anyone, and stays pending.
    let grace = app.verified_signup("grace@example.com", "Grace").await;
    app.delete(&format!("{}/{}", keys_path(&org), inviter.id), Some(&ada.access)).await.expect(204);
    app.post(&format!("/v1/invitations/{token}/accept"), Some(&grace.access), json!({})).await.expect(403);
    let preview = app.get(&format!("/v1/invitations/{token}"), None).await.expect(200);
    assert_eq!(preview.body["data"]["state"], "pending");
}

#[tokio::test]
async fn usage_answers_for_a_keys_org_and_keys_meter_only_with_the_whole_resource() {
    let app = spawn_app().await;
    let (ada, org) = org_with_owner(&app).await;
    let meter_key = app.create_key(&ada, &org, &["endpoints.*"]).await;
    let narrow = app.create_key(&ada, &org, &["endpoints.view"]).await;
    let meter = |secret: String, org: String| {
        let app = &app;
        async move { app.post(&format!("/v1/orgs/{org}/usage/endpoints"), Some(&secret), json!({ "delta": 1 })).await }
    };

    meter(meter_key.secret.clone(), org.clone()).await.expect(200);
    let r = meter(narrow.secret.clone(), org.clone()).await.expect(403);
    assert_eq!(r.code(), "scope_missing");
    let other = app.create_org(&ada, "Other").await["id"].as_str().unwrap().to_owned();
    meter(meter_key.secret.clone(), other).await.expect(404);

    // `GET /v1/usage` is the key's own org, in the SPEC 5 shape.
    let r = app.get("/v1/usage", Some(&narrow.secret)).await.expect(200);
    let usage = &r.body["data"];
    assert_eq!(usage["member_count"], 1);
    assert_eq!(usage["endpoint_count"], 1);
    assert_eq!(usage["requests_this_month"], 0);
    assert_eq!(usage["limits"], json!({ "members": 1, "endpoints": 5, "requests": 500 }));
    assert_eq!(r.headers["x-ratelimit-limit"], "60");
}

#[tokio::test]
async fn keys_used_together_are_written_together_and_unused_keys_are_left_alone() {
    let app = spawn_app().await;
    let (ada, org) = org_with_owner(&app).await;
    let (bob, other_org) = {
        let bob = app.signup("bob@example.com", "Bob").await;
        let org = app.create_org(&bob, "Globex").await["id"].as_str().unwrap().to_owned();
        (bob, org)
    };
    let used = [
        (app.create_key(&ada, &org, &["endpoints.view"]).await, org.clone()),
        (app.create_key(&ada, &org, &["endpoints.view"]).await, org.clone()),
        (app.create_key(&bob, &other_org, &["endpoints.view"]).await, other_org.clone()),
    ];
    let unused = app.create_key(&ada, &org, &["endpoints.view"]).await;
    let stored = |id: String| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, Option<i64>>("SELECT last_used_at FROM api_keys WHERE id = $1")
                .bind(id)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    let at = app.clock_now().timestamp_millis();
    // Used within one flush period, so they are most likely written by one statement.
    for (key, org) in &used {
        app.get(&format!("/v1/orgs/{org}"), Some(&key.secret)).await.expect(200);
    }
    for (key, _) in &used {
        wait_for(|| async { stored(key.id.clone()).await == Some(at) }).await;
    }
    assert_eq!(stored(unused.id.clone()).await, None);
}
