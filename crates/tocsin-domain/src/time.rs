//! Timestamps: UTC, microsecond precision (both backends round-trip it exactly), RFC 3339.

use chrono::{DateTime, Datelike, SubsecRound, Timelike, Utc};

/// Now, truncated to microseconds. With the `test-clock` feature, moved by [`advance`].
pub fn now() -> DateTime<Utc> {
    let t = Utc::now().trunc_subsecs(6);
    #[cfg(feature = "test-clock")]
    let t = t + chrono::Duration::microseconds(
        CLOCK_OFFSET_MICROS.load(std::sync::atomic::Ordering::SeqCst),
    );
    t
}

#[cfg(feature = "test-clock")]
static CLOCK_OFFSET_MICROS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Move this process's clock ([`now`]) forward by `by` (tests of deadlines and escalations
/// only: the `test-clock` feature, never enabled in the shipped binary). The offset is
/// process-wide, so a test that uses it must be alone in its test binary.
#[cfg(feature = "test-clock")]
pub fn advance(by: chrono::Duration) {
    CLOCK_OFFSET_MICROS.fetch_add(
        by.num_microseconds()
            .expect("a test's step fits in microseconds"),
        std::sync::atomic::Ordering::SeqCst,
    );
}

/// The canonical text form: `2025-01-02T03:04:05.123456Z`. Sorts like the time it names.
pub fn format(t: &DateTime<Utc>) -> String {
    match canonical(t) {
        Some(b) => String::from_utf8(b.to_vec()).expect("ASCII digits"),
        None => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
    }
}

/// Append [`format`]'s text to `out` (exports write millions of these).
pub fn write_to(out: &mut Vec<u8>, t: &DateTime<Utc>) {
    match canonical(t) {
        Some(b) => out.extend_from_slice(&b),
        None => out.extend_from_slice(format(t).as_bytes()),
    }
}

/// The canonical form without chrono's format machinery, for years 0–9999 outside leap
/// seconds (chrono writes the rest).
fn canonical(t: &DateTime<Utc>) -> Option<[u8; 27]> {
    let (y, ns) = (t.year(), t.nanosecond());
    if !(0..=9999).contains(&y) || ns >= 1_000_000_000 {
        return None;
    }
    let mut b = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut v: u32| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, y as u32);
    put(5, 2, t.month());
    put(8, 2, t.day());
    put(11, 2, t.hour());
    put(14, 2, t.minute());
    put(17, 2, t.second());
    put(20, 6, ns / 1_000);
    Some(b)
}

/// Parse RFC 3339 into UTC, truncated to microseconds.
pub fn parse(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    Ok(DateTime::parse_from_rfc3339(s)?
        .with_timezone(&Utc)
        .trunc_subsecs(6))
}

