//! Properties of the normaliser and the scanner on random text drawn from the characters the
//! rules touch (seeded, so a failure repeats): every offset falls on a character boundary of
//! the original, maps in order, and a hit covers the text that matched.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tocsin_speech::{normalise, read_lexicon, Normalised, Scanner};

/// Characters each rule acts on, and some it must leave alone.
const ALPHABET: &[&str] = &[
    "a", "b", "k", "i", "l", "o", "s", "K", "L", "O", "1", "0", "2", "3", "4", "6", "@", "$", " ",
    ".", "-", "\u{0456}", "\u{043E}", "\u{0430}", "\u{03BF}", "é", "e\u{301}", "\u{301}", "ß", "ẞ",
    "İ", "Ｋ", "ﬁ", "ɓ", "ɗ", "ƙ", "Ɓ", "ق", "ت", "ل", "أ", "إ", "ة", "ى", "\u{064E}", "\u{0651}",
    "\u{0640}", "\u{200B}", "\u{200D}", "\u{FEFF}", "\u{00AD}", "ooo", "lll", "مووو", "\u{FDFA}",
    "ǅ", "м", "а", "р", "\n", "«", "’",
];

fn random_text(rng: &mut StdRng, max: usize) -> String {
    let n = rng.gen_range(0..=max);
    (0..n)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())])
        .collect()
}

/// Collapse every run of a letter to one (the form elongation cannot change).
fn squeezed(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if !out.ends_with(c) || !c.is_alphabetic() {
            out.push(c);
        }
    }
    out
}

#[test]
fn normalised_offsets_fall_on_char_boundaries_in_order() {
    let mut rng = StdRng::seed_from_u64(19);
    let mut m = Normalised::default();
    for _ in 0..5000 {
        let src = random_text(&mut rng, 24);
        m.normalise(&src);
        let t = m.as_str().to_string();
        let mut last = (0, 0);
        let bounds: Vec<usize> = t
            .char_indices()
            .map(|(p, _)| p)
            .chain(std::iter::once(t.len()))
            .collect();
        for w in bounds.windows(2) {
            let (a, b) = m.original_range(w[0], w[1]);
            assert!(
                src.is_char_boundary(a) && src.is_char_boundary(b) && a <= b && b <= src.len(),
                "{src:?} → {t:?}: char at {} maps to {a}..{b}",
                w[0]
            );
            assert!(
                a >= last.0 && b >= last.1,
                "{src:?} → {t:?}: out of order at {}",
                w[0]
            );
            last = (a, b);
            // Any range covers each of its characters' originals.
            for &s in bounds.iter().filter(|&&s| s <= w[0]) {
                let (ra, rb) = m.original_range(s, w[1]);
                assert!(
                    ra <= a && rb >= b,
                    "{src:?}: {s}..{} does not cover {a}..{b}",
                    w[1]
                );
            }
        }
    }
}

#[test]
fn hits_cover_the_matched_text() {
    let mut rng = StdRng::seed_from_u64(2019);
    let letters: Vec<&str> = ALPHABET
        .iter()
        .copied()
        .filter(|s| s.chars().all(char::is_alphabetic))
        .collect();
    let mut total = 0;
    for round in 0..300 {
        let mut csv = String::from("term,language,country,category,severity,prefixes\n");
        let mut terms = Vec::new();
        for i in 0..20 {
            let n = rng.gen_range(1..=3);
            let term: String = (0..n)
                .map(|_| letters[rng.gen_range(0..letters.len())])
                .collect();
            if normalise(&term).is_empty()
                || terms
                    .iter()
                    .any(|t: &String| normalise(t) == normalise(&term))
            {
                continue;
            }
            let prefixes = if i % 3 == 0 { "@sw-noun-classes" } else { "" };
            csv.push_str(&format!("\"{term}\",sw,,slur,1,{prefixes}\n"));
            terms.push(term);
        }
        if terms.is_empty() {
            continue;
        }
        let lex = read_lexicon("p", csv.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{csv}"));
        let s = Scanner::new(vec![lex]).unwrap();
        for _ in 0..20 {
            let text = random_text(&mut rng, 40);
            for h in s.scan(&text) {
                total += 1;
                assert!(
                    text.is_char_boundary(h.start)
                        && text.is_char_boundary(h.end)
                        && h.start < h.end,
                    "round {round}: {text:?} {h:?}"
                );
                let found = squeezed(&normalise(&text[h.start..h.end]));
                let term = squeezed(&normalise(&s.term(&h).term));
                assert!(
                    found.contains(&term),
                    "round {round}: hit {:?} in {text:?} does not hold {term:?}",
                    &text[h.start..h.end]
                );
            }
        }
    }
    assert!(
        total > 100,
        "only {total} hits: the generator does not exercise the scanner"
    );
}
