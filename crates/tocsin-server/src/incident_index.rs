//! An in-memory index of every incident, behind the map and every incident list.
//!
//! Lists (`GET /api/v1/incidents`, the incidents page, assessment suggestions, through
//! [`list_incidents`]): the index picks the ids of one page (any combination of filters, newest
//! first) and the store reads those rows by id, so the store needs no index per filter; each
//! row read is checked against the filter again, so a row changed since the index last
//! refreshed (a TLP raised, say) is never shown. Map queries ([`IncidentIndex::query`], served
//! by [`crate::map`]): server-side clusters at low zoom, points at high zoom.
//!
//! The index holds a few bytes per incident (position, date, type, country, deaths, label) and
//! answers a query with one pass over them: on a million incidents that is a few milliseconds,
//! where a `GROUP BY` over the table takes hundreds. It loads from the store at first use and
//! then refreshes by `updated_at` before each query, so incidents written by any process (the
//! API, `tocsin import`) appear on the next query. Rows changed within the last
//! [`LOOKBACK_SECS`] of the clock are re-read each time, so commits that land out of timestamp
//! order are not missed.

use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;
use tocsin_domain::incident::ACLED_TYPOLOGY;
use tocsin_domain::{
    Cursor, Incident, IncidentFilter, MapPoint, Page, PageRequest, Tlp, VerificationStatus,
};
use tocsin_store::{DynStore, StoreError};
use uuid::Uuid;

use crate::map::MapQuery;
use crate::AppState;

/// Rows re-read on each refresh to catch commits that land out of timestamp order.
pub const LOOKBACK_SECS: i64 = 5;
/// The label rank the index gives a retracted incident, above every clearance.
const RETRACTED: u8 = u8::MAX;
/// From this zoom on, points rather than clusters.
pub const POINTS_ZOOM: u8 = 10;
/// The most points one answer carries; beyond it, clusters.
pub const MAX_POINTS: usize = 5_000;
/// Cells per 256-pixel tile width: clusters are about 32 pixels apart.
const CELLS_PER_TILE: f64 = 8.0;
const LOAD_PAGE: u32 = 50_000;
/// Views of at most this many cells aggregate into a flat array indexed by cell (a world view
/// has a few hundred); larger ones, into a hash map of the cells that occur.
const DENSE_CELLS: u64 = 1 << 20;
/// Queries bounded to at most this many days read the days' points ([`Inner::by_day`]);
/// wider ones pass over every point in memory order, which is quicker then.
const BY_DAY_SPAN: i32 = 366;

#[derive(Clone, Copy)]
struct Pt {
    lon: f32,
    lat: f32,
    day: i32,
    fatalities: u32,
    tlp: u8,
    event_type: u8,
    status: u8,
    country: [u8; 3],
    /// The incident's admin-1 name as a code ([`Inner::admin1_names`]; 0: none,
    /// [`ADMIN1_UNCODED`]: a name beyond the codes). Fills the struct's padding: still 24 bytes.
    admin1: u16,
}

/// A trend group's key: day, country, admin-1 code, whether in the situation.
type DayKey = (i32, [u8; 3], u16, bool);

/// An admin-1 name the index could not code (more than 65,534 distinct names).
const ADMIN1_UNCODED: u16 = u16::MAX;

#[derive(Default)]
struct Inner {
    pts: Vec<Pt>,
    ids: Vec<Uuid>,
    dates: Vec<NaiveDate>,
    pos: HashMap<Uuid, usize>,
    /// Situations of the few incidents that belong to one.
    situations: HashMap<usize, Uuid>,
    /// The positions of each event day's incidents, so a query bounded to a few days (report
    /// matching's candidates: nine days of ten years) reads only those days' points.
    by_day: BTreeMap<i32, Vec<u32>>,
    seen: Option<(DateTime<Utc>, Uuid)>,
    /// Admin-1 names by code (code `k` is `admin1_names[k - 1]`), and codes by name.
    admin1_names: Vec<String>,
    admin1_codes: HashMap<String, u16>,
}

