//! Instance-wide state: the token signing key and named secrets (the admin token's hash).

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::models::SigningKey;

#[async_trait]
pub trait InstanceTx: Send {
    async fn signing_key(&mut self) -> StoreResult<Option<SigningKey>>;
    async fn insert_signing_key(&mut self, key: &SigningKey) -> StoreResult<()>;
    async fn instance_secret(&mut self, name: &str) -> StoreResult<Option<String>>;
    async fn set_instance_secret(&mut self, name: &str, value: &str) -> StoreResult<()>;
}
