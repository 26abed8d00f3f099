//! Plans: per-org limits and features, defined by the preset.

use std::collections::BTreeMap;

/// A limit: `None` is unlimited (shown as `-1` in the API).
pub type Limit = Option<u64>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A level that goes up and down (e.g. `endpoints`): never above the limit, never below zero.
    Gauge,
    /// A count that restarts each UTC calendar month (e.g. `requests`).
    MonthlyCounter,
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

/// How a limit is written in the API: `-1` for unlimited.
pub fn limit_to_api(limit: Limit) -> i64 {
    limit.map_or(-1, |n| n as i64)
}
