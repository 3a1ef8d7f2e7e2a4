//! Where a transfer between partner installations has got to: the cursor of a page of records,
//! ordered by version time then id. A page carries the records after its cursor; the receiver
//! keeps the last page's cursor, so a transfer cut midway (a crash, a dropped connection)
//! resumes after the last page stored, and the next one brings only what changed since.

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use crate::DomainError;

/// A position in the (version time, id) order of the records a partner may receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SyncCursor {
    /// The version time of the last record before it.
    pub modified: DateTime<Utc>,
    /// That record's id.
    pub id: Uuid,
}

impl SyncCursor {
    /// The cursor just after the record `id` of version time `modified`.
    pub fn after(modified: DateTime<Utc>, id: Uuid) -> SyncCursor {
        SyncCursor { modified, id }
    }

    /// Whether a record of version time `modified` and id `id` comes after this cursor.
    pub fn precedes(&self, modified: DateTime<Utc>, id: Uuid) -> bool {
        (modified, id) > (self.modified, self.id)
    }

    /// Read `s` (what [`SyncCursor`]'s `Display` writes); a bad one refused naming `after`.
    pub fn parse(s: &str) -> Result<SyncCursor, DomainError> {
        let bad = || {
            DomainError::invalid(
                "after",
                "expected a cursor a partner's bundle gave (time~id)",
            )
        };
        let (t, id) = s.trim().split_once('~').ok_or_else(bad)?;
        let modified = DateTime::parse_from_rfc3339(t)
            .map_err(|_| bad())?
            .with_timezone(&Utc);
        let id = Uuid::parse_str(id).map_err(|_| bad())?;
        Ok(SyncCursor { modified, id })
    }
}

impl std::fmt::Display for SyncCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}~{}",
            self.modified.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            self.id
        )
    }
}

impl serde::Serialize for SyncCursor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SyncCursor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SyncCursor, D::Error> {
        let s = String::deserialize(d)?;
        SyncCursor::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_exactly_and_order_by_time_then_id() {
        let t = DateTime::parse_from_rfc3339("2026-12-07T10:00:00.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        let c = SyncCursor::after(t, Uuid::from_u128(7));
        assert_eq!(SyncCursor::parse(&c.to_string()).unwrap(), c);
        assert!(c.precedes(t, Uuid::from_u128(8)));
        assert!(!c.precedes(t, Uuid::from_u128(7)));
        assert!(!c.precedes(t - chrono::Duration::nanoseconds(1), Uuid::from_u128(9)));
        assert!(c.precedes(t + chrono::Duration::nanoseconds(1), Uuid::nil()));
        for bad in [
            "",
            "x~y",
            "2026-12-07T10:00:00Z",
            "2026-12-07T10:00:00Z~nope",
        ] {
            assert_eq!(SyncCursor::parse(bad).unwrap_err().field(), Some("after"));
        }
    }
}
