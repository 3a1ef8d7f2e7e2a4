//! Country outlines (Natural Earth 1:50m through world-atlas' TopoJSON) and
//! point-in-polygon with an R-tree over the polygons' bounding boxes.

use std::io::Read;

use geo::{Coord, Intersects, LineString, Point, Polygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;
use serde::Deserialize;

use crate::countries::CountryTable;
use crate::GeoError;

const TOPO_GZ: &[u8] = include_bytes!("../data/countries-50m.topo.json.gz");

#[derive(Deserialize)]
struct Topology {
    transform: Transform,
    objects: Objects,
    arcs: Vec<Vec<[i64; 2]>>,
}

#[derive(Deserialize)]
struct Transform {
    scale: [f64; 2],
    translate: [f64; 2],
}

#[derive(Deserialize)]
struct Objects {
    countries: Collection,
}

#[derive(Deserialize)]
struct Collection {
    geometries: Vec<TopoGeometry>,
}

#[derive(Deserialize)]
struct Props {
    iso3: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum TopoGeometry {
    Polygon {
        arcs: Vec<Vec<i64>>,
        properties: Props,
    },
    MultiPolygon {
        arcs: Vec<Vec<Vec<i64>>>,
        properties: Props,
    },
}

type BoxEntry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// All country polygons and an R-tree of their bounding boxes.
pub(crate) struct Outlines {
    polygons: Vec<(u16, Polygon<f64>)>,
    tree: RTree<BoxEntry>,
}

impl Outlines {
    pub fn load(countries: &CountryTable) -> Result<Self, GeoError> {
        let mut json = Vec::with_capacity(1 << 20);
        flate2::read::GzDecoder::new(TOPO_GZ)
            .read_to_end(&mut json)
            .map_err(|source| GeoError::Decompress {
                file: "countries-50m.topo.json.gz",
                source,
            })?;
        let topo: Topology =
            serde_json::from_slice(&json).map_err(|e| GeoError::Topology(e.to_string()))?;
        let [sx, sy] = topo.transform.scale;
        let [tx, ty] = topo.transform.translate;
        // Quantised, delta-encoded arcs → absolute coordinates.
        let arcs: Vec<Vec<Coord<f64>>> = topo
            .arcs
            .iter()
            .map(|arc| {
                let (mut x, mut y) = (0i64, 0i64);
                arc.iter()
                    .map(|[dx, dy]| {
                        x += dx;
                        y += dy;
                        Coord {
                            x: x as f64 * sx + tx,
                            y: y as f64 * sy + ty,
                        }
                    })
                    .collect()
            })
            .collect();
        let ring = |idx: &[i64]| -> Result<LineString<f64>, GeoError> {
            let mut pts: Vec<Coord<f64>> = Vec::new();
            for &i in idx {
                let (a, rev) = if i >= 0 {
                    (i as usize, false)
                } else {
                    (!i as usize, true)
                };
                let arc = arcs
                    .get(a)
                    .ok_or_else(|| GeoError::Topology(format!("arc {a} out of range")))?;
                let skip = usize::from(!pts.is_empty());
                if rev {
                    pts.extend(arc.iter().rev().skip(skip));
                } else {
                    pts.extend(arc.iter().skip(skip));
                }
            }
            unwrap_antimeridian(&mut pts);
            Ok(LineString::new(pts))
        };
        let mut polygons = Vec::new();
        for g in topo.objects.countries.geometries {
            let (rings_list, props): (Vec<Vec<Vec<i64>>>, Props) = match g {
                TopoGeometry::Polygon { arcs, properties } => (vec![arcs], properties),
                TopoGeometry::MultiPolygon { arcs, properties } => (arcs, properties),
            };
            // Features without a code (Siachen Glacier) cover no country.
            let Some(iso3) = props.iso3 else { continue };
            let country = countries
                .get_iso3(&iso3)
                .ok_or_else(|| GeoError::Topology(format!("unknown iso3 {iso3}")))?;
            for rings in rings_list {
                let mut it = rings.iter();
                let Some(outer) = it.next() else { continue };
                let exterior = ring(outer)?;
                let interiors = it.map(|r| ring(r)).collect::<Result<Vec<_>, _>>()?;
                polygons.push((country, Polygon::new(exterior, interiors)));
            }
        }
        let boxes: Vec<BoxEntry> = polygons
            .iter()
            .enumerate()
            .map(|(i, (_, p))| {
                let (mut minx, mut miny, mut maxx, mut maxy) =
                    (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
                for c in p.exterior().coords() {
                    minx = minx.min(c.x);
                    miny = miny.min(c.y);
                    maxx = maxx.max(c.x);
                    maxy = maxy.max(c.y);
                }
                GeomWithData::new(
                    Rectangle::from_corners([minx, miny], [maxx, maxy]),
                    i as u32,
                )
            })
            .collect();
        Ok(Outlines {
            polygons,
            tree: RTree::bulk_load(boxes),
        })
    }

    /// Index (into the country table) of the country whose outline holds the point.
    pub fn country_at(&self, lat: f64, lon: f64) -> Option<u16> {
        // Rings crossing ±180° were unwrapped past it, so also try lon ± 360.
        for x in [lon, lon + 360.0, lon - 360.0] {
            let p = Point::new(x, lat);
            let mut best: Option<u32> = None;
            for e in self.tree.locate_all_at_point(&[x, lat]) {
                let i = e.data;
                if best.is_some_and(|b| b <= i) {
                    continue;
                }
                if self.polygons[i as usize].1.intersects(&p) {
                    best = Some(i);
                }
            }
            if let Some(i) = best {
                return Some(self.polygons[i as usize].0);
            }
        }
        None
    }

    /// The polygons whose bounding box meets `[west, south, east, north]`, with their
    /// country's index, in load order.
    pub fn within(&self, bbox: [f64; 4]) -> Vec<(u16, &Polygon<f64>)> {
        let [w, s, e, n] = bbox;
        let env = rstar::AABB::from_corners([w, s], [e, n]);
        let mut hits: Vec<u32> = self
            .tree
            .locate_in_envelope_intersecting(&env)
            .map(|b| b.data)
            .collect();
        hits.sort_unstable();
        hits.into_iter()
            .map(|i| {
                let (c, p) = &self.polygons[i as usize];
                (*c, p)
            })
            .collect()
    }

    /// Number of polygons loaded.
    pub fn len(&self) -> usize {
        self.polygons.len()
    }
}

/// world-atlas rings that cross the antimeridian jump from +180 to −180;
/// make them continuous (longitudes may then pass ±180). A ring around a pole
/// (Antarctica) ends 360° from where it starts; closing it runs along its
/// southern edge, which is what a polar cap needs.
fn unwrap_antimeridian(pts: &mut [Coord<f64>]) {
    let mut shift = 0.0;
    let mut prev = match pts.first() {
        Some(c) => c.x,
        None => return,
    };
    for c in pts.iter_mut().skip(1) {
        let raw = c.x;
        if raw - prev > 180.0 {
            shift -= 360.0;
        } else if prev - raw > 180.0 {
            shift += 360.0;
        }
        prev = raw;
        c.x = raw + shift;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwraps_a_ring_across_the_antimeridian() {
        let mut pts = vec![
            Coord { x: 179.0, y: 0.0 },
            Coord { x: -179.0, y: 0.0 },
            Coord { x: -179.0, y: 1.0 },
            Coord { x: 179.0, y: 1.0 },
            Coord { x: 179.0, y: 0.0 },
        ];
        unwrap_antimeridian(&mut pts);
        assert_eq!(pts[1].x, 181.0);
        assert_eq!(pts[3].x, 179.0);
    }
}
