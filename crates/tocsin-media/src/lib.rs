//! Evidence files without the warner's traces: what a file is, read from its bytes
//! ([`sniff`]), and the working copy analysts see ([`working_copy`]), with location and device
//! metadata removed. Pure functions over bytes: no I/O, and no input makes them panic.
//!
//! How each kind is cleaned, without re-encoding (the pixels and pages stay exactly as
//! received; the original is kept sealed elsewhere for evidentiary use):
//! - **JPEG**: every APPn segment (EXIF and its GPS IFD, maker notes and camera serials, the
//!   EXIF thumbnail, XMP, IPTC/Photoshop, ICC profiles, MPF secondary images, JFIF
//!   thumbnails) and every comment is dropped, before and between scans, keeping only an
//!   `APP14 Adobe` marker (colour transform flags, needed to decode CMYK files); anything after
//!   the end-of-image marker is dropped. Segments before the first scan are read by `img-parts`;
//!   the scans are walked marker by marker here.
//! - **PNG**: only the chunks that draw the image are kept (`IHDR PLTE IDAT IEND tRNS gAMA
//!   cHRM sRGB sBIT bKGD pHYs` and the APNG chunks); text (`tEXt zTXt iTXt`, where XMP
//!   lives), `eXIf`, `tIME`, ICC profiles and every unknown chunk are dropped (`img-parts`).
//! - **WebP**: only the image chunks are kept (`VP8 VP8L VP8X ALPH ANIM ANMF`); `EXIF`,
//!   `XMP `, `ICCP` and unknown chunks are dropped and the `VP8X` flags cleared to match.
//! - **PDF** (`lopdf`, the document re-written from its parsed objects, so earlier revisions
//!   and unreferenced objects are gone): the document information dictionary (author, creator
//!   tool, dates), the document ID, every `/Metadata` (XMP) stream, page thumbnails,
//!   `/PieceInfo` application data, embedded and associated files (`/EmbeddedFiles`, `/EF`,
//!   `/AF`), file attachment and media annotations, JavaScript and every action that runs
//!   code, opens, imports or submits files (`/OpenAction`, `/AA`, `/JS`, `Launch`, `GoToR`,
//!   ...), XFA forms, the author and dates of comments, and the metadata segments of JPEG
//!   images (`/DCTDecode`, cleaned as JPEG files are). Text, pages, fonts, images and links
//!   stay. Encrypted PDFs are refused (they cannot be cleaned); a PDF that does not parse,
//!   nests too deeply or wraps a JPEG in another filter gets no working copy
//!   ([`MediaError::keep_original_only`]).
//!
//! HEIC/HEIF photos (an iPhone's default) are refused with a message saying how to send JPEG:
//! no well-kept Rust crate reads and rewrites their metadata boxes.

pub mod sample;

use bytes::Bytes;
use img_parts::jpeg::{markers, Jpeg};
use img_parts::png::Png;
use img_parts::riff::{RiffChunk, RiffContent};
use img_parts::webp::WebP;
use tocsin_domain::FileKind;

/// Why a file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// Nothing was sent.
    #[error("the file is empty")]
    Empty,
    /// A HEIC/HEIF photo.
    #[error(
        "HEIC/HEIF photos are not accepted yet: please send JPEG (on an iPhone: Settings → \
         Camera → Formats → Most Compatible), PNG or WebP"
    )]
    Heic,
    /// Not one of the kinds accepted.
    #[error("not an accepted file: send a JPEG, PNG or WebP photo, or a PDF document")]
    Unknown,
    /// The bytes start like `kind` but do not read as one.
    #[error("the {kind} file could not be read: {reason}")]
    Unreadable {
        /// What it looked like.
        kind: &'static str,
        /// What failed.
        reason: String,
    },
    /// An encrypted PDF.
    #[error("encrypted PDFs are not accepted: send it without a password")]
    Encrypted,
}

impl MediaError {
    /// Whether the file is a document that reads as a PDF by its first bytes but could not
    /// be parsed or cleaned: no working copy can be made, but the original may be kept sealed
    /// (shown to analysts as "could not be cleaned"). Every other refusal refuses the file.
    pub fn keep_original_only(&self) -> bool {
        matches!(self, MediaError::Unreadable { kind: "PDF", .. })
    }
}

