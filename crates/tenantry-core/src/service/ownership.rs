//! Ownership transfer: the owner hands the org to another member and becomes an admin.
//!
//! The caller must be the owner, signed in as a user, and re-enter their password (checked with
//! argon2 before the write transaction, and throttled like logins), or the instance admin, who
//! names the new owner alone (the host app's backend manages its orgs; its token is the
//! credential). The target must be a member other than the owner, active both as an account and
//! in the org; a preset may require a role of the target
//! (`transfer_target_roles`: yipyap hands the org only to an admin). The former owner takes the
//! preset's `admin` role (or, in a preset without one, its most powerful other built-in role).
//! The swap is one transaction whose owner update is conditional on the owner it read still being
//! the owner, so of two racing transfers exactly one wins and the org never has zero or two owners.

use serde_json::json;

use super::access::OrgAccess;
use super::unit_of_work::{Event, OrgWrite};
use super::{Orgs, Principal, RequestMeta};
use crate::domain::audit::Target;
use crate::domain::ids::{OrgRef, UserId};
use crate::domain::models::{MemberStatus, Org, UserStatus};
use crate::domain::permission::Permission;
use crate::{Error, Result};

/// The role a former owner takes, when the preset defines it.
pub const FORMER_OWNER_ROLE: &str = "admin";

/// An org after a transfer, with the caller's role in it now (none for the instance admin).
#[derive(Debug, Clone)]
pub struct Transferred {
    pub org: Org,
    pub role: Option<String>,
}

impl Orgs<'_> {
    /// Transfers `reference` to `new_owner`. The owner re-enters their password; the instance
    /// admin, who manages every org for the host app, names the new owner alone.
    pub async fn transfer_ownership(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        new_owner: UserId,
        current_password: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<Transferred> {
        if matches!(principal, Principal::Admin) {
            let w = self.org_write(principal, reference, Some(Permission::OrgTransferOwnership), meta).await?;
            let owner = w.access.org.owner_id;
            let org = self.hand_over(w, owner, new_owner).await?;
            return Ok(Transferred { org, role: None });
        }
        let user = principal.user()?;
        let current_password = current_password
            .ok_or_else(|| Error::invalid("current_password", "is required: re-enter your password"))?;
        let (org_id, account) = {
            let mut tx = self.store.read().await?;
            let access = self.member_access(tx.as_mut(), user.user_id, reference).await?;
            self.require_owner(&access, user.user_id)?;
            let account = tx.user(user.user_id).await?.ok_or(Error::NotFound("user"))?;
            (access.org.id, account)
        };
        self.check_password(&account.email.to_string(), &account.password_hash, current_password, meta).await?;

        let mut w = self.write(meta).await?;
        let access = self.member_access(w.tx(), user.user_id, &OrgRef::Id(org_id)).await?;
        self.require_owner(&access, user.user_id)?;
        let org = self.hand_over(w.in_org(access), user.user_id, new_owner).await?;
        Ok(Transferred { org, role: Some(self.former_owner_role()) })
    }

    /// The swap itself, from `owner` (the owner as the write found the org) to `new_owner`.
    async fn hand_over(&self, mut w: OrgWrite<'_>, owner: UserId, new_owner: UserId) -> Result<Org> {
        let org_id = w.org_id();
        if new_owner == owner {
            return Err(Error::invalid("new_owner_user_id", "is already the owner"));
        }
        let target = w
            .tx()
            .member(org_id, new_owner)
            .await?
            .ok_or_else(|| Error::invalid("new_owner_user_id", "is not a member of this organization"))?;
        if let Some(allowed) = &self.preset.transfer_target_roles {
            if !allowed.contains(&target.membership.role) {
                let names: Vec<String> = allowed.iter().map(|r| format!("`{r}`")).collect();
                return Err(Error::invalid(
                    "new_owner_user_id",
                    format!("ownership can only go to a member with the role {}", names.join(" or ")),
                ));
            }
        }
        if target.membership.status == MemberStatus::Suspended {
            return Err(Error::invalid("new_owner_user_id", "is suspended in this organization"));
        }
        if w.tx().user(new_owner).await?.is_none_or(|u| u.status != UserStatus::Active) {
            return Err(Error::invalid("new_owner_user_id", "is a suspended account"));
        }
        let former_owner_role = self.former_owner_role();
        let owned = w.tx().set_owner(org_id, owner, new_owner).await?;
        let owned = owned.ok_or(Error::conflict("conflict", "ownership changed meanwhile; read the org again"))?;
        w.invalidate(owned);
        let demoted = w.tx().set_member_role(org_id, owner, &former_owner_role).await?;
        let promoted = w.tx().set_member_role(org_id, new_owner, &self.preset.owner_role).await?;
        w.invalidate_all(demoted.into_iter().chain(promoted));
        let metadata = json!({
            "from": owner.to_string(),
            "to": new_owner.to_string(),
            "former_owner_role": former_owner_role,
            "new_owner_previous_role": target.membership.role,
        });
        let access =
            w.commit(Event::new("org.ownership_transferred", Target::new("organization", org_id), metadata)).await?;
        let mut org = access.org;
        org.owner_id = new_owner;
        Ok(org)
    }

    /// Refuses unless the caller owns the org (and so holds `org.transfer_ownership`).
    fn require_owner(&self, access: &OrgAccess, user: UserId) -> Result<()> {
        if access.org.owner_id != user {
            return Err(Error::forbidden("only the owner may transfer ownership"));
        }
        self.require(access, Permission::OrgTransferOwnership)
    }

    /// Re-entered passwords are throttled like logins, per account and client address.
    pub(super) async fn check_password(
        &self,
        email: &str,
        hash: &str,
        password: &str,
        meta: &RequestMeta,
    ) -> Result<()> {
        let ip = meta.ip.as_deref().unwrap_or("unknown");
        let now = self.clock.now();
        if let Some(retry_after_secs) = self.login_throttle.retry_after(email, ip, now) {
            return Err(Error::RateLimited {
                message: "too many wrong passwords; try again later".into(),
                retry_after_secs,
            });
        }
        if !self.passwords.verify(password, Some(hash)).await {
            self.login_throttle.record_failure(email, ip, now);
            return Err(Error::forbidden("current_password is not your password"));
        }
        Ok(())
    }

    /// `admin` where the preset has it, else the built-in role (other than the owner's) holding
    /// the most permissions.
    fn former_owner_role(&self) -> String {
        if self.preset.role(FORMER_OWNER_ROLE).is_some() {
            return FORMER_OWNER_ROLE.to_owned();
        }
        self.preset
            .roles
            .iter()
            .filter(|r| r.key != self.preset.owner_role)
            .max_by_key(|r| r.permissions.bits().count_ones())
            .map_or_else(|| self.preset.default_invite_role.clone(), |r| r.key.clone())
    }
}
