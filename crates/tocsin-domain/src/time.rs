//! Timestamps: UTC, microsecond precision (both backends round-trip it exactly), RFC 3339.

use chrono::{DateTime, SubsecRound, Utc};

/// Now, truncated to microseconds.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The canonical text form: `2025-01-02T03:04:05.123456Z`. Sorts like the time it names.
pub fn format(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parse RFC 3339 into UTC, truncated to microseconds.
pub fn parse(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    Ok(DateTime::parse_from_rfc3339(s)?
        .with_timezone(&Utc)
        .trunc_subsecs(6))
}
