//! Instance-wide state: the token signing key and named secrets (the admin token's hash).

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::models::SigningKey;

/// The reads of this capability, open to read handles (`Store::read`).
#[async_trait]
pub trait InstanceRead: Send {
    async fn signing_key(&mut self) -> StoreResult<Option<SigningKey>>;
    async fn instance_secret(&mut self, name: &str) -> StoreResult<Option<String>>;
}

/// The writes of this capability, only in write transactions (`Store::write`).
#[async_trait]
pub trait InstanceTx: InstanceRead {
    async fn insert_signing_key(&mut self, key: &SigningKey) -> StoreResult<()>;
    async fn set_instance_secret(&mut self, name: &str, value: &str) -> StoreResult<()>;
}
