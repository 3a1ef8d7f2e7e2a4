//! Reading a report SMS: keyword, language, place (see [`parse`]).

use serde::{Deserialize, Serialize};
use tocsin_geo::{Gazetteer, Match, MatchKind};
use unicode_normalization::char::is_combining_mark;

use crate::keywords::{swahili_verb, Keyword, Lexicon, WordInfo};
use crate::{Category, Lang};

/// Where a report happened, as resolved by the gazetteer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaceFix {
    /// The place as GeoNames writes it (`"Bria"`, `"Ndélé"`), or the name of
    /// the admin area or country when that is all the message named.
    pub name: String,
    /// ISO 3166-1 alpha-3 code of the country (`"CAF"`).
    pub country: String,
    /// First-level division (`"Haute-Kotto"`), where known.
    pub admin1: Option<String>,
    /// WGS 84 latitude of the place (for an area or a country, its seat or
    /// most populous place).
    pub latitude: f64,
    /// WGS 84 longitude, likewise.
    pub longitude: f64,
    /// ACLED-style precision ([`tocsin_geo::geo_precision`]): 1 the place
    /// itself, 2 "near" the place or an admin2 area, 3 an admin1 area or a
    /// whole country.
    pub geo_precision: u8,
}

/// What [`parse`] read in a message. The message itself is not kept here:
/// the caller stores it byte-exact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parsed {
    /// The language to answer in.
    pub language: Lang,
    /// The category given by a leading keyword code; `None` for free text.
    pub category: Option<Category>,
    /// The keyword code exactly as the sender wrote it (`"Attaque"`,
    /// `"ENLEVEMENT"`, `"hate speech"`).
    pub keyword: Option<String>,
    /// The place the gazetteer resolved, if any.
    pub place: Option<PlaceFix>,
    /// The words of the message that name the place, as written: those the
    /// gazetteer resolved (`"Kaga-Bandoro"`), or, when `unresolved_place`,
    /// those that seemed to name a place it does not know (`"Zzyzxville"`).
    pub place_text: Option<String>,
    /// The message seems to name a place but the gazetteer knows none of its
    /// words: an analyst should place it by hand. Always `false` when
    /// `place` is set.
    pub unresolved_place: bool,
}

/// Read a report SMS (or web-form text): its language, its category if it
/// starts with a keyword code, and the place it names. Uses the shared
/// gazetteer ([`Gazetteer::global`], loaded on first use); see [`parse_with`].
/// The syntax is described in the [crate documentation](crate).
///
/// `country_hint` is the country the deployment or the gateway covers, in
/// any form [`tocsin_geo::country_code`] accepts (`"CAF"`, `"CF"`,
/// `"Centrafrique"`): places there win over homonyms elsewhere, and it picks
/// the answer language of a message that gives no other clue.
///
/// Never fails and never panics, whatever the text (emoji, mixed scripts,
/// control characters, 64 kB).
///
/// ```
/// use tocsin_sms::{parse, Category, Lang};
/// let p = parse("ATTAQUE Bria 5 morts", Some("CAF"));
/// assert_eq!(p.language, Lang::Fr);
/// assert_eq!(p.category, Some(Category::Attack));
/// assert_eq!(p.place.unwrap().admin1.as_deref(), Some("Haute-Kotto"));
/// ```
pub fn parse(text: &str, country_hint: Option<&str>) -> Parsed {
    parse_with(Gazetteer::global(), text, country_hint)
}

