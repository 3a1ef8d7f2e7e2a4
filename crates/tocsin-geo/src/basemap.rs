//! First-level (admin-1) area outlines from the offline basemap (`data/basemap/basemap.pmtiles`,
//! built by `scripts/build-basemap.sh` from Natural Earth 1:10m admin-1): the archive the
//! server serves to the map is also where a brief's map finds its areas' shapes.
//!
//! The archive is read in place: its root directory (PMTiles v3, gzip) once per process, then
//! the few Mapbox Vector Tiles covering a frame, decoded here (layer `admin1`, polygons). A
//! tile's polygons are clipped to the tile plus a buffer, so each piece comes with its
//! boundary [`Admin1Piece::lines`]: the ring's segments that are not a tile's cut, ready to
//! stroke without seams.

use std::io::Read;
use std::sync::OnceLock;

/// The basemap archive (Natural Earth boundaries, GeoNames places; zoom 0–6), embedded once
/// for the whole program (the server serves its tiles, briefs draw its admin-1 areas).
pub static PMTILES: &[u8] = include_bytes!("../../../data/basemap/basemap.pmtiles");

/// The deepest zoom the archive holds.
const MAX_ZOOM: u8 = 6;
/// The shallowest zoom whose tiles hold the `admin1` layer.
const MIN_ADMIN1_ZOOM: u8 = 3;
/// At most this many tiles are read for one frame (the zoom is lowered until it fits).
const MAX_TILES: u64 = 36;

/// One admin-1 area's polygon as one tile holds it (an area spanning tiles comes as several
/// pieces).
#[derive(Debug, Clone, PartialEq)]
pub struct Admin1Piece {
    /// Natural Earth's `adm0_a3` (the ISO alpha-3 code for most countries).
    pub country: String,
    /// Natural Earth's name of the area.
    pub name: String,
    /// The gazetteer's name of the area (as [`crate::Gazetteer::admin1_named`] gives it),
    /// when the basemap joined one.
    pub a1: Option<String>,
    /// Its rings (longitude, latitude), clipped to the tile and its buffer: fill them.
    pub rings: Vec<Vec<[f64; 2]>>,
    /// Its boundary within the tile (longitude, latitude): stroke these.
    pub lines: Vec<Vec<[f64; 2]>>,
}

/// One entry of the archive's directory.
#[derive(Debug, Clone, Copy)]
struct Entry {
    tile_id: u64,
    offset: u64,
    length: u64,
    run_length: u64,
}

struct Archive {
    data_offset: u64,
    entries: Vec<Entry>,
}

fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = buf.split_first()?;
        *buf = rest;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn gunzip(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b).read_to_end(&mut out).ok()?;
    Some(out)
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The header and root directory (the archive has no leaf directory; one would be ignored).
fn parse_archive(b: &[u8]) -> Option<Archive> {
    if b.get(..7)? != b"PMTiles" || *b.get(7)? != 3 {
        return None;
    }
    let (root_off, root_len) = (u64_at(b, 8)?, u64_at(b, 16)?);
    let data_offset = u64_at(b, 56)?;
    // Internal and tile compression: gzip (2) is what the build writes.
    if *b.get(97)? != 2 || *b.get(98)? != 2 {
        return None;
    }
    let root =
        b.get(usize::try_from(root_off).ok()?..usize::try_from(root_off + root_len).ok()?)?;
    let dir = gunzip(root)?;
    let mut buf = dir.as_slice();
    let n = usize::try_from(varint(&mut buf)?).ok()?;
    let mut entries = vec![
        Entry {
            tile_id: 0,
            offset: 0,
            length: 0,
            run_length: 0,
        };
        n
    ];
    let mut last = 0u64;
    for e in entries.iter_mut() {
        last = last.checked_add(varint(&mut buf)?)?;
        e.tile_id = last;
    }
    for e in entries.iter_mut() {
        e.run_length = varint(&mut buf)?;
    }
    for e in entries.iter_mut() {
        e.length = varint(&mut buf)?;
    }
    for i in 0..n {
        let v = varint(&mut buf)?;
        entries[i].offset = if v == 0 && i > 0 {
            entries[i - 1].offset + entries[i - 1].length
        } else {
            v.checked_sub(1)?
        };
    }
    Some(Archive {
        data_offset,
        entries,
    })
}

