//! Who may act on an org: resolving `{org}` references and checking a member's permissions.
//! Another org's objects and orgs one does not belong to are reported as not found.

use super::Tenantry;
use crate::domain::ids::{OrgId, UserId};
use crate::domain::models::{Membership, Org};
use crate::domain::permission::Role;
use crate::store::Tx;
use crate::{Error, Result};

/// A caller's standing in one org, loaded inside the transaction that acts on it.
#[derive(Debug, Clone)]
pub struct OrgAccess {
    pub org: Org,
    pub membership: Membership,
    pub role: Role,
}

impl Tenantry {
    /// The org named by an id (`org_…`) or a slug.
    pub(crate) async fn find_org(&self, tx: &mut dyn Tx, reference: &str) -> Result<Org> {
        let found = if reference.starts_with(OrgId::PREFIX) {
            match reference.parse::<OrgId>() {
                Ok(id) => tx.org(id).await?,
                Err(_) => None,
            }
        } else {
            tx.org_by_slug(reference).await?
        };
        found.ok_or(Error::NotFound("organization"))
    }

    /// The caller's membership in the referenced org; not found unless they are a member.
    pub(crate) async fn member_access(&self, tx: &mut dyn Tx, user: UserId, reference: &str) -> Result<OrgAccess> {
        let org = self.find_org(tx, reference).await?;
        let membership = tx.membership(org.id, user).await?.ok_or(Error::NotFound("organization"))?;
        let role = self.resolve_role(tx, org.id, &membership.role).await?;
        Ok(OrgAccess { org, membership, role })
    }

    /// The role a membership holds; every membership's role exists (deleting a role in use
    /// reassigns its members first).
    pub(crate) async fn resolve_role(&self, tx: &mut dyn Tx, org: OrgId, key: &str) -> Result<Role> {
        self.find_role(tx, org, key)
            .await?
            .ok_or_else(|| Error::Internal(format!("a membership holds role `{key}`, which is not defined")))
    }

    /// Refuses unless the member's role holds `permission`.
    pub(crate) fn require(&self, access: &OrgAccess, permission: &str) -> Result<()> {
        let bit = self
            .preset
            .catalog
            .bit(permission)
            .ok_or_else(|| Error::Internal(format!("permission `{permission}` is not in the catalog")))?;
        if access.role.permissions.contains_all(bit) {
            Ok(())
        } else {
            Err(Error::forbidden(format!(
                "your role `{}` does not have the permission `{permission}`",
                access.role.key
            )))
        }
    }

    /// The permission keys a role holds, for tokens and `me`.
    pub(crate) fn permission_names(&self, role: &Role) -> Vec<String> {
        self.preset.catalog.names(role.permissions)
    }
}
