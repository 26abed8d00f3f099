//! An export of 1,000,000 audit events streams in constant memory. It runs in a test binary of
//! its own, so the process's peak memory is this test's alone.

#![cfg(target_os = "linux")]

const BACKEND: common::Backend = common::Backend::Sqlite;

#[allow(dead_code)]
#[path = "api/common.rs"]
mod common;
#[allow(dead_code)]
#[path = "api/test_db.rs"]
mod test_db;

use common::{spawn_app, ADMIN_TOKEN};

const EVENTS: i64 = 1_000_000;

/// The process's anonymous resident memory (its heap, not the memory-mapped database file), in KiB.
fn anonymous_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("RssAnon:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_million_events_export_in_constant_memory() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    // Rows written straight to the table; the export does not check the chain.
    let insert = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {EVENTS}) \
         INSERT INTO audit_events (id, org_id, actor_type, actor_id, action, target_type, target_id, occurred_at, \
         ip, user_agent, metadata, prev_hash, hash) \
         SELECT 'evt_' || printf('%026d', i), '{org}', 'user', 'usr_x', 'doc.viewed', 'doc', 'doc_' || i, 1700000000000 + i, \
         '127.0.0.1', 'bench', '{{\"n\":' || i || '}}', 'p', 'h' FROM n"
    );
    sqlx::query(&insert).execute(&app.db).await.unwrap();
    let before = anonymous_rss_kib();
    let mut peak = before;

    let url = format!("{}/v1/orgs/{org}/audit-events/export?format=csv&action=doc.viewed", app.base);
    let mut response = app.client.get(url).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let (mut rows, mut bytes, mut largest_chunk, mut chunks) = (0_i64, 0_u64, 0, 0_u64);
    while let Some(chunk) = response.chunk().await.unwrap() {
        rows += chunk.iter().filter(|&&b| b == b'\n').count() as i64;
        bytes += chunk.len() as u64;
        largest_chunk = largest_chunk.max(chunk.len());
        chunks += 1;
        if chunks % 64 == 0 {
            peak = peak.max(anonymous_rss_kib());
        }
    }
    let growth_mib = (peak.max(anonymous_rss_kib()) - before) / 1024;

    assert_eq!(rows, EVENTS + 1, "a header and every event");
    assert!(bytes > 100 * 1024 * 1024, "the export is {} MiB", bytes / 1024 / 1024);
    assert!(largest_chunk < 1024 * 1024, "sent in batches, not at once ({largest_chunk} bytes)");
    assert!(growth_mib < 64, "peak memory grew {growth_mib} MiB while exporting {} MiB", bytes / 1024 / 1024);
}