/// [`parse`] with a gazetteer the caller loaded itself.
pub fn parse_with(gazetteer: &Gazetteer, text: &str, country_hint: Option<&str>) -> Parsed {
    let lex = Lexicon::get();
    let words = Words::split(text);
    let infos: Vec<WordInfo> = words.list.iter().map(|w| lex.word(words.norm(w))).collect();

    let found = find_keyword(lex, &words);
    let scores = language_scores(&words, &infos, found.map_or(0, |k| k.words));
    // A weak keyword (MOTO) needs capitals and a body not more of another language.
    let keyword = found.filter(|k| {
        !k.weak || (words.list[0].all_caps && scores.iter().all(|&s| s <= scores[k.lang.index()]))
    });
    let body_from = keyword.map_or(0, |k| k.words);
    let scores = if found.is_some() && keyword.is_none() {
        language_scores(&words, &infos, 0)
    } else {
        scores
    };
    let language = pick_language(scores, keyword.map(|k| k.lang), country_hint);

    let kw_span = keyword.map(|k| (words.list[0].start, words.list[k.words - 1].end));
    let (place, place_text) = match best_place(gazetteer, text, country_hint, kw_span) {
        Some((m, fix)) => (Some(fix), Some(text[m.0..m.1].to_string())),
        None => (None, None),
    };
    let (place_text, unresolved_place) = if place.is_some() {
        (place_text, false)
    } else {
        match suspect_place(&words, &infos, body_from, keyword.is_some()) {
            Some((s, e)) => (Some(text[s..e].to_string()), true),
            None => (None, false),
        }
    };

    Parsed {
        language,
        category: keyword.map(|k| k.category),
        keyword: kw_span.map(|(s, e)| text[s..e].to_string()),
        place,
        place_text,
        unresolved_place,
    }
}

/// The leading keyword: the longest code (up to three words) that the
/// message's first words spell.
fn find_keyword(lex: &Lexicon, words: &Words) -> Option<Keyword> {
    let n = words.list.len().min(lex.max_keyword_words);
    (1..=n).rev().find_map(|k| {
        let key = &words.folded[words.list[0].norm.0..words.list[k - 1].norm.1];
        lex.keywords.get(key).filter(|kw| kw.words == k).copied()
    })
}

/// Points per language from the words from `from` on: listed words of
/// en/fr/sw, Swahili verb forms, and every Arabic-script word for Arabic.
fn language_scores(words: &Words, infos: &[WordInfo], from: usize) -> [u32; 4] {
    let mut s = [0u32; 4];
    for (w, info) in words.list.iter().zip(infos).skip(from) {
        if w.arabic {
            s[Lang::Ar.index()] += 1;
        } else if info.langs != 0 {
            for l in Lang::ALL {
                if info.langs & (1 << l.index()) != 0 {
                    s[l.index()] += 1;
                }
            }
        } else if swahili_verb(words.norm(w)) {
            s[Lang::Sw.index()] += 1;
        }
    }
    s
}

/// The keyword's language counts two points; the highest score wins; ties go
/// to the keyword's language, then the country's, then en, fr, sw, ar; no
/// evidence at all gives the country's language ([`lang::default_for_country`](crate::default_for_country)).
fn pick_language(mut scores: [u32; 4], keyword: Option<Lang>, hint: Option<&str>) -> Lang {
    if let Some(l) = keyword {
        scores[l.index()] += 2;
    }
    let country = crate::lang::default_for_country(hint);
    let best = scores.iter().copied().max().unwrap_or(0);
    if best == 0 {
        return country;
    }
    let tied = |l: Lang| scores[l.index()] == best;
    if let Some(l) = keyword.filter(|&l| tied(l)) {
        return l;
    }
    if tied(country) {
        return country;
    }
    Lang::ALL.into_iter().find(|&l| tied(l)).unwrap_or(country)
}

