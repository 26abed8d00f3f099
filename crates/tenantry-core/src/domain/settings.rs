//! Org settings (SPEC 9): one document with the sections `notifications`, `retention_days`,
//! `security`, `sso` and `ingest`; its defaults, its validation (errors name the field path), the
//! masking of its write-only secret, the diff audited on change, and its ETag.
//!
//! Decisions where the spec is silent:
//! - A PUT replaces the whole document; a key it leaves out takes its default.
//! - `retention_days` absent or `null` follows the plan's maximum; a number pins it (at most the
//!   plan's). Reads show the effective number, never more than the current plan allows.
//! - `telegram_bot_token` is write-only: reads show it masked (`********` and its last four
//!   characters). Sending that mask back keeps the stored token; `null` or leaving it out clears
//!   it; anything else must be a full token.
//! - `sso` is a placeholder until SSO exists: it accepts only the empty object.
//! - `ingest` is the policy for the host app's event-ingest tokens, which the host app issues and
//!   enforces: how often to rotate them (`token_rotation_days`, `null` = never) and how long the
//!   previous token keeps working after a rotation (`rotation_grace_hours`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a masked secret starts with.
pub const MASK_PREFIX: &str = "********";
pub const MAX_ROTATION_DAYS: u32 = 365;
pub const MAX_GRACE_HOURS: u32 = 168;
const MAX_URL_CHARS: usize = 2048;
const SLACK_WEBHOOK_PREFIXES: &[&str] = &["https://hooks.slack.com/services/", "https://hooks.slack-gov.com/services/"];

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub notifications: Notifications,
    /// `None` follows the plan's maximum.
    pub retention_days: Option<u32>,
    pub security: Security,
    pub sso: Sso,
    pub ingest: Ingest,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Notifications {
    pub email_enabled: bool,
    pub slack_webhook_url: Option<String>,
    /// Kept out of the serialised document: the store holds it apart, and audit diffs never see
    /// its value.
    #[serde(skip)]
    pub telegram_bot_token: Option<String>,
    pub telegram_chat_id: Option<String>,
}

impl Default for Notifications {
    fn default() -> Self {
        Self { email_enabled: true, slack_webhook_url: None, telegram_bot_token: None, telegram_chat_id: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Security {
    /// Stored now; enforced once MFA exists.
    pub mfa_required: bool,
}

/// Reserved for per-org SSO.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sso {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ingest {
    pub token_rotation_days: Option<u32>,
    pub rotation_grace_hours: u32,
}

impl Default for Ingest {
    fn default() -> Self {
        Self { token_rotation_days: None, rotation_grace_hours: 24 }
    }
}

/// Settings as stored, with the version their ETag is made from: 0 (and the defaults) until the
/// first write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredSettings {
    pub settings: Settings,
    pub version: u64,
}

/// A value that breaks a rule, with the JSON path of its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SettingsError {
    pub field: &'static str,
    pub message: String,
}

fn fail(field: &'static str, message: impl Into<String>) -> SettingsError {
    SettingsError { field, message: message.into() }
}

/// The masked form of a secret: the prefix and its last four characters.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("{MASK_PREFIX}{tail}")
}

