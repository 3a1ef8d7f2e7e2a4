//! The scanner: every term form of every lexicon in one Aho-Corasick automaton (a
//! double-array one, `daachorse`: 1.3–1.8× the speed of the `aho-corasick` crate's NFA on
//! 100,000 terms in `benches/scan.rs`) over the normalised text. Each candidate is then
//! checked for word boundaries (or an allowed prefix or suffix; scripts written without
//! spaces have none to check), elongated letters and proximity, and reported with its offsets
//! in the original text.

use crate::lexicon::{affix_set, Category, Lexicon, Severity, Term};
use crate::normalise::{is_word_char, normalise, Normalised};
use daachorse::DoubleArrayAhoCorasick;
use std::collections::HashMap;

/// One term found in a text: a flag for an analyst to read, never a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    /// Byte offset in the original text where the matched word starts (with its prefix).
    pub start: usize,
    /// Byte offset in the original text where it ends (with its suffix).
    pub end: usize,
    /// Index of the lexicon in the list the scanner was built from.
    pub lexicon: usize,
    /// Index of the term in its lexicon.
    pub term: usize,
    /// The term's category.
    pub category: Category,
    /// The term's severity.
    pub severity: Severity,
    /// Where the word that satisfied the term's proximity rule is, if it has one.
    pub near: Option<(usize, usize)>,
}

/// One spelling of a term as the automaton knows it.
#[derive(Debug, Clone)]
struct Form {
    lexicon: u32,
    term: u32,
    /// Character indices (in the pattern) where the term has a doubled letter that this
    /// form spells once: the text must have an elongated run there.
    doubled: Box<[u32]>,
}

/// A term's rules, normalised.
#[derive(Debug, Clone, Default)]
struct Rules {
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    near: Vec<String>,
    within: u32,
}

/// Why a scanner could not be built.
#[derive(Debug, thiserror::Error)]
#[error("the automaton could not be built: {0}")]
pub struct BuildError(String);

/// A scanner over one or more lexicons. Build once, scan many texts (it is `Sync`).
#[derive(Clone)]
pub struct Scanner {
    /// `None` when the lexicons hold no term.
    ac: Option<DoubleArrayAhoCorasick<u32>>,
    /// The forms behind each pattern of the automaton.
    forms: Vec<Vec<Form>>,
    /// Per lexicon, per term: the rules.
    rules: Vec<Vec<Rules>>,
    lexicons: Vec<Lexicon>,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("lexicons", &self.lexicons.len())
            .field("patterns", &self.forms.len())
            .finish()
    }
}

/// Reusable buffers for [`Scanner::scan_with`].
#[derive(Debug, Default, Clone)]
pub struct ScanBuffer {
    norm: Normalised,
}

