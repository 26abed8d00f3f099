//! The event log for host apps (SPEC 16): read in pages by the instance admin and host apps,
//! pruned after 30 days, and fanned out to webhook endpoints.

use chrono::Duration;
use serde_json::{json, Value};

use super::service_grants::ServiceGrant;
use super::{Events, Principal};
use crate::domain::host_event::{EventCursor, EventPosition, EventTypes, HostEvent};
use crate::domain::pagination::{Page, MAX_LIMIT};
use crate::domain::webhook::Channel;
use crate::{Error, Result};

/// How long events are kept.
pub const EVENTS_KEPT_FOR: Duration = Duration::days(30);
/// How many events one dispatch fans out.
const DISPATCH_BATCH: u32 = 500;

/// An event as host apps receive it, pulled or pushed: `{id, type, occurred_at, org_id, data}`.
pub fn event_body(event: &HostEvent) -> Value {
    json!({
        "id": event.id.to_string(),
        "type": event.event_type,
        "occurred_at": event.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "org_id": event.org_id.map(|o| o.to_string()),
        "data": event.data,
    })
}

impl Events<'_> {
    /// Events after the event `after` (from the oldest kept when absent), oldest first, of the
    /// wanted `types`. For the instance admin and host apps granted `events.read`.
    pub async fn list_events(
        &self,
        principal: &Principal,
        after: Option<EventCursor>,
        types: &EventTypes,
        limit: u32,
    ) -> Result<Page<HostEvent>> {
        match principal {
            Principal::Admin => {}
            Principal::Service { .. } => principal.require_grant(ServiceGrant::EventsRead)?,
            _ => {
                return Err(Error::forbidden(
                    "the event log is for the instance admin and host apps (service tokens granted `events.read`)",
                ))
            }
        }
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::invalid("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        let mut tx = self.store.read().await?;
        let position = match after {
            None => EventPosition::default(),
            Some(EventCursor::NotAnEventId) => {
                return Err(Error::invalid("after", "must be the id of an event (`evt_…`) from this log"))
            }
            Some(EventCursor::After(id)) => tx.event_position(id).await?.ok_or_else(|| {
                Error::invalid(
                    "after",
                    "no kept event has this id (events are kept 30 days); start again without `after`",
                )
            })?,
        };
        let mut logged = tx.events_after(position, types, limit + 1).await?;
        let more = logged.len() > limit as usize;
        logged.truncate(limit as usize);
        let next_cursor = if more { logged.last().map(|l| l.event.id.to_string()) } else { None };
        Ok(Page { items: logged.into_iter().map(|l| l.event).collect(), next_cursor })
    }

    /// Deletes events older than their retention; returns how many.
    pub async fn prune_events(&self) -> Result<u64> {
        let mut w = self.bookkeeping().await?;
        let pruned = w.tx().prune_events(self.clock.now() - EVENTS_KEPT_FOR).await?;
        w.commit().await?;
        Ok(pruned)
    }

    /// Turns events not yet fanned out into one delivery per enabled endpoint that wants them;
    /// returns how many deliveries it queued. One node at a time does this (the others find the
    /// dispatcher's row taken and return at once), so each event reaches each endpoint once.
    pub async fn dispatch_events(&self) -> Result<usize> {
        // Without an enabled endpoint there is nothing to fan out, and no write lock to take: an
        // endpoint created later hears only of events after its creation.
        if !self.store.read().await?.webhook_endpoints().await?.iter().any(|e| e.is_enabled()) {
            return Ok(0);
        }
        let mut w = self.bookkeeping().await?;
        let Some(mut position) = w.tx().lock_dispatch().await? else {
            return Ok(0);
        };
        let events = w.tx().events_after(position, &EventTypes::all(), DISPATCH_BATCH).await?;
        if events.is_empty() {
            return Ok(0);
        }
        let endpoints: Vec<_> = w.tx().webhook_endpoints().await?.into_iter().filter(|e| e.is_enabled()).collect();
        let mut queued = 0;
        for logged in &events {
            let event = &logged.event;
            // An endpoint hears of what happened after it was created, not before.
            let wanted = endpoints
                .iter()
                .filter(|e| e.created_at <= event.occurred_at && e.event_types.matches(&event.event_type));
            for endpoint in wanted {
                let delivery = self.webhooks().new_delivery(
                    Channel::Webhook,
                    Some(endpoint.id),
                    event.org_id,
                    event.id,
                    &event.event_type,
                    event_body(event),
                );
                w.tx().insert_delivery(&delivery).await?;
                queued += 1;
            }
            position = logged.position;
        }
        w.tx().set_dispatch(position).await?;
        w.commit().await?;
        if queued > 0 {
            self.deliveries_ready.notify_one();
        }
        Ok(queued)
    }
}

/// The objects events carry, as the API shows them (never a secret).
pub mod objects {
    use serde_json::{json, Value};

    use crate::domain::api_key::ApiKey;
    use crate::domain::models::{Membership, Org};

    pub fn org(org: &Org) -> Value {
        json!({
            "id": org.id.to_string(),
            "slug": org.slug.to_string(),
            "name": org.name,
            "owner_id": org.owner_id.to_string(),
            "plan": org.plan,
            "metadata": org.metadata,
            "created_at": org.created_at,
        })
    }

    pub fn membership(membership: &Membership) -> Value {
        json!({
            "org_id": membership.org_id.to_string(),
            "user_id": membership.user_id.to_string(),
            "role": membership.role,
            "status": membership.status.as_str(),
            "joined_at": membership.joined_at,
        })
    }

    pub fn api_key(key: &ApiKey) -> Value {
        json!({
            "id": key.id.to_string(),
            "org_id": key.org_id.to_string(),
            "name": key.name,
            "prefix": key.prefix,
            "scopes": key.scopes,
            "created_by": key.created_by,
            "created_at": key.created_at,
            "expires_at": key.expires_at,
        })
    }
}
