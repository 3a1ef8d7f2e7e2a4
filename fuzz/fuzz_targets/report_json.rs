//! Untrusted `POST /api/v1/reports` bodies: JSON parsing, then domain validation.
//! Neither may panic; an accepted report must satisfy the documented rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tocsin_domain::report::MAX_TEXT_BYTES;
use tocsin_domain::{Channel, NewReport, ReportInput};
use tocsin_server::input::parse_json;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = parse_json::<ReportInput>(data) else {
        return;
    };
    let text = input.text.clone();
    if let Ok(r) = NewReport::parse(input, Channel::Api, None) {
        // Stored byte-exact, never empty, never over the limit, never with NUL.
        assert_eq!(r.text, text);
        assert!(!r.text.trim().is_empty());
        assert!(r.text.len() <= MAX_TEXT_BYTES);
        assert!(!r.text.contains('\0'));
        assert_eq!(r.channel, Channel::Api);
        // Coordinates come in pairs and lie on the globe.
        assert_eq!(r.latitude.is_some(), r.longitude.is_some());
        if let (Some(lat), Some(lon)) = (r.latitude, r.longitude) {
            assert!((-90.0..=90.0).contains(&lat), "latitude {lat}");
            assert!((-180.0..=180.0).contains(&lon), "longitude {lon}");
        }
    }
});
