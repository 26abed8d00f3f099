//! `/metrics` (SPEC 17): Prometheus text, read back by the Prometheus project's own parser (the
//! `prometheus_client` Python package's, installed by `.ci/run`), so the format is checked by
//! an implementation other than the one that wrote it.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::common::{spawn_app, spawn_with, ADMIN_TOKEN, SERVICE_TOKEN};

/// One parsed sample: its name (with `_total`, `_bucket` … as written), labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: serde_json::Map<String, Value>,
    value: f64,
}

const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
samples = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        samples.append({"name": s.name, "labels": s.labels, "value": s.value, "type": family.type})
print(json.dumps(samples))
"#;

/// Parses Prometheus text with `prometheus_client`'s parser, which refuses malformed lines.
fn parse(text: &str) -> Vec<Sample> {
    let mut python = Command::new("python3")
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    python.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = python.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused the text (or is missing: `python3 -m pip install prometheus-client`): {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    parsed
        .into_iter()
        .map(|s| Sample {
            name: s["name"].as_str().unwrap().to_owned(),
            labels: s["labels"].as_object().unwrap().clone(),
            value: s["value"].as_f64().unwrap(),
        })
        .collect()
}

fn find<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Option<&'a Sample> {
    samples.iter().find(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k) == Some(&json!(v))))
}

#[track_caller]
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    find(samples, name, labels).unwrap_or_else(|| panic!("no {name} with {labels:?}")).value
}

