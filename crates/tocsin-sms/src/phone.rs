//! Phone numbers to E.164 (see [`normalize_phone`]).

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
    /// A national number (leading trunk `0`) but no default calling code was
    /// configured to complete it.
    #[error("national number without a default country calling code")]
    NoCallingCode,
    /// The number starts with `+0` or `000`: no country calling code begins
    /// with 0.
    #[error("invalid country calling code")]
    InvalidCallingCode,
    /// The configured default calling code is not 1 to 3 digits (optionally
    /// after `+`) starting with 1–9.
    #[error("invalid default calling code (expected 1-3 digits, e.g. \"236\")")]
    InvalidDefaultCallingCode,
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

/// Calling codes whose national numbers keep their leading `0` in
/// international form, so a national `0...` is not a trunk prefix there:
/// Italy, San Marino, Vatican (`+39 06 ...`), Côte d'Ivoire since its 2021
/// ten-digit plan (`+225 07 ...`), Gabon (`+241 06 ...`), Congo-Brazzaville
/// (`+242 06 ...`), Benin since its 2024 ten-digit plan (`+229 01 ...`).
const KEEPS_LEADING_ZERO: &[&str] = &["39", "378", "379", "225", "229", "241", "242"];

/// Normalise a sender or a typed phone number to E.164: `+` followed by 8 to
/// 15 digits (country calling code included), e.g. `"+23670012345"`. This is
/// the form to pass to `ContactKey::lookup_hash`, so that one person is one
/// source however the gateway or the form wrote the number.
///
/// Accepted:
/// * separators anywhere: spaces (any Unicode blank), `-` and Unicode dashes,
///   `.`, `/`, parentheses: `"+236 70 01 23 45"`, `"+1 (202) 555-0100"`;
/// * Arabic-Indic (`٠١٢`), Persian (`۰۱۲`) and full-width digits;
/// * a leading `tel:` (RFC 3966, without parameters);
/// * international numbers with `+` or `00`: `"0023670012345"`;
/// * with `default_calling_code` (e.g. `Some("236")` or `Some("+236")`):
///   national numbers with a trunk `0` (`"070012345"` → `"+23670012345"`; the
///   `0` is kept for the few countries where it belongs to the number, see
///   below), and bare digits, taken as international when they already start
///   with the default code (`"23670012345"`, as Kannel often delivers them)
///   and as national otherwise (`"70012345"` → `"+23670012345"`);
/// * without a default code, bare digits are taken as international with the
///   `+` left out.
///
/// Refused: letters and other symbols ([`PhoneError::InvalidCharacter`]),
/// except that a whole sender of up to 11 letters, digits, spaces and
/// `-._&'` with at least one letter and no `+` is an alphanumeric sender id
/// ([`PhoneError::Alphanumeric`]); bare numbers of 6 digits or fewer
/// ([`PhoneError::ShortCode`]); fewer than 8 or more than 15 digits
/// ([`PhoneError::TooShort`], [`PhoneError::TooLong`]).
///
/// For Italy, San Marino, the Vatican, Côte d'Ivoire, Gabon, Congo-Brazzaville
/// and Benin, a leading national `0` is part of the number and is kept.
///
/// **Why hand-written.** The `phonenumber` crate (a port of libphonenumber)
/// validates against per-country numbering plans: it ships the whole metadata
/// set and a regex engine, must be updated whenever a country renumbers (Côte
/// d'Ivoire 2021, Benin 2024), and would then refuse real senders from new
/// ranges. Tocsin needs only a canonical key for "the same person": the shape
/// of E.164, with trunk-prefix handling for the configured country. The cost
/// is that a syntactically valid but unallocated number is accepted.
///
/// ```
/// use tocsin_sms::normalize_phone;
/// assert_eq!(normalize_phone("+236 70 01 23 45", None).unwrap(), "+23670012345");
/// assert_eq!(normalize_phone("070012345", Some("236")).unwrap(), "+23670012345");
/// assert!(normalize_phone("MTN-INFO", None).unwrap_err().is_not_a_person());
/// ```
pub fn normalize_phone(
    raw: &str,
    default_calling_code: Option<&str>,
) -> Result<String, PhoneError> {
    let default = default_calling_code.map(check_default).transpose()?;
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

    let international: String = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else if let Some(national) = digits.strip_prefix('0') {
        let cc = default.ok_or(PhoneError::NoCallingCode)?;
        let national = if KEEPS_LEADING_ZERO.contains(&cc) {
            digits.as_str()
        } else {
            national
        };
        format!("{cc}{national}")
    } else if digits.len() <= MAX_SHORTCODE_DIGITS {
        return Err(PhoneError::ShortCode);
    } else {
        match default {
            Some(cc) if !digits.starts_with(cc) => format!("{cc}{digits}"),
            _ => digits,
        }
    };

    if international.starts_with('0') {
        return Err(PhoneError::InvalidCallingCode);
    }
    let n = international.len();
    if n < MIN_DIGITS {
        return Err(PhoneError::TooShort(n));
    }
    if n > MAX_DIGITS {
        return Err(PhoneError::TooLong(n));
    }
    Ok(format!("+{international}"))
}

/// Validate a configured default calling code; returns its digits.
fn check_default(cc: &str) -> Result<&str, PhoneError> {
    let cc = cc.trim();
    let cc = cc.strip_prefix('+').unwrap_or(cc);
    let ok = (1..=3).contains(&cc.len())
        && cc.bytes().all(|b| b.is_ascii_digit())
        && !cc.starts_with('0');
    if ok {
        Ok(cc)
    } else {
        Err(PhoneError::InvalidDefaultCallingCode)
    }
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
}
