//! The gazetteer: populated places, admin areas, countries, their name index
//! and the spatial indexes behind [`Gazetteer::reverse`].

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::OnceLock;

use rstar::primitives::GeomWithData;
use rstar::RTree;

use crate::countries::{self, CountryTable};
use crate::index::{IndexBuilder, NameIndex, Posting, Target, P_ABBREV, P_COMMON, P_EXACT, P_TEXT};
use crate::normalize::{tokenize, Normalised};
use crate::polygons::Outlines;
use crate::{Candidate, CountrySource, GeoError, MatchKind, Place};

const PLACES_GZ: &[u8] = include_bytes!("../data/places.tsv.gz");
const ADMIN1_TSV: &str = include_str!("../data/admin1.tsv");
const ADMIN2_TSV: &str = include_str!("../data/admin2.tsv");
const STOPWORDS_TSV: &str = include_str!("../data/stopwords.tsv");
const STOPWORDS_EXTRA_TSV: &str = include_str!("../data/stopwords-extra.tsv");

/// GeoNames feature codes of class P found in cities1000.
const FEATURE_CODES: &[&str] = &[
    "PPL", "PPLA", "PPLA2", "PPLA3", "PPLA4", "PPLA5", "PPLC", "PPLCH", "PPLF", "PPLG", "PPLH",
    "PPLL", "PPLQ", "PPLR", "PPLS", "PPLW", "PPLX", "STLMT",
];
const FC_PPLA: u8 = 1;
const FC_PPLA2: u8 = 2;
const FC_PPLC: u8 = 6;

pub(crate) const NONE: u32 = u32::MAX;

/// Mean Earth radius (IUGG), km.
const EARTH_RADIUS_KM: f64 = 6371.0088;
/// A point within this distance of a populated place of another country than
/// the 1:50m outline says takes the place's country.
const NEARBY_PLACE_KM: f64 = 2.0;
/// A point outside every outline takes the nearest place's country within this.
const COAST_FALLBACK_KM: f64 = 25.0;
/// Areas and countries rank against places with their summed population divided by this.
const AREA_WEIGHT_DIVISOR: u64 = 10;
/// Search radius for the nearest place inside the point's country.
const SAME_COUNTRY_KM: f64 = 500.0;

#[derive(Debug, Clone, Copy)]
pub(crate) struct PlaceRec {
    pub id: u32,
    name: (u32, u32),
    ascii: (u32, u32),
    pub lat: f32,
    pub lon: f32,
    pub population: u32,
    pub country: u16,
    pub fcode: u8,
    pub admin1: u32,
    pub admin2: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct AreaRec {
    pub name: &'static str,
    pub country: u16,
    /// For an admin2: its admin1 (or NONE); for an admin1: itself.
    pub parent: u32,
    /// Seat or most populous place, NONE if the area has no place in the data.
    pub seat: u32,
    pub population: u64,
}

type PointEntry = GeomWithData<[f64; 3], u32>;

/// The embedded gazetteer. Build it once ([`Gazetteer::load`] or the shared
/// [`Gazetteer::global`]); every query after that is read-only, so one
/// instance can be shared between threads (`Arc<Gazetteer>` or `&'static`).
pub struct Gazetteer {
    text: String,
    pub(crate) places: Vec<PlaceRec>,
    pub(crate) admin1: Vec<AreaRec>,
    pub(crate) admin2: Vec<AreaRec>,
    /// Per country index: representative place (capital, else most populous) and population sum.
    country_seat: Vec<u32>,
    country_pop: Vec<u64>,
    pub(crate) index: NameIndex,
    /// Places on the unit sphere, built on the first `reverse` call.
    points: OnceLock<RTree<PointEntry>>,
    outlines: Outlines,
    pub(crate) countries: &'static CountryTable,
}

impl std::fmt::Debug for Gazetteer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gazetteer")
            .field("places", &self.places.len())
            .field("admin1", &self.admin1.len())
            .field("admin2", &self.admin2.len())
            .field("name_keys", &self.index.key_count())
            .field("polygons", &self.outlines.len())
            .finish_non_exhaustive()
    }
}

