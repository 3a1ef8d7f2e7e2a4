//! Evidence files: photos and documents attached to reports (issue 16).
//!
//! A file is stored twice, each copy content-addressed by its SHA-256: the **original**, exactly
//! as received, sealed at rest with the evidence key ([`evidence_key`]) bound to its own SHA-256
//! ([`original_context`]), released only to a permission and with every release in the audit
//! chain; and the **working copy** analysts see, with location and device metadata removed. A
//! file has no label of its own: it carries its report's. Its id is random (UUIDv4) and the
//! name the client gave it is never kept (a phone's `IMG_20261205_143012.jpg` tells when the
//! warner took the photo).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{ContactKey, DomainError};

/// What a file is, as read from its bytes (never from its name or declared type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// A JPEG photo.
    Jpeg,
    /// A PNG image.
    Png,
    /// A WebP image.
    Webp,
    /// A PDF document.
    Pdf,
}

impl FileKind {
    /// Every kind accepted.
    pub const ALL: [FileKind; 4] = [FileKind::Jpeg, FileKind::Png, FileKind::Webp, FileKind::Pdf];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Jpeg => "jpeg",
            FileKind::Png => "png",
            FileKind::Webp => "webp",
            FileKind::Pdf => "pdf",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Result<FileKind, DomainError> {
        FileKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DomainError::invalid("kind", "expected jpeg, png, webp or pdf"))
    }

    /// The media type it is served with.
    pub fn media_type(self) -> &'static str {
        match self {
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Webp => "image/webp",
            FileKind::Pdf => "application/pdf",
        }
    }

    /// The file name extension used when it is downloaded.
    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Jpeg => "jpg",
            FileKind::Png => "png",
            FileKind::Webp => "webp",
            FileKind::Pdf => "pdf",
        }
    }

    /// A photo or image (shown inline), rather than a document (always downloaded).
    pub fn is_image(self) -> bool {
        !matches!(self, FileKind::Pdf)
    }
}

/// An evidence file as stored: which report, what it is, and the two copies by SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EvidenceFile {
    /// Random id (UUIDv4).
    pub id: Uuid,
    /// The report it is attached to (its label is the report's).
    pub report_id: Uuid,
    /// What it is, read from its bytes.
    pub kind: FileKind,
    /// SHA-256 (hex) of the original as received.
    pub sha256: String,
    /// Size of the original in bytes.
    pub size: u64,
    /// SHA-256 (hex) of the working copy; empty when there is none ([`Self::not_cleaned`]).
    pub working_sha256: String,
    /// Size of the working copy in bytes.
    pub working_size: u64,
    /// What was removed to make the working copy (e.g. `APP1 EXIF`, `PDF Info dictionary`).
    pub removed: Vec<String>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// Why no working copy could be made (a document that does not parse): only the sealed
    /// original is kept, and analysts are shown "could not be cleaned".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_cleaned: Option<String>,
}

impl EvidenceFile {
    /// Whether it has a working copy (else only its sealed original is kept).
    pub fn cleaned(&self) -> bool {
        self.not_cleaned.is_none()
    }

    /// The name a download gets: made of the id and kind, never the name the client sent.
    pub fn download_name(&self, original: bool) -> String {
        let which = if original { "original" } else { "working" };
        format!("evidence-{}-{which}.{}", self.id, self.kind.extension())
    }
}

/// SHA-256 of `bytes`, as 64 lower-case hex characters.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The key that seals originals: derived from the contact key (so it is kept, backed up and
/// rotated like it), but never equal to it.
pub fn evidence_key(contact_key: &ContactKey) -> ContactKey {
    contact_key.derive("tocsin-evidence-original-v1")
}

/// The associated data an original is sealed with: its own SHA-256, so a sealed blob moved
/// under another hash does not open.
pub fn original_context(sha256: &str) -> Vec<u8> {
    format!("evidence-original:{sha256}").into_bytes()
}

/// The longest reason accepted for releasing an original.
pub const MAX_REASON_CHARS: usize = 1_000;

/// A reason for releasing an original, trimmed: required, at most [`MAX_REASON_CHARS`].
pub fn parse_release_reason(s: &str) -> Result<String, DomainError> {
    let r = s.trim();
    if r.is_empty() {
        return Err(DomainError::invalid(
            "reason",
            "say why the original is needed (it is recorded in the custody log)",
        ));
    }
    if r.chars().count() > MAX_REASON_CHARS {
        return Err(DomainError::invalid(
            "reason",
            format!("at most {MAX_REASON_CHARS} characters"),
        ));
    }
    Ok(r.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_names_say_nothing_of_the_client() {
        for k in FileKind::ALL {
            assert_eq!(FileKind::parse(k.as_str()).unwrap(), k);
        }
        let f = EvidenceFile {
            id: Uuid::nil(),
            report_id: Uuid::nil(),
            kind: FileKind::Jpeg,
            sha256: sha256_hex(b"x"),
            size: 1,
            working_sha256: sha256_hex(b"x"),
            working_size: 1,
            removed: vec![],
            created_at: crate::time::now(),
            not_cleaned: None,
        };
        assert_eq!(
            f.download_name(true),
            "evidence-00000000-0000-0000-0000-000000000000-original.jpg"
        );
    }

    #[test]
    fn the_evidence_key_differs_from_the_contact_key_and_is_stable() {
        let k = ContactKey::generate();
        let e = evidence_key(&k);
        assert_ne!(e.to_hex(), k.to_hex());
        assert_eq!(evidence_key(&k).to_hex(), e.to_hex());
        let s = e.seal_bound(b"photo", &original_context("aa"));
        assert_eq!(e.open_bound(&s, &original_context("aa")).unwrap(), b"photo");
        assert!(e.open_bound(&s, &original_context("bb")).is_err());
        assert!(k.open_bound(&s, &original_context("aa")).is_err());
    }

    #[test]
    fn a_reason_is_required() {
        assert!(parse_release_reason("  ").is_err());
        assert_eq!(parse_release_reason(" court ").unwrap(), "court");
        assert!(parse_release_reason(&"x".repeat(1001)).is_err());
    }
}