impl Inner {
    fn admin1_code(&mut self, name: Option<String>) -> u16 {
        let Some(name) = name else { return 0 };
        if let Some(c) = self.admin1_codes.get(&name) {
            return *c;
        }
        if self.admin1_names.len() + 1 >= usize::from(ADMIN1_UNCODED) {
            return ADMIN1_UNCODED;
        }
        self.admin1_names.push(name.clone());
        let c = self.admin1_names.len() as u16;
        self.admin1_codes.insert(name, c);
        c
    }
}

/// Degrees per side of the cells whose centres are reverse-geocoded for
/// [`IncidentIndex::admin1_counts`] (about 11 km at the equator).
pub const ADMIN1_CELL_DEG: f64 = 0.1;

/// (country alpha-3, GeoNames admin-1 name) of a cell, `None` at sea or where the gazetteer
/// names no admin-1 area.
type Admin1Key = Option<(&'static str, &'static str)>;

/// The in-memory index of every incident: map queries and the ids of list pages.
#[derive(Default)]
pub struct IncidentIndex {
    inner: RwLock<Inner>,
    refresh: tokio::sync::Mutex<()>,
    /// The admin-1 area of each cell reverse-geocoded so far (cells never change area).
    admin1_cells: std::sync::Mutex<HashMap<(i16, i16), Admin1Key>>,
}

fn type_code(t: &str) -> u8 {
    ACLED_TYPOLOGY
        .iter()
        .position(|(n, _)| *n == t)
        .map_or(u8::MAX, |p| p as u8)
}

fn status_code(v: VerificationStatus) -> u8 {
    VerificationStatus::ALL
        .iter()
        .position(|s| *s == v)
        .map_or(u8::MAX, |p| p as u8)
}

/// A filter in the index's own terms, tested per point by map queries and lists alike.
struct Sieve {
    max_tlp: u8,
    tlp: Option<u8>,
    from: i32,
    to: i32,
    country: Option<[u8; 3]>,
    event_type: Option<u8>,
    status: Option<u8>,
    /// West, east, south, north. Rounding to f32 keeps order, so a point inside the f64 box
    /// stays inside the f32 one.
    bbox: Option<[f32; 4]>,
}

impl Sieve {
    fn new(f: &IncidentFilter) -> Sieve {
        Sieve {
            max_tlp: f.max_tlp.rank() as u8,
            tlp: f.tlp.map(|t| t.rank() as u8),
            from: f.from.map_or(i32::MIN, day),
            to: f.to.map_or(i32::MAX, day),
            country: f.country.as_ref().map(|c| {
                let b = c.code().as_bytes();
                [b[0], b[1], b[2]]
            }),
            event_type: f.event_type.as_deref().map(type_code),
            status: f.verification_status.map(status_code),
            bbox: f.bbox.map(|b| {
                [
                    b.min_lon as f32,
                    b.max_lon as f32,
                    b.min_lat as f32,
                    b.max_lat as f32,
                ]
            }),
        }
    }

    #[inline]
    fn keeps(&self, p: &Pt) -> bool {
        p.tlp <= self.max_tlp
            && p.day >= self.from
            && p.day <= self.to
            && self
                .bbox
                .is_none_or(|[w, e, s, n]| p.lon >= w && p.lon <= e && p.lat >= s && p.lat <= n)
            && self.tlp.is_none_or(|t| t == p.tlp)
            && self.country.is_none_or(|c| c == p.country)
            && self.event_type.is_none_or(|t| t == p.event_type)
            && self.status.is_none_or(|s| s == p.status)
    }
}

/// A situation's area in the index's terms: its country, the admin-1 codes whose names
/// [`Situation::covers`](tocsin_domain::Situation::covers) accepts (every code when it lists
/// none), and the positions of the incidents linked to it, which count wherever they are (as
/// the dashboard's trend counts them).
struct AreaSieve {
    country: [u8; 3],
    /// Indexed by admin-1 code: whether the area covers it.
    codes: Vec<bool>,
    linked: std::collections::HashSet<usize>,
}