async fn scrape(app: &crate::common::TestApp, token: Option<&str>) -> (reqwest::StatusCode, String, String) {
    let mut request = app.client.get(format!("{}/metrics", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn requests_are_counted_by_matched_route_and_caches_by_hit_and_miss() {
    let app = spawn_app().await;
    let owner = app.signup("metrics-owner@example.com", "Owner").await;
    let org = app.create_org(&owner, "Metered").await["id"].as_str().unwrap().to_owned();
    let key = app.create_key(&owner, &org, &["endpoints.view"]).await;
    // At least the later verifications find the key in the cache.
    for _ in 0..3 {
        app.verify_key(&key.secret, Some("endpoints.view")).await;
    }
    for _ in 0..2 {
        app.get(&format!("/v1/orgs/{org}/members"), Some(&owner.access)).await.expect(200);
    }
    // The first answer reads the owner's account (their row and memberships) and orgs; the later
    // ones find them.
    for _ in 0..3 {
        app.get("/v1/me", Some(&owner.access)).await.expect(200);
    }
    app.get("/v1/no/such/route/org_01HX2Z8Q6Y3V4W5T6R7S8P9N0M", None).await.expect(404);
    app.post("/v1/keys/verify", Some(SERVICE_TOKEN), json!({ "key": "tn_live_not_a_key" })).await;

    let (status, content_type, text) = scrape(&app, None).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let samples = parse(&text);

    let members = [("method", "GET"), ("route", "/v1/orgs/{org}/members"), ("status", "2xx")];
    assert_eq!(value(&samples, "tenantry_http_requests_total", &members), 2.0);
    assert_eq!(value(&samples, "tenantry_http_request_duration_seconds_count", &members), 2.0);
    let inf = [members.as_slice(), &[("le", "+Inf")]].concat();
    assert_eq!(value(&samples, "tenantry_http_request_duration_seconds_bucket", &inf), 2.0);
    let verify = [("method", "POST"), ("route", "/v1/keys/verify"), ("status", "2xx")];
    assert_eq!(value(&samples, "tenantry_http_requests_total", &verify), 4.0, "three keys and the unknown one");
    let unmatched = [("route", "unmatched"), ("status", "4xx")];
    assert_eq!(value(&samples, "tenantry_http_requests_total", &unmatched), 1.0);
    // No id, token or raw path ever becomes a label value.
    for sample in samples.iter().filter(|s| s.name.starts_with("tenantry_http_")) {
        let route = sample.labels["route"].as_str().unwrap();
        assert!(!route.contains("org_") && !route.contains("/no/such"), "a raw path in {sample:?}");
    }

    let keys_hit = value(&samples, "tenantry_cache_lookups_total", &[("cache", "keys_by_secret"), ("result", "hit")]);
    let keys_miss = value(&samples, "tenantry_cache_lookups_total", &[("cache", "keys_by_secret"), ("result", "miss")]);
    assert!(keys_hit >= 2.0, "the later verifications found the key cached: {keys_hit}");
    assert!(keys_miss >= 1.0, "a key is looked up in the database once: {keys_miss}");
    for cache in ["member_grants", "custom_roles", "org_slugs", "access_tokens", "live_sessions", "member_pages"] {
        assert!(find(&samples, "tenantry_cache_lookups_total", &[("cache", cache), ("result", "miss")]).is_some());
    }
    // Owning two orgs, the owner's answer looks up two orgs each time their account is found.
    for (cache, hits, misses) in [("me_accounts", 2.0, 1.0), ("me_orgs", 4.0, 0.0)] {
        let counted = |result| value(&samples, "tenantry_cache_lookups_total", &[("cache", cache), ("result", result)]);
        assert_eq!((counted("hit"), counted("miss")), (hits, misses), "{cache}");
    }

    assert_eq!(value(&samples, "tenantry_password_hash_queue_depth", &[]), 0.0);
    assert_eq!(value(&samples, "tenantry_password_hashes_running", &[]), 0.0);
    assert_eq!(value(&samples, "tenantry_database_up", &[]), 1.0);
    for pool in samples.iter().filter(|s| s.name == "tenantry_db_connections_max") {
        assert!(pool.value >= 1.0, "{pool:?}");
        let open = value(&samples, "tenantry_db_connections_open", &[("pool", pool.labels["pool"].as_str().unwrap())]);
        assert!(open <= pool.value);
    }
    assert!(find(&samples, "tenantry_db_connections_in_use", &[]).is_some());
}

#[tokio::test]
async fn the_backlogs_count_what_waits_to_be_sent() {
    let app = spawn_app().await;
    // No SMTP server in tests: every email stays in the outbox, unsent.
    app.signup_unverified("backlog-one@example.com", "One").await;
    app.signup_unverified("backlog-two@example.com", "Two").await;
    let unsent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(unsent >= 2, "each signup queues its confirmation email");
    let samples = parse(&scrape(&app, None).await.2);
    assert_eq!(value(&samples, "tenantry_email_backlog", &[]), unsent as f64);
    assert_eq!(value(&samples, "tenantry_delivery_backlog", &[]), 0.0);

    // One given up on no longer waits.
    sqlx::query("UPDATE outbox SET failed_at = 1 WHERE id = (SELECT MIN(id) FROM outbox)")
        .execute(&app.db)
        .await
        .unwrap();
    let samples = parse(&scrape(&app, None).await.2);
    assert_eq!(value(&samples, "tenantry_email_backlog", &[]), (unsent - 1) as f64);
}

#[tokio::test]
async fn a_metrics_token_guards_the_endpoint() {
    let mut config = crate::common::config();
    config.metrics.token = Some("metrics-scraper-token".into());
    let app = spawn_with(config).await;

    for refused in [None, Some("wrong-token"), Some(ADMIN_TOKEN), Some(SERVICE_TOKEN)] {
        let r = app.get("/metrics", refused).await.expect(401);
        assert_eq!(r.code(), "unauthorized", "{refused:?}");
        assert!(r.body["error"]["request_id"].is_string());
    }
    let (status, _, text) = scrape(&app, Some("metrics-scraper-token")).await;
    assert_eq!(status, 200);
    let samples = parse(&text);
    let refused = [("method", "GET"), ("route", "/metrics"), ("status", "4xx")];
    assert_eq!(value(&samples, "tenantry_http_requests_total", &refused), 4.0);
}
