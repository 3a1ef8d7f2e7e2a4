//! Acknowledgements and report reference codes.

use crate::Lang;

/// Crockford's base32 alphabet: digits and upper-case letters without I, L,
/// O and U, so a code read aloud or retyped on a keypad survives.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a reference code after `R-`.
pub const REFERENCE_CHARS: usize = 6;

/// The short code a reporter is given for a report: `R-` and 6 Crockford
/// base32 characters made of the low 30 bits of the report id, which are
/// random in a UUID v7 (Tocsin's ids) or v4. E.g. `"R-7KQ2MX"`.
///
/// It is derived, not stored-unique: about a billion codes, so among 10,000
/// reports the chance that two share a code is about 5 %. Treat it as a
/// handle the sender can quote, to be looked up among the sender's own
/// reports or shown with all its matches, not as a key.
///
/// ```
/// let id = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_3fff_ffff);
/// assert_eq!(tocsin_sms::reference_code(&id), "R-ZZZZZZ");
/// ```
pub fn reference_code(id: &uuid::Uuid) -> String {
    let bits = (id.as_u128() & ((1 << (5 * REFERENCE_CHARS)) - 1)) as u32;
    let mut s = String::with_capacity(2 + REFERENCE_CHARS);
    s.push_str("R-");
    for i in (0..REFERENCE_CHARS).rev() {
        s.push(CROCKFORD[(bits >> (5 * i)) as usize & 31] as char);
    }
    s
}

/// Read a reference code as a person typed it and return it in the form
/// [`reference_code`] gives (`"R-7KQ2MX"`), or `None` if it cannot be one.
///
/// Case does not matter; spaces and hyphens are ignored; the `R` prefix is
/// optional (`"7kq2mx"`, `"r 7kq2mx"`, `"R-7KQ-2MX"`); the letters Crockford
/// base32 leaves out are read as what they are mistaken for: `O` as `0`, `I`
/// and `L` as `1`. `U` and any other character make it invalid.
///
/// ```
/// use tocsin_sms::parse_reference;
/// assert_eq!(parse_reference("r-7kq2mx").as_deref(), Some("R-7KQ2MX"));
/// assert_eq!(parse_reference(" RO1L2IO ").as_deref(), Some("R-011210"));
/// assert_eq!(parse_reference("R-7KQ2M"), None);
/// ```
pub fn parse_reference(s: &str) -> Option<String> {
    let s = s.trim();
    // An explicit prefix: `R-` or `R ` (then exactly six characters follow).
    let (prefixed, s) = match s.strip_prefix(['R', 'r']) {
        Some(rest) if rest.starts_with(|c: char| c == '-' || c.is_whitespace()) => (true, rest),
        _ => (false, s),
    };
    let chars: Vec<char> = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let code = match chars.len() {
        n if n == REFERENCE_CHARS => &chars[..],
        n if !prefixed && n == REFERENCE_CHARS + 1 && chars[0] == 'R' => &chars[1..],
        _ => return None,
    };
    let mut out = String::with_capacity(2 + REFERENCE_CHARS);
    out.push_str("R-");
    for &c in code {
        out.push(crockford_char(c)?);
    }
    Some(out)
}

/// Characters in a one-time form code (40 random bits).
pub const FORM_CODE_CHARS: usize = 8;

/// A fresh one-time code for the public web form, e.g. `"K7Q2-MX4P"`: eight Crockford base32
/// characters (40 random bits) with at least one digit and one letter, so that an ordinary
/// eight-letter word is never read as one. The person who filled in the form texts it from
/// their phone to prove the number is theirs.
pub fn new_form_code() -> String {
    loop {
        let bits = uuid::Uuid::new_v4().as_u128();
        let code: String = (0..FORM_CODE_CHARS)
            .map(|i| CROCKFORD[(bits >> (5 * i)) as usize & 31] as char)
            .collect();
        if code.bytes().any(|b| b.is_ascii_digit()) && code.bytes().any(|b| b.is_ascii_alphabetic())
        {
            return format!("{}-{}", &code[..4], &code[4..]);
        }
    }
}

