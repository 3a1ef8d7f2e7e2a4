//! Cursor pagination and the geographic bounding-box filter.

use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::DomainError;

/// The most items one page may hold.
pub const MAX_PAGE_SIZE: u32 = 500;
/// The page size when the client names none.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// An opaque position in a list: the sort key of the last item served. Most lists are
/// ordered by id, newest first (ids are time-ordered); incidents by event date, then id;
/// reports and sources (whose ids are random) by time, then id. Either way a cursor stays
/// valid while records are added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The last item's id.
    pub id: Uuid,
    /// The last item's date, for lists ordered by date.
    pub date: Option<NaiveDate>,
    /// The last item's time, for lists ordered by time.
    pub at: Option<DateTime<Utc>>,
}

impl Cursor {
    /// A cursor for a list ordered by id.
    pub fn by_id(id: Uuid) -> Cursor {
        Cursor {
            id,
            date: None,
            at: None,
        }
    }

    /// A cursor for a list ordered by date, then id.
    pub fn by_date(date: NaiveDate, id: Uuid) -> Cursor {
        Cursor {
            id,
            date: Some(date),
            at: None,
        }
    }

    /// A cursor for a list ordered by time, then id.
    pub fn by_time(at: DateTime<Utc>, id: Uuid) -> Cursor {
        Cursor {
            id,
            date: None,
            at: Some(at),
        }
    }

    /// The opaque text form handed to clients.
    pub fn encode(&self) -> String {
        let text = match (self.date, self.at) {
            (Some(d), _) => format!("v2:{d}:{}", self.id),
            (None, Some(t)) => format!("v3:{}:{}", t.timestamp_micros(), self.id),
            (None, None) => format!("v1:{}", self.id),
        };
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    /// Parse a cursor a client sent back.
    pub fn decode(s: &str) -> Result<Cursor, DomainError> {
        let bad = || DomainError::invalid("cursor", "not a cursor this server issued");
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.as_bytes())
            .map_err(|_| bad())?;
        let text = std::str::from_utf8(&raw).map_err(|_| bad())?;
        let uuid = |s: &str| Uuid::parse_str(s).map_err(|_| bad());
        if let Some(id) = text.strip_prefix("v1:") {
            return Ok(Cursor::by_id(uuid(id)?));
        }
        if let Some(rest) = text.strip_prefix("v3:") {
            let (micros, id) = rest.split_once(':').ok_or_else(bad)?;
            let at = micros
                .parse::<i64>()
                .ok()
                .and_then(DateTime::<Utc>::from_timestamp_micros)
                .ok_or_else(bad)?;
            return Ok(Cursor::by_time(at, uuid(id)?));
        }
        let rest = text.strip_prefix("v2:").ok_or_else(bad)?;
        let (date, id) = rest.split_once(':').ok_or_else(bad)?;
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| bad())?;
        Ok(Cursor::by_date(date, uuid(id)?))
    }

    /// The time, or an error naming the cursor when it was issued for another list.
    pub fn require_time(&self) -> Result<DateTime<Utc>, DomainError> {
        self.at
            .ok_or_else(|| DomainError::invalid("cursor", "this cursor belongs to another list"))
    }

    /// The date, or an error naming the cursor when it was issued for another list.
    pub fn require_date(&self) -> Result<NaiveDate, DomainError> {
        self.date
            .ok_or_else(|| DomainError::invalid("cursor", "this cursor belongs to another list"))
    }
}

/// Which page of a list to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Serve items strictly after (older than) this cursor.
    pub after: Option<Cursor>,
    /// At most this many items (1..=MAX_PAGE_SIZE).
    pub limit: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            after: None,
            limit: DEFAULT_PAGE_SIZE,
        }
    }
}

impl PageRequest {
    /// The first page of `limit` items (capped at the maximum page size).
    pub fn first(limit: u32) -> PageRequest {
        PageRequest {
            after: None,
            limit: limit.clamp(1, MAX_PAGE_SIZE),
        }
    }

