//! Usage counters and remembered metering answers.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use tenantry_core::domain::ids::OrgId;
use tenantry_core::domain::plan::Limit;
use tenantry_core::domain::usage::{MeterAnswer, MeterOutcome, UsageWrite};
use tenantry_core::store::{StoreError, StoreResult, UsageRead, UsageTx};

use super::SqlTx;
use crate::db_err;
use crate::rows::{self, ms};

fn limit_column(limit: Limit) -> Option<i64> {
    limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX))
}

#[async_trait]
impl UsageRead for SqlTx {
    async fn usage_value(&mut self, org: OrgId, metric: &str, period: &str) -> StoreResult<u64> {
        let value: Option<i64> =
            sqlx::query_scalar("SELECT value FROM usage_counters WHERE org_id = $1 AND metric = $2 AND period = $3")
                .bind(org.to_string())
                .bind(metric)
                .bind(period)
                .fetch_optional(self.in_org(org).await?)
                .await
                .map_err(db_err)?;
        Ok(value.unwrap_or(0) as u64)
    }

    async fn meter_answer(&mut self, org: OrgId, metric: &str, key: &str) -> StoreResult<Option<MeterAnswer>> {
        let row = sqlx::query(
            "SELECT delta, outcome, value, usage_limit, period, created_at FROM usage_idempotency \
             WHERE org_id = $1 AND metric = $2 AND key = $3",
        )
        .bind(org.to_string())
        .bind(metric)
        .bind(key)
        .fetch_optional(self.in_org(org).await?)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let outcome: String = rows::get(&row, "outcome")?;
        let value: i64 = rows::get(&row, "value")?;
        let limit: Option<i64> = rows::get(&row, "usage_limit")?;
        Ok(Some(MeterAnswer {
            delta: row.try_get("delta").map_err(db_err)?,
            outcome: MeterOutcome::parse(&outcome)
                .ok_or_else(|| StoreError::Database("stored value is not a valid metering outcome".into()))?,
            value: value as u64,
            limit: limit.map(|l| l as u64),
            period: rows::get(&row, "period")?,
            created_at: rows::time(&row, "created_at")?,
        }))
    }
}

#[async_trait]
impl UsageTx for SqlTx {
    async fn add_usage(
        &mut self,
        org: OrgId,
        metric: &str,
        period: &str,
        delta: i64,
        limit: Limit,
    ) -> StoreResult<UsageWrite> {
        sqlx::query(
            "INSERT INTO usage_counters (org_id, metric, period, value) VALUES ($1, $2, $3, 0) \
             ON CONFLICT (org_id, metric, period) DO NOTHING",
        )
        .bind(org.to_string())
        .bind(metric)
        .bind(period)
        .execute(self.in_org(org).await?)
        .await
        .map_err(db_err)?;
        // The limit is part of the update's condition: the check and the write are one statement.
        let applied: Option<i64> = sqlx::query_scalar(
            "UPDATE usage_counters SET value = value + $1 \
             WHERE org_id = $2 AND metric = $3 AND period = $4 \
               AND value + $1 >= 0 AND ($1 <= 0 OR $5 IS NULL OR value + $1 <= $5) \
             RETURNING value",
        )
        .bind(delta)
        .bind(org.to_string())
        .bind(metric)
        .bind(period)
        .bind(limit_column(limit))
        .fetch_optional(self.in_org(org).await?)
        .await
        .map_err(db_err)?;
        match applied {
            Some(value) => Ok(UsageWrite::Applied(value as u64)),
            None => Ok(UsageWrite::Refused(self.usage_value(org, metric, period).await?)),
        }
    }

    async fn claim_refusal_audit(
        &mut self,
        org: OrgId,
        metric: &str,
        period: &str,
        now: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE usage_counters SET refusal_audited_at = $1 \
             WHERE org_id = $2 AND metric = $3 AND period = $4 \
               AND (refusal_audited_at IS NULL OR refusal_audited_at <= $5)",
        )
        .bind(ms(now))
        .bind(org.to_string())
        .bind(metric)
        .bind(period)
        .bind(ms(since))
        .execute(self.in_org(org).await?)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn purge_meter_answers(&mut self, org: OrgId, before: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("DELETE FROM usage_idempotency WHERE org_id = $1 AND created_at <= $2")
            .bind(org.to_string())
            .bind(ms(before))
            .execute(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn insert_meter_answer(
        &mut self,
        org: OrgId,
        metric: &str,
        key: &str,
        answer: &MeterAnswer,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO usage_idempotency (org_id, metric, key, delta, outcome, value, usage_limit, period, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(org.to_string())
        .bind(metric)
        .bind(key)
        .bind(answer.delta)
        .bind(answer.outcome.as_str())
        .bind(answer.value as i64)
        .bind(limit_column(answer.limit))
        .bind(&answer.period)
        .bind(ms(answer.created_at))
        .execute(self.in_org(org).await?)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