fn is_telegram_token(token: &str) -> bool {
    // `<bot id>:<secret>`, as BotFather issues them.
    let Some((id, secret)) = token.split_once(':') else { return false };
    !id.is_empty()
        && id.len() <= 20
        && id.bytes().all(|b| b.is_ascii_digit())
        && (20..=128).contains(&secret.len())
        && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn is_telegram_chat_id(id: &str) -> bool {
    // A numeric chat id (negative for groups and channels) or a public `@channel` name.
    let numeric = id.strip_prefix('-').unwrap_or(id);
    let is_number = !numeric.is_empty() && numeric.len() <= 20 && numeric.bytes().all(|b| b.is_ascii_digit());
    let is_channel = id.strip_prefix('@').is_some_and(|name| {
        (5..=32).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    });
    is_number || is_channel
}

fn is_slack_webhook(url: &str) -> bool {
    url.len() <= MAX_URL_CHARS
        && SLACK_WEBHOOK_PREFIXES.iter().any(|prefix| url.len() > prefix.len() && url.starts_with(prefix))
        && url.bytes().all(|b| b.is_ascii_graphic())
}

impl Settings {
    /// Turns a document as written by a client into the one to store, given what is stored now:
    /// resolves the masked secret, then checks every value against its rule and the plan's
    /// retention maximum.
    pub fn accept(mut self, stored: &Settings, max_retention_days: u32) -> Result<Settings, SettingsError> {
        let sent_token = self.notifications.telegram_bot_token.take();
        self.notifications.telegram_bot_token = match sent_token {
            Some(sent) => match &stored.notifications.telegram_bot_token {
                Some(current) if sent == mask(current) => Some(current.clone()),
                _ if is_telegram_token(&sent) => Some(sent),
                _ => {
                    return Err(fail(
                        "notifications.telegram_bot_token",
                        "must be a Telegram bot token like `123456:ABC…` (or the masked value read back, to keep \
                         the stored token)",
                    ))
                }
            },
            None => None,
        };
        if let Some(url) = &self.notifications.slack_webhook_url {
            if !is_slack_webhook(url) {
                return Err(fail(
                    "notifications.slack_webhook_url",
                    "must be a Slack incoming webhook URL (https://hooks.slack.com/services/…)",
                ));
            }
        }
        if let Some(chat) = &self.notifications.telegram_chat_id {
            if !is_telegram_chat_id(chat) {
                return Err(fail(
                    "notifications.telegram_chat_id",
                    "must be a numeric Telegram chat id or an `@channel` name",
                ));
            }
        }
        if let Some(days) = self.retention_days {
            if days == 0 || days > max_retention_days {
                return Err(fail(
                    "retention_days",
                    format!("must be from 1 to {max_retention_days} (the plan's maximum), or null for the maximum"),
                ));
            }
        }
        if let Some(days) = self.ingest.token_rotation_days {
            if days == 0 || days > MAX_ROTATION_DAYS {
                return Err(fail(
                    "ingest.token_rotation_days",
                    format!("must be from 1 to {MAX_ROTATION_DAYS}, or null for no rotation"),
                ));
            }
        }
        if self.ingest.rotation_grace_hours > MAX_GRACE_HOURS {
            return Err(fail("ingest.rotation_grace_hours", format!("must be from 0 to {MAX_GRACE_HOURS}")));
        }
        Ok(self)
    }

    /// The document as readers see it: the secret masked and `retention_days` the effective
    /// number under a plan allowing `max_retention_days`.
    pub fn for_reading(&self, max_retention_days: u32) -> Settings {
        let mut shown = self.clone();
        shown.notifications.telegram_bot_token = self.notifications.telegram_bot_token.as_deref().map(mask);
        shown.retention_days = Some(self.retention_days.map_or(max_retention_days, |d| d.min(max_retention_days)));
        shown
    }

    /// The paths of the values that differ between `self` and `other` (`retention_days`,
    /// `notifications.telegram_bot_token`, …), never the values themselves.
    pub fn changed_paths(&self, other: &Settings) -> Vec<String> {
        let mut paths = Vec::new();
        let before = serde_json::to_value(self).expect("settings serialise");
        let after = serde_json::to_value(other).expect("settings serialise");
        diff(&before, &after, "", &mut paths);
        if self.notifications.telegram_bot_token != other.notifications.telegram_bot_token {
            paths.push("notifications.telegram_bot_token".into());
        }
        paths.sort();
        paths
    }
}

fn diff(before: &Value, after: &Value, path: &str, out: &mut Vec<String>) {
    match (before, after) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                diff(a.get(key).unwrap_or(&Value::Null), b.get(key).unwrap_or(&Value::Null), &child, out);
            }
        }
        (a, b) if a != b => out.push(path.to_owned()),
        _ => {}
    }
}

