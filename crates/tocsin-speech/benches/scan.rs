//! Scanning speed with 100,000 terms across scripts, normalisation on, against plain
//! Aho-Corasick automata over the same terms and the raw text, measured in the same run.
//!
//! ```sh
//! CARGO_TARGET_DIR=/var/tmp/tocsin-target cargo bench -p tocsin-speech --bench scan
//! ```
//!
//! Prints build time, automaton memory, MB/s on one core over 4 KiB paragraphs, and messages
//! per second for 160-byte texts, for: the tocsin scanner (normalise, match overlapping with
//! its daachorse automaton, check boundaries, affixes and elongation, map offsets back);
//! `aho-corasick` over the raw text (overlapping and leftmost-first); `daachorse` over the
//! raw text (overlapping). Speeds are also given as a share of plain `aho-corasick`
//! (overlapping) and plain `daachorse` in the same run. Target: the scanner at ≥ 50 % of
//! plain `aho-corasick`.
//! `BENCH_TERMS` and `BENCH_MB` change the sizes.

use aho_corasick::{AhoCorasickBuilder, MatchKind};
use daachorse::DoubleArrayAhoCorasick;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::hint::black_box;
use std::time::Instant;
use tocsin_speech::{Category, Lexicon, ScanBuffer, Scanner, Severity, Term};

/// Consonants and vowels per script: Latin (with Hausa's hooked letters), Arabic (letters
/// only: the script writes no short vowels), Cyrillic, Devanagari (consonants and vowel signs).
const LATIN_C: &[&str] = &[
    "b", "ch", "d", "f", "g", "h", "j", "k", "l", "m", "n", "ny", "p", "r", "s", "sh", "t", "v",
    "w", "y", "z", "ɓ", "ɗ", "ƙ",
];
const LATIN_V: &[&str] = &["a", "e", "i", "o", "u"];
const ARABIC: &[&str] = &[
    "ا", "ب", "ت", "ث", "ج", "ح", "خ", "د", "ذ", "ر", "ز", "س", "ش", "ص", "ض", "ط", "ظ", "ع", "غ",
    "ف", "ق", "ك", "ل", "م", "ن", "ه", "و", "ي", "ة", "أ",
];
const CYRILLIC_C: &[&str] = &[
    "б", "в", "г", "д", "ж", "з", "к", "л", "м", "н", "п", "р", "с", "т", "ф", "х", "ц", "ч", "ш",
];
const CYRILLIC_V: &[&str] = &["а", "е", "и", "о", "у", "ы", "я"];
const DEVANAGARI_C: &[&str] = &[
    "क", "ख", "ग", "च", "ज", "ट", "ड", "त", "द", "न", "प", "ब", "म", "य", "र", "ल", "व", "स", "ह",
];
const DEVANAGARI_V: &[&str] = &["", "ा", "ि", "ी", "ु", "े", "ो"];

/// A word of `min..=max` syllables (Arabic: letters, one more) in `script`.
fn word(rng: &mut StdRng, script: usize, min: usize, max: usize) -> String {
    let n = rng.gen_range(min..=max);
    let mut w = String::new();
    let pick = |rng: &mut StdRng, l: &[&'static str]| l[rng.gen_range(0..l.len())];
    for _ in 0..n {
        match script {
            0 => {
                w.push_str(pick(rng, LATIN_C));
                w.push_str(pick(rng, LATIN_V));
            }
            1 => w.push_str(pick(rng, ARABIC)),
            2 => {
                w.push_str(pick(rng, CYRILLIC_C));
                w.push_str(pick(rng, CYRILLIC_V));
            }
            _ => {
                w.push_str(pick(rng, DEVANAGARI_C));
                w.push_str(pick(rng, DEVANAGARI_V));
            }
        }
    }
    if script == 1 {
        w.push_str(pick(rng, ARABIC));
    }
    w
}

fn script_of(rng: &mut StdRng) -> usize {
    // Half Latin, the rest Arabic, Cyrillic and Devanagari.
    match rng.gen_range(0..8) {
        0..=3 => 0,
        4 | 5 => 1,
        6 => 2,
        _ => 3,
    }
}

fn terms(rng: &mut StdRng, n: usize) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let s = script_of(rng);
        let w = word(rng, s, 3, 4);
        if seen.insert(tocsin_speech::normalise(&w)) {
            out.push(w);
        }
    }
    out
}

/// Text in the four scripts: mostly ordinary words, one word in fifty a term, with the
/// decorations the normaliser undoes now and then (capitals, tashkeel, tatweel, elongation).
fn text(rng: &mut StdRng, terms: &[String], bytes: usize) -> String {
    let mut t = String::with_capacity(bytes + 64);
    while t.len() < bytes {
        let s = script_of(rng);
        let mut w = if rng.gen_range(0..50) == 0 {
            terms[rng.gen_range(0..terms.len())].clone()
        } else {
            word(rng, s, 1, 3)
        };
        match rng.gen_range(0..40) {
            0 => w = w.to_uppercase(),
            1 => w = w.replacen('ل', "ـــل", 1),
            2 => w = w.replacen('ق', "قَ", 1),
            3 => w.push_str("aaaa"),
            _ => {}
        }
        t.push_str(&w);
        t.push_str(match rng.gen_range(0..12) {
            0 => ", ",
            1 => ". ",
            2 => "\n",
            _ => " ",
        });
    }
    t
}

/// Pieces of at most `len` bytes, cut at character boundaries.
fn pieces(text: &str, len: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + len).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        out.push(&text[start..end]);
        start = end;
    }
    out
}

/// Rounds of each measurement; the methods take turns in each round (the machine is
/// shared, so a slow moment hits all of them alike) and each keeps its best round.
const ROUNDS: usize = 5;

