//! Where a community broadcast goes: a [`BroadcastArea`] (countries, first-level admin areas,
//! a circle or a drawn polygon), parsed defensively from the API's JSON shapes, and whether a
//! subscriber's place lies inside it.
//!
//! The JSON is one of `{"countries": ["CAF"]}`, `{"admin1": [{"country": "CAF", "name":
//! "Ouaka"}]}`, `{"circle": {"lat": 5.76, "lon": 20.67, "radius_km": 25}}` or `{"polygon":
//! GEOJSON}` where GEOJSON is a Polygon, a MultiPolygon or a Feature holding one. A polygon is
//! checked (closed rings, at least three distinct corners, finite WGS84 coordinates, no
//! self-crossing, not across the antimeridian, at most [`MAX_INPUT_VERTICES`] corners) and
//! simplified (Ramer–Douglas–Peucker from the `geo` crate at [`SIMPLIFY_TOLERANCE_DEG`], kept
//! only when the result is still valid; a second pass over its own output changes nothing, so
//! storing and reading it back gives the same area). It is always stored as a GeoJSON
//! MultiPolygon.

use geo::{
    BoundingRect, ChamberlainDuquetteArea, Contains, Coord, Distance, Haversine, Intersects,
    LineString, MultiPolygon, Point, Polygon, Simplify, Validation,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{BBox, Country, DomainError};

/// At most this many corners in a drawn polygon as received.
pub const MAX_INPUT_VERTICES: usize = 10_000;
/// The simplification tolerance for drawn polygons, in degrees (about 55 m at the equator).
pub const SIMPLIFY_TOLERANCE_DEG: f64 = 0.0005;
/// The largest circle radius accepted, in kilometres.
pub const MAX_RADIUS_KM: f64 = 1_000.0;
/// The largest drawn polygon accepted, in square kilometres (about the size of the DR Congo).
pub const MAX_POLYGON_KM2: f64 = 2_500_000.0;
/// At most this many countries or admin areas in one area.
pub const MAX_AREA_ITEMS: usize = 300;

/// A first-level administrative area (province, region, state) of a country, by the name the
/// gazetteer gives it (compared exactly: callers canonicalise names through the gazetteer).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Admin1Ref {
    /// The country.
    pub country: Country,
    /// The area's name, e.g. `Ouaka`.
    pub name: String,
}

/// Where a broadcast goes. Built only by [`BroadcastArea::parse`] (or deserialisation, which
/// runs it), so every value is valid.
#[derive(Debug, Clone, PartialEq)]
pub enum BroadcastArea {
    /// Whole countries.
    Countries(Vec<Country>),
    /// First-level administrative areas.
    Admin1(Vec<Admin1Ref>),
    /// A radius around a point.
    Circle {
        /// Latitude of the centre, WGS84.
        lat: f64,
        /// Longitude of the centre, WGS84.
        lon: f64,
        /// Radius in kilometres, above 0 and at most [`MAX_RADIUS_KM`].
        radius_km: f64,
    },
    /// A drawn polygon (one or more parts, holes allowed), already simplified.
    Polygon(MultiPolygon<f64>),
}

/// Where a subscriber said they live, as the gazetteer resolved it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriberPlace {
    /// The country.
    pub country: Country,
    /// The first-level admin area, when known.
    pub admin1: Option<String>,
    /// The place's name, e.g. `Bambari`.
    pub name: String,
    /// Latitude, WGS84.
    pub lat: f64,
    /// Longitude, WGS84.
    pub lon: f64,
}

impl SubscriberPlace {
    /// Check a place built from untrusted input: a name of 1–200 characters, finite
    /// coordinates in range, an admin1 name (if any) of 1–200 characters.
    pub fn new(
        country: Country,
        admin1: Option<String>,
        name: &str,
        lat: f64,
        lon: f64,
    ) -> Result<SubscriberPlace, DomainError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(DomainError::invalid(
                "place",
                "a place name of 1-200 characters",
            ));
        }
        check_lat_lon("place", lat, lon)?;
        let admin1 = admin1.map(|a| a.trim().to_string());
        if let Some(a) = &admin1 {
            if a.is_empty() || a.chars().count() > 200 {
                return Err(DomainError::invalid("place.admin1", "1-200 characters"));
            }
        }
        Ok(SubscriberPlace {
            country,
            admin1,
            name: name.to_string(),
            lat,
            lon,
        })
    }
}

