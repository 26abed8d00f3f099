use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// The key as presented to the host app.
    pub key: String,
    /// When given, the key's scopes must grant it.
    #[schema(example = "endpoints.create")]
    pub permission: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RateLimitView {
    pub limit: u32,
    pub remaining: u32,
    /// When the window ends, in Unix seconds.
    pub reset: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VerificationView {
    pub valid: bool,
    /// `VALID`, `NOT_FOUND`, `EXPIRED`, `REVOKED`, `INSUFFICIENT_PERMISSIONS` or `RATE_LIMITED`.
    #[schema(example = "VALID")]
    pub code: String,
    pub org_id: Option<String>,
    pub key_id: Option<String>,
    /// The key's scopes as created; empty when no key was found.
    pub scopes: Vec<String>,
    /// The key's rate-limit window after this call, when it was counted.
    pub rate_limit: Option<RateLimitView>,
}

// Conversions from the core's records, for the server.
#[cfg(feature = "core")]
mod from_core {
    use super::*;
    use tenantry_core::service::api_keys::{Verification, VerifyCode};

    impl From<Verification> for VerificationView {
        fn from(v: Verification) -> Self {
            let key = v.key.as_ref().map(|k| &k.key);
            Self {
                valid: v.code == VerifyCode::Valid,
                code: v.code.as_str().to_owned(),
                org_id: key.map(|k| k.org_id.to_string()),
                key_id: key.map(|k| k.id.to_string()),
                scopes: key.map(|k| k.scopes.clone()).unwrap_or_default(),
                rate_limit: v.rate.map(|r| RateLimitView {
                    limit: r.limit,
                    remaining: r.remaining,
                    reset: r.reset_at.timestamp(),
                }),
            }
        }
    }
}
