//! Signed Tocsin-to-Tocsin bundles: what one organisation's Tocsin sends a partner's, by file
//! (air-gapped) or over the network.
//!
//! **Layout.** One line of JSON, the header ([`BundleHeader`]), then a newline, then the
//! payload: a STIX 2.1 bundle ([`crate::stix`]) exactly as it was signed, to the end of the
//! file. So `head -n 1 FILE` shows who made it and for whom, and `tail -n +2 FILE` is a plain
//! STIX bundle anyone can read, grep or validate.
//!
//! **What is signed.** The Ed25519 signature covers a canonical text ([`signed_text`]): the
//! format and version, then each header field on its own line in a fixed order (origin name,
//! installation id, origin key, partner name, partner key, creation time, the payload's
//! SHA-256 and its length). The payload's exact bytes are bound through their SHA-256, so one
//! changed byte anywhere (header or payload) fails verification. Names carry no control
//! characters, so the text reads back one way only.
//!
//! **Checks on reading** ([`open_bundle`]), before anything is stored: the header parses and
//! names this format and version; the bundle was made for this installation (its partner key
//! is ours); it was signed by the key we hold for the partner named; the payload has the
//! length and SHA-256 the header says; the signature verifies.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use tocsin_domain::share::origin_name;
use tocsin_domain::{PublicKey, SigningKey, SyncCursor};
use uuid::Uuid;

/// The `format` of a bundle's header.
pub const BUNDLE_FORMAT: &str = "tocsin-bundle";

/// The version of the layout and of what is signed.
pub const BUNDLE_VERSION: u32 = 1;

/// The longest header line read.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Who makes a bundle and for whom (what the header says besides its digest and signature).
#[derive(Debug, Clone)]
pub struct BundleMeta {
    /// This organisation's name.
    pub origin: String,
    /// This installation's id.
    pub origin_instance: Uuid,
    /// The partner's name here.
    pub partner: String,
    /// The partner's public key (so it can tell the bundle was made for it).
    pub partner_key: PublicKey,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Where it sits in a transfer in pages (none: the whole state, as a file is).
    pub page: Option<BundlePage>,
}

/// Where a bundle sits in a transfer in pages: the cursor it starts after (as asked), the one
/// its last record gives, and whether more pages follow. Signed with the rest of the header,
/// so a receiver can trust where to resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundlePage {
    /// The cursor it starts after (none: the first page).
    pub after: Option<SyncCursor>,
    /// The cursor after its last record (none: it carries no record after `after`).
    pub next: Option<SyncCursor>,
    /// Whether more pages follow.
    pub more: bool,
}

/// The first line of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleHeader {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// Always [`BUNDLE_VERSION`].
    pub version: u32,
    /// The organisation that made it.
    pub origin: String,
    /// Its installation's id.
    pub origin_instance: Uuid,
    /// The public key it was signed with (base64).
    pub origin_key: String,
    /// The partner it was made for, as the origin names it.
    pub partner: String,
    /// That partner's public key (base64).
    pub partner_key: String,
    /// When it was made (RFC 3339, UTC, milliseconds).
    pub created_at: String,
    /// SHA-256 of the payload (hex).
    pub payload_sha256: String,
    /// The payload's length in bytes.
    pub payload_bytes: u64,
    /// Its place in a transfer in pages, if it is one page of one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<BundlePage>,
    /// The Ed25519 signature of [`signed_text`] (hex, 64 bytes).
    pub signature: String,
}

/// Why a bundle was refused whole (nothing is stored).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BundleError {
    /// Not a Tocsin bundle, or one this version cannot read.
    #[error("not a Tocsin bundle: {0}")]
    Malformed(String),
    /// Made for another organisation.
    #[error(
        "this bundle was made for {0:?}, whose key is not this installation's: it is not for us"
    )]
    NotForUs(String),
    /// Signed with another key than the partner's.
    #[error(
        "this bundle was signed by {origin:?} with a key that is not the one held for {partner:?}: \
         it is not from that partner"
    )]
    WrongSigner {
        /// Who the header says made it.
        origin: String,
        /// The partner it was read as coming from.
        partner: String,
    },
    /// The payload is not what was signed.
    #[error("the bundle was changed after it was signed: its payload does not match its digest")]
    Tampered,
    /// The signature does not verify.
    #[error("the bundle's signature does not verify: it was changed or forged")]
    BadSignature,
}

