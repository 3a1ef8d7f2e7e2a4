//! Charts drawn as SVG text on the server, so they show without JavaScript and go into PDF
//! briefs as they are: the incident and fatality trend ([`trend_svg`]) and the forecast rank
//! sparkline ([`rank_sparkline_svg`]). Pure functions, no I/O; the same input always gives the
//! same bytes. Every chart is an `<svg role="img">` with a `<title>` and a `<desc>` (the text
//! alternative), each bar and point with its own `<title>`, presentation attributes only (no
//! stylesheet, no script), and every text escaped.

use std::fmt::Write;

/// One bar of a trend: a week or a month.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TrendBar {
    /// What the bar stands for, as the axis shows it (`2025-06-02`, `2025-06`).
    pub label: String,
    /// Incidents.
    pub incidents: u64,
    /// Their fatalities.
    pub fatalities: u64,
}

/// One point of a forecast sparkline.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RankPoint {
    /// The forecast year.
    pub year: i32,
    /// The country's rank (1: highest risk).
    pub rank: u32,
}

const W: f64 = 720.0;
const H: f64 = 260.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 56.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 44.0;
const BAR_FILL: &str = "#4b5563";
const LINE: &str = "#b45309";
const INK: &str = "#1f2937";
const GRID: &str = "#d1d5db";
/// The fonts charts are drawn with, most wanted first: Latin first (the dashboard's, and a
/// brief's in English, French or Swahili).
pub const LATIN_FONTS: &str = "Noto Sans, DejaVu Sans, sans-serif";
/// The fonts of an Arabic chart: the Arabic font a brief's PDF ships first, so the Arabic
/// words are shaped with it (a Latin font first leaves them as empty boxes in the PDF).
pub const ARABIC_FONTS: &str = "Noto Sans Arabic, Noto Sans, DejaVu Sans, sans-serif";

/// The chart fonts for text in `lang`: [`ARABIC_FONTS`] for Arabic, else [`LATIN_FONTS`].
pub fn fonts_for(lang: tocsin_domain::Lang) -> &'static str {
    match lang {
        tocsin_domain::Lang::Ar => ARABIC_FONTS,
        _ => LATIN_FONTS,
    }
}

/// `&`, `<`, `>`, `"` and `'` escaped for XML text and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Characters XML 1.0 forbids are dropped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether the Arabic font of [`ARABIC_FONTS`] draws `c` (Arabic script, digits, spaces and
/// the common punctuation it has); anything else in an Arabic text is set in the Latin font.
fn arabic_font_has(c: char) -> bool {
    c.is_whitespace()
        || c.is_ascii_digit()
        || matches!(c, ',' | '-' | '.' | ':' | '\u{a0}' | '«' | '»')
        || matches!(c as u32, 0x600..=0x6ff | 0x750..=0x77f | 0x8a0..=0x8ff | 0xfb50..=0xfdff | 0xfe70..=0xfeff)
}

/// `text` as SVG text content drawn with `fonts`, escaped. In an Arabic chart, a text mixing
/// Arabic with characters the Arabic font lacks (brackets, Latin letters) has those in a
/// `<tspan>` of the Latin fonts: a renderer that shapes a text with one font and falls back
/// glyph by glyph (resvg, Typst) cannot mix an Arabic font's ligatures with another font's
/// glyphs, and would draw empty boxes.
fn text_in(text: &str, fonts: &str) -> String {
    if fonts != ARABIC_FONTS
        || !text.chars().any(|c| matches!(c as u32, 0x600..=0x6ff))
        || text.chars().all(arabic_font_has)
    {
        return escape(text);
    }
    let mut out = String::new();
    let mut run = String::new();
    let mut latin = false;
    let flush = |out: &mut String, run: &mut String, latin: bool| {
        if run.is_empty() {
            return;
        }
        if latin {
            let _ = write!(
                out,
                "<tspan font-family=\"{LATIN_FONTS}\">{}</tspan>",
                escape(run)
            );
        } else {
            out.push_str(&escape(run));
        }
        run.clear();
    };
    for c in text.chars() {
        let l = !arabic_font_has(c);
        if l != latin {
            flush(&mut out, &mut run, latin);
            latin = l;
        }
        run.push(c);
    }
    flush(&mut out, &mut run, latin);
    out
}

/// The smallest "nice" number (1, 2 or 5 times a power of ten) at or above `v`, at least 1.
fn nice_ceiling(v: u64) -> u64 {
    let mut p = 1u64;
    loop {
        for m in [1, 2, 5] {
            let n = m * p;
            if n >= v.max(1) {
                return n;
            }
        }
        p = p.saturating_mul(10);
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The words and size a trend chart is drawn with: English on the dashboard
/// ([`TrendStyle::ENGLISH`]), the brief's language and a smaller frame in a brief.
#[derive(Debug, Clone, Copy)]
pub struct TrendStyle<'a> {
    /// Width of the frame (SVG user units).
    pub width: f64,
    /// Height of the frame.
    pub height: f64,
    /// "Incidents (left axis)".
    pub incidents_axis: &'a str,
    /// "Fatalities (right axis)".
    pub fatalities_axis: &'a str,
    /// "incident", "incidents", "fatality", "fatalities" (after a number).
    pub counts: [&'a str; 4],
    /// "No incident in this period".
    pub no_incident: &'a str,
    /// The text alternative: `{incidents}`, `{fatalities}` (counted, with their words),
    /// `{from}`, `{to}`, `{n}` (periods), `{busiest}`, `{busiest_incidents}`,
    /// `{busiest_fatalities}` are replaced.
    pub summary: &'a str,
    /// The font families, most wanted first ([`fonts_for`]).
    pub fonts: &'a str,
}

impl TrendStyle<'static> {
    /// The dashboard's chart: English, 720 × 260.
    pub const ENGLISH: TrendStyle<'static> = TrendStyle {
        width: W,
        height: H,
        incidents_axis: "Incidents (left axis)",
        fatalities_axis: "Fatalities (right axis)",
        counts: ["incident", "incidents", "fatality", "fatalities"],
        no_incident: "No incident in this period",
        summary: "{incidents} and {fatalities} from {from} to {to}, in {n} periods; most \
                  incidents in {busiest} ({busiest_incidents}, {busiest_fatalities}).",
        fonts: LATIN_FONTS,
    };
}