static GLOBAL: OnceLock<Gazetteer> = OnceLock::new();

fn bad(file: &'static str, line: usize, msg: impl Into<String>) -> GeoError {
    GeoError::Data {
        file,
        line,
        msg: msg.into(),
    }
}

fn unit_vector(lat: f64, lon: f64) -> [f64; 3] {
    let (la, lo) = (lat.to_radians(), lon.to_radians());
    [la.cos() * lo.cos(), la.cos() * lo.sin(), la.sin()]
}

/// Great-circle distance in km (haversine).
pub(crate) fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

/// Chord length on the unit sphere for a great-circle distance in km.
fn chord_for_km(km: f64) -> f64 {
    2.0 * (km / (2.0 * EARTH_RADIUS_KM)).sin()
}

fn stop_words() -> HashSet<String> {
    let mut set = HashSet::new();
    for text in [STOPWORDS_TSV, STOPWORDS_EXTRA_TSV] {
        for line in text.lines().skip(1).filter(|l| !l.starts_with('#')) {
            if let Some((_, w)) = line.split_once('\t') {
                let k = crate::normalize(w);
                if !k.is_empty() && !k.contains(' ') {
                    set.insert(k);
                }
            }
        }
    }
    set
}

/// How important a named thing is, for the free-text rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Importance {
    /// A populated place under 5,000 people that is no admin seat.
    Minor,
    /// A place of 5,000+ people, an admin1 seat or capital, or an area.
    Notable,
    /// A place of 50,000+ people or a national capital.
    Major,
}

/// Which text flags (`P_TEXT`, `P_COMMON` or none) a name gets; the rule is
/// documented on `Gazetteer::find_in_text`.
fn text_flags(key: &str, exact: bool, stop: &HashSet<String>, importance: Importance) -> u8 {
    let letters = key.chars().filter(|c| *c != ' ').count();
    let one_word = !key.contains(' ');
    if letters < 2 {
        return 0;
    }
    if one_word && stop.contains(key) {
        // "Man", "Sale", "Bo", "Nord": only under the strict conditions of P_COMMON.
        return if exact && importance >= Importance::Notable {
            P_COMMON
        } else {
            0
        };
    }
    if letters < 3 {
        return 0;
    }
    if !one_word && key.split(' ').all(|w| stop.contains(w)) {
        // "The Village" no, "Port Said" yes.
        return if importance == Importance::Major {
            P_TEXT
        } else {
            0
        };
    }
    if !exact && letters < 4 {
        return 0;
    }
    if one_word && letters == 3 && importance == Importance::Minor {
        return 0;
    }
    P_TEXT
}

