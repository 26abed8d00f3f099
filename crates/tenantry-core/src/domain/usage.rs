//! Metered usage: the outcome of a metering call, and the answer kept for its idempotency key.

use chrono::{DateTime, Duration, Utc};

use super::plan::Limit;

/// How long an `Idempotency-Key` is remembered. A retry within this window gets the first answer;
/// after it, the key is forgotten and counts as new.
pub const IDEMPOTENCY_TTL: Duration = Duration::hours(24);

/// The longest accepted `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// What one metering call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeterOutcome {
    /// The delta was added.
    Applied,
    /// Refused: the increment would pass the plan's limit.
    OverLimit,
    /// Refused: the decrement would take a gauge below zero.
    BelowZero,
}

impl MeterOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::OverLimit => "over_limit",
            Self::BelowZero => "below_zero",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "applied" => Some(Self::Applied),
            "over_limit" => Some(Self::OverLimit),
            "below_zero" => Some(Self::BelowZero),
            _ => None,
        }
    }
}

/// The result of the store's conditional add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageWrite {
    /// Added; the new value.
    Applied(u64),
    /// Not added, because the result would pass the limit or go below zero; the unchanged value.
    Refused(u64),
}

/// The first answer to a metering call made with an idempotency key, replayed to its retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterAnswer {
    pub delta: i64,
    pub outcome: MeterOutcome,
    /// The value after the call (unchanged when refused).
    pub value: u64,
    pub limit: Limit,
    /// The counter period the call fell in (`""` for a gauge).
    pub period: String,
    pub created_at: DateTime<Utc>,
}

/// Checks an `Idempotency-Key` header value: 1 to 255 visible ASCII characters.
pub fn parse_idempotency_key(raw: &str) -> Result<&str, String> {
    let ok = !raw.is_empty() && raw.len() <= MAX_IDEMPOTENCY_KEY_CHARS && raw.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(raw)
    } else {
        Err(format!("must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        assert!(parse_idempotency_key("4f1c9a3e-retry").is_ok());
        assert!(parse_idempotency_key("").is_err());
        assert!(parse_idempotency_key("has space").is_err());
        assert!(parse_idempotency_key("é").is_err());
        assert!(parse_idempotency_key(&"k".repeat(256)).is_err());
    }

    #[test]
    fn outcomes_round_trip() {
        for outcome in [MeterOutcome::Applied, MeterOutcome::OverLimit, MeterOutcome::BelowZero] {
            assert_eq!(MeterOutcome::parse(outcome.as_str()), Some(outcome));
        }
    }
}
