//! The bytes of a file before any format reads them: decompression (`.gz`, one member of a
//! `.zip`), text encodings (converted to UTF-8 as they stream), and format sniffing.
//!
//! Every layer streams through fixed-size buffers, so memory stays constant whatever the
//! size of the file or of the archive member.

use encoding_rs::{Decoder, Encoding, UTF_8, WINDOWS_1252};
use std::cell::Cell;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::rc::Rc;

use crate::{Format, Geo, ImportError, ImportOptions, Row};

/// What reading a file found out besides its rows, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadInfo {
    /// The format read.
    pub format: Option<Format>,
    /// Why the format was chosen, when it was sniffed rather than given.
    pub sniffed: Option<String>,
    /// `gzip`, or `zip member NAME`.
    pub compression: Option<String>,
    /// The encoding the text was read in (`UTF-8`, `windows-1252`, `UTF-16LE`, …).
    pub encoding: String,
    /// Why that encoding: given, byte order mark, or assumed because the text is not UTF-8.
    pub encoding_reason: String,
    /// The ACLED layout or GDELT version read.
    pub layout: Option<String>,
}

impl ReadInfo {
    /// The lines the import summary shows about the file itself.
    pub fn notes(&self) -> Vec<String> {
        let mut n = Vec::new();
        if let (Some(f), Some(why)) = (self.format, &self.sniffed) {
            n.push(format!("format: {} (sniffed: {why})", f.dataset_name()));
        }
        if let Some(c) = &self.compression {
            n.push(format!("compression: {c}"));
        }
        if self.encoding != "UTF-8" || !self.encoding_reason.is_empty() {
            n.push(format!(
                "encoding: {} ({})",
                self.encoding, self.encoding_reason
            ));
        }
        if let Some(l) = &self.layout {
            n.push(format!("layout: {l}"));
        }
        n
    }
}

impl Format {
    /// The format's name as `tocsin import` takes it.
    pub fn dataset_name(self) -> &'static str {
        match self {
            Format::Ucdp => "ucdp",
            Format::Acled => "acled",
            Format::Gdelt => "gdelt",
            Format::Hxl => "hxl",
        }
    }
}

/// The encoding for a label of the Encoding Standard (`windows-1252`, `latin1`, `utf-16le`,
/// `utf-8`, …); Latin-1 labels give Windows-1252, its superset.
pub fn encoding_for_label(label: &str) -> Result<&'static Encoding, ImportError> {
    Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
        ImportError::Format(format!(
            "unknown encoding {label:?}: expected a label such as utf-8, windows-1252, latin1, utf-16le or utf-16be"
        ))
    })
}

/// Read a file whose format is `format`, or sniffed when `None`: a `.gz` file or one member
/// of a `.zip` archive ([`ImportOptions::member`], needed when it holds several), in any
/// encoding ([`ImportOptions::encoding`]).
pub fn read_file<R: Read + Seek>(
    format: Option<Format>,
    mut input: R,
    opts: &ImportOptions,
    geo: &dyn Geo,
    sink: &mut dyn FnMut(Row) -> Result<(), String>,
) -> Result<ReadInfo, ImportError> {
    let mut magic = [0u8; 4];
    let n = read_up_to(&mut input, &mut magic)?;
    input.seek(SeekFrom::Start(0))?;
    if n == 4 && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06") {
        return read_zip(format, input, opts, geo, sink);
    }
    if opts.member.is_some() {
        return Err(ImportError::Format(
            "--member names a member of a .zip archive, and this file is not one".into(),
        ));
    }
    read_stream(format, input, ReadInfo::default(), opts, geo, sink)
}

