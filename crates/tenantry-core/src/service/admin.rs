//! The instance administrator: the admin token; every org and user, searchable; creating an org
//! for a user; adding a member directly; suspending accounts; and the outbox's contents. The server admits only the admin token to these operations; their
//! audit events name the actor `admin`.
//!
//! Adding a member directly follows the rules of any grant (never the owner role) and the plan's
//! member limit: the admin changes the plan first to go beyond it, so what an org has always
//! matches what it pays for.
//!
//! Suspending a user revokes all their sessions at once, so their refresh tokens stop working
//! immediately and their access tokens on the next request; unsuspending lets them log in again.

use serde_json::{json, Value};

use super::events::objects;
use super::orgs::NewOrg;
use super::unit_of_work::{Change, Event};
use super::{Admin, Principal, RequestMeta};
use crate::domain::audit::Target;
use crate::domain::ids::{MembershipId, OrgRef, UserId};
use crate::domain::models::{Member, MemberStatus, Membership, Org, OrgWithRole, OutboxMessage, User, UserStatus};
use crate::domain::pagination::{Page, PageRequest};
use crate::domain::secret::hash_token;
use crate::{Error, Result};

/// The longest search text.
pub const MAX_QUERY_CHARS: usize = 100;

/// An org the admin creates on a user's behalf.
pub struct AdminNewOrg {
    pub owner_id: UserId,
    pub name: String,
    pub slug: Option<String>,
    pub metadata: Option<Value>,
}

fn parse_query(query: Option<&str>) -> Result<Option<&str>> {
    match query.map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) if q.chars().count() > MAX_QUERY_CHARS => {
            Err(Error::invalid("q", format!("must be at most {MAX_QUERY_CHARS} characters")))
        }
        other => Ok(other),
    }
}

const ADMIN_TOKEN_SECRET: &str = "admin_token_sha256";

/// How the instance admin token was settled at start-up.
pub enum AdminToken {
    /// From configuration; nothing is stored.
    Configured(String),
    /// Generated now: shown this once, only its hash is kept.
    Generated(String),
    /// Generated on an earlier start; only the hash is known.
    Stored,
}