/// The most specific place the gazetteer finds (a populated place before an
/// admin2, admin1 or country), preferring the hinted country, then the first
/// in the text; never the keyword itself.
fn best_place(
    g: &Gazetteer,
    text: &str,
    hint: Option<&str>,
    kw_span: Option<(usize, usize)>,
) -> Option<((usize, usize), PlaceFix)> {
    let mut matches = g.find_in_text(text, hint);
    if let Some((ks, ke)) = kw_span {
        if matches.iter().any(|m| m.start < ke && m.end > ks) {
            // The keyword was read as (part of) a name: blank it out, keeping
            // byte offsets, and look again.
            let mut blanked = String::with_capacity(text.len());
            blanked.push_str(&text[..ks]);
            blanked.extend(std::iter::repeat_n(' ', ke - ks));
            blanked.push_str(&text[ke..]);
            matches = g.find_in_text(&blanked, hint);
            matches.retain(|m| m.start >= ke || m.end <= ks);
        }
    }
    let hint3 = hint.and_then(tocsin_geo::country_code);
    let rank = |k: MatchKind| match k {
        MatchKind::Place => 0,
        MatchKind::Admin2 => 1,
        MatchKind::Admin1 => 2,
        MatchKind::Country => 3,
    };
    let m: &Match<'_> = matches.iter().min_by_key(|m| {
        let foreign = hint3.is_some_and(|h| m.candidates[0].country != h);
        (foreign, rank(m.kind), m.start)
    })?;
    let c = &m.candidates[0];
    Some((
        (m.start, m.end),
        PlaceFix {
            name: c.name.to_string(),
            country: c.country.to_string(),
            admin1: c.admin1.map(str::to_string),
            latitude: c.lat,
            longitude: c.lon,
            geo_precision: m.geo_precision(),
        },
    ))
}

/// Words that seem to name a place the gazetteer does not know: the first
/// word after a keyword, or the first word after a preposition ("in", "à",
/// "katika", "karibu na", "في"...; a plain `a` only in mixed-case text), when
/// it looks like a name (see [`name_like`]); then up to two more name-like
/// words. Returns a byte span.
fn suspect_place(
    words: &Words,
    infos: &[WordInfo],
    body_from: usize,
    has_keyword: bool,
) -> Option<(usize, usize)> {
    let like = |i: usize| i < words.list.len() && name_like(words, infos, i);
    let run = |i: usize| {
        let mut j = i;
        while j + 1 < words.list.len() && j < i + 2 && like(j + 1) {
            j += 1;
        }
        (words.list[i].start, words.list[j].end)
    };
    if has_keyword && like(body_from) {
        return Some(run(body_from));
    }
    for i in body_from..words.list.len() {
        // French `a` without its accent is also "has" (`il a fui`): a
        // preposition only where capitals can confirm the name after it.
        let plain_a = words.list[i].ascii && words.norm(&words.list[i]) == "a";
        if !infos[i].preposition || (plain_a && !words.mixed_case) {
            continue;
        }
        let mut j = i + 1;
        let mut skipped = 0;
        while j < words.list.len()
            && skipped < 2
            && (infos[j].connector || (words.mixed_case && infos[j].article))
        {
            j += 1;
            skipped += 1;
        }
        if like(j) {
            return Some(run(j));
        }
    }
    None
}

/// A word that may be a name: starts with a letter, has 2+ characters, is
/// no keyword nor common word of the lists, and — in text mixing upper and
/// lower case — starts with a capital (Arabic has no case).
fn name_like(words: &Words, infos: &[WordInfo], i: usize) -> bool {
    let w = &words.list[i];
    w.starts_with_letter
        && !infos[i].common
        && words.norm(w).chars().count() >= 2
        && (w.arabic || !words.mixed_case || w.capitalised)
}

/// One word of the message.
#[derive(Debug, Clone, Copy)]
struct Word {
    /// Byte span in the message.
    start: usize,
    end: usize,
    /// Byte span of its folded form in [`Words::folded`].
    norm: (usize, usize),
    starts_with_letter: bool,
    capitalised: bool,
    all_caps: bool,
    arabic: bool,
    /// Written in ASCII only.
    ascii: bool,
}

/// The message cut into words and folded like the gazetteer folds names
/// ([`tocsin_geo::normalize`]), words joined by single spaces. Unlike the
/// gazetteer, an apostrophe always separates words here (`l'axe` → `l axe`).
struct Words {
    folded: String,
    list: Vec<Word>,
    mixed_case: bool,
}

impl Words {
    fn norm(&self, w: &Word) -> &str {
        &self.folded[w.norm.0..w.norm.1]
    }

