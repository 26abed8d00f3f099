//! API keys: create, list, roll and revoke them; authenticate Tenantry's own API with them; and
//! verify them for host apps (`/v1/keys/verify`), the hot path answered from [`KeyCache`].
//!
//! A key belongs to its org, not to the person who made it: it keeps working when its creator
//! leaves, until it expires or someone revokes it. Its scopes never exceed what its creator held
//! at creation (or whoever rolls it, at the roll), so a key cannot be used to escalate.
//!
//! [`KeyCache`]: crate::caches::key_cache::KeyCache

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::access::OrgAccess;
use super::events::objects;
use super::unit_of_work::{Event, Unit};
use super::{ApiKeys, KeyPrincipal, Principal, RequestMeta};
use crate::caches::key_cache::CachedKey;
use crate::caches::rate_limit::RateStatus;
use crate::domain::api_key::{self, ApiKey, ScopeError};
use crate::domain::audit::Target;
use crate::domain::ids::{ApiKeyId, OrgId, OrgRef};
use crate::domain::pagination::{Page, PageRequest};
use crate::domain::permission::Permission;
use crate::domain::permission::PermissionSet;
use crate::domain::secret::hash_token;
use crate::service::service_grants::ServiceGrant;
use crate::store::{KeyWithPlan, ReadTx};
use crate::{Error, Result};

pub const MAX_NAME_CHARS: usize = 100;
/// The longest an old key may keep working after a roll.
pub const MAX_OLD_KEY_GRACE: Duration = Duration::days(30);

pub struct NewKey {
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// One of the preset's key prefixes (`tn_live_`, `tn_test_` …); the first when absent.
    pub prefix: Option<String>,
}

/// A key and its secret, which is shown only in this response.
pub struct IssuedKey {
    pub key: ApiKey,
    pub secret: String,
}

/// The outcome of `/v1/keys/verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyCode {
    Valid,
    NotFound,
    Expired,
    Revoked,
    InsufficientPermissions,
    RateLimited,
}

impl VerifyCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "VALID",
            Self::NotFound => "NOT_FOUND",
            Self::Expired => "EXPIRED",
            Self::Revoked => "REVOKED",
            Self::InsufficientPermissions => "INSUFFICIENT_PERMISSIONS",
            Self::RateLimited => "RATE_LIMITED",
        }
    }
}

pub struct Verification {
    pub code: VerifyCode,
    /// The key, when one was found.
    pub key: Option<Arc<CachedKey>>,
    /// The key's rate-limit window after this call, when it was counted.
    pub rate: Option<RateStatus>,
}

/// A key that authenticated a request, with its rate-limit standing.
pub struct KeyAuthentication {
    pub principal: KeyPrincipal,
    pub rate: RateStatus,
}

fn parse_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(Error::invalid("name", format!("must be 1 to {MAX_NAME_CHARS} characters")));
    }
    Ok(name.to_owned())
}

