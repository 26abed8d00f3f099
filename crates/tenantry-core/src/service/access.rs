//! Who may act on an org: resolving `{org}` references and the caller's standing in the org, and
//! checking permissions. Orgs the caller has no standing in are reported as not found, exactly
//! like orgs that do not exist.

use super::mfa::mfa_required;
use super::principal::{KeyPrincipal, Principal};
use super::Tenantry;
use crate::caches::grants::MemberGrant;
use crate::domain::audit::Actor;
use crate::domain::ids::{ApiKeyId, OrgId, OrgRef, UserId};
use crate::domain::models::{MemberStatus, Membership, Org};
use crate::domain::permission::{Permission, PermissionSet, Role};
use crate::store::ReadTx;
use crate::{Error, Result};

/// How the caller stands in one org.
#[derive(Debug, Clone)]
pub enum Standing {
    /// A member, through their membership and its role.
    Member { membership: Membership, role: Role },
    /// One of the org's API keys, limited to its scopes.
    Key { key_id: ApiKeyId },
    /// The instance admin or a host app, on the operations that admit them.
    Operator { actor: Actor },
}

/// A caller's standing in one org, loaded inside the transaction that acts on it.
#[derive(Debug, Clone)]
pub struct OrgAccess {
    pub org: Org,
    pub standing: Standing,
    /// What the caller may do here: the role's permissions, the key's scopes, or everything for
    /// operators.
    pub permissions: PermissionSet,
}

impl OrgAccess {
    pub fn actor(&self) -> Actor {
        match &self.standing {
            Standing::Member { membership, .. } => Actor::new("user", membership.user_id),
            Standing::Key { key_id } => Actor::new("api_key", key_id),
            Standing::Operator { actor } => actor.clone(),
        }
    }

    pub fn membership(&self) -> Option<&Membership> {
        match &self.standing {
            Standing::Member { membership, .. } => Some(membership),
            _ => None,
        }
    }

    pub fn role(&self) -> Option<&Role> {
        match &self.standing {
            Standing::Member { role, .. } => Some(role),
            _ => None,
        }
    }

    /// The user acting, when a member acts.
    pub fn user_id(&self) -> Option<UserId> {
        self.membership().map(|m| m.user_id)
    }

    /// How the caller is named in refusals: "your role `admin`", "this API key".
    pub fn described(&self) -> String {
        match &self.standing {
            Standing::Member { role, .. } => format!("your role `{}`", role.key),
            Standing::Key { .. } => "this API key".to_owned(),
            Standing::Operator { .. } => "the operator".to_owned(),
        }
    }
}

/// The refusal of a member suspended in the org, on every org route.
fn member_suspended() -> Error {
    Error::Forbidden {
        code: "member_suspended",
        message: "your membership in this organization is suspended; an admin of the organization can lift it"
            .to_owned(),
    }
}

impl Tenantry {
    /// The org named by an id or a slug.
    pub(crate) async fn find_org(&self, tx: &mut dyn ReadTx, reference: &OrgRef) -> Result<Org> {
        let found = match reference {
            OrgRef::Id(id) => tx.org(*id).await?,
            OrgRef::Slug(slug) => tx.org_by_slug(slug).await?,
        };
        found.ok_or(Error::NotFound("organization"))
    }

    /// The caller's standing in the referenced org, for members, the org's API keys and the
    /// instance admin, who manages every org with its owner's permissions (the host app's
    /// backend, as HelloJohn's admin API does). Host apps' service tokens are refused: least
    /// privilege, they reach orgs only through the few operations that admit them.
    pub(crate) async fn org_access(
        &self,
        tx: &mut dyn ReadTx,
        principal: &Principal,
        reference: &OrgRef,
    ) -> Result<OrgAccess> {
        match principal {
            Principal::User(user) => self.member_access(tx, user.user_id, reference).await,
            Principal::ApiKey(key) => self.key_access(tx, key, reference).await,
            Principal::Admin => self.as_operator(tx, principal, reference).await,
            Principal::Service { .. } => Err(Error::forbidden("this endpoint is for the org's members and API keys")),
        }
    }

    /// Like `org_access`, but host apps are admitted too, with the owner's permissions.
    pub(crate) async fn operator_access(
        &self,
        tx: &mut dyn ReadTx,
        principal: &Principal,
        reference: &OrgRef,
    ) -> Result<OrgAccess> {
        if !principal.is_operator() {
            return self.org_access(tx, principal, reference).await;
        }
        self.as_operator(tx, principal, reference).await
    }

    async fn as_operator(&self, tx: &mut dyn ReadTx, principal: &Principal, reference: &OrgRef) -> Result<OrgAccess> {
        let org = self.find_org(tx, reference).await?;
        Ok(OrgAccess {
            org,
            standing: Standing::Operator { actor: principal.actor() },
            permissions: self.preset.owner().permissions,
        })
    }

    /// The user's membership in the referenced org; not found unless they are a member, and
    /// refused while the membership is suspended or while the org requires MFA they lack.
    pub(crate) async fn member_access(
        &self,
        tx: &mut dyn ReadTx,
        user: UserId,
        reference: &OrgRef,
    ) -> Result<OrgAccess> {
        let access = self.member_access_to_leave(tx, user, reference).await?;
        self.mfa().require_member_mfa(tx, access.org.id, user).await?;
        Ok(access)
    }

