//! Organizations: create, list, read, rename and edit metadata, list members, and delete.
//!
//! Deleting an org (its owner, confirming with the slug) deletes its row; everything scoped to it
//! — memberships, custom roles, invitations, API keys, usage, settings — goes with it in the same
//! transaction, while users and audit rows stay. A personal org cannot be deleted while it is its
//! owner's only org, so nobody is left without one.

use serde_json::{json, Map, Value};

use super::access::OrgAccess;
use super::events::objects;
use super::unit_of_work::{Change, Event, Unit};
use super::{Orgs, Principal, RequestMeta, UserPrincipal};
use crate::domain::audit::Target;
use crate::domain::ids::{MembershipId, OrgId, OrgRef, UserId};
use crate::domain::models::{MemberStatus, Membership, Org, OrgWithRole};
use crate::domain::pagination::{Page, PageRequest};
use crate::domain::permission::Permission;
use crate::domain::slug::Slug;
use crate::store::{ReadTx, StoreError};
use crate::{Error, Result};

pub const MAX_NAME_CHARS: usize = 100;
/// Metadata is for small facts the host app wants at hand (a team lead, a region), not a
/// document store.
pub const MAX_METADATA_BYTES: usize = 8 * 1024;

pub struct NewOrg {
    pub name: String,
    pub slug: Option<String>,
    pub metadata: Option<Value>,
    pub is_personal: bool,
}

/// A partial update of an org's profile; absent fields stay as they are.
#[derive(Default)]
pub struct OrgPatch {
    pub name: Option<String>,
    pub metadata: Option<Value>,
}

pub fn parse_org_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters, without control characters"),
        ));
    }
    Ok(name.to_owned())
}

pub fn parse_metadata(value: Value) -> Result<Value> {
    if !value.is_object() {
        return Err(Error::invalid("metadata", "must be a JSON object"));
    }
    if value.to_string().len() > MAX_METADATA_BYTES {
        return Err(Error::invalid("metadata", format!("must be at most {MAX_METADATA_BYTES} bytes as JSON")));
    }
    Ok(value)
}

fn slug_taken(slug: &str) -> Error {
    Error::Conflict {
        code: "slug_taken",
        message: format!("the slug `{slug}` is already taken"),
        details: Some(json!({ "slug": slug })),
    }
}

