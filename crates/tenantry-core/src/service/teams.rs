//! Teams: create, list, read, edit and delete an org's teams, and manage their members.
//!
//! The org permission `teams.manage` manages every team; a team role holding `team.manage`
//! manages its own team's details and members (not its deletion). Nobody grants a team role
//! holding a permission they hold neither org-wide nor in that team. Team members are always
//! members of the org: the store's keys tie each team membership to an org membership, so
//! leaving or being removed from the org, or the org's deletion, removes them in the same
//! transaction.

use serde_json::{json, Map, Value};

use super::access::OrgAccess;
use super::orgs::{parse_metadata, parse_org_name};
use super::unit_of_work::{Event, OrgWrite};
use super::{Principal, RequestMeta, Teams};
use crate::domain::audit::Target;
use crate::domain::ids::{OrgRef, TeamId, TeamRef, UserId};
use crate::domain::pagination::{Page, PageRequest};
use crate::domain::permission::{Permission, PermissionSet};
use crate::domain::slug::Slug;
use crate::domain::team::{Team, TeamMember, TeamMembership, TeamRole};
use crate::store::{ReadTx, StoreError};
use crate::{Error, Result};

pub const MAX_DESCRIPTION_CHARS: usize = 500;

pub struct NewTeam {
    pub name: String,
    pub slug: Option<String>,
    pub description: Option<String>,
    pub metadata: Option<Value>,
}

/// A partial update of a team; absent fields stay as they are.
#[derive(Default)]
pub struct TeamPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<String>,
    pub metadata: Option<Value>,
}

/// A team as its page shows it: the team, a page of its members, and what the viewer may do.
pub struct TeamOverview {
    pub team: Team,
    pub members: Page<TeamMember>,
    /// Whether the viewer manages the team (org `teams.manage` or `team.manage` in it).
    pub manages: bool,
    /// The team roles the viewer may grant here.
    pub grantable_roles: Vec<TeamRole>,
}

/// What the caller may do in one team: their org permissions plus their team role's, and
/// whether they manage the team.
struct TeamStanding {
    permissions: PermissionSet,
    manages: bool,
    /// Their team role, when they are in the team.
    role: Option<String>,
}

fn parse_description(raw: String) -> Result<String> {
    let description = raw.trim();
    if description.chars().count() > MAX_DESCRIPTION_CHARS || description.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters, without control characters"),
        ));
    }
    Ok(description.to_owned())
}

fn team_slug_taken(slug: &str) -> Error {
    Error::Conflict {
        code: "slug_taken",
        message: format!("the org already has a team with the slug `{slug}`"),
        details: Some(json!({ "slug": slug })),
    }
}

fn not_in_team() -> Error {
    Error::NotFound("team member")
}

