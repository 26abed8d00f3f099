//! `/ready` on PostgreSQL: losing the connection that hears other nodes' cache changes makes the
//! node unready (it could serve stale grants) until the listener is back.

use crate::common::{spawn_app, TestApp};

async fn wait_for_ready(app: &TestApp, status: u16) -> serde_json::Value {
    for _ in 0..100 {
        let r = app.get("/ready", None).await;
        if r.status.as_u16() == status {
            return r.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("/ready never answered {status}: {}", app.get("/ready", None).await.body);
}

#[tokio::test]
async fn on_postgresql_a_lost_cache_listener_makes_the_node_unready_until_it_reconnects() {
    let app = spawn_app().await;
    app.get("/ready", None).await.expect(200);
    let role = url::Url::parse(&app.config.database.url).unwrap().username().to_owned();

    // Cut the listener's connection and keep it from coming back.
    sqlx::query(&format!("ALTER ROLE {role} NOLOGIN")).execute(&app.db).await.unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name LIKE 'tenantry-cache:%'",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let body = wait_for_ready(&app, 503).await;
    assert!(body["error"]["details"]["failing"]["cache_listener"].is_string(), "{body}");

    sqlx::query(&format!("ALTER ROLE {role} LOGIN")).execute(&app.db).await.unwrap();
    let body = wait_for_ready(&app, 200).await;
    assert_eq!(body["status"], "ready");
}