/// What a file is, from its first bytes (magic numbers); names and declared types are never
/// consulted.
pub fn sniff(bytes: &[u8]) -> Result<FileKind, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(FileKind::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(FileKind::Png);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(FileKind::Webp);
    }
    if bytes.starts_with(b"%PDF-") {
        return Ok(FileKind::Pdf);
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        if [
            b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif",
        ]
        .iter()
        .any(|b| brand == *b)
        {
            return Err(MediaError::Heic);
        }
    }
    Err(MediaError::Unknown)
}

/// The working copy of a file: its kind, its bytes with metadata removed, and what was removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingCopy {
    /// What it is.
    pub kind: FileKind,
    /// The cleaned bytes.
    pub bytes: Vec<u8>,
    /// What was removed, e.g. `APP1 EXIF`, `PNG tEXt`, `PDF Info dictionary`; each once.
    pub removed: Vec<String>,
}

/// Read the kind of `bytes` and make its working copy (see the crate's documentation).
pub fn working_copy(bytes: &[u8]) -> Result<WorkingCopy, MediaError> {
    let kind = sniff(bytes)?;
    let mut removed = Vec::new();
    let out = match kind {
        FileKind::Jpeg => jpeg(bytes, &mut removed)?,
        FileKind::Png => png(bytes, &mut removed)?,
        FileKind::Webp => webp(bytes, &mut removed)?,
        // lopdf is a large parser of hostile input: a panic in it must refuse the file, not
        // take the request (or a test) down.
        FileKind::Pdf => std::panic::catch_unwind(|| {
            let mut r = Vec::new();
            pdf(bytes, &mut r).map(|b| (b, r))
        })
        .map_err(|_| unreadable("PDF", "the document is malformed"))?
        .map(|(b, r)| {
            removed = r;
            b
        })?,
    };
    let mut seen = std::collections::HashSet::new();
    removed.retain(|r| seen.insert(r.clone()));
    Ok(WorkingCopy {
        kind,
        bytes: out,
        removed,
    })
}

fn unreadable(kind: &'static str, reason: impl ToString) -> MediaError {
    MediaError::Unreadable {
        kind,
        reason: reason.to_string(),
    }
}

/// What an APPn or COM segment held, from its marker and first bytes.
fn describe_jpeg_segment(marker: u8, contents: &[u8]) -> String {
    let what = if marker == markers::COM {
        return "JPEG comment".into();
    } else if contents.starts_with(b"Exif\0") {
        "EXIF"
    } else if contents.starts_with(b"http://ns.adobe.com/xap/1.0/")
        || contents.starts_with(b"http://ns.adobe.com/xmp/extension/")
    {
        "XMP"
    } else if contents.starts_with(b"Photoshop 3.0") {
        "IPTC/Photoshop"
    } else if contents.starts_with(b"ICC_PROFILE") {
        "ICC profile"
    } else if contents.starts_with(b"MPF") {
        "MPF images"
    } else if contents.starts_with(b"JFIF") || contents.starts_with(b"JFXX") {
        "JFIF"
    } else {
        "application data"
    };
    format!("APP{} {what}", marker - markers::APP0)
}

/// Whether a marker is followed by a length (all but TEM, RSTn, SOI and EOI).
fn has_length(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF | 0xDA..=0xDF | 0xE0..=0xFE)
}

fn is_app(marker: u8) -> bool {
    (markers::APP0..=markers::APP15).contains(&marker)
}

/// Whether an APPn/COM segment is dropped: all are, but the Adobe colour-transform marker.
fn drop_segment(marker: u8, contents: &[u8]) -> bool {
    (is_app(marker) && !(marker == markers::APP14 && contents.starts_with(b"Adobe")))
        || marker == markers::COM
}