/// The canonical text a bundle's signature covers (see the module's documentation).
pub fn signed_text(h: &BundleHeader) -> String {
    let cursor = |c: &Option<SyncCursor>| c.map_or_else(|| "-".to_string(), |c| c.to_string());
    let page = h.page.as_ref().map_or_else(String::new, |p| {
        format!(
            "page_after {}\npage_next {}\npage_more {}\n",
            cursor(&p.after),
            cursor(&p.next),
            p.more
        )
    });
    let head = format!(
        "{BUNDLE_FORMAT} {}\norigin {}\norigin_instance {}\norigin_key {}\npartner {}\n\
         partner_key {}\ncreated_at {}\npayload_sha256 {}\npayload_bytes {}\n",
        h.version,
        h.origin,
        h.origin_instance,
        h.origin_key,
        h.partner,
        h.partner_key,
        h.created_at,
        h.payload_sha256,
        h.payload_bytes
    );
    head + &page
}

/// Write a bundle of `payload` (a STIX bundle) for `meta`, signed with `key`, to `w`; answers
/// its header.
pub fn write_bundle<W: Write>(
    mut w: W,
    meta: &BundleMeta,
    payload: &[u8],
    key: &SigningKey,
) -> std::io::Result<BundleHeader> {
    let mut h = BundleHeader {
        format: BUNDLE_FORMAT.into(),
        version: BUNDLE_VERSION,
        origin: meta.origin.clone(),
        origin_instance: meta.origin_instance,
        origin_key: key.public_key().to_string(),
        partner: meta.partner.clone(),
        partner_key: meta.partner_key.to_string(),
        created_at: meta.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        payload_sha256: hex::encode(Sha256::digest(payload)),
        payload_bytes: payload.len() as u64,
        page: meta.page.clone(),
        signature: String::new(),
    };
    h.signature = hex::encode(key.sign(signed_text(&h).as_bytes()));
    serde_json::to_writer(&mut w, &h).map_err(std::io::Error::other)?;
    w.write_all(b"\n")?;
    w.write_all(payload)?;
    w.flush()?;
    Ok(h)
}

/// Read the header of `bytes` without checking anything but its shape.
pub fn read_header(bytes: &[u8]) -> Result<(BundleHeader, &[u8]), BundleError> {
    let end = bytes
        .iter()
        .take(MAX_HEADER_BYTES + 1)
        .position(|b| *b == b'\n')
        .ok_or_else(|| {
            BundleError::Malformed(format!(
                "no header line (a line of JSON of at most {MAX_HEADER_BYTES} bytes)"
            ))
        })?;
    let h: BundleHeader = serde_json::from_slice(&bytes[..end])
        .map_err(|e| BundleError::Malformed(format!("its header: {e}")))?;
    if h.format != BUNDLE_FORMAT || h.version != BUNDLE_VERSION {
        return Err(BundleError::Malformed(format!(
            "format {:?} version {}, expected {BUNDLE_FORMAT:?} version {BUNDLE_VERSION}",
            h.format, h.version
        )));
    }
    for (field, v) in [("origin", &h.origin), ("partner", &h.partner)] {
        if origin_name(v).ok().as_deref() != Some(v.as_str()) {
            return Err(BundleError::Malformed(format!(
                "its {field} is not a name: {v:?}"
            )));
        }
    }
    if DateTime::parse_from_rfc3339(&h.created_at).is_err() {
        return Err(BundleError::Malformed(
            "its created_at is not an RFC 3339 time".into(),
        ));
    }
    Ok((h, &bytes[end + 1..]))
}

