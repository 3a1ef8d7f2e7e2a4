//! Report categories, their keyword codes, and the small word lists the
//! parser uses to guess a language and to notice an unknown place name.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::Lang;

/// What a coded report says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// An attack on people or a place.
    Attack,
    /// Armed men or an armed group moving, gathering or seen.
    ArmedMovement,
    /// A threat against a person or a community.
    Threat,
    /// Hate speech, incitement.
    HateSpeech,
    /// Abduction, kidnapping.
    Abduction,
    /// Rape and other sexual violence.
    SexualViolence,
    /// People fleeing, displaced.
    Displacement,
    /// Looting, burning of houses, fields or property.
    LootingBurning,
    /// A rumour to be checked.
    Rumour,
}

impl Category {
    /// Every category, in a fixed order.
    pub const ALL: [Category; 9] = [
        Category::Attack,
        Category::ArmedMovement,
        Category::Threat,
        Category::HateSpeech,
        Category::Abduction,
        Category::SexualViolence,
        Category::Displacement,
        Category::LootingBurning,
        Category::Rumour,
    ];

    /// Stable snake_case name, as stored and serialised: `attack`,
    /// `armed_movement`, `threat`, `hate_speech`, `abduction`,
    /// `sexual_violence`, `displacement`, `looting_burning`, `rumour`.
    pub fn code(self) -> &'static str {
        match self {
            Category::Attack => "attack",
            Category::ArmedMovement => "armed_movement",
            Category::Threat => "threat",
            Category::HateSpeech => "hate_speech",
            Category::Abduction => "abduction",
            Category::SexualViolence => "sexual_violence",
            Category::Displacement => "displacement",
            Category::LootingBurning => "looting_burning",
            Category::Rumour => "rumour",
        }
    }

    /// Parse a name given by [`Category::code`].
    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.code() == s)
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The keyword codes, as documented in the crate docs (the tables there must
/// list exactly these; a test checks it). Matching folds case and diacritics
/// and Arabic letter variants ([`tocsin_geo::normalize`]).
const KEYWORDS: &[(Lang, Category, &[&str])] = &[
    (Lang::En, Category::Attack, &["ATTACK", "ATK", "ASSAULT"]),
    (
        Lang::En,
        Category::ArmedMovement,
        &["MOVE", "MOVEMENT", "ARMED"],
    ),
    (Lang::En, Category::Threat, &["THREAT", "THREATS"]),
    (Lang::En, Category::HateSpeech, &["HATE", "HATE SPEECH"]),
    (
        Lang::En,
        Category::Abduction,
        &["ABDUCT", "ABDUCTION", "KIDNAP", "KIDNAPPING"],
    ),
    (
        Lang::En,
        Category::SexualViolence,
        &["RAPE", "SV", "GBV", "SEXUAL VIOLENCE"],
    ),
    (
        Lang::En,
        Category::Displacement,
        &["FLEE", "FLED", "DISPLACED", "DISPLACEMENT", "IDP", "IDPS"],
    ),
    (
        Lang::En,
        Category::LootingBurning,
        &["LOOT", "LOOTING", "BURN", "BURNING", "ARSON"],
    ),
    (
        Lang::En,
        Category::Rumour,
        &["RUMOUR", "RUMOR", "RUMOURS", "RUMORS"],
    ),
    (Lang::Fr, Category::Attack, &["ATTAQUE", "ATT", "ATQ"]),
    (
        Lang::Fr,
        Category::ArmedMovement,
        &["MOUVEMENT", "MVT", "ARMÉS"],
    ),
    (Lang::Fr, Category::Threat, &["MENACE", "MENACES"]),
    (
        Lang::Fr,
        Category::HateSpeech,
        &["HAINE", "DISCOURS DE HAINE"],
    ),
    (
        Lang::Fr,
        Category::Abduction,
        &["ENLÈVEMENT", "ENLÈVEMENTS", "RAPT"],
    ),
    (
        Lang::Fr,
        Category::SexualViolence,
        &["VIOL", "VIOLS", "VBG", "VIOLENCES SEXUELLES"],
    ),
    (
        Lang::Fr,
        Category::Displacement,
        &["FUITE", "DÉPLACÉS", "DÉPLACEMENT"],
    ),
    (
        Lang::Fr,
        Category::LootingBurning,
        &["PILLAGE", "PILLAGES", "INCENDIE", "INCENDIES"],
    ),
    (Lang::Fr, Category::Rumour, &["RUMEUR", "RUMEURS"]),
    (
        Lang::Sw,
        Category::Attack,
        &["SHAMBULIO", "SHAMBULIZI", "MASHAMBULIZI"],
    ),
    (
        Lang::Sw,
        Category::ArmedMovement,
        &["WANAMGAMBO", "SILAHA", "HARAKATI"],
    ),
    (Lang::Sw, Category::Threat, &["TISHIO", "VITISHO"]),
    (
        Lang::Sw,
        Category::HateSpeech,
        &["CHUKI", "MATAMSHI YA CHUKI"],
    ),
    (
        Lang::Sw,
        Category::Abduction,
        &["UTEKAJI", "UTEKAJI NYARA", "KUTEKWA"],
    ),
    (Lang::Sw, Category::SexualViolence, &["UBAKAJI", "KUBAKWA"]),
    (Lang::Sw, Category::Displacement, &["WAKIMBIZI", "KUKIMBIA"]),
    (
        Lang::Sw,
        Category::LootingBurning,
        &["UPORAJI", "UCHOMAJI", "MOTO"],
    ),
    (Lang::Sw, Category::Rumour, &["UVUMI", "TETESI"]),
    (Lang::Ar, Category::Attack, &["هجوم", "اعتداء"]),
    (
        Lang::Ar,
        Category::ArmedMovement,
        &["تحرك", "تحركات", "مسلحين", "مسلحون"],
    ),
    (Lang::Ar, Category::Threat, &["تهديد", "تهديدات"]),
    (Lang::Ar, Category::HateSpeech, &["كراهية", "خطاب كراهية"]),
    (Lang::Ar, Category::Abduction, &["اختطاف", "خطف"]),
    (Lang::Ar, Category::SexualViolence, &["اغتصاب", "عنف جنسي"]),
    (
        Lang::Ar,
        Category::Displacement,
        &["نزوح", "نازحين", "تهجير"],
    ),
    (Lang::Ar, Category::LootingBurning, &["نهب", "حرق", "إحراق"]),
    (
        Lang::Ar,
        Category::Rumour,
        &["إشاعة", "شائعة", "إشاعات", "شائعات"],
    ),
];

/// Keywords that are also ordinary words of another supported language
/// (`MOTO` is "fire" in Swahili and "motorbike" in French): they count only
/// when written in capitals and when the rest of the message is not more
/// French or English than Swahili.
const WEAK_KEYWORDS: &[&str] = &["MOTO"];

/// The keyword codes of one category in one language, as documented (upper
/// case, with their diacritics), e.g. to print a help message.
///
/// ```
/// use tocsin_sms::{keyword_codes, Category, Lang};
/// assert!(keyword_codes(Lang::Fr, Category::Attack).contains(&"ATTAQUE"));
/// ```
pub fn keyword_codes(lang: Lang, category: Category) -> &'static [&'static str] {
    KEYWORDS
        .iter()
        .find(|(l, c, _)| *l == lang && *c == category)
        .map_or(&[], |(_, _, codes)| codes)
}

