use super::*;
use chrono::TimeZone;
use rand::{Rng, SeedableRng};

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, h, m, 0).unwrap()
}

fn gaz() -> &'static Gazetteer {
    Gazetteer::global()
}

const A: Uuid = Uuid::from_u128(1);
const B: Uuid = Uuid::from_u128(2);

fn report<'a>(text: &'a str, point: Option<(f64, f64)>, when: When, src: &'a [Uuid]) -> Item<'a> {
    Item {
        text,
        point,
        place: None,
        when,
        country: Some("COD"),
        sources: src,
    }
}

#[test]
fn a_name_in_three_scripts_and_spellings_is_one_term() {
    let m = Matcher::new(Some(gaz()));
    let keys = |s: &str| {
        m.prepare(&report(s, None, When::Unknown, &[]))
            .terms()
            .iter()
            .map(|t| t.key.clone())
            .collect::<Vec<_>>()
    };
    let latin = keys("attaque à Bunia");
    assert!(latin.contains(&"@bunia".to_string()), "{latin:?}");
    for other in [
        "هجوم في بونيا",
        "attack in Bounia",
        "нападение в Буния",
        "ATTACK IN BUNIA",
    ] {
        let k = keys(other);
        assert!(
            k.iter().any(|x| text::same_word(x, "@bunia")),
            "{other:?} gave {k:?}, expected a term equal to @bunia"
        );
    }
    // The gazetteer also places a report without a point by the name in its text.
    let mut sd = report("هجوم في الخرطوم", None, When::Unknown, &[]);
    sd.country = Some("SDN");
    let p = m.prepare(&sd);
    let (pt, by) = p.point();
    let (lat, lon) = pt.expect("placed by name");
    assert!(
        distance_km((lat, lon), (15.5518, 32.5324)) < 10.0,
        "{lat},{lon}"
    );
    assert_eq!(by, Some("Khartoum"));
    let en = m.prepare(&Item {
        country: Some("SDN"),
        ..report("attack in Khartoum", None, When::Unknown, &[])
    });
    assert_eq!(
        m.score(&p, &en).shared_terms.len(),
        2,
        "{:?} {:?}",
        p.terms(),
        en.terms()
    );
}

#[test]
fn diacritics_case_and_typos_agree() {
    let m = Matcher::new(None);
    let a = m.prepare(&report("Ndélé: écoles pillées", None, When::Unknown, &[]));
    let b = m.prepare(&report("NDELE ECOLES PILLEES", None, When::Unknown, &[]));
    let s = m.score(&a, &b);
    assert_eq!(
        s.shared_terms.len(),
        3,
        "{:?} {:?} {:?}",
        s.shared_terms,
        a.terms(),
        b.terms()
    );
    let c = m.prepare(&report(
        "Kisngani market attakced",
        None,
        When::Unknown,
        &[],
    ));
    let d = m.prepare(&report(
        "Kisangani market attacked",
        None,
        When::Unknown,
        &[],
    ));
    assert_eq!(m.score(&c, &d).shared_terms.len(), 3);
}

#[test]
fn score_is_explained_with_distance_time_and_terms() {
    let m = Matcher::new(Some(gaz()));
    let r = report(
        "CODECO militia attacked the market in Bunia, 12 killed",
        Some((1.5594, 30.2522)),
        When::Claimed(t(6, 0)),
        &[A],
    );
    let c = report(
        "Attaque de la milice CODECO au marché de Bunia, 12 morts",
        Some((1.5594 + 3.2 / 111.2, 30.2522)),
        When::Claimed(t(11, 0)),
        &[B],
    );
    let ranked = m.rank(&r, &[c]);
    let s = &ranked[0].1;
    assert!(
        s.explanation
            .starts_with("3.2 km, 5 h apart, 7 shared terms:"),
        "{}",
        s.explanation
    );
    for term in [
        "codeco", "militia", "attack", "market", "Bunia", "12", "killed",
    ] {
        assert!(
            s.shared_terms.iter().any(|x| x == term),
            "{term} in {:?}",
            s.shared_terms
        );
    }
    assert!(s.suggested, "{s:?}");
    assert!(!s.same_source);
}

