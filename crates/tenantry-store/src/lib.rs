//! Tenantry's store, for SQLite (the embedded default) and PostgreSQL.
//!
//! Both databases run the same SQL through sqlx's `Any` driver: statements use `$1`-style
//! placeholders, which both accept, and plain types (text, 64-bit integers, bytes), so each
//! operation is written once. What differs lives here and in the migrations of each backend:
//!
//! - **SQLite**: one file in WAL mode with `synchronous=FULL`, foreign keys on and a busy timeout.
//!   Writes go through a pool of one connection and start with `BEGIN IMMEDIATE`, so writers queue
//!   instead of failing with "database is locked" and a read-then-write transaction never loses
//!   its upgrade. Reads use a separate pool of `query_only` connections.
//! - **PostgreSQL**: tenant isolation by Row Level Security. Each transaction names the org it
//!   works in (`app.current_org`, transaction-local), every org-scoped table admits only that
//!   org's rows, and a write transaction locks the org's row first, so the rules the services
//!   check before writing hold until commit, as with SQLite's single writer. Cache invalidations
//!   are published with `NOTIFY` inside the transaction, so other nodes hear of a change exactly
//!   when it commits.
//!
//! Layout: `sql/` holds the shared SQL, one module per capability of [`Tx`]; `sqlite/` and
//! `postgres/` hold what only one backend does (pools and pragmas; roles, migrations as the owner
//! and the cache bus). `migrations/sqlite` and `migrations/postgres` hold each backend's schema
//! history: from `0010` on, a schema change takes the same number in both folders, and the
//! schema-parity test fails when the two schemas differ outside its list of deliberate differences.

pub mod doctor;
mod postgres;
mod rows;
mod sql;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::AnyPool;
use tenantry_core::store::{ReadTx, Store, StoreError, StoreResult, Tx};

pub use postgres::cache_bus::{Follower, Heard};
pub use postgres::PostgresRoles;
pub use sqlx::migrate::MigrateError;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a `database.url` names, if it is one Tenantry supports.
    pub fn of_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

/// Connection settings beyond the URL.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Connections in the pool (SQLite: read connections; the writer is always one).
    pub max_connections: u32,
}

/// One connection pool's size at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    pub pool: &'static str,
    pub open: u32,
    pub in_use: u32,
    pub max: u32,
}

#[derive(Clone)]
pub struct SqlStore {
    backend: Backend,
    writer: AnyPool,
    reader: AnyPool,
    url: String,
    /// PostgreSQL: how cache changes reach the other processes.
    bus: Option<Arc<postgres::cache_bus::CacheBus>>,
}