/// Check `bytes` as a bundle made for `me` by the partner `partner` whose key is `signer`:
/// answers its header and its payload, or why it is refused (nothing of it may be stored).
pub fn open_bundle<'a>(
    bytes: &'a [u8],
    partner: &str,
    signer: &PublicKey,
    me: &PublicKey,
) -> Result<(BundleHeader, &'a [u8]), BundleError> {
    let (h, payload) = read_header(bytes)?;
    if h.partner_key != me.to_string() {
        return Err(BundleError::NotForUs(h.partner.clone()));
    }
    if h.origin_key != signer.to_string() {
        return Err(BundleError::WrongSigner {
            origin: h.origin.clone(),
            partner: partner.to_string(),
        });
    }
    let signature = hex::decode(&h.signature).map_err(|_| BundleError::BadSignature)?;
    if !signer.verify(signed_text(&h).as_bytes(), &signature) {
        return Err(BundleError::BadSignature);
    }
    if payload.len() as u64 != h.payload_bytes
        || hex::encode(Sha256::digest(payload)) != h.payload_sha256
    {
        return Err(BundleError::Tampered);
    }
    Ok((h, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made() -> (Vec<u8>, SigningKey, SigningKey) {
        let a = SigningKey::generate();
        let b = SigningKey::generate();
        let meta = BundleMeta {
            origin: "Early Warning NGO".into(),
            origin_instance: Uuid::new_v4(),
            partner: "UN office".into(),
            partner_key: b.public_key(),
            created_at: Utc::now(),
            page: None,
        };
        let mut out = Vec::new();
        write_bundle(&mut out, &meta, br#"{"type":"bundle","objects":[]}"#, &a).unwrap();
        (out, a, b)
    }

    #[test]
    fn a_bundle_opens_for_its_partner_only() {
        let (bytes, a, b) = made();
        let (h, payload) = open_bundle(&bytes, "NGO", &a.public_key(), &b.public_key()).unwrap();
        assert_eq!(payload, br#"{"type":"bundle","objects":[]}"#);
        assert_eq!(h.partner, "UN office");
        // Not for a third installation; not from another signer.
        let c = SigningKey::generate();
        assert!(matches!(
            open_bundle(&bytes, "NGO", &a.public_key(), &c.public_key()),
            Err(BundleError::NotForUs(_))
        ));
        assert!(matches!(
            open_bundle(&bytes, "NGO", &c.public_key(), &b.public_key()),
            Err(BundleError::WrongSigner { .. })
        ));
    }

    #[test]
    fn one_changed_byte_is_refused() {
        let (bytes, a, b) = made();
        for i in 0..bytes.len() {
            let mut t = bytes.clone();
            t[i] ^= 0x01;
            assert!(
                open_bundle(&t, "NGO", &a.public_key(), &b.public_key()).is_err(),
                "byte {i} changed and still accepted"
            );
        }
        assert!(matches!(
            open_bundle(b"{}", "NGO", &a.public_key(), &b.public_key()),
            Err(BundleError::Malformed(_))
        ));
    }

    #[test]
    fn a_page_says_where_it_sits_and_that_is_signed() {
        let (a, b) = (SigningKey::generate(), SigningKey::generate());
        let t = Utc::now();
        let page = BundlePage {
            after: Some(SyncCursor::after(t, Uuid::from_u128(1))),
            next: Some(SyncCursor::after(t, Uuid::from_u128(9))),
            more: true,
        };
        let meta = BundleMeta {
            origin: "NGO".into(),
            origin_instance: Uuid::new_v4(),
            partner: "UN".into(),
            partner_key: b.public_key(),
            created_at: t,
            page: Some(page.clone()),
        };
        let mut out = Vec::new();
        write_bundle(&mut out, &meta, b"{}", &a).unwrap();
        let (h, _) = open_bundle(&out, "NGO", &a.public_key(), &b.public_key()).unwrap();
        assert_eq!(h.page, Some(page));
        // Saying there is no more (to cut a transfer short) breaks the signature.
        let text = String::from_utf8(out.clone()).unwrap();
        let forged = text.replacen("\"more\":true", "\"more\":false", 1);
        assert_ne!(forged, text);
        assert_eq!(
            open_bundle(forged.as_bytes(), "NGO", &a.public_key(), &b.public_key()),
            Err(BundleError::BadSignature)
        );
    }
}
