//! Sample evidence for tests and demonstrations: metadata a phone writes
//! into a photo, built byte by byte, so that a test can show it is gone from the working copy.

/// The camera serial number [`with_phone_metadata`] writes.
pub const SERIAL: &str = "SN-4242-TOCSIN-CAM";
/// The GPS latitude reference and degrees/minutes/seconds it writes (Bangui).
pub const LATITUDE: (&str, [u32; 3]) = ("N", [4, 21, 36]);
/// The GPS longitude it writes.
pub const LONGITUDE: (&str, [u32; 3]) = ("E", [18, 33, 20]);
/// A string its XMP packet carries.
pub const XMP_MARK: &str = "exif:GPSLatitude";

struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    data: Vec<u8>,
}

fn ascii(tag: u16, s: &str) -> Entry {
    let mut data = s.as_bytes().to_vec();
    data.push(0);
    Entry {
        tag,
        kind: 2,
        count: data.len() as u32,
        data,
    }
}

fn long(tag: u16, v: u32) -> Entry {
    Entry {
        tag,
        kind: 4,
        count: 1,
        data: v.to_be_bytes().to_vec(),
    }
}

fn rationals(tag: u16, v: [u32; 3]) -> Entry {
    let mut data = Vec::new();
    for n in v {
        data.extend_from_slice(&n.to_be_bytes());
        data.extend_from_slice(&1u32.to_be_bytes());
    }
    Entry {
        tag,
        kind: 5,
        count: 3,
        data,
    }
}

fn ifd_size(entries: &[Entry]) -> u32 {
    let data: usize = entries
        .iter()
        .filter(|e| e.data.len() > 4)
        .map(|e| e.data.len() + e.data.len() % 2)
        .sum();
    (2 + 12 * entries.len() + 4 + data) as u32
}

/// Write an IFD at `at` (offset from the TIFF header) into `out`, its long values after it.
fn write_ifd(out: &mut Vec<u8>, at: u32, entries: &[Entry]) {
    let mut data_at = at + 2 + 12 * entries.len() as u32 + 4;
    let mut data = Vec::new();
    out.extend_from_slice(&(entries.len() as u16).to_be_bytes());
    for e in entries {
        out.extend_from_slice(&e.tag.to_be_bytes());
        out.extend_from_slice(&e.kind.to_be_bytes());
        out.extend_from_slice(&e.count.to_be_bytes());
        if e.data.len() <= 4 {
            let mut v = e.data.clone();
            v.resize(4, 0);
            out.extend_from_slice(&v);
        } else {
            out.extend_from_slice(&data_at.to_be_bytes());
            data.extend_from_slice(&e.data);
            if e.data.len() % 2 == 1 {
                data.push(0);
            }
            data_at += (e.data.len() + e.data.len() % 2) as u32;
        }
    }
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&data);
}

/// The EXIF block (TIFF, big-endian) a phone writes: make, model, the camera's serial number
/// (EXIF `BodySerialNumber`) and a GPS position.
pub fn exif_block() -> Vec<u8> {
    let exif = vec![ascii(0xA431, SERIAL)];
    let gps = vec![
        Entry {
            tag: 0x0000,
            kind: 1,
            count: 4,
            data: vec![2, 3, 0, 0],
        },
        ascii(0x0001, LATITUDE.0),
        rationals(0x0002, LATITUDE.1),
        ascii(0x0003, LONGITUDE.0),
        rationals(0x0004, LONGITUDE.1),
    ];
    let mut ifd0 = vec![
        ascii(0x010F, "TocsinPhone"),
        ascii(0x0110, "Model 7"),
        long(0x8769, 0),
        long(0x8825, 0),
    ];
    let ifd0_at = 8;
    let exif_at = ifd0_at + ifd_size(&ifd0);
    let gps_at = exif_at + ifd_size(&exif);
    ifd0[2] = long(0x8769, exif_at);
    ifd0[3] = long(0x8825, gps_at);
    let mut out = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    write_ifd(&mut out, ifd0_at, &ifd0);
    write_ifd(&mut out, exif_at, &exif);
    write_ifd(&mut out, gps_at, &gps);
    out
}

