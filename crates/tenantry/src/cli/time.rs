//! Instants on the command line (`--since 7d`, `--expires-at 2026-12-31`) and in tables.

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Timelike, Utc};

/// For `--since`/`--until`: RFC 3339, a date (midnight UTC), or an age such as `30m`, `24h`, `7d`, `2w`;
/// as RFC 3339, for the query string.
pub fn past(input: &str) -> Result<String, String> {
    parse(input, -1).map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// For `--expires-at`: RFC 3339, a date (midnight UTC), or a lifetime such as `90d`.
pub fn future(input: &str) -> Result<DateTime<Utc>, String> {
    parse(input, 1)
}

fn parse(input: &str, direction: i32) -> Result<DateTime<Utc>, String> {
    let input = input.trim();
    let instant = if let Ok(at) = DateTime::parse_from_rfc3339(input) {
        at.with_timezone(&Utc)
    } else if let Ok(date) = NaiveDate::parse_from_str(input, "%Y-%m-%d") {
        date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
    } else if let Some(span) = span(input) {
        Utc::now() + span * direction
    } else {
        return Err(
            "expected an RFC 3339 time (2026-05-01T12:00:00Z), a date (2026-05-01) or a span such as 30m, 24h, 7d, 2w"
                .to_owned(),
        );
    };
    // Whole seconds, as a person would write them.
    Ok(instant.with_nanosecond(0).unwrap_or(instant))
}

fn span(input: &str) -> Option<Duration> {
    let unit = input.chars().last()?;
    let count: i64 = input[..input.len() - unit.len_utf8()].parse().ok().filter(|n| *n >= 0)?;
    match unit {
        's' => Duration::try_seconds(count),
        'm' => Duration::try_minutes(count),
        'h' => Duration::try_hours(count),
        'd' => Duration::try_days(count),
        'w' => Duration::try_weeks(count),
        _ => None,
    }
}

/// An API time as `2026-05-01 12:00` (UTC); `-` when absent.
pub fn show(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "-".to_owned(), |at| at.format("%Y-%m-%d %H:%M").to_string())
}

/// Whether an API time lies in the past.
pub fn passed(at: Option<DateTime<Utc>>) -> bool {
    at.is_some_and(|at| at <= Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_rfc3339_dates_and_spans() {
        assert_eq!(past("2026-05-01T14:00:00+02:00").unwrap(), "2026-05-01T12:00:00Z");
        assert_eq!(future("2026-12-31").unwrap().to_rfc3339_opts(SecondsFormat::Secs, true), "2026-12-31T00:00:00Z");
        let week_ago = DateTime::parse_from_rfc3339(&past("7d").unwrap()).unwrap();
        let drift = (Utc::now() - Duration::days(7) - week_ago.with_timezone(&Utc)).num_seconds().abs();
        assert!(drift <= 2, "7d is a week ago, off by {drift}s");
        assert!(future("90d").unwrap() > Utc::now());
    }

    #[test]
    fn refuses_other_text() {
        for bad in ["", "yesterday", "7", "-3d", "3y", "2026-13-01", "d"] {
            assert!(past(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
