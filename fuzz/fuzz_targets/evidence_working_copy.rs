//! Untrusted evidence files (photos and documents from the public form and the API): making
//! the working copy never panics, and a working copy is stable (cleaning it again changes
//! nothing), for images.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(w) = tocsin_media::working_copy(data) {
        assert_eq!(tocsin_media::sniff(&w.bytes).ok(), Some(w.kind));
        if w.kind.is_image() {
            let again = tocsin_media::working_copy(&w.bytes).expect("a working copy reads");
            assert_eq!(again.bytes, w.bytes);
        }
    }
});
