//! What only holds on SQLite: the pragmas that make the file durable and consistent.

use crate::common::spawn_app;

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_full_sync_and_foreign_keys() {
    let app = spawn_app().await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(app.store.pool()).await.unwrap();
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(app.store.pool()).await.unwrap();
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(app.store.pool()).await.unwrap();
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(app.store.pool()).await.unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(sync, 2, "FULL");
    assert_eq!(foreign_keys, 1);
    assert!(busy >= 5000);
}
