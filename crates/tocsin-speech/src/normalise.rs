//! Text normalisation before matching, with a map from every normalised offset back to the
//! original text (see [`Normalised`]).
//!
//! Terms and texts go through the same function, so a term matches however a writer spells,
//! decorates or disguises it:
//!
//! * **Case and compatibility forms**: Unicode compatibility decomposition (NFKD) and
//!   lower-case mapping with the full folds `ß`→`ss` and final `ς`→`σ`; fullwidth, circled
//!   and mathematical letters become plain ones. (Terms and texts share the form, so NFKD
//!   matches exactly where NFKC would.)
//! * **Latin diacritics** are stripped (`é`→`e`, `ọ`→`o`) but letters that are not a base
//!   letter with a mark stay themselves: Hausa `ɓ ɗ ƙ ƴ` never become `b d k y`. Marks on
//!   other scripts (Devanagari vowel signs, …) are kept.
//! * **Arabic**: harakat, shadda, sukun, superscript alef and Quranic marks dropped; tatweel
//!   (elongation) dropped; `أ إ آ ٱ`→`ا`, `ى ئ ی`→`ي`, `ؤ`→`و`, `ة`→`ه`, `ک`→`ك`.
//! * **Elongated repeats**: three or more of the same letter count as one (`soooo`→`so`);
//!   the scanner accepts such a run wherever the term has one letter or a doubled one.
//! * **Invisible characters**: zero-width space, (non-)joiners, word joiner, byte order mark
//!   and soft hyphen are dropped, so they cannot split a word.
//! * **Look-alikes**: Cyrillic and Greek letters that look like Latin ones become those
//!   Latin letters inside a word that also has Latin letters (`kіll` with a Cyrillic `і`);
//!   a word wholly in Cyrillic or Greek is left in its script.
//! * **Leetspeak** only inside mixed words: in a word with both letters and digits,
//!   `0 1 3 4 5 7 8 9`→`o i e a s t b g`, and `@ $` after a letter or digit →`a s`
//!   (`k1ll`→`kill`, `r@pe`→`rape`); `2024` and `@user` are left alone.
//!
//! Everything else (spaces, punctuation) passes through, so word boundaries can be checked
//! on the normalised text.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// A stretch of the normalised text that does not map byte for byte onto the original:
/// normalised bytes `ns..ne` came from original bytes `os..oe`. Outside every segment,
/// `original = normalised + (oe - ne of the segment before)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seg {
    ns: usize,
    ne: usize,
    os: usize,
    oe: usize,
    /// How many equal letters this segment squeezed into one (1: none).
    run: u32,
}

/// A normalised text and the map back to the text it came from.
///
/// Reuse one value across texts ([`Normalised::normalise`] clears it) to keep its buffers.
#[derive(Debug, Default, Clone)]
pub struct Normalised {
    text: String,
    segs: Vec<Seg>,
    /// The last letter pushed, where it started (normalised and original), and how many
    /// times in a row it came, for squeezing elongated repeats.
    run_char: Option<char>,
    run_ns: usize,
    run_os: usize,
    run_oe: usize,
    run_len: u32,
}

/// Leetspeak digits and symbols and the letters they stand for.
#[inline]
fn leet(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' => 'a',
        '5' => 's',
        '7' => 't',
        '8' => 'b',
        '9' => 'g',
        '@' => 'a',
        '$' => 's',
        _ => return None,
    })
}

/// Cyrillic and Greek lower-case letters that look like Latin ones.
#[inline]
fn lookalike(c: char) -> Option<char> {
    Some(match c {
        'а' => 'a',
        'в' => 'b',
        'с' => 'c',
        'ԁ' => 'd',
        'е' | 'ё' => 'e',
        'һ' => 'h',
        'і' | 'ї' => 'i',
        'ј' => 'j',
        'к' => 'k',
        'ӏ' => 'l',
        'м' => 'm',
        'п' => 'n',
        'о' => 'o',
        'р' => 'p',
        'ԛ' => 'q',
        'г' => 'r',
        'ѕ' => 's',
        'т' => 't',
        'у' => 'y',
        'ѵ' => 'v',
        'ԝ' => 'w',
        'х' => 'x',
        'α' => 'a',
        'β' => 'b',
        'ε' => 'e',
        'η' => 'n',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        'γ' => 'y',
        _ => return None,
    })
}

