//! API keys, found by the hash of their secret through a unique index.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use tenantry_core::domain::api_key::{ApiKey, RateCount};
use tenantry_core::domain::ids::{ApiKeyId, OrgId};
use tenantry_core::domain::pagination::PageRequest;
use tenantry_core::store::{ApiKeysRead, ApiKeysTx, CacheChange, KeyWithPlan, MaybeStale, Stale, StoreResult};

use super::{after, values_rows, SqlTx};
use crate::db_err;
use crate::rows::{self, ms};

const COLUMNS: &str = "k.id, k.org_id, k.name, k.prefix, k.scopes, k.created_by, k.created_at, k.expires_at, \
                       k.last_used_at, k.revoked_at, k.rolled_from";

fn api_key(row: &AnyRow) -> StoreResult<ApiKey> {
    let scopes: String = rows::get(row, "scopes")?;
    Ok(ApiKey {
        id: rows::id(row, "id")?,
        org_id: rows::id(row, "org_id")?,
        name: rows::get(row, "name")?,
        prefix: rows::get(row, "prefix")?,
        scopes: serde_json::from_str(&scopes).map_err(|_| rows::corrupt("scope list"))?,
        created_by: rows::get(row, "created_by")?,
        created_at: rows::time(row, "created_at")?,
        expires_at: rows::opt_time(row, "expires_at")?,
        last_used_at: rows::opt_time(row, "last_used_at")?,
        revoked_at: rows::opt_time(row, "revoked_at")?,
        rolled_from: rows::opt_id(row, "rolled_from")?,
    })
}

fn with_plan(row: &AnyRow) -> StoreResult<KeyWithPlan> {
    Ok(KeyWithPlan { key: api_key(row)?, secret_hash: rows::get(row, "secret_hash")?, plan: rows::get(row, "plan")? })
}

#[async_trait]
impl ApiKeysRead for SqlTx {
    async fn api_key_by_hash(&mut self, secret_hash: &str) -> StoreResult<Option<KeyWithPlan>> {
        // Found by its secret before the transaction knows the key's org.
        if self.enter_org_of("SELECT org_id FROM api_keys WHERE secret_hash = $1", secret_hash).await?.is_none() {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {COLUMNS}, k.secret_hash, o.plan FROM api_keys k JOIN orgs o ON o.id = k.org_id WHERE k.secret_hash = $1"
        );
        let row = sqlx::query(&sql).bind(secret_hash).fetch_optional(self.conn()).await.map_err(db_err)?;
        row.as_ref().map(with_plan).transpose()
    }

    async fn api_key_by_id(&mut self, id: ApiKeyId) -> StoreResult<Option<KeyWithPlan>> {
        let id = id.to_string();
        if self.enter_org_of("SELECT org_id FROM api_keys WHERE id = $1", &id).await?.is_none() {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {COLUMNS}, k.secret_hash, o.plan FROM api_keys k JOIN orgs o ON o.id = k.org_id WHERE k.id = $1"
        );
        let row = sqlx::query(&sql).bind(id).fetch_optional(self.conn()).await.map_err(db_err)?;
        row.as_ref().map(with_plan).transpose()
    }

    async fn list_api_keys(&mut self, org: OrgId, page: &PageRequest) -> StoreResult<Vec<ApiKey>> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys k WHERE k.org_id = $1 AND k.id > $2 ORDER BY k.id LIMIT $3");
        let found = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(after(page))
            .bind(i64::from(page.fetch_limit()))
            .fetch_all(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        found.iter().map(api_key).collect()
    }

    async fn unrevoked_keys_created_by(&mut self, created_by: &str) -> StoreResult<Vec<(ApiKeyId, OrgId)>> {
        // A person's keys across their orgs: read instance-wide, then revoked org by org (each
        // revocation enters its org's scope).
        self.all_orgs(true).await?;
        let found: Vec<(String, String)> =
            sqlx::query_as("SELECT id, org_id FROM api_keys WHERE created_by = $1 AND revoked_at IS NULL ORDER BY id")
                .bind(created_by)
                .fetch_all(self.conn())
                .await
                .map_err(db_err)?;
        self.all_orgs(false).await?;
        found
            .into_iter()
            .map(|(id, org)| {
                let id = id.parse().map_err(|_| rows::corrupt("key id"))?;
                let org = org.parse().map_err(|_| rows::corrupt("org id"))?;
                Ok((id, org))
            })
            .collect()
    }
}

