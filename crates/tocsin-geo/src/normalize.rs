//! Name normalisation shared by every lookup in this crate (see [`normalize`]).

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// One word of a normalised text, with where it came from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    /// Byte range of the word in the original text.
    pub orig_start: usize,
    pub orig_end: usize,
    /// Byte range of the folded word in the normalised string.
    pub norm_start: usize,
    pub norm_end: usize,
    /// The first letter of the original word is upper-case, or the word is in
    /// a script without case (Arabic).
    pub capitalised: bool,
    /// Every cased letter of the original word is upper-case (and there are at
    /// least two letters): an acronym such as `CAR` or `DRC`.
    pub all_caps: bool,
    /// The word is in Arabic script.
    pub arabic: bool,
    /// The word opens the text, a line or a sentence (after `.`, `!`, `?`,
    /// `:`, `;`), where capitals say nothing about proper names.
    pub sentence_start: bool,
}

/// Result of [`tokenize`]: the normalised string and its words.
#[derive(Debug, Default)]
pub(crate) struct Normalised {
    pub text: String,
    pub tokens: Vec<Token>,
    /// The original text has both upper- and lower-case letters.
    pub mixed_case: bool,
}

impl Normalised {
    pub fn clear(&mut self) {
        self.text.clear();
        self.tokens.clear();
        self.mixed_case = false;
    }
}

/// Normalise a name or a text the way every lookup in this crate compares
/// them, and return the key (words joined by single spaces):
///
/// * letters are lower-cased and stripped of diacritics (Unicode compatibility
///   decomposition, combining marks dropped), so `Ndélé`, `NDELE` and `ndele`
///   are one key; letters that do not decompose are spelled out (`ß`→`ss`,
///   `æ`→`ae`, `œ`→`oe`, `ø`→`o`, `ł`→`l`, `đ`/`ð`/`ɗ`→`d`, `ı`→`i`, `þ`→`th`,
///   `ɓ`→`b`, `ƙ`→`k`, `ƴ`→`y`, `ɛ`→`e`, `ɔ`→`o`, `ŋ`→`n`);
/// * Arabic script: harakat, shadda and tatweel are dropped; `أ إ آ ٱ`→`ا`,
///   `ة`→`ه`, `ى`/`ئ`/`ی`→`ي`, `ؤ`→`و`, `ک`→`ك`; a leading definite article
///   `ال` is removed from a word of four letters or more, so `الخرطوم` and
///   `خرطوم` are one key;
/// * everything that is not a letter or a digit — spaces, hyphens, dots,
///   commas — separates words, and words are joined by exactly one space:
///   `Kaga-Bandoro`, `kaga bandoro` and `KAGA  BANDORO` are one key;
/// * an apostrophe (straight or curly) between letters joins them
///   (`Ta'if` = `Taif`, `Sana'a` = `Sanaa`) except after a French elision
///   (`Côte d’Ivoire` = `cote d ivoire`, `N'Djamena` = `n djamena`) and in an
///   English possessive (`Bangui's` = `bangui s`).
///
/// ```
/// assert_eq!(tocsin_geo::normalize("  Kaga-Bandoro "), "kaga bandoro");
/// assert_eq!(tocsin_geo::normalize("Ndélé"), "ndele");
/// assert_eq!(tocsin_geo::normalize("الخرطوم"), "خرطوم");
/// ```
pub fn normalize(s: &str) -> String {
    let mut n = Normalised::default();
    tokenize(s, &mut n);
    n.text
}

#[inline]
fn is_arabic(c: char) -> bool {
    matches!(c as u32, 0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF)
}

/// Letters that compatibility decomposition leaves alone but that people
/// routinely write without the stroke or ligature.
#[inline]
fn special_fold(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' | 'ẞ' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ø' | 'Ø' => "o",
        'ł' | 'Ł' => "l",
        'đ' | 'Đ' | 'ð' | 'Ð' | 'ɗ' | 'Ɗ' => "d",
        'ı' => "i",
        'þ' | 'Þ' => "th",
        'ɓ' | 'Ɓ' => "b",
        'ƙ' | 'Ƙ' => "k",
        'ƴ' | 'Ƴ' => "y",
        'ɛ' | 'Ɛ' => "e",
        'ɔ' | 'Ɔ' => "o",
        'ŋ' | 'Ŋ' => "n",
        'ħ' | 'Ħ' => "h",
        // Arabic letter variants.
        'أ' | 'إ' | 'آ' | 'ٱ' => "ا",
        'ة' => "ه",
        'ى' | 'ئ' | 'ی' | 'ې' => "ي",
        'ؤ' => "و",
        'ک' => "ك",
        // Dropped entirely: tatweel, zero-width (non-)joiners, soft hyphen.
        '\u{0640}' | '\u{200C}' | '\u{200D}' | '\u{00AD}' => "",
        _ => return None,
    })
}

