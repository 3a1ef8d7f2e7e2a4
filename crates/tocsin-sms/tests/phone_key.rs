//! The keyed hash that finds a source by phone number: computed on the E.164 form, so one
//! phone written nationally or internationally is one source, and numbers stored before the
//! numbering-plan library keep matching.

use tocsin_domain::ContactKey;
use tocsin_sms::normalize_phone;

/// A fixed key, so the hashes below are the ones any store holds for these numbers.
fn key() -> ContactKey {
    ContactKey::from_hex(&"2a".repeat(32)).unwrap()
}

#[test]
fn international_numbers_hash_exactly_as_before() {
    let k = key();
    // (as a gateway delivers it, the E.164 form stored so far, its keyed hash under `key`)
    for (raw, e164, hash) in [
        ("+254 712 345678", "+254712345678", PINNED_KE),
        ("00254712345678", "+254712345678", PINNED_KE),
        ("+236 70 01 23 45", "+23670012345", PINNED_CF),
        ("0023670012345", "+23670012345", PINNED_CF),
        ("+39 06 1234 5678", "+390612345678", PINNED_IT),
    ] {
        let n = normalize_phone(raw, None).unwrap();
        assert_eq!(n, e164, "{raw}");
        assert_eq!(k.lookup_hash(&n), hash, "{raw}");
    }
}

#[test]
fn one_phone_written_nationally_or_internationally_is_one_source() {
    let k = key();
    for (raw, default) in [
        ("0712 345 678", Some("KE")),
        ("0712345678", Some("ke")),
        ("712 345 678", Some("KE")),
        ("254712345678", Some("KE")),
        ("+254 712 345678", Some("KE")),
        ("+254 712 345678", None),
        ("00254712345678", None),
        ("0712 345 678", Some("254")),
    ] {
        let n = normalize_phone(raw, default).unwrap();
        assert_eq!(k.lookup_hash(&n), PINNED_KE, "{raw} in {default:?}");
    }
    // Where the trunk `0` is part of the number (Côte d'Ivoire, Italy), it stays.
    assert_eq!(
        normalize_phone("07 07 12 34 56", Some("CI")).unwrap(),
        normalize_phone("+225 07 07 12 34 56", None).unwrap()
    );
    assert_eq!(
        normalize_phone("06 1234 5678", Some("IT")).unwrap(),
        normalize_phone("+39 06 1234 5678", None).unwrap()
    );
}

/// SHA-256 of `tocsin-lookup-v1`, the key and the E.164 form, as `ContactKey::lookup_hash`
/// has computed it since sources were first stored (checked outside Rust too).
const PINNED_KE: &str = "8d37561e36b92a6eeadf801fca2c7407ffb75f83c7e66db2b251968701e55ca3";
const PINNED_CF: &str = "0095ef4400e0828d12cead3b5edd66ddbb2092d9f485a9b9a813a1d6cfff4491";
const PINNED_IT: &str = "bacff3995a02d11eb25f80a4efe51a3cfedf6a0354ffab7740ab986453c4811e";