    /// Validate a client's `limit` and `cursor`.
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<PageRequest, DomainError> {
        let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if limit == 0 || limit > MAX_PAGE_SIZE {
            return Err(DomainError::invalid(
                "limit",
                format!("must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        let after = match cursor {
            Some(c) if !c.is_empty() => Some(Cursor::decode(c)?),
            _ => None,
        };
        Ok(PageRequest { after, limit })
    }
}

/// One page of a list: `{"items": [...], "next_cursor": "…" | null}`.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Where the next page starts, or `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Build a page from up to `limit + 1` fetched rows: the extra row only says there is more.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> Cursor) -> Page<T> {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| cursor_of(r).encode())
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }

    /// Apply `f` to every item, keeping the cursor.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// A bounding box in WGS84 degrees: `min_lon,min_lat,max_lon,max_lat`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    /// West edge.
    pub min_lon: f64,
    /// South edge.
    pub min_lat: f64,
    /// East edge.
    pub max_lon: f64,
    /// North edge.
    pub max_lat: f64,
}

impl BBox {
    /// Parse `min_lon,min_lat,max_lon,max_lat`.
    pub fn parse(s: &str) -> Result<BBox, DomainError> {
        let bad = |m: &str| DomainError::invalid("bbox", m.to_string());
        let parts: Vec<f64> = s
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| bad("expected four numbers: min_lon,min_lat,max_lon,max_lat"))?;
        let [min_lon, min_lat, max_lon, max_lat] = parts[..] else {
            return Err(bad(
                "expected four numbers: min_lon,min_lat,max_lon,max_lat",
            ));
        };
        let b = BBox {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        };
        if ![min_lon, max_lon]
            .iter()
            .all(|v| (-180.0..=180.0).contains(v))
            || ![min_lat, max_lat]
                .iter()
                .all(|v| (-90.0..=90.0).contains(v))
        {
            return Err(bad(
                "longitudes must be within -180..180 and latitudes within -90..90",
            ));
        }
        if min_lon > max_lon || min_lat > max_lat {
            return Err(bad("min must not exceed max"));
        }
        Ok(b)
    }

    /// Whether the point lies inside (edges included).
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        (self.min_lon..=self.max_lon).contains(&lon) && (self.min_lat..=self.max_lat).contains(&lat)
    }
}

/// Check a latitude/longitude pair; fields are named as the API names them.
pub fn check_point(lat: f64, lon: f64) -> Result<(), DomainError> {
    if !(-90.0..=90.0).contains(&lat) || lat.is_nan() {
        return Err(DomainError::invalid(
            "latitude",
            "must be between -90 and 90",
        ));
    }
    if !(-180.0..=180.0).contains(&lon) || lon.is_nan() {
        return Err(DomainError::invalid(
            "longitude",
            "must be between -180 and 180",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_rejects_garbage() {
        let c = Cursor::by_id(crate::new_id());
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        let d = Cursor::by_date(
            NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
            crate::new_id(),
        );
        assert_eq!(Cursor::decode(&d.encode()).unwrap(), d);
        assert!(c.require_date().is_err());
        let t = Cursor::by_time(crate::time::now(), crate::random_id());
        assert_eq!(Cursor::decode(&t.encode()).unwrap(), t);
        assert!(t.require_date().is_err() && d.require_time().is_err());
        for bad in ["", "xyz", "djE6bm90LWEtdXVpZA", "!!!"] {
            assert_eq!(Cursor::decode(bad).unwrap_err().field(), Some("cursor"));
        }
    }

    #[test]
    fn page_limits() {
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(MAX_PAGE_SIZE + 1), None).is_err());
        assert_eq!(
            PageRequest::parse(None, None).unwrap().limit,
            DEFAULT_PAGE_SIZE
        );
    }

    #[test]
    fn bbox() {
        let b = BBox::parse("14,2,28,11").unwrap();
        assert!(b.contains(20.0, 6.0));
        assert!(!b.contains(30.0, 6.0));
        assert!(BBox::parse("1,2,3").is_err());
        assert!(BBox::parse("0,0,200,10").is_err());
        assert!(BBox::parse("10,0,0,10").is_err());
    }
}