/// Fold one character into `out`; returns false if it is a separator.
#[inline]
fn push_folded(c: char, out: &mut String) -> bool {
    if c.is_ascii() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            return true;
        }
        return false;
    }
    if let Some(s) = special_fold(c) {
        out.push_str(s);
        return true;
    }
    if is_combining_mark(c) {
        // A stray combining mark (e.g. Arabic harakat): part of the word, no output.
        return true;
    }
    if !c.is_alphanumeric() {
        return false;
    }
    // A character that decomposes into non-letters only (rare) still counts
    // as part of the word rather than splitting it.
    decompose_compatible(c, |d| {
        if is_combining_mark(d) {
            return;
        }
        if let Some(s) = special_fold(d) {
            out.push_str(s);
        } else if d.is_alphanumeric() {
            out.extend(d.to_lowercase());
        }
    });
    true
}

#[inline]
fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{02BB}' | '`' | '\u{00B4}'
    )
}

/// French elided words before an apostrophe (`d'Obo`, `l'Ouham`, `qu'à`):
/// there the apostrophe separates words; elsewhere inside a word it is
/// dropped (`Ta'if` → `taif`, `Sana'a` → `sanaa`).
fn elides(word: &str) -> bool {
    word.chars().count() == 1 || matches!(word, "qu" | "jusqu" | "lorsqu" | "puisqu" | "quoiqu")
}

/// Normalise `s` into `n` (cleared first), recording each word's spans.
///
/// An apostrophe between two letters joins them (`Ta'if` → `taif`) unless
/// the part before it is a French elision (`d'Ivoire` → `d ivoire`,
/// `N'Djamena` → `n djamena`) or it is an English possessive `'s`
/// (`Bangui's` → `bangui s`); anywhere else it separates words.
pub(crate) fn tokenize(s: &str, n: &mut Normalised) {
    n.clear();
    let mut has_upper = false;
    let mut has_lower = false;
    let mut in_word = false;
    let mut cur = Token {
        orig_start: 0,
        orig_end: 0,
        norm_start: 0,
        norm_end: 0,
        capitalised: false,
        all_caps: false,
        arabic: false,
        sentence_start: true,
    };
    let mut upper_letters = 0usize;
    let mut lower_letters = 0usize;
    // Last character that was neither whitespace nor part of a word.
    let mut sentence_start = true;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if in_word && is_apostrophe(c) {
            let next = it.peek().map(|&(_, d)| d);
            let after = {
                let mut look = it.clone();
                look.next();
                look.next().map(|(_, d)| d)
            };
            let possessive =
                matches!(next, Some('s' | 'S')) && !after.is_some_and(char::is_alphanumeric);
            let word = &n.text[cur.norm_start..];
            if next.is_some_and(char::is_alphabetic) && !possessive && !elides(word) {
                // Joining apostrophe: skip it, stay in the word.
                continue;
            }
        }
        let before = n.text.len();
        if !in_word {
            // Tentatively start a word; undone below if `c` is a separator.
            if before > 0 {
                n.text.push(' ');
            }
        }
        let word_start_norm = n.text.len();
        if push_folded(c, &mut n.text) {
            if !in_word {
                in_word = true;
                cur = Token {
                    orig_start: i,
                    orig_end: i,
                    norm_start: word_start_norm,
                    norm_end: word_start_norm,
                    capitalised: c.is_uppercase() || !(c.is_lowercase() || c.is_uppercase()),
                    all_caps: false,
                    arabic: is_arabic(c),
                    sentence_start,
                };
                upper_letters = 0;
                lower_letters = 0;
            }
            if c.is_uppercase() {
                upper_letters += 1;
                has_upper = true;
            } else if c.is_lowercase() {
                lower_letters += 1;
                has_lower = true;
            }
            cur.orig_end = i + c.len_utf8();
            sentence_start = false;
        } else {
            n.text.truncate(before);
            if in_word {
                finish_word(n, &mut cur, upper_letters, lower_letters);
                in_word = false;
            }
            if matches!(
                c,
                '.' | '!' | '?' | '\n' | ':' | ';' | '\u{061F}' | '\u{06D4}' | '\u{3002}'
            ) {
                sentence_start = true;
            }
        }
    }
    if in_word {
        finish_word(n, &mut cur, upper_letters, lower_letters);
    }
    n.mixed_case = has_upper && has_lower;
}

