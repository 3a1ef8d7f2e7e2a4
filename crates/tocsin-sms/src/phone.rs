//! Phone numbers to E.164 (see [`normalize_phone`]), read by libphonenumber's numbering
//! plans through the `phonenumber` crate.

/// Why a sender could not be turned into an E.164 number.
///
/// No variant carries the input, so an error can be logged or returned to a
/// client without leaking a phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing but blanks.
    #[error("empty phone number")]
    Empty,
    /// An alphanumeric sender id (`MTN-INFO`, `Safaricom`): a network or a
    /// company, not a person. See [`PhoneError::is_not_a_person`].
    #[error("alphanumeric sender id, not a phone number")]
    Alphanumeric,
    /// A short code of 6 digits or fewer (`40404`, `1234`): a service, not a
    /// person. See [`PhoneError::is_not_a_person`].
    #[error("short code, not a phone number")]
    ShortCode,
    /// A character that has no place in a phone number (a letter, `#`, `*`,
    /// an extension, a `+` after the first digit...).
    #[error("invalid character {0:?} in phone number")]
    InvalidCharacter(char),
    /// Fewer than 8 digits with the country calling code.
    #[error("phone number too short: {0} digits, at least 8 expected")]
    TooShort(usize),
    /// More than 15 digits with the country calling code (E.164's maximum).
    #[error("phone number too long: {0} digits, at most 15 allowed")]
    TooLong(usize),
    /// A national number (leading trunk `0`) but no default region was
    /// configured to complete it.
    #[error("national number without a default country calling code")]
    NoCallingCode,
    /// No country has this calling code (`+0…`, `000…`, `+999…`).
    #[error("invalid country calling code")]
    InvalidCallingCode,
    /// The configured default region is neither a region of the numbering
    /// plan (ISO 3166-1 alpha-2, e.g. `KE`) nor a calling code one has (1 to 3
    /// digits, optionally after `+`, e.g. `254`).
    #[error("invalid default region or calling code (expected e.g. \"KE\" or \"254\")")]
    InvalidDefaultCallingCode,
    /// No number of its country has this many digits (by the country's
    /// numbering plan), or it carries an extension.
    #[error("not a possible phone number in its country's numbering plan")]
    NotPossible,
}

impl PhoneError {
    /// The sender is a service, not a person ([`PhoneError::Alphanumeric`]
    /// or [`PhoneError::ShortCode`]): the caller should not create a source
    /// for it nor send it an acknowledgement.
    pub fn is_not_a_person(&self) -> bool {
        matches!(self, PhoneError::Alphanumeric | PhoneError::ShortCode)
    }
}

/// Shortest accepted number, in digits including the country calling code.
pub const MIN_DIGITS: usize = 8;
/// Longest accepted number (E.164), in digits including the country calling code.
pub const MAX_DIGITS: usize = 15;
/// Longest numeric sender treated as a short code.
const MAX_SHORTCODE_DIGITS: usize = 6;
/// Longest alphanumeric sender id (GSM 03.38 TP-OA allows 11 characters).
const MAX_ALPHANUMERIC: usize = 11;

/// Where numbers written without a country code are taken to be from: a region of the
/// numbering plan (ISO 3166-1 alpha-2, e.g. `KE`), as `[sms] default_region` names it.
///
/// Parsed from `"KE"` (any case) or, as the older `default_calling_code` setting wrote it, from
/// a calling code (`"254"`, `"+254"`), which stands for the main region of that code (`1` is
/// the United States, `7` Russia, `44` the United Kingdom).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultRegion {
    id: phonenumber::country::Id,
    code: u16,
}

impl DefaultRegion {
    /// The ISO 3166-1 alpha-2 code, e.g. `KE`.
    pub fn as_str(&self) -> &str {
        self.id.as_ref()
    }

    /// The country calling code, e.g. `254`.
    pub fn calling_code(&self) -> u16 {
        self.code
    }
}

impl std::str::FromStr for DefaultRegion {
    type Err = PhoneError;