/// Time each of `methods` over `pieces`, taking turns for [`ROUNDS`] rounds: the best
/// seconds of each, and what it counted.
fn time_all(pieces: &[&str], methods: &mut [&mut dyn FnMut(&str) -> usize]) -> Vec<(f64, usize)> {
    let mut best = vec![(f64::MAX, 0); methods.len()];
    for _ in 0..ROUNDS {
        for (m, b) in methods.iter_mut().zip(best.iter_mut()) {
            let t = Instant::now();
            let mut count = 0;
            for p in pieces {
                count += m(black_box(p));
            }
            let secs = t.elapsed().as_secs_f64();
            if secs < b.0 {
                *b = (secs, count);
            }
        }
    }
    best
}

fn main() {
    let n_terms: usize = std::env::var("BENCH_TERMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mb: usize = std::env::var("BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let mut rng = StdRng::seed_from_u64(19);
    let raw_terms = terms(&mut rng, n_terms);
    let text = text(&mut rng, &raw_terms, mb * 1024 * 1024);
    let term_bytes: usize = raw_terms.iter().map(String::len).sum();
    println!(
        "{} terms ({:.1} MB, Latin/Arabic/Cyrillic/Devanagari), text {:.1} MB; one core",
        raw_terms.len(),
        term_bytes as f64 / 1e6,
        text.len() as f64 / 1e6
    );

    // Build.
    let lexicon = Lexicon {
        name: "bench".into(),
        terms: raw_terms
            .iter()
            .enumerate()
            .map(|(i, t)| Term {
                term: t.clone(),
                language: "xx".into(),
                country: None,
                category: Category::ALL[i % 5],
                severity: Severity::Medium,
                meaning_hateful: None,
                meaning_other: None,
                ambiguous: false,
                variants: Vec::new(),
                transliterations: Vec::new(),
                alternative: None,
                // Every tenth term takes Swahili noun classes or Arabic particles.
                prefixes: match i % 20 {
                    0 => vec!["@sw-noun-classes".into()],
                    10 => vec!["@ar-particles".into()],
                    _ => Vec::new(),
                },
                suffixes: Vec::new(),
                near: Vec::new(),
                within: 5,
                provenance: None,
                licence: None,
            })
            .collect(),
    };
    let t = Instant::now();
    let scanner = Scanner::new(vec![lexicon]).expect("the scanner builds");
    let build_scanner = t.elapsed();
    let t = Instant::now();
    let ac_over = AhoCorasickBuilder::new()
        .match_kind(MatchKind::Standard)
        .build(&raw_terms)
        .expect("aho-corasick builds");
    let build_ac = t.elapsed();
    let ac_first = AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostFirst)
        .build(&raw_terms)
        .expect("aho-corasick builds");
    let t = Instant::now();
    let daac: DoubleArrayAhoCorasick<u32> =
        DoubleArrayAhoCorasick::new(&raw_terms).expect("daachorse builds");
    let build_daac = t.elapsed();
    println!("\nbuild (ms) and automaton memory (MB):");
    println!(
        "  tocsin scanner      {:>8.1} ms {:>7.1} MB  ({} patterns with variants and undoubled forms)",
        build_scanner.as_secs_f64() * 1e3,
        scanner.automaton_bytes() as f64 / 1e6,
        scanner.pattern_count()
    );
    println!(
        "  aho-corasick        {:>8.1} ms {:>7.1} MB  ({:?})",
        build_ac.as_secs_f64() * 1e3,
        ac_over.memory_usage() as f64 / 1e6,
        ac_over.kind()
    );
    println!(
        "  daachorse           {:>8.1} ms {:>7.1} MB",
        build_daac.as_secs_f64() * 1e3,
        daac.heap_bytes() as f64 / 1e6
    );

    let mut buf = ScanBuffer::default();
    let mut hits = Vec::new();
    let mut run = |label: &str, size: usize| {
        let ps = pieces(&text, size);
        let bytes = text.len() as f64;
        let mut scan = |p: &str| {
            scanner.scan_with(p, &mut buf, &mut hits);
            hits.len()
        };
        let mut over = |p: &str| ac_over.find_overlapping_iter(p).count();
        let mut first = |p: &str| ac_first.find_iter(p).count();
        let mut da = |p: &str| daac.find_overlapping_iter(p).count();
        let r = time_all(&ps, &mut [&mut scan, &mut over, &mut first, &mut da]);
        let [(t_scan, n_scan), (t_over, n_over), (t_first, n_first), (t_daac, n_daac)] = r[..]
        else {
            unreachable!("four methods")
        };
        println!("\n{label}: {} pieces of ≤ {size} bytes", ps.len());
        let line = |name: &str, secs: f64, n: usize, what: &str| {
            println!(
                "  {name:<34} {:>7.1} MB/s {:>8.0} msgs/s  {:>4.0} % of aho-corasick, {:>4.0} % of daachorse  ({n} {what})",
                bytes / secs / 1e6,
                ps.len() as f64 / secs,
                100.0 * t_over / secs,
                100.0 * t_daac / secs
            );
        };
        line(
            "tocsin scanner (normalised)",
            t_scan,
            n_scan,
            "hits after boundary checks",
        );
        line(
            "aho-corasick overlapping (raw)",
            t_over,
            n_over,
            "raw matches",
        );
        line(
            "aho-corasick leftmost-first (raw)",
            t_first,
            n_first,
            "raw matches",
        );
        line("daachorse overlapping (raw)", t_daac, n_daac, "raw matches");
    };
    run("paragraphs", 4096);
    run("messages", 160);
}
