//! The SQL behind each `Tx` operation, one module per capability of the store contract, and the
//! transaction they run in.
//!
//! An operation on an org's rows reaches the connection through [`SqlTx::in_org`], which on
//! PostgreSQL sets the transaction's Row Level Security scope to that org (and, in a write
//! transaction, locks the org's row); operations that must see several orgs at once say so with
//! [`SqlTx::all_orgs`] or [`SqlTx::as_user`]. On SQLite these are plain connection accesses.

mod accounts;
mod admin;
mod api_keys;
mod audit;
mod events;
mod instance;
mod invitations;
mod mfa;
mod orgs;
mod outbox;
mod ownership;
mod plans;
mod roles;
mod settings;
mod teams;
mod usage;
mod webhooks;

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::any::Any;
use sqlx::pool::PoolConnection;
use sqlx::AnyConnection;
use sqlx::Transaction;
use tenantry_core::domain::ids::{OrgId, UserId};
use tenantry_core::domain::pagination::PageRequest;
use tenantry_core::store::{CacheChange, ReadTx, StoreResult, Tx};

use crate::postgres::cache_bus::CacheBus;
use crate::{db_err, Backend};

pub enum Conn {
    Transaction(Transaction<'static, Any>),
    /// A SQLite read connection: no transaction, nothing to commit.
    Connection(PoolConnection<Any>),
}

pub struct SqlTx {
    conn: Conn,
    backend: Backend,
    write: bool,
    /// The org whose rows the transaction currently sees (PostgreSQL).
    org: Option<OrgId>,
    bus: Option<Arc<CacheBus>>,
    /// Cache changes announced in this transaction, sent to the other processes as it commits.
    changes: Vec<CacheChange>,
}

/// The page's cursor key, or the empty string (which sorts before every id).
fn after(page: &PageRequest) -> &str {
    page.after.as_deref().unwrap_or("")
}

/// The rows of a multi-row `VALUES` list: `($1, $2), ($3, $4), …` for `rows` rows, each
/// placeholder written through its column's template (`{}`, or e.g. `CAST({} AS BIGINT)` where
/// the database cannot tell the type from the statement).
fn values_rows(rows: usize, columns: &[&str]) -> String {
    let width = columns.len();
    (0..rows)
        .map(|row| {
            let cells: Vec<String> = columns
                .iter()
                .enumerate()
                .map(|(column, template)| template.replace("{}", &format!("${}", row * width + column + 1)))
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl SqlTx {
    pub fn new(backend: Backend, conn: Conn, write: bool, bus: Option<Arc<CacheBus>>) -> Self {
        Self { conn, backend, write, org: None, bus, changes: Vec::new() }
    }

    /// The connection, for statements on tables that belong to no org (users, sessions, …).
    fn conn(&mut self) -> &mut AnyConnection {
        match &mut self.conn {
            Conn::Transaction(tx) => tx,
            Conn::Connection(conn) => conn,
        }
    }

    fn rls(&self) -> bool {
        self.backend == Backend::Postgres
    }

    /// The connection, scoped to `org`'s rows. In a write transaction the org's row is locked
    /// the first time, so every check-then-write on the org is serialised, on PostgreSQL as on
    /// SQLite (whose writer is single anyway).
    async fn in_org(&mut self, org: OrgId) -> StoreResult<&mut AnyConnection> {
        if self.rls() && self.org != Some(org) {
            let id = org.to_string();
            sqlx::query("SELECT set_config('app.current_org', $1, true)")
                .bind(&id)
                .execute(self.conn())
                .await
                .map_err(db_err)?;
            if self.write {
                sqlx::query("SELECT 1 FROM orgs WHERE id = $1 FOR NO KEY UPDATE")
                    .bind(&id)
                    .execute(self.conn())
                    .await
                    .map_err(db_err)?;
            }
            self.org = Some(org);
        }
        Ok(self.conn())
    }

    /// Finds, across orgs, the org of the row that `sql` (`SELECT <org id> … WHERE … = $1`)
    /// selects by `key`, and enters that org. The caller then reads the row itself within the
    /// org's scope — in a write transaction after the org's lock, so it cannot be stale.
    async fn enter_org_of(&mut self, sql: &str, key: &str) -> StoreResult<Option<OrgId>> {
        self.all_orgs(true).await?;
        let found: Option<String> =
            sqlx::query_scalar(sql).bind(key).fetch_optional(self.conn()).await.map_err(db_err)?;
        self.all_orgs(false).await?;
        let Some(org) = found.and_then(|id| id.parse().ok()) else {
            return Ok(None);
        };
        self.in_org(org).await?;
        Ok(Some(org))
    }

    /// Widens (or narrows back) the transaction's view to every org: only for the few
    /// operations that are instance-wide by nature (admin listings, lookups by a secret's hash).
    async fn all_orgs(&mut self, on: bool) -> StoreResult<()> {
        if self.rls() {
            sqlx::query("SELECT set_config('app.all_orgs', $1, true)")
                .bind(if on { "on" } else { "off" })
                .execute(self.conn())
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    /// Lets the transaction see `user`'s own memberships and orgs across orgs (their org list),
    /// or stops it when `None`.
    async fn as_user(&mut self, user: Option<UserId>) -> StoreResult<()> {
        if self.rls() {
            sqlx::query("SELECT set_config('app.current_user', $1, true)")
                .bind(user.map(|u| u.to_string()).unwrap_or_default())
                .execute(self.conn())
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    /// Serialises appends to one audit chain (an org's, or the instance's when `None`).
    async fn lock_audit_chain(&mut self, org: Option<OrgId>) -> StoreResult<()> {
        if self.rls() {
            let chain = org.map_or_else(|| "instance".to_owned(), |o| o.to_string());
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(chain)
                .execute(self.conn())
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }
}

impl ReadTx for SqlTx {}

#[async_trait]
impl Tx for SqlTx {
    async fn commit(mut self: Box<Self>) -> StoreResult<()> {
        let sent = match self.bus.clone() {
            Some(bus) if !self.changes.is_empty() => {
                let changes = std::mem::take(&mut self.changes);
                Some(bus.send(self.conn(), &changes).await.map_err(db_err)?)
            }
            _ => None,
        };
        if let Conn::Transaction(tx) = self.conn {
            tx.commit().await.map_err(db_err)?;
        }
        if let Some(sent) = sent {
            sent.applied().await;
        }
        Ok(())
    }

    async fn announce(&mut self, change: &CacheChange) -> StoreResult<()> {
        if self.bus.is_some() {
            self.changes.push(change.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_rows_number_placeholders_row_by_row() {
        assert_eq!(
            super::values_rows(2, &["{}", "CAST({} AS BIGINT)"]),
            "($1, CAST($2 AS BIGINT)), ($3, CAST($4 AS BIGINT))"
        );
        assert_eq!(super::values_rows(1, &["{}", "{}", "{}"]), "($1, $2, $3)");
    }
}
