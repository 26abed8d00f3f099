use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The success envelope.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Data<T> {
    pub data: T,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PaginationView {
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A page of a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct List<T> {
    pub data: Vec<T>,
    pub pagination: PaginationView,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    #[schema(example = "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    #[schema(example = "mem_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub id: String,
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    /// `active`, or `suspended`: the member keeps the seat but is refused everywhere in the org.
    #[schema(example = "active")]
    pub status: String,
    pub joined_at: DateTime<Utc>,
    /// The member's teams in this org.
    pub team_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutboxView {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub created_at: DateTime<Utc>,
    /// When SMTP accepted the message; `null` while it is only in the outbox.
    pub sent_at: Option<DateTime<Utc>>,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// The mail server's answer to the last failed attempt, if any; while an attempt has no
    /// recorded outcome (under way, or its process stopped), a note saying so.
    pub last_error: Option<String>,
    /// When delivery was given up because the server refused the message for good (5xx); it is
    /// not retried after.
    pub failed_at: Option<DateTime<Utc>>,
}

/// The error body (SPEC 10).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    #[schema(example = "invalid_request")]
    pub code: String,
    pub message: String,
    pub request_id: String,
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

/// A key in the create and roll responses: the only place its secret appears.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IssuedKeyView {
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// The whole key. Store it now: it is never shown again.
    pub secret: String,
}

/// An invitation as its inviter sees it once, on create and resend.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IssuedInvitationView {
    #[serde(flatten)]
    pub invitation: InvitationView,
    /// Shown only here and in the email.
    pub token: String,
    /// `{public_url}/accept-invite/{token}`.
    pub accept_url: String,
}

/// What anyone holding an invitation link may see.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvitationPreviewView {
    pub org_name: String,
    pub inviter_name: String,
    pub role: String,
    pub role_name: String,
    pub state: String,
    pub expires_at: DateTime<Utc>,
}

/// The org joined by accepting an invitation, and the new membership.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AcceptedInvitationView {
    pub org: OrgView,
    pub member: MemberView,
    /// Teams the invitation named that were deleted before it was accepted (not joined).
    pub skipped_team_ids: Vec<String>,
}

/// A plan (SPEC 5). A limit of `-1` is unlimited.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlanView {
    #[schema(example = "starter")]
    pub key: String,
    pub name: String,
    /// The plan new orgs start on.
    pub default: bool,
    /// `members`, `teams` and each metered resource; `requests` counts per UTC calendar month.
    #[schema(example = json!({"members": 2, "teams": 3, "endpoints": 25, "requests": 25000}))]
    pub limits: BTreeMap<String, i64>,
    pub retention_days: u32,
    /// Per API key.
    pub api_calls_per_minute: u32,
    #[schema(example = json!(["audit_log"]))]
    pub features: Vec<String>,
}

/// An org's usage against its plan (SPEC 5). A limit of `-1` is unlimited.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageView {
    /// Members of the org.
    pub member_count: u64,
    pub endpoint_count: u64,
    /// In the current UTC calendar month.
    pub requests_this_month: u64,
    #[schema(example = json!({"members": 1, "endpoints": 5, "requests": 500}))]
    pub limits: BTreeMap<String, i64>,
}

/// A metric after a metering call.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MeteredView {
    #[schema(example = "endpoints")]
    pub metric: String,
    /// The value now (for a monthly counter, this month's count).
    pub value: u64,
    /// The plan's limit; `-1` is unlimited.
    pub limit: i64,
    /// The UTC month a monthly counter counted in (`2026-11`); `null` for a gauge.
    pub period: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BillingView {
    #[schema(example = "starter")]
    pub plan: String,
    /// The payment provider's customer id.
    #[schema(example = "cus_Q1w2E3r4")]
    pub billing_customer_id: Option<String>,
    /// `managed`: plans change through the billing backend or the instance admin; `open`: also
    /// by members holding `billing.change_plan`.
    #[schema(example = "managed")]
    pub billing_mode: String,
}