fn check_lat_lon(field: &str, lat: f64, lon: f64) -> Result<(), DomainError> {
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(DomainError::invalid(
            format!("{field}.lat"),
            "a latitude between -90 and 90",
        ));
    }
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(DomainError::invalid(
            format!("{field}.lon"),
            "a longitude between -180 and 180",
        ));
    }
    Ok(())
}

/// Mean Earth radius (km), as the haversine distance uses.
const EARTH_RADIUS_KM: f64 = 6_371.008_8;

impl BroadcastArea {
    /// Parse the API's JSON shape (see the module documentation); errors name the field as
    /// `area.circle.radius_km`, `area.countries[2]`, `area.polygon.coordinates[0]`…
    pub fn parse(v: &Value) -> Result<BroadcastArea, DomainError> {
        let obj = v.as_object().ok_or_else(|| {
            DomainError::invalid(
                "area",
                "an object with one of countries, admin1, circle or polygon",
            )
        })?;
        if obj.len() != 1 {
            return Err(DomainError::invalid(
                "area",
                "exactly one of countries, admin1, circle or polygon",
            ));
        }
        let (kind, body) = obj.iter().next().expect("one key");
        match kind.as_str() {
            "countries" => parse_countries(body),
            "admin1" => parse_admin1(body),
            "circle" => parse_circle(body),
            "polygon" => parse_polygon(body),
            other => Err(DomainError::invalid(
                "area",
                format!("unknown kind {other:?}: expected countries, admin1, circle or polygon"),
            )),
        }
    }

    /// The area as the API's JSON (a polygon as a GeoJSON MultiPolygon).
    pub fn to_json(&self) -> Value {
        match self {
            BroadcastArea::Countries(c) => json!({ "countries": c }),
            BroadcastArea::Admin1(a) => json!({ "admin1": a }),
            BroadcastArea::Circle {
                lat,
                lon,
                radius_km,
            } => json!({ "circle": { "lat": lat, "lon": lon, "radius_km": radius_km } }),
            BroadcastArea::Polygon(mp) => {
                let rings = |ls: &LineString<f64>| -> Vec<[f64; 2]> {
                    ls.coords().map(|c| [c.x, c.y]).collect()
                };
                let coords: Vec<Vec<Vec<[f64; 2]>>> = mp
                    .iter()
                    .map(|p| {
                        std::iter::once(p.exterior())
                            .chain(p.interiors())
                            .map(rings)
                            .collect()
                    })
                    .collect();
                json!({ "polygon": { "type": "MultiPolygon", "coordinates": coords } })
            }
        }
    }

    /// The countries the area is limited to, when it names them (countries and admin1 areas);
    /// `None` for circles and polygons.
    pub fn countries(&self) -> Option<Vec<Country>> {
        match self {
            BroadcastArea::Countries(c) => Some(c.clone()),
            BroadcastArea::Admin1(a) => {
                let mut c: Vec<Country> = a.iter().map(|r| r.country.clone()).collect();
                c.sort();
                c.dedup();
                Some(c)
            }
            _ => None,
        }
    }

    /// The area covered in square kilometres, for circles and polygons; `None` for countries
    /// and admin areas, whose boundaries the domain does not hold.
    pub fn area_km2(&self) -> Option<f64> {
        match self {
            BroadcastArea::Circle { radius_km, .. } => {
                // A spherical cap: 2πR²(1 − cos(r/R)).
                let r = EARTH_RADIUS_KM;
                Some(2.0 * std::f64::consts::PI * r * r * (1.0 - (radius_km / r).cos()))
            }
            BroadcastArea::Polygon(mp) => Some(mp.chamberlain_duquette_unsigned_area() / 1e6),
            _ => None,
        }
    }

