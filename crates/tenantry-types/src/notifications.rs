use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationBody {
    #[schema(example = "Monitor api.example.com is down", min_length = 1, max_length = 200)]
    pub subject: String,
    #[schema(example = "No answer since 09:12 UTC.", min_length = 1, max_length = 4000)]
    pub text: String,
    /// `info` (default), `warning` or `critical`.
    #[schema(example = "critical")]
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
