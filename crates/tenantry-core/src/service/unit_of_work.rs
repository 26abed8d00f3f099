//! The unit of work: the one way a use case writes.
//!
//! A write opens a [`Write`] (or, acting on an org, an [`OrgWrite`] that has also loaded the
//! caller's standing there and checked the permission), changes data through its transaction,
//! and ends with `commit(event)`: the change, its audit record and the cache invalidations it
//! collected commit together or not at all. Dropping a write without committing rolls it back.
//!
//! What the compiler enforces:
//! - `commit` takes the audit event, so a write cannot finish without one. Writes that no one
//!   audits (sessions refreshing, the outbox's bookkeeping, usage counters) open a
//!   [`Bookkeeping`] instead, which says so where it is opened.
//! - The store's writes to cached data return a [`Stale`], which must be handed to
//!   [`Unit::invalidate`] (`unused_must_use` is denied), so a write cannot forget to invalidate.
//!
//! Every audited change passes through `Unit::record`, which appends the audit record and, when
//! its action is one host apps are told about (`domain::host_event`), the event of the same id,
//! in the same transaction: a change that rolls back leaves neither.

use std::ops::{Deref, DerefMut};

use serde_json::Value;

use super::access::OrgAccess;
use super::email::Letter;
use super::{Principal, RequestMeta, Tenantry};
use crate::domain::audit::{Actor, AuditEvent, Target};
use crate::domain::host_event::{host_event_type, HostEvent};
use crate::domain::ids::{EventId, OrgId, OrgRef, UserId};
use crate::domain::permission::Permission;
use crate::store::{CacheChange, Stale, Tx};
use crate::Result;

/// What a change says about itself: its action, what it acted on, and the details; and, for the
/// host apps' event of the same change, the object as it is after it.
pub struct Event {
    pub action: &'static str,
    pub target: Target,
    pub metadata: Value,
    pub object: Option<Value>,
}

impl Event {
    pub fn new(action: &'static str, target: Target, metadata: Value) -> Self {
        Self { action, target, metadata, object: None }
    }

    /// The object after the change (for a deletion, as it was), the `data` of the host apps'
    /// event. Without it, the event carries the target's id and the audit details.
    pub fn with_object(mut self, object: Value) -> Self {
        self.object = Some(object);
        self
    }
}

/// An event with its org (none for the instance's own chain) and who acted.
pub struct Change {
    pub org: Option<OrgId>,
    pub actor: Actor,
    pub event: Event,
}

impl Change {
    /// An event of the instance's chain, by a user acting on their own account.
    pub fn by_user(user: UserId, event: Event) -> Self {
        Self { org: None, actor: Actor::new("user", user), event }
    }
}

/// Proof that a write recorded an event, for a write that must record it before its last step
/// (e.g. an org's deletion, recorded in the org's chain before the org goes).
pub struct Recorded(());

/// The transaction and what must follow its commit. Reached through [`Write`], [`OrgWrite`] or
/// [`Bookkeeping`], which are the only ways to commit it.
pub struct Unit<'a> {
    tenantry: &'a Tenantry,
    tx: Box<dyn Tx>,
    stale: Vec<CacheChange>,
    letters: Vec<Letter>,
    /// Whether a host apps' event was written (the dispatcher is woken after the commit).
    evented: bool,
}

impl<'a> Unit<'a> {
    async fn open(tenantry: &'a Tenantry) -> Result<Self> {
        Ok(Self { tenantry, tx: tenantry.store.write().await?, stale: Vec::new(), letters: Vec::new(), evented: false })
    }

    pub fn tx(&mut self) -> &mut dyn Tx {
        self.tx.as_mut()
    }

    /// Invalidates what `stale` names in every process's caches, if and when this commits.
    pub fn invalidate(&mut self, stale: Stale) {
        self.stale.push(stale.into_change());
    }

    /// Invalidates each of `stale` (as [`Self::invalidate`]).
    pub fn invalidate_all(&mut self, stale: impl IntoIterator<Item = Stale>) {
        self.stale.extend(stale.into_iter().map(Stale::into_change));
    }

    /// Queues `letter` in the outbox; the mailer is woken once this commits.
    pub(crate) async fn queue_letter(&mut self, letter: Letter) -> Result<()> {
        self.tenantry.queue_letter(self.tx.as_mut(), &letter).await?;
        self.letters.push(letter);
        Ok(())
    }