/// Words that tell a language apart (normalised like place names: lower
/// case, no diacritics). Each occurrence in a message scores one point for
/// its language. Words shared by two of the languages (`a`, `on`, `la`,
/// `village`, `route`) are left out.
const EN_WORDS: &str = "the and of in at is are was were has have had been this that these those \
    with from they their there them we our you he she his her it its for not but by into after before \
    near people men women children child killed dead wounded injured armed attacked burned burnt houses \
    house morning night evening afternoon today yesterday tonight tomorrow please help soldiers rebels \
    fighters militia fled fleeing town market many some several who what where when now still send \
    being will would can could about around outside towards toward shot shooting gunmen gunfire \
    heard seen saw coming came going went left arrived";
const FR_WORDS: &str = "le les des du de et est sont dans pres ce cet cette ces il ils elle elles nous \
    vous vs je qui que pour par sur avec sans mais pas plus tres au aux un une hommes femmes enfants \
    morts mort tues tue blesses blesse armes attaque attaques attaquent maisons brulees brule brules \
    fuient fui gens quartier hier matin soir nuit aujourd hui demain merci svp groupe vers ont ete \
    leurs leur notre nos deja beaucoup plusieurs personnes rebelles militaires soldats coups feu \
    tirs entendu vu venus arrives partis";
