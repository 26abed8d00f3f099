//! `/ready` (SPEC 17): 200 while the database answers with the migrations this build expects and
//! (PostgreSQL) the cache listener is connected; 503 naming the failing part otherwise. The
//! listener's part is in `tests/api_postgres/ready_listener.rs`.

use crate::common::spawn_app;

#[tokio::test]
async fn a_migration_the_database_lacks_makes_the_node_unready() {
    let app = spawn_app().await;
    let r = app.get("/ready", None).await.expect(200);
    assert_eq!(r.body["status"], "ready");

    // As if this build were newer than the database: its newest migration not applied.
    let newest: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(&app.db).await.unwrap();
    sqlx::query("UPDATE _sqlx_migrations SET version = -version WHERE version = $1")
        .bind(newest)
        .execute(&app.db)
        .await
        .unwrap();
    let r = app.get("/ready", None).await.expect(503);
    assert_eq!(r.code(), "not_ready");
    let why = r.body["error"]["details"]["failing"]["migrations"].as_str().unwrap();
    assert!(why.contains(&format!("expects {newest}")), "{why}");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("migrations"));
    // Liveness is another question: the process still answers.
    app.get("/health", None).await.expect(200);

    sqlx::query("UPDATE _sqlx_migrations SET version = -version WHERE version = $1")
        .bind(-newest)
        .execute(&app.db)
        .await
        .unwrap();
    app.get("/ready", None).await.expect(200);
}