    /// Like `member_access`, without the org's MFA requirement: leaving is the one thing a member
    /// without MFA may still do in an org that requires it.
    pub(crate) async fn member_access_to_leave(
        &self,
        tx: &mut dyn ReadTx,
        user: UserId,
        reference: &OrgRef,
    ) -> Result<OrgAccess> {
        let org = self.find_org(tx, reference).await?;
        let membership = tx.membership(org.id, user).await?.ok_or(Error::NotFound("organization"))?;
        if membership.status == MemberStatus::Suspended {
            return Err(member_suspended());
        }
        let role = self.resolve_role(tx, org.id, &membership.role).await?;
        let permissions = role.permissions;
        Ok(OrgAccess { org, standing: Standing::Member { membership, role }, permissions })
    }

    /// The referenced org, if `user` is a member of it (else not found), from the caches behind
    /// `authorize`: for reads that need only the org's id and the caller's membership.
    pub(crate) async fn member_org(&self, user: UserId, reference: &OrgRef) -> Result<OrgId> {
        match self.member_org_grant(user, reference).await? {
            (_, MemberGrant::MfaMissing) => Err(mfa_required()),
            (org, _) => Ok(org),
        }
    }

    /// The referenced org and the user's grant there; refused unless they are a member in good
    /// standing, or one the org requires MFA of (for the caller to decide).
    pub(crate) async fn member_org_grant(&self, user: UserId, reference: &OrgRef) -> Result<(OrgId, MemberGrant)> {
        let org = self.authorization().cached_org_id(reference).await?.ok_or(Error::NotFound("organization"))?;
        match self.authorization().cached_member_grant(org, user).await? {
            grant @ (MemberGrant::Role(..) | MemberGrant::MfaMissing) => Ok((org, grant)),
            MemberGrant::NotMember => Err(Error::NotFound("organization")),
            MemberGrant::Suspended => Err(Error::Unauthorized("the account is suspended".into())),
            MemberGrant::MemberSuspended => Err(member_suspended()),
        }
    }

    /// A key reaches only its own org; any other is not found.
    async fn key_access(&self, tx: &mut dyn ReadTx, key: &KeyPrincipal, reference: &OrgRef) -> Result<OrgAccess> {
        let org = self.find_org(tx, reference).await?;
        if org.id != key.org_id {
            return Err(Error::NotFound("organization"));
        }
        Ok(OrgAccess { org, standing: Standing::Key { key_id: key.key_id }, permissions: key.scopes })
    }

    /// The role a membership holds; every membership's role exists (deleting a role in use
    /// reassigns its members first).
    pub(crate) async fn resolve_role(&self, tx: &mut dyn ReadTx, org: OrgId, key: &str) -> Result<Role> {
        self.roles()
            .find_role(tx, org, key)
            .await?
            .ok_or_else(|| Error::Internal(format!("a membership holds role `{key}`, which is not defined")))
    }

    /// Refuses unless the caller holds `permission`: 403 `forbidden` for a member's role, 403
    /// `scope_missing` for an API key.
    pub(crate) fn require(&self, access: &OrgAccess, permission: Permission) -> Result<()> {
        if self.holds(access, permission) {
            return Ok(());
        }
        Err(match access.standing {
            Standing::Key { .. } => Error::Forbidden {
                code: "scope_missing",
                message: format!("this API key lacks the scope `{permission}`"),
            },
            _ => Error::forbidden(format!("{} does not have the permission `{permission}`", access.described())),
        })
    }

    /// Whether the caller holds `permission` (e.g. to show or hide an action).
    pub fn holds(&self, access: &OrgAccess, permission: Permission) -> bool {
        self.preset.catalog.grants(access.permissions, permission)
    }

    /// Until its address is verified, an account may not create API keys or send invitations
    /// (403 `email_unverified`): whoever signed up with someone else's address could otherwise
    /// plant a key that keeps working after the real owner takes the account back through a
    /// password reset, or send mail in that person's name. Keys and operators are not accounts.
    pub(crate) async fn require_verified_email(&self, tx: &mut dyn ReadTx, principal: &Principal) -> Result<()> {
        let Principal::User(user) = principal else { return Ok(()) };
        let verified = tx.user(user.user_id).await?.is_some_and(|u| u.email_verified_at.is_some());
        if verified {
            return Ok(());
        }
        Err(Error::Forbidden {
            code: "email_unverified",
            message: "verify your email address first (follow the link in the verification email)".to_owned(),
        })
    }

    /// Refuses with 402 `plan_limit_reached` unless the org's plan includes `feature`.
    pub(crate) fn require_feature(&self, org: &Org, feature: &str) -> Result<()> {
        if self.preset.plan(&org.plan).is_some_and(|p| p.has_feature(feature)) {
            return Ok(());
        }
        Err(Error::PlanLimit {
            message: format!("the `{}` plan does not include the feature `{feature}`", org.plan),
            details: serde_json::json!({ "feature": feature, "plan": org.plan }),
        })
    }

    /// The permission keys of a set, for tokens, `me` and refusals.
    pub(crate) fn permission_names(&self, set: PermissionSet) -> Vec<String> {
        self.preset.catalog.names(set)
    }
}
