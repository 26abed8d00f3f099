//! Tenantry's store on SQLite.
//!
//! One database file in WAL mode with `synchronous=FULL`, foreign keys on and a busy timeout.
//! Writes go through a pool of one connection and start with `BEGIN IMMEDIATE`, so writers queue
//! in the pool instead of failing with "database is locked", and a transaction that reads before
//! it writes can never lose its upgrade to a concurrent writer. Reads use a separate pool whose
//! connections are `query_only`.

mod rows;
mod tx;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use tenantry_core::store::{Store, StoreError, StoreResult, Tx};

pub use sqlx::migrate::MigrateError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://path` or `sqlite::memory:`
    /// is not supported: the reader and writer pools must share one file).
    pub async fn connect(url: &str, readers: u32) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(readers.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.pragma("query_only", "ON"))
            .await?;
        Ok(Self { writer, reader })
    }

    /// Applies pending migrations. Safe to run from several processes: SQLite serialises them.
    pub async fn migrate(&self) -> Result<(), MigrateError> {
        MIGRATOR.run(&self.writer).await
    }

    /// The writer pool, for tools and tests that inspect the database directly.
    pub fn pool(&self) -> &SqlitePool {
        &self.writer
    }

    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            // SQLite says "UNIQUE constraint failed: users.email"; keep the constraint part.
            let message = db.message();
            let name = message.rsplit(": ").next().unwrap_or(message);
            return StoreError::Unique(name.to_owned());
        }
    }
    StoreError::Database(Box::new(e))
}

#[async_trait]
impl Store for SqliteStore {
    async fn write(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
        Ok(Box::new(tx::SqliteTx::Transaction(tx)))
    }

    async fn read(&self) -> StoreResult<Box<dyn Tx>> {
        let conn = self.reader.acquire().await.map_err(db_err)?;
        Ok(Box::new(tx::SqliteTx::Connection(conn)))
    }
}
