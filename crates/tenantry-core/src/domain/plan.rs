//! Plans: per-org limits and features, defined by the preset.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

/// A limit: `None` is unlimited (shown as `-1` in the API).
pub type Limit = Option<u64>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A level that goes up and down (e.g. `endpoints`): never above the limit, never below zero.
    Gauge,
    /// A count that restarts each UTC calendar month (e.g. `requests`).
    MonthlyCounter,
}

impl MetricKind {
    /// The counter row a value at `at` belongs to: one row for a gauge (`""`), one per UTC
    /// calendar month for a monthly counter (`"2026-11"`).
    pub fn period(self, at: DateTime<Utc>) -> String {
        match self {
            Self::Gauge => String::new(),
            Self::MonthlyCounter => at.format("%Y-%m").to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Metric {
    pub key: String,
    pub kind: MetricKind,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub key: String,
    pub name: String,
    pub members: Limit,
    /// Teams per org.
    pub teams: Limit,
    pub retention_days: u32,
    pub api_calls_per_minute: u32,
    pub features: Vec<String>,
    /// Limits of the host app's metered resources, by metric key.
    pub limits: BTreeMap<String, Limit>,
}

impl Plan {
    pub fn has_feature(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }

    /// Whether `count` more members fit, given `current` (members plus pending invitations).
    pub fn members_fit(&self, current: u64, count: u64) -> bool {
        self.members.is_none_or(|max| current + count <= max)
    }
}

/// Who may change an org's plan (configuration `billing.mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BillingMode {
    /// Only the instance admin and host apps (the billing backend, after payment).
    #[default]
    Managed,
    /// Also members (and keys) holding `billing.change_plan`: for internal deployments and demos.
    Open,
}

/// How a limit is written in the API: `-1` for unlimited.
pub fn limit_to_api(limit: Limit) -> i64 {
    limit.map_or(-1, |n| n as i64)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn monthly_counters_roll_over_at_the_utc_month_boundary() {
        let last = Utc.with_ymd_and_hms(2030, 1, 31, 23, 59, 59).unwrap();
        let first = Utc.with_ymd_and_hms(2030, 2, 1, 0, 0, 0).unwrap();
        assert_eq!(MetricKind::MonthlyCounter.period(last), "2030-01");
        assert_eq!(MetricKind::MonthlyCounter.period(first), "2030-02");
        assert_eq!(MetricKind::Gauge.period(last), MetricKind::Gauge.period(first));
    }
}