impl AreaSieve {
    fn new(g: &Inner, s: &tocsin_domain::Situation) -> AreaSieve {
        let c = s.country.code().as_bytes();
        let mut codes = vec![s.covers(&s.country, None)];
        codes.extend(
            g.admin1_names
                .iter()
                .map(|name| s.covers(&s.country, Some(name))),
        );
        // A name beyond the codes: unknown, so only a situation of the whole country covers it.
        codes.resize(usize::from(ADMIN1_UNCODED) + 1, false);
        codes[usize::from(ADMIN1_UNCODED)] = s.admin1.is_empty();
        AreaSieve {
            country: [c[0], c[1], c[2]],
            codes,
            linked: g
                .situations
                .iter()
                .filter(|(_, v)| **v == s.id)
                .map(|(i, _)| *i)
                .collect(),
        }
    }

    #[inline]
    fn keeps(&self, i: usize, p: &Pt) -> bool {
        (p.country == self.country && self.codes[usize::from(p.admin1)])
            || (!self.linked.is_empty() && self.linked.contains(&i))
    }
}

fn day(d: NaiveDate) -> i32 {
    d.num_days_from_ce()
}

use chrono::Datelike;

impl IncidentIndex {
    /// Bring the index up to date with the store.
    pub async fn refresh(&self, store: &DynStore) -> Result<(), StoreError> {
        let _one = self.refresh.lock().await;
        // Commits can land out of timestamp order only for rows changed in the last few
        // seconds; older rows we have seen are settled, so start from the newest seen row or
        // from LOOKBACK_SECS ago, whichever is earlier.
        let horizon = tocsin_domain::time::now() - chrono::Duration::seconds(LOOKBACK_SECS);
        let mut since = self
            .inner
            .read()
            .expect("incident index poisoned")
            .seen
            .map(|(t, id)| {
                if t <= horizon {
                    (t, id)
                } else {
                    (horizon, Uuid::nil())
                }
            });
        loop {
            let batch = store.map_points(since, LOAD_PAGE).await?;
            let full = batch.len() == LOAD_PAGE as usize;
            if let Some(last) = batch.last() {
                since = Some((last.updated_at, last.id));
            }
            self.apply(batch);
            if !full {
                return Ok(());
            }
        }
    }

    fn apply(&self, batch: Vec<MapPoint>) {
        if batch.is_empty() {
            return;
        }
        let mut g = self.inner.write().expect("incident index poisoned");
        for p in batch {
            let c = p.country.code().as_bytes();
            let admin1 = g.admin1_code(p.admin1);
            let pt = Pt {
                lon: p.longitude as f32,
                lat: p.latitude as f32,
                day: day(p.event_date),
                fatalities: p.fatalities.clamp(0, u32::MAX as i64) as u32,
                // A retracted incident ranks above every clearance: no query keeps it.
                tlp: if p.retracted {
                    RETRACTED
                } else {
                    p.tlp.rank() as u8
                },
                event_type: type_code(&p.event_type),
                status: status_code(p.verification_status),
                country: [c[0], c[1], c[2]],
                admin1,
            };
            let i = match g.pos.get(&p.id) {
                Some(&i) => {
                    let old = g.pts[i].day;
                    if old != pt.day {
                        if let Some(v) = g.by_day.get_mut(&old) {
                            v.retain(|&j| j as usize != i);
                        }
                        g.by_day.entry(pt.day).or_default().push(i as u32);
                    }
                    g.pts[i] = pt;
                    g.dates[i] = p.event_date;
                    i
                }
                None => {
                    let i = g.pts.len();
                    g.pts.push(pt);
                    g.ids.push(p.id);
                    g.dates.push(p.event_date);
                    g.pos.insert(p.id, i);
                    g.by_day.entry(pt.day).or_default().push(i as u32);
                    i
                }
            };
            match p.situation_id {
                Some(s) => g.situations.insert(i, s),
                None => g.situations.remove(&i),
            };
            if g.seen.is_none_or(|s| (p.updated_at, p.id) > s) {
                g.seen = Some((p.updated_at, p.id));
            }
        }
    }

