//! Members: list them, read one, change a role or a status (suspend), remove someone, leave, and send someone
//! a password reset.
//!
//! The owner is never demoted, suspended, removed or allowed to leave: ownership is transferred
//! first, so an org always has exactly one owner who can act. Nobody changes their own role or
//! status. A suspended member keeps the seat and the role, and is refused everywhere in the org
//! (see `access.rs`) until unsuspended.

use std::sync::Arc;

use serde_json::json;

use super::events::objects;
use super::unit_of_work::{Event, OrgWrite};
use super::{Members, Principal, RequestMeta};
use crate::caches::member_pages::ListedPage;
use crate::domain::audit::Target;
use crate::domain::ids::{OrgId, OrgRef, UserId};
use crate::domain::models::{Member, MemberStatus};
use crate::domain::pagination::{Page, PageRequest};
use crate::domain::permission::{Permission, Role};
use crate::store::ReadTx;
use crate::{Error, Result};

/// What `PATCH …/members/{user}` changes; at least one of them.
#[derive(Debug, Clone, Default)]
pub struct MemberPatch {
    pub role: Option<String>,
    pub status: Option<MemberStatus>,
}

fn last_owner() -> Error {
    Error::conflict("last_owner", "the owner cannot be demoted, removed or leave; transfer ownership first")
}

