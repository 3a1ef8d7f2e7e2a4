//! Place names inside free text (SMS reports).

use crate::gazetteer::Gazetteer;
use crate::index::{Posting, KEY_PREFIX, P_ABBREV, P_COMMON, P_EXACT, P_TEXT};
use crate::normalize::{arabic_proclitic_variant, tokenize, Normalised, Token};
use crate::{Match, MatchKind};

/// Longest name tried, in words.
const MAX_WORDS: usize = 8;
/// Candidates kept per match.
const MAX_CANDIDATES: usize = 8;
/// With a country hint, a one-word match with no candidate in that country
/// needs a candidate at least this populous (or a capital, admin1 or country).
const FOREIGN_MIN_POPULATION: u64 = 50_000;
/// One-word names this short (in letters) must be capitalised in mixed-case text.
const SHORT_NAME_LETTERS: usize = 5;

/// Normalised words that, just before a name, mean "near" rather than "at".
const NEAR_WORDS: &[&str] = &[
    // English
    "near",
    "nearby",
    "outside",
    "around",
    "close",
    "km",
    "kms",
    "kilometres",
    "kilometers",
    "miles",
    "outskirts",
    "vicinity", // French
    "pres",
    "proche",
    "proximite",
    "environs",
    "autour",
    "alentours",
    "abords",
    "peripherie",
    "banlieue",
    // Swahili
    "karibu",
    "nje",
    "jirani",
    "viunga", // Arabic (normalised)
    "قرب",
    "بالقرب",
    "قريب",
    "قريبا",
    "حول",
    "ضواحي",
    "اطراف",
    "محيط",
    "مشارف",
];

/// A "near" word, or a distance glued to its unit (`20km`).
fn is_near_word(w: &str) -> bool {
    NEAR_WORDS.contains(&w)
        || (w.len() > 2
            && w.starts_with(|c: char| c.is_ascii_digit())
            && (w.ends_with("km") || w.ends_with("kms")))
}

struct Hit<'a> {
    first: usize,
    last: usize,
    postings: Vec<&'a Posting>,
}

