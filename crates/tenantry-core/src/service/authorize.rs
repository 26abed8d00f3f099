//! `authorize`: may this subject do P in org O? The host app's hot path, answered from the grant
//! cache; only misses reach the database.

use super::{Authorization, Principal};
use crate::caches::grants::MemberGrant;
use crate::caches::grants::OrgTeams;
use crate::domain::ids::{ApiKeyId, OrgId, OrgRef, TeamRef, UserId};
use crate::domain::models::{MemberStatus, UserStatus};
use crate::domain::permission::PermissionSet;
use crate::domain::team::TeamRoles;
use crate::service::service_grants::ServiceGrant;
use crate::{Error, Result};

pub const MAX_CHECKS: usize = 100;

const NOT_A_MEMBER: &str = "the user is not a member of this organization";
const NOT_THE_KEYS_ORG: &str = "the API key does not belong to this organization";
const NO_SUCH_TEAM: &str = "no such team in this organization";

/// Who a check is about.
#[derive(Debug, Clone)]
pub enum Subject {
    User(UserId),
    ApiKey(ApiKeyId),
}

/// What a check asks about: one permission, or several that must all be held.
#[derive(Debug, Clone)]
pub enum Wanted {
    One(String),
    All(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Check {
    pub subject: Subject,
    /// An org id or slug.
    pub org: OrgRef,
    /// A team of the org, by id or slug: its team role counts too.
    pub team: Option<TeamRef>,
    pub wanted: Wanted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Why: the role and the permission granted or missing, or why the subject has no role.
    pub reason: String,
}

impl Decision {
    fn deny(reason: impl Into<String>) -> Self {
        Self { allowed: false, reason: reason.into() }
    }
}

impl Authorization<'_> {
    /// Answers each check. Only the instance admin and host apps (service tokens) may ask.
    /// `field` names the request's checks in errors (`checks` for a batch).
    pub async fn authorize(&self, principal: &Principal, checks: &[Check], batch: bool) -> Result<Vec<Decision>> {
        if !principal.is_operator() {
            return Err(Error::forbidden(
                "authorization checks are for host apps (service tokens) and the instance admin",
            ));
        }
        principal.require_grant(ServiceGrant::Authorize)?;
        if batch && (checks.is_empty() || checks.len() > MAX_CHECKS) {
            return Err(Error::invalid("checks", format!("must hold 1 to {MAX_CHECKS} checks")));
        }
        let mut wanted = Vec::with_capacity(checks.len());
        for (i, check) in checks.iter().enumerate() {
            let prefix = if batch { format!("checks[{i}].") } else { String::new() };
            wanted.push(self.wanted_set(&check.wanted, &prefix)?);
        }
        let mut decisions = Vec::with_capacity(checks.len());
        for (check, set) in checks.iter().zip(wanted) {
            decisions.push(self.decide(check, set).await?);
        }
        Ok(decisions)
    }

    /// The permissions a check asks about; an unknown one is refused naming its exact field.
    fn wanted_set(&self, wanted: &Wanted, prefix: &str) -> Result<PermissionSet> {
        let unknown = |field: String, name: &str| {
            Error::invalid(field, format!("`{name}` is not a permission of this deployment"))
        };
        match wanted {
            Wanted::One(name) => {
                self.preset.catalog.bit(name).ok_or_else(|| unknown(format!("{prefix}permission"), name))
            }
            Wanted::All(names) if names.is_empty() => {
                Err(Error::invalid(format!("{prefix}permissions"), "name at least one permission"))
            }
            Wanted::All(names) => names.iter().enumerate().try_fold(PermissionSet::EMPTY, |set, (j, name)| {
                let bit =
                    self.preset.catalog.bit(name).ok_or_else(|| unknown(format!("{prefix}permissions[{j}]"), name))?;
                Ok(set.union(bit))
            }),
        }
    }

    async fn decide(&self, check: &Check, wanted: PermissionSet) -> Result<Decision> {
        // An org that does not exist holds nobody, like one the subject is not in.
        let Some(org) = self.cached_org_id(&check.org).await? else {
            return Ok(Decision::deny(match check.subject {
                Subject::User(_) => NOT_A_MEMBER,
                Subject::ApiKey(_) => NOT_THE_KEYS_ORG,
            }));
        };
        // Keys are in no team.
        let (holder, held, team_roles) = match &check.subject {
            Subject::User(user) => match self.user_grant(org, *user).await? {
                Ok(grant) => grant,
                Err(denied) => return Ok(denied),
            },
            Subject::ApiKey(key) => match self.key_grant(org, *key).await? {
                Ok((holder, held)) => (holder, held, None),
                Err(denied) => return Ok(denied),
            },
        };
        // The team named: one of the subject's own (their grant holds it), else any of the org's.
        // Another org's team is answered exactly like a team that does not exist.
        let mut team_role = None;
        let team_slug = match &check.team {
            None => None,
            Some(reference) => {
                let own =
                    team_roles.as_deref().and_then(|places| places.iter().find(|p| reference.names(p.team, &p.slug)));
                match own {
                    Some(place) => {
                        team_role = self.preset.team_role(&place.role);
                        Some(place.slug.clone())
                    }
                    None => match self.cached_teams(org).await?.iter().find(|(id, slug)| reference.names(*id, slug)) {
                        Some((_, slug)) => Some(slug.to_string()),
                        None => return Ok(Decision::deny(NO_SUCH_TEAM)),
                    },
                }
            }
        };
        let names = |set| self.preset.catalog.names(set).join(", ");
        let missing = wanted.minus(held);
        if missing.is_empty() {
            return Ok(Decision { allowed: true, reason: format!("{holder} grants {}", names(wanted)) });
        }
        // The team role may grant what the org role lacks.
        let Some(slug) = team_slug else {
            return Ok(Decision::deny(format!("{holder} lacks {}", names(missing))));
        };
        let Some(team_role) = team_role else {
            return Ok(Decision::deny(format!(
                "{holder} lacks {}, and the user is not in team `{slug}`",
                names(missing)
            )));
        };
        let in_team = format!("team role `{}` in team `{slug}`", team_role.key);
        Ok(if wanted.minus(team_role.permissions).is_empty() {
            Decision { allowed: true, reason: format!("{in_team} grants {}", names(wanted)) }
        } else if missing.minus(team_role.permissions).is_empty() {
            Decision { allowed: true, reason: format!("{holder} and {in_team} grant {}", names(wanted)) }
        } else {
            Decision::deny(format!("{holder} and {in_team} lack {}", names(missing.minus(team_role.permissions))))
        })
    }

    /// What a user holds in `org` through their role, named for the reason ("role `admin`").
    async fn user_grant(
        &self,
        org: OrgId,
        user: UserId,
    ) -> Result<Result<(String, PermissionSet, Option<TeamRoles>), Decision>> {
        let (role_key, teams) = match self.cached_member_grant(org, user).await? {
            MemberGrant::Role(role, teams) => (role, teams),
            MemberGrant::NotMember => return Ok(Err(Decision::deny(NOT_A_MEMBER))),
            MemberGrant::Suspended => return Ok(Err(Decision::deny("the user's account is suspended"))),
            MemberGrant::MemberSuspended => {
                return Ok(Err(Decision::deny("the member is suspended in this organization")))
            }
            MemberGrant::MfaMissing => {
                return Ok(Err(Decision::deny(
                    "the organization requires multi-factor authentication, which the user has not enabled",
                )))
            }
        };
        let held = match self.preset.role(&role_key) {
            Some(role) => role.permissions,
            None => match self.roles().cached_custom_roles(org).await?.iter().find(|r| *r.key == *role_key) {
                Some(role) => role.permissions,
                None => return Ok(Err(Decision::deny(format!("the role `{role_key}` no longer exists")))),
            },
        };
        Ok(Ok((format!("role `{role_key}`"), held, teams)))
    }

    /// What an active key of `org` holds through its scopes.
    async fn key_grant(&self, org: OrgId, key: ApiKeyId) -> Result<Result<(String, PermissionSet), Decision>> {
        let Some(found) = self.api_keys().cached_key_by_id(key).await?.filter(|k| k.key.org_id == org) else {
            return Ok(Err(Decision::deny(NOT_THE_KEYS_ORG)));
        };
        let now = self.clock.now();
        if found.key.is_revoked() {
            return Ok(Err(Decision::deny("the API key has been revoked")));
        }
        if found.key.is_expired(now) {
            return Ok(Err(Decision::deny("the API key has expired")));
        }
        Ok(Ok(("the API key's scopes".to_owned(), found.scopes)))
    }

    pub(crate) async fn cached_org_id(&self, reference: &OrgRef) -> Result<Option<OrgId>> {
        let slug = match reference {
            // Membership and key lookups tell whether it exists: an unknown id has neither.
            OrgRef::Id(id) => return Ok(Some(*id)),
            OrgRef::Slug(slug) => slug,
        };
        if let Some(id) = self.grants.slug(slug) {
            return Ok(Some(id));
        }
        let seen = self.grants.generation();
        let found = self.store.read().await?.org_by_slug(slug).await?;
        if let Some(org) = &found {
            self.grants.fill_slug(slug, org.id, seen);
        }
        Ok(found.map(|o| o.id))
    }

    /// The org's teams, from the cache.
    pub(crate) async fn cached_teams(&self, org: OrgId) -> Result<OrgTeams> {
        if let Some(teams) = self.grants.teams(org) {
            return Ok(teams);
        }
        let seen = self.grants.generation();
        let found = self.store.read().await?.team_slugs(org).await?;
        let teams: OrgTeams = found.into_iter().map(|(id, slug)| (id, slug.into())).collect();
        self.grants.fill_teams(org, teams.clone(), seen);
        Ok(teams)
    }

    pub(crate) async fn cached_member_grant(&self, org: OrgId, user: UserId) -> Result<MemberGrant> {
        if let Some(grant) = self.grants.member_grant(org, user) {
            return Ok(grant);
        }
        let seen = self.grants.generation();
        let mut tx = self.store.read().await?;
        let grant = match tx.membership(org, user).await? {
            None => MemberGrant::NotMember,
            Some(membership) if membership.status == MemberStatus::Suspended => MemberGrant::MemberSuspended,
            Some(membership) => match tx.user(user).await? {
                Some(account) if account.status == UserStatus::Active => {
                    if self.mfa().org_requires_mfa(tx.as_mut(), org).await? && !tx.has_mfa(user).await? {
                        self.grants.fill_member_grant(org, user, MemberGrant::MfaMissing, seen);
                        return Ok(MemberGrant::MfaMissing);
                    }
                    let teams = tx.team_roles_of(org, user).await?;
                    let teams = (!teams.is_empty()).then(|| TeamRoles::from(teams));
                    MemberGrant::Role(membership.role.into(), teams)
                }
                _ => MemberGrant::Suspended,
            },
        };
        self.grants.fill_member_grant(org, user, grant.clone(), seen);
        Ok(grant)
    }
}
