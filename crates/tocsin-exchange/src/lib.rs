//! Event data exchange: read UCDP, ACLED, GDELT and HXL files into incidents; write incidents
//! as CSV, GeoJSON, HXL or ACLED.
//!
//! Readers stream: each row is turned into an [`Incident`] (or a rejection with its line
//! number and reason) and handed to a callback, so memory stays constant whatever the file's
//! size. A problem that makes the whole file unreadable (wrong delimiter, missing columns, a
//! line longer than [`MAX_LINE_BYTES`], broken GeoJSON) is an [`ImportError`]; the caller
//! decides what that means for writes (the CLI validates the whole file before writing any).
//! This crate knows nothing of storage or HTTP; place names and codes are resolved through
//! the [`Geo`] trait.

mod acled;
mod columns;
pub mod export;
mod gdelt;
mod hxl;
mod limit;
mod ucdp;

use std::io::Read;
use tocsin_domain::{Country, DomainError, Incident, IncidentInput, Tlp, VerificationStatus};

pub use export::{ExportFormat, ExportWriter};
pub use limit::MAX_LINE_BYTES;

/// Why a whole file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Reading failed (including a line over the length limit).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The file is not of the format named.
    #[error("{0}")]
    Format(String),
    /// The receiver of rows gave up (e.g. the database failed).
    #[error("import stopped: {0}")]
    Sink(String),
}

/// The formats `tocsin import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// UCDP GED, as CSV (with or without an HXL tag row) or GeoJSON (detected from the content).
    Ucdp,
    /// ACLED's 31-column CSV.
    Acled,
    /// GDELT 2.0 events: 61 tab-separated columns, no header.
    Gdelt,
    /// Any CSV with an HXL hashtag row.
    Hxl,
}

impl Format {
    /// Parse a format name.
    pub fn parse(s: &str) -> Result<Format, DomainError> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "ucdp" => Format::Ucdp,
            "acled" => Format::Acled,
            "gdelt" => Format::Gdelt,
            "hxl" => Format::Hxl,
            _ => {
                return Err(DomainError::invalid(
                    "format",
                    "expected ucdp, acled, gdelt or hxl",
                ))
            }
        })
    }

    /// The default dataset name recorded as provenance.
    pub fn dataset(self) -> &'static str {
        match self {
            Format::Ucdp => "ucdp-ged",
            Format::Acled => "acled",
            Format::Gdelt => "gdelt",
            Format::Hxl => "hxl",
        }
    }
}

/// Place names and codes, as the importers need them.
pub trait Geo {
    /// The country for an ISO code (alpha-2, alpha-3, numeric) or a name.
    fn country(&self, s: &str) -> Option<Country>;
    /// The country for a Gleditsch–Ward number, as UCDP's `country_id` uses (these overlap
    /// ISO numeric codes: GW 140 is Brazil, ISO 140 the Central African Republic).
    fn country_gw(&self, code: &str) -> Option<Country>;
    /// Country and subdivisions for a point.
    fn reverse(&self, lat: f64, lon: f64) -> Option<Reverse>;
}

/// What reverse geocoding found.
#[derive(Debug, Clone, PartialEq)]
pub struct Reverse {
    /// The country containing the point.
    pub country: Country,
    /// First-level subdivision.
    pub admin1: Option<String>,
    /// Second-level subdivision.
    pub admin2: Option<String>,
    /// Nearest populated place.
    pub place: Option<String>,
}

/// ISO codes and names only, no reverse geocoding.
pub struct IsoOnly;

impl Geo for IsoOnly {
    fn country(&self, s: &str) -> Option<Country> {
        Country::from_any_code(s)
    }
    fn country_gw(&self, _code: &str) -> Option<Country> {
        None
    }
    fn reverse(&self, _lat: f64, _lon: f64) -> Option<Reverse> {
        None
    }
}

/// Choices for an import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Provenance dataset name (default: the format's).
    pub dataset: String,
    /// Label of every imported incident.
    pub tlp: Tlp,
    /// GDELT CAMEO root codes kept (default 18, 19, 20: violence).
    pub gdelt_roots: Vec<u8>,
    /// Event type for HXL rows that carry none.
    pub default_event_type: Option<(String, String)>,
}

impl ImportOptions {
    /// Defaults for a format.
    pub fn new(format: Format) -> ImportOptions {
        ImportOptions {
            dataset: format.dataset().to_string(),
            tlp: Tlp::Clear,
            gdelt_roots: vec![18, 19, 20],
            default_event_type: None,
        }
    }
}

/// One row's fate.
#[derive(Debug)]
pub enum Row {
    /// A valid incident.
    Incident(Box<Incident>),
    /// A row refused, with its line (CSV) or feature number (GeoJSON) and why.
    Rejected {
        /// 1-based line or feature number.
        line: u64,
        /// Why.
        reason: String,
    },
    /// A row left out by choice (e.g. a GDELT event outside the kept CAMEO roots).
    Skipped,
}

/// Read `input` as `format`, handing every row to `sink`.
pub fn read(
    format: Format,
    input: impl Read,
    opts: &ImportOptions,
    geo: &dyn Geo,
    sink: &mut dyn FnMut(Row) -> Result<(), String>,
) -> Result<(), ImportError> {
    let mut input = limit::LineLimited::new(input);
    match format {
        Format::Ucdp => {
            let first = input.peek_non_ws()?;
            if first == Some(b'{') {
                ucdp::read_geojson(input, opts, geo, sink)
            } else {
                ucdp::read_csv(input, opts, geo, sink)
            }
        }
        Format::Acled => acled::read(input, opts, geo, sink),
        Format::Gdelt => gdelt::read(input, opts, geo, sink),
        Format::Hxl => hxl::read(input, opts, geo, sink),
    }
}