/// Characters dropped wherever they are: they cannot be seen, and would split a word.
#[inline]
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
    )
}

/// Arabic marks dropped: harakat, shadda, sukun, hamza above/below, superscript alef,
/// Quranic annotation marks.
#[inline]
fn arabic_mark(c: char) -> bool {
    matches!(c as u32,
        0x0610..=0x061A | 0x064B..=0x065F | 0x0670 | 0x06D6..=0x06DC | 0x06DF..=0x06E4
        | 0x06E7 | 0x06E8 | 0x06EA..=0x06ED | 0x08D3..=0x08E1 | 0x08E3..=0x08FF)
}

/// Letters of the Latin script (with the IPA block, where Hausa's hooked letters live).
#[inline]
fn is_latin(c: char) -> bool {
    c.is_ascii_alphabetic()
        || matches!(c as u32, 0xC0..=0xD6 | 0xD8..=0xF6 | 0xF8..=0x2AF | 0x1E00..=0x1EFF
            | 0x2C60..=0x2C7F | 0xA720..=0xA7FF | 0xFF21..=0xFF3A | 0xFF41..=0xFF5A)
}

/// Letter variants folded after decomposition and lower-casing.
#[inline]
fn fold_variant(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' => "ss",
        'ς' => "σ",
        'ٱ' => "ا",
        'ى' | 'ی' => "ي",
        'ة' => "ه",
        'ک' => "ك",
        '\u{0640}' => "",
        _ => return None,
    })
}

/// A character that belongs to a word: letters, digits, combining marks, and the invisible
/// characters that would otherwise split one.
#[inline]
pub(crate) fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        info(c) & WORD != 0
    }
}

// What `info` knows of a character: bits 0–20 hold its one-character fold when `ONE` is set.
const CHAR_BITS: u32 = (1 << 21) - 1;
/// Part of a word.
const WORD: u32 = 1 << 21;
/// A letter for the leetspeak rule (not a mark, not tatweel).
const LETTER: u32 = 1 << 22;
/// A Latin letter.
const LATIN: u32 = 1 << 23;
/// Lower-cased, a Cyrillic or Greek look-alike of a Latin letter.
const CONFUSABLE: u32 = 1 << 24;
/// Folds to the one character in the low bits, whatever its neighbours.
const ONE: u32 = 1 << 25;
/// Dropped, whatever its neighbours.
const DELETE: u32 = 1 << 26;
/// The fold is alphabetic (elongation may squeeze it).
const ALPHA_OUT: u32 = 1 << 27;
/// A combining mark: dropped after a Latin letter, kept after others.
const MARK: u32 = 1 << 28;

/// Characters below this have their `info` in a table built once (48 KiB: Latin, Greek,
/// Cyrillic, Arabic, Devanagari and the other scripts of the region), so the common path
/// asks no Unicode table per character.
const TABLE_END: u32 = 0x3000;

static TABLE: std::sync::LazyLock<Box<[u32]>> = std::sync::LazyLock::new(|| {
    (0..TABLE_END)
        .map(|u| char::from_u32(u).map_or(0, compute_info))
        .collect()
});

#[inline]
fn info(c: char) -> u32 {
    if (c as u32) < TABLE_END {
        TABLE[c as usize]
    } else {
        compute_info(c)
    }
}