impl ApiKeys<'_> {
    /// Whether `token` has the shape of one of this deployment's keys (prefix and checksum).
    pub fn looks_like_api_key(&self, token: &str) -> bool {
        api_key::is_well_formed(token, &self.preset.api_key_prefixes)
    }

    /// Checks scopes against the catalog and against what `access` may itself do.
    fn check_scopes(&self, access: &OrgAccess, scopes: &[String]) -> Result<()> {
        let catalog = &self.preset.catalog;
        api_key::resolve_scopes(catalog, scopes).map_err(|e| match e {
            ScopeError::Empty => Error::invalid("scopes", "name at least one scope"),
            ScopeError::Unknown(i) => Error::invalid(
                format!("scopes[{i}]"),
                format!(
                    "`{}` is neither a permission of this deployment nor a resource (`resource` or `resource.*`)",
                    scopes[i]
                ),
            ),
        })?;
        for scope in scopes {
            let missing = api_key::scope_set(catalog, scope).minus(access.permissions);
            if !missing.is_empty() {
                return Err(Error::forbidden(format!(
                    "the scope `{scope}` grants {} which {} does not have",
                    catalog.names(missing).join(", "),
                    access.described()
                )));
            }
        }
        Ok(())
    }

    pub async fn create_api_key(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        new: NewKey,
        meta: &RequestMeta,
    ) -> Result<IssuedKey> {
        let name = parse_name(&new.name)?;
        let now = self.clock.now();
        if new.expires_at.is_some_and(|at| at <= now) {
            return Err(Error::invalid("expires_at", "must be in the future"));
        }
        let prefix = match new.prefix {
            None => self.preset.api_key_prefixes[0].clone(),
            Some(p) if self.preset.api_key_prefixes.contains(&p) => p,
            Some(_) => {
                return Err(Error::invalid(
                    "prefix",
                    format!("must be one of {}", self.preset.api_key_prefixes.join(", ")),
                ))
            }
        };
        let mut w = self.org_write(principal, reference, Some(Permission::ApiKeysManage), meta).await?;
        self.require_verified_email(w.tx(), principal).await?;
        self.check_scopes(&w.access, &new.scopes)?;
        let key = ApiKey {
            id: ApiKeyId::new(),
            org_id: w.org_id(),
            name,
            prefix: String::new(),
            scopes: new.scopes,
            created_by: w.access.actor().id,
            created_at: now,
            expires_at: new.expires_at,
            last_used_at: None,
            revoked_at: None,
            rolled_from: None,
        };
        let issued = self.insert_key(&mut w, key, &prefix).await?;
        let metadata = json!({
            "name": issued.key.name,
            "prefix": issued.key.prefix,
            "scopes": issued.key.scopes,
            "expires_at": issued.key.expires_at,
        });
        let event = Event::new("api_key.created", Target::new("api_key", issued.key.id), metadata)
            .with_object(objects::api_key(&issued.key));
        w.commit(event).await?;
        Ok(issued)
    }

    /// Generates the secret of `key` and stores the key.
    async fn insert_key(&self, w: &mut Unit<'_>, mut key: ApiKey, prefix: &str) -> Result<IssuedKey> {
        let secret = api_key::generate(prefix, |buf| self.random.fill(buf));
        key.prefix = api_key::display_prefix(&secret);
        let stale = w.tx().insert_api_key(&key, &hash_token(&secret)).await?;
        w.invalidate(stale);
        Ok(IssuedKey { key, secret })
    }

    pub async fn list_api_keys(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        page: &PageRequest,
    ) -> Result<Page<ApiKey>> {
        let mut tx = self.store.read().await?;
        let access = self.org_access(tx.as_mut(), principal, reference).await?;
        self.require(&access, Permission::ApiKeysManage)?;
        let rows = tx.list_api_keys(access.org.id, page).await?;
        let page = Page::from_rows(rows, page, |k| k.id.to_string());
        // Uses not yet written are known here; show the freshest.
        Ok(page.map(|mut key| {
            key.last_used_at = key.last_used_at.max(self.key_usage.last_used(key.id));
            key
        }))
    }

    /// The org's key `id`, loaded in `tx`; another org's key is not found.
    async fn org_key(&self, tx: &mut dyn ReadTx, org: OrgId, id: ApiKeyId) -> Result<KeyWithPlan> {
        tx.api_key_by_id(id).await?.filter(|k| k.key.org_id == org).ok_or(Error::NotFound("API key"))
    }

    /// Revokes a key; it is refused from the next request on. Revoking a revoked key changes
    /// nothing.
    pub async fn revoke_api_key(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        id: ApiKeyId,
        meta: &RequestMeta,
    ) -> Result<()> {
        let mut w = self.org_write(principal, reference, Some(Permission::ApiKeysManage), meta).await?;
        let org = w.org_id();
        let found = self.org_key(w.tx(), org, id).await?;
        let Some(stale) = w.tx().revoke_api_key(org, found.key.id, self.clock.now()).await?.into_option() else {
            return Ok(());
        };
        w.invalidate(stale);
        let metadata = json!({ "name": found.key.name, "prefix": found.key.prefix });
        w.commit(Event::new("api_key.revoked", Target::new("api_key", found.key.id), metadata)).await?;
        Ok(())
    }

    /// Replaces a key by a new one with the same name, scopes and expiry. The old key stops at
    /// once, or after `old_expires_in` when given, so deployments can switch over. Whoever rolls
    /// must hold every scope: rolling hands out a working secret.
    pub async fn roll_api_key(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        id: ApiKeyId,
        old_expires_in: Option<i64>,
        meta: &RequestMeta,
    ) -> Result<IssuedKey> {
        // The raw number is checked before it becomes a `Duration`: `Duration::seconds` panics
        // on values past ±i64::MAX milliseconds, and a client may send any integer.
        let seconds = old_expires_in.unwrap_or(0);
        if !(0..=MAX_OLD_KEY_GRACE.num_seconds()).contains(&seconds) {
            return Err(Error::invalid(
                "old_expires_in",
                format!("must be 0 to {} seconds", MAX_OLD_KEY_GRACE.num_seconds()),
            ));
        }
        let grace = Duration::seconds(seconds);
        let now = self.clock.now();
        let mut w = self.org_write(principal, reference, Some(Permission::ApiKeysManage), meta).await?;
        let org = w.org_id();
        self.require_verified_email(w.tx(), principal).await?;
        let old = self.org_key(w.tx(), org, id).await?;
        if old.key.is_revoked() || old.key.is_expired(now) {
            return Err(Error::conflict("key_inactive", "a revoked or expired key cannot be rolled"));
        }
        self.check_scopes(&w.access, &old.key.scopes)?;
        let prefix = self
            .preset
            .api_key_prefixes
            .iter()
            .filter(|p| old.key.prefix.starts_with(p.as_str()))
            .max_by_key(|p| p.len())
            .unwrap_or(&self.preset.api_key_prefixes[0])
            .clone();
        let replacement = ApiKey {
            id: ApiKeyId::new(),
            created_by: w.access.actor().id,
            created_at: now,
            last_used_at: None,
            revoked_at: None,
            rolled_from: Some(old.key.id),
            ..old.key.clone()
        };
        let issued = self.insert_key(&mut w, replacement, &prefix).await?;
        let old_ends = now + grace;
        let stale = if grace.is_zero() {
            w.tx().revoke_api_key(org, old.key.id, now).await?
        } else {
            w.tx().expire_api_key(org, old.key.id, old_ends).await?
        };
        w.invalidate_all(stale);
        let metadata = json!({
            "new_key_id": issued.key.id.to_string(),
            "new_prefix": issued.key.prefix,
            "old_key_ends_at": old_ends.min(old.key.expires_at.unwrap_or(old_ends)),
        });
        w.commit(Event::new("api_key.rolled", Target::new("api_key", old.key.id), metadata)).await?;
        Ok(issued)
    }

    /// The key whose secret is `secret`, from the cache (filled from the store on a miss).
    async fn cached_key_by_secret(&self, secret: &str) -> Result<Option<Arc<CachedKey>>> {
        if !self.looks_like_api_key(secret) {
            return Ok(None);
        }
        let hash = hash_token(secret);
        if let Some(found) = self.keys.by_hash(&hash) {
            return Ok(found);
        }
        let seen = self.keys.generation();
        let stored = self.store.read().await?.api_key_by_hash(&hash).await?;
        let found = stored.map(|k| self.cached_key(k));
        self.keys.fill_hash(&hash, found.clone(), seen);
        Ok(found)
    }

    pub(crate) async fn cached_key_by_id(&self, id: ApiKeyId) -> Result<Option<Arc<CachedKey>>> {
        if let Some(found) = self.keys.by_id(id) {
            return Ok(found);
        }
        let seen = self.keys.generation();
        let stored = self.store.read().await?.api_key_by_id(id).await?;
        let found = stored.map(|k| self.cached_key(k));
        self.keys.fill_id(id, found.clone(), seen);
        Ok(found)
    }

    /// What a key's scopes grant. Scopes were checked at creation; one a later catalog lacks
    /// grants nothing.
    pub(crate) fn key_scopes(&self, key: &ApiKey) -> PermissionSet {
        key.scopes
            .iter()
            .fold(PermissionSet::EMPTY, |set, scope| api_key::scope_set(&self.preset.catalog, scope).union(set))
    }

    fn cached_key(&self, stored: KeyWithPlan) -> Arc<CachedKey> {
        let scopes = self.key_scopes(&stored.key);
        let calls_per_minute = self.preset.plan(&stored.plan).map_or(0, |p| p.api_calls_per_minute);
        Arc::new(CachedKey { key: stored.key, secret_hash: stored.secret_hash, scopes, calls_per_minute })
    }

    /// Why a found key may not be used now, if it may not.
    fn inactive(&self, key: &ApiKey, now: DateTime<Utc>) -> Option<VerifyCode> {
        if key.is_revoked() {
            Some(VerifyCode::Revoked)
        } else if key.is_expired(now) {
            Some(VerifyCode::Expired)
        } else {
            None
        }
    }

    /// Counts a use of an active key against its rate limit, noting when it was last used.
    fn count_use(&self, key: &CachedKey, now: DateTime<Utc>) -> RateStatus {
        let rate = self.rate_limits.hit(key.key.id, key.key.org_id, key.calls_per_minute, now);
        if rate.allowed {
            self.key_usage.touch(key.key.id, now);
        }
        rate
    }

    /// Authenticates a request to Tenantry's own API made with a key. A refused rate limit is
    /// not an error here: the caller still answers it with the key's rate-limit headers.
    pub async fn authenticate_key(&self, secret: &str) -> Result<KeyAuthentication> {
        let now = self.clock.now();
        let key = self
            .cached_key_by_secret(secret)
            .await?
            .ok_or_else(|| Error::Unauthorized("the API key is not valid".into()))?;
        match self.inactive(&key.key, now) {
            Some(VerifyCode::Revoked) => return Err(Error::Unauthorized("the API key has been revoked".into())),
            Some(_) => return Err(Error::Unauthorized("the API key has expired".into())),
            None => {}
        }
        let rate = self.count_use(&key, now);
        Ok(KeyAuthentication {
            principal: KeyPrincipal { key_id: key.key.id, org_id: key.key.org_id, scopes: key.scopes },
            rate,
        })
    }

    /// `/v1/keys/verify` for host apps: is this key good, and does it grant `permission`? A
    /// valid check counts against the key's rate limit, like a request made with it.
    pub async fn verify_key(
        &self,
        principal: &Principal,
        secret: &str,
        permission: Option<&str>,
    ) -> Result<Verification> {
        if !principal.is_operator() {
            return Err(Error::forbidden("key verification is for host apps (service tokens) and the instance admin"));
        }
        principal.require_grant(ServiceGrant::Verify)?;
        let wanted = permission
            .map(|p| {
                self.preset.catalog.bit(p).ok_or_else(|| {
                    Error::invalid("permission", format!("`{p}` is not a permission of this deployment"))
                })
            })
            .transpose()?;
        let now = self.clock.now();
        let Some(key) = self.cached_key_by_secret(secret).await? else {
            return Ok(Verification { code: VerifyCode::NotFound, key: None, rate: None });
        };
        if let Some(code) = self.inactive(&key.key, now) {
            return Ok(Verification { code, key: Some(key), rate: None });
        }
        let rate = self.count_use(&key, now);
        let code = if !rate.allowed {
            VerifyCode::RateLimited
        } else if wanted.is_some_and(|bit| !key.scopes.contains_all(bit)) {
            VerifyCode::InsufficientPermissions
        } else {
            VerifyCode::Valid
        };
        Ok(Verification { code, key: Some(key), rate: Some(rate) })
    }

    /// Shares this node's rate-limit counts with the other nodes on the database and learns
    /// theirs. Called every sharing interval by the server when the database is shared.
    ///
    /// A node alone on its database has no one to tell: it keeps its counts, unshared, and
    /// shares them all at the first interval after another node starts.
    pub async fn share_rate_counts(&self) -> Result<usize> {
        if self.store.other_nodes().await? == 0 {
            return Ok(0);
        }
        let now = self.clock.now();
        let counts = self.rate_limits.take_unshared(now);
        let minute = now.timestamp().div_euclid(60);
        let prune = self.rate_windows_pruned.swap(minute, std::sync::atomic::Ordering::Relaxed) != minute;
        if counts.is_empty() && !prune {
            return Ok(0);
        }
        let shared = async {
            let mut w = self.bookkeeping().await?;
            let totals = w.tx().add_rate_counts(&counts).await?;
            if prune {
                w.tx().prune_rate_windows(minute - 1).await?;
            }
            w.commit().await?;
            Ok::<_, Error>(totals)
        };
        match shared.await {
            Ok(totals) => {
                let learned: Vec<_> = counts.iter().copied().zip(totals).collect();
                self.rate_limits.learn(&learned);
                Ok(counts.len())
            }
            Err(error) => {
                self.rate_limits.unshare(&counts);
                Err(error)
            }
        }
    }

    /// Drops rate-limit windows of past minutes from memory; returns how many windows remain.
    /// Called periodically by the server, so no request pays for it.
    pub fn sweep_rate_windows(&self) -> usize {
        self.rate_limits.sweep(self.clock.now())
    }

    /// Writes the `last_used_at` of keys used since their last write (at most once a minute
    /// per key). Called periodically by the server and once at shutdown.
    pub async fn flush_key_usage(&self) -> Result<usize> {
        let due = self.key_usage.take_due(self.clock.now());
        if due.is_empty() {
            return Ok(0);
        }
        let mut w = self.bookkeeping().await?;
        w.tx().record_api_key_use(&due).await?;
        w.commit().await?;
        Ok(due.len())
    }
}
