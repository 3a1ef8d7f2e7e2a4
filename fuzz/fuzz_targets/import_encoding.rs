//! Text encodings on arbitrary bytes: the first byte picks the encoding given (none, so
//! detected; UTF-8; Windows-1252; UTF-16LE; UTF-16BE) and the format (each, or sniffed); the
//! rest is the file. Never panics, whatever the bytes and wherever a multi-byte sequence is
//! cut. Seeds: Windows-1252 and UTF-16 event files.
#![no_main]
use libfuzzer_sys::fuzz_target;
mod import_common;

fuzz_target!(|data: &[u8]| import_common::import_encoded(data));
