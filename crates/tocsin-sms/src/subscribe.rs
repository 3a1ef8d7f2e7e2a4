//! Community-alert subscriptions by SMS: the keywords that join and stop, the place a JOIN
//! names (resolved by the gazetteer to a place with its first-level area), and the replies.
//!
//! | Language | Join (then the place) | Stop (the whole message) |
//! |----------|-----------------------|--------------------------|
//! | English | `JOIN`, `SUBSCRIBE` | `STOP`, `UNSUBSCRIBE`, `STOPALL`, `END`, `QUIT`, `CANCEL` |
//! | French | `INSCRIRE`, `INSCRIPTION`, `ABONNER`, `ABONNEMENT` | `ARRET`/`ARRÊT`, `STOPP`, `DESINSCRIRE`, `DESABONNER` |
//! | Swahili | `JIUNGE`, `JISAJILI` | `ACHA`, `SITISHA`, `SIMAMISHA` |
//! | Arabic | `اشتراك`, `اشترك`, `انضمام` | `إيقاف`, `ايقاف`, `توقف`, `أوقف` |
//!
//! Case, accents, Arabic letter variants and the article do not matter (`arrêt` = `ARRET`,
//! `الاشتراك` = `اشتراك`), nor punctuation around a keyword (`JOIN: Bria`, `*STOP*`). A stop
//! keyword counts only as the whole message, so a report that begins "stop them…" stays a
//! report; a join keyword counts only as the first word, and only when at most
//! [`MAX_PLACE_WORDS`] words follow it (a place is short: "Join us, the militia burned the
//! market in Bria this morning" is a warning and stays a report). A message that is only a number
//! (`2`, `#2`) is [`SubscriptionCommand::Choice`], meaningful only after places were offered.

use tocsin_domain::{Country, SubscriberPlace};
use tocsin_geo::MatchKind;

use crate::Lang;

/// A JOIN is a subscription only when at most this many words follow the keyword; a longer
/// message is a report, so no warning that happens to begin with the word is lost.
pub const MAX_PLACE_WORDS: usize = 6;

/// At most this many places are offered when a JOIN's place is ambiguous.
pub const MAX_CHOICES: usize = 5;

const JOIN_WORDS: &[(&str, Lang)] = &[
    ("join", Lang::En),
    ("subscribe", Lang::En),
    ("inscrire", Lang::Fr),
    ("inscription", Lang::Fr),
    ("abonner", Lang::Fr),
    ("abonnement", Lang::Fr),
    ("jiunge", Lang::Sw),
    ("jisajili", Lang::Sw),
    ("اشتراك", Lang::Ar),
    ("اشترك", Lang::Ar),
    ("انضمام", Lang::Ar),
];

/// Stop keywords; `None`: a word several languages use (`STOP`), answered in the country's
/// language.
const STOP_WORDS: &[(&str, Option<Lang>)] = &[
    ("stop", None),
    ("stopall", Some(Lang::En)),
    ("unsubscribe", Some(Lang::En)),
    ("end", Some(Lang::En)),
    ("quit", Some(Lang::En)),
    ("cancel", Some(Lang::En)),
    ("arret", Some(Lang::Fr)),
    ("stopp", Some(Lang::Fr)),
    ("desinscrire", Some(Lang::Fr)),
    ("desabonner", Some(Lang::Fr)),
    ("acha", Some(Lang::Sw)),
    ("sitisha", Some(Lang::Sw)),
    ("simamisha", Some(Lang::Sw)),
    ("إيقاف", Some(Lang::Ar)),
    ("ايقاف", Some(Lang::Ar)),
    ("توقف", Some(Lang::Ar)),
    ("أوقف", Some(Lang::Ar)),
];

/// What a subscription message asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionCommand {
    /// Subscribe (or move) to the place named, in the keyword's language; `place` may be
    /// empty when the message named none.
    Join {
        /// The keyword's language.
        lang: Lang,
        /// What followed the keyword, trimmed.
        place: String,
    },
    /// Stop every alert; `lang` `None` for a keyword several languages share.
    Stop {
        /// The keyword's language, when it has one.
        lang: Option<Lang>,
    },
    /// A number picking one of the places offered (1-based).
    Choice(usize),
}

