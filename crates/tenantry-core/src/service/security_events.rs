//! Security events: logins (successful and failed) and refused calls to Tenantry's own API,
//! recorded in the audit log. Failures are what an attacker can produce at will, so they are
//! throttled: one event per (who, what, where) a minute, the next one counting those left out,
//! and a ceiling per minute for the whole node.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::audit::Change;
use super::{Principal, RequestMeta, Tenantry};
use crate::domain::audit::{Actor, Chain, Target};
use crate::domain::models::User;
use crate::store::Tx;
use crate::Result;

pub const LOGIN: &str = "security.login";
pub const LOGIN_FAILED: &str = "security.login_failed";
pub const UNAUTHENTICATED: &str = "security.unauthenticated";
pub const FORBIDDEN: &str = "security.forbidden";

const WINDOW: Duration = Duration::minutes(1);
/// Throttled events a node records per window, whatever their keys.
const MAX_PER_WINDOW: u32 = 600;

/// A request Tenantry refused with 401 or 403.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// Who was refused, when the credentials were valid (a 403).
    pub principal: Option<Principal>,
    /// The org the request named (`/v1/orgs/{org}/…`), as given.
    pub org: Option<String>,
    pub status: u16,
    pub code: String,
    pub method: String,
    /// The path, with anything secret-like already hidden.
    pub path: String,
}

#[derive(Default)]
pub struct SecurityThrottle {
    state: Mutex<ThrottleState>,
}

#[derive(Default)]
struct ThrottleState {
    /// Per key: when its window started and how many events it left out since.
    windows: HashMap<String, (DateTime<Utc>, u32)>,
    /// The node-wide window.
    total: Option<(DateTime<Utc>, u32)>,
}

impl SecurityThrottle {
    /// `Some(left_out)` when an event for `key` may be recorded now, with the number of this
    /// key's events left out since the last one recorded; `None` to leave this one out.
    pub fn admit(&self, key: &str, now: DateTime<Utc>) -> Option<u32> {
        let mut state = self.state.lock().expect("throttle lock is never poisoned");
        let total = state.total.get_or_insert((now, 0));
        if now >= total.0 + WINDOW {
            *total = (now, 0);
        }
        if total.1 >= MAX_PER_WINDOW {
            return None;
        }
        if state.windows.len() > 10_000 {
            state.windows.retain(|_, (start, _)| now < *start + WINDOW);
        }
        match state.windows.get_mut(key) {
            Some((start, left_out)) if now < *start + WINDOW => {
                *left_out += 1;
                None
            }
            Some(window) => {
                let left_out = window.1;
                *window = (now, 0);
                state.total.as_mut().expect("set above").1 += 1;
                Some(left_out)
            }
            None => {
                state.windows.insert(key.to_owned(), (now, 0));
                state.total.as_mut().expect("set above").1 += 1;
                Some(0)
            }
        }
    }
}

fn anonymous(meta: &RequestMeta) -> Actor {
    Actor::new("anonymous", meta.ip.as_deref().unwrap_or("unknown"))
}

impl Tenantry {
    /// A successful login, inside the transaction that starts its session.
    pub(crate) async fn record_login(&self, tx: &mut dyn Tx, user: &User, meta: &RequestMeta) -> Result<()> {
        let change = Change {
            org: None,
            actor: Actor::new("user", user.id),
            action: LOGIN,
            target: Target::new("user", user.id),
            meta,
            metadata: json!({}),
        };
        self.record(tx, change).await
    }

    /// A failed login: for an account that exists (`user`) or an address that matches none.
    pub(crate) async fn record_login_failure(&self, email: &str, user: Option<&User>, meta: &RequestMeta) {
        let actor = anonymous(meta);
        let target = match user {
            Some(user) => Target::new("user", user.id),
            None => Target::new("email", email.chars().take(254).collect::<String>()),
        };
        let key = format!("{LOGIN_FAILED}|{}|{}", actor.id, target.id);
        let Some(left_out) = self.security_throttle.admit(&key, self.clock.now()) else { return };
        self.write_security_event(None, actor, LOGIN_FAILED, target, meta, json!({ "left_out": left_out })).await;
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
        let Some(left_out) = self.security_throttle.admit(&key, self.clock.now()) else { return };
        // Only events that pass the throttle cost a lookup of the org.
        let chain = match (&refusal.principal, &refusal.org) {
            (Some(principal), Some(org)) => self.chain_with_standing(principal, org).await,
            _ => None,
        };
        let metadata = json!({ "status": refusal.status, "code": refusal.code, "left_out": left_out });
        self.write_security_event(chain, actor, action, Target::new("endpoint", endpoint), meta, metadata).await;
    }

    async fn chain_with_standing(&self, principal: &Principal, reference: &str) -> Chain {
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
            let mut tx = self.store.write().await?;
            self.record(tx.as_mut(), Change { org: chain, actor, action, target, meta, metadata }).await?;
            tx.commit().await?;
            Ok::<_, crate::Error>(())
        };
        if let Err(error) = written.await {
            tracing::warn!(%error, action, "could not record a security event");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_event_per_key_and_minute_then_the_count_of_those_left_out() {
        let throttle = SecurityThrottle::default();
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(throttle.admit("a", t0), Some(0));
        assert_eq!(throttle.admit("a", t0 + Duration::seconds(10)), None);
        assert_eq!(throttle.admit("a", t0 + Duration::seconds(59)), None);
        assert_eq!(throttle.admit("b", t0 + Duration::seconds(59)), Some(0));
        assert_eq!(throttle.admit("a", t0 + Duration::seconds(60)), Some(2));
    }

    #[test]
    fn the_node_wide_ceiling_holds_whatever_the_keys() {
        let throttle = SecurityThrottle::default();
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let admitted = (0..MAX_PER_WINDOW + 50).filter(|i| throttle.admit(&i.to_string(), t0).is_some()).count();
        assert_eq!(admitted, MAX_PER_WINDOW as usize);
        assert_eq!(throttle.admit("fresh", t0 + WINDOW), Some(0));
    }
}