    /// How many incidents the index holds.
    pub fn len(&self) -> usize {
        self.inner
            .read()
            .expect("incident index poisoned")
            .pts
            .len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The ids of at most `k` incidents that may match `f` and come strictly after `after` in
    /// the list order (event date, then id, both descending), in that order. May include
    /// incidents that do not match (positions are held as `f32`): the caller checks the rows.
    /// Never leaves out one that matched when the index last refreshed.
    pub fn select(
        &self,
        f: &IncidentFilter,
        after: Option<(NaiveDate, Uuid)>,
        k: usize,
    ) -> Vec<Uuid> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let g = self.inner.read().expect("incident index poisoned");
        let sieve = Sieve::new(f);
        let after = after.map(|(d, id)| (day(d), id));
        let keep =
            |i: usize| sieve.keeps(&g.pts[i]) && after.is_none_or(|a| (g.pts[i].day, g.ids[i]) < a);
        // The k greatest (day, id) pairs: a min-heap of the best so far.
        let mut best: BinaryHeap<Reverse<(i32, Uuid)>> = BinaryHeap::with_capacity(k + 1);
        let mut offer = |i: usize| {
            if k == 0 || !keep(i) {
                return;
            }
            let key = (g.pts[i].day, g.ids[i]);
            if best.len() < k {
                best.push(Reverse(key));
            } else if best.peek().is_some_and(|Reverse(min)| key > *min) {
                best.pop();
                best.push(Reverse(key));
            }
        };
        match f.situation_id {
            Some(s) => g
                .situations
                .iter()
                .filter(|(_, v)| **v == s)
                .for_each(|(i, _)| offer(*i)),
            None if sieve.from > sieve.to => {}
            None if sieve.to.saturating_sub(sieve.from) <= BY_DAY_SPAN => g
                .by_day
                .range(sieve.from..=sieve.to)
                .flat_map(|(_, v)| v.iter())
                .for_each(|&i| offer(i as usize)),
            None => (0..g.pts.len()).for_each(offer),
        }
        let mut out: Vec<(i32, Uuid)> = best.into_iter().map(|Reverse(k)| k).collect();
        out.sort_unstable_by(|a, b| b.cmp(a));
        out.into_iter().map(|(_, id)| id).collect()
    }

    /// How many incidents match `f` as of the last refresh (positions held as `f32`, so a
    /// bounding box may count one just outside it; without a box the count is exact).
    pub fn count(&self, f: &IncidentFilter) -> u64 {
        let g = self.inner.read().expect("incident index poisoned");
        let sieve = Sieve::new(f);
        match f.situation_id {
            Some(s) => g
                .situations
                .iter()
                .filter(|(i, v)| **v == s && sieve.keeps(&g.pts[**i]))
                .count() as u64,
            None => g.pts.iter().filter(|p| sieve.keeps(p)).count() as u64,
        }
    }