fn key(word: &str) -> String {
    tocsin_geo::normalize(word).replace(' ', "")
}

/// Read a subscription command, or `None` when the message is something else (a report).
///
/// ```
/// use tocsin_sms::{parse_subscription, Lang, SubscriptionCommand};
/// assert_eq!(
///     parse_subscription("inscrire: Bambari"),
///     Some(SubscriptionCommand::Join { lang: Lang::Fr, place: "Bambari".into() })
/// );
/// assert_eq!(parse_subscription(" Arrêt! "), Some(SubscriptionCommand::Stop { lang: Some(Lang::Fr) }));
/// assert_eq!(parse_subscription("stop them before they reach Bria"), None);
/// assert_eq!(parse_subscription("Join us, the militia burned the market in Bria"), None);
/// assert_eq!(parse_subscription("2"), Some(SubscriptionCommand::Choice(2)));
/// ```
pub fn parse_subscription(text: &str) -> Option<SubscriptionCommand> {
    let trimmed = text.trim();
    let whole = key(trimmed);
    if !whole.is_empty() && whole.len() <= 3 && whole.bytes().all(|b| b.is_ascii_digit()) {
        return whole
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .map(SubscriptionCommand::Choice);
    }
    if let Some((_, lang)) = STOP_WORDS.iter().find(|(w, _)| key(w) == whole) {
        return Some(SubscriptionCommand::Stop { lang: *lang });
    }
    let first_end = trimmed
        .find(|c: char| c.is_whitespace() || c == ':' || c == ',')
        .unwrap_or(trimmed.len());
    let first = key(&trimmed[..first_end]);
    let (_, lang) = JOIN_WORDS.iter().find(|(w, _)| key(w) == first)?;
    let place = trimmed[first_end..]
        .trim_matches(|c: char| c.is_whitespace() || matches!(c, ':' | ',' | '-' | '.' | '*' | '#'))
        .chars()
        .take(200)
        .collect::<String>();
    if place.split_whitespace().count() > MAX_PLACE_WORDS {
        return None;
    }
    Some(SubscriptionCommand::Join { lang: *lang, place })
}

/// The places a JOIN's text may mean, best first, at most [`MAX_CHOICES`]: none (unknown), one
/// (resolved) or several (ask which). Only places the gazetteer knows with a first-level area
/// count (a town, a district, a province — not a whole country); when some lie in the
/// deployment's country (`country_hint`), only those; one per country and first-level area
/// (the most populous of a name there).
pub fn resolve_subscriber_place(text: &str, country_hint: Option<&str>) -> Vec<SubscriberPlace> {
    let text = text.trim();
    if text.is_empty() {
        return Vec::new();
    }
    let mut cands = tocsin_geo::lookup(text, country_hint);
    if cands.is_empty() {
        // "JOIN near the market in Bria": the first place the text names.
        cands = tocsin_geo::find_in_text(text, country_hint)
            .into_iter()
            .next()
            .map(|m| m.candidates)
            .unwrap_or_default();
    }
    let hint = country_hint.and_then(tocsin_geo::country_code);
    if hint.is_some_and(|h| cands.iter().any(|c| c.country == h)) {
        cands.retain(|c| Some(c.country) == hint);
    }
    let mut out: Vec<SubscriberPlace> = Vec::new();
    for c in cands {
        if c.kind == MatchKind::Country {
            continue;
        }
        let admin1 = match c.kind {
            MatchKind::Admin1 => Some(c.name),
            _ => c.admin1,
        };
        let Some(admin1) = admin1 else { continue };
        let Ok(country) = Country::parse(c.country) else {
            continue;
        };
        if out
            .iter()
            .any(|p| p.country == country && p.admin1.as_deref() == Some(admin1))
        {
            continue;
        }
        if let Ok(p) = SubscriberPlace::new(country, Some(admin1.to_string()), c.name, c.lat, c.lon)
        {
            out.push(p);
        }
        if out.len() == MAX_CHOICES {
            break;
        }
    }
    out
}

