//! Audit events, their query filters and their tamper-evident chain.
//!
//! Each stored event's `hash` covers its stored columns and the previous event's hash within the
//! same org (or the instance-wide chain for events without an org), so an edited, deleted or
//! reordered row breaks the chain from that point on. Only the newest rows can be cut off
//! unnoticed by the chain alone; every other change to history is detected.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::ids::{EventId, OrgId};

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// `user`, `api_key`, `admin`, `service`, `anonymous`, or a host app's own kind.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

impl Actor {
    pub fn new(kind: &str, id: impl ToString) -> Self {
        Self { kind: kind.to_owned(), id: id.to_string() }
    }
}

/// What it was done to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

impl Target {
    pub fn new(kind: &str, id: impl ToString) -> Self {
        Self { kind: kind.to_owned(), id: id.to_string() }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    pub id: EventId,
    pub org_id: Option<OrgId>,
    pub actor: Actor,
    pub action: String,
    pub target: Target,
    pub occurred_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub metadata: Value,
}

/// An event in the form it is stored: exactly the columns the chain hash covers, as text and
/// integers, so checking a row never depends on parsing it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub id: String,
    pub org_id: Option<String>,
    pub actor_type: String,
    pub actor_id: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    /// Milliseconds since the Unix epoch.
    pub occurred_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The metadata object as JSON text.
    pub metadata: String,
}

impl AuditRecord {
    pub fn of(event: &AuditEvent) -> Self {
        Self {
            id: event.id.to_string(),
            org_id: event.org_id.map(|o| o.to_string()),
            actor_type: event.actor.kind.clone(),
            actor_id: event.actor.id.clone(),
            action: event.action.clone(),
            target_type: event.target.kind.clone(),
            target_id: event.target.id.clone(),
            occurred_at: event.occurred_at.timestamp_millis(),
            ip: event.ip.clone(),
            user_agent: event.user_agent.clone(),
            metadata: event.metadata.to_string(),
        }
    }

    /// The hash of this record chained after `previous` (empty for the first event of a chain).
    pub fn hash_after(&self, previous: &str) -> String {
        // serde_json writes struct fields in declaration order, so a record always serialises
        // to the same bytes.
        let content = serde_json::to_vec(self).expect("audit records serialise");
        let mut hasher = Sha256::new();
        hasher.update(previous.as_bytes());
        hasher.update(b"\n");
        hasher.update(&content);
        hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The event this record stores; `None` when a column no longer holds what was written.
    pub fn event(&self) -> Option<AuditEvent> {
        Some(AuditEvent {
            id: self.id.parse().ok()?,
            org_id: self.org_id.as_deref().map(str::parse).transpose().ok()?,
            actor: Actor::new(&self.actor_type, &self.actor_id),
            action: self.action.clone(),
            target: Target::new(&self.target_type, &self.target_id),
            occurred_at: DateTime::from_timestamp_millis(self.occurred_at)?,
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            metadata: serde_json::from_str(&self.metadata).ok()?,
        })
    }
}

/// A stored record with its place in the log and its chain link.
#[derive(Debug, Clone)]
pub struct ChainedRecord {
    /// Position in the whole log; orders each chain.
    pub seq: i64,
    pub record: AuditRecord,
    pub prev_hash: String,
    pub hash: String,
}

/// Which chain: an org's, or the instance-wide one of events that belong to no org.
pub type Chain = Option<OrgId>;

/// How a chain was found broken at a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainBreak {
    /// The row's content no longer matches its hash: it was edited.
    Altered,
    /// The row does not link to the row before it: a row between them was deleted, or rows
    /// were reordered or replaced.
    Unlinked,
}

impl ChainBreak {
    pub fn explain(self) -> &'static str {
        match self {
            Self::Altered => "its content does not match its hash (the row was edited)",
            Self::Unlinked => {
                "it does not link to the event before it (an event was deleted, or events were reordered or replaced)"
            }
        }
    }
}

/// Walks one chain in order, row by row, in constant memory.
#[derive(Debug, Default)]
pub struct ChainWalker {
    expected_prev: String,
    pub checked: u64,
}

impl ChainWalker {
    pub fn check(&mut self, row: &ChainedRecord) -> Result<(), ChainBreak> {
        self.checked += 1;
        if row.record.hash_after(&row.prev_hash) != row.hash {
            return Err(ChainBreak::Altered);
        }
        if row.prev_hash != self.expected_prev {
            return Err(ChainBreak::Unlinked);
        }
        self.expected_prev.clone_from(&row.hash);
        Ok(())
    }
}