    fn from_str(s: &str) -> Result<DefaultRegion, PhoneError> {
        let db = &phonenumber::metadata::DATABASE;
        let s = s.trim();
        let digits = s.strip_prefix('+').unwrap_or(s);
        let region = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            if digits.len() > 3 || digits.starts_with('0') {
                return Err(PhoneError::InvalidDefaultCallingCode);
            }
            let code: u16 = digits
                .parse()
                .map_err(|_| PhoneError::InvalidDefaultCallingCode)?;
            let metas = db
                .by_code(&code)
                .ok_or(PhoneError::InvalidDefaultCallingCode)?;
            metas
                .iter()
                .find(|m| m.is_main_country_for_code())
                .or(metas.first())
                .map(|m| m.id().to_string())
                .ok_or(PhoneError::InvalidDefaultCallingCode)?
        } else if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
            s.to_ascii_uppercase()
        } else {
            return Err(PhoneError::InvalidDefaultCallingCode);
        };
        // Non-geographic codes (`001`) are no region; nor is an ISO code without a plan.
        let meta = db
            .by_id(region.as_str())
            .ok_or(PhoneError::InvalidDefaultCallingCode)?;
        let id = region
            .parse()
            .map_err(|_| PhoneError::InvalidDefaultCallingCode)?;
        Ok(DefaultRegion {
            id,
            code: meta.country_code(),
        })
    }
}

impl<'de> serde::Deserialize<'de> for DefaultRegion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<DefaultRegion, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(|_| {
            serde::de::Error::custom(format!(
                "{s:?} is not a region of the numbering plan: expected an ISO 3166-1 alpha-2 \
                 code such as \"KE\""
            ))
        })
    }
}

/// Normalise a sender or a typed phone number to E.164: `+` followed by 8 to
/// 15 digits (country calling code included), e.g. `"+23670012345"`. This is
/// the form to pass to `ContactKey::lookup_hash`, so that one person is one
/// source however the gateway or the form wrote the number.
///
/// `default` names where numbers without a country code are from, as
/// [`DefaultRegion`] parses it: a region (`Some("KE")`) or a calling code
/// (`Some("254")`, `Some("+254")`). An invalid one refuses every number
/// ([`PhoneError::InvalidDefaultCallingCode`]).
///
/// Accepted:
/// * separators anywhere: spaces (any Unicode blank), `-` and Unicode dashes,
///   `.`, `/`, parentheses: `"+236 70 01 23 45"`, `"+1 (202) 555-0100"`;
/// * Arabic-Indic (`٠١٢`), Persian (`۰۱۲`) and full-width digits;
/// * a leading `tel:` (RFC 3966, without parameters);
/// * international numbers with `+` or `00`: `"0023670012345"`;
/// * with a default region: national numbers, read by that region's
///   numbering plan (libphonenumber's, through the `phonenumber` crate): its
///   trunk prefix is dropped where it has one (`"0712 345 678"` in `KE` →
///   `"+254712345678"`) and kept where it is part of the number (Italy, Côte
///   d'Ivoire, Gabon, Congo-Brazzaville, Benin); bare digits are taken as
///   international when they already start with the region's calling code
///   (`"23670012345"`, as Kannel often delivers them) and as national
///   otherwise (`"70012345"` in `CF` → `"+23670012345"`);
/// * without a default region, bare digits are taken as international with
///   the `+` left out.
///
/// Refused: letters and other symbols ([`PhoneError::InvalidCharacter`]),
/// except that a whole sender of up to 11 letters, digits, spaces and
/// `-._&'` with at least one letter and no `+` is an alphanumeric sender id
/// ([`PhoneError::Alphanumeric`]); bare numbers of 6 digits or fewer
/// ([`PhoneError::ShortCode`]); fewer than 8 or more than 15 digits
/// ([`PhoneError::TooShort`], [`PhoneError::TooLong`]); a national number
/// without a default region ([`PhoneError::NoCallingCode`]); a calling code
/// no country has ([`PhoneError::InvalidCallingCode`]); and a number whose
/// length no number of its country has ([`PhoneError::NotPossible`]).
///
/// The numbering plan decides the country, the trunk prefix and the possible
/// lengths, not whether a number is allocated: a number from a range opened
/// after the plan data was published (countries renumber: Côte d'Ivoire 2021,
/// Benin 2024) is still accepted, rather than a warner being turned away.
///
/// ```
/// use tocsin_sms::normalize_phone;
/// assert_eq!(normalize_phone("+236 70 01 23 45", None).unwrap(), "+23670012345");
/// assert_eq!(normalize_phone("070012345", Some("236")).unwrap(), "+23670012345");
/// assert_eq!(normalize_phone("0712 345 678", Some("KE")).unwrap(), "+254712345678");
/// assert!(normalize_phone("MTN-INFO", None).unwrap_err().is_not_a_person());
/// ```
pub fn normalize_phone(raw: &str, default: Option<&str>) -> Result<String, PhoneError> {
    let default = default.map(str::parse::<DefaultRegion>).transpose()?;
    normalize_phone_in(raw, default)
}

