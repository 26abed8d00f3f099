//! What a host app's service token may do. SPEC 8 gives service tokens the host-app hot paths
//! only; anything more (reading an org's audit log, changing plans) is granted by name in the
//! configuration, so a leaked token of one host app exposes as little as possible.

use std::fmt;

use crate::{Error, Result};

/// One capability a service token may be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceGrant {
    /// `POST /v1/keys/verify`.
    Verify,
    /// `POST /v1/authorize`.
    Authorize,
    /// Reading an org's usage and metering it (`/v1/orgs/{org}/usage…`).
    Metering,
    /// Reading and exporting any org's audit log.
    AuditRead,
    /// Adding the host app's own events to an org's audit log.
    AuditWrite,
    /// Changing an org's plan and its billing customer (the billing backend, after payment).
    Billing,
    /// Reading the instance's event log (`GET /v1/events`).
    EventsRead,
    /// Sending an org's notifications to its channels (`POST /v1/orgs/{org}/notifications`).
    Notifications,
}

impl ServiceGrant {
    pub const ALL: [Self; 8] = [
        Self::Verify,
        Self::Authorize,
        Self::Metering,
        Self::AuditRead,
        Self::AuditWrite,
        Self::Billing,
        Self::EventsRead,
        Self::Notifications,
    ];

    /// What a token configured without a list of grants holds: the hot paths of SPEC 8.
    pub const DEFAULT: [Self; 3] = [Self::Verify, Self::Authorize, Self::Metering];

    pub fn name(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::Authorize => "authorize",
            Self::Metering => "metering",
            Self::AuditRead => "audit.read",
            Self::AuditWrite => "audit.write",
            Self::Billing => "billing",
            Self::EventsRead => "events.read",
            Self::Notifications => "notifications",
        }
    }

    pub fn parse(name: &str) -> std::result::Result<Self, String> {
        Self::ALL.into_iter().find(|g| g.name() == name).ok_or_else(|| {
            let known = Self::ALL.map(Self::name).join(", ");
            format!("`{name}` is not a service token grant (known: {known})")
        })
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for ServiceGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The grants of one service token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceGrants(u8);

impl ServiceGrants {
    pub fn of(grants: impl IntoIterator<Item = ServiceGrant>) -> Self {
        Self(grants.into_iter().fold(0, |bits, g| bits | g.bit()))
    }

    pub fn contains(self, grant: ServiceGrant) -> bool {
        self.0 & grant.bit() != 0
    }

    /// 403 unless `grant` is held.
    pub fn require(self, grant: ServiceGrant) -> Result<()> {
        if self.contains(grant) {
            return Ok(());
        }
        Err(Error::forbidden(format!(
            "this service token lacks the grant `{grant}`; grant it in the token's `grants` in the configuration"
        )))
    }
}

impl Default for ServiceGrants {
    fn default() -> Self {
        Self::of(ServiceGrant::DEFAULT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for grant in ServiceGrant::ALL {
            assert_eq!(ServiceGrant::parse(grant.name()), Ok(grant));
        }
        assert!(ServiceGrant::parse("admin").unwrap_err().contains("audit.read"));
    }

    #[test]
    fn the_default_is_the_hot_paths_only() {
        let grants = ServiceGrants::default();
        assert!(grants.contains(ServiceGrant::Verify) && grants.contains(ServiceGrant::Metering));
        assert!(!grants.contains(ServiceGrant::AuditRead) && !grants.contains(ServiceGrant::Billing));
    }
}
