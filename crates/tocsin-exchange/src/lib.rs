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
pub mod bundle;
mod columns;
pub mod export;
mod fips;
mod gdelt;
mod hxl;
mod input;
mod limit;
pub mod stix;
mod ucdp;

use std::io::Read;
use tocsin_domain::{Country, DomainError, Incident, IncidentInput, Tlp, VerificationStatus};

pub use export::{ExportFormat, ExportWriter};
pub use input::{encoding_for_label, read_file, sniff, ReadInfo};
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
    /// GDELT events, no header: 2.0 (61 tab-separated columns) or 1.0 (57 or 58).
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
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Provenance dataset name (empty: the format's, once known).
    pub dataset: String,
    /// Label of every imported incident.
    pub tlp: Tlp,
    /// GDELT CAMEO root codes kept (default 18, 19, 20: violence).
    pub gdelt_roots: Vec<u8>,
    /// Event type for HXL rows that carry none.
    pub default_event_type: Option<(String, String)>,
    /// A chrono format for dates in a numeric form that could be read two ways
    /// (`05/09/2020`); such dates are refused without one, never guessed.
    pub date_format: Option<String>,
    /// The text encoding (an Encoding Standard label such as `windows-1252`, `latin1`,
    /// `utf-16le`); without one, a byte order mark decides, else UTF-8 unless the text is
    /// not UTF-8, when Windows-1252 is assumed (and said, in [`ReadInfo`]).
    pub encoding: Option<String>,
    /// The member of a `.zip` archive to read (needed when it holds several data files).
    pub member: Option<String>,
}

impl ImportOptions {
    /// Defaults for a format.
    pub fn new(format: Format) -> ImportOptions {
        ImportOptions {
            dataset: format.dataset().to_string(),
            tlp: Tlp::Clear,
            ..ImportOptions::any()
        }
    }

