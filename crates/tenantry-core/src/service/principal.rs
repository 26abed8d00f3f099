//! Who is calling, as established by the server from the request's credentials.

use crate::domain::audit::Actor;
use crate::domain::ids::{OrgId, SessionId, UserId};

/// A user authenticated by an access token.
#[derive(Debug, Clone)]
pub struct UserPrincipal {
    pub user_id: UserId,
    pub session_id: SessionId,
    /// The org requests act on when they name none: the `x-organization-id` header if given,
    /// else the token's `org_id`.
    pub active_org: Option<OrgId>,
}

#[derive(Debug, Clone)]
pub enum Principal {
    User(UserPrincipal),
    /// The instance administrator (`TENANTRY_ADMIN_TOKEN`).
    Admin,
    /// A host app, by the index of its token in the configuration.
    Service {
        name: String,
    },
}

impl Principal {
    pub fn actor(&self) -> Actor {
        match self {
            Self::User(user) => Actor::new("user", user.user_id),
            Self::Admin => Actor::new("admin", "admin"),
            Self::Service { name } => Actor::new("service", name),
        }
    }
}

/// Facts about the request that go into audit events.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}