/// The ETag of the settings at `version`.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// Whether an `If-Match` header value lets a write to the settings at `version` proceed: `*`, or
/// a list of entity tags one of which is the current one (strong comparison, so weak tags never
/// match).
pub fn if_match_allows(header: &str, version: u64) -> bool {
    let current = etag(version);
    header.split(',').map(str::trim).any(|tag| tag == "*" || tag == current)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

    fn with_token(token: Option<&str>) -> Settings {
        let mut s = Settings::default();
        s.notifications.telegram_bot_token = token.map(str::to_owned);
        s
    }

    #[test]
    fn the_mask_read_back_keeps_the_stored_token_and_anything_else_must_be_a_token() {
        let stored = with_token(Some(TOKEN));
        let shown = stored.for_reading(7);
        let masked = shown.notifications.telegram_bot_token.clone().unwrap();
        assert_eq!(masked, "********Dsaw");
        let kept = shown.clone().accept(&stored, 7).unwrap();
        assert_eq!(kept.notifications.telegram_bot_token.as_deref(), Some(TOKEN));
        // A mask of some other token is not a token.
        let err = with_token(Some("********abcd")).accept(&stored, 7).unwrap_err();
        assert_eq!(err.field, "notifications.telegram_bot_token");
        // With nothing stored, the mask is refused too.
        assert!(shown.accept(&Settings::default(), 7).is_err());
        assert_eq!(with_token(None).accept(&stored, 7).unwrap().notifications.telegram_bot_token, None);
    }

    #[test]
    fn retention_follows_the_plan_unless_pinned_and_never_exceeds_it() {
        let mut s = Settings::default();
        assert_eq!(s.for_reading(30).retention_days, Some(30));
        s.retention_days = Some(14);
        assert_eq!(s.for_reading(30).retention_days, Some(14));
        assert_eq!(s.for_reading(7).retention_days, Some(7), "a downgrade caps what readers see");
        assert_eq!(s.clone().accept(&Settings::default(), 7).unwrap_err().field, "retention_days");
        s.retention_days = Some(0);
        assert!(s.accept(&Settings::default(), 30).is_err());
    }

    #[test]
    fn values_are_checked_with_their_paths() {
        let mut s = Settings::default();
        s.notifications.slack_webhook_url = Some("http://hooks.slack.com/services/T/B/x".into());
        assert_eq!(s.clone().accept(&Settings::default(), 7).unwrap_err().field, "notifications.slack_webhook_url");
        s.notifications.slack_webhook_url = Some("https://hooks.slack.com/services/T000/B000/XXXX".into());
        assert!(s.clone().accept(&Settings::default(), 7).is_ok());
        for (chat, ok) in [("-1001234567890", true), ("@my_channel", true), ("chat", false), ("@ab", false)] {
            s.notifications.telegram_chat_id = Some(chat.into());
            assert_eq!(s.clone().accept(&Settings::default(), 7).is_ok(), ok, "{chat}");
        }
        s.notifications.telegram_chat_id = None;
        s.ingest.token_rotation_days = Some(366);
        assert_eq!(s.clone().accept(&Settings::default(), 7).unwrap_err().field, "ingest.token_rotation_days");
        s.ingest.token_rotation_days = Some(90);
        s.ingest.rotation_grace_hours = 169;
        assert_eq!(s.accept(&Settings::default(), 7).unwrap_err().field, "ingest.rotation_grace_hours");
    }

    #[test]
    fn the_diff_names_paths_and_the_secret_without_its_value() {
        let before = with_token(Some(TOKEN));
        let mut after = with_token(Some("42:abcdefghijklmnopqrstuvwxyz"));
        after.retention_days = Some(3);
        after.security.mfa_required = true;
        assert_eq!(
            before.changed_paths(&after),
            ["notifications.telegram_bot_token", "retention_days", "security.mfa_required"]
        );
        assert!(before.changed_paths(&before).is_empty());
    }

    #[test]
    fn if_match_compares_strongly() {
        assert!(if_match_allows("\"3\"", 3));
        assert!(if_match_allows("\"1\", \"3\"", 3));
        assert!(if_match_allows("*", 3));
        assert!(!if_match_allows("\"2\"", 3));
        assert!(!if_match_allows("W/\"3\"", 3));
    }
}