/// A user as the instance admin sees them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdminUserView {
    #[schema(example = "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub email_verified: bool,
    /// `active` or `suspended`.
    #[schema(example = "active")]
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// The org settings document (SPEC 9), as read and as written. A write replaces the whole
/// document; keys left out take their defaults, unknown keys are refused.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SettingsView {
    pub notifications: NotificationSettingsView,
    /// Days of history kept, at most the plan's. Reads show the effective value; write `null` to
    /// follow the plan's maximum.
    #[schema(example = 7, minimum = 1)]
    #[serde(deserialize_with = "crate::whole::optional")]
    pub retention_days: Option<u32>,
    pub security: SecuritySettingsView,
    pub sso: SsoSettingsView,
    pub ingest: IngestSettingsView,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationSettingsView {
    pub email_enabled: bool,
    /// A Slack incoming webhook (`https://hooks.slack.com/services/…`).
    pub slack_webhook_url: Option<String>,
    /// Write-only: read back masked (`********` and the last four characters). Writing the mask
    /// back keeps the stored token; `null` clears it.
    #[schema(example = "********dsaw")]
    pub telegram_bot_token: Option<String>,
    /// A numeric chat id or an `@channel` name.
    #[schema(example = "-1001234567890")]
    pub telegram_chat_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettingsView {
    /// Members must use MFA (enforced once MFA is available).
    pub mfa_required: bool,
}

/// Reserved for SSO; only `{}` is accepted for now.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SsoSettingsView {}

/// Policy for the host app's event-ingest tokens, which the host app issues and rotates.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct IngestSettingsView {
    /// Rotate the ingest token every this many days (1–365); `null`: never.
    #[serde(deserialize_with = "crate::whole::optional")]
    #[schema(minimum = 1, maximum = 365)]
    pub token_rotation_days: Option<u32>,
    /// Hours the previous token keeps working after a rotation (0–168).
    #[schema(example = 24, minimum = 0, maximum = 168)]
    #[serde(deserialize_with = "crate::whole::number")]
    pub rotation_grace_hours: u32,
}

/// Who acted, or what was acted on: `{type, id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TypedRef {
    #[serde(rename = "type")]
    #[schema(example = "user")]
    pub kind: String,
    #[schema(example = "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEventView {
    #[schema(example = "evt_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub id: String,
    /// `null` for the instance's own events (sign-ups, logins, refusals outside any org).
    pub org_id: Option<String>,
    pub actor: TypedRef,
    #[schema(example = "member.role_changed")]
    pub action: String,
    pub target: TypedRef,
    pub occurred_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Value,
    /// The event's link in its org's hash chain.
    pub hash: String,
}

// The defaults of a settings document: what a key left out of a write means. They are the core's
// (`tenantry_core::domain::settings`); a test of the `core` feature holds the two together.
impl Default for SettingsView {
    fn default() -> Self {
        Self {
            notifications: NotificationSettingsView::default(),
            retention_days: None,
            security: SecuritySettingsView::default(),
            sso: SsoSettingsView {},
            ingest: IngestSettingsView::default(),
        }
    }
}

impl Default for NotificationSettingsView {
    fn default() -> Self {
        Self { email_enabled: true, slack_webhook_url: None, telegram_bot_token: None, telegram_chat_id: None }
    }
}

impl Default for IngestSettingsView {
    fn default() -> Self {
        Self { token_rotation_days: None, rotation_grace_hours: 24 }
    }
}

// Conversions from the core's records, for the server.
#[cfg(feature = "core")]
mod from_core {
    use super::*;
    use tenantry_core::domain::api_key::ApiKey;
    use tenantry_core::domain::invitation::Invitation;
    use tenantry_core::domain::models::{Member, Org, OrgWithRole, OutboxMessage, User};

    use tenantry_core::domain::permission::Role;
    use tenantry_core::domain::plan::{limit_to_api, BillingMode, Plan};
    use tenantry_core::domain::preset::Preset;
    use tenantry_core::domain::settings::{Ingest, Notifications, Security, Settings, Sso};
    use tenantry_core::service::access::OrgAccess;
    use tenantry_core::service::api_keys::IssuedKey;
    use tenantry_core::service::audit::AuditEntry;
    use tenantry_core::service::invitations::{Accepted, InvitationPreview, IssuedInvitation};
    use tenantry_core::service::plans::Billing;
    use tenantry_core::service::usage::{Metered, Usage};

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