    /// Defaults for a file whose format is not known yet ([`read_file`] with no format
    /// sniffs it): the dataset is then the sniffed format's.
    pub fn any() -> ImportOptions {
        ImportOptions {
            dataset: String::new(),
            tlp: Tlp::Clear,
            gdelt_roots: vec![18, 19, 20],
            default_event_type: None,
            date_format: None,
            encoding: None,
            member: None,
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

/// Read `input` as `format`, handing every row to `sink`. The input may be gzipped and in
/// another encoding (see [`ImportOptions::encoding`]); a `.zip` archive needs
/// [`read_file`], which can seek.
pub fn read(
    format: Format,
    input: impl Read,
    opts: &ImportOptions,
    geo: &dyn Geo,
    sink: &mut dyn FnMut(Row) -> Result<(), String>,
) -> Result<ReadInfo, ImportError> {
    input::read_stream(Some(format), input, ReadInfo::default(), opts, geo, sink)
}

/// Read already decoded UTF-8 text as `format`.
pub(crate) fn read_text(
    format: Format,
    input: impl Read,
    opts: &ImportOptions,
    geo: &dyn Geo,
    sink: &mut dyn FnMut(Row) -> Result<(), String>,
) -> Result<Option<String>, ImportError> {
    let mut input = limit::LineLimited::new(input);
    match format {
        Format::Ucdp => {
            let first = input.peek_non_ws()?;
            if first == Some(b'{') {
                ucdp::read_geojson(input, opts, geo, sink).map(|()| None)
            } else {
                ucdp::read_csv(input, opts, geo, sink).map(|()| None)
            }
        }
        Format::Acled => acled::read(input, opts, geo, sink).map(Some),
        Format::Gdelt => gdelt::read(input, opts, geo, sink).map(Some),
        Format::Hxl => hxl::read(input, opts, geo, sink).map(|()| None),
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
    /// The country when the point falls in none (GDELT's FIPS code at a centroid at sea).
    pub country_fallback: Option<Country>,
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
            .or(self.country_fallback)
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

/// Whether a value is missing as the tools that write these files mark it: empty, or R's
/// `NA`, `N/A`, SQL's `NULL`, Python's `None`, pandas' `nan`, a spreadsheet's `#N/A`.
pub(crate) fn is_missing(s: &str) -> bool {
    let t = s.trim();
    t.is_empty()
        || (t.len() <= 4
            && ["na", "n/a", "null", "none", "nan", "#n/a"]
                .iter()
                .any(|m| t.eq_ignore_ascii_case(m)))
}

/// `Some(trimmed)` for a value that is not missing (see [`is_missing`]).
pub(crate) fn opt(s: &str) -> Option<String> {
    (!is_missing(s)).then(|| s.trim().to_string())
}

/// A text value, missing markers read as empty.
pub(crate) fn text(s: &str) -> String {
    opt(s).unwrap_or_default()
}

/// Parse a number, naming the column on failure. Besides plain numbers: quoted (`"12"`),
/// with thousands separators (`1,234`), or an integer written as a decimal (`1.0`, as pandas
/// writes integer columns that have gaps).
pub(crate) fn num<T: std::str::FromStr>(col: &str, s: &str) -> Result<T, String> {
    let t = s.trim();
    if let Ok(v) = t.parse() {
        return Ok(v);
    }
    if is_missing(t) {
        return Err(format!("{col}: missing ({t:?})"));
    }
    normalize_number(t)
        .and_then(|n| {
            n.parse().ok().or_else(|| {
                // An integer column written as `12.0`.
                let (int, frac) = n.split_once('.')?;
                frac.bytes().all(|b| b == b'0').then(|| int.parse().ok())?
            })
        })
        .ok_or_else(|| format!("{col}: {t:?} is not a number"))
}

/// `t` without quotes and thousands separators, when they are where they belong (`1,234`,
/// `12,345.5`; never `12,5`, which could be a decimal comma).
fn normalize_number(t: &str) -> Option<String> {
    let t = t
        .trim_matches(|c| c == '"' || c == '\'' || c == '\u{a0}' || c == ' ')
        .trim();
    let (sign, body) = match t.strip_prefix('-') {
        Some(b) => ("-", b),
        None => ("", t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let groups: Vec<&str> = int.split([',', '\u{a0}', '\u{202f}']).collect();
    let grouped = groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
    if groups.len() > 1 && !grouped {
        return None;
    }
    let mut out = String::with_capacity(t.len());
    out.push_str(sign);
    out.extend(groups);
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    Some(out)
}

/// Parse an optional number (missing is none; see [`is_missing`]).
pub(crate) fn opt_num<T: std::str::FromStr>(col: &str, s: &str) -> Result<Option<T>, String> {
    if is_missing(s) {
        Ok(None)
    } else {
        num(col, s).map(Some)
    }
}

/// A code (ISO numeric, Gleditsch–Ward) as text, without the `.0` pandas adds to integer
/// columns with gaps; none when missing.
pub(crate) fn code(s: &str) -> Option<String> {
    let t = opt(s)?;
    match t.split_once('.') {
        Some((int, frac))
            if !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b == b'0') =>
        {
            Some(int.to_string())
        }
        _ => Some(t),
    }
}

/// A date in the forms event files carry: ISO `YYYY-MM-DD` (a time part is ignored, as in
/// UCDP's datetimes), `YYYYMMDD`, ACLED's `15 March 2024` or `15 Mar 2024`, a spreadsheet's
/// `9-May-20` or `09-May-2020`. A numeric form that reads two ways (`05/09/2020`) is read
/// only with `date_format` (a chrono format), never guessed.
pub(crate) fn date(col: &str, s: &str, date_format: Option<&str>) -> Result<String, String> {
    let t = s.trim();
    let head = t.get(..10).unwrap_or(t);
    if tocsin_domain::time::iso_date(head.as_bytes()).is_some() {
        // Already in the canonical form: no need to format it again.
        return Ok(head.to_string());
    }
    if let Some(f) = date_format {
        return chrono::NaiveDate::parse_from_str(t, f)
            .map(|d| d.to_string())
            .map_err(|_| format!("{col}: {t:?} is not a date in the form {f:?}"));
    }
    if is_missing(t) {
        return Err(format!("{col}: missing ({t:?})"));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(head, "%Y-%m-%d") {
        return Ok(d.to_string());
    }
    for f in [
        "%Y%m%d",
        "%d %B %Y",
        "%d-%B-%Y",
        "%d-%b-%y",
        "%d %b %y",
        "%B %d, %Y",
        "%Y/%m/%d",
    ] {
        if let Ok(d) = chrono::NaiveDate::parse_from_str(t, f) {
            if (1800..=2200).contains(&chrono::Datelike::year(&d)) {
                return Ok(d.to_string());
            }
        }
    }
    let parts: Vec<&str> = t.split(['/', '.', '-']).collect();
    let two_ways = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && parts[0].len() <= 2
        && parts[1].len() <= 2;
    if two_ways {
        return Err(format!(
            "{col}: {t:?} could be day/month or month/day: give --date-format (e.g. %d/%m/%Y)"
        ));
    }
    Err(format!("{col}: {t:?} is not a date"))
}

#[cfg(test)]
mod tests {
    use super::{code, date, is_missing, num, opt_num};

    #[test]
    fn dates_in_every_accepted_form_and_impossible_ones_refused() {
        for (given, want) in [
            ("2024-04-02", "2024-04-02"),
            (" 2024-02-29 ", "2024-02-29"),
            ("2024-04-02T10:00:00Z", "2024-04-02"),
            ("2024-04-02 10:00", "2024-04-02"),
            ("2020-05-09 00:00:00.000", "2020-05-09"),
            ("20240402", "2024-04-02"),
            ("2 April 2024", "2024-04-02"),
            ("09 May 2020", "2020-05-09"),
            ("9 May 2020", "2020-05-09"),
            ("9-May-20", "2020-05-09"),
            ("09-May-2020", "2020-05-09"),
            ("31-Dec-97", "1997-12-31"),
        ] {
            assert_eq!(date("d", given, None).as_deref(), Ok(want), "{given:?}");
        }
        // Ambiguous numeric dates: never guessed, read only with an explicit format.
        let e = date("d", "05/09/2020", None).unwrap_err();
        assert!(e.contains("--date-format"), "{e}");
        assert_eq!(
            date("d", "05/09/2020", Some("%m/%d/%Y")).as_deref(),
            Ok("2020-05-09")
        );
        assert_eq!(
            date("d", "05/09/2020", Some("%d/%m/%Y")).as_deref(),
            Ok("2020-09-05")
        );
        assert!(date("d", "NA", None).unwrap_err().contains("missing"));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-04-31",
            "2024-0a-02",
            "２０２４-04-02",
            "",
            "-",
        ] {
            let e = date("d", bad, None).unwrap_err();
            assert!(
                e.starts_with("d: ") && (e.contains("not a date") || e.contains("missing")),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn numbers_as_pandas_spreadsheets_and_quotes_write_them() {
        assert_eq!(num::<i64>("n", "1.0"), Ok(1));
        assert_eq!(num::<i64>("n", "1,234"), Ok(1234));
        assert_eq!(num::<i64>("n", "\"12\""), Ok(12));
        assert_eq!(num::<i64>("n", " -3 "), Ok(-3));
        assert_eq!(num::<f64>("n", "12,345.5"), Ok(12345.5));
        assert_eq!(num::<f64>("n", "-4.25"), Ok(-4.25));
        for bad in ["1.5", "12,5", "1,23", "abc", "1.0.0"] {
            assert!(num::<i64>("n", bad).is_err(), "{bad}");
        }
        assert!(
            num::<f64>("n", "12,5").is_err(),
            "a decimal comma is not guessed"
        );
        assert!(num::<i64>("n", "NA").unwrap_err().contains("missing"));
        for m in ["", "NA", "na", "N/A", "NULL", "None", "nan", "NaN", "#N/A"] {
            assert!(is_missing(m), "{m:?}");
            assert_eq!(opt_num::<i64>("n", m), Ok(None));
        }
        assert!(!is_missing("Nana"));
        assert_eq!(code("108.0").as_deref(), Some("108"));
        assert_eq!(code("BDI").as_deref(), Some("BDI"));
        assert_eq!(code("NA"), None);
    }
}