fn jpeg(bytes: &[u8], removed: &mut Vec<String>) -> Result<Vec<u8>, MediaError> {
    let mut img =
        Jpeg::from_bytes(Bytes::copy_from_slice(bytes)).map_err(|e| unreadable("JPEG", e))?;
    img.segments_mut().retain(|s| {
        let gone = drop_segment(s.marker(), s.contents());
        if gone {
            removed.push(describe_jpeg_segment(s.marker(), s.contents()));
        }
        !gone
    });
    // The segments up to and including the first scan's header, then the rest of the file
    // (img-parts keeps everything after the first SOS as that scan's data).
    let head_len: usize = 2 + img.segments().iter().map(|s| s.len()).sum::<usize>();
    let has_scan = img.segments().iter().any(|s| s.has_entropy());
    let encoded = img.encoder().bytes();
    if !has_scan {
        return Err(unreadable("JPEG", "no image data"));
    }
    let (head, tail) = encoded.split_at(head_len.min(encoded.len()));
    let mut out = head.to_vec();
    scans(tail, &mut out, removed);
    Ok(out)
}

/// Copy scan data and the segments between scans, dropping APPn and comment segments and
/// everything after the end-of-image marker. Truncated input is copied as far as it goes.
fn scans(tail: &[u8], out: &mut Vec<u8>, removed: &mut Vec<String>) {
    let mut i = 0;
    let mut from = 0;
    while i + 1 < tail.len() {
        if tail[i] != 0xFF {
            i += 1;
            continue;
        }
        let m = tail[i + 1];
        // Stuffed bytes, restart markers and fill bytes belong to the scan data.
        if m == 0x00 || (0xD0..=0xD7).contains(&m) || m == 0xFF {
            i += 1;
            continue;
        }
        out.extend_from_slice(&tail[from..i]);
        if m == markers::EOI {
            out.extend_from_slice(&[0xFF, markers::EOI]);
            if i + 2 < tail.len() {
                removed.push("data after the end of the image".into());
            }
            return;
        }
        if !has_length(m) {
            out.extend_from_slice(&tail[i..i + 2]);
            i += 2;
            from = i;
            continue;
        }
        let Some(len) = tail
            .get(i + 2..i + 4)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        else {
            from = i;
            break;
        };
        let end = (i + 2 + len).min(tail.len());
        let contents = tail.get(i + 4..end).unwrap_or(&[]);
        if drop_segment(m, contents) {
            removed.push(describe_jpeg_segment(m, contents));
        } else {
            out.extend_from_slice(&tail[i..end]);
        }
        i = end;
        from = end;
    }
    out.extend_from_slice(&tail[from.min(tail.len())..]);
}

/// PNG chunks that draw the image; every other chunk is dropped.
const PNG_KEEP: [&[u8; 4]; 14] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD",
    b"pHYs", b"acTL", b"fcTL", b"fdAT",
];

fn png(bytes: &[u8], removed: &mut Vec<String>) -> Result<Vec<u8>, MediaError> {
    let mut img =
        Png::from_bytes(Bytes::copy_from_slice(bytes)).map_err(|e| unreadable("PNG", e))?;
    if img.chunk_by_type(*b"IHDR").is_none() || img.chunk_by_type(*b"IDAT").is_none() {
        return Err(unreadable("PNG", "no image data"));
    }
    img.chunks_mut().retain(|c| {
        let keep = PNG_KEEP.iter().any(|k| **k == c.kind());
        if !keep {
            removed.push(format!("PNG {}", String::from_utf8_lossy(&c.kind())));
        }
        keep
    });
    Ok(img.encoder().bytes().to_vec())
}