/// A date in exactly `YYYY-MM-DD`, read directly: chrono's format parser was a tenth of an
/// import's parsing. `None` for any other form (callers fall back to a full parser).
pub fn iso_date(b: &[u8]) -> Option<chrono::NaiveDate> {
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn reads_only_the_strict_form() {
        assert_eq!(
            iso_date(b"2024-03-05"),
            chrono::NaiveDate::from_ymd_opt(2024, 3, 5)
        );
        for bad in [
            &b"2024-3-5"[..],
            b"2024-02-30",
            b"2024/03/05",
            b"2024-03-0x",
            b"",
            b"2024-03-051",
        ] {
            assert_eq!(iso_date(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn format_matches_chrono() {
        let chrono_fmt = |t: &DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        let times = [
            Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap(),
            Utc.with_ymd_and_hms(1, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap()
                + chrono::Duration::nanoseconds(999_999_999),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-5, 6, 7, 8, 9, 10).unwrap(),
            Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap(),
            now(),
        ];
        for t in times {
            assert_eq!(format(&t), chrono_fmt(&t));
            let mut v = b"x".to_vec();
            write_to(&mut v, &t);
            assert_eq!(&v[1..], chrono_fmt(&t).as_bytes());
        }
    }
}

/// An IANA time zone name a person chose (`Africa/Khartoum`, `UTC`), checked against the
/// zone database Tocsin ships (chrono-tz); anything else is refused naming `time_zone`.
pub fn parse_zone(s: &str) -> Result<chrono_tz::Tz, crate::DomainError> {
    let s = s.trim();
    s.parse::<chrono_tz::Tz>().map_err(|_| {
        crate::DomainError::invalid(
            "time_zone",
            "not a time zone name (an IANA name such as Africa/Nairobi or UTC)",
        )
    })
}

/// Every time zone name [`parse_zone`] accepts, in the database's order.
pub fn zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|z| z.name())
}

/// A time as a person reads it, to the minute in `zone` (UTC when `None` or unknown), e.g.
/// `2026-12-06 17:40`: no seconds, no fraction.
pub fn local_minute(t: &DateTime<Utc>, zone: Option<&str>) -> String {
    match zone.and_then(|z| z.parse::<chrono_tz::Tz>().ok()) {
        Some(z) => t.with_timezone(&z).format("%Y-%m-%d %H:%M").to_string(),
        None => t.format("%Y-%m-%d %H:%M").to_string(),
    }
}

/// A wall-clock time a person typed in `zone` (UTC when `None` or unknown), as UTC. A time
/// the zone skips (clocks put forward) is `None`; one it repeats (clocks put back) is the
/// earlier of the two.
pub fn from_local(t: chrono::NaiveDateTime, zone: Option<&str>) -> Option<DateTime<Utc>> {
    use chrono::TimeZone;
    match zone.and_then(|z| z.parse::<chrono_tz::Tz>().ok()) {
        Some(z) => z
            .from_local_datetime(&t)
            .earliest()
            .map(|t| t.with_timezone(&Utc)),
        None => Some(t.and_utc()),
    }
}

/// A time as a `datetime-local` field holds it, `2026-12-06T17:40`, in `zone` (UTC when
/// `None` or unknown).
pub fn local_input(t: &DateTime<Utc>, zone: Option<&str>) -> String {
    match zone.and_then(|z| z.parse::<chrono_tz::Tz>().ok()) {
        Some(z) => t.with_timezone(&z).format("%Y-%m-%dT%H:%M").to_string(),
        None => t.format("%Y-%m-%dT%H:%M").to_string(),
    }
}

#[cfg(test)]
mod zone_tests {
    use super::*;

    #[test]
    fn times_are_shown_to_the_minute_in_the_chosen_zone() {
        let t = parse("2026-12-06T14:40:59.123456Z").unwrap();
        assert_eq!(local_minute(&t, None), "2026-12-06 14:40");
        assert_eq!(
            local_minute(&t, Some("Africa/Khartoum")),
            "2026-12-06 16:40"
        );
        assert_eq!(
            local_minute(&t, Some("America/New_York")),
            "2026-12-06 09:40"
        );
        assert!(parse_zone("Africa/Nairobi").is_ok());
        let e = parse_zone("Mars/Olympus").unwrap_err().to_string();
        assert!(e.contains("time_zone"), "{e}");
    }

    #[test]
    fn typed_times_are_read_in_the_chosen_zone() {
        let typed = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap();
        let t = from_local(typed("2026-12-06T16:40"), Some("Africa/Khartoum")).unwrap();
        assert_eq!(format(&t), "2026-12-06T14:40:00.000000Z");
        assert_eq!(local_input(&t, Some("Africa/Khartoum")), "2026-12-06T16:40");
        let t = from_local(typed("2026-12-06T16:40"), None).unwrap();
        assert_eq!(format(&t), "2026-12-06T16:40:00.000000Z");
        // Skipped when New York's clocks go forward; repeated when they go back.
        assert_eq!(
            from_local(typed("2026-03-08T02:30"), Some("America/New_York")),
            None
        );
        let t = from_local(typed("2026-11-01T01:30"), Some("America/New_York")).unwrap();
        assert_eq!(format(&t), "2026-11-01T05:30:00.000000Z");
    }
}