impl SqlStore {
    /// Opens the database at `url` (`sqlite://path`, created if missing, or `postgres://…`).
    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)
            .ok_or_else(|| sqlx::Error::Configuration(format!("unsupported database URL `{url}`").into()))?;
        let (writer, reader, bus) = match backend {
            Backend::Sqlite => {
                let (writer, reader) = sqlite::pools(url, options.max_connections).await?;
                (writer, reader, None)
            }
            Backend::Postgres => {
                let pool = postgres::pool(url, options.max_connections).await?;
                (pool.clone(), pool, Some(postgres::cache_bus::CacheBus::start(url).await?))
            }
        };
        Ok(Self { backend, writer, reader, url: url.to_owned(), bus })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations. On PostgreSQL they run as the owner role of `roles` (the
    /// tables' owner), granting the service's role what it needs; on SQLite `roles` is unused.
    /// Safe to run from several processes at once.
    pub async fn migrate(&self, roles: Option<&PostgresRoles>) -> Result<(), MigrateError> {
        match self.backend {
            Backend::Sqlite => sqlite::MIGRATOR.run(&self.writer).await,
            Backend::Postgres => postgres::migrate(&self.url, roles).await,
        }
    }

    /// A pool on the database, for tools and tests that inspect it directly.
    pub fn pool(&self) -> &AnyPool {
        &self.writer
    }

    /// On a database shared by several processes (PostgreSQL), has `apply` called with every
    /// cache change the other processes commit, and returns `true`; `false` otherwise.
    pub fn follow_cache_changes(&self, apply: Follower) -> bool {
        match &self.bus {
            Some(bus) => {
                bus.follow(apply);
                true
            }
            None => false,
        }
    }

    /// Each connection pool's size: open connections, those in use, and the most it may open.
    /// SQLite has two (one writer, the readers); PostgreSQL one.
    pub fn pool_use(&self) -> Vec<PoolUse> {
        let pools: &[(&'static str, &AnyPool)] = match self.backend {
            Backend::Sqlite => &[("writer", &self.writer), ("readers", &self.reader)],
            Backend::Postgres => &[("shared", &self.writer)],
        };
        pools
            .iter()
            .map(|(name, pool)| {
                let open = pool.size();
                let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
                PoolUse {
                    pool: name,
                    open,
                    in_use: open.saturating_sub(idle),
                    max: pool.options().get_max_connections(),
                }
            })
            .collect()
    }

    /// The parts that keep this process from serving well, each with why: the database not
    /// answering, its migrations not the ones this build expects, or (PostgreSQL) the cache
    /// listener disconnected. Empty when ready.
    pub async fn unready_parts(&self) -> Vec<(&'static str, String)> {
        let mut failing = Vec::new();
        let applied: Result<Option<i64>, _> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success").fetch_one(&self.reader).await;
        let expected = match self.backend {
            Backend::Sqlite => sqlite::MIGRATOR.iter().map(|m| m.version).max(),
            Backend::Postgres => postgres::latest_migration(),
        };
        match applied {
            Err(error) => failing.push(("database", error.to_string())),
            Ok(applied) if applied != expected => failing.push((
                "migrations",
                format!(
                    "the database is at migration {}, this build expects {}",
                    applied.unwrap_or(0),
                    expected.unwrap_or(0)
                ),
            )),
            Ok(_) => {}
        }
        if self.bus.as_ref().is_some_and(|bus| !bus.is_connected()) {
            failing.push((
                "cache_listener",
                "the connection that hears other nodes' cache changes is down; reconnecting".to_owned(),
            ));
        }
        failing
    }

    /// Writes a consistent copy of a live SQLite database to `target` (`VACUUM INTO`: one read
    /// transaction, so the copy holds every write committed before it began and none half
    /// written, while the server keeps writing). PostgreSQL has its own tools for this.
    pub async fn backup_to(&self, target: &std::path::Path) -> Result<(), String> {
        if self.backend == Backend::Postgres {
            return Err("this database is PostgreSQL: back it up with pg_dump (or your provider's snapshots)".into());
        }
        if target.exists() {
            return Err(format!("{} exists already; choose a new file", target.display()));
        }
        let target = target.to_str().ok_or("the backup's path is not valid UTF-8")?;
        sqlx::query("VACUUM INTO $1").bind(target).execute(&self.writer).await.map(drop).map_err(|e| e.to_string())
    }

    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            // SQLite says "UNIQUE constraint failed: users.email"; PostgreSQL names the index.
            let name = db.constraint().map(str::to_owned).unwrap_or_else(|| {
                let message = db.message();
                message.rsplit(": ").next().unwrap_or(message).to_owned()
            });
            return StoreError::Unique(name);
        }
    }
    StoreError::Database(Box::new(e))
}

#[async_trait]
impl Store for SqlStore {
    async fn write(&self) -> StoreResult<Box<dyn Tx>> {
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        let tx = self.writer.begin_with(begin).await.map_err(db_err)?;
        Ok(Box::new(sql::SqlTx::new(self.backend, sql::Conn::Transaction(tx), true, self.bus.clone())))
    }

    async fn read(&self) -> StoreResult<Box<dyn ReadTx>> {
        let conn = match self.backend {
            Backend::Sqlite => sql::Conn::Connection(self.reader.acquire().await.map_err(db_err)?),
            // Row Level Security settings are transaction-local: reads run in one too.
            Backend::Postgres => {
                sql::Conn::Transaction(self.reader.begin_with("BEGIN READ ONLY").await.map_err(db_err)?)
            }
        };
        Ok(Box::new(sql::SqlTx::new(self.backend, conn, false, self.bus.clone())))
    }

    async fn other_nodes(&self) -> StoreResult<usize> {
        match &self.bus {
            Some(bus) => bus.other_listeners(&self.reader).await.map_err(db_err),
            None => Ok(0),
        }
    }
}