/// How a place is named in a reply: `Bambari (Ouaka)`, with the country when it is not the
/// deployment's (`Bambari (Ituri, COD)`).
pub fn place_label(p: &SubscriberPlace, country_hint: Option<&str>) -> String {
    let home = country_hint.and_then(tocsin_geo::country_code) == Some(p.country.code());
    match (&p.admin1, home) {
        (Some(a), true) if a == &p.name => p.name.clone(),
        (Some(a), true) => format!("{} ({a})", p.name),
        (Some(a), false) if a == &p.name => format!("{} ({})", p.name, p.country.code()),
        (Some(a), false) => format!("{} ({a}, {})", p.name, p.country.code()),
        (None, true) => p.name.clone(),
        (None, false) => format!("{} ({})", p.name, p.country.code()),
    }
}

/// The reply to a JOIN that subscribed the sender to `place` (a label from [`place_label`]).
pub fn joined_text(lang: Lang, place: &str) -> String {
    match lang {
        Lang::En => format!("Tocsin: you will receive alerts for {place}. Reply STOP to end them."),
        Lang::Fr => format!(
            "Tocsin : vous recevrez les alertes pour {place}. Répondez ARRET pour les arrêter."
        ),
        Lang::Sw => format!("Tocsin: utapokea tahadhari za {place}. Jibu ACHA kuzisitisha."),
        Lang::Ar => format!("توكسين: ستصلك التنبيهات الخاصة بـ {place}. أرسل إيقاف لإيقافها."),
    }
}

/// The reply to a JOIN whose place is ambiguous: the numbered labels to choose from.
pub fn choose_text(lang: Lang, labels: &[String]) -> String {
    let list = labels
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{} {l}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    match lang {
        Lang::En => format!("Tocsin: which place? Reply with its number: {list}"),
        Lang::Fr => format!("Tocsin : quel lieu ? Répondez par son numéro : {list}"),
        Lang::Sw => format!("Tocsin: mahali gani? Jibu kwa namba yake: {list}"),
        Lang::Ar => format!("توكسين: أي مكان؟ أرسل رقمه: {list}"),
    }
}

/// The reply to a JOIN naming no place the gazetteer knows (`place` as written, cut to 40
/// characters; empty when the JOIN named none).
pub fn unknown_place_text(lang: Lang, place: &str) -> String {
    let place: String = place.chars().take(40).collect();
    match (lang, place.is_empty()) {
        (Lang::En, false) => format!(
            "Tocsin: we do not know the place \"{place}\". Send JOIN and the name of your town or district."
        ),
        (Lang::En, true) => "Tocsin: send JOIN and the name of your town or district.".into(),
        (Lang::Fr, false) => format!(
            "Tocsin : lieu \"{place}\" inconnu. Envoyez INSCRIRE et le nom de votre ville ou commune."
        ),
        (Lang::Fr, true) => "Tocsin : envoyez INSCRIRE et le nom de votre ville ou commune.".into(),
        (Lang::Sw, false) => format!(
            "Tocsin: hatujui mahali \"{place}\". Tuma JIUNGE na jina la mji au wilaya yako."
        ),
        (Lang::Sw, true) => "Tocsin: tuma JIUNGE na jina la mji au wilaya yako.".into(),
        (Lang::Ar, false) => {
            format!("توكسين: لا نعرف المكان \"{place}\". أرسل اشتراك واسم مدينتك أو منطقتك.")
        }
        (Lang::Ar, true) => "توكسين: أرسل اشتراك واسم مدينتك أو منطقتك.".into(),
    }
}

