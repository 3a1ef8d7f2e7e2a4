//! Compressed and archived input on arbitrary bytes: gzip streams, .zip archives (one member
//! or several, with `--member`), refused formats, then format sniffing. It accepts or rejects
//! rows, or refuses the file with an error, and never panics. Seeds: gzipped and zipped
//! event files.
#![no_main]
use libfuzzer_sys::fuzz_target;
mod import_common;

fuzz_target!(|data: &[u8]| import_common::import_file(data));