/// Which events a query wants. Every field narrows the result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// The actor's id (a user id, key id, `admin`, a service name, …).
    pub actor: Option<String>,
    pub action: Option<ActionFilter>,
    /// The target's id.
    pub target: Option<String>,
    /// Occurred at or after.
    pub since: Option<DateTime<Utc>>,
    /// Occurred strictly before.
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionFilter {
    Exact(String),
    /// Every action starting with this text, which ends with `.` (e.g. `member.`).
    Prefix(String),
}

impl ActionFilter {
    /// `member.` is a prefix; anything else must match exactly.
    pub fn parse(text: &str) -> Self {
        if text.ends_with('.') {
            Self::Prefix(text.to_owned())
        } else {
            Self::Exact(text.to_owned())
        }
    }
}

/// Namespaces of Tenantry's own events. Host apps may not write actions in them, so an event in
/// one of them was always written by Tenantry itself.
pub const RESERVED_NAMESPACES: &[&str] =
    &["api_key", "audit", "auth", "invitation", "member", "org", "role", "security", "session", "usage", "user"];

/// Longest host event action, actor or target field.
pub const MAX_FIELD_LEN: usize = 200;
/// Largest host event metadata, as JSON text.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// Whether `action` has the form `^[a-z_]+(\.[a-z_]+)+$`: dotted lowercase words.
pub fn is_valid_action(action: &str) -> bool {
    let mut parts = action.split('.');
    let words = parts.by_ref().map(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    let (mut count, mut valid) = (0, true);
    for ok in words {
        count += 1;
        valid &= ok;
    }
    valid && count >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: i64) -> AuditRecord {
        AuditRecord {
            id: format!("evt_{n}"),
            org_id: Some("org_1".into()),
            actor_type: "user".into(),
            actor_id: "usr_1".into(),
            action: "org.updated".into(),
            target_type: "org".into(),
            target_id: "org_1".into(),
            occurred_at: n,
            ip: None,
            user_agent: None,
            metadata: "{}".into(),
        }
    }

    fn chain(len: i64) -> Vec<ChainedRecord> {
        let mut prev = String::new();
        (1..=len)
            .map(|seq| {
                let record = record(seq);
                let hash = record.hash_after(&prev);
                let row = ChainedRecord { seq, record, prev_hash: prev.clone(), hash: hash.clone() };
                prev = hash;
                row
            })
            .collect()
    }

    fn first_break(rows: &[ChainedRecord]) -> Option<(i64, ChainBreak)> {
        let mut walker = ChainWalker::default();
        rows.iter().find_map(|row| walker.check(row).err().map(|b| (row.seq, b)))
    }

    #[test]
    fn an_intact_chain_passes() {
        assert_eq!(first_break(&chain(5)), None);
    }

    #[test]
    fn edits_deletions_and_swaps_are_found_where_they_happen() {
        let mut edited = chain(5);
        edited[2].record.metadata = r#"{"x":1}"#.into();
        assert_eq!(first_break(&edited), Some((3, ChainBreak::Altered)));

        // An edit whose hash was recomputed still breaks the next link.
        let mut rehashed = chain(5);
        rehashed[2].record.actor_id = "usr_2".into();
        rehashed[2].hash = rehashed[2].record.hash_after(&rehashed[2].prev_hash);
        assert_eq!(first_break(&rehashed), Some((4, ChainBreak::Unlinked)));

        let mut deleted = chain(5);
        deleted.remove(1);
        assert_eq!(first_break(&deleted), Some((3, ChainBreak::Unlinked)));

        let mut swapped = chain(5);
        swapped.swap(1, 2);
        assert_eq!(first_break(&swapped), Some((3, ChainBreak::Unlinked)));
    }

    #[test]
    fn records_round_trip_through_events() {
        let event = AuditEvent {
            id: EventId::new(),
            org_id: Some(OrgId::new()),
            actor: Actor::new("user", "usr_1"),
            action: "org.updated".into(),
            target: Target::new("org", "org_1"),
            occurred_at: DateTime::from_timestamp_millis(1_700_000_000_123).unwrap(),
            ip: Some("127.0.0.1".into()),
            user_agent: None,
            metadata: serde_json::json!({ "b": [1, 2.5, "x"], "a": null }),
        };
        let record = AuditRecord::of(&event);
        assert_eq!(AuditRecord::of(&record.event().unwrap()), record);
    }

    #[test]
    fn action_names_are_dotted_lowercase_words() {
        for good in ["deploy.created", "billing.invoice_paid", "a.b.c"] {
            assert!(is_valid_action(good), "{good}");
        }
        for bad in ["deploy", "Deploy.created", "deploy.", ".deploy", "deploy..x", "deploy.créé", "a.b1", ""] {
            assert!(!is_valid_action(bad), "{bad}");
        }
    }
}
