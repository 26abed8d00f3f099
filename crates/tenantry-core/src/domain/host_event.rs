//! Events for host apps (SPEC 16): what changed, told to the SaaS's own backend so it can keep
//! its data in step. Each one is written beside the audit record of the same change, with the
//! same id, in the same transaction.
//!
//! Not every audit record is an event: refusals and logins change nothing, requests for emails
//! are not changes a host app mirrors, and a host app's own audit entries are its own. The
//! catalog below names, explicitly, which audit actions are events and under which type.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::ids::{EventId, OrgId};

/// One event as host apps read it: `{id, type, occurred_at, org_id, data}`.
#[derive(Debug, Clone, PartialEq)]
pub struct HostEvent {
    pub id: EventId,
    pub event_type: String,
    pub org_id: Option<OrgId>,
    pub occurred_at: DateTime<Utc>,
    /// The object after the change (for a deletion, the object as it was); never a secret.
    pub data: Value,
}

/// Where an event sits in the log: readers page by it. On PostgreSQL `tx` is the writing
/// transaction's id, so the order is the order in which events became visible.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventPosition {
    pub tx: i64,
    pub seq: i64,
}

/// An event with its place in the log.
#[derive(Debug, Clone)]
pub struct LoggedEvent {
    pub position: EventPosition,
    pub event: HostEvent,
}

/// The event type of an audit action, when the action is one host apps are told about.
pub fn host_event_type(action: &str) -> Option<&'static str> {
    Some(match action {
        "user.signed_up" => "user.created",
        "user.email_verified" => "user.email_verified",
        "user.suspended" => "user.suspended",
        "user.unsuspended" => "user.unsuspended",
        "org.created" => "org.created",
        "org.updated" => "org.updated",
        "org.deleted" => "org.deleted",
        "org.settings_updated" => "org.settings_updated",
        "org.plan_changed" => "org.plan_changed",
        "org.billing_customer_changed" => "org.billing_customer_changed",
        "org.ownership_transferred" => "org.ownership_transferred",
        "member.added" => "member.added",
        "member.removed" => "member.removed",
        "member.left" => "member.removed",
        "member.role_changed" => "member.role_changed",
        "member.suspended" => "member.suspended",
        "member.unsuspended" => "member.unsuspended",
        "invitation.created" => "invitation.created",
        "invitation.accepted" => "invitation.accepted",
        "invitation.declined" => "invitation.declined",
        "invitation.revoked" => "invitation.revoked",
        "api_key.created" => "api_key.created",
        "api_key.rolled" => "api_key.rolled",
        "api_key.revoked" => "api_key.revoked",
        "role.created" => "role.created",
        "role.updated" => "role.updated",
        "role.deleted" => "role.deleted",
        "team.created" => "team.created",
        "team.updated" => "team.updated",
        "team.deleted" => "team.deleted",
        "team.member_added" => "team.member_added",
        "team.member_role_changed" => "team.member_role_changed",
        "team.member_removed" => "team.member_removed",
        "webhook_endpoint.disabled" => "webhook_endpoint.disabled",
        _ => return None,
    })
}

/// Which event types a reader or an endpoint wants: each entry is a type (`member.added`) or a
/// prefix ending in `.` (`member.`); no entry means every type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventTypes(Vec<String>);

impl EventTypes {
    /// Every type.
    pub fn all() -> Self {
        Self(Vec::new())
    }

    /// Checks each entry: lowercase words joined by `.` or `_`, as types are written.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let mut kept = Vec::with_capacity(entries.len());
        for entry in entries {
            let entry = entry.as_ref().trim();
            let well_formed = !entry.is_empty()
                && entry.len() <= 100
                && !entry.starts_with('.')
                && !entry.contains("..")
                && entry.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_');
            if !well_formed {
                return Err(format!(
                    "`{entry}` is not an event type or a prefix ending in `.` (e.g. `member.added` or `member.`)"
                ));
            }
            if !kept.iter().any(|k| k == entry) {
                kept.push(entry.to_owned());
            }
        }
        Ok(Self(kept))
    }

    /// Parses a comma-separated list (`member.,org.deleted`); empty means every type.
    pub fn parse_list(list: &str) -> Result<Self, String> {
        let entries: Vec<&str> = list.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        Self::parse(&entries)
    }

    pub fn matches(&self, event_type: &str) -> bool {
        self.0.is_empty()
            || self.0.iter().any(|entry| {
                if entry.ends_with('.') {
                    event_type.starts_with(entry.as_str())
                } else {
                    event_type == entry
                }
            })
    }

    pub fn entries(&self) -> &[String] {
        &self.0
    }

    /// The exact types and the prefixes, for a store to filter with.
    pub fn split(&self) -> (Vec<&str>, Vec<&str>) {
        self.0.iter().map(String::as_str).partition(|e| !e.ends_with('.'))
    }
}

/// Where a page of the event log starts, as the edge read the client's `after`. Text that names
/// no event is kept as such rather than refused where it is read, so a caller who may not read
/// the log is told that first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventCursor {
    After(EventId),
    NotAnEventId,
}

impl EventCursor {
    /// The cursor `after` names; none when it is absent or empty.
    pub fn read(after: Option<&str>) -> Option<Self> {
        after.filter(|a| !a.is_empty()).map(|a| a.parse().map_or(Self::NotAnEventId, Self::After))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_match_exactly_or_by_prefix() {
        let types = EventTypes::parse_list("member., org.deleted").unwrap();
        assert!(types.matches("member.added"));
        assert!(types.matches("member.role_changed"));
        assert!(types.matches("org.deleted"));
        assert!(!types.matches("org.deleted_later"));
        assert!(!types.matches("org.created"));
        assert!(!types.matches("members.added"));
        assert!(EventTypes::all().matches("anything"));
        assert!(EventTypes::parse_list("").unwrap().matches("team.created"));
    }

    #[test]
    fn malformed_types_are_refused() {
        for bad in ["Member.added", ".added", "member..added", "member added", "member.*"] {
            assert!(EventTypes::parse(&[bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn refusals_logins_and_requests_are_not_events() {
        for action in ["security.forbidden", "security.login", "user.password_reset_requested", "usage.limit_refused"] {
            assert_eq!(host_event_type(action), None, "{action}");
        }
        assert_eq!(host_event_type("user.signed_up"), Some("user.created"));
        assert_eq!(host_event_type("member.left"), Some("member.removed"));
    }
}