/// [`normalize_phone`] with the default region already parsed (from configuration).
pub fn normalize_phone_in(raw: &str, default: Option<DefaultRegion>) -> Result<String, PhoneError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(PhoneError::Empty);
    }
    let (s, tel) = match s.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("tel:") => (s[4..].trim_start(), true),
        _ => (s, false),
    };
    if let Some(letter) = s.chars().find(|c| c.is_alphabetic()) {
        return Err(if !tel && is_alphanumeric_sender(s) {
            PhoneError::Alphanumeric
        } else {
            PhoneError::InvalidCharacter(letter)
        });
    }

    let mut plus = false;
    let mut digits = String::with_capacity(16);
    for c in s.chars() {
        if let Some(d) = digit_value(c) {
            digits.push(d);
        } else if c == '+' && !plus && digits.is_empty() {
            plus = true;
        } else if !is_separator(c) {
            return Err(PhoneError::InvalidCharacter(c));
        }
    }
    if digits.is_empty() {
        return Err(if plus {
            PhoneError::TooShort(0)
        } else {
            PhoneError::Empty
        });
    }

    // International (the digits after `+` or `00`, or bare digits starting with the default
    // region's code), or else national in the default region.
    let national_in = if plus || digits.starts_with("00") {
        None
    } else if digits.starts_with('0') {
        Some(default.ok_or(PhoneError::NoCallingCode)?)
    } else if digits.len() <= MAX_SHORTCODE_DIGITS {
        return Err(PhoneError::ShortCode);
    } else {
        default.filter(|r| !digits.starts_with(&r.code.to_string()))
    };
    let Some(region) = national_in else {
        // International: kept digit for digit (the form sources were always keyed by), once
        // the plan knows its calling code and a number of that country can be that long.
        let intl = if plus {
            digits.as_str()
        } else {
            digits.strip_prefix("00").unwrap_or(&digits)
        };
        if intl.starts_with('0') {
            return Err(PhoneError::InvalidCallingCode);
        }
        check_length(intl.len())?;
        let (code, national) = split_calling_code(intl).ok_or(PhoneError::InvalidCallingCode)?;
        if !is_possible(code, national.len()) {
            return Err(PhoneError::NotPossible);
        }
        return Ok(format!("+{intl}"));
    };
    // National: read by the region's plan (its trunk prefix dropped where it has one).
    if digits.len() > MAX_DIGITS {
        return Err(PhoneError::TooLong(digits.len()));
    }
    let n = phonenumber::parse(Some(region.id), &digits);
    let n = match digits.strip_prefix('0') {
        // A `0` the region's plan does not know as its trunk prefix, written out of habit
        // (`070012345` in the Central African Republic): read without it.
        Some(rest) if !n.as_ref().is_ok_and(possible) => phonenumber::parse(Some(region.id), rest),
        _ => n,
    }
    .map_err(|e| match e {
        phonenumber::ParseError::InvalidCountryCode => PhoneError::InvalidCallingCode,
        _ => PhoneError::NotPossible,
    })?;
    if !possible(&n) {
        return Err(PhoneError::NotPossible);
    }
    let e164 = format!("+{}{}", n.code().value(), n.national());
    check_length(e164.len() - 1)?;
    Ok(e164)
}

/// The calling code an international number starts with (calling codes are prefix-free), and
/// the national number after it.
fn split_calling_code(intl: &str) -> Option<(u16, &str)> {
    (1..=3).find_map(|k| {
        let code: u16 = intl.get(..k)?.parse().ok()?;
        phonenumber::metadata::DATABASE
            .region(&code)
            .map(|_| (code, &intl[k..]))
    })
}

/// 8 to 15 digits, calling code included.
fn check_length(n: usize) -> Result<(), PhoneError> {
    if n < MIN_DIGITS {
        return Err(PhoneError::TooShort(n));
    }
    if n > MAX_DIGITS {
        return Err(PhoneError::TooLong(n));
    }
    Ok(())
}

/// Whether the number has no extension and some number of its calling code has as many
/// national digits (libphonenumber's possible lengths, any region of the code, any type).
fn possible(n: &phonenumber::PhoneNumber) -> bool {
    n.extension().is_none() && is_possible(n.code().value(), n.national().to_string().len())
}