fn compute_info(c: char) -> u32 {
    let mut v = 0;
    if c.is_alphanumeric() || is_combining_mark(c) || invisible(c) {
        v |= WORD;
    }
    if c.is_alphabetic() && c != '\u{0640}' && !is_combining_mark(c) {
        v |= LETTER;
        if is_latin(c) {
            v |= LATIN;
        } else if c.to_lowercase().next().and_then(lookalike).is_some() {
            v |= CONFUSABLE;
        }
    }
    if invisible(c) || arabic_mark(c) {
        v |= DELETE;
    } else if is_combining_mark(c) {
        v |= MARK;
    } else if !c.is_ascii() {
        // Marks depend on the letter before them: never in the table.
        let mut buf = [0u8; 16];
        if let Some(n) = fold_into(c, false, &mut buf) {
            let s = std::str::from_utf8(&buf[..n]).expect("whole characters");
            let mut cs = s.chars();
            match (cs.next(), cs.next()) {
                (None, _) => v |= DELETE,
                (Some(one), None) => {
                    v |= ONE | one as u32;
                    if one.is_alphabetic() {
                        v |= ALPHA_OUT;
                    }
                }
                _ => {}
            }
        }
    }
    v
}

/// Decompose, lower-case and fold `c` into `buf` (look-alikes too when `lookalike`);
/// answers the length, or `None` when the result does not fit.
fn fold_into(c: char, lookalike_on: bool, buf: &mut [u8; 16]) -> Option<usize> {
    let mut n = 0;
    let mut latin_base = false;
    let mut first = true;
    let mut overflow = false;
    decompose_compatible(c, |d| {
        if first {
            latin_base = is_latin(d);
            first = false;
        }
        if is_combining_mark(d) {
            if latin_base || arabic_mark(d) {
                return;
            }
            push_buf(buf, &mut n, d, &mut overflow);
            return;
        }
        for l in d.to_lowercase() {
            if is_combining_mark(l) && (latin_base || arabic_mark(l)) {
                continue;
            }
            let l = if lookalike_on {
                lookalike(l).unwrap_or(l)
            } else {
                l
            };
            match fold_variant(l) {
                Some(s) => s
                    .chars()
                    .for_each(|x| push_buf(buf, &mut n, x, &mut overflow)),
                None => push_buf(buf, &mut n, l, &mut overflow),
            }
        }
    });
    (!overflow).then_some(n)
}

/// What a word holds, which decides whether leetspeak and look-alikes are read in it.
#[derive(Default, Clone, Copy)]
struct WordFlags {
    leet: bool,
    lookalike: bool,
}

impl Normalised {
    /// Normalise `src` (see the module documentation), replacing what this value held.
    pub fn normalise(&mut self, src: &str) {
        self.text.clear();
        self.segs.clear();
        self.run_char = None;
        self.run_len = 0;
        self.text.reserve(src.len());
        let bytes = src.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b < 0x80 && !b.is_ascii_alphanumeric() {
                // ASCII punctuation or space: passes through, ends any run.
                self.run_char = None;
                self.text.push(b as char);
                i += 1;
                continue;
            }
            let (end, flags) = word_extent(src, i);
            if end == i {
                // A character that is no part of a word (a dash, a quotation mark).
                let c = src[i..].chars().next().expect("not at the end");
                self.run_char = None;
                self.push_folded(i, i + c.len_utf8(), c, WordFlags::default());
                i += c.len_utf8();
                continue;
            }
            self.push_word(src, i, end, flags);
            i = end;
        }
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The original byte range of the normalised range `start..end`: from the start of the
    /// original character that produced `start` to the end of the one that produced the
    /// byte before `end`. Both ends fall on character boundaries of the original.
    pub fn original_range(&self, start: usize, end: usize) -> (usize, usize) {
        (
            self.original_start(start),
            self.original_end(end).max(self.original_start(start)),
        )
    }

    fn original_start(&self, p: usize) -> usize {
        // The last segment starting at or before p.
        let k = self.segs.partition_point(|s| s.ns <= p);
        if k == 0 {
            return p;
        }
        let s = self.segs[k - 1];
        if p < s.ne {
            s.os
        } else {
            p - s.ne + s.oe
        }
    }

    fn original_end(&self, q: usize) -> usize {
        // The last segment starting before q.
        let k = self.segs.partition_point(|s| s.ns < q);
        let mut end = match k.checked_sub(1).map(|i| self.segs[i]) {
            None => q,
            Some(s) if q <= s.ne => s.oe,
            Some(s) => q - s.ne + s.oe,
        };
        // Marks and invisible characters dropped right after the range belong to it (the
        // sukun on a word's last letter).
        for d in &self.segs[k..] {
            if d.ns != q || d.ne != q || d.os != end {
                break;
            }
            end = d.oe;
        }
        end
    }