impl Gazetteer {
    /// Find place names inside free text, such as a 160-character SMS.
    ///
    /// The text is normalised like names are (case, diacritics, punctuation;
    /// Arabic letter variants and article; see [`crate::normalize`]) and cut
    /// into words. From each word, phrases of up to 8 words are looked up, and
    /// a phrase is a match when it equals a name that may be recognised in
    /// text. **The rule** for such names:
    ///
    /// * the main, ASCII and (Latin/Arabic-script) alternate names of
    ///   populated places, admin1 and admin2 names, and country names and
    ///   aliases, matched on whole words only;
    /// * never a name of fewer than 3 letters (except a common-word name,
    ///   below); an alternate name needs 4; a one-word name of exactly 3
    ///   letters only for places of population ≥ 5,000, admin seats and
    ///   capitals (`"Obo"` yes, a hamlet `"Ade"` no), and for areas;
    /// * common words are the en/fr/sw/ar stop-word lists
    ///   (`data/stopwords.tsv`) plus a hand-written list of report vocabulary
    ///   that GeoNames also has as places (`"man"`, `"police"`, `"hommes"`,
    ///   `"moto"`, `"جيش"`; `data/stopwords-extra.tsv`). A one-word name that
    ///   is a common word (`"Man"`, Côte d'Ivoire; `"Sale"`, Morocco; `"Bo"`,
    ///   Sierra Leone; `"Nord"`, a Cameroonian region) counts only when
    ///   written with a capital inside a sentence of mixed-case text (not its
    ///   first word), and only for the hinted country: `"Attaque à Man hier"`
    ///   with hint `CIV` finds Man, `"A man came"` never does. A phrase made
    ///   only of common words counts only for places of 50,000+ people
    ///   (`"Port Said"` yes, `"The Village"` no);
    /// * in text that mixes upper and lower case, a one-word Latin-script name
    ///   must start with a capital (`"Bria"` yes, `"bria"` no, and not
    ///   `"armes lourdes"` for Lourdes), except a name of more than 5 letters
    ///   with a candidate in the hinted country; in all-lower or all-upper text
    ///   (common in SMS) this is waived;
    /// * abbreviations (`"CAR"`, `"DRC"`, `"RDC"`) only when written in capitals;
    /// * with `country_hint`, a one-word match none of whose candidates is in
    ///   that country is dropped unless a candidate is a country, an admin1
    ///   area, a national capital, or has population ≥ 50,000;
    /// * Arabic words glued to a proclitic (`بالخرطوم` "in Khartoum",
    ///   `والخرطوم`, `للخرطوم`) are also tried without it.
    ///
    /// Overlapping matches are resolved longest first (in characters), then
    /// leftmost, so `"Kaga Bandoro"` wins over `"Bandoro"`. A match preceded
    /// (within three words) by "near", "près", "karibu", "قرب", "km", etc. has
    /// [`Match::near`] set. Matches come in text order; a text without place
    /// names gives an empty vector.
    pub fn find_in_text(&self, text: &str, country_hint: Option<&str>) -> Vec<Match<'_>> {
        let mut n = Normalised::default();
        tokenize(text, &mut n);
        if n.tokens.is_empty() {
            return Vec::new();
        }
        let hint = self.hint_index(country_hint);
        let mut hits: Vec<Hit<'_>> = Vec::new();
        let mut variant = String::new();
        for i in 0..n.tokens.len() {
            let before = hits.len();
            self.scan_from(&n, i, None, hint, &mut hits);
            let t = n.tokens[i];
            if hits.len() == before && t.arabic {
                if let Some(v) = arabic_proclitic_variant(&n.text[t.norm_start..t.norm_end]) {
                    variant.clear();
                    variant.push_str(v);
                    self.scan_from(&n, i, Some(&variant), hint, &mut hits);
                }
            }
        }
        if hits.is_empty() {
            return Vec::new();
        }
        // Longest first (characters of the original text), then leftmost.
        let orig_len = |h: &Hit<'_>| n.tokens[h.last].orig_end - n.tokens[h.first].orig_start;
        hits.sort_by(|a, b| orig_len(b).cmp(&orig_len(a)).then(a.first.cmp(&b.first)));
        let mut taken = vec![false; n.tokens.len()];
        let mut out: Vec<Match<'_>> = Vec::new();
        for h in hits {
            if taken[h.first..=h.last].iter().any(|&x| x) {
                continue;
            }
            taken[h.first..=h.last].iter_mut().for_each(|x| *x = true);
            let mut ps = h.postings;
            if let Some(hc) = hint {
                ps.sort_by_key(|p| self.target_country(p.target) != hc);
            }
            let candidates: Vec<_> = ps
                .iter()
                .take(MAX_CANDIDATES)
                .map(|p| self.candidate(p.target, p.flags & P_EXACT != 0))
                .collect();
            let near = n.tokens[h.first.saturating_sub(3)..h.first]
                .iter()
                .any(|t| is_near_word(&n.text[t.norm_start..t.norm_end]));
            out.push(Match {
                start: n.tokens[h.first].orig_start,
                end: n.tokens[h.last].orig_end,
                kind: candidates[0].kind,
                near,
                candidates,
            });
        }
        out.sort_by_key(|m| m.start);
        out
    }

    /// Try phrases starting at word `i` (whose normalised form is replaced by
    /// `first_word` when given) and record every acceptable one.
    fn scan_from<'a>(
        &'a self,
        n: &Normalised,
        i: usize,
        first_word: Option<&str>,
        hint: Option<u16>,
        hits: &mut Vec<Hit<'a>>,
    ) {
        let mut key = String::new();
        let last = (i + MAX_WORDS).min(n.tokens.len());
        for j in i..last {
            let k: &str = match first_word {
                None => &n.text[n.tokens[i].norm_start..n.tokens[j].norm_end],
                Some(w) => {
                    key.clear();
                    key.push_str(w);
                    key.push_str(&n.text[n.tokens[i].norm_end..n.tokens[j].norm_end]);
                    &key
                }
            };
            let Some(e) = self.index.get(k) else { break };
            let ps = self.index.postings(e);
            if !ps.is_empty() {
                let accepted = self.accept(n, &n.tokens[i..=j], k, ps, hint);
                if !accepted.is_empty() {
                    hits.push(Hit {
                        first: i,
                        last: j,
                        postings: accepted,
                    });
                }
            }
            if e.flags & KEY_PREFIX == 0 {
                break;
            }
        }
    }

    /// Postings of a phrase that the text rule lets through (see `find_in_text`).
    fn accept<'a>(
        &'a self,
        n: &Normalised,
        words: &[Token],
        key: &str,
        ps: &'a [Posting],
        hint: Option<u16>,
    ) -> Vec<&'a Posting> {
        let first = words[0];
        let one_word = words.len() == 1;
        let all_caps = words.iter().all(|t| t.all_caps);
        let uncapitalised = one_word && n.mixed_case && !first.capitalised;
        if uncapitalised && key.chars().count() <= SHORT_NAME_LETTERS {
            return Vec::new();
        }
        // A name that is also a common word ("Man", "Sale", "Nord") counts only
        // capitalised inside a sentence of mixed-case text, in the hinted country.
        let common_ok = one_word
            && n.mixed_case
            && first.capitalised
            && !first.sentence_start
            && !first.all_caps;
        let accepted: Vec<&Posting> = ps
            .iter()
            .filter(|p| {
                if p.flags & P_TEXT != 0 {
                    p.flags & P_ABBREV == 0 || all_caps
                } else if p.flags & P_COMMON != 0 {
                    common_ok && hint == Some(self.target_country(p.target))
                } else {
                    false
                }
            })
            .collect();
        if accepted.is_empty() {
            return accepted;
        }
        if uncapitalised {
            // A longer lower-case word in otherwise cased text ("armes lourdes"):
            // only a name of the hinted country.
            let local =
                hint.is_some_and(|h| accepted.iter().any(|p| self.target_country(p.target) == h));
            if !local {
                return Vec::new();
            }
        }
        if let (Some(h), true) = (hint, one_word) {
            let any_local = accepted.iter().any(|p| self.target_country(p.target) == h);
            if !any_local {
                let strong = accepted.iter().any(|p| {
                    let c = self.candidate(p.target, true);
                    matches!(c.kind, MatchKind::Country | MatchKind::Admin1)
                        || c.feature_code == "PPLC"
                        || c.population >= FOREIGN_MIN_POPULATION
                });
                if !strong {
                    return Vec::new();
                }
            }
        }
        accepted
    }
}

#[cfg(test)]
mod tests {
    use super::is_near_word;

    #[test]
    fn near_words() {
        assert!(is_near_word("pres"));
        assert!(is_near_word("karibu"));
        assert!(is_near_word("قرب"));
        assert!(is_near_word("20km"));
        assert!(!is_near_word("km2x"));
        assert!(!is_near_word("bria"));
    }
}
