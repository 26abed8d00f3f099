//! Roles: the preset's built-ins and each org's custom roles, and the rules for granting them.
//!
//! Granting a role (by role change, invitation or reassignment) requires that the role is not the
//! owner role (ownership is only transferred), that it holds no permission the granter lacks (no
//! escalation), and that the preset's `assignable_by` for it, if any, names the granter's role.
//! Acting on a member (changing their role, removing them) or editing a role requires holding at
//! least every permission of their current role, so nobody can strip someone more powerful.

use std::sync::Arc;

use serde_json::json;

use super::access::{OrgAccess, Standing};
use super::unit_of_work::Event;
use super::{Principal, RequestMeta, Roles};
use crate::domain::audit::Target;
use crate::domain::ids::{OrgId, OrgRef, RoleId};
use crate::domain::models::CustomRole;
use crate::domain::permission::Permission;
use crate::domain::permission::{PermissionSet, Role};
use crate::store::{ReadTx, StoreError};
use crate::{Error, Result};

pub const CUSTOM_ROLES_FEATURE: &str = "custom_roles";
const MAX_ROLE_NAME_CHARS: usize = 64;

/// The input of a custom role.
pub struct RoleInput {
    pub key: String,
    pub name: String,
    pub permissions: Vec<String>,
}

/// A partial update of a custom role.
#[derive(Default)]
pub struct RolePatch {
    pub name: Option<String>,
    pub permissions: Option<Vec<String>>,
}

fn parse_role_key(key: &str) -> Result<String> {
    let ok = (2..=32).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(key.to_owned())
    } else {
        Err(Error::invalid("key", "must be 2 to 32 lowercase letters, digits or underscores, starting with a letter"))
    }
}

fn parse_role_name(name: &str) -> Result<String> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_ROLE_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(Error::invalid("name", format!("must be 1 to {MAX_ROLE_NAME_CHARS} characters")));
    }
    Ok(name.to_owned())
}

