//! Usage: the report of an org's usage against its plan, and metering by host apps.
//!
//! Metrics come from the preset: gauges (`endpoints`: up and down, never above the limit on the
//! way up, never below zero) and monthly counters (`requests`: up only, one count per UTC
//! calendar month). The limit check is the store's single conditional update, so concurrent
//! increments never overshoot.
//!
//! Who meters: host apps (service tokens), the instance admin, and the org's own API keys when
//! they hold every permission of the metric's resource (`endpoints.*` for `endpoints`) — metering
//! down a gauge frees quota, so a key scoped narrower must not do it. Members do not meter.
//!
//! Audit: accepted increments are not audited (they are telemetry at request volume; the counter
//! is their record). A refused increment is: `usage.limit_refused` tells the org's admins that a
//! customer hit the plan's cap. The refusal itself changes nothing — no counter moves — but its
//! transaction commits the event (and the idempotent answer), because the event records the
//! refusal rather than a change. So that a host app retrying against a full quota cannot flood
//! the log, at most one such event is written per org, metric and period each hour.
//!
//! Idempotency: with an `Idempotency-Key` header, the first answer (success or refusal) is kept
//! for 24 hours per org and metric; a retry with the same key and delta gets it again and counts
//! nothing. Reusing a key with a different delta is refused (409 `idempotency_key_reused`).

use chrono::Duration;
use serde_json::json;

use super::access::{OrgAccess, Standing};
use super::unit_of_work::{Change, Event};
use super::{Metering, Principal, RequestMeta};
use crate::domain::audit::Target;
use crate::domain::ids::OrgRef;
use crate::domain::models::Org;
use crate::domain::permission::PermissionSet;
use crate::domain::plan::{limit_to_api, Limit, MetricKind};
use crate::domain::usage::{parse_idempotency_key, MeterAnswer, MeterOutcome, UsageWrite, IDEMPOTENCY_TTL};
use crate::service::service_grants::ServiceGrant;
use crate::store::ReadTx;
use crate::{Error, Result};

/// The gauge reported as `endpoint_count`.
pub const ENDPOINTS_METRIC: &str = "endpoints";
/// The monthly counter reported as `requests_this_month`.
pub const REQUESTS_METRIC: &str = "requests";
/// The largest change one metering call may make.
pub const MAX_DELTA: i64 = 1_000_000_000;
/// At most one `usage.limit_refused` event per org, metric and period in this window.
pub const REFUSAL_AUDIT_WINDOW: Duration = Duration::hours(1);

/// An org's usage against its plan.
pub struct Usage {
    pub member_count: u64,
    pub endpoint_count: u64,
    pub requests_this_month: u64,
    /// `members`, then each metric of the preset, with the plan's limit.
    pub limits: Vec<(String, Limit)>,
}

/// The state of a metric after a metering call.
pub struct Metered {
    pub metric: String,
    pub kind: MetricKind,
    /// The UTC month a monthly counter counted in (`2026-11`); `None` for a gauge.
    pub period: Option<String>,
    pub value: u64,
    pub limit: Limit,
    /// This is the remembered answer to an earlier call with the same idempotency key.
    pub replayed: bool,
}