/// The trend of incidents (bars, left axis) and fatalities (line, right axis) over `bars`, in
/// order. `title` heads the chart and names it to assistive technology; the description gives
/// the totals, the busiest bar and the period, so the figure reads without the picture. Bars
/// carry `data-incidents` and `data-fatalities`; with no bar the chart says there is no data.
pub fn trend_svg(title: &str, bars: &[TrendBar]) -> String {
    trend_svg_in(title, bars, &TrendStyle::ENGLISH)
}

/// [`trend_svg`] in other words and another size (a brief's).
pub fn trend_svg_in(title: &str, bars: &[TrendBar], st: &TrendStyle<'_>) -> String {
    let (w, h) = (
        st.width.max(LEFT + RIGHT + 40.0),
        st.height.max(TOP + BOTTOM + 40.0),
    );
    let [one_i, many_i, one_f, many_f] = st.counts;
    let n = bars.len();
    let total: u64 = bars.iter().map(|b| b.incidents).sum();
    let deaths: u64 = bars.iter().map(|b| b.fatalities).sum();
    let max_i = nice_ceiling(bars.iter().map(|b| b.incidents).max().unwrap_or(0));
    let max_f = nice_ceiling(bars.iter().map(|b| b.fatalities).max().unwrap_or(0));
    let desc = match (bars.first(), bars.last()) {
        (Some(first), Some(last)) => {
            let busiest = bars
                .iter()
                .enumerate()
                .max_by_key(|(i, b)| (b.incidents, std::cmp::Reverse(*i)))
                .map(|(_, b)| b)
                .unwrap_or(first);
            st.summary
                .replace("{incidents}", &plural(total, one_i, many_i))
                .replace("{fatalities}", &plural(deaths, one_f, many_f))
                .replace("{from}", &first.label)
                .replace("{to}", &last.label)
                .replace("{n}", &n.to_string())
                .replace("{busiest}", &busiest.label)
                .replace(
                    "{busiest_incidents}",
                    &plural(busiest.incidents, one_i, many_i),
                )
                .replace(
                    "{busiest_fatalities}",
                    &plural(busiest.fatalities, one_f, many_f),
                )
        }
        _ => format!("{}.", st.no_incident),
    };
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart trend\" role=\"img\" \
         aria-labelledby=\"trend-title trend-desc\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" font-family=\"{}\" font-size=\"11\">\
         <title id=\"trend-title\">{}</title><desc id=\"trend-desc\">{}</desc>\
         <rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>",
        escape(st.fonts),
        escape(title),
        escape(&desc)
    );
    let (pw, ph) = (w - LEFT - RIGHT, h - TOP - BOTTOM);
    let base = TOP + ph;
    // Legend: the second entry after the first one's words.
    let second = LEFT + 16.0 + 6.5 * st.incidents_axis.chars().count() as f64 + 14.0;
    let _ = write!(
        s,
        "<g class=\"legend\" fill=\"{INK}\"><rect x=\"{LEFT}\" y=\"10\" width=\"12\" height=\"12\" fill=\"{BAR_FILL}\"/>\
         <text x=\"{:.1}\" y=\"20\">{}</text>\
         <line x1=\"{:.1}\" y1=\"16\" x2=\"{:.1}\" y2=\"16\" stroke=\"{LINE}\" stroke-width=\"2.5\"/>\
         <text x=\"{:.1}\" y=\"20\">{}</text></g>",
        LEFT + 16.0,
        text_in(st.incidents_axis, st.fonts),
        second,
        second + 20.0,
        second + 26.0,
        text_in(st.fatalities_axis, st.fonts),
    );
    // Axes and grid: 0, half, max on each side.
    s.push_str("<g class=\"axes\">");
    for k in 0..=2u64 {
        let y = base - ph * k as f64 / 2.0;
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{GRID}\" stroke-width=\"1\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{INK}\">{}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"start\" fill=\"{LINE}\">{}</text>",
            LEFT + pw,
            LEFT - 6.0,
            y + 4.0,
            max_i * k / 2,
            LEFT + pw + 6.0,
            y + 4.0,
            max_f * k / 2,
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{LEFT}\" y1=\"{base:.1}\" x2=\"{:.1}\" y2=\"{base:.1}\" stroke=\"{INK}\" stroke-width=\"1\"/></g>",
        LEFT + pw
    );
    if n == 0 {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{INK}\">{}</text></svg>",
            LEFT + pw / 2.0,
            TOP + ph / 2.0,
            text_in(st.no_incident, st.fonts)
        );
        return s;
    }
    let band = pw / n as f64;
    let bar_w = (band * 0.7).max(1.0);
    s.push_str("<g class=\"bars\">");
    for (i, b) in bars.iter().enumerate() {
        let bh = ph * b.incidents as f64 / max_i as f64;
        let x = LEFT + band * i as f64 + (band - bar_w) / 2.0;
        let _ = write!(
            s,
            "<rect class=\"bar\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar_w:.1}\" height=\"{bh:.1}\" fill=\"{BAR_FILL}\" \
             data-incidents=\"{}\" data-fatalities=\"{}\"><title>{}: {}, {}</title></rect>",
            base - bh,
            b.incidents,
            b.fatalities,
            escape(&b.label),
            escape(&plural(b.incidents, one_i, many_i)),
            escape(&plural(b.fatalities, one_f, many_f)),
        );
    }
    s.push_str("</g>");
    // The fatality line through the bars' centres.
    let pts: Vec<String> = bars
        .iter()
        .enumerate()
        .map(|(i, b)| {
            format!(
                "{:.1},{:.1}",
                LEFT + band * (i as f64 + 0.5),
                base - ph * b.fatalities as f64 / max_f as f64
            )
        })
        .collect();
    let _ = write!(
        s,
        "<polyline class=\"fatalities\" points=\"{}\" fill=\"none\" stroke=\"{LINE}\" stroke-width=\"2.5\" stroke-linejoin=\"round\"/>",
        pts.join(" ")
    );
    // At most one label per 75 units of width (eight on the dashboard), the last always.
    let most = ((pw / 75.0).floor() as usize).clamp(2, 8);
    let step = n.div_ceil(most).max(1);
    s.push_str("<g class=\"labels\">");
    for (i, b) in bars.iter().enumerate() {
        if i % step != 0 && i != n - 1 {
            continue;
        }
        if i != n - 1 && n - 1 - i < step {
            continue; // too close to the last label
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{INK}\">{}</text>",
            LEFT + band * (i as f64 + 0.5),
            base + 16.0,
            escape(&b.label)
        );
    }
    s.push_str("</g></svg>");
    s
}