#[test]
fn nearer_in_time_and_space_scores_higher() {
    let m = Matcher::new(Some(gaz()));
    let r = report(
        "attack on the market in Beni",
        Some((0.4915, 29.4731)),
        When::Claimed(t(8, 0)),
        &[A],
    );
    let near = report(
        "market attacked in Beni",
        Some((0.50, 29.48)),
        When::Claimed(t(9, 0)),
        &[B],
    );
    let far_time = report(
        "market attacked in Beni",
        Some((0.50, 29.48)),
        When::Claimed(t(8, 0) + chrono::Duration::days(4)),
        &[B],
    );
    let far_place = report(
        "market attacked in Beni",
        Some((1.5594, 30.2522)),
        When::Claimed(t(9, 0)),
        &[B],
    );
    let other_text = report(
        "peace meeting of elders",
        Some((0.50, 29.48)),
        When::Claimed(t(9, 0)),
        &[B],
    );
    let ranked = m.rank(&r, &[far_time, other_text, far_place, near]);
    assert_eq!(ranked[0].0, 3, "{ranked:?}");
    assert!(ranked[0].1.suggested);
    for (_, s) in &ranked[1..] {
        assert!(s.score < ranked[0].1.score);
        assert!(!s.suggested, "{s:?}");
    }
}

#[test]
fn same_source_never_corroborates_and_says_so() {
    let m = Matcher::new(Some(gaz()));
    let r = report(
        "attack on the market in Beni, 5 killed",
        Some((0.4915, 29.4731)),
        When::Claimed(t(8, 0)),
        &[A],
    );
    let same = report(
        "attack on the market in Beni, 5 killed",
        Some((0.4915, 29.4731)),
        When::Claimed(t(8, 0)),
        &[A],
    );
    let ranked = m.rank(&r, &[same]);
    let s = &ranked[0].1;
    assert!(s.score > 0.9);
    assert!(s.same_source);
    assert!(!s.suggested);
    assert!(
        s.explanation
            .contains("same source: not independent corroboration"),
        "{}",
        s.explanation
    );
    // An incident whose reports came from that source and another is independent.
    let both = [A, B];
    let inc = report(
        "attack on the market in Beni",
        Some((0.4915, 29.4731)),
        When::Claimed(t(8, 0)),
        &both,
    );
    let s = &m.rank(&r, &[inc])[0].1;
    assert!(!s.same_source && s.suggested, "{s:?}");
    // Without a known source, never "same source".
    let anon = report(
        "attack on the market in Beni",
        None,
        When::Claimed(t(8, 0)),
        &[],
    );
    assert!(!m.rank(&r, &[anon])[0].1.same_source);
}

#[test]
fn missing_place_and_time_lower_the_score_and_are_said() {
    let m = Matcher::new(None);
    let full = report(
        "armed men burned houses",
        Some((1.0, 30.0)),
        When::Claimed(t(8, 0)),
        &[A],
    );
    let c = report(
        "armed men burned houses",
        Some((1.0, 30.0)),
        When::Claimed(t(8, 0)),
        &[B],
    );
    let no_place = report(
        "armed men burned houses",
        None,
        When::Claimed(t(8, 0)),
        &[B],
    );
    let no_time = report(
        "armed men burned houses",
        Some((1.0, 30.0)),
        When::Unknown,
        &[B],
    );
    let r = m.rank(&full, &[c, no_place, no_time]);
    let by = |i: usize| r.iter().find(|x| x.0 == i).unwrap().1.clone();
    assert!(by(0).score > by(1).score && by(0).score > by(2).score);
    assert!(
        by(1).explanation.starts_with("no place given,"),
        "{}",
        by(1).explanation
    );
    assert!(
        by(2).explanation.contains("no time given"),
        "{}",
        by(2).explanation
    );
    assert_eq!(by(1).distance_km, None);
    assert_eq!(by(2).hours_apart, None);
}