    impl From<&Member> for MemberView {
        fn from(member: &Member) -> Self {
            Self {
                id: member.membership.id.to_string(),
                user_id: member.membership.user_id.to_string(),
                email: member.email.to_string(),
                display_name: member.display_name.clone(),
                role: member.membership.role.clone(),
                status: member.membership.status.as_str().to_owned(),
                joined_at: member.membership.joined_at,
                team_ids: member.team_ids.iter().map(ToString::to_string).collect(),
            }
        }
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
                attempts: m.attempts,
                last_error: m.last_error,
                failed_at: m.failed_at,
            }
        }
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

    impl From<IssuedKey> for IssuedKeyView {
        fn from(issued: IssuedKey) -> Self {
            Self { key: ApiKeyView::from(issued.key), secret: issued.secret }
        }
    }

    impl From<IssuedInvitation> for IssuedInvitationView {
        fn from(issued: IssuedInvitation) -> Self {
            Self { invitation: issued.invitation.into(), token: issued.token, accept_url: issued.accept_url }
        }
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

    impl From<Accepted> for AcceptedInvitationView {
        fn from(accepted: Accepted) -> Self {
            Self {
                org: OrgView::with_role(&accepted.org),
                member: MemberView::from(&accepted.member),
                skipped_team_ids: accepted.skipped_team_ids,
            }
        }
    }

    impl PlanView {
        pub fn new(plan: &Plan, preset: &Preset) -> Self {
            let mut limits = BTreeMap::from([
                ("members".to_owned(), limit_to_api(plan.members)),
                ("teams".to_owned(), limit_to_api(plan.teams)),
            ]);
            limits.extend(plan.limits.iter().map(|(metric, limit)| (metric.clone(), limit_to_api(*limit))));
            Self {
                key: plan.key.clone(),
                name: plan.name.clone(),
                default: plan.key == preset.default_plan,
                limits,
                retention_days: plan.retention_days,
                api_calls_per_minute: plan.api_calls_per_minute,
                features: plan.features.clone(),
            }
        }
    }

    impl From<Usage> for UsageView {
        fn from(usage: Usage) -> Self {
            Self {
                member_count: usage.member_count,
                endpoint_count: usage.endpoint_count,
                requests_this_month: usage.requests_this_month,
                limits: usage.limits.into_iter().map(|(key, limit)| (key, limit_to_api(limit))).collect(),
            }
        }
    }

    impl From<Metered> for MeteredView {
        fn from(m: Metered) -> Self {
            Self { metric: m.metric, value: m.value, limit: limit_to_api(m.limit), period: m.period }
        }
    }

    impl From<Billing> for BillingView {
        fn from(b: Billing) -> Self {
            Self {
                plan: b.org.plan,
                billing_customer_id: b.org.billing_customer_id,
                billing_mode: match b.mode {
                    BillingMode::Managed => "managed",
                    BillingMode::Open => "open",
                }
                .to_owned(),
            }
        }
    }

    impl From<User> for AdminUserView {
        fn from(user: User) -> Self {
            Self {
                id: user.id.to_string(),
                email: user.email.to_string(),
                display_name: user.display_name,
                email_verified: user.email_verified_at.is_some(),
                status: user.status.as_str().to_owned(),
                created_at: user.created_at,
            }
        }
    }

    impl From<Settings> for SettingsView {
        fn from(s: Settings) -> Self {
            Self {
                notifications: NotificationSettingsView {
                    email_enabled: s.notifications.email_enabled,
                    slack_webhook_url: s.notifications.slack_webhook_url,
                    telegram_bot_token: s.notifications.telegram_bot_token,
                    telegram_chat_id: s.notifications.telegram_chat_id,
                },
                retention_days: s.retention_days,
                security: SecuritySettingsView { mfa_required: s.security.mfa_required },
                sso: SsoSettingsView {},
                ingest: IngestSettingsView {
                    token_rotation_days: s.ingest.token_rotation_days,
                    rotation_grace_hours: s.ingest.rotation_grace_hours,
                },
            }
        }
    }

    impl From<SettingsView> for Settings {
        fn from(v: SettingsView) -> Self {
            Settings {
                notifications: Notifications {
                    email_enabled: v.notifications.email_enabled,
                    slack_webhook_url: v.notifications.slack_webhook_url,
                    telegram_bot_token: v.notifications.telegram_bot_token,
                    telegram_chat_id: v.notifications.telegram_chat_id,
                },
                retention_days: v.retention_days,
                security: Security { mfa_required: v.security.mfa_required },
                sso: Sso {},
                ingest: Ingest {
                    token_rotation_days: v.ingest.token_rotation_days,
                    rotation_grace_hours: v.ingest.rotation_grace_hours,
                },
            }
        }
    }

    impl From<AuditEntry> for AuditEventView {
        fn from(entry: AuditEntry) -> Self {
            let event = entry.event;
            Self {
                id: event.id.to_string(),
                org_id: event.org_id.map(|o| o.to_string()),
                actor: TypedRef { kind: event.actor.kind, id: event.actor.id },
                action: event.action,
                target: TypedRef { kind: event.target.kind, id: event.target.id },
                occurred_at: event.occurred_at,
                ip: event.ip,
                user_agent: event.user_agent,
                metadata: event.metadata,
                hash: entry.hash,
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_settings_documents_defaults_are_the_cores() {
            let ours = serde_json::to_value(SettingsView::default()).unwrap();
            let cores = serde_json::to_value(SettingsView::from(Settings::default())).unwrap();
            assert_eq!(ours, cores);
        }
    }
}