    /// A box holding the whole area (circles and polygons); `None` for countries and admin
    /// areas. A circle's box is widened at high latitudes and clamped to the map's edges.
    pub fn bbox(&self) -> Option<BBox> {
        match self {
            BroadcastArea::Circle {
                lat,
                lon,
                radius_km,
            } => {
                let dlat = radius_km / 111.19;
                let coslat = (lat.abs() + dlat).min(89.9).to_radians().cos();
                let dlon = (radius_km / (111.32 * coslat)).min(180.0);
                Some(BBox {
                    min_lon: (lon - dlon).max(-180.0),
                    min_lat: (lat - dlat).max(-90.0),
                    max_lon: (lon + dlon).min(180.0),
                    max_lat: (lat + dlat).min(90.0),
                })
            }
            BroadcastArea::Polygon(mp) => mp.bounding_rect().map(|r| BBox {
                min_lon: r.min().x,
                min_lat: r.min().y,
                max_lon: r.max().x,
                max_lat: r.max().y,
            }),
            _ => None,
        }
    }

    /// How many corners a polygon area keeps after simplification (0 for other kinds).
    pub fn vertex_count(&self) -> usize {
        match self {
            BroadcastArea::Polygon(mp) => mp
                .iter()
                .map(|p| {
                    p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>()
                })
                .sum(),
            _ => 0,
        }
    }

    /// Whether a subscriber's place is inside the area (a polygon's or circle's edge counts as
    /// inside).
    pub fn contains(&self, place: &SubscriberPlace) -> bool {
        self.contains_point(
            &place.country,
            place.admin1.as_deref(),
            place.lat,
            place.lon,
        )
    }

    /// [`BroadcastArea::contains`] on the parts of a place the test needs (what a store reads
    /// for many subscribers at once).
    pub fn contains_point(
        &self,
        country: &Country,
        admin1: Option<&str>,
        lat: f64,
        lon: f64,
    ) -> bool {
        match self {
            BroadcastArea::Countries(cs) => cs.contains(country),
            BroadcastArea::Admin1(refs) => admin1.is_some_and(|a| {
                refs.iter()
                    .any(|r| &r.country == country && r.name.as_str() == a)
            }),
            BroadcastArea::Circle {
                lat: clat,
                lon: clon,
                radius_km,
            } => {
                let d = Haversine.distance(Point::new(*clon, *clat), Point::new(lon, lat)) / 1000.0;
                d <= *radius_km
            }
            BroadcastArea::Polygon(mp) => {
                let p = Point::new(lon, lat);
                mp.contains(&p) || mp.intersects(&p)
            }
        }
    }
}

impl Serialize for BroadcastArea {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for BroadcastArea {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        BroadcastArea::parse(&v).map_err(serde::de::Error::custom)
    }
}

fn parse_list<'a>(body: &'a Value, field: &str) -> Result<&'a Vec<Value>, DomainError> {
    let list = body
        .as_array()
        .ok_or_else(|| DomainError::invalid(field, "a list"))?;
    if list.is_empty() {
        return Err(DomainError::invalid(field, "at least one entry"));
    }
    if list.len() > MAX_AREA_ITEMS {
        return Err(DomainError::invalid(
            field,
            format!("at most {MAX_AREA_ITEMS} entries"),
        ));
    }
    Ok(list)
}

fn parse_country(v: &Value, field: &str) -> Result<Country, DomainError> {
    let s = v
        .as_str()
        .ok_or_else(|| DomainError::invalid(field, "an ISO 3166-1 alpha-3 country code"))?;
    Country::parse(s).map_err(|_| {
        DomainError::invalid(
            field,
            format!("unknown country {s:?}: an ISO 3166-1 alpha-3 code, e.g. CAF"),
        )
    })
}

fn parse_countries(body: &Value) -> Result<BroadcastArea, DomainError> {
    let list = parse_list(body, "area.countries")?;
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let c = parse_country(v, &format!("area.countries[{i}]"))?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(BroadcastArea::Countries(out))
}

fn parse_admin1(body: &Value) -> Result<BroadcastArea, DomainError> {
    let list = parse_list(body, "area.admin1")?;
    let mut out: Vec<Admin1Ref> = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let field = format!("area.admin1[{i}]");
        let o = v
            .as_object()
            .ok_or_else(|| DomainError::invalid(&field, "an object {country, name}"))?;
        if let Some(k) = o.keys().find(|k| *k != "country" && *k != "name") {
            return Err(DomainError::invalid(
                format!("{field}.{k}"),
                "unknown field: expected country and name",
            ));
        }
        let country = parse_country(
            o.get("country").unwrap_or(&Value::Null),
            &format!("{field}.country"),
        )?;
        let name = o
            .get("name")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty() && n.chars().count() <= 200)
            .ok_or_else(|| {
                DomainError::invalid(format!("{field}.name"), "an area name of 1-200 characters")
            })?;
        let r = Admin1Ref {
            country,
            name: name.to_string(),
        };
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(BroadcastArea::Admin1(out))
}

