//! Working copies lose what could locate the warner or identify their camera, and still show
//! the same picture; files are known by their bytes; no input panics the stripper.

use std::io::Cursor;
use tocsin_domain::FileKind;
use tocsin_media::sample::{self, SERIAL, XMP_MARK};
use tocsin_media::{sniff, working_copy, MediaError};

/// A real 16×16 baseline JPEG (a gradient), made by an encoder.
fn plain_jpeg() -> Vec<u8> {
    let mut pixels = Vec::new();
    for y in 0..16u8 {
        for x in 0..16u8 {
            pixels.extend_from_slice(&[x * 16, y * 16, 128]);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(&pixels, 16, 16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn decode(bytes: &[u8]) -> Vec<u8> {
    let mut d = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    d.decode().expect("decodes as a JPEG")
}

#[test]
fn a_phone_photo_loses_gps_serial_xmp_comment_and_trailer_but_not_its_pixels() {
    let plain = plain_jpeg();
    let photo = sample::with_phone_metadata(&plain);
    // The sample really carries what a phone writes: EXIF with GPS and the serial.
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(&photo))
        .expect("the sample has EXIF");
    assert!(exif
        .get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY)
        .is_some());
    let serial = exif
        .get_field(exif::Tag::BodySerialNumber, exif::In::PRIMARY)
        .expect("a serial");
    assert!(serial.display_value().to_string().contains(SERIAL));

    let w = working_copy(&photo).unwrap();
    assert_eq!(w.kind, FileKind::Jpeg);
    // No EXIF left to read, and no trace of it in the bytes.
    assert!(exif::Reader::new()
        .read_from_container(&mut Cursor::new(&w.bytes))
        .is_err());
    for needle in [
        SERIAL.as_bytes(),
        b"Exif\0\0",
        b"MM\x00\x2a",
        XMP_MARK.as_bytes(),
        b"TocsinPhone",
        b"TRAILER",
    ] {
        assert!(
            !contains(&w.bytes, needle),
            "{:?} left in the working copy",
            String::from_utf8_lossy(needle)
        );
    }
    // The same picture, pixel for pixel (no re-encoding).
    assert_eq!(decode(&w.bytes), decode(&plain));
    assert!(
        w.removed.iter().any(|r| r == "APP1 EXIF"),
        "{:?}",
        w.removed
    );
    assert!(w.removed.iter().any(|r| r == "APP1 XMP"), "{:?}", w.removed);
    assert!(
        w.removed.iter().any(|r| r == "JPEG comment"),
        "{:?}",
        w.removed
    );
    assert!(
        w.removed.iter().any(|r| r.contains("after the end")),
        "{:?}",
        w.removed
    );
    // Cleaning a clean copy changes nothing.
    assert_eq!(working_copy(&w.bytes).unwrap().bytes, w.bytes);
}

#[test]
fn segments_between_progressive_scans_are_dropped_too() {
    let plain = plain_jpeg();
    // Put an APP1 EXIF segment just before the end-of-image marker, after the scan.
    let eoi = plain.len() - 2;
    let mut contents = b"Exif\0\0".to_vec();
    contents.extend(sample::exif_block());
    let mut seg = vec![0xFF, 0xE1];
    seg.extend_from_slice(&((contents.len() + 2) as u16).to_be_bytes());
    seg.extend(contents);
    let mut late = plain[..eoi].to_vec();
    late.extend(seg);
    late.extend_from_slice(&plain[eoi..]);
    let w = working_copy(&late).unwrap();
    assert!(!contains(&w.bytes, SERIAL.as_bytes()));
    assert_eq!(w.bytes, working_copy(&plain).unwrap().bytes);
    assert_eq!(decode(&w.bytes), decode(&plain));
}

fn plain_png() -> Vec<u8> {
    sample::plain_png()
}

#[test]
fn png_text_xmp_and_exif_chunks_are_dropped() {
    let plain = plain_png();
    let png = sample::png_with_metadata(&plain);
    assert!(contains(&png, SERIAL.as_bytes()));
    let w = working_copy(&png).unwrap();
    assert_eq!(w.kind, FileKind::Png);
    assert!(!contains(&w.bytes, SERIAL.as_bytes()));
    assert!(!contains(&w.bytes, XMP_MARK.as_bytes()));
    assert!(!contains(&w.bytes, b"eXIf"));
    assert_eq!(w.bytes, plain);
    for c in ["PNG tEXt", "PNG iTXt", "PNG eXIf"] {
        assert!(w.removed.iter().any(|r| r == c), "{:?}", w.removed);
    }
}

#[test]
fn pdf_info_xmp_and_id_are_removed_and_it_still_reads() {
    let pdf = sample::pdf_with_metadata();
    assert!(contains(&pdf, SERIAL.as_bytes()));
    let w = working_copy(&pdf).unwrap();
    assert_eq!(w.kind, FileKind::Pdf);
    assert!(!contains(&w.bytes, SERIAL.as_bytes()));
    assert!(!contains(&w.bytes, XMP_MARK.as_bytes()));
    assert!(!contains(&w.bytes, b"TocsinPhone"));
    let doc = lopdf::Document::load_mem(&w.bytes).expect("still a PDF");
    assert_eq!(doc.get_pages().len(), 1);
    for c in ["PDF Info dictionary", "PDF XMP metadata", "PDF document ID"] {
        assert!(w.removed.iter().any(|r| r == c), "{:?}", w.removed);
    }
}

#[test]
fn pdf_loses_embedded_files_scripts_xmp_author_and_image_exif_but_keeps_its_text() {
    let photo = sample::with_phone_metadata(&plain_jpeg());
    let pdf = sample::pdf_with_everything(&photo);
    let original = lopdf::Document::load_mem(&pdf).expect("the sample is a PDF");
    assert!(original
        .extract_text(&[1])
        .unwrap()
        .contains(sample::PDF_TEXT));
    for mark in [
        SERIAL.as_bytes(),
        XMP_MARK.as_bytes(),
        sample::EMBEDDED_MARK.as_bytes(),
        sample::SCRIPT_MARK.as_bytes(),
        b"Exif\0",
    ] {
        assert!(contains(&pdf, mark));
    }
    let w = working_copy(&pdf).unwrap();
    assert_eq!(w.kind, FileKind::Pdf);
    for mark in [
        SERIAL.as_bytes(),
        XMP_MARK.as_bytes(),
        b"GPSLongitude",
        sample::EMBEDDED_MARK.as_bytes(),
        b"contacts.txt",
        sample::SCRIPT_MARK.as_bytes(),
        b"JavaScript",
        b"FileAttachment",
        b"Exif\0",
        b"TocsinPhone",
    ] {
        assert!(
            !contains(&w.bytes, mark),
            "{} survived",
            String::from_utf8_lossy(mark)
        );
    }
    let doc = lopdf::Document::load_mem(&w.bytes).expect("still a PDF");
    assert_eq!(doc.get_pages().len(), 1);
    assert!(doc.extract_text(&[1]).unwrap().contains(sample::PDF_TEXT));
    // The photo on the page is still there and still decodes to the same pixels.
    let image = doc
        .objects
        .values()
        .find_map(|o| o.as_stream().ok().filter(|s| s.dict.has(b"Width")))
        .expect("the image is kept");
    assert_eq!(decode(&image.content), decode(&photo));
    for c in [
        "PDF Info dictionary",
        "PDF XMP metadata",
        "PDF embedded files",
        "PDF JavaScript",
        "PDF open action",
        "PDF automatic actions",
        "PDF file attachment or media annotation",
        "PDF comment author and dates",
        "PDF image APP1 EXIF",
        "PDF image APP1 XMP",
    ] {
        assert!(w.removed.iter().any(|r| r == c), "{c}: {:?}", w.removed);
    }
    // Cleaning the working copy again finds nothing left to remove.
    let again = working_copy(&w.bytes).unwrap();
    assert!(again.removed.is_empty(), "{:?}", again.removed);
}

#[test]
fn a_pdf_that_does_not_parse_is_not_cleaned_and_says_so() {
    for bad in [
        b"%PDF-1.7\n1 0 obj << /Type /Catalog".to_vec(),
        b"%PDF-1.4\ngarbage only".to_vec(),
        {
            let mut nested = b"%PDF-1.4\n1 0 obj\n".to_vec();
            nested.extend(std::iter::repeat_n(b'[', 5000));
            nested
        },
    ] {
        let e = working_copy(&bad).unwrap_err();
        assert!(e.keep_original_only(), "{e:?}");
    }
    assert!(!MediaError::Encrypted.keep_original_only());
    assert!(!working_copy(b"\xFF\xD8\xFF\xE0garbage")
        .unwrap_err()
        .keep_original_only());
}

#[test]
fn kinds_come_from_the_bytes() {
    assert_eq!(sniff(&plain_jpeg()).unwrap(), FileKind::Jpeg);
    assert_eq!(sniff(&plain_png()).unwrap(), FileKind::Png);
    assert_eq!(sniff(&sample::pdf_with_metadata()).unwrap(), FileKind::Pdf);
    assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap(), FileKind::Webp);
    assert_eq!(sniff(b""), Err(MediaError::Empty));
    assert_eq!(sniff(b"GIF89a......"), Err(MediaError::Unknown));
    assert_eq!(sniff(b"<svg onload=alert(1)>"), Err(MediaError::Unknown));
    assert_eq!(
        sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"),
        Err(MediaError::Heic)
    );
    assert!(MediaError::Heic.to_string().contains("JPEG"));
    // A JPEG header on garbage is refused as unreadable, not passed through.
    assert!(matches!(
        working_copy(b"\xFF\xD8\xFF\xE0garbage"),
        Err(MediaError::Unreadable { .. })
    ));
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn arbitrary_bytes_never_panic_the_stripper() {
    let seeds = [
        sample::with_phone_metadata(&plain_jpeg()),
        sample::png_with_metadata(&plain_png()),
        sample::pdf_with_metadata(),
        b"RIFF\x20\0\0\0WEBPVP8X\x0a\0\0\0\x2c\0\0\0\0\0\0\0\0\0EXIF\x04\0\0\0abcd".to_vec(),
    ];
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut outcomes = [0usize; 2];
    for round in 0..4_000 {
        let mut b = seeds[round % seeds.len()].clone();
        match rng.next() % 4 {
            // Flip bytes.
            0 => {
                for _ in 0..1 + rng.next() % 8 {
                    let i = (rng.next() as usize) % b.len();
                    b[i] = rng.next() as u8;
                }
            }
            // Truncate.
            1 => b.truncate((rng.next() as usize) % b.len()),
            // Keep the magic, then noise.
            2 => {
                let keep = 2 + (rng.next() as usize) % 16;
                b.truncate(keep.min(b.len()));
                for _ in 0..(rng.next() % 300) {
                    b.push(rng.next() as u8);
                }
            }
            // Lengths set to extremes.
            _ => {
                let i = (rng.next() as usize) % b.len().saturating_sub(1).max(1);
                if i + 1 < b.len() {
                    b[i] = 0xFF;
                    b[i + 1] = 0xFF;
                }
            }
        }
        outcomes[usize::from(working_copy(&b).is_ok())] += 1;
    }
    // Both outcomes happen: the mutations reach past the magic numbers.
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}