impl Admin<'_> {
    /// Settles the admin token: the configured one, else the stored hash, else a new random
    /// token whose hash is stored. Returns the token's hash and how it was settled.
    pub async fn settle_admin_token(&self, configured: Option<&str>) -> Result<(String, AdminToken)> {
        if let Some(token) = configured {
            return Ok((hash_token(token), AdminToken::Configured(token.to_owned())));
        }
        let mut w = self.bookkeeping().await?;
        if let Some(hash) = w.tx().instance_secret(ADMIN_TOKEN_SECRET).await? {
            return Ok((hash, AdminToken::Stored));
        }
        let token = format!("tnadm_{}", self.issue_token().plain);
        let hash = hash_token(&token);
        w.tx().set_instance_secret(ADMIN_TOKEN_SECRET, &hash).await?;
        w.commit().await?;
        Ok((hash, AdminToken::Generated(token)))
    }

    /// Replaces the stored admin token with a new one and returns it (shown once).
    pub async fn rotate_admin_token(&self) -> Result<String> {
        let token = format!("tnadm_{}", self.issue_token().plain);
        let mut w = self.bookkeeping().await?;
        w.tx().set_instance_secret(ADMIN_TOKEN_SECRET, &hash_token(&token)).await?;
        w.commit().await?;
        Ok(token)
    }

    /// Every org by id, or those whose slug or name contains `query`.
    pub async fn admin_list_orgs(&self, query: Option<&str>, page: &PageRequest) -> Result<Page<Org>> {
        let query = parse_query(query)?;
        let rows = self.store.read().await?.search_orgs(query, page).await?;
        Ok(Page::from_rows(rows, page, |org| org.id.to_string()))
    }

    /// Every user by id, or those whose email or display name contains `query`.
    pub async fn admin_list_users(&self, query: Option<&str>, page: &PageRequest) -> Result<Page<User>> {
        let query = parse_query(query)?;
        let rows = self.store.read().await?.search_users(query, page).await?;
        Ok(Page::from_rows(rows, page, |user| user.id.to_string()))
    }

    pub async fn admin_create_org(&self, new: AdminNewOrg, meta: &RequestMeta) -> Result<OrgWithRole> {
        let owner = new.owner_id;
        let mut w = self.write(meta).await?;
        if w.tx().user(owner).await?.is_none() {
            return Err(Error::invalid("owner_id", "no user has this id"));
        }
        let new = NewOrg { name: new.name, slug: new.slug, metadata: new.metadata, is_personal: false };
        let created = self.orgs().insert_org(&mut w, owner, new).await?;
        let org = &created.org;
        let metadata = json!({ "name": org.name, "slug": org.slug, "owner_id": owner.to_string() });
        let event =
            Event::new("org.created", Target::new("organization", org.id), metadata).with_object(objects::org(org));
        w.commit(Change { org: Some(org.id), actor: Principal::Admin.actor(), event }).await?;
        Ok(created)
    }

    /// Makes a user a member of an org with `role`, without an invitation.
    pub async fn admin_add_member(
        &self,
        reference: &OrgRef,
        user_id: UserId,
        role_key: &str,
        meta: &RequestMeta,
    ) -> Result<Member> {
        let mut w = self.operator_write(&Principal::Admin, reference, None, meta).await?;
        let org = w.org_id();
        let user = w.tx().user(user_id).await?.ok_or_else(|| Error::invalid("user_id", "no user has this id"))?;
        let role = self
            .roles()
            .find_role(w.tx(), org, role_key)
            .await?
            .ok_or_else(|| Error::invalid("role", format!("`{role_key}` is not a role of this org")))?;
        self.roles().check_grant(&w.access, &role)?;
        if w.tx().membership(org, user_id).await?.is_some() {
            return Err(Error::Conflict {
                code: "already_member",
                message: "this user is already a member of the organization".into(),
                details: Some(json!({ "user_id": user_id.to_string() })),
            });
        }
        // The member limit counts pending invitations too, as when inviting.
        let org_record = w.access.org.clone();
        self.invitations().ensure_member_room(w.tx(), &org_record, self.clock.now(), false).await?;
        let membership = Membership {
            id: MembershipId::new(),
            org_id: org,
            user_id,
            role: role.key.clone(),
            status: MemberStatus::Active,
            joined_at: self.clock.now(),
        };
        let stale = w.tx().insert_membership(&membership).await?;
        w.invalidate(stale);
        let event = Event::new("member.added", Target::new("user", user_id), json!({ "role": role.key }))
            .with_object(objects::membership(&membership));
        w.commit(event).await?;
        Ok(Member { membership, email: user.email, display_name: user.display_name, team_ids: Vec::new() })
    }

    /// Suspends (ending every session at once) or reinstates a user.
    pub async fn admin_set_suspended(&self, id: UserId, suspended: bool, meta: &RequestMeta) -> Result<User> {
        let status = if suspended { UserStatus::Suspended } else { UserStatus::Active };
        let mut w = self.write(meta).await?;
        let mut user = w.tx().user(id).await?.ok_or(Error::NotFound("user"))?;
        if user.status == status {
            return Ok(user);
        }
        let stale = w.tx().set_user_status(id, status).await?.ok_or(Error::NotFound("user"))?;
        w.invalidate(stale);
        if suspended {
            let stale = w.tx().revoke_user_sessions(id, self.clock.now()).await?;
            w.invalidate(stale);
        }
        let action = if suspended { "user.suspended" } else { "user.unsuspended" };
        let event = Event::new(action, Target::new("user", id), json!({ "sessions_revoked": suspended }));
        w.commit(Change { org: None, actor: Principal::Admin.actor(), event }).await?;
        user.status = status;
        Ok(user)
    }

    pub async fn admin_list_outbox(&self, page: &PageRequest) -> Result<Page<OutboxMessage>> {
        let rows = self.store.read().await?.list_outbox(page).await?;
        Ok(Page::from_rows(rows, page, |m| m.id.to_string()))
    }
}
