//! The HXL importer (any CSV with an HXL hashtag row) on arbitrary bytes: see `import_common.rs`.
#![no_main]
use libfuzzer_sys::fuzz_target;
mod import_common;

fuzz_target!(|data: &[u8]| import_common::import(tocsin_exchange::Format::Hxl, data));
