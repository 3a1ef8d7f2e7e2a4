//! Tocsin's SMS layer without I/O: what to make of a text message and its
//! sender before anything is stored, and what to answer. No SQL, no HTTP, no
//! network; the gateways, storage and outbox live elsewhere.
//!
//! * [`normalize_phone`] turns a sender into E.164 (`+23670012345`), the
//!   form to hash with `ContactKey::lookup_hash`, and tells a person from an
//!   alphanumeric sender or a short code ([`PhoneError::is_not_a_person`]).
//! * [`parse`] reads a report: its language ([`Lang`]), the [`Category`] of
//!   a leading keyword code, and the place it names, resolved by the
//!   embedded gazetteer ([`tocsin_geo`]) into a [`PlaceFix`] — or flagged as
//!   [`Parsed::unresolved_place`] when it names a place the gazetteer does
//!   not know.
//! * [`ack_text`] is the acknowledgement in the sender's language, quoting a
//!   [`reference_code`] derived from the report id; [`parse_reference`] and
//!   [`find_reference`] read such a code back; [`gsm7_septets`] says whether
//!   a text fits the GSM 7-bit alphabet.
//!
//! # Report syntax
//!
//! A report may start with a **keyword code** giving its category, followed
//! by the place and anything else, in any order: `ATTAQUE Bria 5 morts`,
//! `SHAMBULIO Bangui watu 5 wameuawa`, `هجوم في الخرطوم`, `rumour: rebels
//! coming to Kaga-Bandoro tomorrow`. Codes are recognised only as the first
//! word(s) of the message; case, accents and Arabic letter variants do not
//! matter (`enlevement` = `ENLÈVEMENT`, `الهجوم` = `هجوم`), and punctuation
//! around them is ignored (`#ATTACK:`, `*VIOL*`). A message without a code
//! is free text: it has no category, but still gets a language and a place.
//!
//! ## English
//!
//! | Category | Codes |
//! |----------|-------|
//! | Attack | `ATTACK`, `ATK`, `ASSAULT` |
//! | Armed group movement | `MOVE`, `MOVEMENT`, `ARMED` |
//! | Threat | `THREAT`, `THREATS` |
//! | Hate speech | `HATE`, `HATE SPEECH` |
//! | Abduction | `ABDUCT`, `ABDUCTION`, `KIDNAP`, `KIDNAPPING` |
//! | Sexual violence | `RAPE`, `SV`, `GBV`, `SEXUAL VIOLENCE` |
//! | Displacement | `FLEE`, `FLED`, `DISPLACED`, `DISPLACEMENT`, `IDP`, `IDPS` |
//! | Looting, burning | `LOOT`, `LOOTING`, `BURN`, `BURNING`, `ARSON` |
//! | Rumour | `RUMOUR`, `RUMOR`, `RUMOURS`, `RUMORS` |
//!
//! ## French
//!
//! | Catégorie | Codes |
//! |-----------|-------|
//! | Attaque | `ATTAQUE`, `ATT`, `ATQ` |
//! | Mouvement armé | `MOUVEMENT`, `MVT`, `ARMÉS` |
//! | Menace | `MENACE`, `MENACES` |
//! | Discours de haine | `HAINE`, `DISCOURS DE HAINE` |
//! | Enlèvement | `ENLÈVEMENT`, `ENLÈVEMENTS`, `RAPT` |
//! | Violences sexuelles | `VIOL`, `VIOLS`, `VBG`, `VIOLENCES SEXUELLES` |
//! | Déplacement | `FUITE`, `DÉPLACÉS`, `DÉPLACEMENT` |
//! | Pillage, incendie | `PILLAGE`, `PILLAGES`, `INCENDIE`, `INCENDIES` |
//! | Rumeur | `RUMEUR`, `RUMEURS` |
//!
//! ## Swahili
//!
//! | Aina | Codes |
//! |------|-------|
//! | Shambulio (attack) | `SHAMBULIO`, `SHAMBULIZI`, `MASHAMBULIZI` |
//! | Harakati za wanamgambo (armed movement) | `WANAMGAMBO`, `SILAHA`, `HARAKATI` |
//! | Tishio (threat) | `TISHIO`, `VITISHO` |
//! | Matamshi ya chuki (hate speech) | `CHUKI`, `MATAMSHI YA CHUKI` |
//! | Utekaji nyara (abduction) | `UTEKAJI`, `UTEKAJI NYARA`, `KUTEKWA` |
//! | Ubakaji (sexual violence) | `UBAKAJI`, `KUBAKWA` |
//! | Wakimbizi (displacement) | `WAKIMBIZI`, `KUKIMBIA` |
//! | Uporaji, uchomaji (looting, burning) | `UPORAJI`, `UCHOMAJI`, `MOTO`¹ |
//! | Uvumi (rumour) | `UVUMI`, `TETESI` |
//!
//! ¹ `MOTO` ("fire") is also French for "motorbike": it counts as a code
//! only written in capitals, and only when the rest of the message is not
//! more French or English than Swahili (`MOTO Bria nyumba 10` yes, `moto
//! taxi attaqué à Bria` no).
//!
//! ## Arabic
//!
//! | الفئة (category) | Codes |
//! |------------------|-------|
//! | هجوم (attack) | `هجوم`, `اعتداء` |
//! | تحرك مسلح (armed movement) | `تحرك`, `تحركات`, `مسلحين`, `مسلحون` |
//! | تهديد (threat) | `تهديد`, `تهديدات` |
//! | خطاب كراهية (hate speech) | `كراهية`, `خطاب كراهية` |
//! | اختطاف (abduction) | `اختطاف`, `خطف` |
//! | عنف جنسي (sexual violence) | `اغتصاب`, `عنف جنسي` |
//! | نزوح (displacement) | `نزوح`, `نازحين`, `تهجير` |
//! | نهب وحرق (looting, burning) | `نهب`, `حرق`, `إحراق` |
//! | إشاعة (rumour) | `إشاعة`, `شائعة`, `إشاعات`, `شائعات` |
//!
//! With or without the article (`الهجوم`), with or without hamza and
//! harakat (`اشاعة`, `هُجُوم`).
//!
//! ## Language
//!
//! The acknowledgement goes out in the message's language. Each word of
//! Arabic script counts a point for Arabic; for English, French and Swahili,
//! each word of a short list of common words (`the`, `killed`; `les`,
//! `morts`; `watu`, `wameuawa`...) counts a point, as does a Swahili verb
//! form (`wame-`, `zime-`, `wali-`...). A keyword code counts two points for
//! its language. The highest score wins; ties go to the keyword's language,
//! then to the country's; a message with no clue at all (`Bria`) is answered
//! in the main language of `country_hint` ([`lang::default_for_country`](crate::default_for_country)),
//! else English.
//!
//! ## Place
//!
//! Place names are looked for in the whole message (never in the keyword)
//! with [`tocsin_geo::find_in_text`], which knows GeoNames' populated places
//! of 1,000+ people with their Latin- and Arabic-script alternate names,
//! admin areas and countries, in any case and without accents. The most
//! specific match is kept: a town before a district, a province or a country;
//! one in the hinted country first; else the first in the text. "Near",
//! "près de", "karibu na", "قرب" or a distance before it gives
//! `geo_precision` 2.
//!
//! When no place is found, [`Parsed::unresolved_place`] says whether the
//! message still seemed to name one, by a deliberately simple rule: the word
//! right after the keyword code, or the word after a preposition (`in`,
//! `at`, `near`, `from`, `towards`, `à`, `au`, `vers`, `près de`, `dans`,
//! `katika`, `kwenye`, `huko`, `karibu na`, `في`, `على`, `قرب`, `عند`,
//! `إلى`, `نحو`), looks like a name: it starts with a letter, is not a
//! number, a code or one of the common words, and — in text that mixes upper
//! and lower case — starts with a capital. A plain `a` (French `à` without
//! its accent, but also "has") counts as a preposition only in mixed-case
//! text. `ATTACK Zzyzxville` is unresolved; `ATTACK this morning`, `Les
//! hommes sont partis` and `il a pris la route` are not. The word or words
//! are returned in [`Parsed::place_text`]. The rule errs both ways: an
//! unknown place written in lower case inside mixed-case text is missed,
//! and in all-lower-case text an ordinary word after a preposition
//! (`dans brousse`) is taken for a name.
//!
//! # Example
//!
//! ```
//! use tocsin_sms::{ack_text, parse, reference_code, Category, Lang};
//! let p = parse("SHAMBULIO Bangui watu 5 wameuawa", Some("CAF"));
//! assert_eq!((p.language, p.category), (Lang::Sw, Some(Category::Attack)));
//! assert_eq!(p.place.as_ref().unwrap().name, "Bangui");
//! let id = uuid::Uuid::now_v7();
//! let ack = ack_text(p.language, &reference_code(&id));
//! assert!(ack.starts_with("Asante."));
//! ```

