//! Security events: logins (successful and failed) and refused calls to Tenantry's own API,
//! recorded in the audit log. Failures are what an attacker can produce at will, so they are
//! throttled: one event per (who, what, where) a minute, the next one counting those left out,
//! and a ceiling per minute for each source (client address; an IPv6 /64 counts as one) so one
//! noisy client cannot use up the record of everyone else's. A generous node-wide ceiling bounds
//! what a client spread over many addresses can write.
//!
//! Past those ceilings the record that an account is under attack is still kept: failed logins
//! then fold into one aggregated event per account (and, for addresses that match no account,
//! per source) per minute, carrying the count of attempts it stands for.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::unit_of_work::{Change, Event};
use super::{Principal, RequestMeta, Tenantry};
use crate::domain::audit::{Actor, Chain, Target};
use crate::domain::ids::OrgRef;
use crate::domain::models::User;

pub const LOGIN: &str = "security.login";
pub const LOGIN_FAILED: &str = "security.login_failed";
pub const UNAUTHENTICATED: &str = "security.unauthenticated";
pub const FORBIDDEN: &str = "security.forbidden";

const WINDOW: Duration = Duration::minutes(1);
/// Throttled events recorded per source per window.
const MAX_PER_SOURCE: u32 = 100;
/// Throttled events a node records per window, whatever their sources.
const MAX_PER_NODE: u32 = 10_000;
/// Keys remembered before windows that have ended are swept.
const SWEEP_AT: usize = 10_000;

/// A request Tenantry refused with 401 or 403.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// Who was refused, when the credentials were valid (a 403).
    pub principal: Option<Principal>,
    /// The org the request named (`/v1/orgs/{org}/…`), as given.
    pub org: Option<OrgRef>,
    pub status: u16,
    pub code: String,
    pub method: String,
    /// The path, with anything secret-like already hidden.
    pub path: String,
}

/// What the throttle says about one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Record it, noting this many of its key's events left out since the last one recorded.
    Record(u32),
    /// Its key was recorded this minute: it is counted into the key's next event.
    Counted,
    /// Its source (or the node) is over its ceiling for this minute.
    OverCeiling,
}

#[derive(Default)]
pub struct SecurityThrottle {
    state: Mutex<ThrottleState>,
}

#[derive(Default)]
struct ThrottleState {
    /// Per key: when its window started and how many events it left out since.
    windows: HashMap<String, (DateTime<Utc>, u32)>,
    /// Per source: when its window started and how many events it recorded in it.
    sources: HashMap<String, (DateTime<Utc>, u32)>,
    /// The node-wide window.
    total: Option<(DateTime<Utc>, u32)>,
}

/// Counts one more in a fixed window, restarting it when it has ended; the count before.
fn tick(window: &mut (DateTime<Utc>, u32), now: DateTime<Utc>) -> u32 {
    if now >= window.0 + WINDOW {
        *window = (now, 0);
    }
    window.1
}

impl ThrottleState {
    fn sweep(&mut self, now: DateTime<Utc>) {
        if self.windows.len() > SWEEP_AT {
            self.windows.retain(|_, (start, _)| now < *start + WINDOW);
        }
        if self.sources.len() > SWEEP_AT {
            self.sources.retain(|_, (start, _)| now < *start + WINDOW);
        }
    }

    /// One event per key and window: `Some(left_out)` to record it, `None` when it was counted.
    fn key_window(&mut self, key: &str, now: DateTime<Utc>) -> Option<u32> {
        match self.windows.get_mut(key) {
            Some((start, left_out)) if now < *start + WINDOW => {
                *left_out += 1;
                None
            }
            Some(window) => {
                let left_out = window.1;
                *window = (now, 0);
                Some(left_out)
            }
            None => {
                self.windows.insert(key.to_owned(), (now, 0));
                Some(0)
            }
        }
    }
}

