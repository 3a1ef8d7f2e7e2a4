//! How long a brief takes to lay out once warm (fonts parsed, Typst's caches filled by a
//! first render), against a baseline measured in the same run: a one-word Typst document
//! with the same fonts. Prints figures; the goal is under 2 s per warm brief.
//!
//! `cargo bench -p tocsin-brief`

#[path = "../tests/sample/mod.rs"]
mod sample;

use std::time::{Duration, Instant};
use tocsin_domain::Lang;

fn time(n: u32, mut f: impl FnMut()) -> Duration {
    let mut all: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    all.sort();
    all[all.len() / 2]
}

fn tocsin_geo_load() -> tocsin_geo::Gazetteer {
    tocsin_geo::Gazetteer::load().unwrap()
}

fn main() {
    let runs = 9;
    // Cold: the first brief of the process (fonts and library loaded, the gazetteer and the
    // basemap's directory read for the map, nothing cached); then the second brief of the
    // same process, which loads none of them again.
    let t = Instant::now();
    tocsin_brief::pdf(&sample::content(Lang::En)).unwrap();
    let cold = t.elapsed();
    let t = Instant::now();
    tocsin_brief::pdf(&sample::content(Lang::En)).unwrap();
    let second = t.elapsed();
    // What loading the gazetteer alone costs (a fresh copy: the shared one is loaded once per
    // process, by the first brief).
    let t = Instant::now();
    drop(tocsin_geo_load());
    let gazetteer = t.elapsed();
    let baseline = time(runs, || {
        tocsin_brief::baseline_pdf().unwrap();
    });
    println!("cold first brief (en): {:.1} ms", cold.as_secs_f64() * 1e3);
    println!(
        "second brief (en), same process: {:.1} ms",
        second.as_secs_f64() * 1e3
    );
    println!(
        "(loading the gazetteer, done once per process: {:.1} ms)",
        gazetteer.as_secs_f64() * 1e3
    );
    println!(
        "baseline (one-word document), median of {runs}: {:.1} ms",
        baseline.as_secs_f64() * 1e3
    );
    for lang in [Lang::En, Lang::Ar] {
        let mut c = sample::content(lang);
        let mut i = 0;
        let warm = time(runs, || {
            // A different brief each time (as a server would make), so nothing is reused
            // whole from the previous one.
            i += 1;
            c.totals.incidents = 48 + i;
            tocsin_brief::pdf(&c).unwrap();
        });
        println!(
            "warm brief ({lang}), median of {runs}: {:.1} ms = {:.1}x baseline; goal < 2000 ms: {}",
            warm.as_secs_f64() * 1e3,
            warm.as_secs_f64() / baseline.as_secs_f64(),
            if warm < Duration::from_secs(2) {
                "met"
            } else {
                "NOT met"
            }
        );
    }
    let c = sample::content(Lang::En);
    let html = time(runs, || {
        tocsin_brief::html(&c).unwrap();
    });
    println!(
        "html brief, median of {runs}: {:.2} ms",
        html.as_secs_f64() * 1e3
    );
}