fn read_zip<R: Read + Seek>(
    format: Option<Format>,
    input: R,
    opts: &ImportOptions,
    geo: &dyn Geo,
    sink: &mut dyn FnMut(Row) -> Result<(), String>,
) -> Result<ReadInfo, ImportError> {
    let bad =
        |e: zip::result::ZipError| ImportError::Format(format!("not a readable .zip archive: {e}"));
    let mut zip = zip::ZipArchive::new(input).map_err(bad)?;
    let names: Vec<String> = zip
        .file_names()
        .map(|n| n.map(|n| n.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(bad)?;
    if names.iter().any(|n| n == "xl/workbook.xml") {
        return Err(ImportError::Format(
            "an Excel workbook (.xlsx), not a data file: save the sheet as CSV first".into(),
        ));
    }
    let data: Vec<&String> = names
        .iter()
        .filter(|n| !n.ends_with('/') && !n.starts_with("__MACOSX/"))
        .collect();
    let name = match &opts.member {
        Some(m) => names
            .iter()
            .find(|n| *n == m)
            .ok_or_else(|| {
                ImportError::Format(format!(
                    "the archive has no member {m:?}; it holds: {}",
                    list(&data)
                ))
            })?
            .clone(),
        None => match data.as_slice() {
            [one] => (*one).clone(),
            [] => return Err(ImportError::Format("the .zip archive holds no file".into())),
            many => {
                return Err(ImportError::Format(format!(
                    "the .zip archive holds {} files: name one with --member ({})",
                    many.len(),
                    list(many)
                )))
            }
        },
    };
    let member = zip.by_name(&name).map_err(|e| {
        ImportError::Format(format!("cannot read {name:?} in the .zip archive: {e}"))
    })?;
    let info = ReadInfo {
        compression: Some(format!("zip member {name}")),
        ..ReadInfo::default()
    };
    read_stream(format, member, info, opts, geo, sink)
}

fn list(names: &[&String]) -> String {
    let mut s = names
        .iter()
        .take(10)
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 10 {
        s.push_str(&format!(", … ({} in all)", names.len()));
    }
    s
}

/// Fill `buf` as far as the input goes.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The first bytes of a stream, read ahead, then the rest.
fn head<R: Read>(mut r: R, n: usize) -> io::Result<(Vec<u8>, R)> {
    let mut buf = vec![0; n];
    let k = read_up_to(&mut r, &mut buf)?;
    buf.truncate(k);
    Ok((buf, r))
}

/// Compression and archive formats named when refused, by their first bytes.
fn unsupported(magic: &[u8]) -> Option<&'static str> {
    let starts = |p: &[u8]| magic.starts_with(p);
    Some(match () {
        _ if starts(b"BZh") => "bzip2 compression (decompress it first: bunzip2 FILE)",
        _ if starts(&[0xFD, b'7', b'z', b'X', b'Z', 0]) => {
            "xz compression (decompress it first: xz -d FILE)"
        }
        _ if starts(&[0x28, 0xB5, 0x2F, 0xFD]) => {
            "zstd compression (decompress it first: zstd -d FILE)"
        }
        _ if starts(&[b'7', b'z', 0xBC, 0xAF, 0x27, 0x1C]) => {
            "a 7-Zip archive (extract the data file first)"
        }
        _ if starts(b"Rar!") => "a RAR archive (extract the data file first)",
        _ if starts(&[0x1F, 0x9D]) => {
            "Unix compress (.Z) compression (decompress it first: gzip -d FILE)"
        }
        _ if starts(&[0xD0, 0xCF, 0x11, 0xE0]) => {
            "an Excel 97–2003 workbook (.xls): save the sheet as CSV first"
        }
        _ if starts(b"%PDF") => "a PDF document, not a data file",
        _ if starts(b"PK\x03\x04") => "a .zip archive (import the file itself, not standard input)",
        _ if magic.len() > 262 && &magic[257..262] == b"ustar" => {
            "a tar archive (extract the data file first)"
        }
        _ => return None,
    })
}

/// Read any stream (gzip-compressed or not, in any encoding) as `format`, or sniffed.
pub(crate) fn read_stream(
    format: Option<Format>,
    input: impl Read,
    mut info: ReadInfo,
    opts: &ImportOptions,
    geo: &dyn Geo,
    sink: &mut dyn FnMut(Row) -> Result<(), String>,
) -> Result<ReadInfo, ImportError> {
    let (magic, rest) = head(input, 512)?;
    let raw = Cursor::new(magic).chain(rest);
    if raw.get_ref().0.get_ref().starts_with(&[0x1F, 0x8B]) {
        if info.compression.is_some() {
            return Err(ImportError::Format(
                "a gzip file inside a .zip archive: extract it first".into(),
            ));
        }
        info.compression = Some("gzip".into());
        let gz = flate2::read::MultiGzDecoder::new(raw);
        let (magic, rest) = head(gz, 512)?;
        if let Some(what) = unsupported(&magic) {
            return Err(ImportError::Format(format!("the gzip file holds {what}")));
        }
        return decode_and_read(
            format,
            Cursor::new(magic).chain(rest),
            info,
            opts,
            geo,
            sink,
        );
    }
    if let Some(what) = unsupported(raw.get_ref().0.get_ref()) {
        return Err(ImportError::Format(format!("the file is {what}")));
    }
    decode_and_read(format, raw, info, opts, geo, sink)
}

fn decode_and_read(
    format: Option<Format>,
    input: impl Read,
    mut info: ReadInfo,
    opts: &ImportOptions,
    geo: &dyn Geo,
    sink: &mut dyn FnMut(Row) -> Result<(), String>,
) -> Result<ReadInfo, ImportError> {
    let forced = opts
        .encoding
        .as_deref()
        .map(encoding_for_label)
        .transpose()?;
    let (text, chosen) = Decoding::new(input, forced)?;
    // Enough decoded text to tell the format by, then the rest.
    let (first, rest) = head(text, 64 * 1024)?;
    let format = match format {
        Some(f) => f,
        None => {
            let (f, why) = sniff(&first)?;
            info.sniffed = Some(why);
            f
        }
    };
    info.format = Some(format);
    let owned;
    let opts = if opts.dataset.is_empty() {
        owned = ImportOptions {
            dataset: format.dataset().to_string(),
            ..opts.clone()
        };
        &owned
    } else {
        opts
    };
    info.layout = crate::read_text(format, Cursor::new(first).chain(rest), opts, geo, sink)?;
    let (enc, reason) = chosen.get();
    info.encoding = enc.name().to_string();
    info.encoding_reason = reason.to_string();
    Ok(info)
}

/// Tell the format from the first decoded bytes: a GeoJSON object (UCDP), 57, 58 or 61
/// tab-separated columns (GDELT), ACLED's or UCDP's column names, a row of HXL hashtags.
/// Answers the format and why it was chosen.
pub fn sniff(head: &[u8]) -> Result<(Format, String), ImportError> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return Ok((Format::Ucdp, "a GeoJSON object (UCDP GED)".into()));
    }
    let line_end = memchr::memchr2(b'\n', b'\r', head).unwrap_or(head.len());
    let first = &head[..line_end];
    let tabs = memchr::memchr_iter(b'\t', first).count();
    if matches!(tabs + 1, 57 | 58 | 61) {
        return Ok((
            Format::Gdelt,
            format!("{} tab-separated columns and no header (GDELT)", tabs + 1),
        ));
    }
    let mut rdr = crate::columns::reader(head, b',', false);
    let mut rec = csv::ByteRecord::new();
    let mut header: Vec<String> = Vec::new();
    let mut rows = 0;
    while rows < 25 {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            // The head may end in the middle of a row: what came before decides.
            Ok(false) | Err(_) => break,
        }
        if rows == 0 {
            header = rec
                .iter()
                .map(|f| {
                    String::from_utf8_lossy(f)
                        .trim()
                        .trim_start_matches('\u{feff}')
                        .to_ascii_lowercase()
                })
                .collect();
            let has = |c: &str| header.iter().any(|h| h == c);
            if has("event_id_cnty") {
                return Ok((Format::Acled, "the header has event_id_cnty (ACLED)".into()));
            }
            if has("id") && has("type_of_violence") && has("date_start") {
                return Ok((
                    Format::Ucdp,
                    "the header has id, type_of_violence and date_start (UCDP GED)".into(),
                ));
            }
        }
        if crate::hxl::is_tag_row(&rec) {
            return Ok((Format::Hxl, "a row of #hashtags (HXL)".into()));
        }
        rows += 1;
    }
    let seen = if header.len() == 1 && tabs > 0 {
        format!("{} tab-separated columns", tabs + 1)
    } else if header.is_empty() {
        "nothing".to_string()
    } else {
        format!(
            "{} columns starting {}",
            header.len(),
            header
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Err(ImportError::Format(format!(
        "cannot tell the format: expected a header with event_id_cnty (ACLED), id, \
         type_of_violence and date_start (UCDP GED), a row of #hashtags (HXL), GeoJSON \
         (UCDP GED), or 57, 58 or 61 tab-separated columns (GDELT); found {seen}. \
         Name the format: tocsin import FORMAT FILE"
    )))
}

/// The encoding read and why, shared with the summary once reading is done.
#[derive(Clone)]
struct Chosen(Rc<Cell<(&'static Encoding, &'static str)>>);

impl Chosen {
    fn get(&self) -> (&'static Encoding, &'static str) {
        self.0.get()
    }
}

enum Mode {
    /// Passing bytes through; all of them ASCII so far, so the encoding is still open.
    Undecided,
    /// Passing UTF-8 through (seen, given, or marked by a byte order mark).
    Utf8,
    /// Converting another encoding to UTF-8.
    Convert(Box<Decoder>),
}

/// Text in any encoding as UTF-8. Until the first byte that is not ASCII, bytes pass
/// through unchanged (ASCII is the same in every encoding this reads); that byte decides:
/// valid UTF-8 stays UTF-8 (a later invalid byte is a row's problem), anything else is read
/// as Windows-1252 from there on. UTF-8 passes through without a copy.
struct Decoding<R> {
    inner: R,
    mode: Mode,
    /// Raw bytes waiting to be converted (or, undecided, held back: an unfinished sequence).
    raw: Vec<u8>,
    raw_at: usize,
    /// Converted bytes not yet handed out.
    out: Vec<u8>,
    out_at: usize,
    eof: bool,
    /// The decoder has been flushed at the end of the input.
    done: bool,
    chosen: Chosen,
}

const RAW_BUF: usize = 64 * 1024;

impl<R: Read> Decoding<R> {
    fn new(mut inner: R, forced: Option<&'static Encoding>) -> io::Result<(Self, Chosen)> {
        let bom = {
            let mut b = [0u8; 3];
            let n = read_up_to(&mut inner, &mut b)?;
            b[..n].to_vec()
        };
        let (mode, enc, reason): (Mode, &'static Encoding, &'static str) =
            match (forced, Encoding::for_bom(&bom)) {
                (Some(e), _) if e == UTF_8 => (Mode::Utf8, e, "given"),
                (Some(e), _) => (
                    Mode::Convert(Box::new(e.new_decoder_with_bom_removal())),
                    e,
                    "given",
                ),
                (None, Some((e, _))) if e == UTF_8 => (Mode::Utf8, e, ""),
                (None, Some((e, _))) => (
                    Mode::Convert(Box::new(e.new_decoder_with_bom_removal())),
                    e,
                    "byte order mark",
                ),
                (None, None) => (Mode::Undecided, UTF_8, ""),
            };
        let chosen = Chosen(Rc::new(Cell::new((enc, reason))));
        Ok((
            Decoding {
                inner,
                mode,
                raw: bom,
                raw_at: 0,
                out: Vec::new(),
                out_at: 0,
                eof: false,
                done: false,
                chosen: chosen.clone(),
            },
            chosen,
        ))
    }

    /// Move converted bytes out; refill from the inner reader when they run out.
    fn read_converted(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_at < self.out.len() {
                let n = (self.out.len() - self.out_at).min(buf.len());
                buf[..n].copy_from_slice(&self.out[self.out_at..self.out_at + n]);
                self.out_at += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            let Mode::Convert(dec) = &mut self.mode else {
                unreachable!("only called when converting")
            };
            if self.raw_at == self.raw.len() && !self.eof {
                self.raw.resize(RAW_BUF, 0);
                let n = loop {
                    match self.inner.read(&mut self.raw) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        r => break r?,
                    }
                };
                self.raw.truncate(n);
                self.raw_at = 0;
                self.eof = n == 0;
            }
            let last = self.eof;
            let pending = &self.raw[self.raw_at..];
            let cap = dec
                .max_utf8_buffer_length(pending.len())
                .unwrap_or(RAW_BUF * 4)
                .max(16);
            self.out.clear();
            self.out.resize(cap, 0);
            self.out_at = 0;
            let (_, read, written, _) = dec.decode_to_utf8(pending, &mut self.out, last);
            self.raw_at += read;
            self.out.truncate(written);
            if last && self.raw_at == self.raw.len() {
                self.done = true;
            }
        }
    }

    fn switch_to_1252(&mut self) {
        self.mode = Mode::Convert(Box::new(WINDOWS_1252.new_decoder_without_bom_handling()));
        self.chosen.0.set((
            WINDOWS_1252,
            "assumed: the text is not UTF-8; give --encoding to read it otherwise",
        ));
    }
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match self.mode {
            Mode::Convert(_) => self.read_converted(buf),
            Mode::Utf8 => {
                if self.raw_at < self.raw.len() {
                    let n = (self.raw.len() - self.raw_at).min(buf.len());
                    buf[..n].copy_from_slice(&self.raw[self.raw_at..self.raw_at + n]);
                    self.raw_at += n;
                    return Ok(n);
                }
                self.inner.read(buf)
            }
            Mode::Undecided => {
                // Held-back bytes first, then fresh ones, in `buf`.
                let held = self.raw.len() - self.raw_at;
                let mut n = held.min(buf.len());
                buf[..n].copy_from_slice(&self.raw[self.raw_at..self.raw_at + n]);
                self.raw_at += n;
                if self.raw_at == self.raw.len() {
                    self.raw.clear();
                    self.raw_at = 0;
                }
                if n < buf.len() && !self.eof {
                    let k = self.inner.read(&mut buf[n..])?;
                    self.eof = k == 0;
                    n += k;
                }
                if buf[..n].is_ascii() {
                    return Ok(n);
                }
                let Some(p) = buf[..n].iter().position(|b| !b.is_ascii()) else {
                    return Ok(n);
                };
                match std::str::from_utf8(&buf[p..n]) {
                    Ok(_) => {
                        self.mode = Mode::Utf8;
                        Ok(n)
                    }
                    // Valid up to an unfinished sequence at the end.
                    Err(e) if e.error_len().is_none() && !self.eof => {
                        if e.valid_up_to() > 0 {
                            self.mode = Mode::Utf8;
                            return Ok(n);
                        }
                        // Not enough to decide: hold the unfinished sequence back.
                        let mut keep = buf[p..n].to_vec();
                        keep.extend_from_slice(&self.raw[self.raw_at..]);
                        self.raw = keep;
                        self.raw_at = 0;
                        if p > 0 {
                            return Ok(p);
                        }
                        // Nothing before it: read on until the sequence completes.
                        let mut more = [0u8; 4];
                        let k = self.inner.read(&mut more)?;
                        self.eof = k == 0;
                        self.raw.extend_from_slice(&more[..k]);
                        self.read(buf)
                    }
                    Err(e) if e.valid_up_to() > 0 => {
                        // Real UTF-8 first: the file is UTF-8 with a broken row.
                        self.mode = Mode::Utf8;
                        Ok(n)
                    }
                    Err(_) => {
                        let mut pending = buf[p..n].to_vec();
                        pending.extend_from_slice(&self.raw[self.raw_at..]);
                        self.raw = pending;
                        self.raw_at = 0;
                        self.switch_to_1252();
                        if p > 0 {
                            Ok(p)
                        } else {
                            self.read_converted(buf)
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], forced: Option<&str>, chunk: usize) -> (String, &'static str) {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let forced = forced.map(|l| encoding_for_label(l).unwrap());
        let (mut d, chosen) = Decoding::new(Trickle(bytes, chunk), forced).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            let n = d.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        (
            String::from_utf8_lossy(&out).into_owned(),
            chosen.get().0.name(),
        )
    }

    #[test]
    fn encodings_are_detected_or_given_and_converted_in_any_chunking() {
        let text = "id,name\n1,Bangui\n2,Bossangoa – Ouham, Côte d’Ivoire ✓\n";
        let (win, _, _) =
            WINDOWS_1252.encode("id,name\n1,Bangui\n2,Bossangoa – Ouham, Côte d’Ivoire\n");
        for chunk in [1, 2, 3, 5, 64, 4096] {
            assert_eq!(decode(text.as_bytes(), None, chunk), (text.into(), "UTF-8"));
            assert_eq!(
                decode(&win, None, chunk),
                (
                    "id,name\n1,Bangui\n2,Bossangoa – Ouham, Côte d’Ivoire\n".into(),
                    "windows-1252"
                ),
                "chunk {chunk}"
            );
            let mut le = vec![0xFF, 0xFE];
            le.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
            assert_eq!(decode(&le, None, chunk), (text.into(), "UTF-16LE"));
            let mut be = vec![0xFE, 0xFF];
            be.extend(text.encode_utf16().flat_map(|u| u.to_be_bytes()));
            assert_eq!(decode(&be, None, chunk), (text.into(), "UTF-16BE"));
            // Forced: Latin-1 bytes that happen to be valid UTF-8 are read as Latin-1.
            assert_eq!(
                decode("Ã©".as_bytes(), Some("latin1"), chunk),
                ("ÃƒÂ©".into(), "windows-1252")
            );
        }
        // UTF-8 first, a broken byte later: stays UTF-8 (that row is rejected).
        let (s, enc) = decode(b"caf\xC3\xA9\n\xE9t\xE9\n", None, 3);
        assert_eq!(enc, "UTF-8");
        assert_eq!(s, "café\n\u{fffd}t\u{fffd}\n");
    }
}
