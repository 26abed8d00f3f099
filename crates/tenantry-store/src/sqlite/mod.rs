//! SQLite: one writer connection, a pool of `query_only` readers, and the pragmas that make the
//! file durable and consistent.

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use sqlx::Executor;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Pragmas every connection runs: WAL (so readers never block the writer), full fsync on commit,
/// foreign keys enforced, a busy timeout rather than an immediate "database is locked", and the
/// file memory-mapped so that reading a page is a memory access, not a `pread` into each
/// connection's small page cache (a page of 100 members touches hundreds of pages).
const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                       PRAGMA busy_timeout = 10000; PRAGMA mmap_size = 1073741824;";

/// The writer pool and the reader pool for the file `url` names (created if missing).
pub async fn pools(url: &str, readers: u32) -> Result<(AnyPool, AnyPool), sqlx::Error> {
    let url = if url.contains('?') { url.to_owned() } else { format!("{url}?mode=rwc") };
    // No liveness ping before each acquire: a connection to a local file does not go stale, and
    // the ping is a round trip to the connection's worker thread on every request.
    let writer = AnyPoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _| Box::pin(async move { conn.execute(PRAGMAS).await.map(drop) }))
        .connect(&url)
        .await?;
    let reader = AnyPoolOptions::new()
        .max_connections(readers.max(1))
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _| {
            Box::pin(async move { conn.execute(format!("{PRAGMAS} PRAGMA query_only = ON;").as_str()).await.map(drop) })
        })
        .connect(&url)
        .await?;
    Ok((writer, reader))
}