    /// A situation dashboard's trend ([`tocsin_store::Incidents::incident_days`]) from the
    /// index: one pass over the window's days (or every point for a window over a year),
    /// the same groups the store answers. `None` when a matching incident's admin-1 name is
    /// beyond the index's codes (the caller asks the store).
    pub fn days(&self, q: &tocsin_store::DaysQuery) -> Option<Vec<tocsin_store::DayGroup>> {
        let g = self.inner.read().expect("incident index poisoned");
        let (from, to) = (day(q.from), day(q.to));
        let max_tlp = q.max_tlp.rank() as u8;
        let c = q.country.code().as_bytes();
        let country = [c[0], c[1], c[2]];
        let mut groups: HashMap<DayKey, (u64, u64, [f32; 4])> = HashMap::new();
        let mut uncoded = false;
        let mut add = |i: usize| {
            let p = &g.pts[i];
            if p.tlp > max_tlp || p.day < from || p.day > to {
                return;
            }
            let mine = q.situation_id.is_some() && g.situations.get(&i) == q.situation_id.as_ref();
            if p.country != country && !mine {
                return;
            }
            uncoded |= p.admin1 == ADMIN1_UNCODED;
            let e = groups.entry((p.day, p.country, p.admin1, mine)).or_insert((
                0,
                0,
                [f32::MAX, f32::MAX, f32::MIN, f32::MIN],
            ));
            e.0 += 1;
            e.1 += u64::from(p.fatalities);
            e.2 = [
                e.2[0].min(p.lon),
                e.2[1].min(p.lat),
                e.2[2].max(p.lon),
                e.2[3].max(p.lat),
            ];
        };
        if to.saturating_sub(from) <= BY_DAY_SPAN {
            g.by_day
                .range(from..=to)
                .flat_map(|(_, v)| v.iter())
                .for_each(|&i| add(i as usize));
        } else {
            (0..g.pts.len()).for_each(add);
        }
        if uncoded {
            return None;
        }
        let mut out = Vec::with_capacity(groups.len());
        for ((d, c, a, mine), (n, f, b)) in groups {
            let date = NaiveDate::from_num_days_from_ce_opt(d)?;
            let country = tocsin_domain::Country::parse(std::str::from_utf8(&c).ok()?).ok()?;
            out.push(tocsin_store::DayGroup {
                date,
                country,
                admin1: (a != 0).then(|| g.admin1_names[usize::from(a) - 1].clone()),
                in_situation: mine,
                incidents: n,
                fatalities: f,
                bounds: b.map(f64::from),
            });
        }
        Some(out)
    }