fn archive() -> Option<&'static Archive> {
    static ARCHIVE: OnceLock<Option<Archive>> = OnceLock::new();
    ARCHIVE.get_or_init(|| parse_archive(PMTILES)).as_ref()
}

/// The PMTiles id of tile (z, x, y): the tiles of the zooms above, then the position on the
/// Hilbert curve of zoom z.
fn tile_id(z: u8, x: u32, y: u32) -> u64 {
    let n = 1u64 << z;
    let base = ((1u64 << (2 * u32::from(z))) - 1) / 3;
    let (mut x, mut y) = (u64::from(x), u64::from(y));
    let mut d = 0u64;
    let mut s = n / 2;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    base + d
}

/// The tile's bytes (decompressed), or `None` when the archive holds no such tile.
fn tile(a: &Archive, z: u8, x: u32, y: u32) -> Option<Vec<u8>> {
    let id = tile_id(z, x, y);
    let i = a
        .entries
        .partition_point(|e| e.tile_id <= id)
        .checked_sub(1)?;
    let e = a.entries[i];
    if e.run_length == 0 || id >= e.tile_id + e.run_length {
        return None;
    }
    let start = usize::try_from(a.data_offset + e.offset).ok()?;
    let end = start.checked_add(usize::try_from(e.length).ok()?)?;
    gunzip(PMTILES.get(start..end)?)
}

/// A protobuf field: its number and its value (a varint, or the bytes of a length-delimited
/// field; fixed-width values are skipped).
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Other,
}

fn field<'a>(buf: &mut &'a [u8]) -> Option<(u64, Field<'a>)> {
    let key = varint(buf)?;
    let value = match key & 7 {
        0 => Field::Varint(varint(buf)?),
        1 => {
            *buf = buf.get(8..)?;
            Field::Other
        }
        2 => {
            let len = usize::try_from(varint(buf)?).ok()?;
            let (v, rest) = (buf.get(..len)?, buf.get(len..)?);
            *buf = rest;
            Field::Bytes(v)
        }
        5 => {
            *buf = buf.get(4..)?;
            Field::Other
        }
        _ => return None,
    };
    Some((key >> 3, value))
}

fn packed(b: &[u8]) -> Option<Vec<u64>> {
    let mut buf = b;
    let mut out = Vec::new();
    while !buf.is_empty() {
        out.push(varint(&mut buf)?);
    }
    Some(out)
}

fn zigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// A feature of the `admin1` layer: its string properties and its rings in tile units.
struct RawFeature {
    props: Vec<(String, String)>,
    rings: Vec<Vec<[i64; 2]>>,
}

/// The polygons of layer `admin1` of a tile, and the layer's extent.
fn admin1_features(tile: &[u8]) -> Option<(u32, Vec<RawFeature>)> {
    let mut buf = tile;
    while !buf.is_empty() {
        let (n, f) = field(&mut buf)?;
        let (3, Field::Bytes(layer)) = (n, f) else {
            continue;
        };
        let mut lb = layer;
        let (mut name, mut extent) = ("", 4096u32);
        let (mut keys, mut values, mut features) = (vec![], vec![], vec![]);
        while !lb.is_empty() {
            match field(&mut lb)? {
                (1, Field::Bytes(b)) => name = std::str::from_utf8(b).ok()?,
                (2, Field::Bytes(b)) => features.push(b),
                (3, Field::Bytes(b)) => keys.push(std::str::from_utf8(b).ok()?),
                (4, Field::Bytes(b)) => {
                    let mut vb = b;
                    let mut s = None;
                    while !vb.is_empty() {
                        if let (1, Field::Bytes(t)) = field(&mut vb)? {
                            s = std::str::from_utf8(t).ok();
                        }
                    }
                    values.push(s);
                }
                (5, Field::Varint(e)) => extent = u32::try_from(e).ok()?.max(1),
                _ => {}
            }
        }
        if name != "admin1" {
            continue;
        }
        let mut out = Vec::new();
        for fb in features {
            let mut b = fb;
            let (mut tags, mut kind, mut geometry) = (vec![], 0u64, vec![]);
            while !b.is_empty() {
                match field(&mut b)? {
                    (2, Field::Bytes(t)) => tags = packed(t)?,
                    (3, Field::Varint(k)) => kind = k,
                    (4, Field::Bytes(g)) => geometry = packed(g)?,
                    _ => {}
                }
            }
            if kind != 3 {
                continue;
            }
            let props = tags
                .chunks_exact(2)
                .filter_map(|kv| {
                    let k = keys.get(usize::try_from(kv[0]).ok()?)?;
                    let v = (*values.get(usize::try_from(kv[1]).ok()?)?)?;
                    Some((k.to_string(), v.to_string()))
                })
                .collect();
            out.push(RawFeature {
                props,
                rings: rings(&geometry),
            });
        }
        return Some((extent, out));
    }
    Some((4096, vec![]))
}

