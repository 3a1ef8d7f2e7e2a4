//! Reading a CSV file of any common encoding into text, and the errors of the CSV readers.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use std::io::Read;

/// The largest lexicon or sample file read (a lexicon of a million terms fits).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Why a lexicon or a sample could not be read. Nothing is returned from a file with an
/// error: a reader never yields part of a file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A row is wrong; `line` is the 1-based line of the file it starts on.
    #[error("line {line}: {message}")]
    Line {
        /// The line the row starts on.
        line: u64,
        /// What is wrong, naming the column.
        message: String,
    },
    /// The file as a whole is wrong (missing column, empty, too large).
    #[error("{0}")]
    File(String),
    /// The input could not be read.
    #[error("reading failed: {0}")]
    Io(#[from] std::io::Error),
}

impl ReadError {
    pub(crate) fn line(line: u64, message: impl Into<String>) -> ReadError {
        ReadError::Line {
            line,
            message: message.into(),
        }
    }
}

/// The whole of `input` as text: UTF-8 (with or without a byte order mark), UTF-16 with a
/// byte order mark, or else Windows-1252 (a superset of Latin-1). Answers the text and the
/// encoding's name.
pub fn read_text(input: impl Read) -> Result<(String, &'static str), ReadError> {
    let mut bytes = Vec::new();
    input.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::File(format!(
            "the file is larger than {} MiB",
            MAX_FILE_BYTES / 1024 / 1024
        )));
    }
    let enc: &'static Encoding = match Encoding::for_bom(&bytes) {
        Some((e, _)) => e,
        None if std::str::from_utf8(&bytes).is_ok() => UTF_8,
        None => WINDOWS_1252,
    };
    let (text, enc, _) = enc.decode(&bytes);
    Ok((text.into_owned(), enc.name()))
}

/// A CSV reader over `text` with a header row, flexible about ragged rows (they are
/// reported by the caller with their line).
pub(crate) fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes())
}

/// The header's column names, lower-cased, and the error for a CSV syntax problem.
pub(crate) fn header(rdr: &mut csv::Reader<&[u8]>, text: &str) -> Result<Vec<String>, ReadError> {
    let h = rdr.headers().map_err(|e| csv_error(e, text))?;
    if h.is_empty() || h.iter().all(str::is_empty) {
        return Err(ReadError::File(
            "the file is empty: expected a header row".into(),
        ));
    }
    Ok(h.iter().map(|c| c.trim().to_lowercase()).collect())
}

pub(crate) fn csv_error(e: csv::Error, text: &str) -> ReadError {
    let line = e.position().map(|p| Lines::default().line(text, p.byte()));
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "the row is not valid text".to_string(),
        _ => e.to_string(),
    };
    match line {
        Some(line) => ReadError::line(line, message),
        None => ReadError::File(message),
    }
}

/// Line numbers of byte offsets met in increasing order (the CSV reader's own line count
/// skips blank lines).
#[derive(Debug, Default)]
pub(crate) struct Lines {
    byte: usize,
    line: u64,
}

impl Lines {
    /// The 1-based line of `text` that the row at byte offset `byte` starts on.
    pub(crate) fn line(&mut self, text: &str, byte: u64) -> u64 {
        let mut byte = (byte as usize).min(text.len());
        // A record's position can be the blank line before it.
        while matches!(text.as_bytes().get(byte), Some(b'\n' | b'\r')) {
            byte += 1;
        }
        if byte < self.byte {
            *self = Lines::default();
        }
        self.line += text.as_bytes()[self.byte..byte]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.byte = byte;
        self.line + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_by_bom_or_fallback() {
        let text = "term,language\nmende,sw\nétranger,fr\n";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(read_text(&le[..]).unwrap(), (text.to_string(), "UTF-16LE"));
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(read_text(&bom[..]).unwrap(), (text.to_string(), "UTF-8"));
        let (latin1, _, _) = WINDOWS_1252.encode(text);
        assert_eq!(
            read_text(&latin1[..]).unwrap(),
            (text.to_string(), "windows-1252")
        );
    }
}