/// WebP chunks that draw the image; every other chunk is dropped.
const WEBP_KEEP: [&[u8; 4]; 6] = [b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"];
/// The `VP8X` flags of an ICC profile, EXIF and XMP.
const VP8X_METADATA_FLAGS: u8 = 0x20 | 0x08 | 0x04;

fn webp(bytes: &[u8], removed: &mut Vec<String>) -> Result<Vec<u8>, MediaError> {
    let mut img =
        WebP::from_bytes(Bytes::copy_from_slice(bytes)).map_err(|e| unreadable("WebP", e))?;
    if !img
        .chunks()
        .iter()
        .any(|c| matches!(&c.id(), b"VP8 " | b"VP8L" | b"ANMF"))
    {
        return Err(unreadable("WebP", "no image data"));
    }
    img.chunks_mut().retain(|c| {
        let keep = WEBP_KEEP.iter().any(|k| **k == c.id());
        if !keep {
            removed.push(format!(
                "WebP {}",
                String::from_utf8_lossy(&c.id()).trim_end()
            ));
        }
        keep
    });
    for c in img.chunks_mut() {
        clear_vp8x_flags(c);
    }
    Ok(img.encoder().bytes().to_vec())
}

fn clear_vp8x_flags(c: &mut RiffChunk) {
    if &c.id() != b"VP8X" {
        return;
    }
    if let RiffContent::Data(data) = c.content_mut() {
        if let Some(first) = data.first() {
            let mut v = data.to_vec();
            v[0] = first & !VP8X_METADATA_FLAGS;
            *data = Bytes::from(v);
        }
    }
}

/// Keys removed from every PDF dictionary, direct or not, with what they held.
const PDF_DROP: [(&[u8], &str); 12] = [
    (b"Metadata", "PDF XMP metadata"),
    (b"PieceInfo", "PDF application data"),
    (b"Thumb", "PDF page thumbnail"),
    (b"LastModified", "PDF modification date"),
    (b"OpenAction", "PDF open action"),
    (b"AA", "PDF automatic actions"),
    (b"JS", "PDF JavaScript"),
    (b"JavaScript", "PDF JavaScript"),
    (b"EmbeddedFiles", "PDF embedded files"),
    (b"EF", "PDF embedded files"),
    (b"AF", "PDF associated files"),
    (b"XFA", "PDF XFA form"),
];

/// Actions that run code, open or send files, or play embedded media; links (`URI`, `GoTo`)
/// are the document's content and stay.
const PDF_ACTIONS: [&[u8]; 9] = [
    b"JavaScript",
    b"Launch",
    b"ImportData",
    b"SubmitForm",
    b"GoToE",
    b"GoToR",
    b"RichMediaExecute",
    b"Rendition",
    b"Movie",
];

/// Annotations that carry files or media; they are dropped from the pages.
const PDF_ANNOTATIONS: [&[u8]; 5] = [
    b"FileAttachment",
    b"RichMedia",
    b"Movie",
    b"Sound",
    b"Screen",
];

/// How deep objects may nest before a PDF is refused (hostile files nest without end).
const PDF_MAX_DEPTH: usize = 64;

fn pdf_name<'a>(d: &'a lopdf::Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    d.get(key).and_then(lopdf::Object::as_name).ok()
}

/// What a dictionary is if it is dropped with whatever refers to it: an action running code
/// or opening files, or an annotation carrying a file or media.
fn pdf_dropped(d: &lopdf::Dictionary) -> Option<&'static str> {
    if d.has(b"JS") || pdf_name(d, b"S").is_some_and(|s| PDF_ACTIONS.contains(&s)) {
        return Some("PDF action running code or opening files");
    }
    if pdf_name(d, b"Subtype").is_some_and(|s| PDF_ANNOTATIONS.contains(&s)) {
        return Some("PDF file attachment or media annotation");
    }
    None
}

/// The ids of the objects dropped with whatever refers to them ([`pdf_dropped`]).
fn pdf_dropped_ids(
    doc: &lopdf::Document,
) -> std::collections::HashMap<lopdf::ObjectId, &'static str> {
    doc.objects
        .iter()
        .filter_map(|(id, o)| {
            let d = match o {
                lopdf::Object::Dictionary(d) => d,
                lopdf::Object::Stream(s) => &s.dict,
                _ => return None,
            };
            pdf_dropped(d).map(|w| (*id, w))
        })
        .collect()
}

/// Whether an object (a reference to one of `dropped`, or a direct dictionary) is dropped.
fn pdf_drops(
    o: &lopdf::Object,
    dropped: &std::collections::HashMap<lopdf::ObjectId, &'static str>,
) -> Option<&'static str> {
    match o {
        lopdf::Object::Reference(id) => dropped.get(id).copied(),
        lopdf::Object::Dictionary(d) => pdf_dropped(d),
        _ => None,
    }
}

