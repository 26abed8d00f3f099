//! Who is calling, as established by the server from the request's credentials.

use crate::domain::audit::Actor;
use crate::domain::ids::{ApiKeyId, OrgId, SessionId, UserId};
use crate::domain::permission::PermissionSet;
use crate::service::service_grants::{ServiceGrant, ServiceGrants};
use crate::{Error, Result};

/// A user authenticated by an access token.
#[derive(Debug, Clone)]
pub struct UserPrincipal {
    pub user_id: UserId,
    pub session_id: SessionId,
    /// The org requests act on when they name none: the `x-organization-id` header if given,
    /// else the token's `org_id`.
    pub active_org: Option<OrgId>,
}

/// An org's API key, authenticated by its secret. It acts as its org, limited to its scopes.
#[derive(Debug, Clone)]
pub struct KeyPrincipal {
    pub key_id: ApiKeyId,
    pub org_id: OrgId,
    pub scopes: PermissionSet,
}

#[derive(Debug, Clone)]
pub enum Principal {
    User(UserPrincipal),
    ApiKey(KeyPrincipal),
    /// The instance administrator (`TENANTRY_ADMIN_TOKEN`).
    Admin,
    /// A host app, named by the position of its token in the configuration (`service_1`, …),
    /// with what its token was granted.
    Service {
        name: String,
        grants: ServiceGrants,
    },
}

impl Principal {
    pub fn actor(&self) -> Actor {
        match self {
            Self::User(user) => Actor::new("user", user.user_id),
            Self::ApiKey(key) => Actor::new("api_key", key.key_id),
            Self::Admin => Actor::new("admin", "admin"),
            Self::Service { name, .. } => Actor::new("service", name),
        }
    }

    /// The signed-in user, for what only a person may do (leave an org, transfer it, …).
    pub fn user(&self) -> Result<&UserPrincipal> {
        match self {
            Self::User(user) => Ok(user),
            _ => Err(Error::forbidden("only a signed-in user may do this")),
        }
    }

    /// 403 for a service token without `grant`. Everyone else passes: what they may do is
    /// decided by their own rules (the admin may do everything, users and keys by permission).
    pub fn require_grant(&self, grant: ServiceGrant) -> Result<()> {
        match self {
            Self::Service { grants, .. } => grants.require(grant),
            _ => Ok(()),
        }
    }

    /// Whether this is the instance admin or a host app.
    pub fn is_operator(&self) -> bool {
        matches!(self, Self::Admin | Self::Service { .. })
    }
}

/// Facts about the request that go into audit events.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}
