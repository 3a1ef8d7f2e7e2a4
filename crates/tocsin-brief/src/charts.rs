//! The brief's two pictures as SVG strings: the monthly trend and the map of incidents. Both
//! are plain functions of the content, so a richer chart (the situation dashboard's) can
//! replace either by handing its own SVG to [`crate::Charts`].

use std::fmt::Write as _;
use tocsin_app::brief::{MapPoint, MonthCount};

/// Escape text for SVG/XML.
pub fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

const FONT: &str = "font-family=\"Noto Sans\"";

/// A bar per month (incidents) with the fatalities as a line on their own scale; the legend
/// names both in the brief's words.
pub fn trend_svg(months: &[MonthCount], incidents_word: &str, fatalities_word: &str) -> String {
    let (w, h) = (360.0_f64, 190.0_f64);
    let (left, right, top, bottom) = (30.0, 30.0, 22.0, 34.0);
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let max_n = months.iter().map(|m| m.incidents).max().unwrap_or(0).max(1) as f64;
    let max_f = months
        .iter()
        .map(|m| m.fatalities)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = plot_w / months.len().max(1) as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" {FONT} font-size=\"9\">"
    );
    let _ = write!(
        s,
        "<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>"
    );
    // Axes and the two scales' maxima.
    let base = top + plot_h;
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#555\" stroke-width=\"0.8\"/>",
        w - right
    );
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#1f4e79\">{}</text>",
        left - 4.0,
        top + 4.0,
        max_n as u64
    );
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"start\" fill=\"#b42318\">{}</text>",
        w - right + 4.0,
        top + 4.0,
        max_f as i64
    );
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#555\">0</text>",
        left - 4.0,
        base
    );
    let mut line = String::new();
    for (i, m) in months.iter().enumerate() {
        let x = left + slot * i as f64;
        let bh = plot_h * m.incidents as f64 / max_n;
        // An empty month has no bar (a zero-height rectangle is invalid SVG).
        if bh > 0.0 {
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#1f4e79\"/>",
                x + slot * 0.15,
                base - bh,
                slot * 0.7,
                bh
            );
        }
        let cx = x + slot / 2.0;
        let fy = base - plot_h * m.fatalities.max(0) as f64 / max_f;
        let _ = write!(line, "{}{cx:.1},{fy:.1}", if i == 0 { "" } else { " " });
        let (year, month) = m.month.split_once('-').unwrap_or((&m.month, ""));
        let _ = write!(
            s,
            "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
            base + 11.0,
            xml(month)
        );
        if i == 0 || month == "01" {
            let _ = write!(
                s,
                "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
                base + 22.0,
                xml(year)
            );
        }
    }
    let _ = write!(
        s,
        "<polyline points=\"{line}\" fill=\"none\" stroke=\"#b42318\" stroke-width=\"1.6\"/>"
    );
    // Legend.
    let _ = write!(
        s,
        "<rect x=\"{left}\" y=\"4\" width=\"9\" height=\"9\" fill=\"#1f4e79\"/><text x=\"{}\" y=\"12\" fill=\"#222\">{}</text>",
        left + 13.0,
        xml(incidents_word)
    );
    let _ = write!(
        s,
        "<line x1=\"{}\" y1=\"8.5\" x2=\"{}\" y2=\"8.5\" stroke=\"#b42318\" stroke-width=\"1.6\"/><text x=\"{}\" y=\"12\" fill=\"#222\">{}</text>",
        left + 150.0,
        left + 162.0,
        left + 166.0,
        xml(fatalities_word)
    );
    s.push_str("</svg>");
    s
}

