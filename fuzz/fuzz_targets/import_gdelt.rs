//! The GDELT importer (GDELT 2.0 events (61 tab-separated columns)) on arbitrary bytes: see `import_common.rs`.
#![no_main]
use libfuzzer_sys::fuzz_target;
mod import_common;

fuzz_target!(|data: &[u8]| import_common::import(tocsin_exchange::Format::Gdelt, data));