#[test]
fn an_incident_day_contains_the_report_time() {
    let m = Matcher::new(Some(gaz()));
    let r = report(
        "attaque à Bria, 3 morts",
        Some((6.5463, 21.9871)),
        When::Claimed(t(15, 0)),
        &[A],
    );
    let inc = Item {
        text: "Ex-Seleka fighters attacked civilians; 3 killed",
        point: Some((6.5463, 21.9871)),
        place: Some("Bria"),
        when: When::incident(NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(), 1),
        country: Some("CAF"),
        sources: &[],
    };
    let s = &m.rank(&r, &[inc])[0].1;
    assert_eq!(s.hours_apart, Some(0.0));
    assert!(
        s.explanation.contains("on the incident's date"),
        "{}",
        s.explanation
    );
    assert!(
        s.shared_terms
            .iter()
            .any(|x| x.eq_ignore_ascii_case("bria")),
        "{:?}",
        s.shared_terms
    );
    assert!(s.suggested, "{s:?}");
}

#[test]
fn arbitrary_text_never_panics() {
    let m = Matcher::new(Some(gaz()));
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let pool: Vec<char> = "aAéÉ ''’-.,;:!?0123456789ßæøłıبونياالخرطومБунияΩ한字\u{0301}\u{0640}\u{200D}\u{FEFF}\u{1F600}\t\n\r\0"
        .chars()
        .collect();
    let base = m.prepare(&report(
        "attack in Bunia",
        Some((1.5, 30.2)),
        When::Claimed(t(1, 0)),
        &[A],
    ));
    for _ in 0..2000 {
        let len = rng.gen_range(0..60);
        let s: String = (0..len)
            .map(|_| {
                if rng.gen_bool(0.2) {
                    char::from_u32(rng.gen_range(0..0x11_0000)).unwrap_or('x')
                } else {
                    pool[rng.gen_range(0..pool.len())]
                }
            })
            .collect();
        let p = (rng.gen_range(-1e3..1e3), rng.gen_range(-1e3..1e3));
        let it = report(&s, Some(p), When::Unknown, &[]);
        let sc = m.score(&base, &m.prepare(&it));
        assert!(
            sc.score.is_finite() && (0.0..=1.0).contains(&sc.score),
            "{s:?}: {sc:?}"
        );
        let _ = m.score(&m.prepare(&it), &base);
    }
    let nan = report("x", Some((f64::NAN, f64::INFINITY)), When::Unknown, &[]);
    assert!(m.score(&base, &m.prepare(&nan)).score.is_finite());
}

#[test]
fn streams_are_reproducible_and_labelled() {
    let spec = synth::StreamSpec {
        events: 20,
        days: 10,
        unrelated: 10,
    };
    let a = synth::stream(5, spec);
    let b = synth::stream(5, spec);
    assert_eq!(a.reports.len(), b.reports.len());
    assert!(a
        .reports
        .iter()
        .zip(&b.reports)
        .all(|(x, y)| x.text == y.text && x.received == y.received));
    let c = synth::stream(6, spec);
    assert!(a
        .reports
        .iter()
        .zip(&c.reports)
        .any(|(x, y)| x.text != y.text));
    assert!(a.reports.len() >= 20 * 2 + 10);
    assert!(a.reports.windows(2).all(|w| w[0].received <= w[1].received));
    // Several reports per event.
    let per = |e| a.reports.iter().filter(|r| r.event == Some(e)).count();
    assert!((0..20).all(|e| per(e) >= 2));
}

#[test]
fn quality_counts_pairs() {
    let pairs = [(0.9, true), (0.8, false), (0.2, true), (0.1, false)];
    let q = synth::quality(&pairs, 0.5);
    assert_eq!(
        (q.true_positives, q.false_positives, q.false_negatives),
        (1, 1, 1)
    );
    assert_eq!(q.precision(), 0.5);
    assert_eq!(q.recall(), 0.5);
}