fn number(o: &serde_json::Map<String, Value>, key: &str, field: &str) -> Result<f64, DomainError> {
    o.get(key)
        .and_then(Value::as_f64)
        .filter(|x| x.is_finite())
        .ok_or_else(|| DomainError::invalid(format!("{field}.{key}"), "a number"))
}

fn parse_circle(body: &Value) -> Result<BroadcastArea, DomainError> {
    let o = body
        .as_object()
        .ok_or_else(|| DomainError::invalid("area.circle", "an object {lat, lon, radius_km}"))?;
    if let Some(k) = o
        .keys()
        .find(|k| !matches!(k.as_str(), "lat" | "lon" | "radius_km"))
    {
        return Err(DomainError::invalid(
            format!("area.circle.{k}"),
            "unknown field: expected lat, lon and radius_km",
        ));
    }
    let lat = number(o, "lat", "area.circle")?;
    let lon = number(o, "lon", "area.circle")?;
    check_lat_lon("area.circle", lat, lon)?;
    let radius_km = number(o, "radius_km", "area.circle")?;
    if radius_km <= 0.0 {
        return Err(DomainError::invalid(
            "area.circle.radius_km",
            "a radius above 0 km",
        ));
    }
    if radius_km > MAX_RADIUS_KM {
        return Err(DomainError::invalid(
            "area.circle.radius_km",
            format!("at most {MAX_RADIUS_KM} km: name countries or admin areas instead"),
        ));
    }
    Ok(BroadcastArea::Circle {
        lat,
        lon,
        radius_km,
    })
}

fn parse_polygon(body: &Value) -> Result<BroadcastArea, DomainError> {
    const F: &str = "area.polygon";
    let o = body
        .as_object()
        .ok_or_else(|| DomainError::invalid(F, "a GeoJSON Polygon or MultiPolygon"))?;
    // A Feature holding a polygon is accepted: map tools export those.
    let geom = match o.get("type").and_then(Value::as_str) {
        Some("Feature") => o
            .get("geometry")
            .and_then(Value::as_object)
            .ok_or_else(|| DomainError::invalid(format!("{F}.geometry"), "a GeoJSON geometry"))?,
        _ => o,
    };
    let coords = geom
        .get("coordinates")
        .ok_or_else(|| DomainError::invalid(format!("{F}.coordinates"), "missing"))?;
    let parts: Vec<&Value> = match geom.get("type").and_then(Value::as_str) {
        Some("Polygon") => vec![coords],
        Some("MultiPolygon") => coords
            .as_array()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| DomainError::invalid(format!("{F}.coordinates"), "a list of polygons"))?
            .iter()
            .collect(),
        Some(t) => {
            return Err(DomainError::invalid(
                format!("{F}.type"),
                format!("{t:?}: expected Polygon or MultiPolygon"),
            ))
        }
        None => {
            return Err(DomainError::invalid(
                format!("{F}.type"),
                "missing: expected Polygon or MultiPolygon",
            ))
        }
    };
    let mut vertices = 0usize;
    let mut polygons = Vec::with_capacity(parts.len());
    for (pi, part) in parts.iter().enumerate() {
        let pfield =
            if parts.len() == 1 && geom.get("type").and_then(Value::as_str) == Some("Polygon") {
                format!("{F}.coordinates")
            } else {
                format!("{F}.coordinates[{pi}]")
            };
        let rings = part
            .as_array()
            .filter(|r| !r.is_empty())
            .ok_or_else(|| DomainError::invalid(&pfield, "a list of rings, the outer one first"))?;
        let mut lines = Vec::with_capacity(rings.len());
        for (ri, ring) in rings.iter().enumerate() {
            let rfield = format!("{pfield}[{ri}]");
            let ring = parse_ring(ring, &rfield, &mut vertices)?;
            lines.push(ring);
        }
        let exterior = lines.remove(0);
        let poly = Polygon::new(exterior, lines);
        if poly.check_validation().is_err() {
            return Err(DomainError::invalid(
                &pfield,
                "the outline crosses itself, or a hole lies outside it or touches it",
            ));
        }
        polygons.push(poly);
    }
    let mp = MultiPolygon::new(polygons);
    if mp.check_validation().is_err() {
        return Err(DomainError::invalid(
            format!("{F}.coordinates"),
            "the parts of the multipolygon overlap",
        ));
    }
    let simplified = mp.simplify(SIMPLIFY_TOLERANCE_DEG);
    let mp = if simplified.is_valid() {
        simplified
    } else {
        mp
    };
    let area = mp.chamberlain_duquette_unsigned_area() / 1e6;
    if area > MAX_POLYGON_KM2 {
        return Err(DomainError::invalid(
            F,
            format!("covers {area:.0} km², more than {MAX_POLYGON_KM2:.0}: name countries instead"),
        ));
    }
    Ok(BroadcastArea::Polygon(mp))
}