impl Orgs<'_> {
    pub async fn create_org(
        &self,
        principal: &UserPrincipal,
        name: String,
        slug: Option<String>,
        metadata: Option<Value>,
        meta: &RequestMeta,
    ) -> Result<OrgWithRole> {
        let mut w = self.write(meta).await?;
        let created =
            self.insert_org(&mut w, principal.user_id, NewOrg { name, slug, metadata, is_personal: false }).await?;
        let org = &created.org;
        let metadata = json!({ "name": org.name, "slug": org.slug });
        let event =
            Event::new("org.created", Target::new("organization", org.id), metadata).with_object(objects::org(org));
        w.commit(Change { org: Some(created.org.id), ..Change::by_user(principal.user_id, event) }).await?;
        Ok(created)
    }

    /// Creates an org owned by `owner`, with the owner's membership. Callers audit.
    pub(crate) async fn insert_org(&self, w: &mut Unit<'_>, owner: UserId, new: NewOrg) -> Result<OrgWithRole> {
        let tx = w.tx();
        let name = parse_org_name(&new.name)?;
        let metadata = parse_metadata(new.metadata.unwrap_or_else(|| Value::Object(Map::new())))?;
        let slug = match new.slug {
            Some(raw) => {
                let slug = Slug::parse(&raw).map_err(|e| Error::invalid("slug", e))?;
                if tx.slug_exists(&slug).await? {
                    return Err(slug_taken(slug.as_str()));
                }
                slug
            }
            None => self.free_slug_for(tx, &name).await?,
        };
        let now = self.clock.now();
        let org = Org {
            id: OrgId::new(),
            slug,
            name,
            owner_id: owner,
            is_personal: new.is_personal,
            plan: self.preset.default_plan.clone(),
            billing_customer_id: None,
            metadata,
            created_at: now,
            seat_count: 1,
        };
        tx.insert_org(&org).await.map_err(|e| match e {
            StoreError::Unique(_) => slug_taken(org.slug.as_str()),
            other => other.into(),
        })?;
        let membership = Membership {
            id: MembershipId::new(),
            org_id: org.id,
            user_id: owner,
            role: self.preset.owner_role.clone(),
            status: MemberStatus::Active,
            joined_at: now,
        };
        let stale = tx.insert_membership(&membership).await?;
        w.invalidate(stale);
        Ok(OrgWithRole { org, membership })
    }

    /// A slug derived from the name, with a random suffix when the plain one is taken.
    async fn free_slug_for(&self, tx: &mut dyn ReadTx, name: &str) -> Result<Slug> {
        let base = Slug::suggest_from_name(name);
        if let Some(base) = &base {
            if !tx.slug_exists(base).await? {
                return Ok(base.clone());
            }
        }
        for _ in 0..8 {
            let candidate = Slug::with_suffix(base.as_ref(), &self.random_suffix(6));
            if !tx.slug_exists(&candidate).await? {
                return Ok(candidate);
            }
        }
        Err(Error::Internal("could not find a free slug after 8 random tries".into()))
    }

    pub async fn list_my_orgs(&self, principal: &UserPrincipal, page: &PageRequest) -> Result<Page<OrgWithRole>> {
        let mut tx = self.store.read().await?;
        let rows = tx.orgs_of_user(principal.user_id, Some(page)).await?;
        // The cursor is the membership id: the order in which the user joined.
        Ok(Page::from_rows(rows, page, |row| row.membership.id.to_string()))
    }

    /// An org the caller has standing in, with that standing (a member's role).
    pub async fn get_org(&self, principal: &Principal, reference: &OrgRef) -> Result<OrgAccess> {
        let mut tx = self.store.read().await?;
        self.org_access(tx.as_mut(), principal, reference).await
    }

    pub async fn update_org(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        patch: OrgPatch,
        meta: &RequestMeta,
    ) -> Result<OrgAccess> {
        let name = patch.name.as_deref().map(parse_org_name).transpose()?;
        let metadata = patch.metadata.map(parse_metadata).transpose()?;
        let mut w = self.org_write(principal, reference, Some(Permission::OrgManage), meta).await?;
        let before = w.access.org.clone();
        let mut changes = Map::new();
        if let Some(name) = name.filter(|n| *n != before.name) {
            changes.insert("name".into(), json!({ "before": before.name, "after": name }));
            w.access.org.name = name;
        }
        if let Some(metadata) = metadata.filter(|m| *m != before.metadata) {
            changes.insert("metadata".into(), json!({ "before": before.metadata, "after": metadata }));
            w.access.org.metadata = metadata;
        }
        if changes.is_empty() {
            return Ok(w.access);
        }
        let org = w.access.org.clone();
        let stale = w.tx().update_org_profile(&org).await?;
        w.invalidate(stale);
        let event = Event::new("org.updated", Target::new("organization", org.id), Value::Object(changes))
            .with_object(objects::org(&org));
        w.commit(event).await
    }

    /// Deletes an org: its owner, or the instance admin. Either confirms with the slug.
    pub async fn delete_org(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        confirm_slug: &str,
        meta: &RequestMeta,
    ) -> Result<()> {
        let mut w = if matches!(principal, Principal::Admin) {
            self.org_write(principal, reference, None, meta).await?
        } else {
            let user = principal.user()?;
            let mut w = self.write(meta).await?;
            let access = self.member_access(w.tx(), user.user_id, reference).await?;
            if access.org.owner_id != user.user_id {
                return Err(Error::forbidden("only the owner may delete the organization"));
            }
            w.in_org(access)
        };
        let org = w.access.org.clone();
        if confirm_slug != org.slug.as_str() {
            return Err(Error::invalid("confirm_slug", format!("must be the org's slug, `{}`", org.slug)));
        }
        if org.is_personal && w.tx().count_orgs_of_user(org.owner_id).await? <= 1 {
            let message = if w.access.user_id().is_some() {
                "this personal org is your only org; create or join another before deleting it"
            } else {
                "this personal org is its owner's only org; they create or join another before it is deleted"
            };
            return Err(Error::conflict("only_org", message));
        }
        // The event is recorded before the row goes: it belongs to the org's chain.
        let metadata = json!({
            "slug": org.slug.as_str(), "name": org.name, "plan": org.plan,
            "is_personal": org.is_personal, "members": org.seat_count,
        });
        let recorded = w.audit(Event::new("org.deleted", Target::new("organization", org.id), metadata)).await?;
        let stale = w.tx().delete_org(org.id).await?.ok_or(Error::NotFound("organization"))?;
        w.invalidate(stale);
        let (_, w) = w.into_parts();
        w.commit_recorded(recorded).await
    }
}