    /// How many equal letters the character at normalised offset `p` squeezed (1: none).
    pub(crate) fn run_at(&self, p: usize) -> u32 {
        let k = self.segs.partition_point(|s| s.ns < p);
        match self.segs.get(k) {
            Some(s) if s.ns == p => self.segs[k..]
                .iter()
                .take_while(|s| s.ns == p)
                .map(|s| s.run)
                .max()
                .unwrap_or(1),
            _ => 1,
        }
    }

    /// Push the word at `src[start..end]`.
    fn push_word(&mut self, src: &str, start: usize, end: usize, flags: WordFlags) {
        let word = &src[start..end];
        if word.is_ascii() && !flags.leet {
            // The common case: lower-case, byte for byte (no segments unless a run squeezes).
            for (k, b) in word.bytes().enumerate() {
                let c = b.to_ascii_lowercase() as char;
                self.push_letter(start + k, start + k + 1, c, b.is_ascii_alphabetic());
            }
            return;
        }
        let mut prev_alnum = false;
        for (k, c) in word.char_indices() {
            let os = start + k;
            let oe = os + c.len_utf8();
            let leet_letter =
                if flags.leet && (c.is_ascii_digit() || (prev_alnum && (c == '@' || c == '$'))) {
                    leet(c)
                } else {
                    None
                };
            match leet_letter {
                Some(l) => self.push_letter(os, oe, l, true),
                // Digits without a letter they stand for (2, 6) stay digits.
                None => self.push_folded(os, oe, c, flags),
            }
            prev_alnum = c.is_ascii_alphanumeric() || (!c.is_ascii() && info(c) & WORD != 0);
        }
    }

    /// Push one character through decomposition, case folding, variant folding, look-alike
    /// and diacritic rules.
    fn push_folded(&mut self, os: usize, oe: usize, c: char, flags: WordFlags) {
        if c.is_ascii() {
            self.push_letter(os, oe, c.to_ascii_lowercase(), c.is_ascii_alphabetic());
            return;
        }
        let inf = info(c);
        if inf & DELETE != 0 {
            self.push_str(os, oe, "");
            return;
        }
        if inf & ONE != 0 {
            let m = char::from_u32(inf & CHAR_BITS).expect("a character was stored");
            let m = if flags.lookalike {
                lookalike(m).unwrap_or(m)
            } else {
                m
            };
            if inf & ALPHA_OUT != 0 {
                self.push_letter(os, oe, m, true);
            } else {
                self.push_other(os, oe, m);
            }
            return;
        }
        if inf & MARK != 0 {
            // A mark written after its base: dropped after a Latin letter (Arabic marks are
            // always dropped: DELETE).
            if self.text.chars().next_back().is_some_and(is_latin) {
                self.push_str(os, oe, "");
            } else {
                self.push_other(os, oe, c);
            }
            return;
        }
        let mut buf = [0u8; 16];
        let Some(n) = fold_into(c, flags.lookalike, &mut buf) else {
            // A long compatibility expansion (e.g. U+FDFA): spelled out without folding.
            let mut s = String::new();
            decompose_compatible(c, |d| s.extend(d.to_lowercase()));
            self.push_str(os, oe, &s);
            return;
        };
        let s = std::str::from_utf8(&buf[..n]).expect("whole characters were pushed");
        let mut cs = s.chars();
        match (cs.next(), cs.next()) {
            (Some(one), None) if one.is_alphabetic() => self.push_letter(os, oe, one, true),
            _ => self.push_str(os, oe, s),
        }
    }

    fn push_other(&mut self, os: usize, oe: usize, c: char) {
        let mut b = [0u8; 4];
        self.push_str(os, oe, c.encode_utf8(&mut b));
    }