impl Teams<'_> {
    /// The team of `org` the reference names; another org's team is not found, like a missing one.
    async fn find_team(&self, tx: &mut dyn ReadTx, access: &OrgAccess, team: &TeamRef) -> Result<Team> {
        tx.team(access.org.id, team).await?.ok_or(Error::NotFound("team"))
    }

    fn team_role_named(&self, key: &str) -> Result<&TeamRole> {
        self.preset.team_role(key).ok_or_else(|| {
            let known: Vec<&str> = self.preset.team_roles.iter().map(|r| r.key.as_str()).collect();
            Error::invalid("role", format!("`{key}` is not a team role (team roles: {})", known.join(", ")))
        })
    }

    async fn team_standing(&self, tx: &mut dyn ReadTx, access: &OrgAccess, team: TeamId) -> Result<TeamStanding> {
        let org_wide = self.holds(access, Permission::TeamsManage);
        let role = match access.user_id() {
            Some(user) => tx.team_member(access.org.id, team, user).await?.map(|m| m.membership.role),
            None => None,
        };
        let team_role = role.as_deref().and_then(|key| self.preset.team_role(key));
        Ok(TeamStanding {
            permissions: team_role.map_or(access.permissions, |r| access.permissions.union(r.permissions)),
            manages: org_wide || team_role.is_some_and(|r| r.manages_team),
            role,
        })
    }

    /// Refuses unless the caller manages the team (org `teams.manage`, or `team.manage` in it).
    async fn require_team_manager(&self, w: &mut OrgWrite<'_>, team: TeamId) -> Result<TeamStanding> {
        let access = w.access.clone();
        let standing = self.team_standing(w.tx(), &access, team).await?;
        if standing.manages {
            return Ok(standing);
        }
        match &standing.role {
            Some(role) => Err(Error::forbidden(format!("your team role `{role}` does not manage this team"))),
            None => self.require(&access, Permission::TeamsManage).map(|()| standing),
        }
    }

    /// Opens a write on a team the caller manages: the team named in the org named, and what
    /// the caller holds there.
    async fn managed_team_write<'a>(
        &'a self,
        principal: &Principal,
        reference: &OrgRef,
        team: &TeamRef,
        meta: &'a RequestMeta,
    ) -> Result<(OrgWrite<'a>, Team, TeamStanding)> {
        let mut w = self.org_write(principal, reference, None, meta).await?;
        let access = w.access.clone();
        let found = self.find_team(w.tx(), &access, team).await?;
        let standing = self.require_team_manager(&mut w, found.id).await?;
        Ok((w, found, standing))
    }

    /// No escalation: the granted team role may hold nothing the granter lacks here.
    fn check_team_grant(&self, standing: &TeamStanding, role: &TeamRole, access: &OrgAccess) -> Result<()> {
        let missing = role.permissions.minus(standing.permissions);
        if !missing.is_empty() {
            return Err(Error::forbidden(format!(
                "the team role `{}` grants {} which {} does not have in this team",
                role.key,
                self.preset.catalog.names(missing).join(", "),
                access.described()
            )));
        }
        Ok(())
    }

    async fn free_team_slug(&self, tx: &mut dyn ReadTx, org: &OrgAccess, name: &str) -> Result<Slug> {
        let base = Slug::suggest_from_name(name);
        if let Some(slug) = &base {
            if tx.team(org.org.id, &TeamRef::Slug(slug.as_str().to_owned())).await?.is_none() {
                return Ok(slug.clone());
            }
        }
        loop {
            let suffix = self.random_suffix(6);
            let slug = match &base {
                Some(base) => Slug::with_suffix(Some(base), &suffix),
                None => Slug::parse(&format!("team-{suffix}")).expect("`team-` and a lowercase suffix is a slug"),
            };
            if tx.team(org.org.id, &TeamRef::Slug(slug.as_str().to_owned())).await?.is_none() {
                return Ok(slug);
            }
        }
    }

    pub async fn list_teams(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        page: &PageRequest,
    ) -> Result<Page<Team>> {
        let mut tx = self.store.read().await?;
        let access = self.org_access(tx.as_mut(), principal, reference).await?;
        let rows = tx.list_teams(access.org.id, page).await?;
        Ok(Page::from_rows(rows, page, |t| t.id.to_string()))
    }

    pub async fn get_team(&self, principal: &Principal, reference: &OrgRef, team: &TeamRef) -> Result<Team> {
        let mut tx = self.store.read().await?;
        let access = self.org_access(tx.as_mut(), principal, reference).await?;
        self.find_team(tx.as_mut(), &access, team).await
    }

    /// Creates a team (`teams.manage`), within the plan's `teams` limit.
    pub async fn create_team(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        new: NewTeam,
        meta: &RequestMeta,
    ) -> Result<Team> {
        let name = parse_org_name(&new.name)?;
        let description = parse_description(new.description.unwrap_or_default())?;
        let metadata = parse_metadata(new.metadata.unwrap_or_else(|| Value::Object(Map::new())))?;
        let explicit_slug = new.slug.map(|raw| Slug::parse(&raw).map_err(|e| Error::invalid("slug", e))).transpose()?;
        // The org's row is locked by the write, so concurrent creations count one after another.
        let mut w = self.org_write(principal, reference, Some(Permission::TeamsManage), meta).await?;
        let access = w.access.clone();
        self.ensure_team_room(w.tx(), &access).await?;
        let slug = match explicit_slug {
            Some(slug) => {
                if w.tx().team(access.org.id, &TeamRef::Slug(slug.as_str().to_owned())).await?.is_some() {
                    return Err(team_slug_taken(slug.as_str()));
                }
                slug
            }
            None => self.free_team_slug(w.tx(), &access, &name).await?,
        };
        let team = Team {
            id: TeamId::new(),
            org_id: access.org.id,
            slug,
            name,
            description,
            metadata,
            created_at: self.clock.now(),
            member_count: 0,
        };
        let stale = w.tx().insert_team(&team).await.map_err(|e| match e {
            StoreError::Unique(_) => team_slug_taken(team.slug.as_str()),
            other => other.into(),
        })?;
        w.invalidate(stale);
        let metadata = json!({ "name": team.name, "slug": team.slug });
        w.commit(Event::new("team.created", Target::new("team", team.id), metadata)).await?;
        Ok(team)
    }

    async fn ensure_team_room(&self, tx: &mut dyn ReadTx, access: &OrgAccess) -> Result<()> {
        let org = &access.org;
        let Some(max) = self.preset.plan(&org.plan).and_then(|p| p.teams) else {
            return Ok(());
        };
        let teams = tx.count_teams(org.id).await?;
        if teams < max {
            return Ok(());
        }
        Err(Error::PlanLimit {
            message: format!(
                "the `{}` plan allows {max} team(s) and {} has {teams}: upgrade the plan or delete a team",
                org.plan, org.name
            ),
            details: json!({ "limit": "teams", "plan": org.plan, "max": max, "teams": teams }),
        })
    }

    /// Edits a team's name, slug, description or metadata (its managers).
    pub async fn update_team(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        team: &TeamRef,
        patch: TeamPatch,
        meta: &RequestMeta,
    ) -> Result<Team> {
        let name = patch.name.as_deref().map(parse_org_name).transpose()?;
        let description = patch.description.map(parse_description).transpose()?;
        let metadata = patch.metadata.map(parse_metadata).transpose()?;
        let slug = patch.slug.map(|raw| Slug::parse(&raw).map_err(|e| Error::invalid("slug", e))).transpose()?;
        let (mut w, mut found, _) = self.managed_team_write(principal, reference, team, meta).await?;
        let access = w.access.clone();
        let mut changed = Map::new();
        if let Some(name) = name.filter(|n| *n != found.name) {
            changed.insert("name".into(), json!({ "from": found.name, "to": name }));
            found.name = name;
        }
        if let Some(slug) = slug.filter(|s| *s != found.slug) {
            if w.tx().team(access.org.id, &TeamRef::Slug(slug.as_str().to_owned())).await?.is_some() {
                return Err(team_slug_taken(slug.as_str()));
            }
            changed.insert("slug".into(), json!({ "from": found.slug, "to": slug }));
            found.slug = slug;
        }
        if let Some(description) = description.filter(|d| *d != found.description) {
            changed.insert("description".into(), json!({ "to": description }));
            found.description = description;
        }
        if let Some(metadata) = metadata.filter(|m| *m != found.metadata) {
            changed.insert("metadata".into(), json!({ "to": metadata }));
            found.metadata = metadata;
        }
        if changed.is_empty() {
            return Ok(found);
        }
        let stale = w.tx().update_team(&found).await.map_err(|e| match e {
            StoreError::Unique(_) => team_slug_taken(found.slug.as_str()),
            other => other.into(),
        })?;
        w.invalidate(stale);
        w.commit(Event::new("team.updated", Target::new("team", found.id), Value::Object(changed))).await?;
        Ok(found)
    }

    /// Deletes a team and its memberships (`teams.manage`).
    pub async fn delete_team(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        team: &TeamRef,
        meta: &RequestMeta,
    ) -> Result<()> {
        let mut w = self.org_write(principal, reference, Some(Permission::TeamsManage), meta).await?;
        let access = w.access.clone();
        let found = self.find_team(w.tx(), &access, team).await?;
        let stale = w.tx().delete_team(access.org.id, found.id).await?.ok_or(Error::NotFound("team"))?;
        w.invalidate(stale);
        let metadata = json!({ "name": found.name, "slug": found.slug, "member_count": found.member_count });
        w.commit(Event::new("team.deleted", Target::new("team", found.id), metadata)).await?;
        Ok(())
    }

    /// The team, a page of its members and what the viewer may do there, in one read.
    pub async fn team_overview(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        team: &TeamRef,
        page: &PageRequest,
    ) -> Result<TeamOverview> {
        let mut tx = self.store.read().await?;
        let access = self.org_access(tx.as_mut(), principal, reference).await?;
        let team = self.find_team(tx.as_mut(), &access, team).await?;
        let standing = self.team_standing(tx.as_mut(), &access, team.id).await?;
        let rows = tx.list_team_members(access.org.id, team.id, page).await?;
        // Only a manager grants team roles, and only those holding nothing they lack.
        let grantable_roles = if standing.manages {
            let within = |r: &&TeamRole| r.permissions.minus(standing.permissions).is_empty();
            self.preset.team_roles.iter().filter(within).cloned().collect()
        } else {
            Vec::new()
        };
        Ok(TeamOverview {
            team,
            members: Page::from_rows(rows, page, |m| m.membership.user_id.to_string()),
            manages: standing.manages,
            grantable_roles,
        })
    }

    /// The org's teams as `(id, slug)`, from the cache (to name a member's teams).
    pub async fn team_slugs(&self, access: &OrgAccess) -> Result<crate::caches::grants::OrgTeams> {
        self.authorization().cached_teams(access.org.id).await
    }

    pub async fn list_team_members(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        team: &TeamRef,
        page: &PageRequest,
    ) -> Result<Page<TeamMember>> {
        let mut tx = self.store.read().await?;
        let access = self.org_access(tx.as_mut(), principal, reference).await?;
        let found = self.find_team(tx.as_mut(), &access, team).await?;
        let rows = tx.list_team_members(access.org.id, found.id, page).await?;
        Ok(Page::from_rows(rows, page, |m| m.membership.user_id.to_string()))
    }

    /// Adds an org member to a team with a team role (the team's managers, without escalation).
    pub async fn add_team_member(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        team: &TeamRef,
        user: UserId,
        role_key: &str,
        meta: &RequestMeta,
    ) -> Result<TeamMember> {
        let role = self.team_role_named(role_key)?.clone();
        let (mut w, found, standing) = self.managed_team_write(principal, reference, team, meta).await?;
        let access = w.access.clone();
        let org = access.org.id;
        self.check_team_grant(&standing, &role, &access)?;
        let member = w
            .tx()
            .member(org, user)
            .await?
            .ok_or_else(|| Error::invalid("user_id", "is not a member of this organization"))?;
        if w.tx().team_member(org, found.id, user).await?.is_some() {
            return Err(Error::Conflict {
                code: "already_team_member",
                message: "the user is already in this team; change their team role instead".into(),
                details: Some(json!({ "user_id": user.to_string() })),
            });
        }
        let membership = TeamMembership {
            org_id: org,
            team_id: found.id,
            user_id: user,
            role: role.key.clone(),
            joined_at: self.clock.now(),
        };
        let stale = w.tx().insert_team_member(&membership).await?;
        w.invalidate(stale);
        let metadata = json!({ "user_id": user.to_string(), "role": role.key, "team_slug": found.slug });
        w.commit(Event::new("team.member_added", Target::new("team", found.id), metadata)).await?;
        Ok(TeamMember { membership, email: member.email, display_name: member.display_name })
    }

    /// Changes a team member's team role (the team's managers, without escalation: they must
    /// hold what both the current and the new role grant).
    pub async fn change_team_member_role(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        team: &TeamRef,
        user: UserId,
        role_key: &str,
        meta: &RequestMeta,
    ) -> Result<TeamMember> {
        let role = self.team_role_named(role_key)?.clone();
        let (mut w, found, standing) = self.managed_team_write(principal, reference, team, meta).await?;
        let access = w.access.clone();
        let org = access.org.id;
        let mut member = w.tx().team_member(org, found.id, user).await?.ok_or(not_in_team())?;
        if let Some(current) = self.preset.team_role(&member.membership.role) {
            self.check_team_grant(&standing, current, &access)?;
        }
        self.check_team_grant(&standing, &role, &access)?;
        if member.membership.role == role.key {
            return Ok(member);
        }
        let stale = w.tx().set_team_member_role(org, found.id, user, &role.key).await?.ok_or(not_in_team())?;
        w.invalidate(stale);
        let metadata = json!({ "user_id": user.to_string(), "from": member.membership.role, "to": role.key });
        w.commit(Event::new("team.member_role_changed", Target::new("team", found.id), metadata)).await?;
        member.membership.role = role.key;
        Ok(member)
    }

    /// Removes someone from a team (the team's managers, who must hold what their team role
    /// grants); anyone may leave a team.
    pub async fn remove_team_member(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        team: &TeamRef,
        user: UserId,
        meta: &RequestMeta,
    ) -> Result<()> {
        let mut w = self.org_write(principal, reference, None, meta).await?;
        let access = w.access.clone();
        let org = access.org.id;
        let found = self.find_team(w.tx(), &access, team).await?;
        let leaving = access.user_id() == Some(user);
        let member = w.tx().team_member(org, found.id, user).await?.ok_or(not_in_team())?;
        if !leaving {
            let standing = self.require_team_manager(&mut w, found.id).await?;
            if let Some(current) = self.preset.team_role(&member.membership.role) {
                self.check_team_grant(&standing, current, &access)?;
            }
        }
        let stale = w.tx().delete_team_member(org, found.id, user).await?.ok_or(not_in_team())?;
        w.invalidate(stale);
        let metadata = json!({ "user_id": user.to_string(), "role": member.membership.role, "left": leaving });
        w.commit(Event::new("team.member_removed", Target::new("team", found.id), metadata)).await?;
        Ok(())
    }
}
