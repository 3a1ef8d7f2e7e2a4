//! Tocsin's geography layer, embedded in the binary: no files to install, no
//! network, no SQL.
//!
//! * [`country_code`] turns ISO alpha-2/alpha-3/numeric codes, Gleditsch–Ward
//!   numbers (as UCDP uses them), and country names in English, French,
//!   Swahili and Arabic, ISO's or common (`"DR Congo"`, `"Ivory Coast"`,
//!   `"Russia (Soviet Union)"`), into ISO 3166-1 alpha-3; [`country_from_gw`]
//!   takes a bare GW number.
//! * [`reverse`] turns a point into a country (point-in-polygon over Natural
//!   Earth 1:50m outlines), admin1 and admin2 names and the nearest populated
//!   place with its distance.
//! * [`lookup`] turns a place name into ranked candidates, and
//!   [`find_in_text`] finds place names inside a free-text report (an SMS).
//! * [`Gazetteer::admin1_named`] turns a first-level area name as typed
//!   (`"Mambéré-Kadéï"`, `"Province du Nord-Kivu"`) into the gazetteer's own, or
//!   suggests what it may mean.
//! * [`geo_precision`] maps how a place was resolved to ACLED's
//!   `geo_precision` (1 exact place, 2 near a place or admin2, 3 admin1 or
//!   coarser).
//!
//! The data (GeoNames populated places with population ≥ 1,000 and their
//! Latin- and Arabic-script alternate names; admin names; Natural Earth
//! outlines; ISO codes) is derived from pinned registry packages by
//! `scripts/derive-geo.sh`; sources and licences are in `data/LICENCES.md`
//! (GeoNames: CC BY 4.0, credit required; Natural Earth: public domain).
//! Natural Earth draws disputed borders one way: results near a disputed
//! border reflect its editorial choice, not a position of Tocsin's.
//!
//! The free functions use one shared [`Gazetteer`], loaded on first use
//! ([`Gazetteer::global`]; a few hundred milliseconds in a release build). A
//! program can also call [`Gazetteer::load`] itself and share the result in an
//! `Arc`.
//!
//! ```
//! assert_eq!(tocsin_geo::country_code("Côte d’Ivoire"), Some("CIV"));
//! let hits = tocsin_geo::lookup("bangui", Some("CF"));
//! assert_eq!(hits[0].country, "CAF");
//! let found = tocsin_geo::find_in_text("Hommes armés à Bria ce matin", Some("CAF"));
//! assert_eq!(found[0].candidates[0].name, "Bria");
//! ```

#![warn(missing_docs)]

mod admin;
pub mod basemap;
mod countries;
mod gazetteer;
mod index;
mod normalize;
mod polygons;
mod stop;
mod text;

pub use admin::{Admin1Match, MAX_SUGGESTIONS};
pub use countries::{countries, country, country_code, country_from_gw, Country};
pub use gazetteer::Gazetteer;
pub use normalize::normalize;
pub use stop::is_stop_word;

/// What a name or a point was resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatchKind {
    /// A populated place (GeoNames feature class P).
    Place,
    /// A second-level administrative division (district, sub-prefecture...).
    Admin2,
    /// A first-level administrative division (prefecture, province, state...).
    Admin1,
    /// A whole country.
    Country,
}

impl MatchKind {
    /// ACLED-style `geo_precision` for a match of this kind that is not
    /// qualified by "near": see [`geo_precision`].
    pub fn geo_precision(self) -> u8 {
        geo_precision(self, false)
    }
}

/// ACLED-style `geo_precision` code for how a location was resolved:
///
/// * `1` — the report names a populated place and means that place;
/// * `2` — the report places the event *near* a named place ("near Bria",
///   "20 km from Bria", "karibu na", "قرب") or names only a second-level
///   division (admin2);
/// * `3` — the report names only a first-level division (admin1) or, coarser
///   than ACLED ever codes, a whole country (ACLED has no 4, so country-level
///   matches also get 3; check [`MatchKind::Country`] to tell them apart).
pub fn geo_precision(kind: MatchKind, near: bool) -> u8 {
    match kind {
        MatchKind::Place if near => 2,
        MatchKind::Place => 1,
        MatchKind::Admin2 => 2,
        MatchKind::Admin1 | MatchKind::Country => 3,
    }
}

