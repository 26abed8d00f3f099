//! The audit log: writing events (every change calls `record` inside its own transaction, so the
//! change and its event commit together or not at all), reading them back for members with
//! `audit.view` on plans with `audit_log`, host apps' own events, and verifying the chains.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::{Audit, Principal, RequestMeta};
use crate::domain::audit::{
    is_valid_action, Actor, AuditEvent, AuditFilter, AuditRecord, Chain, ChainBreak, ChainWalker, ChainedRecord,
    Target, MAX_FIELD_LEN, MAX_METADATA_BYTES, RESERVED_NAMESPACES,
};
use crate::domain::ids::{EventId, OrgRef};
use crate::domain::pagination::{Page, PageRequest};
use crate::domain::permission::Permission;
use crate::service::service_grants::ServiceGrant;
use crate::store::{Store, Tx};
use crate::{Error, Result};

pub const AUDIT_LOG_FEATURE: &str = "audit_log";
/// Rows fetched per round trip by exports and chain walks.
const BATCH: u32 = 1000;
/// How far ahead of the server's clock a host event's `occurred_at` may be.
const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);

/// An event as the API shows it: the event and its chain hash.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Position in the log (exports resume after it).
    pub seq: i64,
    pub event: AuditEvent,
    pub hash: String,
}

/// An event a host app adds to an org's log.
#[derive(Debug, Clone)]
pub struct HostEvent {
    pub actor: Actor,
    pub action: String,
    pub target: Target,
    pub metadata: Option<Value>,
    pub occurred_at: Option<DateTime<Utc>>,
}

/// An authorised export: which chain and which events. Rows are then fetched batch by batch, so
/// an export of any size runs in constant memory.
#[derive(Debug, Clone)]
pub struct AuditExport {
    chain: Chain,
    filter: AuditFilter,
}

/// The outcome of walking one chain.
#[derive(Debug, Clone)]
pub struct ChainReport {
    pub chain: Chain,
    pub checked: u64,
    /// The first broken link, if any.
    pub broken: Option<BrokenLink>,
}

#[derive(Debug, Clone)]
pub struct BrokenLink {
    pub seq: i64,
    pub event_id: String,
    pub kind: ChainBreak,
}