const SW_WORDS: &str = "na ya wa za kwa katika kwenye watu mtu kijiji vijiji mji leo jana asubuhi \
    usiku jioni mchana nyumba wenye karibu sana msaada tafadhali wanajeshi askari waasi watoto \
    wanawake wanaume hapa huko kuna ni hii huu hiyo hao hawa pia lakini bado sasa watatu wawili \
    wanne watano moja mbili tatu nne tano sisi wao yeye mimi wameuawa wamekufa wamejeruhiwa wamekimbia \
    wamechoma zimechomwa walishambulia wameshambulia soko barabara kambi hakuna ndiyo habari salama \
    haraka tunaomba naomba risasi milio";
/// Swahili verb prefixes (subject + tense): a word of 6+ letters starting
/// with one of these and not otherwise known scores a point for Swahili.
const SW_PREFIXES: &[&str] = &[
    "wame", "wali", "wana", "wata", "zime", "zili", "kume", "kuli", "tume", "tuli", "nime", "yame",
    "yali", "vime", "vili",
];
/// Arabic words common in reports, never a place name (Arabic needs no
/// scoring: any Arabic-script word counts for Arabic).
const AR_COMMON: &str =
    "في من على الى إلى عن مع هذا هذه ذلك تلك التي الذي صباح مساء ليل ليلة يوم اليوم \
    أمس غدا الآن قرية سوق مخيم منطقة مدينة بيت منزل منازل طريق شارع ناس الناس أشخاص اشخاص جيش شرطة \
    قتلى قتل جرحى مسلح مسلحة رجال نساء أطفال بعد قبل حوالي نحو عند قرب بالقرب";
/// Other common words: shared between languages or report vocabulary that is
/// neither a place name nor evidence of a language.
const OTHER_COMMON: &str = "a on la village villages route camp police population radio taxi moto \
    km kms sos ok stop info urgent alerte alert help";
/// Words before a place: "in Bria", "à Bria", "katika Bria", "في بانغي".
const PREPOSITIONS: &str = "in at near around outside from towards toward a au aux vers pres dans \
    katika kwenye huko karibu في على قرب عند إلى الى نحو بالقرب";
/// Short words that may stand between a preposition and a place name
/// ("près de Bria", "karibu na Beni", "بالقرب من").
const CONNECTORS: &str = "de du d des of na ya من";
/// Articles skipped after a preposition in mixed-case text ("in the Nord").
const ARTICLES: &str = "the la le l les";

/// A keyword entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keyword {
    pub lang: Lang,
    pub category: Category,
    /// See [`WEAK_KEYWORDS`].
    pub weak: bool,
    /// Number of words.
    pub words: usize,
}