impl Roles<'_> {
    /// A custom role as a `Role`. Permissions a changed catalog no longer has grant nothing.
    pub(crate) fn custom_role(&self, custom: &CustomRole) -> Role {
        let permissions = custom
            .permissions
            .iter()
            .filter_map(|p| self.preset.catalog.bit(p))
            .fold(PermissionSet::EMPTY, PermissionSet::union);
        Role { key: custom.key.clone(), name: custom.name.clone(), permissions, assignable_by: None, built_in: false }
    }

    /// Every role usable in `org`: built-ins first, then custom roles by creation.
    pub(crate) async fn roles_of(&self, tx: &mut dyn ReadTx, org: OrgId) -> Result<Vec<Role>> {
        let mut roles = self.preset.roles.clone();
        roles.extend(tx.custom_roles(org).await?.iter().map(|c| self.custom_role(c)));
        Ok(roles)
    }

    /// The role `key` in `org`, built-in or custom.
    pub(crate) async fn find_role(&self, tx: &mut dyn ReadTx, org: OrgId, key: &str) -> Result<Option<Role>> {
        if let Some(role) = self.preset.role(key) {
            return Ok(Some(role.clone()));
        }
        Ok(tx.custom_roles(org).await?.iter().find(|c| c.key == key).map(|c| self.custom_role(c)))
    }

    /// May `actor` give `role` to someone?
    pub(crate) fn check_grant(&self, actor: &OrgAccess, role: &Role) -> Result<()> {
        if role.key == self.preset.owner_role {
            return Err(Error::forbidden(format!(
                "the `{}` role is only given by transferring ownership",
                self.preset.owner_role
            )));
        }
        let missing = role.permissions.minus(actor.permissions);
        if !missing.is_empty() {
            return Err(Error::forbidden(format!(
                "the role `{}` grants {} which {} does not have",
                role.key,
                self.preset.catalog.names(missing).join(", "),
                actor.described()
            )));
        }
        // A custom role holding a permission that only restricted built-in roles hold would hand
        // out part of a restricted role ("admin minus one permission") past its `assignable_by`:
        // it inherits the restriction of every such role, so the strictest one applies.
        let restricted_held = self.restricted_permissions().intersection(role.permissions);
        let inherited = self
            .preset
            .roles
            .iter()
            .filter(|built_in| !role.built_in && !built_in.permissions.intersection(restricted_held).is_empty())
            .filter_map(|built_in| built_in.assignable_by.as_ref().map(|allowed| (built_in.key.as_str(), allowed)));
        let restrictions =
            role.assignable_by.as_ref().map(|allowed| (role.key.as_str(), allowed)).into_iter().chain(inherited);
        for (restricted, allowed) in restrictions {
            let granter_allowed = match &actor.standing {
                Standing::Member { role: own, .. } => allowed.contains(&own.key),
                Standing::Operator { .. } => true,
                Standing::Key { .. } => false,
            };
            if !granter_allowed {
                let who = allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" or ");
                let what = if restricted == role.key {
                    format!("the role `{}`", role.key)
                } else {
                    format!("the role `{}`, which holds permissions only `{restricted}` grants", role.key)
                };
                return Err(Error::forbidden(format!("only members with the role {who} may grant {what}")));
            }
        }
        Ok(())
    }

    /// The permissions that, among the built-in roles that can be granted (all but the owner
    /// role), only roles with an `assignable_by` hold.
    fn restricted_permissions(&self) -> PermissionSet {
        let grantable = self.preset.roles.iter().filter(|r| r.key != self.preset.owner_role);
        let (restricted, open) =
            grantable.fold((PermissionSet::EMPTY, PermissionSet::EMPTY), |(restricted, open), r| {
                if r.assignable_by.is_some() {
                    (restricted.union(r.permissions), open)
                } else {
                    (restricted, open.union(r.permissions))
                }
            });
        restricted.minus(open)
    }

    /// May `actor` act on a member (or a role) holding `current`?
    pub(crate) fn check_outranks(&self, actor: &OrgAccess, current: &Role) -> Result<()> {
        let missing = current.permissions.minus(actor.permissions);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Error::forbidden(format!(
                "the role `{}` holds {} which {} does not have",
                current.key,
                self.preset.catalog.names(missing).join(", "),
                actor.described()
            )))
        }
    }

    /// Checks a permission list against the catalog and the actor's own permissions.
    fn parse_role_permissions(&self, actor: &OrgAccess, names: &[String]) -> Result<Vec<String>> {
        let mut set = PermissionSet::EMPTY;
        for (i, name) in names.iter().enumerate() {
            let bit = self.preset.catalog.bit(name).ok_or_else(|| {
                Error::invalid(format!("permissions[{i}]"), format!("`{name}` is not a permission of this deployment"))
            })?;
            set = set.union(bit);
        }
        let missing = set.minus(actor.permissions);
        if !missing.is_empty() {
            return Err(Error::forbidden(format!(
                "a role cannot hold {} which {} does not have",
                self.preset.catalog.names(missing).join(", "),
                actor.described()
            )));
        }
        Ok(self.preset.catalog.names(set))
    }

    pub async fn list_roles(&self, principal: &Principal, reference: &OrgRef) -> Result<Vec<Role>> {
        let mut tx = self.store.read().await?;
        let access = self.org_access(tx.as_mut(), principal, reference).await?;
        self.roles_of(tx.as_mut(), access.org.id).await
    }

    pub async fn create_role(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        input: RoleInput,
        meta: &RequestMeta,
    ) -> Result<Role> {
        let key = parse_role_key(&input.key)?;
        let name = parse_role_name(&input.name)?;
        let mut w = self.org_write(principal, reference, Some(Permission::MembersChangeRole), meta).await?;
        let org = w.org_id();
        self.require_feature(&w.access.org, CUSTOM_ROLES_FEATURE)?;
        let permissions = self.parse_role_permissions(&w.access, &input.permissions)?;
        let exists = || Error::Conflict {
            code: "role_exists",
            message: format!("the role `{key}` already exists"),
            details: Some(json!({ "key": key })),
        };
        if self.find_role(w.tx(), org, &key).await?.is_some() {
            return Err(exists());
        }
        let custom = CustomRole {
            id: RoleId::new(),
            org_id: org,
            key: key.clone(),
            name,
            permissions,
            created_at: self.clock.now(),
        };
        // Nobody defines a role they could not grant.
        self.check_grant(&w.access, &self.custom_role(&custom))?;
        let stale = w.tx().insert_custom_role(&custom).await.map_err(|e| match e {
            StoreError::Unique(_) => exists(),
            other => other.into(),
        })?;
        w.invalidate(stale);
        let metadata = json!({ "id": custom.id.to_string(), "name": custom.name, "permissions": custom.permissions });
        w.commit(Event::new("role.created", Target::new("role", &custom.key), metadata)).await?;
        Ok(self.custom_role(&custom))
    }

    pub async fn update_role(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        key: &str,
        patch: RolePatch,
        meta: &RequestMeta,
    ) -> Result<Role> {
        let name = patch.name.as_deref().map(parse_role_name).transpose()?;
        let mut w = self.org_write(principal, reference, Some(Permission::MembersChangeRole), meta).await?;
        let org = w.org_id();
        let mut custom = self.editable_role(w.tx(), org, key).await?;
        self.require_feature(&w.access.org, CUSTOM_ROLES_FEATURE)?;
        self.check_outranks(&w.access, &self.custom_role(&custom))?;
        let before = custom.clone();
        if let Some(name) = name {
            custom.name = name;
        }
        if let Some(permissions) = &patch.permissions {
            custom.permissions = self.parse_role_permissions(&w.access, permissions)?;
        }
        if custom.name == before.name && custom.permissions == before.permissions {
            return Ok(self.custom_role(&custom));
        }
        // Widening a role grants the new permissions to everyone holding it.
        self.check_grant(&w.access, &self.custom_role(&custom))?;
        let stale = w.tx().update_custom_role(&custom).await?;
        w.invalidate(stale);
        let metadata = json!({
            "before": { "name": before.name, "permissions": before.permissions },
            "after": { "name": custom.name, "permissions": custom.permissions },
        });
        w.commit(Event::new("role.updated", Target::new("role", &custom.key), metadata)).await?;
        Ok(self.custom_role(&custom))
    }

    /// Deletes a custom role. Members holding it block the deletion unless `reassign_to` names
    /// the role they move to.
    pub async fn delete_role(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        key: &str,
        reassign_to: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<()> {
        let mut w = self.org_write(principal, reference, Some(Permission::MembersChangeRole), meta).await?;
        let org = w.org_id();
        let custom = self.editable_role(w.tx(), org, key).await?;
        self.check_outranks(&w.access, &self.custom_role(&custom))?;
        let holders = w.tx().count_members_with_role(org, key).await?;
        let mut moved = 0;
        if holders > 0 {
            let Some(target_key) = reassign_to else {
                return Err(Error::Conflict {
                    code: "role_in_use",
                    message: format!("{holders} member(s) hold the role `{key}`; name a role to reassign them to"),
                    details: Some(json!({ "members": holders })),
                });
            };
            if target_key == key {
                return Err(Error::invalid("reassign_to", "must be another role"));
            }
            let target = self
                .find_role(w.tx(), org, target_key)
                .await?
                .ok_or_else(|| Error::invalid("reassign_to", format!("`{target_key}` is not a role of this org")))?;
            self.check_grant(&w.access, &target)?;
            let (count, stale) = w.tx().reassign_role(org, key, target_key).await?;
            w.invalidate(stale);
            moved = count;
        }
        let stale = w.tx().delete_custom_role(org, key).await?.ok_or(Error::NotFound("role"))?;
        w.invalidate(stale);
        let metadata = json!({ "reassigned_to": reassign_to.filter(|_| moved > 0), "members_moved": moved });
        w.commit(Event::new("role.deleted", Target::new("role", key), metadata)).await?;
        Ok(())
    }

    /// A custom role of the org; built-ins are refused, unknown keys are not found.
    async fn editable_role(&self, tx: &mut dyn ReadTx, org: OrgId, key: &str) -> Result<CustomRole> {
        if self.preset.role(key).is_some() {
            return Err(Error::forbidden(format!("`{key}` is a built-in role of the preset and cannot be changed")));
        }
        tx.custom_roles(org).await?.into_iter().find(|c| c.key == key).ok_or(Error::NotFound("role"))
    }

    /// The roles of `org` as cached for authorization checks.
    pub(crate) async fn cached_custom_roles(&self, org: OrgId) -> Result<Arc<Vec<Role>>> {
        if let Some(roles) = self.grants.custom_roles(org) {
            return Ok(roles);
        }
        let seen = self.grants.generation();
        let custom = self.store.read().await?.custom_roles(org).await?;
        let roles = Arc::new(custom.iter().map(|c| self.custom_role(c)).collect::<Vec<_>>());
        self.grants.fill_custom_roles(org, roles.clone(), seen);
        Ok(roles)
    }
}
