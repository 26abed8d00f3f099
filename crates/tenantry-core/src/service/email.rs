//! Emails Tenantry sends. Each is written to the outbox inside the transaction of the change that
//! causes it, so a message is never lost and never sent for a change that rolled back; delivery
//! (SMTP, when configured) happens afterwards, from the outbox.

use super::Tenantry;
use crate::domain::email::Email;
use crate::domain::ids::MessageId;
use crate::domain::invitation::Invitation;
use crate::domain::models::OutboxMessage;
use crate::store::Tx;
use crate::Result;

/// A message ready for the outbox, with the link it carries (logged when links are logged).
pub(crate) struct Letter {
    pub to: Email,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub link: String,
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html_page(greeting: &str, body: &str, link: &str, action: &str) -> String {
    format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><p>{}</p><p>{}</p>\
         <p><a href=\"{link}\">{}</a></p><p style=\"color:#666\">If the button does not work, open {link}</p></body></html>",
        escape_html(greeting),
        escape_html(body),
        escape_html(action),
        link = escape_html(link),
    )
}

impl Tenantry {
    pub(crate) fn verification_letter(&self, to: &Email, name: &str, token: &str) -> Letter {
        let link = format!("{}/verify-email/{token}", self.settings.public_url);
        let greeting = format!("Hi {name},");
        let body = "Please confirm your email address for Tenantry.";
        Letter {
            to: to.clone(),
            subject: "Confirm your email address".into(),
            text: format!("{greeting}\n\n{body}\n\n{link}\n"),
            html: html_page(&greeting, body, &link, "Confirm email"),
            link,
        }
    }

    pub(crate) fn password_reset_letter(&self, to: &Email, name: &str, token: &str) -> Letter {
        let link = format!("{}/reset-password/{token}", self.settings.public_url);
        let greeting = format!("Hi {name},");
        let body = "Someone asked to reset your Tenantry password. If it was you, choose a new one with \
                    the link below; otherwise ignore this message.";
        Letter {
            to: to.clone(),
            subject: "Reset your password".into(),
            text: format!("{greeting}\n\n{body}\n\n{link}\n"),
            html: html_page(&greeting, body, &link, "Reset password"),
            link,
        }
    }

    /// Where an invitation is answered.
    pub(crate) fn accept_invite_url(&self, token: &str) -> String {
        format!("{}/accept-invite/{token}", self.settings.public_url)
    }

    pub(crate) fn invitation_letter(
        &self,
        invitation: &Invitation,
        org: &str,
        inviter: &str,
        role: &str,
        token: &str,
    ) -> Letter {
        let link = self.accept_invite_url(token);
        let expires = invitation.expires_at.format("%Y-%m-%d %H:%M UTC");
        let greeting = "Hi,";
        let body = format!(
            "{inviter} invited you to join {org} on Tenantry as {role}. Open the link to accept or decline; it \
             works until {expires}. If you did not expect this invitation, you can ignore this message."
        );
        Letter {
            to: invitation.email.clone(),
            subject: format!("{inviter} invited you to join {org}"),
            text: format!("{greeting}\n\n{body}\n\n{link}\n"),
            html: html_page(greeting, &body, &link, "View the invitation"),
            link,
        }
    }

    /// Writes the letter to the outbox within `tx`.
    pub(crate) async fn queue_letter(&self, tx: &mut dyn Tx, letter: &Letter) -> Result<()> {
        let message = OutboxMessage {
            id: MessageId::new(),
            to: letter.to.clone(),
            subject: letter.subject.clone(),
            text: letter.text.clone(),
            html: letter.html.clone(),
            created_at: self.clock.now(),
            sent_at: None,
            attempts: 0,
            next_attempt_at: Some(self.clock.now()),
            last_error: None,
            failed_at: None,
        };
        tx.insert_outbox(&message).await?;
        Ok(())
    }

    /// After the transaction that queued `letter` committed: wake the sender and, when no SMTP
    /// server is configured, log the link so a fresh install can follow it.
    pub(crate) fn letter_committed(&self, letter: &Letter) {
        self.outbox_ready.notify_one();
        if self.settings.log_email_links {
            tracing::info!(to = %letter.to, subject = %letter.subject, link = %letter.link, "email queued in the outbox");
        }
    }
}