fn parse_ring(
    ring: &Value,
    field: &str,
    vertices: &mut usize,
) -> Result<LineString<f64>, DomainError> {
    let pts = ring
        .as_array()
        .ok_or_else(|| DomainError::invalid(field, "a list of [lon, lat] positions"))?;
    *vertices += pts.len();
    if *vertices > MAX_INPUT_VERTICES {
        return Err(DomainError::invalid(
            "area.polygon",
            format!("more than {MAX_INPUT_VERTICES} corners: simplify the drawing"),
        ));
    }
    let mut coords = Vec::with_capacity(pts.len());
    for (i, p) in pts.iter().enumerate() {
        let pf = format!("{field}[{i}]");
        let a = p
            .as_array()
            .filter(|a| a.len() == 2 || a.len() == 3)
            .ok_or_else(|| DomainError::invalid(&pf, "a position [lon, lat]"))?;
        let lon = a[0]
            .as_f64()
            .filter(|x| x.is_finite() && (-180.0..=180.0).contains(x))
            .ok_or_else(|| DomainError::invalid(&pf, "a longitude between -180 and 180 first"))?;
        let lat = a[1]
            .as_f64()
            .filter(|x| x.is_finite() && (-90.0..=90.0).contains(x))
            .ok_or_else(|| DomainError::invalid(&pf, "a latitude between -90 and 90 second"))?;
        coords.push(Coord { x: lon, y: lat });
    }
    if coords.len() < 4 {
        return Err(DomainError::invalid(
            field,
            "a ring needs at least four positions, the last repeating the first",
        ));
    }
    if coords.first() != coords.last() {
        return Err(DomainError::invalid(
            field,
            "the ring is not closed: its last position must repeat the first",
        ));
    }
    let mut distinct: Vec<Coord<f64>> = coords[..coords.len() - 1].to_vec();
    distinct.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    distinct.dedup();
    if distinct.len() < 3 {
        return Err(DomainError::invalid(
            field,
            "the ring needs at least three distinct corners",
        ));
    }
    let (min_lon, max_lon) = coords.iter().fold((f64::MAX, f64::MIN), |(lo, hi), c| {
        (lo.min(c.x), hi.max(c.x))
    });
    if max_lon - min_lon > 180.0 {
        return Err(DomainError::invalid(
            field,
            "spans more than 180° of longitude (across the antimeridian?): split it in two",
        ));
    }
    let line = LineString::new(coords);
    if Polygon::new(line.clone(), vec![]).chamberlain_duquette_unsigned_area() <= 0.0 {
        return Err(DomainError::invalid(field, "the ring encloses no area"));
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(country: &str, admin1: Option<&str>, lat: f64, lon: f64) -> SubscriberPlace {
        SubscriberPlace::new(
            Country::parse(country).unwrap(),
            admin1.map(str::to_string),
            "x",
            lat,
            lon,
        )
        .unwrap()
    }

    fn field(v: Value) -> String {
        BroadcastArea::parse(&v)
            .unwrap_err()
            .field()
            .unwrap()
            .to_string()
    }

    fn square(lon: f64, lat: f64, d: f64) -> Value {
        json!([[
            [lon, lat],
            [lon + d, lat],
            [lon + d, lat + d],
            [lon, lat + d],
            [lon, lat]
        ]])
    }

    #[test]
    fn countries_and_admin1() {
        let a = BroadcastArea::parse(&json!({"countries": ["caf", "CAF", "TCD"]})).unwrap();
        assert_eq!(a.countries().unwrap().len(), 2);
        assert!(a.contains(&place("CAF", None, 5.0, 20.0)));
        assert!(!a.contains(&place("COD", None, 5.0, 20.0)));
        assert_eq!(
            field(json!({"countries": ["CAF", "XXX"]})),
            "area.countries[1]"
        );
        assert_eq!(field(json!({"countries": []})), "area.countries");

        let a = BroadcastArea::parse(&json!({"admin1": [{"country": "CAF", "name": "Ouaka"}]}))
            .unwrap();
        assert!(a.contains(&place("CAF", Some("Ouaka"), 5.0, 20.0)));
        assert!(!a.contains(&place("CAF", Some("Vakaga"), 5.0, 20.0)));
        assert!(!a.contains(&place("CAF", None, 5.0, 20.0)));
        assert!(!a.contains(&place("TCD", Some("Ouaka"), 5.0, 20.0)));
        assert_eq!(
            field(json!({"admin1": [{"country": "CAF", "name": ""}]})),
            "area.admin1[0].name"
        );
        assert_eq!(
            field(json!({"admin1": [{"country": "QQQ", "name": "a"}]})),
            "area.admin1[0].country"
        );
        assert_eq!(
            field(json!({"admin1": [{"country": "CAF", "name": "a", "x": 1}]})),
            "area.admin1[0].x"
        );
        assert_eq!(a.area_km2(), None);
        assert_eq!(a.bbox(), None);
    }

    #[test]
    fn circles() {
        let a =
            BroadcastArea::parse(&json!({"circle": {"lat": 5.76, "lon": 20.67, "radius_km": 25}}))
                .unwrap();
        // Bambari centre, and a point ~22 km north of it; ~33 km is outside.
        assert!(a.contains(&place("CAF", None, 5.76, 20.67)));
        assert!(a.contains(&place("CAF", None, 5.96, 20.67)));
        assert!(!a.contains(&place("CAF", None, 6.06, 20.67)));
        let km2 = a.area_km2().unwrap();
        assert!((km2 - std::f64::consts::PI * 625.0).abs() < 1.0, "{km2}");
        let b = a.bbox().unwrap();
        assert!(b.min_lat < 5.54 && b.max_lat > 5.98 && b.min_lon < 20.45 && b.max_lon > 20.89);
        assert_eq!(
            field(json!({"circle": {"lat": 5, "lon": 20, "radius_km": 0}})),
            "area.circle.radius_km"
        );
        assert_eq!(
            field(json!({"circle": {"lat": 5, "lon": 20, "radius_km": -3}})),
            "area.circle.radius_km"
        );
        assert_eq!(
            field(json!({"circle": {"lat": 5, "lon": 20, "radius_km": 50000}})),
            "area.circle.radius_km"
        );
        assert_eq!(
            field(json!({"circle": {"lat": 95, "lon": 20, "radius_km": 5}})),
            "area.circle.lat"
        );
        assert_eq!(
            field(json!({"circle": {"lat": 5, "lon": "x", "radius_km": 5}})),
            "area.circle.lon"
        );
        assert_eq!(
            field(json!({"circle": {"lat": 5, "lon": 1, "radius_km": 5, "r": 1}})),
            "area.circle.r"
        );
    }

    #[test]
    fn refused_shapes_name_the_field() {
        assert_eq!(field(json!([])), "area");
        assert_eq!(field(json!({})), "area");
        assert_eq!(field(json!({"countries": ["CAF"], "circle": {}})), "area");
        assert_eq!(field(json!({"planet": "earth"})), "area");
        assert_eq!(
            field(json!({"polygon": {"type": "Point", "coordinates": [1, 2]}})),
            "area.polygon.type"
        );
        // Not closed.
        assert_eq!(
            field(
                json!({"polygon": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}})
            ),
            "area.polygon.coordinates[0]"
        );
        // Too few positions; all on a line; a point repeated.
        assert_eq!(
            field(
                json!({"polygon": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}})
            ),
            "area.polygon.coordinates[0]"
        );
        assert_eq!(
            field(
                json!({"polygon": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [2, 0], [0, 0]]]}})
            ),
            "area.polygon.coordinates[0]"
        );
        assert_eq!(
            field(
                json!({"polygon": {"type": "Polygon", "coordinates": [[[0, 0], [0, 0], [1, 1], [0, 0]]]}})
            ),
            "area.polygon.coordinates[0]"
        );
        // A bow tie crosses itself.
        assert_eq!(
            field(
                json!({"polygon": {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 1], [0, 0]]]}})
            ),
            "area.polygon.coordinates"
        );
        // Out of range, not a number, across the antimeridian.
        assert_eq!(
            field(
                json!({"polygon": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 91], [0, 0]]]}})
            ),
            "area.polygon.coordinates[0][2]"
        );
        assert_eq!(
            field(
                json!({"polygon": {"type": "Polygon", "coordinates": [[[0, 0], ["a", 0], [1, 1], [0, 0]]]}})
            ),
            "area.polygon.coordinates[0][1]"
        );
        assert_eq!(
            field(
                json!({"polygon": {"type": "Polygon", "coordinates": [[[-179, 0], [179, 0], [179, 1], [-179, 0]]]}})
            ),
            "area.polygon.coordinates[0]"
        );
        // Too many corners.
        let mut ring: Vec<[f64; 2]> = (0..MAX_INPUT_VERTICES + 1)
            .map(|i| {
                let t = i as f64 / (MAX_INPUT_VERTICES as f64) * std::f64::consts::TAU;
                [t.cos(), t.sin()]
            })
            .collect();
        ring.push(ring[0]);
        assert_eq!(
            field(json!({"polygon": {"type": "Polygon", "coordinates": [ring]}})),
            "area.polygon"
        );
        // Bigger than any sensible community.
        assert_eq!(
            field(
                json!({"polygon": {"type": "Polygon", "coordinates": square(-50.0, -40.0, 80.0)}})
            ),
            "area.polygon"
        );
    }

    #[test]
    fn polygons_simplify_contain_and_round_trip() {
        // A circle of 2,000 corners around Bangui, ~20 km across: simplified to far fewer.
        let ring: Vec<[f64; 2]> = (0..=2000)
            .map(|i| {
                let t = (i % 2000) as f64 / 2000.0 * std::f64::consts::TAU;
                [18.56 + 0.1 * t.cos(), 4.36 + 0.1 * t.sin()]
            })
            .collect();
        let a = BroadcastArea::parse(&json!({"polygon": {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}}))
            .unwrap();
        assert!(a.vertex_count() < 200, "{}", a.vertex_count());
        assert!(a.contains(&place("CAF", None, 4.36, 18.56)));
        assert!(!a.contains(&place("CAF", None, 4.5, 18.56)));
        let km2 = a.area_km2().unwrap();
        // π (0.1° × 111 km)² cos(4.36°) ≈ 386 km².
        assert!((km2 - 386.0).abs() < 10.0, "{km2}");
        let b = a.bbox().unwrap();
        assert!((b.min_lon - 18.46).abs() < 1e-3 && (b.max_lat - 4.46).abs() < 1e-3);
        // Stored and read back: the same area, nothing simplified twice.
        let stored = serde_json::to_string(&a).unwrap();
        let back: BroadcastArea = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, a);

        // A square with a hole; its edge is inside.
        let a = BroadcastArea::parse(
            &json!({"polygon": {"type": "MultiPolygon", "coordinates": [[
                [[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]],
                [[0.5, 0.5], [0.5, 1.5], [1.5, 1.5], [1.5, 0.5], [0.5, 0.5]]
            ]]}}),
        )
        .unwrap();
        assert!(a.contains(&place("CAF", None, 0.25, 0.25)));
        assert!(a.contains(&place("CAF", None, 0.0, 1.0)));
        assert!(!a.contains(&place("CAF", None, 1.0, 1.0)));
        assert!(!a.contains(&place("CAF", None, 3.0, 1.0)));
        let back: BroadcastArea =
            serde_json::from_value(serde_json::to_value(&a).unwrap()).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn places_are_checked() {
        let c = Country::parse("CAF").unwrap();
        assert!(SubscriberPlace::new(c.clone(), None, "  ", 1.0, 1.0).is_err());
        assert_eq!(
            SubscriberPlace::new(c.clone(), None, "a", f64::NAN, 1.0)
                .unwrap_err()
                .field(),
            Some("place.lat")
        );
        assert_eq!(
            SubscriberPlace::new(c, Some(" ".into()), "a", 1.0, 1.0)
                .unwrap_err()
                .field(),
            Some("place.admin1")
        );
    }
}
