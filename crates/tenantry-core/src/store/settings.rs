//! Org settings, versioned for optimistic concurrency.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::domain::ids::OrgId;
use crate::domain::settings::{Settings, StoredSettings};

/// The reads of this capability, open to read handles (`Store::read`).
#[async_trait]
pub trait SettingsRead: Send {
    /// The org's settings with their version; `None` until first written.
    async fn org_settings(&mut self, org: OrgId) -> StoreResult<Option<StoredSettings>>;
}

/// The writes of this capability, only in write transactions (`Store::write`).
#[async_trait]
pub trait SettingsTx: SettingsRead {
    /// Writes the settings if their version is still `expected` (0: never written), returning
    /// the new version, or `None` when another write came first.
    async fn save_org_settings(
        &mut self,
        org: OrgId,
        settings: &Settings,
        expected: u64,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<u64>>;
}
