use crate::authorize::schema_of;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::borrow::Cow;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// The second step of a login: the `mfa_token` and exactly one of `code` and `recovery_code`
/// (its schema is written out below: the derived one cannot say "exactly one").
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LoginMfaBody {
    /// From the first step's answer.
    pub mfa_token: String,
    /// The 6-digit code of the authenticator app; or give `recovery_code`.
    pub code: Option<String>,
    /// One of the ten recovery codes (each works once).
    pub recovery_code: Option<String>,
}

impl PartialSchema for LoginMfaBody {
    fn schema() -> RefOr<Schema> {
        let token = json!({ "type": "string", "description": "From the first step's answer." });
        let code = json!({ "type": "string", "description": "The 6-digit code of the authenticator app.", "example": "123456" });
        let recovery = json!({ "type": "string", "description": "One of the ten recovery codes (each works once).", "example": "abcd-efgh-ijkl-mnop" });
        let absent = json!({ "type": "null" });
        schema_of(json!({
            "description": "The `mfa_token` and exactly one of `code` and `recovery_code`.",
            "oneOf": [
                {
                    "type": "object",
                    "required": ["mfa_token", "code"],
                    "properties": { "mfa_token": token, "code": code, "recovery_code": absent },
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "required": ["mfa_token", "recovery_code"],
                    "properties": { "mfa_token": token, "code": absent, "recovery_code": recovery },
                    "additionalProperties": false
                }
            ]
        }))
    }
}

impl ToSchema for LoginMfaBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("LoginMfaBody")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    #[schema(example = "123456", pattern = "^[0-9]{6}$")]
    pub code: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DisableTotpBody {
    pub password: String,
    /// A current code, or a recovery code.
    pub code: String,
}

/// A new TOTP secret, pending until confirmed with a code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TotpEnrolmentView {
    /// Base32, for typing into an authenticator app.
    pub secret: String,
    pub otpauth_url: String,
    /// The `otpauth_url` as a QR code (SVG).
    pub qr_svg: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecoveryCodesView {
    /// Ten single-use codes, shown this once.
    pub recovery_codes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MfaStatusView {
    pub enabled: bool,
    pub recovery_codes_left: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionInfoView {
    #[schema(example = "ses_01HX2Z8Q6Y3V4W5T6R7S8P9N0M")]
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// How the login was authenticated: `["pwd"]` or `["pwd", "otp"]`.
    pub amr: Vec<String>,
    /// Whether this is the session of the request.
    pub current: bool,
}

// Conversions from the core's records, for the server.
#[cfg(feature = "core")]
mod from_core {
    use super::*;

    use tenantry_core::service::mfa::TotpEnrolment;
    use tenantry_core::service::sessions::SessionInfo;

    impl From<TotpEnrolment> for TotpEnrolmentView {
        fn from(e: TotpEnrolment) -> Self {
            Self { secret: e.secret, otpauth_url: e.otpauth_url, qr_svg: e.qr_svg }
        }
    }

    impl From<SessionInfo> for SessionInfoView {
        fn from(info: SessionInfo) -> Self {
            let s = info.session;
            Self {
                id: s.id.to_string(),
                created_at: s.created_at,
                last_used_at: s.last_used_at,
                ip: s.ip,
                user_agent: s.user_agent,
                amr: s.amr,
                current: info.current,
            }
        }
    }
}
