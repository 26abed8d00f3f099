//! What a member is shown of an org beyond the API's lists: members found by email or name, and
//! which roles the viewer may hand out. The dashboard asks these questions; the answers come from
//! the same rules the writes enforce (`check_grant`, `check_outranks`), so a page never offers
//! what the server would refuse.

use std::sync::Arc;

use super::access::{OrgAccess, Standing};
use super::accounts::Me;
use super::principal::{Principal, UserPrincipal};
use super::{Directory, Tenantry};
use crate::domain::ids::{OrgId, OrgRef};
use crate::domain::invitation::{Invitation, InvitationState};
use crate::domain::models::Member;
use crate::domain::pagination::{Page, PageRequest};
use crate::domain::permission::{Permission, Role};
use crate::{Error, Result};

/// A role of the org and whether the viewer may give it to someone.
#[derive(Debug, Clone)]
pub struct OfferedRole {
    pub role: Role,
    pub grantable: bool,
}

/// The viewer's standing in an org with every role usable there.
#[derive(Debug, Clone)]
pub struct RoleChoices {
    pub access: OrgAccess,
    pub roles: Vec<OfferedRole>,
}

impl RoleChoices {
    /// May the viewer change or remove a member holding `role`? Owners and oneself are never
    /// offered; the server refuses them anyway.
    pub fn may_act_on(&self, tenantry: &Tenantry, member_role: &str) -> bool {
        self.roles.iter().find(|r| r.role.key == member_role).is_some_and(|r| {
            r.role.key != tenantry.preset().owner_role && tenantry.roles().check_outranks(&self.access, &r.role).is_ok()
        })
    }
}

/// What a page of one org shows around its content: the viewer's standing and the org's roles,
/// the viewer with all their orgs (for the org switcher), and, when asked for and the viewer may
/// invite, the org's pending invitations.
pub struct OrgView {
    pub choices: RoleChoices,
    pub me: Me,
    pub pending_invitations: Option<Arc<[Invitation]>>,
}

/// How many pending invitations an org page lists.
const PENDING_SHOWN: u32 = 100;

impl Directory<'_> {
    /// The viewer's org page frame, from the caches the API's hot paths keep (each read from the
    /// database on a miss, one transaction at a time): the viewer's account with their orgs and
    /// memberships, as `/v1/me` has it, holds the referenced org (an org they are not in is not
    /// found, exactly as for every member route); custom roles come from the cache `authorize`
    /// keeps, and the pending invitations (`with_pending`, for holders of `members.invite`) from
    /// theirs.
    pub async fn org_view(&self, viewer: &UserPrincipal, reference: &OrgRef, with_pending: bool) -> Result<OrgView> {
        let (found, active_org_id) = self.accounts().my_account(viewer).await?;
        let orgs = found.orgs();
        let here = orgs
            .iter()
            .find(|o| match reference {
                OrgRef::Id(id) => o.org.id == *id,
                OrgRef::Slug(slug) => o.org.slug.as_str() == slug,
            })
            .ok_or(Error::NotFound("organization"))?;
        let custom = match self.grants.custom_roles(here.org.id) {
            Some(custom) => custom,
            None => {
                let seen = self.grants.generation();
                let rows = self.store.read().await?.custom_roles(here.org.id).await?;
                let custom = Arc::new(rows.iter().map(|c| self.roles().custom_role(c)).collect::<Vec<_>>());
                self.grants.fill_custom_roles(here.org.id, custom.clone(), seen);
                custom
            }
        };
        let mut roles = self.preset.roles.clone();
        roles.extend(custom.iter().cloned());
        let role = roles.iter().find(|r| r.key == here.membership.role).cloned().ok_or_else(|| {
            Error::Internal(format!("a membership holds role `{}`, which is not defined", here.membership.role))
        })?;
        let access = OrgAccess {
            org: here.org.clone(),
            permissions: role.permissions,
            standing: Standing::Member { membership: here.membership.clone(), role },
        };
        let pending_invitations = if with_pending && self.holds(&access, Permission::MembersInvite) {
            Some(self.first_pending_invitations(access.org.id).await?)
        } else {
            None
        };
        let roles = roles
            .into_iter()
            .map(|role| OfferedRole { grantable: self.roles().check_grant(&access, &role).is_ok(), role })
            .collect();
        Ok(OrgView {
            choices: RoleChoices { access, roles },
            me: Me { user: found.user().clone(), orgs, active_org_id },
            pending_invitations,
        })
    }

    /// The org's first pending invitations (those not answered and not expired), oldest first.
    async fn first_pending_invitations(&self, org: OrgId) -> Result<Arc<[Invitation]>> {
        let now = self.clock.now();
        if let Some(pending) = self.pending_invitations.get(org, now) {
            return Ok(pending);
        }
        let seen = self.pending_invitations.generation();
        let first = PageRequest { after: None, limit: PENDING_SHOWN };
        let listed =
            self.store.read().await?.list_invitations(org, Some(InvitationState::Pending), now, &first).await?;
        Ok(self.pending_invitations.fill(org, listed, seen))
    }

    /// Members of an org whose email or display name contains `query`; any member may search.
    pub async fn search_members(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        query: &str,
        page: &PageRequest,
    ) -> Result<Page<Member>> {
        let mut tx = self.store.read().await?;
        let access = self.org_access(tx.as_mut(), principal, reference).await?;
        let rows = tx.search_members(access.org.id, query.trim(), page).await?;
        Ok(Page::from_rows(rows, page, |m| m.membership.id.to_string()))
    }

    /// The roles of an org, each marked with whether the viewer may grant it.
    pub async fn role_choices(&self, principal: &Principal, reference: &OrgRef) -> Result<RoleChoices> {
        let mut tx = self.store.read().await?;
        let access = self.org_access(tx.as_mut(), principal, reference).await?;
        let roles = self
            .roles()
            .roles_of(tx.as_mut(), access.org.id)
            .await?
            .into_iter()
            .map(|role| OfferedRole { grantable: self.roles().check_grant(&access, &role).is_ok(), role })
            .collect();
        Ok(RoleChoices { access, roles })
    }

    /// Whether the caller's standing grants the catalog permission `key` (e.g. which scopes a
    /// key the caller creates may carry; the operation itself checks again).
    pub fn holds_key(&self, access: &OrgAccess, key: &str) -> bool {
        self.preset.catalog.bit(key).is_some_and(|bit| access.permissions.contains_all(bit))
    }
}
