//! Metered usage: one counter row per org, metric and period, and the answers remembered for
//! idempotency keys.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::domain::ids::OrgId;
use crate::domain::plan::Limit;
use crate::domain::usage::{MeterAnswer, UsageWrite};

/// The reads of this capability, open to read handles (`Store::read`).
#[async_trait]
pub trait UsageRead: Send {
    /// The value of a counter row; 0 when it was never written.
    async fn usage_value(&mut self, org: OrgId, metric: &str, period: &str) -> StoreResult<u64>;
    async fn meter_answer(&mut self, org: OrgId, metric: &str, key: &str) -> StoreResult<Option<MeterAnswer>>;
}

/// The writes of this capability, only in write transactions (`Store::write`).
#[async_trait]
pub trait UsageTx: UsageRead {
    /// Adds `delta` to a counter row (created at 0 if absent) in one conditional statement: only
    /// if the result is not below zero and, when `delta` is positive, not above `limit` (`None`:
    /// unlimited). Concurrent adds therefore never overshoot.
    async fn add_usage(
        &mut self,
        org: OrgId,
        metric: &str,
        period: &str,
        delta: i64,
        limit: Limit,
    ) -> StoreResult<UsageWrite>;
    /// Stamps the counter row with `now` as its last audited refusal, unless it carries a stamp
    /// later than `since`; `true` when it stamped.
    async fn claim_refusal_audit(
        &mut self,
        org: OrgId,
        metric: &str,
        period: &str,
        now: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Forgets the org's idempotency keys created at or before `before`.
    async fn purge_meter_answers(&mut self, org: OrgId, before: DateTime<Utc>) -> StoreResult<()>;
    async fn insert_meter_answer(
        &mut self,
        org: OrgId,
        metric: &str,
        key: &str,
        answer: &MeterAnswer,
    ) -> StoreResult<()>;
}