/// The incidents as dots on a longitude/latitude frame around them (equirectangular,
/// corrected for latitude), with a one-degree graticule and coordinates at the edges; dark
/// dots are verified, the area grows with the fatalities.
pub fn map_svg(points: &[MapPoint]) -> String {
    let (w, h) = (360.0_f64, 190.0_f64);
    let pad = 14.0;
    let valid: Vec<&MapPoint> = points
        .iter()
        .filter(|p| p.lat.is_finite() && p.lon.is_finite())
        .collect();
    let (mut min_lon, mut max_lon, mut min_lat, mut max_lat) = valid.iter().fold(
        (f64::MAX, f64::MIN, f64::MAX, f64::MIN),
        |(a, b, c, d), p| (a.min(p.lon), b.max(p.lon), c.min(p.lat), d.max(p.lat)),
    );
    if valid.is_empty() {
        (min_lon, max_lon, min_lat, max_lat) = (-1.0, 1.0, -1.0, 1.0);
    }
    // At least a degree across, with a margin.
    let grow = |lo: &mut f64, hi: &mut f64| {
        let span = (*hi - *lo).max(1.0);
        let mid = (*hi + *lo) / 2.0;
        *lo = mid - span * 0.6;
        *hi = mid + span * 0.6;
    };
    grow(&mut min_lon, &mut max_lon);
    grow(&mut min_lat, &mut max_lat);
    let k = ((min_lat + max_lat) / 2.0).to_radians().cos().max(0.2);
    // Keep the aspect: widen the narrower dimension.
    let (span_x, span_y) = ((max_lon - min_lon) * k, max_lat - min_lat);
    let (avail_x, avail_y) = (w - 2.0 * pad, h - 2.0 * pad);
    let scale = (avail_x / span_x).min(avail_y / span_y);
    let cx = (min_lon + max_lon) / 2.0;
    let cy = (min_lat + max_lat) / 2.0;
    let px = |lon: f64| w / 2.0 + (lon - cx) * k * scale;
    let py = |lat: f64| h / 2.0 - (lat - cy) * scale;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" {FONT} font-size=\"8\">"
    );
    let _ = write!(
        s,
        "<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#f3f6f9\" stroke=\"#9aa5b1\" stroke-width=\"0.8\"/>"
    );
    // Graticule: whole degrees within view (at most a dozen lines each way).
    let lon_lo = (cx - w / 2.0 / (k * scale)).ceil() as i64;
    let lon_hi = (cx + w / 2.0 / (k * scale)).floor() as i64;
    let step_lon = ((lon_hi - lon_lo) / 10).max(1);
    let mut lon = lon_lo;
    while lon <= lon_hi {
        let x = px(lon as f64);
        let _ = write!(
            s,
            "<line x1=\"{x:.1}\" y1=\"0\" x2=\"{x:.1}\" y2=\"{h}\" stroke=\"#d5dce3\" stroke-width=\"0.5\"/><text x=\"{:.1}\" y=\"{}\" fill=\"#6b7785\">{}°</text>",
            x + 1.5,
            h - 3.0,
            lon
        );
        lon += step_lon;
    }
    let lat_lo = (cy - h / 2.0 / scale).ceil() as i64;
    let lat_hi = (cy + h / 2.0 / scale).floor() as i64;
    let step_lat = ((lat_hi - lat_lo) / 8).max(1);
    let mut lat = lat_lo;
    while lat <= lat_hi {
        let y = py(lat as f64);
        let _ = write!(
            s,
            "<line x1=\"0\" y1=\"{y:.1}\" x2=\"{w}\" y2=\"{y:.1}\" stroke=\"#d5dce3\" stroke-width=\"0.5\"/><text x=\"2\" y=\"{:.1}\" fill=\"#6b7785\">{}°</text>",
            y - 1.5,
            lat
        );
        lat += step_lat;
    }
    // Unverified first, so verified dots are drawn on top.
    let mut sorted = valid.clone();
    sorted.sort_by_key(|p| p.verified);
    for p in sorted {
        let r = 1.8 + (p.fatalities.max(0) as f64).sqrt().min(12.0) * 0.6;
        let (fill, stroke) = if p.verified {
            ("#b42318", "#7a1010")
        } else {
            ("#f2b8b5", "#b42318")
        };
        let _ = write!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r:.1}\" fill=\"{fill}\" fill-opacity=\"0.8\" stroke=\"{stroke}\" stroke-width=\"0.5\"/>",
            px(p.lon),
            py(p.lat)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trend_has_a_bar_per_month_and_escapes_words() {
        let months: Vec<MonthCount> = (1..=12)
            .map(|m| MonthCount {
                month: format!("2026-{m:02}"),
                incidents: m,
                fatalities: 2 * m as i64,
            })
            .collect();
        let s = trend_svg(&months, "a<b", "morts");
        assert_eq!(s.matches("<rect").count(), 12 + 2, "{s}");
        assert!(s.contains("a&lt;b"));
        assert!(s.contains(">12<"), "the incidents' maximum is shown");
        assert!(s.contains(">24<"), "the fatalities' maximum is shown");
    }

    #[test]
    fn the_map_puts_every_point_inside_its_frame() {
        let pts = vec![
            MapPoint {
                lat: 6.5,
                lon: 21.9,
                fatalities: 10,
                verified: true,
            },
            MapPoint {
                lat: 7.2,
                lon: 18.5,
                fatalities: 0,
                verified: false,
            },
        ];
        let s = map_svg(&pts);
        for c in s.split("<circle").skip(1) {
            let num = |k: &str| -> f64 {
                let v = c.split(&format!("{k}=\"")).nth(1).unwrap();
                v[..v.find('"').unwrap()].parse().unwrap()
            };
            assert!((0.0..=360.0).contains(&num("cx")), "{c}");
            assert!((0.0..=190.0).contains(&num("cy")), "{c}");
        }
        assert_eq!(s.matches("<circle").count(), 2);
        assert!(map_svg(&[]).starts_with("<svg"));
    }
}