/// A polygon's rings from its geometry commands (MoveTo, LineTo, ClosePath).
fn rings(g: &[u64]) -> Vec<Vec<[i64; 2]>> {
    let (mut x, mut y) = (0i64, 0i64);
    let mut out: Vec<Vec<[i64; 2]>> = Vec::new();
    let mut ring: Vec<[i64; 2]> = Vec::new();
    let mut i = 0;
    while i < g.len() {
        let (cmd, count) = (g[i] & 7, (g[i] >> 3) as usize);
        i += 1;
        match cmd {
            1 | 2 => {
                for _ in 0..count {
                    let (Some(dx), Some(dy)) = (g.get(i), g.get(i + 1)) else {
                        return out;
                    };
                    x += zigzag(*dx);
                    y += zigzag(*dy);
                    i += 2;
                    if cmd == 1 && !ring.is_empty() {
                        out.push(std::mem::take(&mut ring));
                    }
                    ring.push([x, y]);
                }
            }
            7 => {
                if let Some(&first) = ring.first() {
                    ring.push(first);
                    out.push(std::mem::take(&mut ring));
                }
            }
            _ => return out,
        }
    }
    if ring.len() > 1 {
        out.push(ring);
    }
    out
}

fn lon_of(x: f64, n: f64) -> f64 {
    x / n * 360.0 - 180.0
}

fn lat_of(y: f64, n: f64) -> f64 {
    (std::f64::consts::PI * (1.0 - 2.0 * y / n))
        .sinh()
        .atan()
        .to_degrees()
}

fn tile_x(lon: f64, n: f64) -> f64 {
    (lon + 180.0) / 360.0 * n
}