impl Metering<'_> {
    /// `GET /v1/orgs/{org}/usage`: any member, any of the org's keys, operators.
    pub async fn usage(&self, principal: &Principal, reference: &OrgRef) -> Result<Usage> {
        principal.require_grant(ServiceGrant::Metering)?;
        let mut tx = self.store.read().await?;
        let access = self.operator_access(tx.as_mut(), principal, reference).await?;
        self.usage_of(tx.as_mut(), &access.org).await
    }

    /// `GET /v1/usage`: the usage of the caller's own org — an API key's org, or a user's active
    /// org (`x-organization-id`, else the token's).
    pub async fn my_usage(&self, principal: &Principal) -> Result<Usage> {
        let org = match principal {
            Principal::ApiKey(key) => key.org_id,
            Principal::User(user) => user.active_org.ok_or_else(|| {
                Error::invalid("x-organization-id", "no org is active: send the header or switch to an org first")
            })?,
            Principal::Admin | Principal::Service { .. } => {
                return Err(Error::invalid("org", "name the org: GET /v1/orgs/{org}/usage"));
            }
        };
        self.usage(principal, &OrgRef::Id(org)).await
    }

    async fn usage_of(&self, tx: &mut dyn ReadTx, org: &Org) -> Result<Usage> {
        let plan = self.plans().plan_of(org)?;
        let endpoint_count = self.metric_value(tx, org, ENDPOINTS_METRIC).await?;
        let requests_this_month = self.metric_value(tx, org, REQUESTS_METRIC).await?;
        let mut limits = vec![("members".to_owned(), plan.members)];
        limits.extend(self.preset.metrics.iter().map(|m| (m.key.clone(), plan.limits.get(&m.key).copied().flatten())));
        Ok(Usage { member_count: org.seat_count, endpoint_count, requests_this_month, limits })
    }

    /// The current value of a metric (this month's, for a monthly counter); 0 for a metric the
    /// preset does not define.
    async fn metric_value(&self, tx: &mut dyn ReadTx, org: &Org, metric: &str) -> Result<u64> {
        match self.preset.metrics.iter().find(|m| m.key == metric) {
            Some(m) => Ok(tx.usage_value(org.id, &m.key, &m.kind.period(self.clock.now())).await?),
            None => Ok(0),
        }
    }

    /// Adds `delta` to `metric` of the org. See the module docs for who may, the audit and the
    /// idempotency key.
    pub async fn meter(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        metric: &str,
        delta: i64,
        idempotency_key: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<Metered> {
        principal.require_grant(ServiceGrant::Metering)?;
        let key = idempotency_key.map(|k| parse_idempotency_key(k).map_err(|e| Error::invalid("Idempotency-Key", e)));
        let key = key.transpose()?;
        // Usage counters are bookkeeping; a refusal past the limit is recorded below.
        let mut w = self.bookkeeping().await?;
        let access = self.operator_access(w.tx(), principal, reference).await?;
        let kind =
            self.preset.metrics.iter().find(|m| m.key == metric).map(|m| m.kind).ok_or(Error::NotFound("metric"))?;
        self.require_metering(&access, metric)?;
        check_delta(kind, delta)?;
        let org = access.org.id;
        let now = self.clock.now();
        if let Some(key) = key {
            w.tx().purge_meter_answers(org, now - IDEMPOTENCY_TTL).await?;
            if let Some(answer) = w.tx().meter_answer(org, metric, key).await? {
                if answer.delta != delta {
                    return Err(Error::conflict(
                        "idempotency_key_reused",
                        format!(
                            "this Idempotency-Key was first used with delta {}; use a new key for a different call",
                            answer.delta
                        ),
                    ));
                }
                w.commit().await?;
                return self.answer(&access.org, metric, kind, &answer, true);
            }
        }
        let plan = self.plans().plan_of(&access.org)?;
        let limit = *plan
            .limits
            .get(metric)
            .ok_or_else(|| Error::Internal(format!("plan `{}` sets no limit for `{metric}`", plan.key)))?;
        let period = kind.period(now);
        let (outcome, value) = match w.tx().add_usage(org, metric, &period, delta, limit).await? {
            UsageWrite::Applied(value) => (MeterOutcome::Applied, value),
            UsageWrite::Refused(value) if delta > 0 => (MeterOutcome::OverLimit, value),
            UsageWrite::Refused(value) => (MeterOutcome::BelowZero, value),
        };
        if outcome == MeterOutcome::OverLimit
            && w.tx().claim_refusal_audit(org, metric, &period, now, now - REFUSAL_AUDIT_WINDOW).await?
        {
            let metadata = json!({
                "metric": metric, "period": period, "delta": delta, "value": value,
                "limit": limit_to_api(limit), "plan": plan.key,
            });
            let event = Event::new("usage.limit_refused", Target::new("metric", metric), metadata);
            w.audit(meta, Change { org: Some(org), actor: access.actor(), event }).await?;
        }
        let answer = MeterAnswer { delta, outcome, value, limit, period, created_at: now };
        if let Some(key) = key {
            w.tx().insert_meter_answer(org, metric, key, &answer).await?;
        }
        // A refusal commits too: its audit event and its remembered answer (no counter moved).
        w.commit().await?;
        self.answer(&access.org, metric, kind, &answer, false)
    }

    fn require_metering(&self, access: &OrgAccess, metric: &str) -> Result<()> {
        match &access.standing {
            Standing::Operator { .. } => Ok(()),
            Standing::Key { .. } => {
                let resource = self.resource_permissions(metric);
                if !resource.is_empty() && access.permissions.contains_all(resource) {
                    Ok(())
                } else {
                    Err(Error::Forbidden {
                        code: "scope_missing",
                        message: format!("metering `{metric}` needs an API key with the scope `{metric}.*`"),
                    })
                }
            }
            Standing::Member { .. } => Err(Error::forbidden(
                "usage is metered by host apps: use a service token, or an API key of the org scoped to the resource",
            )),
        }
    }

    /// Every catalog permission of the resource `resource` (`endpoints.create`, `endpoints.view`, …).
    fn resource_permissions(&self, resource: &str) -> PermissionSet {
        let prefix = format!("{resource}.");
        self.preset
            .catalog
            .keys()
            .iter()
            .filter(|k| k.starts_with(&prefix))
            .filter_map(|k| self.preset.catalog.bit(k))
            .fold(PermissionSet::EMPTY, PermissionSet::union)
    }

    /// The answer a metering call gives, first time or replayed.
    fn answer(
        &self,
        org: &Org,
        metric: &str,
        kind: MetricKind,
        answer: &MeterAnswer,
        replayed: bool,
    ) -> Result<Metered> {
        let limit_text = answer.limit.map_or("unlimited".to_owned(), |l| l.to_string());
        match answer.outcome {
            MeterOutcome::Applied => Ok(Metered {
                metric: metric.to_owned(),
                kind,
                period: (kind == MetricKind::MonthlyCounter).then(|| answer.period.clone()),
                value: answer.value,
                limit: answer.limit,
                replayed,
            }),
            MeterOutcome::OverLimit => Err(Error::PlanLimit {
                message: format!(
                    "the `{}` plan allows {limit_text} {metric}{}; {} in use, so {} more do not fit",
                    org.plan,
                    if kind == MetricKind::MonthlyCounter { " per month" } else { "" },
                    answer.value,
                    answer.delta
                ),
                details: json!({
                    "metric": metric, "limit": limit_to_api(answer.limit), "value": answer.value,
                    "delta": answer.delta, "plan": org.plan,
                }),
            }),
            MeterOutcome::BelowZero => Err(Error::Conflict {
                code: "usage_below_zero",
                message: format!("`{metric}` is {} and cannot go below zero", answer.value),
                details: Some(json!({ "metric": metric, "value": answer.value, "delta": answer.delta })),
            }),
        }
    }
}

fn check_delta(kind: MetricKind, delta: i64) -> Result<()> {
    let ok = match kind {
        // A range, not `delta.abs()`: the absolute value of i64::MIN does not exist (it wraps
        // to itself in release builds and would pass).
        MetricKind::Gauge => delta != 0 && (-MAX_DELTA..=MAX_DELTA).contains(&delta),
        MetricKind::MonthlyCounter => delta > 0 && delta <= MAX_DELTA,
    };
    if ok {
        return Ok(());
    }
    Err(Error::invalid(
        "delta",
        match kind {
            MetricKind::Gauge => format!("must be a non-zero whole number from -{MAX_DELTA} to {MAX_DELTA}"),
            MetricKind::MonthlyCounter => {
                format!("must be a whole number from 1 to {MAX_DELTA}: monthly counters only count up")
            }
        },
    ))
}