impl SecurityThrottle {
    /// An event for `key` from `source`, subject to the key's window and the ceilings.
    pub fn admit(&self, key: &str, source: &str, now: DateTime<Utc>) -> Admission {
        let mut state = self.state.lock().expect("throttle lock is never poisoned");
        state.sweep(now);
        let total = state.total.get_or_insert((now, 0));
        if tick(total, now) >= MAX_PER_NODE {
            return Admission::OverCeiling;
        }
        let from_source = state.sources.entry(source.to_owned()).or_insert((now, 0));
        if tick(from_source, now) >= MAX_PER_SOURCE {
            return Admission::OverCeiling;
        }
        let Some(left_out) = state.key_window(key, now) else { return Admission::Counted };
        state.sources.get_mut(source).expect("inserted above").1 += 1;
        state.total.as_mut().expect("set above").1 += 1;
        Admission::Record(left_out)
    }

    /// An aggregated event for `key`: one per key and window, outside the ceilings (the caller
    /// makes sure the keys are few: one per account, or per source).
    pub fn admit_aggregate(&self, key: &str, now: DateTime<Utc>) -> Option<u32> {
        let mut state = self.state.lock().expect("throttle lock is never poisoned");
        state.sweep(now);
        state.key_window(key, now)
    }
}

/// Where a request came from, for the per-source ceiling: its address, an IPv6 /64 as a whole
/// (one subscriber holds a whole /64 and could rotate through it).
fn source(meta: &RequestMeta) -> String {
    let Some(ip) = meta.ip.as_deref() else { return "unknown".to_owned() };
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => {
            let segments = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", segments[0], segments[1], segments[2], segments[3])
        }
        _ => ip.to_owned(),
    }
}

fn anonymous(meta: &RequestMeta) -> Actor {
    Actor::new("anonymous", meta.ip.as_deref().unwrap_or("unknown"))
}

impl Tenantry {
    /// The event of a successful login, committed with the session it starts.
    /// `factor` names the second factor, or `password` alone.
    pub(crate) fn login_change(&self, user: &User, factor: &str) -> Change {
        Change::by_user(user.id, Event::new(LOGIN, Target::new("user", user.id), json!({ "factor": factor })))
    }

    /// A failed login: for an account that exists (`user`) or an address that matches none.
    pub(crate) async fn record_login_failure(&self, email: &str, user: Option<&User>, meta: &RequestMeta) {
        let actor = anonymous(meta);
        let target = match user {
            Some(user) => Target::new("user", user.id),
            None => Target::new("email", email.chars().take(254).collect::<String>()),
        };
        let key = format!("{LOGIN_FAILED}|{}|{}", actor.id, target.id);
        let from = source(meta);
        let now = self.clock.now();
        match self.security_throttle.admit(&key, &from, now) {
            Admission::Record(left_out) => {
                let metadata = json!({ "left_out": left_out });
                self.write_security_event(None, actor, LOGIN_FAILED, target, meta, metadata).await;
            }
            Admission::Counted => {}
            Admission::OverCeiling => {
                // Never lose the fact that an account is being attacked: fold into one event per
                // account a minute (per source for addresses that match no account).
                let aggregate = match user {
                    Some(user) => format!("{LOGIN_FAILED}|account|{}", user.id),
                    None => format!("{LOGIN_FAILED}|source|{from}"),
                };
                let Some(left_out) = self.security_throttle.admit_aggregate(&aggregate, now) else { return };
                let metadata = json!({ "aggregated": true, "left_out": left_out, "source": from });
                self.write_security_event(None, actor, LOGIN_FAILED, target, meta, metadata).await;
            }
        }
    }

    /// A request refused with 401 or 403. It goes to the named org's log when the caller has
    /// standing there (a member, one of its keys, or an operator), else to the instance's.
    pub async fn record_refusal(&self, refusal: Refusal, meta: &RequestMeta) {
        let (actor, action) = match &refusal.principal {
            Some(principal) => (principal.actor(), FORBIDDEN),
            None => (anonymous(meta), UNAUTHENTICATED),
        };
        let endpoint = format!("{} {}", refusal.method, refusal.path);
        let key = format!("{action}|{}:{}|{endpoint}", actor.kind, actor.id);
        let Admission::Record(left_out) = self.security_throttle.admit(&key, &source(meta), self.clock.now()) else {
            return;
        };
        // Only events that pass the throttle cost a lookup of the org.
        let chain = match (&refusal.principal, &refusal.org) {
            (Some(principal), Some(org)) => self.chain_with_standing(principal, org).await,
            _ => None,
        };
        let metadata = json!({ "status": refusal.status, "code": refusal.code, "left_out": left_out });
        self.write_security_event(chain, actor, action, Target::new("endpoint", endpoint), meta, metadata).await;
    }