    /// Push a single normalised letter for original `os..oe`, squeezing a third and later
    /// repeat of the same letter into one.
    #[inline]
    fn push_letter(&mut self, os: usize, oe: usize, c: char, alpha: bool) {
        if alpha && self.run_char == Some(c) && self.run_oe == os {
            self.run_len += 1;
            self.run_oe = oe;
            if self.run_len == 3 {
                // Drop the second copy and everything recorded for the run so far.
                self.text.truncate(self.run_ns + c.len_utf8());
                while self.segs.last().is_some_and(|s| s.ns >= self.run_ns) {
                    self.segs.pop();
                }
                self.segs.push(Seg {
                    ns: self.run_ns,
                    ne: self.run_ns + c.len_utf8(),
                    os: self.run_os,
                    oe,
                    run: 3,
                });
            } else if self.run_len > 3 {
                let last = self.segs.last_mut().expect("the run's segment");
                last.oe = oe;
                last.run = self.run_len;
            } else {
                self.push_raw(os, oe, c);
            }
            return;
        }
        let ns = self.text.len();
        self.push_raw(os, oe, c);
        self.run_char = Some(c);
        self.run_ns = ns;
        self.run_os = os;
        self.run_oe = oe;
        self.run_len = 1;
    }

    #[inline]
    fn push_raw(&mut self, os: usize, oe: usize, c: char) {
        let ns = self.text.len();
        self.text.push(c);
        if c.len_utf8() != oe - os {
            self.segs.push(Seg {
                ns,
                ne: self.text.len(),
                os,
                oe,
                run: 1,
            });
        }
    }

    /// Push any normalised string for original `os..oe`; it ends a run of letters (except
    /// an empty one: a dropped mark or invisible character inside a run keeps it going).
    fn push_str(&mut self, os: usize, oe: usize, s: &str) {
        let ns = self.text.len();
        self.text.push_str(s);
        let ne = self.text.len();
        let one_char = s.chars().nth(1).is_none() && !s.is_empty();
        if !(one_char && ne - ns == oe - os) {
            self.segs.push(Seg {
                ns,
                ne,
                os,
                oe,
                run: 1,
            });
        }
        if s.is_empty() && self.run_oe == os {
            // Keep a run going across a dropped character: `so\u{200B}ooo` still squeezes.
            self.run_oe = oe;
            if self.run_len >= 3 {
                // The dropped character lies inside the run's segment.
                self.segs.pop();
                let last = self.segs.last_mut().expect("the run's segment");
                last.oe = oe;
            }
        } else {
            self.run_char = None;
        }
    }
}

#[inline]
fn push_buf(buf: &mut [u8; 16], n: &mut usize, c: char, overflow: &mut bool) {
    if *n + c.len_utf8() > buf.len() {
        *overflow = true;
        return;
    }
    *n += c.encode_utf8(&mut buf[*n..]).len();
}

/// The end of the word starting at `start` and what it holds. A word is a run of letters,
/// digits, combining marks and invisible characters, plus `@` and `$` after a letter or
/// digit when followed by one.
fn word_extent(src: &str, start: usize) -> (usize, WordFlags) {
    let bytes = src.as_bytes();
    let mut i = start;
    let (mut letters, mut digits, mut latin, mut confusable) = (false, false, false, false);
    // ASCII fast path.
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_alphabetic() {
            letters = true;
            latin = true;
        } else if b.is_ascii_digit()
            || ((b == b'@' || b == b'$')
                && i > start
                && bytes[i - 1].is_ascii_alphanumeric()
                && bytes.get(i + 1).is_some_and(|n| n.is_ascii_alphanumeric()))
        {
            // A digit, or a leetspeak symbol between letters or digits.
            digits = true;
        } else {
            break;
        }
        i += 1;
    }
    if i < bytes.len() && bytes[i] >= 0x80 {
        for c in src[i..].chars() {
            if c.is_ascii() {
                let b = c as u8;
                if b.is_ascii_alphabetic() {
                    letters = true;
                    latin = true;
                } else if b.is_ascii_digit() {
                    digits = true;
                } else {
                    break;
                }
            } else {
                let inf = info(c);
                if inf & WORD == 0 {
                    break;
                }
                // Marks (some count as alphabetic) and tatweel are dropped or ride on a
                // letter: they are no LETTER.
                if inf & LETTER != 0 {
                    letters = true;
                    latin |= inf & LATIN != 0;
                    confusable |= inf & CONFUSABLE != 0;
                }
            }
            i += c.len_utf8();
        }
    }
    (
        i,
        WordFlags {
            leet: letters && digits,
            lookalike: latin && confusable,
        },
    )
}