/// The reply to STOP (the same whether or not the sender was subscribed).
pub fn stopped_text(lang: Lang) -> String {
    match lang {
        Lang::En => "Tocsin: you will receive no more alerts. Send JOIN and your town to subscribe again.".into(),
        Lang::Fr => "Tocsin : vous ne recevrez plus d'alertes. Envoyez INSCRIRE et votre ville pour vous réinscrire.".into(),
        Lang::Sw => "Tocsin: hutapokea tahadhari tena. Tuma JIUNGE na mji wako kujiunga tena.".into(),
        Lang::Ar => "توكسين: لن تصلك أي تنبيهات بعد الآن. أرسل اشتراك واسم مدينتك للاشتراك من جديد.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_in_four_languages() {
        let join = |t: &str| match parse_subscription(t) {
            Some(SubscriptionCommand::Join { lang, place }) => Some((lang, place)),
            _ => None,
        };
        assert_eq!(join("JOIN Bria"), Some((Lang::En, "Bria".into())));
        assert_eq!(
            join("join:Kaga-Bandoro"),
            Some((Lang::En, "Kaga-Bandoro".into()))
        );
        assert_eq!(join("INSCRIRE Ndélé"), Some((Lang::Fr, "Ndélé".into())));
        assert_eq!(join("Jiunge Goma"), Some((Lang::Sw, "Goma".into())));
        assert_eq!(join("اشتراك الخرطوم"), Some((Lang::Ar, "الخرطوم".into())));
        assert_eq!(join("الاشتراك نيالا"), Some((Lang::Ar, "نيالا".into())));
        assert_eq!(join("JOIN"), Some((Lang::En, String::new())));
        assert_eq!(join("joining the militia at Bria"), None);
        // A place is short; a longer message beginning with the keyword is a warning.
        assert_eq!(
            join("JOIN near the market in Bria"),
            Some((Lang::En, "near the market in Bria".into()))
        );
        assert_eq!(
            join("Join us now, the militia burned the market in Bria this morning"),
            None
        );
        assert_eq!(
            join("اشتراك المليشيا في الهجوم على السوق في نيالا صباح اليوم"),
            None
        );
        for (t, l) in [
            ("STOP", None),
            ("stop.", None),
            ("ARRÊT", Some(Lang::Fr)),
            ("arret", Some(Lang::Fr)),
            ("STOPP", Some(Lang::Fr)),
            ("Acha", Some(Lang::Sw)),
            ("SITISHA", Some(Lang::Sw)),
            ("إيقاف", Some(Lang::Ar)),
            ("توقف", Some(Lang::Ar)),
            ("unsubscribe", Some(Lang::En)),
        ] {
            assert_eq!(
                parse_subscription(t),
                Some(SubscriptionCommand::Stop { lang: l }),
                "{t}"
            );
        }
        assert_eq!(parse_subscription("stop the attack in Bria"), None);
        assert_eq!(parse_subscription("ATTAQUE Bria 5 morts"), None);
        assert_eq!(
            parse_subscription("#3"),
            Some(SubscriptionCommand::Choice(3))
        );
        assert_eq!(parse_subscription("0"), None);
        assert_eq!(parse_subscription("12345"), None);
    }

    #[test]
    fn places_resolve_with_their_admin1() {
        let one = resolve_subscriber_place("Bambari", Some("CAF"));
        assert_eq!(one.len(), 1, "{one:?}");
        assert_eq!(one[0].country.code(), "CAF");
        assert_eq!(one[0].admin1.as_deref(), Some("Ouaka"));
        assert!(resolve_subscriber_place("Xyzzyville", Some("CAF")).is_empty());
        assert!(resolve_subscriber_place("", None).is_empty());
        // A whole country is not a place to subscribe to.
        assert!(resolve_subscriber_place("Central African Republic", None)
            .iter()
            .all(|p| p.admin1.is_some()));
    }

    #[test]
    fn replies_fit_and_name_the_place() {
        for l in Lang::ALL {
            assert!(joined_text(l, "Bambari (Ouaka)").contains("Bambari (Ouaka)"));
            assert!(!stopped_text(l).is_empty());
            assert!(choose_text(
                l,
                &["Bambari (Ouaka)".into(), "Bambari (Ituri, COD)".into()]
            )
            .contains("2 Bambari (Ituri, COD)"));
            assert!(unknown_place_text(l, "Xyz").contains("Xyz"));
        }
        assert!(
            crate::gsm7_septets(&joined_text(Lang::En, "Kaga-Bandoro (Nana-Grebizi)"))
                .is_some_and(|n| n <= 160)
        );
    }
}
