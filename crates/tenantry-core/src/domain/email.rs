//! Email addresses, compared case-insensitively: the stored form is trimmed and lowercased so the
//! unique index on it enforces "one account per address" whatever case people type.
//!
//! An address must also pass the parser of the mail library that delivers Tenantry's emails
//! (`lettre`): one it refuses (such as `a<b@c>@d.com`) could never be sent to, and would sit in
//! the outbox for good.

use std::fmt;

use serde::Serialize;

#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("must be an email address like name@example.com")]
    Malformed,
    #[error("must be at most 254 characters")]
    TooLong,
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        if trimmed.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or(EmailError::Malformed)?;
        let well_formed = !local.is_empty()
            && local.len() <= 64
            && !domain.is_empty()
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain.contains('.')
            && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
            && !domain.contains('@');
        if !well_formed || !deliverable(trimmed) {
            return Err(EmailError::Malformed);
        }
        Ok(Self(trimmed.to_lowercase()))
    }

    /// For values read back from the store, which only ever holds parsed addresses.
    pub fn from_trusted(stored: String) -> Self {
        Self(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether the mailer could address a message to `address`: it parses the stored form as a
/// `Mailbox`, which parses the address itself.
fn deliverable(address: &str) -> bool {
    address.parse::<lettre::Address>().is_ok() && address.to_lowercase().parse::<lettre::message::Mailbox>().is_ok()
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lowercases_and_trims() {
        assert_eq!(Email::parse("  Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "a da@example.com",
            "ada@.com",
            "a<b@c>@d.com",
            "<a@d.com>",
            "a,b@d.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    proptest! {
        #[test]
        fn parsing_is_idempotent(
            local in "[a-zA-Z0-9_+-]{1,10}(\\.[a-zA-Z0-9_+-]{1,9})?",
            domain in "[a-zA-Z0-9]([a-zA-Z0-9-]{0,18}[a-zA-Z0-9])?\\.[a-z]{2,6}",
        ) {
            let first = Email::parse(&format!("{local}@{domain}")).unwrap();
            let second = Email::parse(first.as_str()).unwrap();
            prop_assert_eq!(first, second);
        }
    }
}
