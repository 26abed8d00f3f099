//! The audit log: appending to a chain, filtered queries and chain walks.

use async_trait::async_trait;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::Arguments;
use tenantry_core::domain::audit::{ActionFilter, AuditFilter, AuditRecord, Chain, ChainedRecord};
use tenantry_core::store::{AuditRead, AuditTx, StoreResult};

use super::SqlTx;
use crate::db_err;
use crate::rows::{get, ms};

const COLUMNS: &str = "seq, id, org_id, actor_type, actor_id, action, target_type, target_id, occurred_at, ip, \
                       user_agent, metadata, prev_hash, hash";

fn chained(row: &AnyRow) -> StoreResult<ChainedRecord> {
    Ok(ChainedRecord {
        seq: get(row, "seq")?,
        record: AuditRecord {
            id: get(row, "id")?,
            org_id: get(row, "org_id")?,
            actor_type: get(row, "actor_type")?,
            actor_id: get(row, "actor_id")?,
            action: get(row, "action")?,
            target_type: get(row, "target_type")?,
            target_id: get(row, "target_id")?,
            occurred_at: get(row, "occurred_at")?,
            ip: get(row, "ip")?,
            user_agent: get(row, "user_agent")?,
            metadata: get(row, "metadata")?,
        },
        prev_hash: get(row, "prev_hash")?,
        hash: get(row, "hash")?,
    })
}

/// A `WHERE` clause built piece by piece, numbering its `$N` parameters as they are added.
struct Conditions {
    sql: Vec<String>,
    args: AnyArguments<'static>,
    count: usize,
}

impl Conditions {
    fn new() -> Self {
        Self { sql: Vec::new(), args: AnyArguments::default(), count: 0 }
    }

    /// Adds `template`, whose `?` stands for `value`'s parameter.
    fn push<T>(&mut self, template: &str, value: T) -> StoreResult<()>
    where
        T: 'static + Send + sqlx::Encode<'static, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        self.count += 1;
        self.sql.push(template.replace('?', &format!("${}", self.count)));
        self.args.add(value).map_err(tenantry_core::store::StoreError::Database)
    }

    fn chain(&mut self, chain: Chain) -> StoreResult<()> {
        match chain {
            Some(org) => self.push("org_id = ?", org.to_string()),
            None => {
                self.sql.push("org_id IS NULL".into());
                Ok(())
            }
        }
    }

    fn clause(&self) -> String {
        self.sql.join(" AND ")
    }
}

impl SqlTx {
    /// Runs a read of `chain`'s rows within its visibility: the org's scope, or (for the
    /// instance chain, which belongs to no org) every org's.
    async fn audit_rows(&mut self, chain: Chain, sql: &str, args: AnyArguments<'static>) -> StoreResult<Vec<AnyRow>> {
        let query = sqlx::query_with(sql, args);
        let rows = match chain {
            Some(org) => query.fetch_all(self.in_org(org).await?).await,
            None => {
                self.all_orgs(true).await?;
                let rows = query.fetch_all(self.conn()).await;
                self.all_orgs(false).await?;
                rows
            }
        };
        rows.map_err(db_err)
    }
}

#[async_trait]
impl AuditRead for SqlTx {
    async fn last_audit_hash(&mut self, chain: Chain) -> StoreResult<Option<String>> {
        // Held until commit: the next append to this chain waits for this one.
        self.lock_audit_chain(chain).await?;
        let mut conditions = Conditions::new();
        conditions.chain(chain)?;
        let sql = format!("SELECT hash FROM audit_events WHERE {} ORDER BY seq DESC LIMIT 1", conditions.clause());
        let rows = self.audit_rows(chain, &sql, conditions.args).await?;
        rows.first().map(|row| get(row, "hash")).transpose()
    }

    async fn audit_events(
        &mut self,
        chain: Chain,
        filter: &AuditFilter,
        before_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<ChainedRecord>> {
        let mut conditions = Conditions::new();
        conditions.chain(chain)?;
        if let Some(seq) = before_seq {
            conditions.push("seq < ?", seq)?;
        }
        if let Some(actor) = &filter.actor {
            conditions.push("actor_id = ?", actor.clone())?;
        }
        match &filter.action {
            Some(ActionFilter::Exact(action)) => conditions.push("action = ?", action.clone())?,
            Some(ActionFilter::Prefix(prefix)) => {
                // substr rather than LIKE: `_` in action names is a LIKE wildcard.
                let length = prefix.chars().count() as i64;
                conditions.push(&format!("substr(action, 1, {length}) = ?"), prefix.clone())?;
            }
            None => {}
        }
        if let Some(target) = &filter.target {
            conditions.push("target_id = ?", target.clone())?;
        }
        if let Some(since) = filter.since {
            conditions.push("occurred_at >= ?", ms(since))?;
        }
        if let Some(until) = filter.until {
            conditions.push("occurred_at < ?", ms(until))?;
        }
        let sql =
            format!("SELECT {COLUMNS} FROM audit_events WHERE {} ORDER BY seq DESC LIMIT {limit}", conditions.clause());
        self.audit_rows(chain, &sql, conditions.args).await?.iter().map(chained).collect()
    }

    async fn audit_chains(&mut self) -> StoreResult<Vec<Chain>> {
        self.all_orgs(true).await?;
        let ids: Result<Vec<Option<String>>, _> =
            sqlx::query_scalar("SELECT DISTINCT org_id FROM audit_events").fetch_all(self.conn()).await;
        self.all_orgs(false).await?;
        let mut chains: Vec<Chain> = ids
            .map_err(db_err)?
            .into_iter()
            .map(|id| id.map(|id| id.parse().map_err(|_| crate::rows::corrupt("audit org id"))).transpose())
            .collect::<StoreResult<_>>()?;
        chains.sort();
        Ok(chains)
    }

    async fn audit_chain_rows(&mut self, chain: Chain, after_seq: i64, limit: u32) -> StoreResult<Vec<ChainedRecord>> {
        let mut conditions = Conditions::new();
        conditions.chain(chain)?;
        conditions.push("seq > ?", after_seq)?;
        let sql =
            format!("SELECT {COLUMNS} FROM audit_events WHERE {} ORDER BY seq LIMIT {limit}", conditions.clause());
        self.audit_rows(chain, &sql, conditions.args).await?.iter().map(chained).collect()
    }
}

#[async_trait]
impl AuditTx for SqlTx {
    async fn insert_audit(&mut self, record: &AuditRecord, prev_hash: &str, hash: &str) -> StoreResult<i64> {
        let org: Chain = record.org_id.as_deref().and_then(|id| id.parse().ok());
        let query = sqlx::query_scalar(
            "INSERT INTO audit_events (id, org_id, actor_type, actor_id, action, target_type, target_id, occurred_at, ip, user_agent, metadata, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING seq",
        )
        .bind(&record.id)
        .bind(&record.org_id)
        .bind(&record.actor_type)
        .bind(&record.actor_id)
        .bind(&record.action)
        .bind(&record.target_type)
        .bind(&record.target_id)
        .bind(record.occurred_at)
        .bind(&record.ip)
        .bind(&record.user_agent)
        .bind(&record.metadata)
        .bind(prev_hash)
        .bind(hash);
        match org {
            Some(org) => query.fetch_one(self.in_org(org).await?).await.map_err(db_err),
            None => {
                // RETURNING reads the new row back, which the instance chain's visibility allows.
                self.all_orgs(true).await?;
                let seq = query.fetch_one(self.conn()).await.map_err(db_err);
                self.all_orgs(false).await?;
                seq
            }
        }
    }
}