#![warn(missing_docs)]

mod ack;
mod keywords;
mod lang;
mod parse;
mod phone;
mod subscribe;

pub use ack::{
    ack_text, find_reference, gsm7_septets, new_form_code, parse_form_code, parse_reference,
    reference_code, FORM_CODE_CHARS, REFERENCE_CHARS,
};
pub use keywords::{keyword_codes, Category};
pub use lang::{default_for_country, Lang};
pub use parse::{parse, parse_with, Parsed, PlaceFix};
pub use phone::{
    normalize_phone, normalize_phone_in, DefaultRegion, PhoneError, MAX_DIGITS, MIN_DIGITS,
};
pub use subscribe::{
    choose_text, joined_text, parse_subscription, place_label, resolve_subscriber_place,
    stopped_text, unknown_place_text, SubscriptionCommand, MAX_CHOICES,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables in the crate docs list exactly the codes the parser knows.
    #[test]
    fn doc_tables_match_the_keyword_lists() {
        let docs = include_str!("lib.rs");
        let section = |title: &str| {
            let start = docs.find(&format!("//! ## {title}\n")).unwrap();
            let rest = &docs[start + 4..];
            &rest[..rest.find("//! ## ").unwrap()]
        };
        for (lang, title) in [
            (Lang::En, "English"),
            (Lang::Fr, "French"),
            (Lang::Sw, "Swahili"),
            (Lang::Ar, "Arabic"),
        ] {
            let table = section(title);
            let rows: Vec<&str> = table
                .lines()
                .filter(|l| l.starts_with("//! | "))
                .skip(1)
                .collect();
            assert_eq!(rows.len(), Category::ALL.len(), "{title}");
            for (row, cat) in rows.iter().zip(Category::ALL) {
                let codes: Vec<&str> = row.split('`').skip(1).step_by(2).collect();
                assert_eq!(codes, keyword_codes(lang, cat), "{title} {cat}");
            }
        }
    }
}
