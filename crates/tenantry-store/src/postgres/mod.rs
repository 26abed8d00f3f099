//! PostgreSQL: the application's pool and migrations run as the tables' owner.
//!
//! Two roles take part. The **owner** (`database.owner_url`) owns the schema and runs migrations.
//! The **application role** (the user of `database.url`) is what `tenantry serve` connects as: not
//! a superuser, without `BYPASSRLS`, owning nothing, with data privileges granted by the
//! migrations (and no `UPDATE` or `DELETE` on the audit log). Row Level Security is forced on
//! every org-scoped table, so even the owner sees only the org a transaction names.

pub(crate) mod cache_bus;

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::MigrateError;
use sqlx::postgres::PgPoolOptions;
use sqlx::AnyPool;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The newest migration this build carries.
pub fn latest_migration() -> Option<i64> {
    MIGRATOR.iter().map(|m| m.version).max()
}

/// Who migrates: the owner's connection URL. The application role is the user of `database.url`.
#[derive(Debug, Clone)]
pub struct PostgresRoles {
    pub owner_url: String,
}

pub async fn pool(url: &str, max_connections: u32) -> Result<AnyPool, sqlx::Error> {
    AnyPoolOptions::new()
        .max_connections(max_connections.max(2))
        .acquire_timeout(Duration::from_secs(30))
        .connect(url)
        .await
}

/// The user name in a connection URL.
fn user_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    Some(parsed.username().to_owned()).filter(|u| !u.is_empty())
}

/// Runs the migrations as the owner (or, without `roles`, as the application's own user — a
/// single-role setup where the grants are skipped), telling them the application role's name.
pub async fn migrate(app_url: &str, roles: Option<&PostgresRoles>) -> Result<(), MigrateError> {
    let owner_url = roles.map_or(app_url, |r| r.owner_url.as_str());
    let app_role = user_of(app_url).unwrap_or_default();
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .after_connect(move |conn, _| {
            let app_role = app_role.clone();
            Box::pin(async move {
                sqlx::query("SELECT set_config('tenantry.app_role', $1, false)").bind(app_role).execute(conn).await?;
                Ok(())
            })
        })
        .connect(owner_url)
        .await?;
    let result = MIGRATOR.run(&pool).await;
    pool.close().await;
    result
}
