//! A brief laid out from content made by hand, checked with poppler's tools as a reader's
//! PDF viewer would open it: pages, fonts embedded and subset, text in reading order.

mod sample;

use std::process::Command;
use tocsin_domain::{Lang, Term};

fn poppler(tool: &str, pdf: &[u8], extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("brief.pdf");
    std::fs::write(&path, pdf).unwrap();
    let mut c = Command::new(tool);
    c.args(extra).arg(&path);
    if tool == "pdftotext" {
        c.arg("-");
    }
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("{tool} (poppler-utils) must be installed: {e}"));
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// pdftotext's text without the directional marks it puts around right-to-left runs.
fn logical(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect()
}

fn pages(pdf: &[u8]) -> u32 {
    let info = poppler("pdfinfo", pdf, &[]);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count: {info}"))
}

#[test]
fn an_english_brief_is_one_to_three_pages_with_fonts_embedded_and_subset() {
    let pdf = tocsin_brief::pdf(&sample::content(Lang::En)).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let n = pages(&pdf);
    assert!((1..=3).contains(&n), "{n} pages");
    let text = poppler("pdftotext", &pdf, &["-layout"]);
    for want in [
        "Ouham-Pendé: north-west",
        "Risk factors",
        "Weakness of State structures",
        "Triggering factors",
        "Key verified incidents",
        "Recommended measures",
        "Preventive diplomacy",
        "Precedents",
        "Kenya 2008",
        "TLP:AMBER",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
    let fonts = poppler("pdffonts", &pdf, &[]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty(), "{fonts}");
    for row in rows {
        // name ... emb sub uni: every font embedded and subset (a `XXXXXX+` name prefix).
        let name = row.split_whitespace().next().unwrap();
        assert!(name.len() > 7 && &name[6..7] == "+", "not a subset: {row}");
        assert!(row.contains(" yes yes "), "not embedded and subset: {row}");
    }
}

#[test]
fn an_arabic_brief_extracts_in_logical_order() {
    let pdf = tocsin_brief::pdf(&sample::content(Lang::Ar)).unwrap();
    let n = pages(&pdf);
    assert!((1..=3).contains(&n), "{n} pages");
    let text = logical(&poppler("pdftotext", &pdf, &[]));
    // Headings and the risk-factor names as written (logical order), not reversed. (Poppler
    // reverses the two letters of a lam-alef ligature, although the PDF maps its glyph to
    // them in logical order, lam then alef: the phrases checked here have none.)
    for want in [
        "عوامل الخطر",
        "ضعف هياكل الدولة",
        "العوامل المحفزة",
        "النزاع المسلح أو غيرها من أشكال عدم",
        "أبرز الحوادث المؤكدة",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
        let reversed: String = want.chars().rev().collect();
        assert!(!text.contains(&reversed), "{want:?} extracted reversed");
    }
    let fonts = poppler("pdffonts", &pdf, &[]);
    assert!(fonts.contains("NotoSansArabic"), "{fonts}");
}

#[test]
fn an_arabic_briefs_charts_are_drawn_with_the_arabic_font() {
    // The pictures name the Arabic font first (a Latin font first left the Arabic words of
    // the legend as empty boxes), the brackets in the Latin font beside it.
    let c = sample::content(Lang::Ar);
    let charts = tocsin_brief::Charts::of(&c);
    for svg in [&charts.trend, &charts.map] {
        assert!(
            svg.contains("font-family=\"Noto Sans Arabic, Noto Sans,"),
            "{svg}"
        );
    }
    assert!(charts
        .trend
        .contains("<tspan font-family=\"Noto Sans, DejaVu Sans, sans-serif\">("));
    let en = tocsin_brief::Charts::of(&sample::content(Lang::En));
    assert!(en
        .trend
        .contains("font-family=\"Noto Sans, DejaVu Sans, sans-serif\""));
    // The legend's words are in the PDF's text as written: "المحور" (axis) is written only
    // there.
    let pdf = tocsin_brief::pdf_with(&c, &charts).unwrap();
    let text = logical(&poppler("pdftotext", &pdf, &[]));
    assert_eq!(text.matches("المحور").count(), 2, "{text}");
    for want in ["الحوادث", "الوفيات"] {
        let reversed: String = want.chars().rev().collect();
        assert!(!text.contains(&reversed), "{want:?} extracted reversed");
    }
}

#[test]
fn a_warning_shows_on_the_brief() {
    let mut c = sample::content(Lang::Fr);
    c.warnings.push(tocsin_app::brief::TermWarning {
        field: "summary".into(),
        term: Term::Genocide,
        found: "génocide".into(),
        at: 10,
    });
    let pdf = tocsin_brief::pdf(&c).unwrap();
    let text = poppler("pdftotext", &pdf, &[]);
    assert!(text.contains("Avertissement terminologique"), "{text}");
    assert!(text.contains("génocide"), "{text}");
    let html = tocsin_brief::html(&c).unwrap();
    assert!(html.contains("Avertissement terminologique"));
    assert!(html.contains("<html lang=\"fr\" dir=\"ltr\">"));
}

#[test]
fn the_html_brief_is_the_same_content_escaped_and_right_to_left_in_arabic() {
    let mut c = sample::content(Lang::Ar);
    c.situation.description = "<script>alert(1)</script>".into();
    let html = tocsin_brief::html(&c).unwrap();
    assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"));
    assert!(html.contains("ضعف هياكل الدولة"));
    assert!(html.contains("&lt;script&gt;"), "content is escaped");
    assert!(!html.contains("<script>"));
    assert!(html.contains("<svg"), "the charts are inline");
}