fn segment(marker: u8, contents: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((contents.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(contents);
    s
}

/// `jpeg` with what a phone adds after its start marker: an EXIF segment ([`exif_block`]),
/// an XMP packet with the position, a comment naming the serial; and data after the end of
/// the image (as some phones append).
pub fn with_phone_metadata(jpeg: &[u8]) -> Vec<u8> {
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&exif_block());
    let xmp = format!(
        "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF \
         xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description \
         xmlns:exif='http://ns.adobe.com/exif/1.0/' {XMP_MARK}='4,21.6N' \
         exif:GPSLongitude='18,33.3E'/></rdf:RDF></x:xmpmeta>"
    );
    let mut out = jpeg[..2].to_vec();
    out.extend(segment(0xE1, &app1));
    out.extend(segment(0xE1, xmp.as_bytes()));
    out.extend(segment(0xFE, format!("camera {SERIAL}").as_bytes()));
    out.extend_from_slice(&jpeg[2..]);
    out.extend_from_slice(format!("TRAILER {SERIAL}").as_bytes());
    out
}

/// A PNG carrying text chunks (an author and an XMP packet with a position) and an `eXIf`
/// chunk, made from `png`.
pub fn png_with_metadata(png: &[u8]) -> Vec<u8> {
    let chunk = png_chunk;
    // After the signature (8) and IHDR (4 + 4 + 13 + 4).
    let at = 8 + 25;
    let mut out = png[..at].to_vec();
    out.extend(chunk(b"tEXt", format!("Author\0{SERIAL}").as_bytes()));
    out.extend(chunk(
        b"iTXt",
        format!("XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta {XMP_MARK}='4,21.6N'/>").as_bytes(),
    ));
    out.extend(chunk(b"eXIf", &exif_block()));
    out.extend_from_slice(&png[at..]);
    out
}

/// A PNG chunk: length, type, data, CRC.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let mut crc_in = kind.to_vec();
    crc_in.extend_from_slice(data);
    c.extend_from_slice(&crc32(&crc_in).to_be_bytes());
    c
}