    /// Appends `change`'s event to the audit log in this transaction.
    async fn record(&mut self, meta: &RequestMeta, change: Change) -> Result<Recorded> {
        let event = AuditEvent {
            id: EventId::new(),
            org_id: change.org,
            actor: change.actor,
            action: change.event.action.to_owned(),
            target: change.event.target,
            occurred_at: self.tenantry.clock.now(),
            ip: meta.ip.clone(),
            user_agent: meta.user_agent.clone(),
            metadata: change.event.metadata,
        };
        self.tenantry.audit().append_audit(self.tx.as_mut(), &event).await?;
        let host_event =
            if self.tenantry.settings.host_events { host_event_of(&event, change.event.object) } else { None };
        if let Some(host_event) = host_event {
            self.tx.insert_event(&host_event).await?;
            self.evented = true;
        }
        Ok(Recorded(()))
    }

    /// Commits; with a shared database the invalidations are announced in the transaction, so
    /// every other process applies them exactly when it commits.
    async fn finish(mut self) -> Result<()> {
        for change in &self.stale {
            self.tx.announce(change).await?;
        }
        self.tx.commit().await?;
        for change in &self.stale {
            self.tenantry.apply_cache_change(change);
        }
        for letter in &self.letters {
            self.tenantry.letter_committed(letter);
        }
        if self.evented {
            self.tenantry.events_ready.notify_one();
        }
        Ok(())
    }
}

/// The host apps' event of an audit record, if its action is one they are told about.
fn host_event_of(record: &AuditEvent, object: Option<Value>) -> Option<HostEvent> {
    let event_type = host_event_type(&record.action)?;
    let data = object.unwrap_or_else(|| {
        let mut data = serde_json::Map::new();
        data.insert(format!("{}_id", record.target.kind), Value::String(record.target.id.clone()));
        if let Value::Object(details) = &record.metadata {
            for (key, value) in details {
                data.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
        Value::Object(data)
    });
    Some(HostEvent {
        id: record.id,
        event_type: event_type.to_owned(),
        org_id: record.org_id,
        occurred_at: record.occurred_at,
        data,
    })
}

/// Lets each kind of write reach its transaction and invalidations (`w.tx()`, `w.invalidate(…)`).
macro_rules! reaches_unit {
    ($write:ident, $($field:ident).+) => {
        impl<'a> Deref for $write<'a> {
            type Target = Unit<'a>;
            fn deref(&self) -> &Unit<'a> {
                &self.$($field).+
            }
        }

        impl DerefMut for $write<'_> {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.$($field).+
            }
        }
    };
}

/// A write that is audited.
#[must_use = "a write ends only with `commit`; dropping it rolls back"]
pub struct Write<'a> {
    unit: Unit<'a>,
    meta: &'a RequestMeta,
}

impl<'a> Write<'a> {
    /// Records `change` in the audit log, in this transaction (for writes with several events;
    /// the last one is given to `commit`).
    pub async fn audit(&mut self, change: Change) -> Result<Recorded> {
        self.unit.record(self.meta, change).await
    }

    /// Records `change` and commits everything.
    pub async fn commit(mut self, change: Change) -> Result<()> {
        let recorded = self.audit(change).await?;
        self.commit_recorded(recorded).await
    }

    /// Commits a write whose event is already recorded.
    pub async fn commit_recorded(self, _: Recorded) -> Result<()> {
        self.unit.finish().await
    }

    /// Continues as a write on the org `access` names.
    pub fn in_org(self, access: OrgAccess) -> OrgWrite<'a> {
        OrgWrite { access, write: self }
    }
}

reaches_unit!(Write, unit);

/// A write on one org by a caller whose standing there is loaded (and, when opened with a
/// permission, checked) inside its transaction. Its events are the org's, by the caller.
#[must_use = "a write ends only with `commit`; dropping it rolls back"]
pub struct OrgWrite<'a> {
    pub access: OrgAccess,
    write: Write<'a>,
}

impl<'a> OrgWrite<'a> {
    pub fn org_id(&self) -> OrgId {
        self.access.org.id
    }