/// Clean one object in place: drop the [`PDF_DROP`] keys, the actions and annotations
/// [`pdf_dropped`] names wherever they are referred to (`/A`, `/Next`, `/Annots`, ...), the
/// author and dates of comments, and the metadata of JPEG images.
fn pdf_clean(
    o: &mut lopdf::Object,
    dropped: &std::collections::HashMap<lopdf::ObjectId, &'static str>,
    removed: &mut Vec<String>,
    depth: usize,
) -> Result<(), MediaError> {
    use lopdf::Object;
    if depth > PDF_MAX_DEPTH {
        return Err(unreadable("PDF", "objects nest too deeply"));
    }
    let dict = match o {
        Object::Array(items) => {
            items.retain(|i| match pdf_drops(i, dropped) {
                Some(what) => {
                    removed.push(what.into());
                    false
                }
                None => true,
            });
            for i in items {
                pdf_clean(i, dropped, removed, depth + 1)?;
            }
            return Ok(());
        }
        Object::Stream(s) => {
            pdf_image(s, removed)?;
            &mut s.dict
        }
        Object::Dictionary(d) => d,
        _ => return Ok(()),
    };
    for (key, what) in PDF_DROP {
        if dict.remove(key).is_some() {
            removed.push(what.into());
        }
    }
    // The author, subject and dates of comments (not of form fields, whose `/T` is a name).
    if dict.has(b"Rect") && pdf_name(dict, b"Subtype").is_some_and(|s| s != b"Widget") {
        for key in [&b"T"[..], b"M", b"CreationDate"] {
            if dict.remove(key).is_some() {
                removed.push("PDF comment author and dates".into());
            }
        }
    }
    let gone: Vec<Vec<u8>> = dict
        .iter()
        .filter_map(|(k, v)| pdf_drops(v, dropped).map(|w| (k.clone(), w)))
        .map(|(k, w)| {
            removed.push(w.into());
            k
        })
        .collect();
    for k in gone {
        dict.remove(&k);
    }
    for (_, v) in dict.iter_mut() {
        pdf_clean(v, dropped, removed, depth + 1)?;
    }
    Ok(())
}

/// Clean a JPEG image stream (`/DCTDecode`) as a JPEG file is cleaned. An image whose JPEG
/// bytes sit under another filter cannot be cleaned without decoding it: the PDF is refused.
fn pdf_image(s: &mut lopdf::Stream, removed: &mut Vec<String>) -> Result<(), MediaError> {
    let Ok(filters) = s.filters() else {
        return Ok(());
    };
    if !filters.iter().any(|f| *f == b"DCTDecode") {
        return Ok(());
    }
    if filters.len() != 1 {
        return Err(unreadable(
            "PDF",
            "a JPEG image is wrapped in another filter",
        ));
    }
    let mut lost = Vec::new();
    let clean = jpeg(&s.content, &mut lost)?;
    removed.extend(lost.into_iter().map(|l| format!("PDF image {l}")));
    s.set_content(clean);
    Ok(())
}

fn pdf(bytes: &[u8], removed: &mut Vec<String>) -> Result<Vec<u8>, MediaError> {
    let mut doc = lopdf::Document::load_mem(bytes).map_err(|e| unreadable("PDF", e))?;
    if doc.is_encrypted() || doc.trailer.has(b"Encrypt") {
        return Err(MediaError::Encrypted);
    }
    if doc.trailer.remove(b"Info").is_some() {
        removed.push("PDF Info dictionary".into());
    }
    if doc.trailer.remove(b"ID").is_some() {
        removed.push("PDF document ID".into());
    }
    let dropped = pdf_dropped_ids(&doc);
    let mut trailer = lopdf::Object::Dictionary(std::mem::take(&mut doc.trailer));
    pdf_clean(&mut trailer, &dropped, removed, 0)?;
    if let lopdf::Object::Dictionary(t) = trailer {
        doc.trailer = t;
    }
    for obj in doc.objects.values_mut() {
        pdf_clean(obj, &dropped, removed, 0)?;
    }
    doc.prune_objects();
    // Whatever still refers to a dropped object (a name tree, an odd key) loses it too.
    for id in dropped.keys() {
        doc.objects.remove(id);
    }
    let mut out = Vec::with_capacity(bytes.len());
    doc.save_to(&mut out).map_err(|e| unreadable("PDF", e))?;
    Ok(out)
}
