//! Org settings: the document as JSON beside its write-only token, with a version column for
//! conditional writes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tenantry_core::domain::ids::OrgId;
use tenantry_core::domain::settings::{Settings, StoredSettings};
use tenantry_core::store::{SettingsRead, SettingsTx, StoreError, StoreResult};

use super::SqlTx;
use crate::db_err;
use crate::rows::{self, ms};

#[async_trait]
impl SettingsRead for SqlTx {
    async fn org_settings(&mut self, org: OrgId) -> StoreResult<Option<StoredSettings>> {
        let row = sqlx::query("SELECT document, telegram_bot_token, version FROM org_settings WHERE org_id = $1")
            .bind(org.to_string())
            .fetch_optional(self.in_org(org).await?)
            .await
            .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let document: String = rows::get(&row, "document")?;
        let version: i64 = rows::get(&row, "version")?;
        let mut settings: Settings = serde_json::from_str(&document)
            .map_err(|_| StoreError::Database("stored value is not a valid settings document".into()))?;
        settings.notifications.telegram_bot_token = rows::get(&row, "telegram_bot_token")?;
        Ok(Some(StoredSettings { settings, version: version as u64 }))
    }
}

#[async_trait]
impl SettingsTx for SqlTx {
    async fn save_org_settings(
        &mut self,
        org: OrgId,
        settings: &Settings,
        expected: u64,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<u64>> {
        let document = serde_json::to_string(settings).expect("settings serialise");
        let token = settings.notifications.telegram_bot_token.as_deref();
        let version: Option<i64> = if expected == 0 {
            sqlx::query_scalar(
                "INSERT INTO org_settings (org_id, document, telegram_bot_token, version, updated_at) \
                 VALUES ($1, $2, $3, 1, $4) ON CONFLICT (org_id) DO NOTHING RETURNING version",
            )
            .bind(org.to_string())
            .bind(&document)
            .bind(token)
            .bind(ms(at))
            .fetch_optional(self.in_org(org).await?)
            .await
            .map_err(db_err)?
        } else {
            sqlx::query_scalar(
                "UPDATE org_settings SET document = $1, telegram_bot_token = $2, version = version + 1, updated_at = $3 \
                 WHERE org_id = $4 AND version = $5 RETURNING version",
            )
            .bind(&document)
            .bind(token)
            .bind(ms(at))
            .bind(org.to_string())
            .bind(expected as i64)
            .fetch_optional(self.in_org(org).await?)
            .await
            .map_err(db_err)?
        };
        Ok(version.map(|v| v as u64))
    }
}
