use crate::views::{OrgView, UserView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    /// An address the mail library can deliver to; it is lowercased.
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// 8 to 128 characters (all of them count).
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    /// 1 to 100 characters once trimmed, without control characters.
    #[schema(
        example = "Ada Lovelace",
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub display_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    pub refresh_token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SwitchOrgBody {
    /// An org id or slug.
    pub org_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    pub token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ResetRequestBody {
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmBody {
    /// The token from the reset link.
    pub token: String,
    /// 8 to 128 characters (all of them count).
    #[schema(min_length = 8, max_length = 128)]
    pub new_password: String,
}

/// Tokens and the signed-in user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    /// EdDSA JWT; send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Single use: each refresh returns a new one.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until `access_token` expires.
    pub expires_in: i64,
    pub user: UserView,
    /// The session's active org (after signup, the personal org).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MeView {
    pub user: UserView,
    /// Every org the user belongs to, with the user's role.
    pub orgs: Vec<OrgView>,
    pub active_org_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SwitchedView {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    pub expires_in: i64,
    pub org: OrgView,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AcceptedView {
    pub message: String,
}

/// The second step a login with MFA waits for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MfaChallengeView {
    /// Always `true`: no tokens yet.
    pub mfa_required: bool,
    /// For `POST /v1/auth/login/mfa`; lives 5 minutes and takes 5 attempts.
    pub mfa_token: String,
}

/// What a login answers: the session, or (for an account with MFA) the second step.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum LoginView {
    Session(Box<SessionView>),
    Mfa(MfaChallengeView),
}

// Conversions from the core's records, for the server.
#[cfg(feature = "core")]
mod from_core {
    use super::*;

    use tenantry_core::service::accounts::SignedIn;

    impl From<SignedIn> for SessionView {
        fn from(s: SignedIn) -> Self {
            Self {
                access_token: s.tokens.access_token,
                refresh_token: s.tokens.refresh_token,
                token_type: "Bearer".to_owned(),
                expires_in: s.tokens.expires_in,
                user: UserView::from(&s.user),
                org: s.org.as_ref().map(OrgView::with_role),
            }
        }
    }
}