fn normalised_list(entries: &[String]) -> Vec<String> {
    let mut v: Vec<String> = entries
        .iter()
        .flat_map(|e| affix_set(e).unwrap_or_default())
        .map(normalise)
        .filter(|s| !s.is_empty())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The term's spelling with each doubled letter spelled once, and where those are.
fn undouble(s: &str) -> Option<(String, Vec<u32>)> {
    let mut out = String::with_capacity(s.len());
    let mut doubled = Vec::new();
    let mut prev: Option<char> = None;
    let mut n = 0u32;
    for c in s.chars() {
        if prev == Some(c) && c.is_alphabetic() {
            if doubled.last() != Some(&(n - 1)) {
                doubled.push(n - 1);
            }
            continue;
        }
        out.push(c);
        prev = Some(c);
        n += 1;
    }
    (!doubled.is_empty()).then_some((out, doubled))
}

impl Scanner {
    /// Build a scanner over `lexicons` (their terms, variants and transliterations).
    pub fn new(lexicons: Vec<Lexicon>) -> Result<Scanner, BuildError> {
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut forms: Vec<Vec<Form>> = Vec::new();
        let mut rules = Vec::with_capacity(lexicons.len());
        for (li, lex) in lexicons.iter().enumerate() {
            let mut lr = Vec::with_capacity(lex.terms.len());
            for (ti, t) in lex.terms.iter().enumerate() {
                lr.push(term_rules(t));
                let spellings = std::iter::once(&t.term)
                    .chain(&t.variants)
                    .chain(&t.transliterations);
                for s in spellings {
                    let n = normalise(s.trim());
                    if n.is_empty() {
                        continue;
                    }
                    let alt = undouble(&n);
                    let mut add = |p: String, doubled: Vec<u32>| {
                        let id = *ids.entry(p).or_insert_with_key(|p| {
                            patterns.push(p.clone());
                            forms.push(Vec::new());
                            patterns.len() - 1
                        });
                        let f = &mut forms[id];
                        if !f
                            .iter()
                            .any(|f| f.lexicon == li as u32 && f.term == ti as u32)
                        {
                            f.push(Form {
                                lexicon: li as u32,
                                term: ti as u32,
                                doubled: doubled.into(),
                            });
                        }
                    };
                    add(n, Vec::new());
                    if let Some((p, d)) = alt {
                        add(p, d);
                    }
                }
            }
            rules.push(lr);
        }
        let ac = if patterns.is_empty() {
            None
        } else {
            Some(DoubleArrayAhoCorasick::new(&patterns).map_err(|e| BuildError(e.to_string()))?)
        };
        Ok(Scanner {
            ac,
            forms,
            rules,
            lexicons,
        })
    }

    /// The lexicons, in the order given.
    pub fn lexicons(&self) -> &[Lexicon] {
        &self.lexicons
    }

    /// The term a hit is of.
    pub fn term(&self, hit: &Hit) -> &Term {
        &self.lexicons[hit.lexicon].terms[hit.term]
    }

    /// How many patterns the automaton holds (terms, variants, undoubled spellings).
    pub fn pattern_count(&self) -> usize {
        self.forms.len()
    }

    /// Heap bytes of the automaton.
    pub fn automaton_bytes(&self) -> usize {
        self.ac
            .as_ref()
            .map_or(0, DoubleArrayAhoCorasick::heap_bytes)
    }

    /// Scan `text`: every hit, ordered by position, each term at most once per place.
    pub fn scan(&self, text: &str) -> Vec<Hit> {
        let mut out = Vec::new();
        self.scan_with(text, &mut ScanBuffer::default(), &mut out);
        out
    }

    /// Scan `text` into `out` (cleared first), reusing `buf`.
    pub fn scan_with(&self, text: &str, buf: &mut ScanBuffer, out: &mut Vec<Hit>) {
        out.clear();
        buf.norm.normalise(text);
        let norm = &buf.norm;
        let t = norm.as_str();
        let Some(ac) = &self.ac else { return };
        for m in ac.find_overlapping_iter(t) {
            for f in &self.forms[m.value() as usize] {
                let r = &self.rules[f.lexicon as usize][f.term as usize];
                if !f.doubled.is_empty() && !elongated(norm, m.start(), &f.doubled) {
                    continue;
                }
                let Some((s, e)) = bounded(t, m.start(), m.end(), &r.prefixes, &r.suffixes) else {
                    continue;
                };
                let near = if r.near.is_empty() {
                    None
                } else {
                    match find_near(t, s, e, r) {
                        Some((a, b)) => Some(norm.original_range(a, b)),
                        None => continue,
                    }
                };
                let (os, oe) = norm.original_range(s, e);
                let term = &self.lexicons[f.lexicon as usize].terms[f.term as usize];
                out.push(Hit {
                    start: os,
                    end: oe,
                    lexicon: f.lexicon as usize,
                    term: f.term as usize,
                    category: term.category,
                    severity: term.severity,
                    near,
                });
            }
        }
        if out.len() > 1 {
            out.sort_unstable();
            out.dedup_by(|a, b| {
                (a.start, a.end, a.lexicon, a.term) == (b.start, b.end, b.lexicon, b.term)
            });
        }
    }
}

fn term_rules(t: &Term) -> Rules {
    Rules {
        prefixes: normalised_list(&t.prefixes),
        suffixes: normalised_list(&t.suffixes),
        near: t
            .near
            .iter()
            .map(|n| normalise(n.trim()))
            .filter(|n| !n.is_empty())
            .collect(),
        within: t.within,
    }
}

/// Each doubled letter of the term that the pattern spells once is an elongated run (three
/// or more) in the text.
fn elongated(norm: &Normalised, start: usize, doubled: &[u32]) -> bool {
    let t = &norm.as_str()[start..];
    let mut want = doubled.iter().peekable();
    for (ci, (p, _)) in t.char_indices().enumerate() {
        let Some(&&d) = want.peek() else { break };
        if ci as u32 == d {
            if norm.run_at(start + p) < 3 {
                return false;
            }
            want.next();
        }
    }
    want.peek().is_none()
}

/// Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, Chinese,
/// Japanese kana): any offset between two of their characters may be a word boundary.
#[inline]
fn unspaced(c: char) -> bool {
    matches!(c as u32, 0x0E00..=0x0EFF | 0x1000..=0x109F | 0x1780..=0x17FF | 0x19E0..=0x19FF
        | 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xA9E0..=0xA9FF
        | 0xAA60..=0xAA7F | 0xF900..=0xFAFF)
}

/// Offset `p` lies inside a word: word characters on both sides, neither of a script
/// written without spaces.
#[inline]
fn inside_word(t: &str, p: usize) -> bool {
    match (t[..p].chars().next_back(), t[p..].chars().next()) {
        (Some(a), Some(b)) => is_word_char(a) && is_word_char(b) && !unspaced(a) && !unspaced(b),
        _ => false,
    }
}

/// The match `s..e` widened by an allowed prefix and suffix so that it is a whole word, or
/// `None`. A match whose edge is not a word character needs no boundary on that side.
fn bounded(
    t: &str,
    s: usize,
    e: usize,
    prefixes: &[String],
    suffixes: &[String],
) -> Option<(usize, usize)> {
    let left = if !inside_word(t, s) {
        s
    } else {
        prefixes
            .iter()
            .filter(|p| t[..s].ends_with(p.as_str()) && !inside_word(t, s - p.len()))
            .map(|p| s - p.len())
            .min()?
    };
    let right = if !inside_word(t, e) {
        e
    } else {
        suffixes
            .iter()
            .filter(|x| t[e..].starts_with(x.as_str()) && !inside_word(t, e + x.len()))
            .map(|x| e + x.len())
            .max()?
    };
    Some((left, right))
}

/// Where one of the term's `near` words is, within `within` words of `s..e` (with the
/// term's own affixes allowed on it).
fn find_near(t: &str, s: usize, e: usize, r: &Rules) -> Option<(usize, usize)> {
    let ws = words_back(t, s, r.within);
    let we = words_forward(t, e, r.within);
    for w in &r.near {
        let mut from = ws;
        while let Some(k) = t[from..we].find(w.as_str()) {
            let a = from + k;
            let b = a + w.len();
            if (b <= s || a >= e) && bounded(t, a, b, &r.prefixes, &r.suffixes).is_some() {
                return Some(bounded(t, a, b, &r.prefixes, &r.suffixes).expect("checked"));
            }
            from = a + t[a..].chars().next().map_or(1, char::len_utf8);
        }
    }
    None
}

/// The offset `n` words before `p` (or the start).
fn words_back(t: &str, p: usize, n: u32) -> usize {
    let mut seen = 0;
    let mut in_word = false;
    for (i, c) in t[..p].char_indices().rev() {
        let w = is_word_char(c);
        if in_word && !w {
            seen += 1;
            if seen == n {
                return i + c.len_utf8();
            }
        }
        in_word = w;
    }
    0
}

/// The offset `n` words after `p` (or the end).
fn words_forward(t: &str, p: usize, n: u32) -> usize {
    let mut seen = 0;
    let mut in_word = false;
    for (i, c) in t[p..].char_indices() {
        let w = is_word_char(c);
        if in_word && !w {
            seen += 1;
            if seen == n {
                return p + i;
            }
        }
        in_word = w;
    }
    t.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::read_lexicon;

    fn scanner(csv: &str) -> Scanner {
        Scanner::new(vec![read_lexicon("test", csv.as_bytes()).unwrap()]).unwrap()
    }

    /// The original text of each hit.
    fn found<'a>(s: &Scanner, text: &'a str) -> Vec<&'a str> {
        s.scan(text).iter().map(|h| &text[h.start..h.end]).collect()
    }

    const HEAD: &str =
        "term,language,country,category,severity,variants,prefixes,suffixes,near,within\n";

    #[test]
    fn whole_words_only() {
        let s = scanner(&format!(
            "{HEAD}kill,en,,threat,3,,,,,\nrat,en,,dehumanisation,2,,,,,\n"
        ));
        assert_eq!(
            found(&s, "Kill them. They are RATS? no: rat!"),
            ["Kill", "rat"]
        );
        assert!(found(&s, "skilled pirates migrate; killer").is_empty());
    }

    #[test]
    fn offsets_point_into_the_original_text_through_every_rule() {
        let s = scanner(&format!(
            "{HEAD}kill,en,,threat,3,,,,,\nاقتلوهم,ar,SD,incitement,3,,@ar-particles,,,\nso,en,,threat,1,,,,,\n"
        ));
        let text = "«K\u{200B}1LL» ... فَاقْتُلُوهُمْ now, sooooo K\u{0456}LL";
        assert_eq!(
            found(&s, text),
            ["K\u{200B}1LL", "فَاقْتُلُوهُمْ", "sooooo", "K\u{0456}LL"]
        );
        let hits = s.scan(text);
        assert_eq!(s.term(&hits[1]).language, "ar");
        assert_eq!(hits[1].category, Category::Incitement);
        assert_eq!(hits[0].severity, Severity::High);
    }

    #[test]
    fn elongation_counts_for_single_and_doubled_letters_only_when_long() {
        let s = scanner(&format!(
            "{HEAD}kill,en,,threat,3,,,,,\nkuua,sw,,threat,3,,,,,\n"
        ));
        assert_eq!(
            found(&s, "killlll kiiiill kill"),
            ["killlll", "kiiiill", "kill"]
        );
        // One l is another word; two u are a word, one u ("kua", to grow) another.
        assert!(found(&s, "kil kua").is_empty());
        assert_eq!(found(&s, "kuuuua"), ["kuuuua"]);
    }

    #[test]
    fn swahili_noun_class_prefixes() {
        let s = scanner(&format!(
            "{HEAD}doadoa,sw,KE,coded term,3,,@sw-noun-classes,,,\nmende,sw,KE,dehumanisation,2,,,,,\n"
        ));
        assert_eq!(
            found(&s, "Waondoe MADOADOA wote, hao ni mende. Kidoadoa."),
            ["MADOADOA", "mende", "Kidoadoa"]
        );
        // mende has no prefix rule: a prefixed form is another word.
        assert!(found(&s, "wamende").is_empty());
        // A prefix that is not a noun class is not accepted.
        assert!(found(&s, "xydoadoa").is_empty());
    }

    #[test]
    fn arabic_attached_particles_and_suffixes() {
        let s = scanner(&format!(
            "{HEAD}حشرة,ar,SD,dehumanisation,3,,@ar-particles,@ar-suffixes,,\n"
        ));
        assert_eq!(
            found(&s, "هؤلاء الحشرة، والحشرة حشرة"),
            ["الحشرة", "والحشرة", "حشرة"]
        );
        // An attached particle that is no particle is another word.
        assert!(found(&s, "محشرة").is_empty());
        // حشرتهم: teh marbuta becomes teh before a suffix; spelled so it is a variant to add.
        let s = scanner(&format!(
            "{HEAD}حشرة,ar,SD,dehumanisation,3,حشرت,@ar-particles,@ar-suffixes,,\n"
        ));
        assert_eq!(found(&s, "حشرتهم"), ["حشرتهم"]);
    }

    #[test]
    fn proximity_rules_need_a_group_name_nearby() {
        let s = scanner(&format!("{HEAD}burn,en,,threat,2,,,,tutsi|hutu|nuer,3\n"));
        assert!(found(&s, "burn the rubbish before the rain").is_empty());
        let text = "we will burn the Nuer villages";
        let hits = s.scan(text);
        assert_eq!(hits.len(), 1);
        let (a, b) = hits[0].near.unwrap();
        assert_eq!(&text[a..b], "Nuer");
        // Too far: four words between.
        assert!(found(&s, "burn it all down, then the nuer").is_empty());
        // Before the term counts too.
        assert_eq!(found(&s, "the Tutsi? burn"), ["burn"]);
    }

    #[test]
    fn variants_and_transliterations_find_the_same_term() {
        let s = scanner(
            "term,language,country,category,severity,variants,transliterations\n\
             inyenzi,rw,RW,dehumanisation,3,inyenzis,иньензи\n",
        );
        let hits = s.scan("INYENZI inyenzis иньензи");
        assert_eq!(hits.len(), 3);
        assert!(hits.iter().all(|h| h.term == 0));
    }

    #[test]
    fn scripts_without_spaces_match_inside_a_run() {
        // Burmese writes no spaces between words: "ကုလား" (a slur for Muslims of Indian
        // descent) inside "they are kalars".
        let s = scanner(&format!("{HEAD}ကုလား,my,MM,slur,3,,,,,\n"));
        assert_eq!(found(&s, "သူတို့ကုလားတွေ"), ["ကုလား"]);
        // Latin text next to it still needs its own boundaries.
        let s = scanner(&format!("{HEAD}kala,en,,slur,1,,,,,\n"));
        assert!(found(&s, "kalar").is_empty());
    }

    #[test]
    fn no_terms_no_hits() {
        let s = Scanner::new(Vec::new()).unwrap();
        assert!(s.scan("kill them").is_empty());
    }

    #[test]
    fn two_lexicons_each_report_their_own_hits() {
        let a = read_lexicon(
            "a",
            format!("{HEAD}mende,sw,,dehumanisation,2,,,,,\n").as_bytes(),
        )
        .unwrap();
        let b = read_lexicon("b", format!("{HEAD}mende,sw,KE,slur,1,,,,,\n").as_bytes()).unwrap();
        let s = Scanner::new(vec![a, b]).unwrap();
        let hits = s.scan("mende");
        assert_eq!(hits.iter().map(|h| h.lexicon).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(s.lexicons()[1].name, "b");
    }
}