/// A small line of a country's forecast rank over the years (rank 1, the highest risk, at the
/// top), with the latest rank written at its end. With no point it says there is no forecast.
pub fn rank_sparkline_svg(title: &str, points: &[RankPoint]) -> String {
    const SW: f64 = 180.0;
    const SH: f64 = 44.0;
    const PAD: f64 = 6.0;
    const TEXT_W: f64 = 40.0;
    let desc = match (points.first(), points.last()) {
        (Some(a), Some(b)) if points.len() > 1 => format!(
            "Rank {} in {}, rank {} in {} ({} forecasts; rank 1 is the highest risk).",
            a.rank,
            a.year,
            b.rank,
            b.year,
            points.len()
        ),
        (Some(b), _) => format!(
            "Rank {} in {} (one forecast; rank 1 is the highest risk).",
            b.rank, b.year
        ),
        _ => "No forecast ranks this country.".to_string(),
    };
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart sparkline\" role=\"img\" \
         aria-labelledby=\"rank-title rank-desc\" viewBox=\"0 0 {SW} {SH}\" width=\"{SW}\" height=\"{SH}\" font-family=\"{LATIN_FONTS}\" font-size=\"11\">\
         <title id=\"rank-title\">{}</title><desc id=\"rank-desc\">{}</desc>",
        escape(title),
        escape(&desc)
    );
    let Some(last) = points.last() else {
        let _ = write!(
            s,
            "<text x=\"{PAD}\" y=\"{:.1}\" fill=\"{INK}\">no forecast</text></svg>",
            SH / 2.0 + 4.0
        );
        return s;
    };
    let lo = points.iter().map(|p| p.rank).min().unwrap_or(1);
    let hi = points.iter().map(|p| p.rank).max().unwrap_or(1);
    let span = f64::from((hi - lo).max(1));
    let pw = SW - 2.0 * PAD - TEXT_W;
    let dx = if points.len() > 1 {
        pw / (points.len() - 1) as f64
    } else {
        0.0
    };
    let xy = |i: usize, p: &RankPoint| {
        let x = PAD + dx * i as f64;
        // Rank `lo` (the highest risk seen) at the top.
        let y = PAD + (SH - 2.0 * PAD) * f64::from(p.rank - lo) / span;
        (x, if hi == lo { SH / 2.0 } else { y })
    };
    let pts: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (x, y) = xy(i, p);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    let _ = write!(
        s,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"{BAR_FILL}\" stroke-width=\"1.5\"/>",
        pts.join(" ")
    );
    for (i, p) in points.iter().enumerate() {
        let (x, y) = xy(i, p);
        let _ = write!(
            s,
            "<circle class=\"point\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"2.5\" fill=\"{}\" data-rank=\"{}\" data-year=\"{}\"><title>{}: rank {}</title></circle>",
            if i + 1 == points.len() { LINE } else { BAR_FILL },
            p.rank,
            p.year,
            p.year,
            p.rank
        );
    }
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{INK}\">#{}</text></svg>",
        SW - TEXT_W + 2.0,
        SH / 2.0 + 4.0,
        last.rank
    );
    s
}

/// One incident on a map.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MapPoint {
    /// WGS84 latitude.
    pub lat: f64,
    /// WGS84 longitude.
    pub lon: f64,
    /// Best estimate of deaths.
    pub fatalities: u64,
    /// Whether it is verified.
    pub verified: bool,
}

