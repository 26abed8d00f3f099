//! Members: read one, change a role, remove someone, leave, and send someone a password reset.
//!
//! The owner is never demoted, removed or allowed to leave: ownership is transferred first, so an
//! org always has exactly one owner. Nobody changes their own role.

use serde_json::json;

use super::access::OrgAccess;
use super::audit::Change;
use super::{Principal, RequestMeta, Tenantry};
use crate::domain::audit::Target;
use crate::domain::ids::UserId;
use crate::domain::models::Member;
use crate::store::{CacheChange, Tx};
use crate::{Error, Result};

fn last_owner() -> Error {
    Error::conflict("last_owner", "the owner cannot be demoted, removed or leave; transfer ownership first")
}

impl Tenantry {
    /// The member `user` of the org, as seen by `access`'s holder.
    async fn find_member(&self, tx: &mut dyn Tx, access: &OrgAccess, user: &str) -> Result<Member> {
        let user: UserId = user.parse().map_err(|_| Error::NotFound("member"))?;
        tx.member(access.org.id, user).await?.ok_or(Error::NotFound("member"))
    }

    pub async fn get_member(&self, principal: &Principal, reference: &str, user: &str) -> Result<Member> {
        let mut tx = self.store.read().await?;
        let access = self.org_access(tx.as_mut(), principal, reference).await?;
        self.find_member(tx.as_mut(), &access, user).await
    }

    pub async fn change_member_role(
        &self,
        principal: &Principal,
        reference: &str,
        user: &str,
        role_key: &str,
        meta: &RequestMeta,
    ) -> Result<Member> {
        let mut tx = self.store.write().await?;
        let access = self.org_access(tx.as_mut(), principal, reference).await?;
        self.require(&access, "members.change_role")?;
        let mut member = self.find_member(tx.as_mut(), &access, user).await?;
        let target = member.membership.user_id;
        if access.user_id() == Some(target) {
            return Err(Error::forbidden("nobody changes their own role; ask another admin"));
        }
        if member.membership.role == self.preset.owner_role {
            return Err(last_owner());
        }
        let new_role = self
            .find_role(tx.as_mut(), access.org.id, role_key)
            .await?
            .ok_or_else(|| Error::invalid("role", format!("`{role_key}` is not a role of this org")))?;
        self.check_grant(&access, &new_role)?;
        let current = self.resolve_role(tx.as_mut(), access.org.id, &member.membership.role).await?;
        self.check_outranks(&access, &current)?;
        if current.key == new_role.key {
            return Ok(member);
        }
        tx.set_member_role(access.org.id, target, &new_role.key).await?;
        self.record(
            tx.as_mut(),
            Change {
                org: Some(access.org.id),
                actor: access.actor(),
                action: "member.role_changed",
                target: Target::new("user", target),
                meta,
                metadata: json!({ "from": current.key, "to": new_role.key }),
            },
        )
        .await?;
        self.commit(tx, &[CacheChange::Member { org: access.org.id, user: target }]).await?;
        member.membership.role = new_role.key;
        Ok(member)
    }

    /// Removes a member. A member removing themselves is leaving.
    pub async fn remove_member(
        &self,
        principal: &Principal,
        reference: &str,
        user: &str,
        meta: &RequestMeta,
    ) -> Result<()> {
        let mut tx = self.store.write().await?;
        let access = self.org_access(tx.as_mut(), principal, reference).await?;
        let member = self.find_member(tx.as_mut(), &access, user).await?;
        let target = member.membership.user_id;
        let leaving = access.user_id() == Some(target);
        if !leaving {
            self.require(&access, "members.remove")?;
        }
        if member.membership.role == self.preset.owner_role {
            return Err(last_owner());
        }
        if !leaving {
            let current = self.resolve_role(tx.as_mut(), access.org.id, &member.membership.role).await?;
            self.check_outranks(&access, &current)?;
        }
        let action = if leaving { "member.left" } else { "member.removed" };
        self.delete_member(tx, &access, target, action, meta).await
    }

    pub async fn leave_org(&self, principal: &Principal, reference: &str, meta: &RequestMeta) -> Result<()> {
        let user = principal.user()?;
        let mut tx = self.store.write().await?;
        let access = self.member_access(tx.as_mut(), user.user_id, reference).await?;
        if access.role().is_some_and(|r| r.key == self.preset.owner_role) {
            return Err(last_owner());
        }
        self.delete_member(tx, &access, user.user_id, "member.left", meta).await
    }

    async fn delete_member(
        &self,
        mut tx: Box<dyn Tx>,
        access: &OrgAccess,
        user: UserId,
        action: &'static str,
        meta: &RequestMeta,
    ) -> Result<()> {
        if !tx.delete_membership(access.org.id, user).await? {
            return Err(Error::NotFound("member"));
        }
        self.record(
            tx.as_mut(),
            Change {
                org: Some(access.org.id),
                actor: access.actor(),
                action,
                target: Target::new("user", user),
                meta,
                metadata: json!({}),
            },
        )
        .await?;
        self.commit(tx, &[CacheChange::Member { org: access.org.id, user }]).await?;
        Ok(())
    }

    /// Emails the member a password reset link (`org.manage`), like the one they could request
    /// themselves. Only for members the caller outranks, so nobody can pester the owner.
    pub async fn send_member_password_reset(
        &self,
        principal: &Principal,
        reference: &str,
        user: &str,
        meta: &RequestMeta,
    ) -> Result<()> {
        let mut tx = self.store.write().await?;
        let access = self.org_access(tx.as_mut(), principal, reference).await?;
        self.require(&access, "org.manage")?;
        let member = self.find_member(tx.as_mut(), &access, user).await?;
        let target = member.membership.user_id;
        if access.user_id() != Some(target) {
            let current = self.resolve_role(tx.as_mut(), access.org.id, &member.membership.role).await?;
            self.check_outranks(&access, &current)?;
        }
        let account = tx.user(target).await?.ok_or(Error::NotFound("member"))?;
        let letter = self.queue_password_reset(tx.as_mut(), &account).await?;
        self.record(
            tx.as_mut(),
            Change {
                org: Some(access.org.id),
                actor: access.actor(),
                action: "member.password_reset_requested",
                target: Target::new("user", target),
                meta,
                metadata: json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        self.letter_committed(&letter);
        Ok(())
    }
}