/// Whether some number of some region of calling code `code` has `len` national digits.
fn is_possible(code: u16, len: usize) -> bool {
    let Some(metas) = phonenumber::metadata::DATABASE.by_code(&code) else {
        return false;
    };
    metas.iter().any(|m| {
        let d = m.descriptors();
        [
            Some(d.general()),
            d.fixed_line(),
            d.mobile(),
            d.toll_free(),
            d.premium_rate(),
            d.shared_cost(),
            d.personal_number(),
            d.voip(),
            d.pager(),
            d.uan(),
            d.voicemail(),
        ]
        .into_iter()
        .flatten()
        .any(|desc| {
            desc.possible_length()
                .iter()
                .any(|&l| usize::from(l) == len)
        })
    })
}

/// An alphanumeric sender id: up to 11 ASCII letters, digits, spaces and
/// `-._&'`, at least one letter.
fn is_alphanumeric_sender(s: &str) -> bool {
    s.chars().count() <= MAX_ALPHANUMERIC
        && s.chars().any(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '.' | '_' | '&' | '\''))
}

/// The ASCII digit for a decimal digit in ASCII, Arabic-Indic, extended
/// (Persian/Urdu) Arabic-Indic or full-width form.
fn digit_value(c: char) -> Option<char> {
    let zero = match c {
        '0'..='9' => '0',
        '\u{0660}'..='\u{0669}' => '\u{0660}',
        '\u{06F0}'..='\u{06F9}' => '\u{06F0}',
        '\u{FF10}'..='\u{FF19}' => '\u{FF10}',
        _ => return None,
    };
    char::from_digit(c as u32 - zero as u32, 10)
}