    fn split(text: &str) -> Words {
        let mut out = Words {
            folded: String::with_capacity(text.len() + 8),
            list: Vec::new(),
            mixed_case: false,
        };
        let (mut upper, mut lower) = (false, false);
        let mut start: Option<usize> = None;
        for (i, c) in text
            .char_indices()
            .chain(std::iter::once((text.len(), ' ')))
        {
            if let Some(kind) = word_char(c) {
                start.get_or_insert(i);
                if kind == CharKind::Cased {
                    upper |= c.is_uppercase();
                    lower |= c.is_lowercase();
                }
            } else if let Some(s) = start.take() {
                out.push(text, s, i);
            }
        }
        out.mixed_case = upper && lower;
        out
    }

    fn push(&mut self, text: &str, start: usize, end: usize) {
        let word = &text[start..end];
        let len_before = self.folded.len();
        if len_before > 0 {
            self.folded.push(' ');
        }
        let at = self.folded.len();
        if word.is_ascii() {
            self.folded
                .extend(word.chars().map(|c| c.to_ascii_lowercase()));
        } else if !fold_arabic(word, &mut self.folded) {
            self.folded.truncate(at);
            self.folded.push_str(&tocsin_geo::normalize(word));
        }
        if self.folded.len() == at {
            // Only dropped characters (a lone tatweel or mark): no word.
            self.folded.truncate(len_before);
            return;
        }
        let first = word.chars().next().unwrap_or(' ');
        let arabic = is_arabic(first);
        let (mut up, mut low) = (0usize, 0usize);
        if !arabic {
            for c in word.chars() {
                up += usize::from(c.is_uppercase());
                low += usize::from(c.is_lowercase());
            }
        }
        self.list.push(Word {
            start,
            end,
            norm: (at, self.folded.len()),
            starts_with_letter: if arabic {
                arabic_letter(first)
            } else {
                first.is_alphabetic()
            },
            capitalised: !arabic && first.is_uppercase(),
            all_caps: up >= 2 && low == 0,
            arabic,
            ascii: word.is_ascii(),
        });
    }
}

/// What a word character is, for the case statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CharKind {
    /// Arabic script: no case.
    Caseless,
    /// Anything else: may have case.
    Cased,
}

/// `Some` for a character that is part of a word: a letter or digit, a
/// combining mark (Arabic harakat), a zero-width joiner / non-joiner or a
/// soft hyphen. The Arabic block is decided by ranges, because
/// `char::is_alphanumeric` is slow there.
fn word_char(c: char) -> Option<CharKind> {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric().then_some(CharKind::Cased);
    }
    if ('\u{0600}'..='\u{06FF}').contains(&c) {
        return arabic_block_word_char(c).then_some(CharKind::Caseless);
    }
    let word = c.is_alphanumeric()
        || is_combining_mark(c)
        || matches!(c, '\u{200C}' | '\u{200D}' | '\u{00AD}');
    word.then_some(if is_arabic(c) {
        CharKind::Caseless
    } else {
        CharKind::Cased
    })
}

/// Letters, digits and marks of the Arabic block (U+0600–U+06FF), leaving
/// out its punctuation and symbols (`،` `؛` `؟` `٪` `۔`, number signs...).
fn arabic_block_word_char(c: char) -> bool {
    matches!(c as u32,
        0x0610..=0x061A | 0x0620..=0x0669 | 0x066E..=0x06D3 | 0x06D5..=0x06DC
        | 0x06DF..=0x06E8 | 0x06EA..=0x06FC | 0x06FF)
}

/// An Arabic-block letter (not a digit, a mark or tatweel).
fn arabic_letter(c: char) -> bool {
    matches!(c as u32,
        0x0620..=0x063F | 0x0641..=0x064A | 0x066E..=0x066F | 0x0671..=0x06D3 | 0x06D5
        | 0x06EE..=0x06EF | 0x06FA..=0x06FC | 0x06FF)
}