/// A valid 2×2 RGB PNG (red, green, blue, white), its pixels zlib-"stored" (no compression).
pub fn plain_png() -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&2u32.to_be_bytes());
    ihdr.extend_from_slice(&2u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let raw: Vec<u8> = [
        &[0u8, 255, 0, 0, 0, 255, 0][..],
        &[0u8, 0, 0, 255, 255, 255, 255][..],
    ]
    .concat();
    let (mut a, mut b) = (1u32, 0u32);
    for x in &raw {
        a = (a + u32::from(*x)) % 65521;
        b = (b + a) % 65521;
    }
    let mut z = vec![0x78, 0x01, 0x01];
    z.extend_from_slice(&(raw.len() as u16).to_le_bytes());
    z.extend_from_slice(&(!(raw.len() as u16)).to_le_bytes());
    z.extend_from_slice(&raw);
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(png_chunk(b"IHDR", &ihdr));
    out.extend(png_chunk(b"IDAT", &z));
    out.extend(png_chunk(b"IEND", &[]));
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A one-page PDF whose information dictionary names an author and a creator tool, with an
/// XMP metadata stream.
pub fn pdf_with_metadata() -> Vec<u8> {
    let xmp = format!("<x:xmpmeta {XMP_MARK}='4,21.6N'/>");
    pdf_of(
        &[
            b"<< /Type /Catalog /Pages 2 0 R /Metadata 5 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>".to_vec(),
            format!("<< /Author ({SERIAL}) /Creator (TocsinPhone Scanner) /Producer (Tocsin) >>")
                .into_bytes(),
            stream("/Type /Metadata /Subtype /XML", xmp.as_bytes()),
        ],
        "/Info 4 0 R /ID [<01020304> <01020304>]",
    )
}

/// The text [`pdf_with_everything`] shows on its page.
pub const PDF_TEXT: &str = "Militia seen at the market";
/// A string inside the file [`pdf_with_everything`] embeds.
pub const EMBEDDED_MARK: &str = "contacts-of-the-warner";
/// A string inside its JavaScript.
pub const SCRIPT_MARK: &str = "app.launchURL";

/// A one-page PDF carrying everything a working copy must lose, around the text
/// [`PDF_TEXT`]: an information dictionary naming an author ([`SERIAL`]), an XMP stream with
/// a GPS position ([`XMP_MARK`]), an embedded file and a file attachment annotation (both
/// holding [`EMBEDDED_MARK`]), JavaScript run on opening and on showing the page
/// ([`SCRIPT_MARK`]), a commented note signed by its author, and `jpeg` drawn on the page,
/// which should carry a phone's metadata ([`with_phone_metadata`]).
pub fn pdf_with_everything(jpeg: &[u8]) -> Vec<u8> {
    let xmp = format!(
        "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF><rdf:Description {XMP_MARK}='4,21.6N' \
         exif:GPSLongitude='18,33.3E' tiff:Model='Model 7'/></rdf:RDF></x:xmpmeta>"
    );
    let content =
        format!("BT /F1 12 Tf 20 150 Td ({PDF_TEXT}) Tj ET q 40 0 0 40 20 20 cm /Im1 Do Q");
    let js = format!("<< /S /JavaScript /JS ({SCRIPT_MARK}\\('https://example.org/beacon'\\)) >>");
    pdf_of(
        &[
            // 1: catalog
            b"<< /Type /Catalog /Pages 2 0 R /Metadata 5 0 R /OpenAction 9 0 R \
              /Names << /EmbeddedFiles << /Names [(contacts.txt) 7 0 R] >> \
              /JavaScript << /Names [(beacon) 9 0 R] >> >> >>"
                .to_vec(),
            // 2: pages
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            // 3: page
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R \
                 /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> \
                 /XObject << /Im1 10 0 R >> >> \
                 /Annots [8 0 R << /Type /Annot /Subtype /Text /Rect [0 0 10 10] /T ({SERIAL}) \
                 /Contents (note) /M (D:20261206) >>] \
                 /AA << /O << /S /JavaScript /JS ({SCRIPT_MARK}\\(1\\)) >> >> >>"
            )
            .into_bytes(),
            // 4: the page's text
            stream("", content.as_bytes()),
            // 5: XMP
            stream("/Type /Metadata /Subtype /XML", xmp.as_bytes()),
            // 6: info
            format!("<< /Author ({SERIAL}) /Creator (TocsinPhone Scanner) /Producer (Tocsin) >>")
                .into_bytes(),
            // 7: a file specification with its embedded file
            b"<< /Type /Filespec /F (contacts.txt) /EF << /F 11 0 R >> >>".to_vec(),
            // 8: a file attachment annotation
            format!(
                "<< /Type /Annot /Subtype /FileAttachment /Rect [150 150 170 170] \
                 /FS << /Type /Filespec /F (a.txt) /EF << /F 12 0 R >> >> /T ({SERIAL}) >>"
            )
            .into_bytes(),
            // 9: JavaScript run on opening
            js.into_bytes(),
            // 10: the photo
            stream(
                "/Type /XObject /Subtype /Image /Width 16 /Height 16 /ColorSpace /DeviceRGB \
                 /BitsPerComponent 8 /Filter /DCTDecode",
                jpeg,
            ),
            // 11, 12: embedded files
            stream("/Type /EmbeddedFile", format!("{EMBEDDED_MARK} +236 70 000 0000").as_bytes()),
            stream("/Type /EmbeddedFile", format!("attached {EMBEDDED_MARK}").as_bytes()),
        ],
        "/Info 6 0 R /ID [<01020304> <01020304>]",
    )
}

/// A stream object: `dict` (without the length) and its bytes.
fn stream(dict: &str, bytes: &[u8]) -> Vec<u8> {
    let mut s = format!("<< {dict} /Length {} >>\nstream\n", bytes.len()).into_bytes();
    s.extend_from_slice(bytes);
    s.extend_from_slice(b"\nendstream");
    s
}

/// A PDF of these objects (numbered from 1, the first the catalog), its trailer carrying
/// `trailer` too.
fn pdf_of(objects: &[Vec<u8>], trailer: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (n, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", n + 1).as_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R {trailer} >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}