/// What the parser knows about a (normalised) word.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WordInfo {
    /// Bit `Lang::index()` set: the word is evidence for that language.
    pub langs: u8,
    /// Never read as a place name by the unresolved-place heuristic.
    pub common: bool,
    /// A preposition before places.
    pub preposition: bool,
    /// A connector after a preposition.
    pub connector: bool,
    /// An article (skipped after a preposition in mixed-case text).
    pub article: bool,
}

/// Word lists, normalised once.
pub(crate) struct Lexicon {
    pub keywords: HashMap<String, Keyword>,
    pub max_keyword_words: usize,
    pub words: HashMap<String, WordInfo>,
}

impl Lexicon {
    pub(crate) fn get() -> &'static Lexicon {
        static LEX: OnceLock<Lexicon> = OnceLock::new();
        LEX.get_or_init(Lexicon::build)
    }

    fn build() -> Lexicon {
        let mut keywords = HashMap::new();
        let mut words: HashMap<String, WordInfo> = HashMap::new();
        let mut max_keyword_words = 1;
        for &(lang, category, codes) in KEYWORDS {
            for code in codes {
                let key = tocsin_geo::normalize(code);
                let n = key.split(' ').count();
                max_keyword_words = max_keyword_words.max(n);
                let kw = Keyword {
                    lang,
                    category,
                    weak: WEAK_KEYWORDS.contains(code),
                    words: n,
                };
                let previous = keywords.insert(key.clone(), kw);
                debug_assert!(previous.is_none(), "keyword {code} listed twice");
                for w in key.split(' ') {
                    words.entry(w.to_string()).or_default().common = true;
                }
            }
        }
        let mut add = |list: &str, f: &dyn Fn(&mut WordInfo)| {
            for w in list.split_whitespace() {
                let key = tocsin_geo::normalize(w);
                if !key.is_empty() {
                    let e = words.entry(key).or_default();
                    e.common = true;
                    f(e);
                }
            }
        };
        add(EN_WORDS, &|e| e.langs |= 1 << Lang::En.index());
        add(FR_WORDS, &|e| e.langs |= 1 << Lang::Fr.index());
        add(SW_WORDS, &|e| e.langs |= 1 << Lang::Sw.index());
        add(AR_COMMON, &|_| {});
        add(OTHER_COMMON, &|_| {});
        add(PREPOSITIONS, &|e| e.preposition = true);
        add(CONNECTORS, &|e| e.connector = true);
        add(ARTICLES, &|e| e.article = true);
        Lexicon {
            keywords,
            max_keyword_words,
            words,
        }
    }

    /// Info on a normalised word (default: unknown).
    pub(crate) fn word(&self, w: &str) -> WordInfo {
        self.words.get(w).copied().unwrap_or_default()
    }
}

/// A Swahili-looking verb form (see [`SW_PREFIXES`]).
pub(crate) fn swahili_verb(w: &str) -> bool {
    w.len() >= 6 && w.is_ascii() && SW_PREFIXES.iter().any(|p| w.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_has_codes_in_every_language() {
        for l in Lang::ALL {
            for c in Category::ALL {
                assert!(!keyword_codes(l, c).is_empty(), "{l} {c}");
            }
        }
        for c in Category::ALL {
            assert_eq!(Category::parse(c.code()), Some(c));
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{c}\""));
        }
    }

    #[test]
    fn keywords_are_distinct_after_folding() {
        let n: usize = KEYWORDS.iter().map(|(_, _, c)| c.len()).sum();
        assert_eq!(Lexicon::get().keywords.len(), n);
        assert_eq!(Lexicon::get().max_keyword_words, 3);
    }

    #[test]
    fn scoring_words_are_not_keywords_of_another_language() {
        let lex = Lexicon::get();
        for (key, kw) in &lex.keywords {
            if kw.words == 1 {
                let info = lex.word(key);
                let others = info.langs & !(1 << kw.lang.index());
                assert_eq!(
                    others, 0,
                    "{key} is a {} keyword and scores for another language",
                    kw.lang
                );
            }
        }
    }
}