/// What a map frames and names: the situation's country and first-level areas.
#[derive(Debug, Clone, Copy)]
pub struct MapArea<'a> {
    /// ISO alpha-3 code of the country (drawn darker than its neighbours).
    pub country: &'a str,
    /// Its first-level areas, named on the map at their seat.
    pub admin1: &'a [String],
    /// Width of the frame (SVG user units).
    pub width: f64,
    /// Height of the frame.
    pub height: f64,
    /// The font families of its names, most wanted first ([`fonts_for`]).
    pub fonts: &'a str,
}

const LAND: &str = "#eef0ea";
const LAND_HOME: &str = "#dfe4d8";
const BORDER: &str = "#7c8590";
const WATER: &str = "#e6eef5";
const DOT: &str = "#b42318";
/// The situation's own first-level areas.
const AREA: &str = "#cbd5c0";

/// The incidents as dots over the country outlines (Natural Earth 1:50m, from `tocsin-geo`),
/// with the area's first-level areas named at their seat. The frame holds every point and
/// named area (the whole country when there is neither), equirectangular, corrected for
/// latitude; dark dots are verified, a dot's area grows with its fatalities. `title` names it
/// to assistive technology; the description counts the points.
pub fn map_svg(title: &str, points: &[MapPoint], area: &MapArea<'_>) -> String {
    let g = tocsin_geo::Gazetteer::global();
    let (w, h) = (area.width.max(60.0), area.height.max(40.0));
    let pad = 10.0;
    let valid: Vec<&MapPoint> = points
        .iter()
        .filter(|p| p.lat.is_finite() && p.lon.is_finite() && p.lat.abs() <= 90.0)
        .collect();
    let seats: Vec<(&str, f64, f64)> = area
        .admin1
        .iter()
        .filter_map(|a| {
            g.admin1_seat(area.country, a)
                .map(|(lat, lon)| (a.as_str(), lat, lon))
        })
        .collect();
    // The situation's areas by the gazetteer's names (what the basemap joined them by), with
    // the name the situation gives each.
    let wanted: Vec<(&str, String)> = area
        .admin1
        .iter()
        .map(|a| {
            let canonical = match g.admin1_named(area.country, a) {
                tocsin_geo::Admin1Match::Found(n) => n.to_string(),
                tocsin_geo::Admin1Match::Unknown { .. } => a.clone(),
            };
            (a.as_str(), canonical)
        })
        .collect();
    let which = |p: &tocsin_geo::basemap::Admin1Piece| -> Option<&str> {
        if p.country != area.country {
            return None;
        }
        wanted
            .iter()
            .find(|(given, canonical)| {
                p.a1.as_deref() == Some(canonical.as_str())
                    || p.name.eq_ignore_ascii_case(given)
                    || p.name.eq_ignore_ascii_case(canonical)
            })
            .map(|(given, _)| *given)
    };
    let mut frame: Option<[f64; 4]> = None;
    fn grow(frame: &mut Option<[f64; 4]>, lon: f64, lat: f64) {
        let b = frame.get_or_insert([lon, lat, lon, lat]);
        b[0] = b[0].min(lon);
        b[1] = b[1].min(lat);
        b[2] = b[2].max(lon);
        b[3] = b[3].max(lat);
    }
    for p in &valid {
        grow(&mut frame, p.lon, p.lat);
    }
    for (_, lat, lon) in &seats {
        grow(&mut frame, *lon, *lat);
    }
    // The situation's areas whole: their shapes around what is framed so far.
    if !wanted.is_empty() {
        let around = match frame {
            Some([w0, s0, e0, n0]) => [w0 - 4.0, s0 - 4.0, e0 + 4.0, n0 + 4.0],
            None => country_bounds(g, area.country).unwrap_or([-1.0, -1.0, 1.0, 1.0]),
        };
        for p in tocsin_geo::basemap::admin1_within(around) {
            if which(&p).is_some() {
                for [lon, lat] in p.lines.iter().flatten() {
                    grow(&mut frame, *lon, *lat);
                }
            }
        }
    }
    let [mut west, mut south, mut east, mut north] = match frame {
        Some(b) => b,
        None => country_bounds(g, area.country).unwrap_or([-1.0, -1.0, 1.0, 1.0]),
    };
    // At least two degrees across, with a fifth more around.
    for (lo, hi) in [(&mut west, &mut east), (&mut south, &mut north)] {
        let span = (*hi - *lo).max(2.0) * 1.2;
        let mid = (*hi + *lo) / 2.0;
        *lo = mid - span / 2.0;
        *hi = mid + span / 2.0;
    }
    let k = ((south + north) / 2.0).to_radians().cos().max(0.2);
    let scale = ((w - 2.0 * pad) / ((east - west) * k)).min((h - 2.0 * pad) / (north - south));
    let (cx, cy) = ((west + east) / 2.0, (south + north) / 2.0);
    let px = |lon: f64| w / 2.0 + (lon - cx) * k * scale;
    let py = |lat: f64| h / 2.0 - (lat - cy) * scale;
    // What the frame shows, in degrees.
    let view = [
        cx - w / 2.0 / (k * scale),
        cy - h / 2.0 / scale,
        cx + w / 2.0 / (k * scale),
        cy + h / 2.0 / scale,
    ];
    let verified = valid.iter().filter(|p| p.verified).count();
    let desc = format!(
        "{} on the map of {}, {} of them verified.",
        plural(valid.len() as u64, "incident", "incidents"),
        if area.admin1.is_empty() {
            area.country.to_string()
        } else {
            format!("{} ({})", area.admin1.join(", "), area.country)
        },
        verified
    );
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart map\" role=\"img\" \
         aria-labelledby=\"map-title map-desc\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" font-family=\"{}\" font-size=\"10\">\
         <title id=\"map-title\">{}</title><desc id=\"map-desc\">{}</desc>\
         <defs><clipPath id=\"map-frame\"><rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\"/></clipPath></defs>\
         <rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"{WATER}\"/><g clip-path=\"url(#map-frame)\">",
        escape(area.fonts),
        escape(title),
        escape(&desc)
    );
    // Outlines: the neighbours, then the country itself on top.
    let outlines = g.outlines_within(view);
    let mut border = String::new();
    for home in [false, true] {
        let mut d = String::new();
        for (iso3, rings) in outlines
            .iter()
            .filter(|(c, _)| (*c == area.country) == home)
        {
            let _ = iso3;
            for ring in rings {
                ring_path(&mut d, ring, &px, &py);
            }
        }
        if d.is_empty() {
            continue;
        }
        let _ = write!(
            s,
            "<path class=\"{}\" d=\"{d}\" fill=\"{}\" fill-rule=\"evenodd\" stroke=\"{BORDER}\" stroke-width=\"{}\" stroke-linejoin=\"round\"/>",
            if home { "country" } else { "neighbours" },
            if home { LAND_HOME } else { LAND },
            if home { 1.4 } else { 0.8 }
        );
        if home {
            border = d;
        }
    }
    // First-level areas (Natural Earth 1:10m, from the offline basemap): the situation's own
    // tinted and outlined, the country's other boundaries dashed, the country's border again
    // on top.
    let pieces = tocsin_geo::basemap::admin1_within(view);
    let mut mine: Vec<(&str, String, String)> = Vec::new();
    let mut others = String::new();
    for p in pieces.iter().filter(|p| p.country == area.country) {
        match which(p) {
            Some(given) => {
                let at = match mine.iter().position(|(n, _, _)| *n == given) {
                    Some(i) => i,
                    None => {
                        mine.push((given, String::new(), String::new()));
                        mine.len() - 1
                    }
                };
                for r in &p.rings {
                    ring_path(&mut mine[at].1, r, &px, &py);
                }
                for l in &p.lines {
                    line_path(&mut mine[at].2, l, &px, &py);
                }
            }
            None => {
                for l in &p.lines {
                    line_path(&mut others, l, &px, &py);
                }
            }
        }
    }
    if !others.is_empty() {
        let _ = write!(
            s,
            "<path class=\"admin1\" d=\"{others}\" fill=\"none\" stroke=\"{BORDER}\" stroke-width=\"0.5\" stroke-dasharray=\"2 1.5\"/>"
        );
    }
    for (name, fill, _) in &mine {
        let _ = write!(
            s,
            "<path class=\"area\" data-name=\"{}\" d=\"{fill}\" fill=\"{AREA}\" fill-rule=\"evenodd\" stroke=\"none\"/>",
            escape(name)
        );
    }
    for (name, _, lines) in &mine {
        let _ = write!(
            s,
            "<path class=\"area-outline\" data-name=\"{}\" d=\"{lines}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1\" stroke-linejoin=\"round\"/>",
            escape(name)
        );
    }
    if !mine.is_empty() && !border.is_empty() {
        let _ = write!(
            s,
            "<path class=\"border\" d=\"{border}\" fill=\"none\" stroke=\"{BORDER}\" stroke-width=\"1.4\" stroke-linejoin=\"round\"/>"
        );
    }
    // Unverified first, so verified dots are drawn on top.
    let mut sorted = valid.clone();
    sorted.sort_by_key(|p| p.verified);
    s.push_str("<g class=\"incidents\">");
    for p in sorted {
        let r = 2.2 + (p.fatalities as f64).sqrt().min(12.0) * 0.7;
        let (fill, opacity) = if p.verified {
            (DOT, 0.85)
        } else {
            ("#f2b8b5", 0.9)
        };
        let _ = write!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r:.1}\" fill=\"{fill}\" fill-opacity=\"{opacity}\" stroke=\"#7a1010\" stroke-width=\"0.6\"/>",
            px(p.lon),
            py(p.lat)
        );
    }
    s.push_str("</g><g class=\"areas\">");
    // Each area named at its seat, else in the middle of its shape.
    let mut names: Vec<(&str, f64, f64)> = seats.clone();
    for (name, _, lines) in &mine {
        if names.iter().any(|(n, _, _)| n == name) {
            continue;
        }
        let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
        for p in pieces.iter().filter(|p| which(p) == Some(*name)) {
            for [lon, lat] in p.lines.iter().flatten() {
                lo = [lo[0].min(*lon), lo[1].min(*lat)];
                hi = [hi[0].max(*lon), hi[1].max(*lat)];
            }
        }
        if !lines.is_empty() && lo[0] <= hi[0] {
            names.push((name, (lo[1] + hi[1]) / 2.0, (lo[0] + hi[0]) / 2.0));
        }
    }
    for (name, lat, lon) in &names {
        let (x, y) = (px(*lon), py(*lat));
        let anchor = if x > w * 0.75 {
            "end"
        } else if x < w * 0.25 {
            "start"
        } else {
            "middle"
        };
        let _ = write!(
            s,
            "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" fill=\"{INK}\" font-weight=\"bold\" \
             stroke=\"#ffffff\" stroke-width=\"2.5\" paint-order=\"stroke\">{}</text>",
            y - 6.0,
            escape(name)
        );
    }
    s.push_str("</g></g>");
    let _ = write!(
        s,
        "<rect x=\"0.5\" y=\"0.5\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"{BORDER}\" stroke-width=\"1\"/></svg>",
        w - 1.0,
        h - 1.0
    );
    s
}