    /// Refuses unless the caller holds `permission` (see [`Tenantry::require`]).
    pub fn require(&self, permission: Permission) -> Result<()> {
        self.write.unit.tenantry.require(&self.access, permission)
    }

    fn change(&self, event: Event) -> Change {
        Change { org: Some(self.access.org.id), actor: self.access.actor(), event }
    }

    /// Records `event` for the org, by the caller, in this transaction.
    pub async fn audit(&mut self, event: Event) -> Result<Recorded> {
        let change = self.change(event);
        self.write.audit(change).await
    }

    /// Records `event` and commits everything; gives back the caller's standing.
    pub async fn commit(self, event: Event) -> Result<OrgAccess> {
        let change = self.change(event);
        self.write.commit(change).await?;
        Ok(self.access)
    }

    /// Splits into the caller's standing and the write, for changes that end outside the org's
    /// view of them (e.g. a member leaving).
    pub fn into_parts(self) -> (OrgAccess, Write<'a>) {
        (self.access, self.write)
    }
}

reaches_unit!(OrgWrite, write.unit);

/// A write that is not a change anyone audits: refreshing a session, the outbox's delivery
/// state, usage counters, the instance's own secrets; or a write that is itself an audit record
/// (a host app's event).
#[must_use = "a write ends only with `commit`; dropping it rolls back"]
pub struct Bookkeeping<'a> {
    unit: Unit<'a>,
}

impl Bookkeeping<'_> {
    /// Records an event that only some outcomes have (metering moves a counter unaudited, but
    /// records a refusal past the plan's limit).
    pub async fn audit(&mut self, meta: &RequestMeta, change: Change) -> Result<Recorded> {
        self.unit.record(meta, change).await
    }

    pub async fn commit(self) -> Result<()> {
        self.unit.finish().await
    }
}

reaches_unit!(Bookkeeping, unit);

/// Who may open a write on an org.
enum Callers {
    MembersAndKeys,
    AlsoOperators,
}

impl Tenantry {
    /// Opens an audited write for a request described by `meta`.
    pub(crate) async fn write<'a>(&'a self, meta: &'a RequestMeta) -> Result<Write<'a>> {
        Ok(Write { unit: Unit::open(self).await?, meta })
    }

    /// Opens a write on the referenced org for a member or one of its keys (see
    /// [`Tenantry::org_access`]), refusing unless they hold `permission`. `None` is for
    /// operations whose permission depends on what they find (e.g. removing someone else needs
    /// `members.remove`, leaving does not): they call [`OrgWrite::require`] themselves.
    pub(crate) async fn org_write<'a>(
        &'a self,
        principal: &Principal,
        reference: &OrgRef,
        permission: Option<Permission>,
        meta: &'a RequestMeta,
    ) -> Result<OrgWrite<'a>> {
        self.open_org_write(Callers::MembersAndKeys, principal, reference, permission, meta).await
    }

    /// Like [`Tenantry::org_write`], admitting the instance admin and host apps too (see
    /// [`Tenantry::operator_access`]).
    pub(crate) async fn operator_write<'a>(
        &'a self,
        principal: &Principal,
        reference: &OrgRef,
        permission: Option<Permission>,
        meta: &'a RequestMeta,
    ) -> Result<OrgWrite<'a>> {
        self.open_org_write(Callers::AlsoOperators, principal, reference, permission, meta).await
    }

    async fn open_org_write<'a>(
        &'a self,
        callers: Callers,
        principal: &Principal,
        reference: &OrgRef,
        permission: Option<Permission>,
        meta: &'a RequestMeta,
    ) -> Result<OrgWrite<'a>> {
        let mut write = self.write(meta).await?;
        let access = match callers {
            Callers::MembersAndKeys => self.org_access(write.tx(), principal, reference).await?,
            Callers::AlsoOperators => self.operator_access(write.tx(), principal, reference).await?,
        };
        if let Some(permission) = permission {
            self.require(&access, permission)?;
        }
        Ok(write.in_org(access))
    }

    /// Opens a write that no one audits (see [`Bookkeeping`]).
    pub(crate) async fn bookkeeping(&self) -> Result<Bookkeeping<'_>> {
        Ok(Bookkeeping { unit: Unit::open(self).await? })
    }
}