/// Read a text message as a one-time form code, returned in canonical form without the
/// hyphen (`"K7Q2MX4P"`), or `None` when the message is anything else. The whole message must
/// be the code, optionally after the word `CODE`; case, spaces and hyphens do not matter and
/// the confusable letters fold as in [`parse_reference`] (`O` → `0`, `I`/`L` → `1`). A code
/// always has a digit and a letter.
///
/// ```
/// use tocsin_sms::parse_form_code;
/// assert_eq!(parse_form_code(" k7q2-mx4p ").as_deref(), Some("K7Q2MX4P"));
/// assert_eq!(parse_form_code("CODE K7Q2 MX4P").as_deref(), Some("K7Q2MX4P"));
/// assert_eq!(parse_form_code("ATTACKED"), None);
/// assert_eq!(parse_form_code("Armed men at K7Q2-MX4P"), None);
/// ```
pub fn parse_form_code(text: &str) -> Option<String> {
    let t = text.trim();
    let t = match t.get(..4) {
        Some(w) if w.eq_ignore_ascii_case("code") => t[4..].trim_start_matches([' ', ':']),
        _ => t,
    };
    let chars: Vec<char> = t
        .chars()
        .filter(|c| *c != ' ' && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if chars.len() != FORM_CODE_CHARS {
        return None;
    }
    let code = chars
        .into_iter()
        .map(crockford_char)
        .collect::<Option<String>>()?;
    (code.bytes().any(|b| b.is_ascii_digit()) && code.bytes().any(|b| b.is_ascii_alphabetic()))
        .then_some(code)
}

/// A Crockford base32 character, with the confusables folded.
fn crockford_char(c: char) -> Option<char> {
    let c = match c {
        'O' => '0',
        'I' | 'L' => '1',
        c => c,
    };
    (c.is_ascii() && CROCKFORD.contains(&(c as u8))).then_some(c)
}

/// Find a reference code quoted inside a message ("re R-7KQ2MX: they came
/// back"), for attaching a follow-up to the report it answers. Stricter than
/// [`parse_reference`] so that words are not mistaken for codes: the code must
/// stand as its own word, start with `R` (any case), and either have the
/// hyphen (`R-7KQ2MX`) or contain a digit (`R7KQ2MX`). Returns the first, in
/// canonical form.
///
/// ```
/// use tocsin_sms::find_reference;
/// assert_eq!(find_reference("Re r-7kq2mx: they came back").as_deref(), Some("R-7KQ2MX"));
/// assert_eq!(find_reference("REPORTS from Bria"), None);
/// ```
pub fn find_reference(text: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find_map(|tok| {
            let rest = tok.strip_prefix(['R', 'r'])?;
            let (hyphen, code) = match rest.strip_prefix('-') {
                Some(code) => (true, code),
                None => (false, rest),
            };
            let ok = code.len() == REFERENCE_CHARS
                && (hyphen || code.bytes().any(|b| b.is_ascii_digit()));
            if ok {
                parse_reference(code)
            } else {
                None
            }
        })
}

/// The acknowledgement sent back to a reporter, in `lang`, quoting
/// `reference` (pass [`reference_code`]'s result). It thanks the sender and
/// gives the reference; it never repeats the message or the number, so a
/// phone read by someone else reveals no more than that a report was sent.
///
/// Lengths fit one SMS: English, French and Swahili are in the GSM 7-bit
/// alphabet and under 160 characters (the French text avoids `ç` and `ê`,
/// which are not in it); Arabic, sent as UCS-2, stays under 70.
///
/// | lang | text |
/// |------|------|
/// | en | Thank you. Your report was received. Reference R-7KQ2MX. Stay safe. |
/// | fr | Merci. Votre signalement est bien arrivé. Référence R-7KQ2MX. Prenez soin de vous. |
/// | sw | Asante. Ripoti yako imepokelewa. Nambari ya kumbukumbu R-7KQ2MX. Kaa salama. |
/// | ar | شكرا لك. تم استلام بلاغك. رقم المرجع R-7KQ2MX. نتمنى لك السلامة. |
pub fn ack_text(lang: Lang, reference: &str) -> String {
    match lang {
        Lang::En => {
            format!("Thank you. Your report was received. Reference {reference}. Stay safe.")
        }
        Lang::Fr => format!(
            "Merci. Votre signalement est bien arrivé. Référence {reference}. Prenez soin de vous."
        ),
        Lang::Sw => format!(
            "Asante. Ripoti yako imepokelewa. Nambari ya kumbukumbu {reference}. Kaa salama."
        ),
        Lang::Ar => format!("شكرا لك. تم استلام بلاغك. رقم المرجع {reference}. نتمنى لك السلامة."),
    }
}

/// Length of a text in GSM 03.38 7-bit septets, or `None` when it needs UCS-2 (the domain's
/// [`tocsin_domain::broadcast::gsm7_septets`], which broadcasts measure with too).
pub use tocsin_domain::broadcast::gsm7_septets;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_has_no_confusables() {
        for c in "ILOU".chars() {
            assert!(!CROCKFORD.contains(&(c as u8)));
        }
        assert_eq!(CROCKFORD.len(), 32);
    }

    #[test]
    fn form_codes_read_back_and_differ() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let c = new_form_code();
            assert_eq!(c.len(), FORM_CODE_CHARS + 1);
            let canon = c.replace('-', "");
            assert_eq!(parse_form_code(&c).as_deref(), Some(canon.as_str()));
            assert_eq!(
                parse_form_code(&format!("code {}", c.to_lowercase())).as_deref(),
                Some(canon.as_str())
            );
            assert!(seen.insert(canon));
        }
        for text in [
            "",
            "CODE",
            "12345678",
            "ABCDEFGH",
            "K7Q2-MX4",
            "K7Q2-MX4PZ",
            "K7Q2 MX4U",
        ] {
            assert_eq!(parse_form_code(text), None, "{text}");
        }
        assert_eq!(parse_form_code("k7q2-mx4o").as_deref(), Some("K7Q2MX40"));
    }

    #[test]
    fn codes_use_the_low_bits() {
        assert_eq!(reference_code(&uuid::Uuid::nil()), "R-000000");
        let id = uuid::Uuid::from_u128(0xffff_ffff_ffff_7fff_bfff_ffff_c000_0000);
        assert_eq!(reference_code(&id), "R-000000");
        let id = uuid::Uuid::from_u128(1 << 25 | 31);
        assert_eq!(reference_code(&id), "R-10000Z");
    }

    #[test]
    fn references_are_not_found_in_words() {
        for text in [
            "REBELLE à Bria",
            "REPORTS",
            "r-7kq2m",
            "R-7KQ2MXY",
            "ARMED R",
            "Bria",
        ] {
            assert_eq!(find_reference(text), None, "{text}");
        }
        assert_eq!(find_reference("ok (R-ABCDEF)").as_deref(), Some("R-ABCDEF"));
        assert_eq!(find_reference("ref r7kq2mx").as_deref(), Some("R-7KQ2MX"));
    }

    #[test]
    fn gsm7_extension_and_refusals() {
        assert_eq!(gsm7_septets(""), Some(0));
        assert_eq!(gsm7_septets("[x]"), Some(5));
        assert_eq!(gsm7_septets("مرحبا"), None);
        assert_eq!(gsm7_septets("🙂"), None);
        assert_eq!(gsm7_septets("ê"), None);
    }
}
