//! The illustrative lexicon and labelled sample shipped in `data/`: they read, and the
//! evaluation over them behaves as an analyst would read it.

use tocsin_speech::{evaluate, read_lexicon, read_sample, Labelled, Scanner};

fn shipped() -> (Scanner, Vec<Labelled>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data");
    let lex = read_lexicon(
        "illustrative",
        std::fs::File::open(format!("{dir}/lexicon-illustrative.csv")).unwrap(),
    )
    .unwrap();
    assert!(lex
        .terms
        .iter()
        .all(|t| t.licence.is_some() && t.provenance.is_some()));
    let sample =
        read_sample(std::fs::File::open(format!("{dir}/sample-labelled.csv")).unwrap()).unwrap();
    (Scanner::new(vec![lex]).unwrap(), sample)
}

#[test]
fn obfuscated_terms_in_the_sample_are_flagged() {
    let (s, sample) = shipped();
    for needle in [
        "C0CKR04CHES",
        "اقتــــلوهم",
        "ca\u{200B}fards",
        "K1LL",
        "فَاقْتُلُوهُمْ",
    ] {
        let row = sample.iter().find(|r| r.text.contains(needle)).unwrap();
        let hits = s.scan(&row.text);
        assert!(
            hits.iter()
                .any(|h| row.text[h.start..h.end].contains(needle)),
            "{needle:?} not flagged in {:?}",
            row.text
        );
    }
}

#[test]
fn evaluation_counts_every_text_once_and_per_language() {
    let (s, sample) = shipped();
    let ev = evaluate(&s, &sample);
    assert_eq!(ev.overall.total(), sample.len() as u64);
    let per_language: u64 = ev.by_language.values().map(|c| c.total()).sum();
    assert_eq!(per_language, sample.len() as u64);
    for lang in ["ar", "en", "fr", "ha", "sw"] {
        let c = ev.by_language[lang];
        let (p, pi) = (c.precision().unwrap(), c.precision_interval().unwrap());
        let (r, ri) = (c.recall().unwrap(), c.recall_interval().unwrap());
        assert!(
            pi.low <= p && p <= pi.high && ri.low <= r && r <= ri.high,
            "{lang}: {c}"
        );
        // A dozen texts: the interval is wide, and says so.
        assert!(ri.high - ri.low > 0.2, "{lang}: {c}");
    }
    // Innocent uses of an ambiguous term are flagged too (a flag, never a verdict), and
    // dangerous speech without any term is missed: neither figure is perfect.
    assert!(
        ev.overall.false_positives > 0 && ev.overall.false_negatives > 0,
        "{ev}"
    );
    let printed = ev.to_string();
    assert!(printed.starts_with("all: precision 0."), "{printed}");
    assert!(printed.contains("\nsw: precision"), "{printed}");
}