/// One candidate for a name: a populated place, or an administrative area or
/// country (then `geonames_id` is `None` and the point is a representative
/// one: the area's seat, else its most populous place).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<'g> {
    /// What this candidate is.
    pub kind: MatchKind,
    /// The name as GeoNames writes it (`"Ndélé"`), or the area's name.
    pub name: &'g str,
    /// ASCII spelling (`"Ndele"`); same as `name` when that is ASCII already.
    pub ascii_name: &'g str,
    /// ISO 3166-1 alpha-3 code of the country (`"CAF"`; `"XKX"` for Kosovo).
    pub country: &'static str,
    /// First-level division name, where known (`"Haute-Kotto"`).
    pub admin1: Option<&'g str>,
    /// Second-level division name, where known.
    pub admin2: Option<&'g str>,
    /// Latitude, WGS 84 degrees (4 decimals in the data).
    pub lat: f64,
    /// Longitude, WGS 84 degrees (4 decimals in the data).
    pub lon: f64,
    /// GeoNames population (0 when unknown); for areas and countries, the sum
    /// over their populated places in the data (a rough figure).
    pub population: u64,
    /// GeoNames id of a populated place; `None` for areas and countries.
    pub geonames_id: Option<u32>,
    /// GeoNames feature code: `PPL`, `PPLA` (admin1 seat), `PPLA2`, `PPLC`
    /// (capital)...; `ADM1`, `ADM2` or `PCLI` for areas and countries.
    pub feature_code: &'static str,
    /// The query matched the main or ASCII name (not only an alternate name).
    pub exact: bool,
}

impl Candidate<'_> {
    /// ACLED-style precision of this candidate when named directly.
    pub fn geo_precision(&self) -> u8 {
        self.kind.geo_precision()
    }
}

/// How [`Place::country`] was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountrySource {
    /// The point lies inside the country's Natural Earth 1:50m outline.
    Polygon,
    /// The point lies within 2 km of a GeoNames populated place of another
    /// country than the outline says (generalised borders along rivers, e.g.
    /// Bangui on the Ubangi), and the place's country was taken.
    NearbyPlace,
    /// The point lies in no outline (a coast, a small island, a lake), and the
    /// nearest populated place, within 25 km, gave the country.
    NearestPlace,
}

/// Result of [`reverse`]: where a point is.
#[derive(Debug, Clone, PartialEq)]
pub struct Place<'g> {
    /// ISO 3166-1 alpha-3 code of the country.
    pub country: &'static str,
    /// How the country was decided.
    pub country_source: CountrySource,
    /// First-level division, from the nearest populated place in that country.
    pub admin1: Option<&'g str>,
    /// Second-level division, likewise, where GeoNames has a name for it.
    pub admin2: Option<&'g str>,
    /// The nearest populated place in that country (or, failing one within
    /// 500 km, the nearest at all).
    pub nearest: Candidate<'g>,
    /// Great-circle distance from the point to `nearest`, in km.
    pub distance_km: f64,
}

/// A place name found in free text by [`find_in_text`].
#[derive(Debug, Clone, PartialEq)]
pub struct Match<'g> {
    /// Byte offset of the name's first character in the text.
    pub start: usize,
    /// Byte offset just past the name's last character.
    pub end: usize,
    /// Kind of the best candidate.
    pub kind: MatchKind,
    /// Preceded by a "near" word ("near", "près de", "karibu na", "قرب",
    /// "20 km ...").
    pub near: bool,
    /// Ranked candidates (at most 8), in the order of
    /// [`Gazetteer::lookup`], restricted to names allowed in text.
    pub candidates: Vec<Candidate<'g>>,
}

impl Match<'_> {
    /// ACLED-style precision for this match (see [`geo_precision`]).
    pub fn geo_precision(&self) -> u8 {
        geo_precision(self.kind, self.near)
    }
}

/// Errors loading the embedded data. They can only happen with a build whose
/// data files are corrupt, which this crate's tests rule out.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    /// A compressed data file could not be inflated.
    #[error("cannot decompress embedded {file}: {source}")]
    Decompress {
        /// Data file name.
        file: &'static str,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A line of a data file is malformed.
    #[error("malformed embedded {file}, line {line}: {msg}")]
    Data {
        /// Data file name.
        file: &'static str,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        msg: String,
    },
    /// The country outlines could not be read.
    #[error("malformed embedded country outlines: {0}")]
    Topology(String),
}

/// Where a point is: country, admin names, nearest populated place. Uses the
/// shared [`Gazetteer::global`]; see [`Gazetteer::reverse`].
pub fn reverse(lat: f64, lon: f64) -> Option<Place<'static>> {
    Gazetteer::global().reverse(lat, lon)
}

/// Candidates for a place name. Uses the shared [`Gazetteer::global`]; see
/// [`Gazetteer::lookup`].
pub fn lookup(name: &str, country_hint: Option<&str>) -> Vec<Candidate<'static>> {
    Gazetteer::global().lookup(name, country_hint)
}

/// Place names in free text. Uses the shared [`Gazetteer::global`]; see
/// [`Gazetteer::find_in_text`].
pub fn find_in_text(text: &str, country_hint: Option<&str>) -> Vec<Match<'static>> {
    Gazetteer::global().find_in_text(text, country_hint)
}
