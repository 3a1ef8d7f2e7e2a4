//! What every importer target checks: on arbitrary bytes an importer accepts or rejects
//! rows, or refuses the file with an error, and never panics.
use tocsin_exchange::{read, Format, ImportOptions, IsoOnly};

/// Feed `data` to the importer for `format`.
pub fn import(format: Format, data: &[u8]) {
    let mut opts = ImportOptions::new(format);
    opts.default_event_type = Some(("Battles".into(), "Armed clash".into()));
    let _ = read(format, data, &opts, &IsoOnly, &mut |_| Ok(()));
}
