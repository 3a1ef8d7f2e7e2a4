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

fn main() {
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
    // setting with the best recall among those with precision ≥ 0.9.
    let mut best: Option<(Params, f64, f64)> = None;
    for w_text in [0.3, 0.4, 0.5] {
        for time_scale_h in [12.0, 24.0, 48.0] {
            for dist_scale_km in [8.0, 12.0, 25.0] {
                let params = Params {
                    w_text,
                    w_time: (1.0 - w_text) / 2.0,
                    w_dist: (1.0 - w_text) / 2.0,
                    time_scale_h,
                    dist_scale_km,
                    ..Params::default()
                };
                let m = Matcher::new(Some(gaz)).with_params(params);
                let pairs = scored_pairs(&m, &tune);
                for t in (30..=80).map(|t| f64::from(t) / 100.0) {
                    let q = quality(&pairs, t);
                    if q.precision() >= 0.9 && best.is_none_or(|b| q.recall() > b.2) {
                        best = Some((Params { threshold: t, ..params }, q.precision(), q.recall()));
                    }
                }
            }
        }
    }
    match best {
        Some((p, prec, rec)) => println!(
            "tuned on seed {TUNE_SEED}: {p:?}\n  seed {TUNE_SEED}: precision {prec:.3}, recall {rec:.3}"
        ),
        None => println!("tuned on seed {TUNE_SEED}: no setting reaches precision 0.9"),
    }

    let shipped = Matcher::new(Some(gaz));
    for (name, s) in [("tuning", &tune), ("report", &report)] {
        let pairs = scored_pairs(&shipped, s);
        let positives = pairs.iter().filter(|p| p.1).count();
        println!("{name} stream: {} candidate pairs, {positives} true", pairs.len());
        for t in [shipped.params.threshold - 0.05, shipped.params.threshold, shipped.params.threshold + 0.05] {
            let q = quality(&pairs, t);
            println!(
                "  threshold {t:.2}{}: precision {:.3}, recall {:.3} (tp {}, fp {}, fn {})",
                if t == shipped.params.threshold { " (shipped)" } else { "" },
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
