//! An org's notifications (SPEC 16, Hooklistener's email, Slack and Telegram settings): a host
//! app sends one, and it goes to each channel the org's settings name. Emails go through the
//! outbox, Slack and Telegram messages through the deliveries queue; both are retried, and both
//! are claimed by one node at a time.

use serde_json::json;

use super::email::{escape_html, Letter};
use super::service_grants::ServiceGrant;
use super::unit_of_work::Event;
use super::{Notifications, Principal, RequestMeta};
use crate::domain::audit::Target;
use crate::domain::ids::{EventId, OrgRef};
use crate::domain::models::MemberStatus;
use crate::domain::pagination::PageRequest;
use crate::domain::permission::Permission;
use crate::domain::webhook::Channel;
use crate::{Error, Result};

pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_TEXT_CHARS: usize = 4000;
/// The most members one notification is emailed to.
const MAX_EMAIL_RECIPIENTS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "info" => Some(Self::Info),
            "warning" => Some(Self::Warning),
            "critical" => Some(Self::Critical),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

pub struct Notification {
    pub subject: String,
    pub text: String,
    pub severity: Severity,
}

/// What a notification was queued to.
pub struct NotificationSent {
    pub id: EventId,
    /// `email`, `slack`, `telegram`: the channels it went to.
    pub channels: Vec<&'static str>,
    pub email_recipients: usize,
}

fn check(notification: &Notification) -> Result<()> {
    let subject = notification.subject.trim();
    if subject.is_empty() || subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(Error::invalid("subject", format!("must be 1 to {MAX_SUBJECT_CHARS} characters")));
    }
    let text = notification.text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::invalid("text", format!("must be 1 to {MAX_TEXT_CHARS} characters")));
    }
    Ok(())
}

impl Notifications<'_> {
    /// Sends a host app's notification to the org's channels (service tokens granted
    /// `notifications`, and the instance admin).
    pub async fn send_notification(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        notification: Notification,
        meta: &RequestMeta,
    ) -> Result<NotificationSent> {
        match principal {
            Principal::Admin => {}
            Principal::Service { .. } => principal.require_grant(ServiceGrant::Notifications)?,
            _ => {
                return Err(Error::forbidden(
                    "notifications are sent by host apps (service tokens granted `notifications`); members send a \
                     test from the org's settings",
                ))
            }
        }
        self.notify(principal, reference, notification, meta).await
    }

    /// Sends a test message to the org's channels, so whoever set them up sees them work
    /// (`org.manage`, as for the settings themselves).
    pub async fn send_test_notification(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        meta: &RequestMeta,
    ) -> Result<NotificationSent> {
        let notification = Notification {
            subject: "Test notification".into(),
            text: "Notifications from Tenantry reach this channel.".into(),
            severity: Severity::Info,
        };
        let mut tx = self.store.read().await?;
        let access = self.org_access(tx.as_mut(), principal, reference).await?;
        self.require(&access, Permission::OrgManage)?;
        drop(tx);
        self.notify(principal, reference, notification, meta).await
    }

    async fn notify(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        notification: Notification,
        meta: &RequestMeta,
    ) -> Result<NotificationSent> {
        check(&notification)?;
        let mut w = self.operator_write(principal, reference, None, meta).await?;
        let org = w.access.org.clone();
        let settings = w.tx().org_settings(org.id).await?.unwrap_or_default().settings.notifications;
        let id = EventId::new();
        let mut channels = Vec::new();
        let heading = match notification.severity {
            Severity::Info => notification.subject.clone(),
            other => format!("[{}] {}", other.as_str(), notification.subject),
        };
        let mut email_recipients = 0;
        if settings.email_enabled {
            let mut page = PageRequest::first(100);
            'pages: loop {
                let members = w.tx().list_members(org.id, &page).await?;
                let more = members.len() > 100;
                for member in members.iter().take(100) {
                    if member.membership.status != MemberStatus::Active {
                        continue;
                    }
                    let role = self.resolve_role(w.tx(), org.id, &member.membership.role).await?;
                    if !self.preset.catalog.grants(role.permissions, Permission::OrgManage) {
                        continue;
                    }
                    let letter = Letter {
                        to: member.email.clone(),
                        subject: format!("{}: {heading}", org.name),
                        text: format!("{}\n\n{}\n", heading, notification.text),
                        html: format!(
                            "<!doctype html><html><body style=\"font-family:sans-serif\"><p><strong>{}</strong></p><p>{}</p></body></html>",
                            escape_html(&heading),
                            escape_html(&notification.text)
                        ),
                        link: String::new(),
                    };
                    w.queue_letter(letter).await?;
                    email_recipients += 1;
                    if email_recipients >= MAX_EMAIL_RECIPIENTS {
                        break 'pages;
                    }
                }
                match (more, members.get(99)) {
                    (true, Some(last)) => {
                        page = PageRequest { after: Some(last.membership.id.to_string()), limit: 100 }
                    }
                    _ => break,
                }
            }
            if email_recipients > 0 {
                channels.push("email");
            }
        }
        let text = format!("{heading}\n\n{}", notification.text);
        if settings.slack_webhook_url.is_some() {
            let payload = json!({ "text": format!("*{heading}*\n{}", notification.text) });
            let delivery =
                self.webhooks().new_delivery(Channel::Slack, None, Some(org.id), id, "notification", payload);
            w.tx().insert_delivery(&delivery).await?;
            channels.push("slack");
        }
        if let (Some(_), Some(chat)) = (&settings.telegram_bot_token, &settings.telegram_chat_id) {
            let payload = json!({ "chat_id": chat, "text": text });
            let delivery =
                self.webhooks().new_delivery(Channel::Telegram, None, Some(org.id), id, "notification", payload);
            w.tx().insert_delivery(&delivery).await?;
            channels.push("telegram");
        }
        let metadata = json!({
            "subject": notification.subject,
            "severity": notification.severity.as_str(),
            "channels": channels,
            "email_recipients": email_recipients,
        });
        w.commit(Event::new("notification.sent", Target::new("organization", org.id), metadata)).await?;
        self.deliveries_ready.notify_one();
        Ok(NotificationSent { id, channels, email_recipients })
    }
}