#[async_trait]
impl ApiKeysTx for SqlTx {
    async fn insert_api_key(&mut self, key: &ApiKey, secret_hash: &str) -> StoreResult<Stale> {
        sqlx::query(
            "INSERT INTO api_keys (id, org_id, name, prefix, secret_hash, scopes, created_by, created_at, expires_at, \
             last_used_at, revoked_at, rolled_from) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(key.id.to_string())
        .bind(key.org_id.to_string())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(secret_hash)
        .bind(rows::json_list(&key.scopes))
        .bind(&key.created_by)
        .bind(ms(key.created_at))
        .bind(key.expires_at.map(ms))
        .bind(key.last_used_at.map(ms))
        .bind(key.revoked_at.map(ms))
        .bind(key.rolled_from.map(|id| id.to_string()))
        .execute(self.in_org(key.org_id).await?)
        .await
        .map_err(db_err)?;
        Ok(Stale::new(CacheChange::Key { id: key.id, secret_hash: secret_hash.to_owned() }))
    }

    async fn revoke_api_key(&mut self, org: OrgId, id: ApiKeyId, at: DateTime<Utc>) -> StoreResult<MaybeStale> {
        let revoked: Option<String> = sqlx::query_scalar(
            "UPDATE api_keys SET revoked_at = $1 WHERE org_id = $2 AND id = $3 AND revoked_at IS NULL RETURNING secret_hash",
        )
                .bind(ms(at))
                .bind(org.to_string())
                .bind(id.to_string())
                .fetch_optional(self.in_org(org).await?)
                .await
                .map_err(db_err)?;
        Ok(revoked.map(|secret_hash| Stale::new(CacheChange::Key { id, secret_hash })).into())
    }

    async fn expire_api_key(&mut self, org: OrgId, id: ApiKeyId, at: DateTime<Utc>) -> StoreResult<MaybeStale> {
        let expired: Option<String> = sqlx::query_scalar(
            "UPDATE api_keys SET expires_at = $1 WHERE org_id = $2 AND id = $3 AND (expires_at IS NULL OR expires_at > $4) \
             RETURNING secret_hash",
        )
        .bind(ms(at))
        .bind(org.to_string())
        .bind(id.to_string())
        .bind(ms(at))
        .fetch_optional(self.in_org(org).await?)
        .await
        .map_err(db_err)?;
        Ok(expired.map(|secret_hash| Stale::new(CacheChange::Key { id, secret_hash })).into())
    }

    async fn record_api_key_use(&mut self, uses: &[(ApiKeyId, DateTime<Utc>)]) -> StoreResult<()> {
        // A batch covers keys of many orgs, 1000 to a statement: with many keys in use, a
        // statement per key kept the database busy for seconds after every flush.
        const CHUNK: usize = 1000;
        self.all_orgs(true).await?;
        for chunk in uses.chunks(CHUNK) {
            let sql = format!(
                "UPDATE api_keys SET last_used_at = used.column2 FROM (VALUES {}) AS used \
                 WHERE api_keys.id = used.column1 \
                 AND (api_keys.last_used_at IS NULL OR api_keys.last_used_at < used.column2)",
                values_rows(chunk.len(), &["{}", "CAST({} AS BIGINT)"])
            );
            let mut query = sqlx::query(&sql);
            for (id, at) in chunk {
                query = query.bind(id.to_string()).bind(ms(*at));
            }
            query.execute(self.conn()).await.map_err(db_err)?;
        }
        self.all_orgs(false).await?;
        Ok(())
    }

    async fn add_rate_counts(&mut self, counts: &[RateCount]) -> StoreResult<Vec<u32>> {
        // Rows per statement: one round trip adds the counts of many keys (of many orgs).
        const CHUNK: usize = 1000;
        let mut totals: HashMap<(String, i64), i64> = HashMap::with_capacity(counts.len());
        self.all_orgs(true).await?;
        for chunk in counts.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO api_key_rate_windows (org_id, key_id, window_start, count) VALUES {} \
                 ON CONFLICT (org_id, key_id, window_start) DO UPDATE SET count = api_key_rate_windows.count + excluded.count \
                 RETURNING key_id, window_start, count",
                values_rows(chunk.len(), &["{}"; 4])
            );
            let mut query = sqlx::query_as::<_, (String, i64, i64)>(&sql);
            for count in chunk {
                query = query
                    .bind(count.org_id.to_string())
                    .bind(count.key_id.to_string())
                    .bind(count.minute)
                    .bind(i64::from(count.added));
            }
            for (key, window, total) in query.fetch_all(self.conn()).await.map_err(db_err)? {
                totals.insert((key, window), total);
            }
        }
        self.all_orgs(false).await?;
        counts
            .iter()
            .map(|c| {
                let total =
                    totals.get(&(c.key_id.to_string(), c.minute)).ok_or_else(|| rows::corrupt("rate window"))?;
                Ok(u32::try_from(*total).unwrap_or(u32::MAX))
            })
            .collect()
    }

    async fn prune_rate_windows(&mut self, minute: i64) -> StoreResult<()> {
        self.all_orgs(true).await?;
        sqlx::query("DELETE FROM api_key_rate_windows WHERE window_start < $1")
            .bind(minute)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        self.all_orgs(false).await
    }
}