/// Normalise a term or a text (see the module documentation).
///
/// ```
/// assert_eq!(tocsin_speech::normalise("K1LL them"), "kill them");
/// assert_eq!(tocsin_speech::normalise("قـــتـل"), "قتل");
/// ```
pub fn normalise(s: &str) -> String {
    let mut n = Normalised::default();
    n.normalise(s);
    n.text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalise(s)
    }

    /// Every normalised character boundary maps to character boundaries of the original,
    /// in order, and the whole maps to the whole.
    fn check_map(src: &str) {
        let mut m = Normalised::default();
        m.normalise(src);
        let t = m.as_str();
        let mut last = 0;
        for (p, c) in t.char_indices() {
            let (a, b) = m.original_range(p, p + c.len_utf8());
            assert!(
                src.is_char_boundary(a) && src.is_char_boundary(b),
                "{src:?} {p}"
            );
            assert!(a <= b && b <= src.len(), "{src:?} {p}: {a}..{b}");
            assert!(a >= last || a == m.original_start(p), "{src:?}");
            last = a;
        }
        if !t.is_empty() {
            let (a, b) = m.original_range(0, t.len());
            assert!(a <= src.len() && b <= src.len());
        }
    }

    #[test]
    fn case_folding_and_compatibility_forms() {
        assert_eq!(n("KILL Them"), "kill them");
        assert_eq!(n("STRAẞE Straße"), "strasse strasse");
        assert_eq!(n("ΣΟΦΟΣ σοφος"), "σοφοσ σοφοσ");
        // Fullwidth and mathematical letters.
        assert_eq!(n("ＫＩＬＬ"), "kill");
        assert_eq!(n("𝐤𝐢𝐥𝐥"), "kill");
        assert_eq!(n("ﬁre"), "fire");
        // Turkish dotted capital I: its combining dot goes with the diacritics.
        assert_eq!(n("İnsan"), "insan");
    }

    #[test]
    fn latin_diacritics_are_stripped_but_hausa_hooked_letters_kept() {
        assert_eq!(n("Ndélé ÉTRANGERS ọmọ"), "ndele etrangers omo");
        // Decomposed input (e + combining acute) folds the same as composed.
        assert_eq!(n("e\u{301}trangers"), "etrangers");
        // Hausa: ɓ ɗ ƙ ƴ are letters, not b d k y with a mark.
        assert_eq!(n("ƊAN ƘASA ɓarawo ƴaƴa"), "ɗan ƙasa ɓarawo ƴaƴa");
        assert_ne!(n("ɓarna"), n("barna"));
        assert_ne!(n("ƙare"), n("kare"));
        // Marks of other scripts stay: Devanagari vowel signs carry meaning.
        assert_eq!(n("मारो"), "मारो");
    }

    #[test]
    fn arabic_tashkeel_tatweel_and_letter_variants() {
        // Tashkeel (fatha, shadda, sukun, kasra) dropped.
        assert_eq!(n("اُقْتُلُوهُمْ"), "اقتلوهم");
        assert_eq!(n("قَتَّلَ"), "قتل");
        // Tatweel (kashida) dropped.
        assert_eq!(n("اقتـــلوهم"), "اقتلوهم");
        // Alef variants, alef maksura, teh marbuta, hamza seats, Persian yeh and keheh.
        assert_eq!(n("أ إ آ ٱ ا"), "ا ا ا ا ا");
        assert_eq!(n("حشرة"), "حشره");
        assert_eq!(n("على"), "علي");
        assert_eq!(n("مؤامرة"), "موامره");
        assert_eq!(n("خائن"), "خاين");
        assert_eq!(n("کافر"), "كافر");
        assert_eq!(n("ی"), "ي");
        // Presentation forms decompose to the plain letters.
        assert_eq!(n("\u{FEE1}\u{FEE0}"), "مل");
    }

    #[test]
    fn elongated_repeats_squeeze_from_three() {
        assert_eq!(n("soooo"), "so");
        assert_eq!(n("SOOOO"), "so");
        assert_eq!(n("killllll"), "kil");
        // Two in a row is a spelling, not an elongation.
        assert_eq!(n("kill good kuua"), "kill good kuua");
        // Digits are not squeezed.
        assert_eq!(n("1000"), "1000");
        // Arabic letters elongated by repetition.
        assert_eq!(n("موووت"), "موت");
        let mut m = Normalised::default();
        m.normalise("a soooo b");
        assert_eq!(m.as_str(), "a so b");
        assert_eq!(m.run_at(3), 4);
        assert_eq!(m.run_at(2), 1);
        assert_eq!(m.original_range(2, 4), (2, 7));
    }

    #[test]
    fn zero_width_characters_inside_a_word_are_dropped() {
        assert_eq!(n("ki\u{200B}ll"), "kill");
        assert_eq!(n("ki\u{200D}ll them"), "kill them");
        assert_eq!(n("ki\u{200C}l\u{00AD}l"), "kill");
        assert_eq!(n("\u{FEFF}kill"), "kill");
        assert_eq!(n("ق\u{200D}تل"), "قتل");
        let mut m = Normalised::default();
        m.normalise("ki\u{200B}ll x");
        // "kill" covers the invisible character in the original.
        assert_eq!(m.original_range(0, 4), (0, 7));
        assert_eq!(m.original_range(5, 6), (8, 9));
    }

    #[test]
    fn cyrillic_lookalikes_in_a_latin_word_become_latin() {
        // Cyrillic і and о inside Latin words.
        assert_eq!(n("kіll cоckroaches"), "kill cockroaches");
        assert_eq!(n("KІLL"), "kill");
        // A wholly Cyrillic word stays Cyrillic.
        assert_eq!(n("Сосед"), "сосед");
        assert_eq!(n("тараканы"), "тараканы");
        // Greek omicron in a Latin word.
        assert_eq!(n("vermιn"), "vermin");
        let mut m = Normalised::default();
        m.normalise("kіll");
        assert_eq!(m.as_str(), "kill");
        assert_eq!(m.original_range(0, 4), (0, 5));
        assert_eq!(m.original_range(1, 2), (1, 3));
    }

    #[test]
    fn leetspeak_only_in_mixed_words() {
        assert_eq!(n("k1ll th3m"), "kill them");
        assert_eq!(n("C0CKR04CH"), "cockroach");
        assert_eq!(n("r@pe"), "rape");
        // 2 and 6 stand for no letter: they stay digits in a mixed word.
        assert_eq!(n("b2b 6ix k1ll2"), "b2b 6ix kill2");
        // Numbers alone are numbers.
        assert_eq!(n("in 2024 at 10:30"), "in 2024 at 10:30");
        assert_eq!(n("1 2 3"), "1 2 3");
        // A handle or a price is no leetspeak.
        assert_eq!(n("@user $5"), "@user $5");
        // Mixed with non-ASCII letters too.
        assert_eq!(n("ɓ4rawo"), "ɓarawo");
    }

    #[test]
    fn swahili_words_keep_their_noun_class_prefixes() {
        // Normalisation never strips prefixes; the scanner's affix rules do that per term.
        assert_eq!(n("Madoadoa WATU"), "madoadoa watu");
    }

    #[test]
    fn offsets_map_to_char_boundaries_of_the_original() {
        for s in [
            "",
            "a",
            "soooo",
            "k1ll",
            "kіll",
            "اقتـــلوهم",
            "e\u{301}",
            "\u{FDFA}",
            "ﬃ x",
            "İİİ",
            "so\u{200B}ooo",
            "aaa\u{301}a",
            "ßßß",
            "ẞẞẞẞ",
            "ǅǅǅ",
        ] {
            check_map(s);
        }
    }
}
