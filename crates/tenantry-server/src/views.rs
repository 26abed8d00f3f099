//! Response shapes (SPEC 10b). Each view is built from a core record; nothing secret has a field.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tenantry_core::domain::api_key::ApiKey;
use tenantry_core::domain::invitation::Invitation;
use tenantry_core::domain::models::{Member, Org, OrgWithRole, OutboxMessage, User};
use tenantry_core::domain::pagination::Page;
use tenantry_core::domain::permission::Role;
use tenantry_core::domain::preset::Preset;
use tenantry_core::service::access::OrgAccess;
use tenantry_core::service::api_keys::IssuedKey;
use tenantry_core::service::invitations::{Accepted, InvitationPreview, IssuedInvitation};
use utoipa::ToSchema;

/// The success envelope.
#[derive(Serialize, ToSchema)]
pub struct Data<T> {
    pub data: T,
}

pub fn data<T>(data: T) -> axum::Json<Data<T>> {
    axum::Json(Data { data })
}

#[derive(Serialize, ToSchema)]
pub struct PaginationView {
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A page of a list.
#[derive(Serialize, ToSchema)]
pub struct List<T> {
    pub data: Vec<T>,
    pub pagination: PaginationView,
}

pub fn list<R, T>(page: Page<R>, view: impl FnMut(R) -> T) -> axum::Json<List<T>> {
    let next_cursor = page.next_cursor.clone();
    axum::Json(List { data: page.items.into_iter().map(view).collect(), pagination: PaginationView { next_cursor } })
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    #[schema(example = "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.to_string(),
            display_name: user.display_name.clone(),
            email_verified: user.email_verified_at.is_some(),
            created_at: user.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OrgView {
    #[schema(example = "org_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub id: String,
    #[schema(example = "acme")]
    pub slug: String,
    pub name: String,
    pub owner_id: String,
    pub is_personal: bool,
    #[schema(example = "free")]
    pub plan: String,
    /// Number of members.
    pub seat_count: u64,
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub created_at: DateTime<Utc>,
    /// The caller's role in the org (in lists of the caller's own orgs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl OrgView {
    pub fn plain(org: &Org) -> Self {
        Self {
            id: org.id.to_string(),
            slug: org.slug.to_string(),
            name: org.name.clone(),
            owner_id: org.owner_id.to_string(),
            is_personal: org.is_personal,
            plan: org.plan.clone(),
            seat_count: org.seat_count,
            metadata: org.metadata.clone(),
            created_at: org.created_at,
            role: None,
        }
    }

    pub fn with_role(org: &OrgWithRole) -> Self {
        Self { role: Some(org.role().to_owned()), ..Self::plain(&org.org) }
    }

    /// The org as its caller sees it: with their role when they are a member.
    pub fn for_caller(access: &OrgAccess) -> Self {
        Self { role: access.role().map(|r| r.key.clone()), ..Self::plain(&access.org) }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MemberView {
    #[schema(example = "mem_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub id: String,
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub joined_at: DateTime<Utc>,
}

impl From<Member> for MemberView {
    fn from(member: Member) -> Self {
        Self {
            id: member.membership.id.to_string(),
            user_id: member.membership.user_id.to_string(),
            email: member.email.to_string(),
            display_name: member.display_name,
            role: member.membership.role,
            joined_at: member.membership.joined_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RoleView {
    #[schema(example = "developer")]
    pub key: String,
    pub name: String,
    /// Permission keys, in catalog order.
    pub permissions: Vec<String>,
    /// From the preset (cannot be edited) rather than defined by the org.
    pub built_in: bool,
    /// When set, only members holding one of these roles may grant this role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignable_by: Option<Vec<String>>,
}

impl RoleView {
    pub fn new(role: &Role, preset: &Preset) -> Self {
        Self {
            key: role.key.clone(),
            name: role.name.clone(),
            permissions: preset.catalog.names(role.permissions),
            built_in: role.built_in,
            assignable_by: role.assignable_by.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OutboxView {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub created_at: DateTime<Utc>,
    /// When SMTP accepted the message; `null` while it is only in the outbox.
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<OutboxMessage> for OutboxView {
    fn from(m: OutboxMessage) -> Self {
        Self {
            id: m.id.to_string(),
            to: m.to.to_string(),
            subject: m.subject,
            text: m.text,
            html: m.html,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

/// The error body (SPEC 10).
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    #[schema(example = "invalid_request")]
    pub code: String,
    pub message: String,
    pub request_id: String,
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyView {
    #[schema(example = "key_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub id: String,
    pub name: String,
    /// The first 12 characters of the secret.
    #[schema(example = "tn_live_a1B2")]
    pub prefix: String,
    pub scopes: Vec<String>,
    /// A user id, or the id of the key that created this one.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(key: ApiKey) -> Self {
        Self {
            id: key.id.to_string(),
            name: key.name,
            prefix: key.prefix,
            scopes: key.scopes,
            created_by: key.created_by,
            created_at: key.created_at,
            expires_at: key.expires_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct InvitationView {
    #[schema(example = "inv_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub id: String,
    pub email: String,
    #[schema(example = "developer")]
    pub role: String,
    /// `pending`, `accepted`, `expired`, `revoked` or `declined`.
    #[schema(example = "pending")]
    pub state: String,
    pub expires_at: DateTime<Utc>,
    /// The user (`usr_…`) or API key (`key_…`) that issued the current link.
    pub invited_by: String,
    pub team_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Invitation> for InvitationView {
    fn from(inv: Invitation) -> Self {
        Self {
            id: inv.id.to_string(),
            email: inv.email.to_string(),
            role: inv.role,
            state: inv.state.as_str().to_owned(),
            expires_at: inv.expires_at,
            invited_by: inv.invited_by,
            team_ids: inv.team_ids,
            created_at: inv.created_at,
        }
    }
}

/// A key in the create and roll responses: the only place its secret appears.
#[derive(Serialize, ToSchema)]
pub struct IssuedKeyView {
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// The whole key. Store it now: it is never shown again.
    pub secret: String,
}

impl From<IssuedKey> for IssuedKeyView {
    fn from(issued: IssuedKey) -> Self {
        Self { key: ApiKeyView::from(issued.key), secret: issued.secret }
    }
}

/// An invitation as its inviter sees it once, on create and resend.
#[derive(Serialize, ToSchema)]
pub struct IssuedInvitationView {
    #[serde(flatten)]
    pub invitation: InvitationView,
    /// Shown only here and in the email.
    pub token: String,
    /// `{public_url}/accept-invite/{token}`.
    pub accept_url: String,
}

impl From<IssuedInvitation> for IssuedInvitationView {
    fn from(issued: IssuedInvitation) -> Self {
        Self { invitation: issued.invitation.into(), token: issued.token, accept_url: issued.accept_url }
    }
}

/// What anyone holding an invitation link may see.
#[derive(Serialize, ToSchema)]
pub struct InvitationPreviewView {
    pub org_name: String,
    pub inviter_name: String,
    pub role: String,
    pub role_name: String,
    pub state: String,
    pub expires_at: DateTime<Utc>,
}

impl From<InvitationPreview> for InvitationPreviewView {
    fn from(p: InvitationPreview) -> Self {
        Self {
            org_name: p.org_name,
            inviter_name: p.inviter_name,
            role: p.role,
            role_name: p.role_name,
            state: p.state.as_str().to_owned(),
            expires_at: p.expires_at,
        }
    }
}

/// The org joined by accepting an invitation, and the new membership.
#[derive(Serialize, ToSchema)]
pub struct AcceptedInvitationView {
    pub org: OrgView,
    pub member: MemberView,
}

impl From<Accepted> for AcceptedInvitationView {
    fn from(accepted: Accepted) -> Self {
        Self { org: OrgView::with_role(&accepted.org), member: accepted.member.into() }
    }
}
