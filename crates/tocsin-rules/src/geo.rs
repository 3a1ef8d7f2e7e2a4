//! Great-circle distance and the coarse grid that finds the radius rules near a point.

/// Mean Earth radius (IUGG), kilometres.
const EARTH_RADIUS_KM: f64 = 6_371.008_8;
/// Kilometres per degree of latitude.
const KM_PER_DEG: f64 = 111.195;
/// Grid cell size, degrees.
pub(crate) const CELL_DEG: f64 = 5.0;
const LAT_CELLS: i32 = 36;
const LON_CELLS: i32 = 72;

/// Great-circle (haversine) distance between two WGS84 points, in kilometres.
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// The grid cell of a point: 5° × 5°, rows from the south pole, columns from 180° W.
pub(crate) fn cell(lat: f64, lon: f64) -> (i16, i16) {
    let row = (((lat + 90.0) / CELL_DEG).floor() as i32).clamp(0, LAT_CELLS - 1);
    let col = (((lon + 180.0) / CELL_DEG).floor() as i32).rem_euclid(LON_CELLS);
    (row as i16, col as i16)
}

/// Every cell that may hold a point within `radius_km` of `(lat, lon)`: a bounding box in
/// degrees, wrapping at the antimeridian, whole rows of longitude near the poles.
pub(crate) fn cells_within(lat: f64, lon: f64, radius_km: f64) -> Vec<(i16, i16)> {
    let dlat = radius_km / KM_PER_DEG;
    let (lat_lo, lat_hi) = ((lat - dlat).max(-90.0), (lat + dlat).min(90.0));
    let widest = lat_lo.abs().max(lat_hi.abs());
    let cos = widest.to_radians().cos();
    let dlon = if lat_hi >= 89.999 || lat_lo <= -89.999 || cos < 1e-6 {
        180.0
    } else {
        // Asin of the ratio bounds the longitude span of a small circle exactly; the ratio of
        // distances is an upper bound when the circle does not reach a pole.
        let r = (radius_km / EARTH_RADIUS_KM).sin() / widest.to_radians().cos().max(1e-9);
        if r >= 1.0 {
            180.0
        } else {
            r.asin().to_degrees() * 1.01 + 0.01
        }
    };
    let (row_lo, _) = cell(lat_lo, lon);
    let (row_hi, _) = cell(lat_hi, lon);
    let cols: Vec<i16> = if dlon >= 180.0 {
        (0..LON_CELLS as i16).collect()
    } else {
        let lo = ((lon - dlon + 180.0) / CELL_DEG).floor() as i32;
        let hi = ((lon + dlon + 180.0) / CELL_DEG).floor() as i32;
        let n = (hi - lo + 1).min(LON_CELLS);
        (0..n)
            .map(|k| (lo + k).rem_euclid(LON_CELLS) as i16)
            .collect()
    };
    let mut out = Vec::new();
    for row in row_lo..=row_hi {
        for &c in &cols {
            out.push((row, c));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_great_circle() {
        // Kinshasa to Bunia, about 1,800 km as the crow flies.
        let d = distance_km(-4.325, 15.322, 1.566, 30.252);
        assert!((1_700.0..1_800.0).contains(&d), "{d}");
        // One degree of longitude on the equator.
        assert!((distance_km(0.0, 0.0, 0.0, 1.0) - 111.195).abs() < 0.01);
        // One degree of longitude at 60° N is half as long.
        assert!((distance_km(60.0, 0.0, 60.0, 1.0) - 55.6).abs() < 0.1);
        // Across the antimeridian.
        assert!((distance_km(0.0, 179.5, 0.0, -179.5) - 111.195).abs() < 0.01);
    }

    #[test]
    fn every_point_within_the_radius_lies_in_a_listed_cell() {
        for (lat, lon, r) in [
            (1.5, 29.0, 50.0),
            (0.0, 179.0, 300.0),
            (-60.0, -10.0, 2_000.0),
            (85.0, 10.0, 900.0),
            (34.0, 44.0, 1.0),
        ] {
            let cells = cells_within(lat, lon, r);
            for i in 0..360 {
                let b = (i as f64).to_radians();
                for f in [0.3, 0.7, 0.999] {
                    // Destination point at distance f·r along bearing b.
                    let d = f * r / EARTH_RADIUS_KM;
                    let (p1, l1) = (lat.to_radians(), lon.to_radians());
                    let p2 = (p1.sin() * d.cos() + p1.cos() * d.sin() * b.cos()).asin();
                    let l2 =
                        l1 + (b.sin() * d.sin() * p1.cos()).atan2(d.cos() - p1.sin() * p2.sin());
                    let (plat, plon) = (p2.to_degrees(), (l2.to_degrees() + 540.0) % 360.0 - 180.0);
                    assert!(
                        cells.contains(&cell(plat, plon)),
                        "{plat},{plon} from {lat},{lon} r={r}"
                    );
                }
            }
        }
    }
}
