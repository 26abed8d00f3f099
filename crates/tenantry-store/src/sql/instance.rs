//! The signing key and instance secrets.

use async_trait::async_trait;
use tenantry_core::domain::models::SigningKey;
use tenantry_core::store::{InstanceRead, InstanceTx, StoreResult};

use crate::rows::{self, ms};

use super::SqlTx;
use crate::db_err;

#[async_trait]
impl InstanceRead for SqlTx {
    async fn signing_key(&mut self) -> StoreResult<Option<SigningKey>> {
        let row = sqlx::query("SELECT kid, pkcs8, created_at FROM signing_keys ORDER BY created_at DESC LIMIT 1")
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)?;
        row.map(|row| {
            Ok(SigningKey {
                kid: rows::get(&row, "kid")?,
                pkcs8: rows::get(&row, "pkcs8")?,
                created_at: rows::time(&row, "created_at")?,
            })
        })
        .transpose()
    }

    async fn instance_secret(&mut self, name: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT value FROM instance_secrets WHERE name = $1")
            .bind(name)
            .fetch_optional(self.conn())
            .await
            .map_err(db_err)
    }
}

#[async_trait]
impl InstanceTx for SqlTx {
    async fn insert_signing_key(&mut self, key: &SigningKey) -> StoreResult<()> {
        sqlx::query("INSERT INTO signing_keys (kid, pkcs8, created_at) VALUES ($1, $2, $3)")
            .bind(&key.kid)
            .bind(&key.pkcs8)
            .bind(ms(key.created_at))
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn set_instance_secret(&mut self, name: &str, value: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO instance_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
            .bind(name)
            .bind(value)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
