//! The records services read and write through the store.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::email::Email;
use super::ids::{MembershipId, MessageId, OrgId, RoleId, SessionId, TeamId, UserId};
use super::slug::Slug;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Active,
    Suspended,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "suspended" => Some(Self::Suspended),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub display_name: String,
    pub password_hash: String,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub status: UserStatus,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Org {
    pub id: OrgId,
    pub slug: Slug,
    pub name: String,
    pub owner_id: UserId,
    pub is_personal: bool,
    pub plan: String,
    pub billing_customer_id: Option<String>,
    /// Always a JSON object.
    pub metadata: Value,
    pub created_at: DateTime<Utc>,
    /// Number of members, kept by the store as memberships come and go.
    pub seat_count: u64,
}

/// A membership's standing in its org, apart from the account's own status: a suspended member
/// keeps the seat and the role but is refused on every org route and by `authorize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    Active,
    Suspended,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "suspended" => Some(Self::Suspended),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Membership {
    pub id: MembershipId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub role: String,
    pub status: MemberStatus,
    pub joined_at: DateTime<Utc>,
}

/// A membership with the member's public profile, as member lists show it.
#[derive(Debug, Clone)]
pub struct Member {
    pub membership: Membership,
    pub email: Email,
    pub display_name: String,
    /// The member's teams in this org, by id.
    pub team_ids: Vec<TeamId>,
}

/// One of a user's orgs with the user's membership (and so role) in it.
#[derive(Debug, Clone)]
pub struct OrgWithRole {
    pub org: Org,
    pub membership: Membership,
}

impl OrgWithRole {
    pub fn role(&self) -> &str {
        &self.membership.role
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub active_org_id: Option<OrgId>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The factors the login proved (`pwd`, `otp`), carried into the session's access tokens.
    pub amr: Vec<String>,
    /// The client that logged in, as the sessions list shows it.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// When the session last issued tokens (login, refresh, switching org).
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub hash: String,
    pub session_id: SessionId,
    pub expires_at: DateTime<Utc>,
    /// Set when the token was exchanged; a second exchange is reuse.
    pub used_at: Option<DateTime<Utc>>,
}

/// Single-use tokens sent by email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailTokenKind {
    VerifyEmail,
    ResetPassword,
}

impl EmailTokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }
}

#[derive(Debug, Clone)]
pub struct OutboxMessage {
    pub id: MessageId,
    pub to: Email,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// When delivery was given up for good (a permanent refusal); never retried after.
    pub failed_at: Option<DateTime<Utc>>,
}

/// The instance's JWT signing key (Ed25519, PKCS#8), generated on first start.
#[derive(Debug, Clone)]
pub struct SigningKey {
    pub kid: String,
    pub pkcs8: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

/// A role an org defined for itself. Permissions are stored by name, so reordering the catalog
/// never changes what a role grants.
#[derive(Debug, Clone)]
pub struct CustomRole {
    pub id: RoleId,
    pub org_id: OrgId,
    pub key: String,
    pub name: String,
    pub permissions: Vec<String>,
    pub created_at: DateTime<Utc>,
}