    /// Answer a map query as a GeoJSON FeatureCollection.
    pub fn query(&self, q: &MapQuery) -> serde_json::Value {
        let g = self.inner.read().expect("incident index poisoned");
        let b = q.bbox;
        let cell = 360.0 / (2f64.powi(i32::from(q.zoom)) * CELLS_PER_TILE);
        let cols = ((b.max_lon - b.min_lon) / cell).floor() as u64 + 1;
        let rows = ((b.max_lat - b.min_lat) / cell).floor() as u64 + 1;
        let sieve = Sieve::new(&map_filter(q));
        let area = q.area.as_ref().map(|s| AreaSieve::new(&g, s));
        // Multiplying by the inverse is several times cheaper than dividing, per point.
        let per_cell = 1.0 / cell;
        let dense = cols.saturating_mul(rows) <= DENSE_CELLS;
        let mut grid: Vec<Agg> = if dense {
            vec![Agg::new(); (cols * rows) as usize]
        } else {
            Vec::new()
        };
        let mut cells: HashMap<u64, Agg> = HashMap::new();
        let mut points: Vec<usize> = Vec::new();
        let mut total = 0usize;
        for (i, p) in g.pts.iter().enumerate() {
            if !sieve.keeps(p) || area.as_ref().is_some_and(|a| !a.keeps(i, p)) {
                continue;
            }
            total += 1;
            if points.len() <= MAX_POINTS {
                points.push(i);
            }
            let cx = (((f64::from(p.lon) - b.min_lon) * per_cell) as u64).min(cols - 1);
            let cy = (((f64::from(p.lat) - b.min_lat) * per_cell) as u64).min(rows - 1);
            let key = cy * cols + cx;
            if dense {
                grid[key as usize].add(p);
            } else {
                cells.entry(key).or_insert_with(Agg::new).add(p);
            }
        }
        let as_points = total <= MAX_POINTS && (q.zoom >= POINTS_ZOOM || total <= 500);
        let features: Vec<serde_json::Value> = if as_points {
            points
                .iter()
                .map(|&i| {
                    let p = &g.pts[i];
                    serde_json::json!({
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                        "properties": {
                            "id": g.ids[i],
                            "event_date": g.dates[i],
                            "event_type": ACLED_TYPOLOGY.get(p.event_type as usize).map(|t| t.0),
                            "country": std::str::from_utf8(&p.country).unwrap_or(""),
                            "fatalities": p.fatalities,
                            "tlp": Tlp::from_rank(p.tlp.into()).map(Tlp::as_str),
                        }
                    })
                })
                .collect()
        } else {
            let mut v: Vec<&Agg> = if dense {
                grid.iter().filter(|a| a.count > 0).collect()
            } else {
                cells.values().collect()
            };
            v.sort_by_key(|a| std::cmp::Reverse(a.count));
            v.iter()
                .map(|a| {
                    let n = f64::from(a.count);
                    serde_json::json!({
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [a.sum_lon / n, a.sum_lat / n]},
                        "properties": {
                            "cluster": true,
                            "count": a.count,
                            "fatalities": a.fatalities,
                            "bounds": [a.min_lon, a.min_lat, a.max_lon, a.max_lat],
                        }
                    })
                })
                .collect()
        };
        serde_json::json!({
            "type": "FeatureCollection",
            "mode": if as_points { "points" } else { "clusters" },
            "total": total,
            "zoom": q.zoom,
            "features": features,
        })
    }

    /// Incidents matching `q` per first-level administrative area, for shading the map's
    /// admin-1 areas: `{"total", "unplaced", "areas": [{"country", "admin1", "count",
    /// "fatalities"}]}`, most incidents first. An area is named as `tocsin_geo::reverse` names
    /// it (the GeoNames admin-1 name, which the basemap's admin-1 features carry as `a1`).
    /// Points are grouped into cells of [`ADMIN1_CELL_DEG`] and each cell's centre is
    /// reverse-geocoded once (then cached), so a point within a few kilometres of a boundary
    /// may count on its neighbour's side; `unplaced` counts points at sea or in no named area.
    pub fn admin1_counts(&self, q: &MapQuery) -> serde_json::Value {
        let sieve = Sieve::new(&map_filter(q));
        let mut cells: HashMap<(i16, i16), (u32, u64)> = HashMap::new();
        let mut total = 0u64;
        {
            let g = self.inner.read().expect("incident index poisoned");
            let area = q.area.as_ref().map(|s| AreaSieve::new(&g, s));
            for (_, p) in g
                .pts
                .iter()
                .enumerate()
                .filter(|(i, p)| sieve.keeps(p) && area.as_ref().is_none_or(|a| a.keeps(*i, p)))
            {
                total += 1;
                let key = (
                    (f64::from(p.lon) / ADMIN1_CELL_DEG).floor() as i16,
                    (f64::from(p.lat) / ADMIN1_CELL_DEG).floor() as i16,
                );
                let c = cells.entry(key).or_default();
                c.0 += 1;
                c.1 += u64::from(p.fatalities);
            }
        }
        let gazetteer = tocsin_geo::Gazetteer::global();
        let mut known = self.admin1_cells.lock().expect("admin-1 cells poisoned");
        let mut areas: HashMap<(&str, &str), (u64, u64)> = HashMap::new();
        let mut unplaced = 0u64;
        for (key, (n, fatalities)) in cells {
            let area = *known.entry(key).or_insert_with(|| {
                let lon = (f64::from(key.0) + 0.5) * ADMIN1_CELL_DEG;
                let lat = (f64::from(key.1) + 0.5) * ADMIN1_CELL_DEG;
                gazetteer
                    .reverse(lat, lon)
                    .and_then(|p| Some((p.country, p.admin1?)))
            });
            match area {
                Some(a) => {
                    let e = areas.entry(a).or_default();
                    e.0 += u64::from(n);
                    e.1 += fatalities;
                }
                None => unplaced += u64::from(n),
            }
        }
        let mut areas: Vec<_> = areas.into_iter().collect();
        areas.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
        serde_json::json!({
            "total": total,
            "unplaced": unplaced,
            "areas": areas.iter().map(|((country, admin1), (count, fatalities))| serde_json::json!({
                "country": country, "admin1": admin1, "count": count, "fatalities": fatalities,
            })).collect::<Vec<_>>(),
        })
    }
}