/// Fold an Arabic word as [`tocsin_geo::normalize`] does (the same letter
/// variants; marks and tatweel dropped; a leading `ال` removed from a word of
/// four letters or more) without its general Unicode machinery. Returns
/// `false`, having possibly written part of the word, when a character is
/// not a plain letter, digit or mark of the Arabic block; the caller then
/// uses `tocsin_geo::normalize`. A test checks both agree.
fn fold_arabic(word: &str, out: &mut String) -> bool {
    let start = out.len();
    for c in word.chars() {
        match c {
            'أ' | 'إ' | 'آ' | 'ٱ' => out.push('ا'),
            'ة' => out.push('ه'),
            'ى' | 'ئ' | 'ی' | 'ې' => out.push('ي'),
            'ؤ' => out.push('و'),
            'ک' => out.push('ك'),
            // Tatweel and marks (harakat, Quranic marks).
            '\u{0640}'
            | '\u{0610}'..='\u{061A}'
            | '\u{064B}'..='\u{065F}'
            | '\u{0670}'
            | '\u{06D6}'..='\u{06DC}'
            | '\u{06DF}'..='\u{06E4}'
            | '\u{06E7}'..='\u{06E8}'
            | '\u{06EA}'..='\u{06ED}' => {}
            // Letters and digits without a compatibility decomposition.
            '\u{0620}'..='\u{063F}'
            | '\u{0641}'..='\u{064A}'
            | '\u{0660}'..='\u{0669}'
            | '\u{066E}'..='\u{066F}'
            | '\u{0671}'..='\u{0674}'
            | '\u{0679}'..='\u{06BF}'
            | '\u{06C1}'
            | '\u{06C3}'..='\u{06D2}'
            | '\u{06D5}'
            | '\u{06E5}'..='\u{06E6}'
            | '\u{06EE}'..='\u{06FC}'
            | '\u{06FF}' => out.push(c),
            _ => return false,
        }
    }
    if out[start..].starts_with("ال") && out[start..].chars().count() >= 4 {
        out.replace_range(start..start + "ال".len(), "");
    }
    true
}

/// Arabic script (the blocks the gazetteer treats as Arabic).
fn is_arabic(c: char) -> bool {
    matches!(c as u32, 0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_like_the_gazetteer() {
        let w = Words::split("ATTAQUE, à Ndélé! l'axe 20km هُجُوم 🙂 x");
        let norms: Vec<&str> = w.list.iter().map(|x| w.norm(x)).collect();
        assert_eq!(
            norms,
            ["attaque", "a", "ndele", "l", "axe", "20km", "هجوم", "x"]
        );
        assert!(w.mixed_case);
        assert!(w.list[0].all_caps && w.list[0].capitalised);
        assert!(w.list[6].arabic);
        assert!(!w.list[5].starts_with_letter);
    }

    #[test]
    fn arabic_fast_path_agrees_with_the_gazetteer() {
        let mut words: Vec<String> = (0x0600u32..=0x06FF)
            .filter_map(char::from_u32)
            .map(|c| format!("ب{c}ب"))
            .collect();
        words.extend(
            [
                "الخرطوم",
                "الخُرْطُوم",
                "إشاعة",
                "شائعات",
                "الآن",
                "ال",
                "الى",
                "ٱلقرية",
                "مـــسلحين",
                "کراهية",
                "٣٤٥",
                "۱۲",
                "ۀ",
                "ۓبب",
                "الۀ",
                "ﻫﺠﻮﻡ",
            ]
            .map(String::from),
        );
        for w in words {
            let geo = tocsin_geo::normalize(&w);
            let mine = Words::split(&w);
            assert_eq!(mine.folded, geo, "{w:?}");
            let joined: Vec<&str> = mine.list.iter().map(|x| mine.norm(x)).collect();
            assert_eq!(joined.join(" "), geo, "{w:?}");
        }
    }

    #[test]
    fn keyword_phrases_win_over_single_words() {
        let lex = Lexicon::get();
        let w = Words::split("Discours de haine à Bria");
        let k = find_keyword(lex, &w).unwrap();
        assert_eq!((k.category, k.words), (Category::HateSpeech, 3));
        let w = Words::split("HATE speech");
        assert_eq!(find_keyword(lex, &w).unwrap().words, 2);
        let w = Words::split("HATE");
        assert_eq!(find_keyword(lex, &w).unwrap().words, 1);
        assert!(find_keyword(lex, &Words::split("")).is_none());
    }
}
