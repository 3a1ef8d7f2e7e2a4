//! Untrusted text through the dangerous-speech scanner, and untrusted lexicon files through
//! the reader. Nothing may panic; every hit's offsets fall on character boundaries of the
//! original text, in order, and every normalised range maps inside the original.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use tocsin_speech::{read_lexicon, Normalised, Scanner};

const LEXICON: &str = "term,language,country,category,severity,variants,prefixes,suffixes,near,within
kill,en,,threat,3,k1ll,,,,
kuua,sw,KE,threat,3,,@sw-noun-classes,,,
doadoa,sw,KE,coded term,3,,@sw-noun-classes,,,
حشرة,ar,SD,dehumanisation,3,حشرات,@ar-particles,@ar-suffixes,,
ɓarawo,ha,NG,slur,1,,,,,
burn,en,,threat,2,,,,tutsi|nuer,3
";

static SCANNER: LazyLock<Scanner> = LazyLock::new(|| {
    Scanner::new(vec![read_lexicon("fuzz", LEXICON.as_bytes()).unwrap()]).unwrap()
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for h in SCANNER.scan(&text) {
        assert!(h.start < h.end && h.end <= text.len());
        assert!(text.is_char_boundary(h.start) && text.is_char_boundary(h.end));
        if let Some((a, b)) = h.near {
            assert!(a < b && text.is_char_boundary(a) && text.is_char_boundary(b));
        }
    }
    let mut n = Normalised::default();
    n.normalise(&text);
    let len = n.as_str().len();
    let mut last = 0;
    for (p, c) in n.as_str().char_indices() {
        let (a, b) = n.original_range(p, p + c.len_utf8());
        assert!(a <= b && b <= text.len() && a >= last);
        assert!(text.is_char_boundary(a) && text.is_char_boundary(b));
        last = a;
    }
    let _ = n.original_range(0, len);
    // The same bytes as a lexicon file: refused or read, never a panic; a read one builds.
    if let Ok(lex) = read_lexicon("fuzz", data) {
        let s = Scanner::new(vec![lex]).unwrap();
        let _ = s.scan("kill the kuua madoadoa والحشرة");
    }
});
