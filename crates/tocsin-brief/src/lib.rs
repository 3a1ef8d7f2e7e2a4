//! Briefs for decision-makers, laid out: a [`BriefContent`] (gathered and filtered by
//! `tocsin-app`) becomes a PDF of one to three pages, typeset in-process by Typst with the
//! fonts in `fonts/` embedded and subset (Arabic shaped and laid out right to left), or a
//! standalone HTML page with the same content (`dir="rtl"` for Arabic).
//!
//! The Typst template (`templates/brief.typ`) reads the brief as JSON from a virtual file,
//! so no text of the content is ever parsed as Typst markup. The HTML template
//! (`templates/brief.html`) is minijinja with HTML escaping.

pub mod labels;
mod world;

use serde::Serialize;
use tocsin_app::brief::BriefContent;
use tocsin_app::charts::{self, MapArea, TrendStyle};
use tocsin_domain::Lang;

/// The pictures' frame in a brief (SVG units; half the text width in the PDF).
const CHART_W: f64 = 400.0;
/// The trend's height.
const TREND_H: f64 = 230.0;
/// The map's height.
const MAP_H: f64 = 260.0;

/// Why a brief could not be laid out.
#[derive(Debug, thiserror::Error)]
pub enum BriefError {
    /// Typst refused the document (a bug of the template, never the content's fault).
    #[error("the brief could not be typeset: {0}")]
    Typeset(String),
    /// The HTML template failed.
    #[error("the brief could not be written as HTML: {0}")]
    Html(String),
}

/// The pictures of a brief as SVG, drawn by the situation dashboard's charts
/// ([`tocsin_app::charts`]) in the brief's words.
#[derive(Debug, Clone)]
pub struct Charts {
    /// Incidents and fatalities per week.
    pub trend: String,
    /// Where the incidents happened, over the country and area outlines.
    pub map: String,
}

impl Charts {
    /// The trend chart and map of `c`.
    pub fn of(c: &BriefContent) -> Charts {
        let l = labels::labels(c.lang);
        let style = TrendStyle {
            width: CHART_W,
            height: TREND_H,
            incidents_axis: l.incidents_axis,
            fatalities_axis: l.fatalities_axis,
            counts: l.counts,
            no_incident: l.no_incident,
            summary: l.trend_summary,
            fonts: charts::fonts_for(c.lang),
        };
        let area = MapArea {
            country: &c.situation.country,
            admin1: &c.situation.admin1,
            width: CHART_W,
            height: MAP_H,
            fonts: charts::fonts_for(c.lang),
        };
        Charts {
            trend: charts::trend_svg_in(l.trend, &c.trend, &style),
            map: charts::map_svg(l.map, &c.points, &area),
        }
    }
}

/// What the templates read: the content, its words in the brief's language, the pictures.
#[derive(Serialize)]
struct View<'a> {
    lang: &'static str,
    rtl: bool,
    fonts: [&'static str; 2],
    title: String,
    labels: &'static labels::Labels,
    audience: &'static str,
    c: &'a BriefContent,
    factors: Vec<serde_json::Value>,
    actions: Vec<serde_json::Value>,
    gaps: Vec<serde_json::Value>,
    legal: Vec<String>,
    warnings: Vec<serde_json::Value>,
    trend_svg: &'a str,
    map_svg: &'a str,
}

fn view<'a>(c: &'a BriefContent, charts: &'a Charts) -> View<'a> {
    let lang = c.lang;
    let l = labels::labels(lang);
    let factors = c
        .factors
        .iter()
        .map(|f| {
            serde_json::json!({
                "number": f.number.to_string(),
                "name": f.name,
                "level": labels::level(lang, f.level),
                "level_key": f.level.as_str(),
                "change": labels::change(lang, f.change),
                "previous": f.previous.map(|p| labels::level(lang, p)),
            })
        })
        .collect();
    let actions = c
        .open_actions
        .iter()
        .map(|a| {
            serde_json::json!({
                "measure": a.measure,
                "department": a.department,
                "status": labels::action_status(lang, a.status),
                "due": a.due_date.to_string(),
                "overdue": a.overdue,
            })
        })
        .collect();
    let gaps = c
        .gaps
        .iter()
        .map(|g| {
            serde_json::json!({
                "number": g.number.to_string(),
                "name": g.name,
                "level": labels::level(lang, g.level),
            })
        })
        .collect();
    let legal = c
        .legal
        .iter()
        .map(|q| {
            format!(
                "{} ({})",
                labels::qualification(lang, q.finding, q.crime),
                q.on
            )
        })
        .collect();
    let warnings = c
        .warnings
        .iter()
        .map(|w| {
            serde_json::json!({
                "found": w.found,
                "field": w.field,
                "term": w.term.label(),
            })
        })
        .collect();
    View {
        lang: lang.code(),
        rtl: lang == Lang::Ar,
        fonts: if lang == Lang::Ar {
            ["Noto Sans Arabic", "Noto Sans"]
        } else {
            ["Noto Sans", "Noto Sans Arabic"]
        },
        title: format!("{} — {}", l.brief, c.situation.name),
        labels: l,
        audience: labels::audience(lang, c.audience),
        c,
        factors,
        actions,
        gaps,
        legal,
        warnings,
        trend_svg: &charts.trend,
        map_svg: &charts.map,
    }
}

/// The brief as a PDF, with the built-in pictures.
pub fn pdf(c: &BriefContent) -> Result<Vec<u8>, BriefError> {
    pdf_with(c, &Charts::of(c))
}

/// The brief as a PDF with the given pictures.
pub fn pdf_with(c: &BriefContent, charts: &Charts) -> Result<Vec<u8>, BriefError> {
    let json = serde_json::to_vec(&view(c, charts))
        .map_err(|e| BriefError::Typeset(format!("the content as JSON: {e}")))?;
    world::typeset(json)
}

/// The brief as a standalone HTML page (styles and pictures inline), with the built-in
/// pictures.
pub fn html(c: &BriefContent) -> Result<String, BriefError> {
    html_with(c, &Charts::of(c))
}

/// The brief as a standalone HTML page with the given pictures.
pub fn html_with(c: &BriefContent, charts: &Charts) -> Result<String, BriefError> {
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_template("brief.html", include_str!("../templates/brief.html"))
        .map_err(|e| BriefError::Html(e.to_string()))?;
    env.get_template("brief.html")
        .and_then(|t| t.render(minijinja::Value::from_serialize(view(c, charts))))
        .map_err(|e| BriefError::Html(e.to_string()))
}

/// Typeset a tiny fixed document with the same fonts: the benchmark's baseline.
pub fn baseline_pdf() -> Result<Vec<u8>, BriefError> {
    world::typeset_source("#set text(font: \"Noto Sans\")\nHello.\n")
}
