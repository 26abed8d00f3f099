//! Audit events and their tamper-evident chain.
//!
//! Each event's `hash` covers its content and the previous event's hash within the same org (or
//! the instance-wide chain for events without an org), so an edited, deleted or reordered row
//! breaks the chain from that point on.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::ids::{EventId, OrgId};

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// `user`, `api_key`, `admin`, `service` or `system`.
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

/// The hash chained after `previous` (empty for the first event of a chain).
pub fn chain_hash(previous: &str, event: &AuditEvent) -> String {
    // serde_json writes struct fields in declaration order and object keys sorted, so the same
    // event always serialises to the same bytes.
    let content = serde_json::to_vec(event).expect("audit events serialise");
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(b"\n");
    hasher.update(&content);
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