/// Fields gathered from a row before validation by the domain.
#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub external_id: String,
    pub event_date: String,
    pub date_precision: Option<i16>,
    pub event_type: String,
    pub sub_event_type: String,
    pub violence_type: Option<i16>,
    pub country: Option<Country>,
    pub admin1: Option<String>,
    pub admin2: Option<String>,
    pub location: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    pub geo_precision: Option<i16>,
    pub actor1: Option<String>,
    pub actor2: Option<String>,
    pub targeted_group: Option<String>,
    pub fatalities: i64,
    pub fatalities_low: Option<i64>,
    pub fatalities_high: Option<i64>,
    pub credibility: Option<i16>,
    pub verification: Option<VerificationStatus>,
    pub description: String,
    pub tlp: Option<Tlp>,
}

impl Draft {
    /// Validate through the domain, filling country and admin names by reverse geocoding
    /// where the row lacks them.
    pub(crate) fn finish(self, opts: &ImportOptions, geo: &dyn Geo) -> Result<Incident, String> {
        if !(-90.0..=90.0).contains(&self.latitude) || !(-180.0..=180.0).contains(&self.longitude) {
            return Err(format!(
                "coordinates out of range: {}, {}",
                self.latitude, self.longitude
            ));
        }
        let needs_reverse = self.country.is_none() || self.admin1.is_none();
        let rev = if needs_reverse {
            geo.reverse(self.latitude, self.longitude)
        } else {
            None
        };
        let country = self
            .country
            .or_else(|| rev.as_ref().map(|r| r.country.clone()))
            .ok_or("no country: the row names none and its point is in no known country")?;
        let admin1 = self
            .admin1
            .or_else(|| rev.as_ref().and_then(|r| r.admin1.clone()));
        let admin2 = self
            .admin2
            .or_else(|| rev.as_ref().and_then(|r| r.admin2.clone()));
        let input = IncidentInput {
            event_date: self.event_date,
            event_type: self.event_type,
            sub_event_type: self.sub_event_type,
            country: country.code().to_string(),
            latitude: self.latitude,
            longitude: self.longitude,
            fatalities: self.fatalities,
            description: self.description,
            tlp: self.tlp.unwrap_or(opts.tlp),
            date_precision: self.date_precision,
            geo_precision: self.geo_precision,
            admin1,
            admin2,
            location: self.location,
            actor1: self.actor1,
            actor2: self.actor2,
            targeted_group: self.targeted_group,
            fatalities_low: self.fatalities_low,
            fatalities_high: self.fatalities_high,
            credibility: self.credibility,
            verification_status: self.verification,
            situation_id: None,
            report_ids: None,
            dataset: Some(opts.dataset.clone()),
            external_id: Some(self.external_id),
            violence_type: self.violence_type,
        };
        Incident::parse(input).map_err(|e| e.to_string())
    }
}

/// `Some(trimmed)` for a non-empty value.
pub(crate) fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Parse a number, naming the column on failure.
pub(crate) fn num<T: std::str::FromStr>(col: &str, s: &str) -> Result<T, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{col}: {:?} is not a number", s.trim()))
}

/// Parse an optional number (blank or `NA` is none).
pub(crate) fn opt_num<T: std::str::FromStr>(col: &str, s: &str) -> Result<Option<T>, String> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("na") {
        Ok(None)
    } else {
        num(col, t).map(Some)
    }
}

/// A date in `YYYY-MM-DD` (a time part is ignored), `YYYYMMDD`, or ACLED's `15 March 2024`.
pub(crate) fn date(col: &str, s: &str) -> Result<String, String> {
    let t = s.trim();
    let head = t.get(..10).unwrap_or(t);
    if tocsin_domain::time::iso_date(head.as_bytes()).is_some() {
        // Already in the canonical form: no need to format it again.
        return Ok(head.to_string());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(head, "%Y-%m-%d") {
        return Ok(d.to_string());
    }
    for f in ["%Y%m%d", "%d %B %Y", "%d/%m/%Y"] {
        if let Ok(d) = chrono::NaiveDate::parse_from_str(t, f) {
            return Ok(d.to_string());
        }
    }
    Err(format!("{col}: {t:?} is not a date"))
}

#[cfg(test)]
mod tests {
    use super::date;

    #[test]
    fn dates_in_every_accepted_form_and_impossible_ones_refused() {
        for (given, want) in [
            ("2024-04-02", "2024-04-02"),
            (" 2024-02-29 ", "2024-02-29"),
            ("2024-04-02T10:00:00Z", "2024-04-02"),
            ("2024-04-02 10:00", "2024-04-02"),
            ("20240402", "2024-04-02"),
            ("2 April 2024", "2024-04-02"),
            ("02/04/2024", "2024-04-02"),
        ] {
            assert_eq!(date("d", given).as_deref(), Ok(want), "{given:?}");
        }
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-04-31",
            "2024-0a-02",
            "２０２４-04-02",
            "",
            "-",
        ] {
            let e = date("d", bad).unwrap_err();
            assert!(
                e.starts_with("d: ") && e.ends_with("is not a date"),
                "{bad:?}: {e}"
            );
        }
    }
}