/// A map query's filter in list terms.
fn map_filter(q: &MapQuery) -> IncidentFilter {
    IncidentFilter {
        country: q.country.clone(),
        from: q.from,
        to: q.to,
        bbox: Some(q.bbox),
        event_type: q.event_type.map(String::from),
        tlp: q.tlp,
        max_tlp: q.max_tlp,
        ..Default::default()
    }
}

#[derive(Clone)]
struct Agg {
    count: u32,
    fatalities: u64,
    sum_lon: f64,
    sum_lat: f64,
    min_lon: f32,
    min_lat: f32,
    max_lon: f32,
    max_lat: f32,
}

impl Agg {
    fn new() -> Agg {
        Agg {
            count: 0,
            fatalities: 0,
            sum_lon: 0.0,
            sum_lat: 0.0,
            min_lon: f32::MAX,
            min_lat: f32::MAX,
            max_lon: f32::MIN,
            max_lat: f32::MIN,
        }
    }

    fn add(&mut self, p: &Pt) {
        self.count += 1;
        self.fatalities += u64::from(p.fatalities);
        self.sum_lon += f64::from(p.lon);
        self.sum_lat += f64::from(p.lat);
        self.min_lon = self.min_lon.min(p.lon);
        self.min_lat = self.min_lat.min(p.lat);
        self.max_lon = self.max_lon.max(p.lon);
        self.max_lat = self.max_lat.max(p.lat);
    }
}

/// A page of incidents matching `f`, newest first: ids from the index, rows from the store.
/// Refreshes the index first, so it sees every write committed before the call.
pub async fn list_incidents(
    st: &AppState,
    f: &IncidentFilter,
    page: PageRequest,
) -> Result<Page<Incident>, StoreError> {
    st.incident_index.refresh(&st.store).await?;
    let after = match page.after {
        Some(c) => Some((c.require_date()?, c.id)),
        None => None,
    };
    let want = page.limit as usize + 1;
    // A few spare ids for rows that fail the check (changed since the refresh, or just
    // outside a box the f32 positions put them in); more if that was not enough.
    let mut k = want + 16;
    loop {
        let ids = st.incident_index.select(f, after, k);
        let exhausted = ids.len() < k;
        let mut rows = st.store.get_incidents(&ids).await?;
        rows.retain(|i| f.matches(i) && after.is_none_or(|a| (i.event_date, i.id) < a));
        if rows.len() >= want || exhausted {
            rows.sort_unstable_by_key(|i| std::cmp::Reverse((i.event_date, i.id)));
            rows.truncate(want);
            return Ok(Page::from_rows(rows, page.limit, |i| {
                Cursor::by_date(i.event_date, i.id)
            }));
        }
        k = k.saturating_mul(4);
    }
}

/// Report matching's candidate incidents ([`tocsin_app::IncidentLists::near`]): ids from the
/// index (one pass, newest event date first), rows from the store, each checked against the
/// query again. Refreshes the index first. Chosen over the store's query
/// ([`tocsin_store::Matching::incidents_near`], the reference both backends answer) because a
/// pass over the index takes a few milliseconds on a million incidents whatever the filters,
/// and the index is already kept fresh for the map and the lists.
pub async fn near_incidents(
    st: &AppState,
    q: &tocsin_store::IncidentNear,
) -> Result<Vec<Incident>, StoreError> {
    st.incident_index.refresh(&st.store).await?;
    let f = IncidentFilter {
        country: q.country.clone(),
        from: Some(q.from),
        to: Some(q.to),
        bbox: q.bbox,
        max_tlp: q.max_tlp,
        ..Default::default()
    };
    let want = q.limit.min(tocsin_store::matching::MAX_CANDIDATES) as usize;
    let ids = st.incident_index.select(&f, None, want + 16);
    let mut rows = st.store.get_incidents(&ids).await?;
    rows.retain(|i| f.matches(i));
    rows.sort_unstable_by_key(|i| std::cmp::Reverse((i.event_date, i.id)));
    rows.truncate(want);
    Ok(rows)
}