fn finish_word(n: &mut Normalised, cur: &mut Token, upper: usize, lower: usize) {
    cur.norm_end = n.text.len();
    if cur.norm_end == cur.norm_start {
        // Only dropped characters (e.g. a lone tatweel): no word.
        let start = if cur.norm_start > 0 {
            cur.norm_start - 1
        } else {
            0
        };
        n.text.truncate(start);
        return;
    }
    if cur.arabic {
        strip_arabic_article(n, cur);
    }
    cur.all_caps = upper >= 2 && lower == 0;
    n.tokens.push(*cur);
}

/// Remove a leading `ال` from an Arabic word of at least four letters.
fn strip_arabic_article(n: &mut Normalised, cur: &mut Token) {
    let word = &n.text[cur.norm_start..cur.norm_end];
    if word.starts_with("ال") && word.chars().count() >= 4 {
        let art = "ال".len();
        n.text
            .replace_range(cur.norm_start..cur.norm_start + art, "");
        cur.norm_end -= art;
    }
}

/// For an Arabic word glued to a proclitic (`و` and, `ف` so, `ب` in/by,
/// `ك` like, `ل` for) in front of the article, return the word without it:
/// `بالخرطوم` → `خرطوم`, `للخرطوم` → `خرطوم`, `وكادقلي` → `كادقلي`.
pub(crate) fn arabic_proclitic_variant(word: &str) -> Option<&str> {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    if chars.len() >= 5
        && matches!(chars[0].1, 'و' | 'ف' | 'ب' | 'ك' | 'ل')
        && chars[1].1 == 'ا'
        && chars[2].1 == 'ل'
    {
        return Some(&word[chars[3].0..]);
    }
    if chars.len() >= 4 && chars[0].1 == 'ل' && chars[1].1 == 'ل' {
        return Some(&word[chars[2].0..]);
    }
    if chars.len() >= 4 && chars[0].1 == 'و' {
        let rest = &word[chars[1].0..];
        if let Some(r) = rest.strip_prefix("ال") {
            if r.chars().count() >= 2 {
                return Some(r);
            }
        }
        return Some(rest);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_diacritics_and_punctuation() {
        assert_eq!(normalize("Ndélé"), "ndele");
        assert_eq!(normalize("NDELE"), "ndele");
        assert_eq!(normalize("  Kaga-Bandoro "), "kaga bandoro");
        assert_eq!(normalize("Côte d’Ivoire"), "cote d ivoire");
        assert_eq!(normalize("Cote d'Ivoire"), "cote d ivoire");
        assert_eq!(normalize("N'Djamena"), "n djamena");
        assert_eq!(normalize("Ta’if"), "taif");
        assert_eq!(normalize("Sana'a"), "sanaa");
        assert_eq!(normalize("Bangui's market"), "bangui s market");
        assert_eq!(normalize("près d'Obo"), "pres d obo");
        assert_eq!(normalize("jusqu'à Bria"), "jusqu a bria");
        assert_eq!(normalize("'quoted'"), "quoted");
        assert_eq!(normalize("Mbaïki"), "mbaiki");
        assert_eq!(normalize("Łódź"), "lodz");
        assert_eq!(normalize("Straße"), "strasse");
        assert_eq!(normalize(""), "");
        assert_eq!(normalize(" - "), "");
    }

    #[test]
    fn folds_arabic() {
        assert_eq!(normalize("الخرطوم"), "خرطوم");
        assert_eq!(normalize("خرطوم"), "خرطوم");
        assert_eq!(normalize("السّودان"), "سودان");
        assert_eq!(normalize("أم درمان"), "ام درمان");
        assert_eq!(arabic_proclitic_variant("بالخرطوم"), Some("خرطوم"));
        assert_eq!(arabic_proclitic_variant("للخرطوم"), Some("خرطوم"));
        assert_eq!(arabic_proclitic_variant("والخرطوم"), Some("خرطوم"));
    }

    #[test]
    fn token_spans_point_into_the_original() {
        let text = "Hommes armés à Bria, ce matin";
        let mut n = Normalised::default();
        tokenize(text, &mut n);
        assert_eq!(n.text, "hommes armes a bria ce matin");
        let bria = n.tokens[3];
        assert_eq!(&text[bria.orig_start..bria.orig_end], "Bria");
        assert_eq!(&n.text[bria.norm_start..bria.norm_end], "bria");
        assert!(bria.capitalised);
        assert!(n.mixed_case);
        let a = n.tokens[2];
        assert_eq!(&text[a.orig_start..a.orig_end], "à");
        assert!(!a.capitalised);
        assert!(n.tokens[0].sentence_start);
        assert!(!bria.sentence_start);
        tokenize("Calme. Man attaqué", &mut n);
        assert!(n.tokens[1].sentence_start);
    }
}
