//! Evidence files: the read trait and the primitive writes the application layer composes
//! into an [`Op::All`](crate::Op::All).
//!
//! Bytes live in the database (`evidence_blobs`), content-addressed by SHA-256 and stored once:
//! every server of a PostgreSQL deployment sees the same files, and a backup of the database
//! is a backup of the evidence. Originals are stored sealed (the application seals them), so a
//! blob row of an original holds ciphertext under the original's plaintext SHA-256.

use async_trait::async_trait;
use tocsin_domain::{AuditEntry, AuditEvent, EvidenceFile};
use uuid::Uuid;

use crate::Result;

/// Which copy a blob is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobRole {
    /// An original as received, sealed.
    Original,
    /// A working copy, in clear.
    Working,
}

impl BlobRole {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            BlobRole::Original => "original",
            BlobRole::Working => "working",
        }
    }
}

/// Bytes to store under a SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct Blob {
    /// SHA-256 (hex) of the plaintext.
    pub sha256: String,
    /// Which copy.
    pub role: BlobRole,
    /// The bytes as stored (sealed for an original).
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Blob({} {}, {} bytes)",
            self.role.as_str(),
            self.sha256,
            self.bytes.len()
        )
    }
}

/// A primitive write of evidence files inside [`Op::All`](crate::Op::All) (as
/// [`Step::Evidence`](crate::Step::Evidence)).
#[derive(Debug, Clone)]
pub enum EvidenceStep {
    /// Store a blob unless one with its SHA-256 and role is stored already (then nothing
    /// happens: content-addressed, stored once).
    PutBlob(Box<Blob>),
    /// Store a file record. Not found when its report does not exist; conflict when the
    /// report already has a file with the same original.
    Create(Box<EvidenceFile>),
    /// One more entry of the audit chain, appended after the op's own in the same transaction:
    /// a file's custody entry (`evidence.upload` with its working-copy derivation), so that
    /// one write storing a report and several files records each file's custody.
    Custody(Box<AuditEvent>),
}

/// Reads of evidence files.
#[async_trait]
pub trait EvidenceFiles: Send + Sync {
    /// One file.
    async fn get_evidence_file(&self, id: Uuid) -> Result<EvidenceFile>;
    /// The files of a report, oldest first.
    async fn evidence_files_of(&self, report_id: Uuid) -> Result<Vec<EvidenceFile>>;
    /// The bytes stored under `sha256` in `role` (sealed for an original).
    async fn get_blob(&self, sha256: &str, role: BlobRole) -> Result<Vec<u8>>;
    /// How many blobs are stored (every role).
    async fn blob_count(&self) -> Result<u64>;
    /// A file's custody log: the audit entries about it, oldest first.
    async fn custody_log(&self, file_id: Uuid) -> Result<Vec<AuditEntry>>;
}

/// The custody entries carried by an op's steps ([`EvidenceStep::Custody`]), in order: every
/// backend appends them after the op's own entry, in the same transaction.
pub fn custody_events(op: &crate::Op) -> Vec<AuditEvent> {
    match op {
        crate::Op::All { steps, .. } => steps
            .iter()
            .filter_map(|s| match s {
                crate::Step::Evidence(EvidenceStep::Custody(e)) => Some((**e).clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The audit entries a write appends: its own ([`crate::audit_for`]) and then its custody
/// entries ([`custody_events`]).
pub fn audits_for(actor: &tocsin_domain::Actor, op: &crate::Op) -> Vec<AuditEvent> {
    let mut v: Vec<AuditEvent> = crate::audit_for(actor, op).into_iter().collect();
    v.extend(custody_events(op));
    v
}

/// The record type of a file's audit entries.
pub const EVIDENCE_RECORD: &str = "evidence_file";