impl Members<'_> {
    /// Any member (and any of the org's keys) may list the members. A member's standing comes
    /// from the caches behind `authorize`, and pages from `MemberPageCache`, so a page read
    /// before usually costs no database read at all.
    pub async fn list_members(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        page: &PageRequest,
    ) -> Result<Arc<ListedPage>> {
        let org = match principal {
            Principal::User(user) => self.member_org(user.user_id, reference).await?,
            _ => {
                let mut tx = self.store.read().await?;
                self.org_access(tx.as_mut(), principal, reference).await?.org.id
            }
        };
        if let Some(cached) = self.member_pages.page(org, page) {
            return Ok(cached);
        }
        let epoch = self.member_pages.epoch(org);
        let rows = self.store.read().await?.list_members(org, page).await?;
        let listed = Arc::new(ListedPage::new(Page::from_rows(rows, page, |m| m.membership.id.to_string())));
        self.member_pages.fill(org, page, listed.clone(), epoch);
        Ok(listed)
    }

    /// The member `user` of the org, as seen by `access`'s holder.
    async fn find_member(&self, tx: &mut dyn ReadTx, org: OrgId, user: UserId) -> Result<Member> {
        tx.member(org, user).await?.ok_or(Error::NotFound("member"))
    }

    pub async fn get_member(&self, principal: &Principal, reference: &OrgRef, user: UserId) -> Result<Member> {
        let mut tx = self.store.read().await?;
        let access = self.org_access(tx.as_mut(), principal, reference).await?;
        self.find_member(tx.as_mut(), access.org.id, user).await
    }

    pub async fn change_member_role(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        user: UserId,
        role_key: &str,
        meta: &RequestMeta,
    ) -> Result<Member> {
        let patch = MemberPatch { role: Some(role_key.to_owned()), status: None };
        self.update_member(principal, reference, user, &patch, meta).await
    }

    /// Changes a member's role (`members.change_role`) and/or status (`members.remove`: suspending
    /// is removal that keeps the seat), in one transaction. What is already so is left alone.
    pub async fn update_member(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        user: UserId,
        patch: &MemberPatch,
        meta: &RequestMeta,
    ) -> Result<Member> {
        if patch.role.is_none() && patch.status.is_none() {
            return Err(Error::invalid("role", "name a `role` or a `status` to change"));
        }
        let mut w = self.org_write(principal, reference, None, meta).await?;
        if patch.role.is_some() {
            w.require(Permission::MembersChangeRole)?;
        }
        if patch.status.is_some() {
            w.require(Permission::MembersRemove)?;
        }
        let org = w.org_id();
        let mut member = self.find_member(w.tx(), org, user).await?;
        // Checked against the role the member holds now, before this patch changes it.
        let current = self.resolve_role(w.tx(), org, &member.membership.role).await?;
        let mut events = Vec::new();
        if let Some(role_key) = &patch.role {
            events.extend(self.set_role(&mut w, &mut member, &current, role_key).await?);
        }
        if let Some(status) = patch.status {
            events.extend(self.set_status(&mut w, &mut member, &current, status).await?);
        }
        let Some(last) = events.pop() else { return Ok(member) };
        for event in events {
            w.audit(event).await?;
        }
        w.commit(last).await?;
        Ok(member)
    }

    /// The role part of `update_member`: its event, unless the member holds the role already.
    async fn set_role(
        &self,
        w: &mut OrgWrite<'_>,
        member: &mut Member,
        current: &Role,
        role_key: &str,
    ) -> Result<Option<Event>> {
        let org = w.org_id();
        let target = member.membership.user_id;
        if w.access.user_id() == Some(target) {
            return Err(Error::forbidden("nobody changes their own role; ask another admin"));
        }
        if member.membership.role == self.preset.owner_role {
            return Err(last_owner());
        }
        let new_role = self
            .roles()
            .find_role(w.tx(), org, role_key)
            .await?
            .ok_or_else(|| Error::invalid("role", format!("`{role_key}` is not a role of this org")))?;
        self.roles().check_grant(&w.access, &new_role)?;
        self.roles().check_outranks(&w.access, current)?;
        if current.key == new_role.key {
            return Ok(None);
        }
        let stale = w.tx().set_member_role(org, target, &new_role.key).await?.ok_or(Error::NotFound("member"))?;
        w.invalidate(stale);
        let metadata = json!({ "from": current.key, "to": new_role.key });
        member.membership.role = new_role.key;
        let event = Event::new("member.role_changed", Target::new("user", target), metadata)
            .with_object(objects::membership(&member.membership));
        Ok(Some(event))
    }

    /// The status part of `update_member`: its event (`member.suspended` or
    /// `member.unsuspended`), unless the member has that status already. Never the owner (an org
    /// must always have an owner who can act), never oneself (nobody locks themselves out, nor
    /// lifts their own suspension), and only members the caller outranks, as for removal.
    async fn set_status(
        &self,
        w: &mut OrgWrite<'_>,
        member: &mut Member,
        current: &Role,
        status: MemberStatus,
    ) -> Result<Option<Event>> {
        let org = w.org_id();
        let target = member.membership.user_id;
        if w.access.user_id() == Some(target) {
            return Err(Error::forbidden("nobody suspends or unsuspends themselves; ask another admin"));
        }
        if member.membership.role == self.preset.owner_role {
            return Err(Error::conflict("last_owner", "the owner cannot be suspended; transfer ownership first"));
        }
        self.roles().check_outranks(&w.access, current)?;
        if member.membership.status == status {
            return Ok(None);
        }
        let stale = w.tx().set_member_status(org, target, status).await?.ok_or(Error::NotFound("member"))?;
        w.invalidate(stale);
        member.membership.status = status;
        let action = match status {
            MemberStatus::Suspended => "member.suspended",
            MemberStatus::Active => "member.unsuspended",
        };
        let event = Event::new(action, Target::new("user", target), json!({ "role": current.key }))
            .with_object(objects::membership(&member.membership));
        Ok(Some(event))
    }

    /// Removes a member. A member removing themselves is leaving.
    pub async fn remove_member(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        user: UserId,
        meta: &RequestMeta,
    ) -> Result<()> {
        // Leaving needs no permission; removing someone else needs `members.remove`.
        let mut w = self.org_write(principal, reference, None, meta).await?;
        let org = w.org_id();
        let member = self.find_member(w.tx(), org, user).await?;
        let target = member.membership.user_id;
        let leaving = w.access.user_id() == Some(target);
        if !leaving {
            w.require(Permission::MembersRemove)?;
        }
        if member.membership.role == self.preset.owner_role {
            return Err(last_owner());
        }
        if !leaving {
            let current = self.resolve_role(w.tx(), org, &member.membership.role).await?;
            self.roles().check_outranks(&w.access, &current)?;
        }
        let action = if leaving { "member.left" } else { "member.removed" };
        self.delete_member(w, target, action).await
    }

    pub async fn leave_org(&self, principal: &Principal, reference: &OrgRef, meta: &RequestMeta) -> Result<()> {
        let user = principal.user()?;
        let mut w = self.write(meta).await?;
        let access = self.member_access_to_leave(w.tx(), user.user_id, reference).await?;
        if access.role().is_some_and(|r| r.key == self.preset.owner_role) {
            return Err(last_owner());
        }
        self.delete_member(w.in_org(access), user.user_id, "member.left").await
    }

    async fn delete_member(&self, mut w: OrgWrite<'_>, user: UserId, action: &'static str) -> Result<()> {
        let org = w.org_id();
        let stale = w.tx().delete_membership(org, user).await?.ok_or(Error::NotFound("member"))?;
        w.invalidate(stale);
        let object = json!({ "org_id": org.to_string(), "user_id": user.to_string() });
        w.commit(Event::new(action, Target::new("user", user), json!({})).with_object(object)).await?;
        Ok(())
    }

    /// Emails the member a password reset link (`org.manage`), like the one they could request
    /// themselves. Only for members the caller outranks, so nobody can pester the owner.
    pub async fn send_member_password_reset(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        user: UserId,
        meta: &RequestMeta,
    ) -> Result<()> {
        let mut w = self.org_write(principal, reference, Some(Permission::OrgManage), meta).await?;
        let org = w.org_id();
        let member = self.find_member(w.tx(), org, user).await?;
        let target = member.membership.user_id;
        if w.access.user_id() != Some(target) {
            let current = self.resolve_role(w.tx(), org, &member.membership.role).await?;
            self.roles().check_outranks(&w.access, &current)?;
        }
        let account = w.tx().user(target).await?.ok_or(Error::NotFound("member"))?;
        self.accounts().queue_password_reset(&mut w, &account).await?;
        w.commit(Event::new("member.password_reset_requested", Target::new("user", target), json!({}))).await?;
        Ok(())
    }
}
