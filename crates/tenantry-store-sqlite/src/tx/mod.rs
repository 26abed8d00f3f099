//! The SQL behind each `Tx` operation, one module per capability of the store contract.

mod accounts;
mod admin;
mod api_keys;
mod audit;
mod instance;
mod invitations;
mod orgs;
mod outbox;
mod ownership;
mod plans;
mod roles;
mod settings;
mod usage;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, Transaction};
use tenantry_core::domain::pagination::PageRequest;
use tenantry_core::store::{StoreResult, Tx};

use crate::db_err;

pub enum SqliteTx {
    Transaction(Transaction<'static, Sqlite>),
    /// A read connection: no transaction, nothing to commit.
    Connection(PoolConnection<Sqlite>),
}

impl SqliteTx {
    fn conn(&mut self) -> &mut SqliteConnection {
        match self {
            Self::Transaction(tx) => tx,
            Self::Connection(conn) => conn,
        }
    }
}

/// The page's cursor key, or the empty string (which sorts before every id).
fn after(page: &PageRequest) -> &str {
    page.after.as_deref().unwrap_or("")
}

#[async_trait]
impl Tx for SqliteTx {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        match *self {
            Self::Transaction(tx) => tx.commit().await.map_err(db_err),
            Self::Connection(_) => Ok(()),
        }
    }
}
