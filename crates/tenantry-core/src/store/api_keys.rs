//! API keys, looked up by the SHA-256 of their secret.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MaybeStale, Stale, StoreResult};
use crate::domain::api_key::{ApiKey, RateCount};
use crate::domain::ids::{ApiKeyId, OrgId};
use crate::domain::pagination::PageRequest;

/// A key with what verifying it needs: the hash it is found by and its org's plan.
#[derive(Debug, Clone)]
pub struct KeyWithPlan {
    pub key: ApiKey,
    pub secret_hash: String,
    /// The plan of the key's org, which sets its rate limit.
    pub plan: String,
}

/// The reads of this capability, open to read handles (`Store::read`).
#[async_trait]
pub trait ApiKeysRead: Send {
    async fn api_key_by_hash(&mut self, secret_hash: &str) -> StoreResult<Option<KeyWithPlan>>;
    async fn api_key_by_id(&mut self, id: ApiKeyId) -> StoreResult<Option<KeyWithPlan>>;
    /// The org's keys by id (creation order), after the page's cursor.
    async fn list_api_keys(&mut self, org: OrgId, page: &PageRequest) -> StoreResult<Vec<ApiKey>>;
    /// The unrevoked keys `created_by` made, in every org: `(key, its org)`.
    async fn unrevoked_keys_created_by(&mut self, created_by: &str) -> StoreResult<Vec<(ApiKeyId, OrgId)>>;
}

/// The writes of this capability, only in write transactions (`Store::write`).
#[async_trait]
pub trait ApiKeysTx: ApiKeysRead {
    /// Inserts the key with the hash of its secret (unique across the instance).
    async fn insert_api_key(&mut self, key: &ApiKey, secret_hash: &str) -> StoreResult<Stale>;
    /// Revokes the key unless it already was; `None` when it was already revoked or is not the org's.
    async fn revoke_api_key(&mut self, org: OrgId, id: ApiKeyId, at: DateTime<Utc>) -> StoreResult<MaybeStale>;
    /// Brings the key's expiry forward to `at` (never later than it already is).
    async fn expire_api_key(&mut self, org: OrgId, id: ApiKeyId, at: DateTime<Utc>) -> StoreResult<MaybeStale>;
    /// Records when keys were last used; a stored time never moves backwards.
    async fn record_api_key_use(&mut self, uses: &[(ApiKeyId, DateTime<Utc>)]) -> StoreResult<()>;
    /// Adds each count to its key's window, shared by every node; returns the windows' totals,
    /// in the same order.
    async fn add_rate_counts(&mut self, counts: &[RateCount]) -> StoreResult<Vec<u32>>;
    /// Forgets windows that started before `minute`.
    async fn prune_rate_windows(&mut self, minute: i64) -> StoreResult<()>;
}