    async fn chain_with_standing(&self, principal: &Principal, reference: &OrgRef) -> Chain {
        let mut tx = self.store.read().await.ok()?;
        let org = self.find_org(tx.as_mut(), reference).await.ok()?;
        let standing = match principal {
            Principal::User(user) => tx.membership(org.id, user.user_id).await.ok()?.is_some(),
            Principal::ApiKey(key) => key.org_id == org.id,
            Principal::Admin | Principal::Service { .. } => true,
        };
        standing.then_some(org.id)
    }

    /// Writes in a transaction of its own. A failure is logged, never turned into an error: the
    /// request was refused either way.
    async fn write_security_event(
        &self,
        chain: Chain,
        actor: Actor,
        action: &'static str,
        target: Target,
        meta: &RequestMeta,
        metadata: serde_json::Value,
    ) {
        let written = async {
            let w = self.write(meta).await?;
            w.commit(Change { org: chain, actor, event: Event::new(action, target, metadata) }).await
        };
        if let Err(error) = written.await {
            tracing::warn!(%error, action, "could not record a security event");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    #[test]
    fn one_event_per_key_and_minute_then_the_count_of_those_left_out() {
        let throttle = SecurityThrottle::default();
        let t0 = t0();
        assert_eq!(throttle.admit("a", "s", t0), Admission::Record(0));
        assert_eq!(throttle.admit("a", "s", t0 + Duration::seconds(10)), Admission::Counted);
        assert_eq!(throttle.admit("a", "s", t0 + Duration::seconds(59)), Admission::Counted);
        assert_eq!(throttle.admit("b", "s", t0 + Duration::seconds(59)), Admission::Record(0));
        assert_eq!(throttle.admit("a", "s", t0 + Duration::seconds(60)), Admission::Record(2));
    }

    #[test]
    fn one_noisy_source_does_not_silence_another() {
        let throttle = SecurityThrottle::default();
        let t0 = t0();
        let admitted =
            (0..MAX_PER_SOURCE + 50).filter(|i| throttle.admit(&i.to_string(), "noisy", t0) != Admission::OverCeiling);
        assert_eq!(admitted.count(), MAX_PER_SOURCE as usize);
        assert_eq!(throttle.admit("fresh", "noisy", t0), Admission::OverCeiling);
        assert_eq!(throttle.admit("fresh", "quiet", t0), Admission::Record(0));
        assert_eq!(throttle.admit("fresh", "noisy", t0 + WINDOW), Admission::Record(0));
    }

    #[test]
    fn aggregates_are_one_per_key_and_minute_past_every_ceiling() {
        let throttle = SecurityThrottle::default();
        let t0 = t0();
        assert_eq!(throttle.admit_aggregate("account", t0), Some(0));
        assert_eq!(throttle.admit_aggregate("account", t0), None);
        assert_eq!(throttle.admit_aggregate("account", t0), None);
        assert_eq!(throttle.admit_aggregate("account", t0 + WINDOW), Some(2));
    }

    #[test]
    fn an_ipv6_subscriber_is_one_source() {
        let meta = |ip: &str| RequestMeta { ip: Some(ip.into()), user_agent: None };
        assert_eq!(source(&meta("2001:db8:1:2::5")), source(&meta("2001:db8:1:2:ffff::9")));
        assert_ne!(source(&meta("2001:db8:1:2::5")), source(&meta("2001:db8:1:3::5")));
        assert_eq!(source(&meta("203.0.113.9")), "203.0.113.9");
    }
}