impl Gazetteer {
    /// The shared gazetteer, loaded on first call (a few hundred milliseconds
    /// in a release build; later calls are free).
    ///
    /// # Panics
    /// Only if the embedded data is corrupt, i.e. the crate was built from
    /// broken data files; this crate's tests load it.
    pub fn global() -> &'static Gazetteer {
        GLOBAL.get_or_init(|| {
            Gazetteer::load().expect("tocsin-geo: embedded gazetteer data is corrupt")
        })
    }

    /// Load the embedded data and build the indexes. Costly (see
    /// [`Gazetteer::global`]): do it once and share the result.
    pub fn load() -> Result<Gazetteer, GeoError> {
        let countries = countries::table();
        let stop = stop_words();

        // --- admin areas -------------------------------------------------------------
        let mut admin1: Vec<AreaRec> = Vec::new();
        let mut a1_code: HashMap<(&'static str, &'static str), u32> = HashMap::new();
        for (ln, line) in ADMIN1_TSV.lines().enumerate().skip(1) {
            let f: Vec<&'static str> = line.split('\t').collect();
            let [cc, code, name] = f[..] else {
                return Err(bad("admin1.tsv", ln + 1, "expected country, admin1, name"));
            };
            let country = countries
                .get_iso2(cc)
                .ok_or_else(|| bad("admin1.tsv", ln + 1, format!("unknown country {cc}")))?;
            let idx = admin1.len() as u32;
            a1_code.insert((cc, code), idx);
            admin1.push(AreaRec {
                name,
                country,
                parent: idx,
                seat: NONE,
                population: 0,
            });
        }
        let mut admin2: Vec<AreaRec> = Vec::new();
        let mut a2_code: HashMap<(&'static str, &'static str, &'static str), u32> = HashMap::new();
        for (ln, line) in ADMIN2_TSV.lines().enumerate().skip(1) {
            let f: Vec<&'static str> = line.split('\t').collect();
            let [cc, a1, a2, name] = f[..] else {
                return Err(bad(
                    "admin2.tsv",
                    ln + 1,
                    "expected country, admin1, admin2, name",
                ));
            };
            let country = countries
                .get_iso2(cc)
                .ok_or_else(|| bad("admin2.tsv", ln + 1, format!("unknown country {cc}")))?;
            a2_code.insert((cc, a1, a2), admin2.len() as u32);
            admin2.push(AreaRec {
                name,
                country,
                parent: a1_code.get(&(cc, a1)).copied().unwrap_or(NONE),
                seat: NONE,
                population: 0,
            });
        }

        // --- places --------------------------------------------------------------------
        let mut text = String::with_capacity(12 << 20);
        flate2::read::GzDecoder::new(PLACES_GZ)
            .read_to_string(&mut text)
            .map_err(|source| GeoError::Decompress {
                file: "places.tsv.gz",
                source,
            })?;
        let base = text.as_ptr() as usize;
        let span = |s: &str| ((s.as_ptr() as usize - base) as u32, s.len() as u32);
        let mut places: Vec<PlaceRec> = Vec::with_capacity(140_000);
        let mut alt_spans: Vec<(u32, u32)> = Vec::with_capacity(140_000);
        for (ln, line) in text.split('\n').enumerate().skip(1) {
            if line.is_empty() {
                continue;
            }
            let err = |msg: &str| bad("places.tsv.gz", ln + 1, msg);
            let mut f = line.split('\t');
            let mut next = || f.next().ok_or_else(|| err("too few columns"));
            let (id, name, ascii, lat, lon, fcode, cc, a1, a2, pop, alts) = (
                next()?,
                next()?,
                next()?,
                next()?,
                next()?,
                next()?,
                next()?,
                next()?,
                next()?,
                next()?,
                next()?,
            );
            let country = countries
                .get_iso2(cc)
                .ok_or_else(|| err(&format!("unknown country {cc}")))?;
            let fcode = FEATURE_CODES
                .iter()
                .position(|c| *c == fcode)
                .ok_or_else(|| err(&format!("unknown feature code {fcode}")))?
                as u8;
            places.push(PlaceRec {
                id: id.parse().map_err(|_| err("bad geonameid"))?,
                name: span(name),
                ascii: if ascii.is_empty() {
                    span(name)
                } else {
                    span(ascii)
                },
                lat: lat.parse().map_err(|_| err("bad latitude"))?,
                lon: lon.parse().map_err(|_| err("bad longitude"))?,
                population: pop.parse().map_err(|_| err("bad population"))?,
                country,
                fcode,
                admin1: a1_code.get(&(cc, a1)).copied().unwrap_or(NONE),
                admin2: a2_code.get(&(cc, a1, a2)).copied().unwrap_or(NONE),
            });
            alt_spans.push(span(alts));
        }
        if places.windows(2).any(|w| w[0].id >= w[1].id) {
            return Err(bad("places.tsv.gz", 0, "rows are not sorted by geonameid"));
        }

        // --- seats and population sums -----------------------------------------------
        let better = |cur: u32, cand: u32, seat_code: u8| -> bool {
            if cur == NONE {
                return true;
            }
            let (a, b) = (&places[cur as usize], &places[cand as usize]);
            let (sa, sb) = (a.fcode == seat_code, b.fcode == seat_code);
            (sb, b.population) > (sa, a.population)
        };
        let mut country_seat = vec![NONE; countries.countries.len()];
        let mut country_pop = vec![0u64; countries.countries.len()];
        for (i, p) in places.iter().enumerate() {
            let i = i as u32;
            let c = p.country as usize;
            country_pop[c] += u64::from(p.population);
            if better(country_seat[c], i, FC_PPLC) {
                country_seat[c] = i;
            }
            if p.admin1 != NONE {
                let a = &mut admin1[p.admin1 as usize];
                a.population += u64::from(p.population);
                if better(a.seat, i, FC_PPLA) {
                    a.seat = i;
                }
            }
            if p.admin2 != NONE {
                let a = &mut admin2[p.admin2 as usize];
                a.population += u64::from(p.population);
                if better(a.seat, i, FC_PPLA2) {
                    a.seat = i;
                }
            }
        }

        // --- name index ----------------------------------------------------------------
        let mut b = IndexBuilder::with_capacity(450_000, 600_000);
        let mut n = Normalised::default();
        for (i, p) in places.iter().enumerate() {
            let t = Target::place(i as u32);
            let importance = if p.population >= 50_000 || p.fcode == FC_PPLC {
                Importance::Major
            } else if p.population >= 5_000 || p.fcode == FC_PPLA {
                Importance::Notable
            } else {
                Importance::Minor
            };
            let name = &text[p.name.0 as usize..(p.name.0 + p.name.1) as usize];
            let ascii = &text[p.ascii.0 as usize..(p.ascii.0 + p.ascii.1) as usize];
            for (j, s) in [name, ascii].into_iter().enumerate() {
                if j == 1 && p.ascii == p.name {
                    break;
                }
                tokenize(s, &mut n);
                let flags = text_flags(&n.text, true, &stop, importance);
                b.add(&n.text, t, P_EXACT | flags);
            }
            let (ao, al) = alt_spans[i];
            let alts = &text[ao as usize..(ao + al) as usize];
            for a in alts.split(',').filter(|a| !a.is_empty()) {
                tokenize(a, &mut n);
                let flags = text_flags(&n.text, false, &stop, importance);
                b.add(&n.text, t, flags);
            }
        }
        for (i, a) in admin1.iter().enumerate() {
            tokenize(a.name, &mut n);
            let flags = text_flags(&n.text, true, &stop, Importance::Notable);
            b.add(&n.text, Target::admin1(i as u32), P_EXACT | flags);
        }
        for (i, a) in admin2.iter().enumerate() {
            tokenize(a.name, &mut n);
            let flags = text_flags(&n.text, true, &stop, Importance::Notable);
            b.add(&n.text, Target::admin2(i as u32), P_EXACT | flags);
        }
        for (key, idx, abbrev) in &countries.names {
            // Names two countries share resolve to neither.
            if countries.name_owner(key) != Some(*idx) {
                continue;
            }
            let flags = if *abbrev {
                P_EXACT | P_TEXT | P_ABBREV
            } else {
                P_EXACT | text_flags(key, true, &stop, Importance::Major)
            };
            b.add(key, Target::country(*idx), flags);
        }
        // Rank: exact before alternate name, then by weight: a place's
        // population, or a tenth of an area's summed population, so a city
        // beats the province it is the seat of ("Bangui", "Gao") but a
        // province beats a village of the same name elsewhere ("Borno").
        let weight = |t: Target| -> u64 {
            match t.kind() {
                MatchKind::Place => u64::from(places[t.index() as usize].population),
                MatchKind::Admin2 => admin2[t.index() as usize].population / AREA_WEIGHT_DIVISOR,
                MatchKind::Admin1 => admin1[t.index() as usize].population / AREA_WEIGHT_DIVISOR,
                MatchKind::Country => country_pop[t.index() as usize] / AREA_WEIGHT_DIVISOR,
            }
        };
        let index = b.finish(|p: &Posting| {
            (
                p.flags & P_EXACT == 0,
                std::cmp::Reverse(weight(p.target)),
                p.target.kind(),
                p.target,
            )
        });

        // --- country outlines (the place R-tree is built by the first `reverse`) --------
        let outlines = Outlines::load(countries)?;

        text.shrink_to_fit();
        places.shrink_to_fit();
        Ok(Gazetteer {
            text,
            places,
            admin1,
            admin2,
            country_seat,
            country_pop,
            index,
            points: OnceLock::new(),
            outlines,
            countries,
        })
    }

    fn points(&self) -> &RTree<PointEntry> {
        self.points.get_or_init(|| {
            RTree::bulk_load(
                self.places
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        GeomWithData::new(unit_vector(f64::from(p.lat), f64::from(p.lon)), i as u32)
                    })
                    .collect(),
            )
        })
    }

    /// Build the spatial index of places now rather than on the first
    /// [`Gazetteer::reverse`] call (tens of milliseconds in a release build).
    pub fn prepare_reverse(&self) {
        self.points();
    }

    /// Number of populated places in the data (GeoNames cities1000).
    pub fn place_count(&self) -> usize {
        self.places.len()
    }

    /// Number of distinct normalised names indexed.
    pub fn name_count(&self) -> usize {
        self.index.key_count()
    }

    /// Approximate heap memory held by the gazetteer, in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity()
            + self.places.capacity() * std::mem::size_of::<PlaceRec>()
            + (self.admin1.capacity() + self.admin2.capacity()) * std::mem::size_of::<AreaRec>()
            + self.index.heap_bytes()
            + self
                .points
                .get()
                .map_or(0, |t| t.size() * (std::mem::size_of::<PointEntry>() + 16))
    }

    fn str_at(&self, span: (u32, u32)) -> &str {
        &self.text[span.0 as usize..(span.0 + span.1) as usize]
    }

    /// The populated place with this GeoNames id, if it is in the data.
    pub fn by_geonames_id(&self, id: u32) -> Option<Candidate<'_>> {
        let i = self.places.binary_search_by_key(&id, |p| p.id).ok()?;
        Some(self.candidate(Target::place(i as u32), true))
    }

    /// The country outlines (Natural Earth 1:50m) reaching into `[west, south, east, north]`
    /// (degrees), for drawing a map: one entry per polygon, its country's ISO alpha-3 code and
    /// its rings as `[longitude, latitude]` pairs, the exterior first. A ring crossing ±180° is
    /// continuous (its longitudes may pass ±180).
    pub fn outlines_within(&self, bbox: [f64; 4]) -> Vec<(&'static str, Vec<Vec<[f64; 2]>>)> {
        self.outlines
            .within(bbox)
            .into_iter()
            .map(|(c, p)| {
                let ring = |r: &geo::LineString<f64>| r.coords().map(|c| [c.x, c.y]).collect();
                let mut rings: Vec<Vec<[f64; 2]>> = vec![ring(p.exterior())];
                rings.extend(p.interiors().iter().map(ring));
                (self.iso3(c), rings)
            })
            .collect()
    }

    /// Where the seat (else the most populous place) of the first-level area `name` of
    /// `country` lies, as `(latitude, longitude)`: a place to write the area's name on a map.
    /// `name` is matched as [`Gazetteer::admin1_named`] matches it; `None` when it is not
    /// known or the area has no place in the data.
    pub fn admin1_seat(&self, country: &str, name: &str) -> Option<(f64, f64)> {
        let crate::Admin1Match::Found(found) = self.admin1_named(country, name) else {
            return None;
        };
        let c = self.hint_index(Some(country))?;
        self.admin1
            .iter()
            .filter(|a| a.country == c && a.name == found && a.seat != NONE)
            .max_by_key(|a| a.population)
            .and_then(|a| self.places.get(a.seat as usize))
            .map(|p| (f64::from(p.lat), f64::from(p.lon)))
    }

    pub(crate) fn iso3(&self, country: u16) -> &'static str {
        self.countries.countries[country as usize].iso3
    }

    fn place_candidate(&self, i: u32, exact: bool) -> Candidate<'_> {
        let p = &self.places[i as usize];
        Candidate {
            kind: MatchKind::Place,
            name: self.str_at(p.name),
            ascii_name: self.str_at(p.ascii),
            country: self.iso3(p.country),
            admin1: (p.admin1 != NONE).then(|| self.admin1[p.admin1 as usize].name),
            admin2: (p.admin2 != NONE).then(|| self.admin2[p.admin2 as usize].name),
            lat: f64::from(p.lat),
            lon: f64::from(p.lon),
            population: u64::from(p.population),
            geonames_id: Some(p.id),
            feature_code: FEATURE_CODES[p.fcode as usize],
            exact,
        }
    }

    fn seat_point(&self, seat: u32) -> (f64, f64) {
        if seat == NONE {
            (f64::NAN, f64::NAN)
        } else {
            let p = &self.places[seat as usize];
            (f64::from(p.lat), f64::from(p.lon))
        }
    }

    /// Build the public candidate for an index target.
    pub(crate) fn candidate(&self, t: Target, exact: bool) -> Candidate<'_> {
        let i = t.index();
        match t.kind() {
            MatchKind::Place => self.place_candidate(i, exact),
            MatchKind::Admin1 | MatchKind::Admin2 => {
                let (a, code) = if t.kind() == MatchKind::Admin1 {
                    (&self.admin1[i as usize], "ADM1")
                } else {
                    (&self.admin2[i as usize], "ADM2")
                };
                let (lat, lon) = self.seat_point(a.seat);
                let admin1 = if t.kind() == MatchKind::Admin1 {
                    Some(a.name)
                } else {
                    (a.parent != NONE).then(|| self.admin1[a.parent as usize].name)
                };
                Candidate {
                    kind: t.kind(),
                    name: a.name,
                    ascii_name: a.name,
                    country: self.iso3(a.country),
                    admin1,
                    admin2: (t.kind() == MatchKind::Admin2).then_some(a.name),
                    lat,
                    lon,
                    population: a.population,
                    geonames_id: None,
                    feature_code: code,
                    exact,
                }
            }
            MatchKind::Country => {
                let c = &self.countries.countries[i as usize];
                let (lat, lon) = self.seat_point(self.country_seat[i as usize]);
                Candidate {
                    kind: MatchKind::Country,
                    name: c.name,
                    ascii_name: c.name,
                    country: c.iso3,
                    admin1: None,
                    admin2: None,
                    lat,
                    lon,
                    population: self.country_pop[i as usize],
                    geonames_id: None,
                    feature_code: "PCLI",
                    exact,
                }
            }
        }
    }

    pub(crate) fn target_country(&self, t: Target) -> u16 {
        let i = t.index() as usize;
        match t.kind() {
            MatchKind::Place => self.places[i].country,
            MatchKind::Admin2 => self.admin2[i].country,
            MatchKind::Admin1 => self.admin1[i].country,
            MatchKind::Country => i as u16,
        }
    }

    pub(crate) fn hint_index(&self, hint: Option<&str>) -> Option<u16> {
        let iso3 = countries::country_code(hint?)?;
        self.countries.get_iso3(iso3)
    }

    /// Candidates for a place name, for a name typed or coded in a report.
    ///
    /// The name is normalised (see [`crate::normalize`]: case, diacritics,
    /// punctuation, Arabic letter variants and article) and looked up among
    /// the main, ASCII and alternate names (Latin and Arabic script) of every
    /// populated place, the admin1 and admin2 names, and country names. There
    /// is no fuzzy matching: `"Bambary"` finds nothing. A name that is not
    /// known as a whole but has commas (`"Bria, Haute-Kotto"`, `"Bangui,
    /// CAR"`) is looked up by its first part, and candidates whose admin1,
    /// admin2 or country matches a later part come first.
    ///
    /// Ranking: candidates in `country_hint` first (any form
    /// [`crate::country_code`] accepts; an unknown hint is ignored), then a
    /// match on the main/ASCII name before one on an alternate name, then by
    /// weight: a place's population, or a tenth of an admin area's or
    /// country's summed population — so `"Bangui"` gives the city before the
    /// commune it is the seat of, and `"Borno"` the Nigerian state before an
    /// Italian village. At most 50 candidates are returned.
    pub fn lookup(&self, name: &str, country_hint: Option<&str>) -> Vec<Candidate<'_>> {
        let mut n = Normalised::default();
        tokenize(name, &mut n);
        let Some(e) = self.index.get(&n.text) else {
            return self.lookup_qualified(name, country_hint);
        };
        let hint = self.hint_index(country_hint);
        let mut ps: Vec<&Posting> = self.index.postings(e).iter().collect();
        if let Some(h) = hint {
            // Stable: keeps the index's rank order within each group.
            ps.sort_by_key(|p| self.target_country(p.target) != h);
        }
        ps.into_iter()
            .take(50)
            .map(|p| self.candidate(p.target, p.flags & P_EXACT != 0))
            .collect()
    }

    /// `"Bria, Haute-Kotto"`, `"Bangui, Central African Republic"`: look up
    /// the part before the first comma and put first the candidates whose
    /// admin1, admin2 or country matches one of the other parts.
    fn lookup_qualified(&self, name: &str, country_hint: Option<&str>) -> Vec<Candidate<'_>> {
        let mut parts = name.split(',');
        let (Some(head), Some(_)) = (parts.next(), name.find(',')) else {
            return Vec::new();
        };
        let quals: Vec<String> = parts
            .map(crate::normalize)
            .filter(|q| !q.is_empty())
            .collect();
        let mut cands = self.lookup(head, country_hint);
        if quals.is_empty() {
            return cands;
        }
        let qualified = |c: &Candidate<'_>| {
            quals.iter().any(|q| {
                c.admin1.is_some_and(|a| crate::normalize(a) == *q)
                    || c.admin2.is_some_and(|a| crate::normalize(a) == *q)
                    || countries::country_code(q) == Some(c.country)
            })
        };
        cands.sort_by_key(|c| !qualified(c));
        cands
    }

    /// Where a point is: the country whose Natural Earth 1:50m outline holds
    /// it, with the admin1/admin2 names of, and the distance to, the nearest
    /// GeoNames populated place in that country.
    ///
    /// Rules, in order:
    /// * `None` for a latitude outside ±90, a longitude outside ±180, or NaN;
    /// * inside an outline: that country ([`CountrySource::Polygon`]), unless
    ///   a populated place of another country lies within 2 km — 1:50m
    ///   borders are generalised by a kilometre or more, which matters for
    ///   towns on border rivers — then the place's country
    ///   ([`CountrySource::NearbyPlace`]);
    /// * in no outline (coasts, small islands, lakes): the country of the
    ///   nearest populated place if it is within 25 km
    ///   ([`CountrySource::NearestPlace`]), otherwise `None` (open sea).
    ///
    /// Admin names come from the nearest place in the chosen country within
    /// 500 km; there are no admin polygons, so near an admin border they can
    /// name the neighbouring area.
    pub fn reverse(&self, lat: f64, lon: f64) -> Option<Place<'_>> {
        if !(lat.is_finite() && lon.is_finite()) || lat.abs() > 90.0 || lon.abs() > 180.0 {
            return None;
        }
        let q = unit_vector(lat, lon);
        let points = self.points();
        let first = points.nearest_neighbor(&q)?.data;
        let fp = &self.places[first as usize];
        let d0 = distance_km(lat, lon, f64::from(fp.lat), f64::from(fp.lon));
        let (country, source, nearest) = match self.outlines.country_at(lat, lon) {
            Some(c) if fp.country == c => (c, CountrySource::Polygon, Some(first)),
            Some(_) if d0 <= NEARBY_PLACE_KM => {
                (fp.country, CountrySource::NearbyPlace, Some(first))
            }
            Some(c) => {
                let limit = chord_for_km(SAME_COUNTRY_KM).powi(2);
                let found = points
                    .nearest_neighbor_iter_with_distance_2(&q)
                    .take_while(|(_, d2)| *d2 <= limit)
                    .find(|(e, _)| self.places[e.data as usize].country == c)
                    .map(|(e, _)| e.data);
                (c, CountrySource::Polygon, found)
            }
            None if d0 <= COAST_FALLBACK_KM => {
                (fp.country, CountrySource::NearestPlace, Some(first))
            }
            None => return None,
        };
        let (near_idx, same_country) = match nearest {
            Some(i) => (i, true),
            None => (first, false),
        };
        let np = &self.places[near_idx as usize];
        let cand = self.place_candidate(near_idx, true);
        Some(Place {
            country: self.iso3(country),
            country_source: source,
            admin1: if same_country { cand.admin1 } else { None },
            admin2: if same_country { cand.admin2 } else { None },
            distance_km: distance_km(lat, lon, f64::from(np.lat), f64::from(np.lon)),
            nearest: cand,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        // Bangui to Bria, about 450 km as the crow flies.
        let d = distance_km(4.3612, 18.555, 6.5423, 21.9863);
        assert!((440.0..460.0).contains(&d), "{d}");
        assert!(distance_km(1.0, 2.0, 1.0, 2.0).abs() < 1e-9);
        assert!((chord_for_km(EARTH_RADIUS_KM * std::f64::consts::PI) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn every_capital_can_be_found_in_text() {
        let g = Gazetteer::global();
        let mut capitals: HashSet<u32> = g
            .places
            .iter()
            .enumerate()
            .filter(|(_, p)| p.fcode == FC_PPLC)
            .map(|(i, _)| i as u32)
            .collect();
        assert!(capitals.len() > 200);
        for (_, p) in g.index.iter() {
            if p.flags & P_EXACT != 0 && p.flags & (P_TEXT | P_COMMON) != 0 {
                if let MatchKind::Place = p.target.kind() {
                    capitals.remove(&p.target.index());
                }
            }
        }
        let names: Vec<&str> = capitals
            .iter()
            .map(|&i| g.str_at(g.places[i as usize].name))
            .collect();
        assert!(names.is_empty(), "capitals not findable in text: {names:?}");
    }

    #[test]
    fn text_rule() {
        use Importance::*;
        let stop: HashSet<String> = ["man", "the", "village", "port", "said"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(text_flags("man", true, &stop, Major), P_COMMON);
        assert_eq!(text_flags("man", true, &stop, Minor), 0);
        assert_eq!(text_flags("man", false, &stop, Major), 0);
        assert_eq!(text_flags("ab", true, &stop, Major), 0);
        assert_eq!(text_flags("obo", true, &stop, Notable), P_TEXT);
        assert_eq!(text_flags("obo", true, &stop, Minor), 0);
        assert_eq!(text_flags("obo", false, &stop, Major), 0);
        assert_eq!(text_flags("bria", true, &stop, Minor), P_TEXT);
        assert_eq!(text_flags("man city", true, &stop, Minor), P_TEXT);
        assert_eq!(text_flags("the village", true, &stop, Notable), 0);
        assert_eq!(text_flags("port said", true, &stop, Major), P_TEXT);
    }
}
