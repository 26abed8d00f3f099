//! Org settings: reading and replacing the document (`org.manage`), with optimistic concurrency
//! through its version (`ETag` / `If-Match`). The document's rules live in `domain::settings`.

use serde_json::json;

use super::mfa::org_security_changed;
use super::unit_of_work::Event;
use super::{OrgSettings, Principal, RequestMeta};
use crate::domain::audit::Target;
use crate::domain::ids::OrgRef;
use crate::domain::permission::Permission;
use crate::domain::settings::{etag, if_match_allows, Settings};
use crate::{Error, Result};

/// Settings as a reader sees them (secret masked, retention effective), with their version.
pub struct SettingsRead {
    pub settings: Settings,
    pub version: u64,
}

impl SettingsRead {
    pub fn etag(&self) -> String {
        etag(self.version)
    }
}

impl OrgSettings<'_> {
    pub async fn get_settings(&self, principal: &Principal, reference: &OrgRef) -> Result<SettingsRead> {
        let mut tx = self.store.read().await?;
        let access = self.org_access(tx.as_mut(), principal, reference).await?;
        self.require(&access, Permission::OrgManage)?;
        let stored = tx.org_settings(access.org.id).await?.unwrap_or_default();
        let max = self.plans().plan_of(&access.org)?.retention_days;
        Ok(SettingsRead { settings: stored.settings.for_reading(max), version: stored.version })
    }

    /// Replaces the document. `if_match` (the `If-Match` header) must name the current ETag when
    /// given: 412 otherwise. A write that changes nothing keeps the version and audits nothing.
    pub async fn put_settings(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        sent: Settings,
        if_match: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<SettingsRead> {
        let mut w = self.org_write(principal, reference, Some(Permission::OrgManage), meta).await?;
        let org = w.org_id();
        let stored = w.tx().org_settings(org).await?.unwrap_or_default();
        if let Some(header) = if_match {
            if !if_match_allows(header, stored.version) {
                return Err(Error::PreconditionFailed {
                    message: format!(
                        "the settings changed since they were read (current ETag {}); read them again",
                        etag(stored.version)
                    ),
                });
            }
        }
        let max = self.plans().plan_of(&w.access.org)?.retention_days;
        let settings = sent.accept(&stored.settings, max).map_err(|e| Error::invalid(e.field, e.message))?;
        let changed = stored.settings.changed_paths(&settings);
        if changed.is_empty() {
            return Ok(SettingsRead { settings: stored.settings.for_reading(max), version: stored.version });
        }
        let version = w
            .tx()
            .save_org_settings(org, &settings, stored.version, self.clock.now())
            .await?
            .ok_or_else(|| Error::conflict("conflict", "the settings changed while saving; read them again"))?;
        if stored.settings.security.mfa_required != settings.security.mfa_required {
            // Whoever turns the requirement on must meet it, or they would lock themselves out.
            if let Some(user) = w.access.user_id().filter(|_| settings.security.mfa_required) {
                if !w.tx().has_mfa(user).await? {
                    return Err(Error::Forbidden {
                        code: "mfa_required",
                        message: "enable multi-factor authentication on your own account before requiring it of \
                                  the organization's members"
                            .to_owned(),
                    });
                }
            }
            w.invalidate(org_security_changed(org));
        }
        w.commit(Event::new("org.settings_updated", Target::new("organization", org), json!({ "changed": changed })))
            .await?;
        Ok(SettingsRead { settings: settings.for_reading(max), version })
    }
}