impl Audit<'_> {
    /// Appends `event` to its chain; returns its place in the log and its hash. Every audit
    /// record passes through here (the unit of work's and host apps' own), so this is where a
    /// change's host-app event is written beside it.
    pub(crate) async fn append_audit(&self, tx: &mut dyn Tx, event: &AuditEvent) -> Result<(i64, String)> {
        let record = AuditRecord::of(event);
        let previous = tx.last_audit_hash(event.org_id).await?.unwrap_or_default();
        let hash = record.hash_after(&previous);
        let seq = tx.insert_audit(&record, &previous, &hash).await?;
        Ok((seq, hash))
    }

    /// The org's events, newest first (`audit.view`, plan feature `audit_log`). The instance
    /// admin and host apps may read any org's log.
    pub async fn list_audit_events(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>> {
        let export = self.open_audit_export(principal, reference, filter.clone()).await?;
        self.audit_page(export.chain, filter, page).await
    }

    /// The instance's own events (those of no org: sign-ups, logins, refused requests), for the
    /// instance admin.
    pub async fn list_instance_audit_events(
        &self,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>> {
        self.audit_page(None, filter, page).await
    }

    async fn audit_page(&self, chain: Chain, filter: &AuditFilter, page: &PageRequest) -> Result<Page<AuditEntry>> {
        let before = page.after.as_deref().map(parse_seq).transpose()?;
        let rows = self.store.read().await?.audit_events(chain, filter, before, page.fetch_limit()).await?;
        let page = Page::from_rows(rows, page, |row| row.seq.to_string());
        let items = page.items.iter().map(entry).collect::<Result<_>>()?;
        Ok(Page { items, next_cursor: page.next_cursor })
    }

    /// Checks that the caller may export the org's log; the rows follow with `audit_export_batch`.
    pub async fn open_audit_export(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        filter: AuditFilter,
    ) -> Result<AuditExport> {
        principal.require_grant(ServiceGrant::AuditRead)?;
        let mut tx = self.store.read().await?;
        let access = self.operator_access(tx.as_mut(), principal, reference).await?;
        self.require(&access, Permission::AuditView)?;
        self.require_feature(&access.org, AUDIT_LOG_FEATURE)?;
        Ok(AuditExport { chain: Some(access.org.id), filter })
    }

    /// The next batch of an export, newest first, older than `before_seq`; empty at the end.
    pub async fn audit_export_batch(&self, export: &AuditExport, before_seq: Option<i64>) -> Result<Vec<AuditEntry>> {
        let rows = self.store.read().await?.audit_events(export.chain, &export.filter, before_seq, BATCH).await?;
        rows.iter().map(entry).collect()
    }

    /// Adds a host app's own event to an org's log. Only host apps (service tokens) and the
    /// instance admin may; Tenantry's own action namespaces are reserved.
    pub async fn record_host_event(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        input: HostEvent,
        meta: &RequestMeta,
    ) -> Result<AuditEntry> {
        if !principal.is_operator() {
            return Err(Error::forbidden("only host apps (service tokens) and the instance admin add audit events"));
        }
        principal.require_grant(ServiceGrant::AuditWrite)?;
        let now = self.clock.now();
        let event = self.host_event(input, now, meta)?;
        // The write is the audit record itself.
        let mut w = self.bookkeeping().await?;
        let access = self.operator_access(w.tx(), principal, reference).await?;
        let event = AuditEvent { org_id: Some(access.org.id), ..event };
        let (seq, hash) = self.append_audit(w.tx(), &event).await?;
        w.commit().await?;
        Ok(AuditEntry { seq, event, hash })
    }

    fn host_event(&self, input: HostEvent, now: DateTime<Utc>, meta: &RequestMeta) -> Result<AuditEvent> {
        check_field("action", &input.action)?;
        if !is_valid_action(&input.action) {
            return Err(Error::invalid("action", "must be dotted lowercase words, like `deploy.created`"));
        }
        let namespace = input.action.split('.').next().unwrap_or_default();
        if RESERVED_NAMESPACES.contains(&namespace) {
            return Err(Error::invalid(
                "action",
                format!("the namespace `{namespace}.` is reserved for Tenantry's own events"),
            ));
        }
        for (field, value) in [
            ("actor.type", &input.actor.kind),
            ("actor.id", &input.actor.id),
            ("target.type", &input.target.kind),
            ("target.id", &input.target.id),
        ] {
            check_field(field, value)?;
        }
        let metadata = input.metadata.unwrap_or_else(|| Value::Object(Default::default()));
        if !metadata.is_object() {
            return Err(Error::invalid("metadata", "must be a JSON object"));
        }
        if metadata.to_string().len() > MAX_METADATA_BYTES {
            return Err(Error::invalid("metadata", format!("must be at most {MAX_METADATA_BYTES} bytes of JSON")));
        }
        let occurred_at = match input.occurred_at {
            Some(at) if at > now + MAX_CLOCK_SKEW => {
                return Err(Error::invalid("occurred_at", "is in the future"));
            }
            // Stored to the millisecond, like every event.
            Some(at) => DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(now),
            None => now,
        };
        Ok(AuditEvent {
            id: EventId::new(),
            org_id: None,
            actor: input.actor,
            action: input.action,
            target: input.target,
            occurred_at,
            ip: meta.ip.clone(),
            user_agent: meta.user_agent.clone(),
            metadata,
        })
    }
}

/// Walks every chain (or the chain of one org, by id or slug) and reports each chain's first
/// broken link. Reads in batches, so logs of any size are checked in constant memory. Needs only
/// the store: `tenantry audit verify` runs it beside (or without) a running service.
pub async fn verify_audit_chains(store: &dyn Store, org: Option<&OrgRef>) -> Result<Vec<ChainReport>> {
    let chains = match org {
        None => store.read().await?.audit_chains().await?,
        // A deleted org's chain is still checked by its id.
        Some(OrgRef::Id(id)) => vec![Some(*id)],
        Some(OrgRef::Slug(slug)) => {
            let org = store.read().await?.org_by_slug(slug).await?.ok_or(Error::NotFound("organization"))?;
            vec![Some(org.id)]
        }
    };
    let mut reports = Vec::with_capacity(chains.len());
    for chain in chains {
        reports.push(verify_chain(store, chain).await?);
    }
    Ok(reports)
}

async fn verify_chain(store: &dyn Store, chain: Chain) -> Result<ChainReport> {
    let mut walker = ChainWalker::default();
    let mut after = 0;
    loop {
        let rows = store.read().await?.audit_chain_rows(chain, after, BATCH).await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for row in &rows {
            if let Err(kind) = walker.check(row) {
                let broken = BrokenLink { seq: row.seq, event_id: row.record.id.clone(), kind };
                return Ok(ChainReport { chain, checked: walker.checked, broken: Some(broken) });
            }
        }
    }
    Ok(ChainReport { chain, checked: walker.checked, broken: None })
}

fn entry(row: &ChainedRecord) -> Result<AuditEntry> {
    let event = row.record.event().ok_or_else(|| {
        Error::Internal(format!("audit event {} (seq {}) cannot be read back", row.record.id, row.seq))
    })?;
    Ok(AuditEntry { seq: row.seq, event, hash: row.hash.clone() })
}

fn parse_seq(cursor: &str) -> Result<i64> {
    cursor.parse().map_err(|_| Error::invalid("cursor", "is not a cursor this API issued"))
}

fn check_field(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if value.chars().count() > MAX_FIELD_LEN {
        return Err(Error::invalid(field, format!("must be at most {MAX_FIELD_LEN} characters")));
    }
    Ok(())
}