/// A polyline as path commands, leaving out points less than half a unit from the last one
/// kept.
fn line_path(
    d: &mut String,
    line: &[[f64; 2]],
    px: &impl Fn(f64) -> f64,
    py: &impl Fn(f64) -> f64,
) {
    let mut last: Option<(f64, f64)> = None;
    for (i, [lon, lat]) in line.iter().enumerate() {
        let (x, y) = (px(*lon), py(*lat));
        if let Some((lx, ly)) = last {
            if (x - lx).abs() < 0.5 && (y - ly).abs() < 0.5 && i + 1 != line.len() {
                continue;
            }
        }
        let _ = write!(d, "{}{x:.1} {y:.1}", if last.is_none() { "M" } else { "L" });
        last = Some((x, y));
    }
}

/// West, south, east, north of a country's outlines.
fn country_bounds(g: &tocsin_geo::Gazetteer, iso3: &str) -> Option<[f64; 4]> {
    let mut b: Option<[f64; 4]> = None;
    for (c, rings) in g.outlines_within([-540.0, -90.0, 540.0, 90.0]) {
        if c != iso3 {
            continue;
        }
        for [x, y] in rings.iter().take(1).flatten() {
            let v = b.get_or_insert([*x, *y, *x, *y]);
            v[0] = v[0].min(*x);
            v[1] = v[1].min(*y);
            v[2] = v[2].max(*x);
            v[3] = v[3].max(*y);
        }
    }
    b
}

