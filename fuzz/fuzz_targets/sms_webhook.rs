//! SMS webhook parsing: Kannel's raw query strings and charsets, phone numbers and message
//! parsing on arbitrary input. Nothing may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (head, rest) = data.split_at(data.len().min(2));
    let charset = match head.first().map(|b| b % 5) {
        Some(0) => Some("UTF-16BE"),
        Some(1) => Some("UTF-8"),
        Some(2) => Some("ISO-8859-1"),
        Some(3) => Some("8-BIT"),
        _ => None,
    };
    let coding = head.get(1).map(|b| ["0", "1", "2"][(*b % 3) as usize]);
    let _ = tocsin_server::sms::kannel_text(rest, charset, coding);
    let q = String::from_utf8_lossy(rest);
    let pairs = tocsin_server::sms::raw_pairs(&q);
    for (_, v) in pairs.iter().take(8) {
        let _ = tocsin_server::sms::kannel_text(v, charset, coding);
    }
    let _ = tocsin_sms::parse_form_code(&q);
    let _ = tocsin_server::sms::gateway_text(&q);
    let _ = tocsin_sms::normalize_phone(&q, Some("236"));
    let _ = tocsin_sms::normalize_phone(&q, None);
    let _ = tocsin_sms::normalize_phone(&q, Some("KE"));
    if q.len() <= 2_000 {
        let p = tocsin_sms::parse(&q, Some("CAF"));
        let _ = tocsin_sms::ack_text(p.language, "R-ABC123");
    }
});
