//! Untrusted PDF documents: the cleaner never panics, and whatever working copy it makes
//! parses again and has nothing left to remove (no script, embedded file or metadata that a
//! second pass would find). The input is always read as a PDF, so every execution reaches
//! `lopdf` and the cleaner's walk.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = b"%PDF-".to_vec();
    bytes.extend_from_slice(data.strip_prefix(b"%PDF-").unwrap_or(data));
    match tocsin_media::working_copy(&bytes) {
        Ok(w) => {
            assert_eq!(w.kind, tocsin_domain::FileKind::Pdf);
            let again = tocsin_media::working_copy(&w.bytes).expect("a working copy reads");
            assert!(again.removed.is_empty(), "left behind: {:?}", again.removed);
        }
        Err(e) => assert!(
            e.keep_original_only() || e == tocsin_media::MediaError::Encrypted,
            "{e}"
        ),
    }
});
