use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct NotificationBody {
    /// 1 to 200 characters once trimmed.
    #[schema(example = "Monitor api.example.com is down", min_length = 1, max_length = 200, pattern = "\\S")]
    pub subject: String,
    /// 1 to 4000 characters once trimmed.
    #[schema(example = "No answer since 09:12 UTC.", min_length = 1, max_length = 4000, pattern = "\\S")]
    pub text: String,
    /// `info` (default), `warning` or `critical`.
    #[schema(example = "critical", value_type = Option<String>, pattern = "^(info|warning|critical)$")]
    pub severity: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NotificationView {
    pub id: String,
    /// The channels it was queued to: `email`, `slack`, `telegram`.
    pub channels: Vec<String>,
    pub email_recipients: usize,
}

// Conversions from the core's records, for the server.
#[cfg(feature = "core")]
mod from_core {
    use super::*;

    use tenantry_core::service::notifications::NotificationSent;

    impl From<NotificationSent> for NotificationView {
        fn from(sent: NotificationSent) -> Self {
            Self {
                id: sent.id.to_string(),
                channels: sent.channels.iter().map(|c| (*c).to_owned()).collect(),
                email_recipients: sent.email_recipients,
            }
        }
    }
}