/// Characters people put between digits.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '.' | '/' | '(' | ')' | '\u{2010}'
                ..='\u{2015}' | '\u{2212}' | '\u{00A0}' | '\u{202F}' | '\u{200E}' | '\u{200F}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_of_one_number() {
        for raw in [
            "+236 70 01 23 45",
            "+236-70-01-23-45",
            "+236.70.01.23.45",
            "(+236) 70 01 23 45",
            "0023670012345",
            "00 236 70 01 23 45",
            "tel:+236-70-01-23-45",
            "TEL:+23670012345",
            "23670012345",
            "+٢٣٦٧٠٠١٢٣٤٥",
            "\u{200F}+236 70 01 23 45",
        ] {
            assert_eq!(
                normalize_phone(raw, None),
                Ok("+23670012345".into()),
                "{raw}"
            );
        }
        for raw in [
            "070012345",
            "70012345",
            "70 01 23 45",
            "23670012345",
            "+23670012345",
        ] {
            assert_eq!(
                normalize_phone(raw, Some("236")),
                Ok("+23670012345".into()),
                "{raw}"
            );
        }
        assert_eq!(
            normalize_phone("070012345", Some("+236")),
            Ok("+23670012345".into())
        );
    }

    #[test]
    fn leading_zero_kept_where_it_belongs() {
        assert_eq!(
            normalize_phone("07 07 12 34 56", Some("225")),
            Ok("+2250707123456".into())
        );
        assert_eq!(
            normalize_phone("06 612 3456", Some("242")),
            Ok("+242066123456".into())
        );
        assert_eq!(
            normalize_phone("0712 345678", Some("254")),
            Ok("+254712345678".into())
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(normalize_phone("", None), Err(PhoneError::Empty));
        assert_eq!(normalize_phone(" - ", None), Err(PhoneError::Empty));
        assert_eq!(normalize_phone("+", None), Err(PhoneError::TooShort(0)));
        assert_eq!(
            normalize_phone("070012345", None),
            Err(PhoneError::NoCallingCode)
        );
        assert_eq!(
            normalize_phone("+0123456789", None),
            Err(PhoneError::InvalidCallingCode)
        );
        assert_eq!(
            normalize_phone("000123456789", None),
            Err(PhoneError::InvalidCallingCode)
        );
        assert_eq!(
            normalize_phone("+236 70+01", None),
            Err(PhoneError::InvalidCharacter('+'))
        );
        assert_eq!(
            normalize_phone("+1 202 555 0100#2", None),
            Err(PhoneError::InvalidCharacter('#'))
        );
        assert_eq!(
            normalize_phone("+1 202 555 0100 x12", None),
            Err(PhoneError::InvalidCharacter('x'))
        );
        assert_eq!(
            normalize_phone("tel:INFO", None),
            Err(PhoneError::InvalidCharacter('I'))
        );
        assert_eq!(
            normalize_phone("1234", Some("236")),
            Err(PhoneError::ShortCode)
        );
        assert_eq!(normalize_phone("40404", None), Err(PhoneError::ShortCode));
        assert_eq!(
            normalize_phone("MTN-INFO", None),
            Err(PhoneError::Alphanumeric)
        );
        assert_eq!(
            normalize_phone("Safaricom", None),
            Err(PhoneError::Alphanumeric)
        );
        assert_eq!(
            normalize_phone("1234567", None),
            Err(PhoneError::TooShort(7))
        );
        assert_eq!(
            normalize_phone("+1234567890123456", None),
            Err(PhoneError::TooLong(16))
        );
        assert_eq!(
            normalize_phone("0701", Some("0")),
            Err(PhoneError::InvalidDefaultCallingCode)
        );
        assert_eq!(
            normalize_phone("0701", Some("2361")),
            Err(PhoneError::InvalidDefaultCallingCode)
        );
        assert!(PhoneError::ShortCode.is_not_a_person());
        assert!(!PhoneError::TooShort(3).is_not_a_person());
    }

    #[test]
    fn errors_do_not_echo_the_number() {
        for raw in ["+236 70 01 23 45 67 89 01", "+23670a", "+236 70"] {
            let e = normalize_phone(raw, None).unwrap_err();
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains("236"), "{shown}");
            assert!(!shown.contains("70"), "{shown}");
        }
    }

    #[test]
    fn default_region_by_iso_code_or_calling_code() {
        let r = |s: &str| {
            s.parse::<DefaultRegion>()
                .map(|r| (r.as_str().to_string(), r.calling_code()))
        };
        assert_eq!(r("KE"), Ok(("KE".into(), 254)));
        assert_eq!(r(" ke "), Ok(("KE".into(), 254)));
        assert_eq!(r("254"), Ok(("KE".into(), 254)));
        assert_eq!(r("+236"), Ok(("CF".into(), 236)));
        assert_eq!(r("1"), Ok(("US".into(), 1)));
        assert_eq!(r("44"), Ok(("GB".into(), 44)));
        for bad in ["KEN", "XX", "K", "", "0", "999", "2361", "+", "K3"] {
            assert_eq!(
                r(bad),
                Err(PhoneError::InvalidDefaultCallingCode),
                "{bad:?}"
            );
        }
        // From configuration: a clear message naming what is expected.
        let e = serde_json::from_str::<DefaultRegion>("\"KEN\"").unwrap_err();
        assert!(e.to_string().contains("ISO 3166-1 alpha-2"), "{e}");
        assert_eq!(
            serde_json::from_str::<DefaultRegion>("\"KE\"")
                .unwrap()
                .as_str(),
            "KE"
        );
        // Every number is refused under an invalid default, as before.
        assert_eq!(
            normalize_phone("+254712345678", Some("KEN")),
            Err(PhoneError::InvalidDefaultCallingCode)
        );
    }

    #[test]
    fn national_numbers_by_the_region_plan() {
        let ke = |raw: &str| normalize_phone(raw, Some("KE"));
        for raw in [
            "0712 345 678",
            "0712-345-678",
            "712345678",
            "254712345678",
            "00254712345678",
        ] {
            assert_eq!(ke(raw), Ok("+254712345678".into()), "{raw}");
        }
        // Russia's trunk prefix is 8, the UK's 0.
        assert_eq!(
            normalize_phone("8 912 345-67-89", Some("RU")),
            Ok("+79123456789".into())
        );
        assert_eq!(
            normalize_phone("07700 900123", Some("GB")),
            Ok("+447700900123".into())
        );
        // A foreign number written internationally is not read as national.
        assert_eq!(ke("+236 70 01 23 45"), Ok("+23670012345".into()));
        // No default region: national numbers are refused as before.
        assert_eq!(
            normalize_phone("0712 345 678", None),
            Err(PhoneError::NoCallingCode)
        );
    }

    #[test]
    fn impossible_numbers_are_refused() {
        // No country has calling code 999 (nor 0).
        assert_eq!(
            normalize_phone("+999 1234 5678", None),
            Err(PhoneError::InvalidCallingCode)
        );
        // Numbers of the Central African Republic have 8 national digits: not 9, not 6.
        assert_eq!(
            normalize_phone("+236 70 01 23 456", None),
            Err(PhoneError::NotPossible)
        );
        assert_eq!(
            normalize_phone("+236 70 01 23", None),
            Err(PhoneError::NotPossible)
        );
        assert_eq!(
            normalize_phone("070 01 23 456", Some("CF")),
            Err(PhoneError::NotPossible)
        );
        // The refusal names no digit of the number.
        let e = normalize_phone("+236 70 01 23 456", None).unwrap_err();
        assert!(!format!("{e} {e:?}").contains("236"), "{e}");
        assert!(!e.is_not_a_person());
    }
}
