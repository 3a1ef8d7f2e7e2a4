//! Matching quality on synthetic labelled report streams (`tocsin_match::synth`): precision
//! and recall of the suggested matches, tuned on one seed and reported on another.
//!
//! ```sh
//! CARGO_TARGET_DIR=/var/tmp/tocsin-target cargo bench -p tocsin-match --bench quality
//! ```
//!
//! Target: precision ≥ 0.9 at recall ≥ 0.8. The shipped `Params::default()` are what the
//! tuning seed chose; the figures that count are the report seed's.

use tocsin_match::synth::{quality, scored_pairs, stream, StreamSpec};
use tocsin_match::{Matcher, Params};

const TUNE_SEED: u64 = 1;
const REPORT_SEED: u64 = 2;
/// The precision the tuning seed must reach.
const TUNE_PRECISION: f64 = 0.92;

fn main() {
    show_errors();
    let gaz = tocsin_geo::Gazetteer::global();
    let spec = StreamSpec::default();
    let tune = stream(TUNE_SEED, spec);
    let report = stream(REPORT_SEED, spec);
    println!(
        "streams: {} reports about {} events (+{} unrelated) per seed; candidates: earlier reports within {} days, other sources",
        tune.reports.len(),
        spec.events,
        spec.unrelated,
        tocsin_match::synth::WINDOW_DAYS
    );

    // Tune on the first seed: a small grid over the weights and the threshold; keep the
    // setting with the best recall among those with precision ≥ TUNE_PRECISION (above the
    // 0.9 target, a margin for a stream the tuning has not seen).
    let mut best: Option<(Params, f64, f64)> = None;
    for w_text in [0.5, 0.6, 0.7] {
        for time_scale_h in [12.0, 24.0, 48.0] {
            for (dist_scale_km, received_slack_h) in
                [(8.0, 12.0), (12.0, 12.0), (12.0, 24.0), (25.0, 24.0)]
            {
                let params = Params {
                    w_text,
                    w_time: (1.0 - w_text) / 2.0,
                    w_dist: (1.0 - w_text) / 2.0,
                    time_scale_h,
                    dist_scale_km,
                    received_slack_h,
                    ..Params::default()
                };
                let m = Matcher::new(Some(gaz)).with_params(params);
                let pairs = scored_pairs(&m, &tune);
                for t in (30..=80).map(|t| f64::from(t) / 100.0) {
                    let q = quality(&pairs, t);
                    if q.precision() >= TUNE_PRECISION && best.is_none_or(|b| q.recall() > b.2) {
                        best = Some((
                            Params {
                                threshold: t,
                                ..params
                            },
                            q.precision(),
                            q.recall(),
                        ));
                    }
                }
            }
        }
    }
    match best {
        Some((p, prec, rec)) => println!(
            "tuned on seed {TUNE_SEED}: {p:?}\n  seed {TUNE_SEED}: precision {prec:.3}, recall {rec:.3}"
        ),
        None => println!("tuned on seed {TUNE_SEED}: no setting reaches precision {TUNE_PRECISION}"),
    }

    let shipped = Matcher::new(Some(gaz));
    for (name, s) in [("tuning", &tune), ("report", &report)] {
        let pairs = scored_pairs(&shipped, s);
        let positives = pairs.iter().filter(|p| p.1).count();
        println!(
            "{name} stream: {} candidate pairs, {positives} true",
            pairs.len()
        );
        for t in [
            shipped.params.threshold - 0.04,
            shipped.params.threshold,
            shipped.params.threshold + 0.04,
        ] {
            let q = quality(&pairs, t);
            println!(
                "  threshold {t:.2}{}: precision {:.3}, recall {:.3} (tp {}, fp {}, fn {})",
                if t == shipped.params.threshold {
                    " (shipped)"
                } else {
                    ""
                },
                q.precision(),
                q.recall(),
                q.true_positives,
                q.false_positives,
                q.false_negatives
            );
        }
    }
    let no_gaz = Matcher::new(None);
    let q = quality(&scored_pairs(&no_gaz, &report), no_gaz.params.threshold);
    println!(
        "report stream without the gazetteer (names as words only): precision {:.3}, recall {:.3}",
        q.precision(),
        q.recall()
    );
}

/// With `TOCSIN_MATCH_SHOW=N`, print N false positives and N false negatives of the tuning
/// stream at the shipped threshold, with their explanations (for tuning by eye).
fn show_errors() {
    let Some(n) = std::env::var("TOCSIN_MATCH_SHOW")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    else {
        return;
    };
    let m = Matcher::new(Some(tocsin_geo::Gazetteer::global()));
    let s = stream(TUNE_SEED, StreamSpec::default());
    let prepared: Vec<_> = s
        .reports
        .iter()
        .map(|r| m.prepare(&tocsin_match::synth::item(r)))
        .collect();
    let (mut fp, mut fneg) = (0, 0);
    for (i, r) in s.reports.iter().enumerate() {
        let pool: Vec<usize> = (0..i)
            .rev()
            .take_while(|&j| r.received - s.reports[j].received <= chrono::Duration::days(7))
            .filter(|&j| s.reports[j].source != r.source)
            .collect();
        let cands: Vec<_> = pool.iter().map(|&j| prepared[j].clone()).collect();
        for (j, sc) in pool.iter().zip(m.score_all(&prepared[i], &cands)) {
            let truth = s.same_event(i, *j);
            let said = sc.score >= m.params.threshold;
            let show = (said && !truth && fp < n) || (!said && truth && fneg < n);
            if show {
                if truth {
                    fneg += 1
                } else {
                    fp += 1
                }
                println!(
                    "{} {:.3} [{}]\n   A: {} {:?} {:?}\n   B: {} {:?} {:?}",
                    if truth { "MISSED" } else { "FALSE" },
                    sc.score,
                    sc.explanation,
                    r.text,
                    r.point.is_some(),
                    r.claimed.is_some(),
                    s.reports[*j].text,
                    s.reports[*j].point.is_some(),
                    s.reports[*j].claimed.is_some()
                );
            }
        }
    }
}