fn tile_y(lat: f64, n: f64) -> f64 {
    let r = lat.clamp(-85.05, 85.05).to_radians();
    (1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n
}

/// The admin-1 areas of the basemap within `bbox` (west, south, east, north, in degrees),
/// as pieces per tile, read at the deepest zoom (at most 6) that needs at most 36 tiles.
/// Empty when the archive holds none there (or could not be read).
pub fn admin1_within(bbox: [f64; 4]) -> Vec<Admin1Piece> {
    let Some(a) = archive() else {
        return vec![];
    };
    let [west, south, east, north] = bbox;
    if !(west.is_finite() && south.is_finite() && east.is_finite() && north.is_finite()) {
        return vec![];
    }
    let mut z = MAX_ZOOM;
    let range = |z: u8| {
        let n = f64::from(1u32 << z);
        let last = (1u32 << z) - 1;
        let cell = |v: f64| (v.floor().max(0.0) as u32).min(last);
        (
            cell(tile_x(west, n)),
            cell(tile_x(east, n)),
            cell(tile_y(north, n)),
            cell(tile_y(south, n)),
        )
    };
    let (mut x0, mut x1, mut y0, mut y1) = range(z);
    while z > MIN_ADMIN1_ZOOM && u64::from(x1 - x0 + 1) * u64::from(y1 - y0 + 1) > MAX_TILES {
        z -= 1;
        (x0, x1, y0, y1) = range(z);
    }
    let n = f64::from(1u32 << z);
    let mut out = Vec::new();
    for ty in y0..=y1 {
        for tx in x0..=x1 {
            let Some(bytes) = tile(a, z, tx, ty) else {
                continue;
            };
            let Some((extent, features)) = admin1_features(&bytes) else {
                continue;
            };
            let e = f64::from(extent);
            let e_i = i64::from(extent);
            let to_deg = |p: [i64; 2]| {
                [
                    lon_of(f64::from(tx) + p[0] as f64 / e, n),
                    lat_of(f64::from(ty) + p[1] as f64 / e, n),
                ]
            };
            // A segment wholly outside the tile proper is a cut of the clipping (or drawn by
            // the neighbouring tile, where it is inside).
            let cut = |a: [i64; 2], b: [i64; 2]| {
                (a[0] <= 0 && b[0] <= 0)
                    || (a[0] >= e_i && b[0] >= e_i)
                    || (a[1] <= 0 && b[1] <= 0)
                    || (a[1] >= e_i && b[1] >= e_i)
            };
            for f in features {
                let prop = |k: &str| {
                    f.props
                        .iter()
                        .find(|(key, _)| key == k)
                        .map(|(_, v)| v.clone())
                };
                let mut lines: Vec<Vec<[f64; 2]>> = Vec::new();
                for r in &f.rings {
                    let mut line: Vec<[f64; 2]> = Vec::new();
                    for w in r.windows(2) {
                        if cut(w[0], w[1]) {
                            if line.len() > 1 {
                                lines.push(std::mem::take(&mut line));
                            }
                            line.clear();
                            continue;
                        }
                        if line.is_empty() {
                            line.push(to_deg(w[0]));
                        }
                        line.push(to_deg(w[1]));
                    }
                    if line.len() > 1 {
                        lines.push(line);
                    }
                }
                out.push(Admin1Piece {
                    country: prop("adm0_a3").unwrap_or_default(),
                    name: prop("name").unwrap_or_default(),
                    a1: prop("a1").filter(|s| !s.is_empty()),
                    rings: f
                        .rings
                        .iter()
                        .map(|r| r.iter().map(|p| to_deg(*p)).collect())
                        .collect(),
                    lines,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_ids_follow_the_pmtiles_hilbert_order() {
        // Zoom 1 in Hilbert order: (0,0), (0,1), (1,1), (1,0); then zoom 2.
        assert_eq!(tile_id(0, 0, 0), 0);
        assert_eq!(tile_id(1, 0, 0), 1);
        assert_eq!(tile_id(1, 0, 1), 2);
        assert_eq!(tile_id(1, 1, 1), 3);
        assert_eq!(tile_id(1, 1, 0), 4);
        assert_eq!(tile_id(2, 0, 0), 5);
    }

    #[test]
    fn the_central_african_republics_areas_come_with_their_names_and_outlines() {
        // Around Ouham and Ouham-Pendé (north-west of the Central African Republic).
        let pieces = admin1_within([15.0, 5.5, 19.5, 8.5]);
        let caf: Vec<&Admin1Piece> = pieces.iter().filter(|p| p.country == "CAF").collect();
        for want in ["Ouham", "Ouham-Pende"] {
            let mine: Vec<&&Admin1Piece> = caf
                .iter()
                .filter(|p| p.a1.as_deref() == Some(want))
                .collect();
            assert!(!mine.is_empty(), "{want}: {caf:#?}");
            assert!(
                mine.iter().flat_map(|p| &p.rings).any(|r| r.len() > 20),
                "{want}"
            );
            for p in &mine {
                for [lon, lat] in p.rings.iter().flatten() {
                    assert!(
                        (12.0..23.0).contains(lon) && (3.0..11.0).contains(lat),
                        "{want}: {lon} {lat}"
                    );
                }
            }
            assert!(mine.iter().any(|p| !p.lines.is_empty()));
        }
        // A frame in the ocean holds none.
        assert!(admin1_within([-30.0, -30.0, -29.0, -29.0]).is_empty());
    }
}