/// A ring as path commands, leaving out points less than half a unit from the last one kept.
fn ring_path(
    d: &mut String,
    ring: &[[f64; 2]],
    px: &impl Fn(f64) -> f64,
    py: &impl Fn(f64) -> f64,
) {
    let mut last: Option<(f64, f64)> = None;
    let mut n = 0;
    for [lon, lat] in ring {
        let (x, y) = (px(*lon), py(*lat));
        if let Some((lx, ly)) = last {
            if (x - lx).abs() < 0.5 && (y - ly).abs() < 0.5 {
                continue;
            }
        }
        let _ = write!(d, "{}{x:.1} {y:.1}", if n == 0 { "M" } else { "L" });
        last = Some((x, y));
        n += 1;
    }
    if n > 0 {
        d.push('Z');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::Event;
    use quick_xml::Reader;

    /// An element's name and attributes.
    type Element = (String, Vec<(String, String)>);

    /// Every element (name, attributes) and each run of text (entities resolved), checking
    /// the SVG is well-formed XML.
    fn parse(svg: &str) -> (Vec<Element>, Vec<String>) {
        let mut r = Reader::from_str(svg);
        let (mut els, mut texts) = (vec![], vec![]);
        let mut run: Option<String> = None;
        loop {
            let ev = r.read_event().expect("well-formed XML");
            match &ev {
                Event::Text(t) => {
                    run.get_or_insert_with(String::new)
                        .push_str(&t.decode().expect("text"));
                    continue;
                }
                Event::GeneralRef(g) => {
                    let c = match g.resolve_char_ref().expect("char ref") {
                        Some(c) => c.to_string(),
                        None => match &*g.decode().expect("ref") {
                            "amp" => "&".into(),
                            "lt" => "<".into(),
                            "gt" => ">".into(),
                            "quot" => "\"".into(),
                            "apos" => "'".into(),
                            other => panic!("unknown entity {other}"),
                        },
                    };
                    run.get_or_insert_with(String::new).push_str(&c);
                    continue;
                }
                _ => {}
            }
            if let Some(t) = run.take() {
                texts.push(t);
            }
            match ev {
                Event::Start(e) | Event::Empty(e) => {
                    let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                    let attrs = e
                        .attributes()
                        .map(|a| {
                            let a = a.expect("attribute");
                            (
                                String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                    .expect("value")
                                    .into_owned(),
                            )
                        })
                        .collect();
                    els.push((name, attrs));
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert!(!els.is_empty());
        (els, texts)
    }

    fn attr<'a>(e: &'a Element, k: &str) -> Option<&'a str> {
        e.1.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    fn bars() -> Vec<TrendBar> {
        [(3, 1), (0, 0), (10, 25), (4, 2)]
            .iter()
            .enumerate()
            .map(|(i, (n, f))| TrendBar {
                label: format!("2025-06-{:02}", 2 + 7 * i),
                incidents: *n,
                fatalities: *f,
            })
            .collect()
    }

    #[test]
    fn the_trend_has_one_bar_per_period_with_its_values_and_heights_in_proportion() {
        let svg = trend_svg("Incidents & fatalities per week", &bars());
        let (els, texts) = parse(&svg);
        let rects: Vec<_> = els
            .iter()
            .filter(|e| e.0 == "rect" && attr(e, "class") == Some("bar"))
            .collect();
        assert_eq!(rects.len(), 4);
        let values: Vec<(u64, u64)> = rects
            .iter()
            .map(|e| {
                (
                    attr(e, "data-incidents").unwrap().parse().unwrap(),
                    attr(e, "data-fatalities").unwrap().parse().unwrap(),
                )
            })
            .collect();
        assert_eq!(values, vec![(3, 1), (0, 0), (10, 25), (4, 2)]);
        let h = |i: usize| -> f64 { attr(rects[i], "height").unwrap().parse().unwrap() };
        // Axis maximum 10: the bar of 10 fills the plot, the one of 3 is 3/10 of it.
        assert!((h(0) / h(2) - 0.3).abs() < 0.01, "{} {}", h(0), h(2));
        assert_eq!(h(1), 0.0);
        // The fatality line has a point per bar.
        let line = els.iter().find(|e| e.0 == "polyline").unwrap();
        assert_eq!(attr(line, "points").unwrap().split(' ').count(), 4);
        // Title and text alternative, escaped and readable.
        assert!(texts.contains(&"Incidents & fatalities per week".to_string()));
        assert!(svg.contains("Incidents &amp; fatalities"));
        let desc = texts
            .iter()
            .find(|t| t.starts_with("17 incidents"))
            .unwrap();
        assert!(desc.contains("28 fatalities"), "{desc}");
        assert!(desc.contains("most incidents in 2025-06-16 (10 incidents, 25 fatalities)"));
        assert!(texts.contains(&"2025-06-16: 10 incidents, 25 fatalities".to_string()));
        let root = &els[0];
        assert_eq!(attr(root, "role"), Some("img"));
        assert_eq!(
            attr(root, "aria-labelledby"),
            Some("trend-title trend-desc")
        );
        // Axis ticks: 0, 5, 10 on the left; 0, 25, 50 on the right (the nice ceiling of 25).
        assert!(texts.contains(&"10".to_string()));
        assert!(texts.contains(&"50".to_string()));
    }

    #[test]
    fn the_same_trend_draws_the_same_bytes() {
        assert_eq!(trend_svg("t", &bars()), trend_svg("t", &bars()));
    }

    #[test]
    fn an_empty_trend_says_so_and_a_hostile_label_stays_text() {
        let svg = trend_svg("Nothing", &[]);
        let (els, texts) = parse(&svg);
        assert!(!els.iter().any(|e| attr(e, "class") == Some("bar")));
        assert!(texts.iter().any(|t| t == "No incident in this period"));
        let svg = trend_svg(
            "<script>alert(1)</script>",
            &[TrendBar {
                label: "\"><script>".into(),
                incidents: 1,
                fatalities: 0,
            }],
        );
        let (els, _) = parse(&svg);
        assert!(!els.iter().any(|e| e.0 == "script"));
    }

    #[test]
    fn many_periods_get_at_most_nine_axis_labels() {
        let many: Vec<TrendBar> = (0..52)
            .map(|i| TrendBar {
                label: format!("w{i}"),
                incidents: i,
                fatalities: 0,
            })
            .collect();
        let (els, _) = parse(&trend_svg("t", &many));
        assert_eq!(
            els.iter()
                .filter(|e| attr(e, "class") == Some("bar"))
                .count(),
            52
        );
        let labels = els
            .iter()
            .skip_while(|e| attr(e, "class") != Some("labels"))
            .filter(|e| e.0 == "text")
            .count();
        assert!((2..=9).contains(&labels), "{labels}");
    }

    #[test]
    fn the_sparkline_puts_the_highest_risk_at_the_top_and_ends_with_the_latest_rank() {
        let pts = [
            RankPoint {
                year: 2023,
                rank: 12,
            },
            RankPoint {
                year: 2024,
                rank: 5,
            },
            RankPoint {
                year: 2025,
                rank: 8,
            },
        ];
        let svg = rank_sparkline_svg("Forecast rank", &pts);
        let (els, texts) = parse(&svg);
        let circles: Vec<_> = els.iter().filter(|e| e.0 == "circle").collect();
        assert_eq!(circles.len(), 3);
        let y = |i: usize| -> f64 { attr(circles[i], "cy").unwrap().parse().unwrap() };
        assert!(y(1) < y(2) && y(2) < y(0), "rank 5 above 8 above 12");
        assert!(texts.contains(&"#8".to_string()));
        assert!(texts
            .iter()
            .any(|t| t
                == "Rank 12 in 2023, rank 8 in 2025 (3 forecasts; rank 1 is the highest risk)."));
        let (_, texts) = parse(&rank_sparkline_svg("Forecast rank", &[]));
        assert!(texts.contains(&"no forecast".to_string()));
    }

    #[test]
    fn the_map_draws_the_country_its_neighbours_its_areas_and_every_point_inside() {
        let pts = vec![
            MapPoint {
                lat: 5.75,
                lon: 20.67,
                fatalities: 10,
                verified: true,
            },
            MapPoint {
                lat: 6.1,
                lon: 21.0,
                fatalities: 0,
                verified: false,
            },
        ];
        let areas = vec!["Ouaka".to_string(), "Haute-Kotto".to_string()];
        let area = MapArea {
            country: "CAF",
            admin1: &areas,
            width: 400.0,
            height: 260.0,
            fonts: LATIN_FONTS,
        };
        let svg = map_svg("Map of incidents", &pts, &area);
        let (els, texts) = parse(&svg);
        let path = |class: &str| {
            els.iter()
                .find(|e| e.0 == "path" && attr(e, "class") == Some(class))
                .and_then(|e| attr(e, "d"))
                .unwrap_or_else(|| panic!("no {class} outline: {svg}"))
                .to_string()
        };
        // The Central African Republic's outline, and its neighbours' around it.
        assert!(path("country").matches('L').count() > 20);
        assert!(path("neighbours").starts_with('M'));
        // The areas named, the points drawn inside the frame, the text alternative.
        assert!(texts.contains(&"Ouaka".to_string()), "{texts:?}");
        assert!(texts.contains(&"Haute-Kotto".to_string()), "{texts:?}");
        let circles: Vec<_> = els.iter().filter(|e| e.0 == "circle").collect();
        assert_eq!(circles.len(), 2);
        for c in circles {
            let v = |k| -> f64 { attr(c, k).unwrap().parse().unwrap() };
            assert!((0.0..=400.0).contains(&v("cx")) && (0.0..=260.0).contains(&v("cy")));
        }
        assert!(texts.iter().any(
            |t| t == "2 incidents on the map of Ouaka, Haute-Kotto (CAF), 1 of them verified."
        ));
        // No point and no area: the whole country.
        let none = MapArea {
            country: "CAF",
            admin1: &[],
            width: 400.0,
            height: 260.0,
            fonts: LATIN_FONTS,
        };
        let (els, _) = parse(&map_svg("m", &[], &none));
        assert!(els.iter().any(|e| attr(e, "class") == Some("country")));
    }

    #[test]
    fn a_map_of_two_areas_draws_their_outlines_and_names_over_the_countrys_boundaries() {
        let areas = vec!["Ouham".to_string(), "Ouham-Pendé".to_string()];
        let area = MapArea {
            country: "CAF",
            admin1: &areas,
            width: 400.0,
            height: 260.0,
            fonts: LATIN_FONTS,
        };
        // One incident only, in Ouham-Pendé: the frame still holds both areas whole.
        let pts = [MapPoint {
            lat: 6.32,
            lon: 16.38,
            fatalities: 3,
            verified: true,
        }];
        let svg = map_svg("Map", &pts, &area);
        let (els, texts) = parse(&svg);
        for name in ["Ouham", "Ouham-Pendé"] {
            for class in ["area", "area-outline"] {
                let e = els
                    .iter()
                    .find(|e| attr(e, "class") == Some(class) && attr(e, "data-name") == Some(name))
                    .unwrap_or_else(|| panic!("no {class} for {name}: {svg}"));
                let d = attr(e, "d").unwrap();
                assert!(d.matches('L').count() > 20, "{name} {class}: {d}");
                // Drawn inside the frame (at most the buffer of a tile beyond it).
                let xs: Vec<f64> = d
                    .split(['M', 'L', 'Z'])
                    .filter_map(|p| p.split(' ').next()?.parse().ok())
                    .collect();
                assert!(xs.iter().any(|x| (0.0..=400.0).contains(x)), "{name}");
            }
            assert!(texts.contains(&name.to_string()), "{name}: {texts:?}");
        }
        // The country's other first-level boundaries, dashed.
        let others = els
            .iter()
            .find(|e| attr(e, "class") == Some("admin1"))
            .unwrap_or_else(|| panic!("no other boundaries: {svg}"));
        assert!(attr(others, "stroke-dasharray").is_some());
        // Ouham lies east of Ouham-Pendé: its outline's points are further right on average.
        let mean_x = |name: &str| {
            let e = els
                .iter()
                .find(|e| attr(e, "class") == Some("area") && attr(e, "data-name") == Some(name))
                .unwrap();
            let xs: Vec<f64> = attr(e, "d")
                .unwrap()
                .split(['M', 'L', 'Z'])
                .filter_map(|p| p.split(' ').next()?.parse().ok())
                .collect();
            xs.iter().sum::<f64>() / xs.len() as f64
        };
        assert!(mean_x("Ouham") > mean_x("Ouham-Pendé"));
    }

    #[test]
    fn arabic_charts_name_the_arabic_font_first() {
        let ar = TrendStyle {
            fonts: fonts_for(tocsin_domain::Lang::Ar),
            ..TrendStyle::ENGLISH
        };
        let (els, _) = parse(&trend_svg_in("t", &bars(), &ar));
        assert_eq!(
            attr(&els[0], "font-family").map(|f| f.split(',').next().unwrap()),
            Some("Noto Sans Arabic")
        );
        let area = MapArea {
            country: "CAF",
            admin1: &[],
            width: 400.0,
            height: 260.0,
            fonts: fonts_for(tocsin_domain::Lang::Ar),
        };
        let (els, _) = parse(&map_svg("m", &[], &area));
        assert!(attr(&els[0], "font-family")
            .unwrap()
            .starts_with("Noto Sans Arabic,"));
        for lang in [
            tocsin_domain::Lang::En,
            tocsin_domain::Lang::Fr,
            tocsin_domain::Lang::Sw,
        ] {
            assert!(fonts_for(lang).starts_with("Noto Sans,"));
        }
        let (els, _) = parse(&trend_svg("t", &bars()));
        assert_eq!(attr(&els[0], "font-family"), Some(LATIN_FONTS));
    }

    #[test]
    fn a_trend_in_other_words_says_them() {
        let fr = TrendStyle {
            width: 400.0,
            height: 230.0,
            incidents_axis: "Incidents (axe de gauche)",
            fatalities_axis: "Morts (axe de droite)",
            counts: ["incident", "incidents", "mort", "morts"],
            no_incident: "Aucun incident",
            summary: "{incidents} et {fatalities} du {from} au {to}",
            fonts: LATIN_FONTS,
        };
        let (els, texts) = parse(&trend_svg_in("Tendance", &bars(), &fr));
        assert_eq!(attr(&els[0], "width"), Some("400"));
        assert!(texts.contains(&"Morts (axe de droite)".to_string()));
        assert!(
            texts.contains(&"17 incidents et 28 morts du 2025-06-02 au 2025-06-23".to_string()),
            "{texts:?}"
        );
        let (_, texts) = parse(&trend_svg_in("Tendance", &[], &fr));
        assert!(texts.contains(&"Aucun incident".to_string()));
    }
}
