//! Evidence files (issue 16): photos and documents attached to reports, each kept twice and
//! content-addressed by SHA-256 ([`tocsin_store::EvidenceFiles`]): the original, sealed with the
//! evidence key bound to its hash and released only to users granted
//! [`Permission::EvidenceOriginal`], with a reason, each release a custody entry in the audit
//! chain (`evidence.original.release`); and the working copy analysts see, with location and
//! device metadata removed by [`tocsin_media`]. A file has its report's label: above the
//! reader's clearance it does not exist. Upload is a custody entry too (`evidence.upload`,
//! naming both hashes and what the working copy lost); reads of working copies of restricted
//! files are audited as `record.read`; a file's custody log is every audit entry about it.

use serde::{Deserialize, Serialize};
use tocsin_domain::evidence_file::{
    evidence_key, original_context, parse_release_reason, sha256_hex,
};
use tocsin_domain::{
    Actor, AuditEntry, AuditEvent, ContactKey, EvidenceFile, FileKind, Permission, SealedContact,
    Tlp, User,
};
use tocsin_store::evidence_files::EVIDENCE_RECORD;
use tocsin_store::{Blob, BlobRole, EvidenceStep, Op, Step};
use uuid::Uuid;

use crate::{reads, require, visible, Acting, App, AppError, Result};

/// How much may be attached (`[evidence]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvidenceLimits {
    /// The largest file accepted, in bytes.
    pub max_file_bytes: usize,
    /// The most bytes of originals one report may carry, all its files together.
    pub max_report_bytes: usize,
    /// The most files one report may carry.
    pub max_files: usize,
}

/// 10 MiB a file, 40 MiB and 10 files a report.
pub const DEFAULT_LIMITS: EvidenceLimits = EvidenceLimits {
    max_file_bytes: 10 * 1024 * 1024,
    max_report_bytes: 40 * 1024 * 1024,
    max_files: 10,
};

impl Default for EvidenceLimits {
    fn default() -> Self {
        DEFAULT_LIMITS
    }
}

/// A size for people: `10 MiB`, `512 KiB`, `300 bytes`.
pub fn human_size(n: usize) -> String {
    if n >= 1024 * 1024 && n.is_multiple_of(1024 * 1024) {
        format!("{} MiB", n / (1024 * 1024))
    } else if n >= 1024 * 1024 {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    } else if n >= 1024 {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// Why an upload is too large: the limit it broke (`max_file_bytes`, `max_report_bytes`,
/// `max_files`) and a sentence naming it. Front ends answer 413.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge {
    /// The configuration key of the limit.
    pub limit: &'static str,
    /// What to tell the sender.
    pub message: String,
}

impl EvidenceLimits {
    /// These limits, if each is at least 1 and a file fits in a report.
    pub fn validated(self) -> std::result::Result<EvidenceLimits, String> {
        if self.max_file_bytes == 0 || self.max_report_bytes == 0 || self.max_files == 0 {
            return Err("[evidence] limits must be at least 1".into());
        }
        if self.max_file_bytes > self.max_report_bytes {
            return Err("[evidence] max_file_bytes must not exceed max_report_bytes".into());
        }
        Ok(self)
    }

    /// Check uploads about to be added to a report that already holds `held` files of
    /// `held_bytes` bytes in all; `n` is 1-based in messages.
    pub fn check(
        &self,
        sizes: &[usize],
        held: usize,
        held_bytes: usize,
    ) -> std::result::Result<(), TooLarge> {
        for (n, s) in sizes.iter().enumerate() {
            if *s > self.max_file_bytes {
                return Err(TooLarge {
                    limit: "max_file_bytes",
                    message: format!(
                        "file {} is larger than the limit of {} a file (max_file_bytes)",
                        n + 1,
                        human_size(self.max_file_bytes)
                    ),
                });
            }
        }
        if held + sizes.len() > self.max_files {
            return Err(TooLarge {
                limit: "max_files",
                message: format!(
                    "a report carries at most {} files (max_files)",
                    self.max_files
                ),
            });
        }
        if held_bytes + sizes.iter().sum::<usize>() > self.max_report_bytes {
            return Err(TooLarge {
                limit: "max_report_bytes",
                message: format!(
                    "a report's files may total at most {} (max_report_bytes)",
                    human_size(self.max_report_bytes)
                ),
            });
        }
        Ok(())
    }
}

/// Files ready to store with a report: their records and the steps that store them (blobs,
/// records and one custody entry each).
#[derive(Debug, Clone, Default)]
pub struct PreparedFiles {
    /// Every file of the upload, in order (a repeat of one already held is that one).
    pub files: Vec<EvidenceFile>,
    /// The writes, to be put in the same [`Op::All`] as the report when it is new.
    pub steps: Vec<Step>,
}

/// Read each upload's kind from its bytes, make its working copy and seal its original (bound
/// to its SHA-256), for report `report_id`, which already holds `held`. A file whose original
/// the report already holds (or that repeats in the upload) is not stored again. The names
/// clients gave the files are never seen here. Refusals name the field `file` and the file's
/// position; sizes are checked by [`EvidenceLimits::check`] first.
pub fn prepare_files(
    contact_key: &ContactKey,
    actor: &Actor,
    report_id: Uuid,
    uploads: &[Vec<u8>],
    held: &[EvidenceFile],
) -> Result<PreparedFiles> {
    let key = evidence_key(contact_key);
    let mut out = PreparedFiles::default();
    let now = tocsin_domain::time::now();
    for (n, bytes) in uploads.iter().enumerate() {
        let sha256 = sha256_hex(bytes);
        if let Some(f) = held
            .iter()
            .chain(out.files.iter())
            .find(|f| f.sha256 == sha256)
        {
            out.files.push(f.clone());
            continue;
        }
        // A document that cannot be cleaned gets no working copy: its original is kept sealed
        // and analysts see "could not be cleaned" (never the bytes as received).
        let (w, not_cleaned) = match tocsin_media::working_copy(bytes) {
            Ok(w) => (Some(w), None),
            Err(e) if e.keep_original_only() => (None, Some(e.to_string())),
            Err(e) => return Err(AppError::invalid("file", format!("file {}: {e}", n + 1))),
        };
        let file = EvidenceFile {
            id: tocsin_domain::random_id(),
            report_id,
            kind: w.as_ref().map_or(FileKind::Pdf, |w| w.kind),
            sha256: sha256.clone(),
            size: bytes.len() as u64,
            working_sha256: w
                .as_ref()
                .map_or_else(String::new, |w| sha256_hex(&w.bytes)),
            working_size: w.as_ref().map_or(0, |w| w.bytes.len() as u64),
            removed: w.as_ref().map(|w| w.removed.clone()).unwrap_or_default(),
            created_at: now,
            not_cleaned,
        };
        let sealed = key.seal_bound(bytes, &original_context(&sha256));
        out.steps
            .push(Step::Evidence(EvidenceStep::PutBlob(Box::new(Blob {
                sha256: sha256.clone(),
                role: BlobRole::Original,
                bytes: sealed.0,
            }))));
        if let Some(w) = w {
            out.steps
                .push(Step::Evidence(EvidenceStep::PutBlob(Box::new(Blob {
                    sha256: file.working_sha256.clone(),
                    role: BlobRole::Working,
                    bytes: w.bytes,
                }))));
        }
        out.steps
            .push(Step::Evidence(EvidenceStep::Create(Box::new(file.clone()))));
        let custody = AuditEvent::new(
            actor,
            "evidence.upload",
            EVIDENCE_RECORD,
            Some(file.id.to_string()),
        )
        .with_detail(serde_json::json!({
            "report_id": report_id.to_string(),
            "kind": file.kind.as_str(),
            "sha256": file.sha256,
            "size": file.size,
            "working_sha256": file.working_sha256,
            "working_size": file.working_size,
            "removed": file.removed,
            "not_cleaned": file.not_cleaned,
        }));
        out.steps
            .push(Step::Evidence(EvidenceStep::Custody(Box::new(custody))));
        out.files.push(file);
    }
    Ok(out)
}

/// An original released: the file, its bytes, and the reason recorded.
#[derive(Debug, Clone)]
pub struct Released {
    /// The file.
    pub file: EvidenceFile,
    /// The original, byte for byte as received.
    pub bytes: Vec<u8>,
}

impl App<'_> {
    fn sealing_key(&self) -> Result<&ContactKey> {
        self.contact_key
            .ok_or_else(|| AppError::Internal("no contact key is loaded to seal evidence".into()))
    }

    /// The report a file hangs on, if `by` may see it (else not found, as if absent; the
    /// operator sees every report); the file's label is the report's.
    async fn report_tlp(&self, by: Acting<'_>, report_id: Uuid) -> Result<Tlp> {
        let r = self.store.get_report(report_id).await?;
        if let Acting::User(u) = by {
            visible(u, r.tlp)?;
        }
        Ok(r.tlp)
    }

    /// Attach uploaded files to a report `u` may see (`ReportCreate`): each stored once by
    /// SHA-256, one custody entry each, all in one write (`evidence.attach` on the report).
    /// Sizes are checked against `limits` with what the report already holds; a file the report
    /// already has is answered as stored, not stored again.
    pub async fn attach_files(
        &self,
        u: &User,
        report_id: Uuid,
        uploads: Vec<Vec<u8>>,
        limits: &EvidenceLimits,
    ) -> Result<Vec<EvidenceFile>> {
        require(u, Permission::ReportCreate)?;
        self.report_tlp(u.into(), report_id).await?;
        if uploads.is_empty() {
            return Err(AppError::invalid("file", "attach at least one file"));
        }
        let held = self.store.evidence_files_of(report_id).await?;
        let held_bytes = held.iter().map(|f| f.size as usize).sum();
        let sizes: Vec<usize> = uploads.iter().map(Vec::len).collect();
        let new_sizes: Vec<usize> = uploads
            .iter()
            .filter(|b| {
                let h = sha256_hex(b);
                !held.iter().any(|f| f.sha256 == h)
            })
            .map(Vec::len)
            .collect();
        limits
            .check(&sizes, 0, 0)
            .and_then(|_| limits.check(&new_sizes, held.len(), held_bytes))
            .map_err(|e| AppError::invalid(e.limit, e.message))?;
        let actor = u.actor();
        let p = prepare_files(self.sealing_key()?, &actor, report_id, &uploads, &held)?;
        if p.steps.is_empty() {
            return Ok(p.files);
        }
        let audit = AuditEvent::new(
            &actor,
            "evidence.attach",
            "report",
            Some(report_id.to_string()),
        )
        .with_detail(serde_json::json!({
            "files": p.files.iter().map(|f| f.id.to_string()).collect::<Vec<_>>(),
        }));
        self.store
            .write(
                &actor,
                Op::All {
                    steps: p.steps,
                    audit: Box::new(audit),
                },
            )
            .await?;
        Ok(p.files)
    }

    /// The files of a report `by` may read (a user reading reports, or the operator).
    pub async fn report_files<'a>(
        &self,
        by: impl Into<Acting<'a>>,
        report_id: Uuid,
    ) -> Result<Vec<EvidenceFile>> {
        let by = by.into();
        by.require(Permission::ReportRead)?;
        self.report_tlp(by, report_id).await?;
        Ok(self.store.evidence_files_of(report_id).await?)
    }

    /// One file `by` may read, with its label (its report's).
    pub async fn evidence_file<'a>(
        &self,
        by: impl Into<Acting<'a>>,
        id: Uuid,
    ) -> Result<(EvidenceFile, Tlp)> {
        let by = by.into();
        by.require(Permission::ReportRead)?;
        let f = self.store.get_evidence_file(id).await?;
        let tlp = self.report_tlp(by, f.report_id).await?;
        Ok((f, tlp))
    }

    /// The working copy of a file `u` may read; the read of a restricted one is audited (and
    /// so in its custody log). A file that could not be cleaned has none: a conflict saying
    /// so (only its sealed original is kept).
    pub async fn working_copy(&self, u: &User, id: Uuid) -> Result<(EvidenceFile, Vec<u8>)> {
        let (f, tlp) = self.evidence_file(u, id).await?;
        if let Some(why) = &f.not_cleaned {
            return Err(AppError::Conflict(format!(
                "this file could not be cleaned ({why}): there is no working copy, only its \
                 sealed original"
            )));
        }
        reads::one(self.store, u, EVIDENCE_RECORD, f.id, tlp).await?;
        let bytes = self
            .store
            .get_blob(&f.working_sha256, BlobRole::Working)
            .await?;
        Ok((f, bytes))
    }

    /// Release the sealed original of a file: only to a user granted `evidence_original`
    /// (else forbidden) who may see it (else not found), or to the operator at the command
    /// line, for a stated reason (else invalid, naming `reason`). The release is recorded in
    /// the custody log (`evidence.original.release`: who, when, which file, its SHA-256, why)
    /// before a byte is returned; the bytes are checked against the SHA-256 they were stored
    /// under.
    pub async fn release_original<'a>(
        &self,
        by: impl Into<Acting<'a>>,
        id: Uuid,
        reason: &str,
    ) -> Result<Released> {
        let by = by.into();
        by.require(Permission::ReportRead)?;
        by.require(Permission::EvidenceOriginal)?;
        let f = self.store.get_evidence_file(id).await?;
        self.report_tlp(by, f.report_id).await?;
        let reason = parse_release_reason(reason)?;
        let key = evidence_key(self.sealing_key()?);
        let sealed = self.store.get_blob(&f.sha256, BlobRole::Original).await?;
        let bytes = key
            .open_bound(&SealedContact(sealed), &original_context(&f.sha256))
            .map_err(|_| AppError::Internal("the sealed original does not open".into()))?;
        if sha256_hex(&bytes) != f.sha256 {
            return Err(AppError::Internal(
                "the original does not match its SHA-256".into(),
            ));
        }
        let e = AuditEvent::new(
            &by.actor(),
            "evidence.original.release",
            EVIDENCE_RECORD,
            Some(f.id.to_string()),
        )
        .with_detail(serde_json::json!({
            "report_id": f.report_id.to_string(),
            "sha256": f.sha256,
            "reason": reason,
        }));
        self.store.write(&by.actor(), Op::Audit(e)).await?;
        Ok(Released { file: f, bytes })
    }

    /// A file's custody log (upload, working-copy derivation, reads and releases), oldest
    /// first, for a reader of the file (or the operator).
    pub async fn custody_log<'a>(
        &self,
        by: impl Into<Acting<'a>>,
        id: Uuid,
    ) -> Result<Vec<AuditEntry>> {
        let (f, _) = self.evidence_file(by, id).await?;
        Ok(self.store.custody_log(f.id).await?)
    }
}

/// Store a report from the public web form with the files sent along (as
/// [`crate::sms::submit_form_report`]): the report, its one-time code, every file (blobs,
/// records, custody entries) and its dangerous-speech flags in one write. The files carry the report's label (TLP:AMBER+STRICT
/// for the form) and their names are never seen here.
pub async fn submit_form_report_with_files<S: tocsin_store::Store + ?Sized>(
    store: &S,
    contact_key: &ContactKey,
    actor: &Actor,
    report: tocsin_domain::NewReport,
    claim: Option<tocsin_domain::FormClaim>,
    uploads: &[Vec<u8>],
    limits: &EvidenceLimits,
) -> Result<()> {
    let sizes: Vec<usize> = uploads.iter().map(Vec::len).collect();
    limits
        .check(&sizes, 0, 0)
        .map_err(|e| AppError::invalid(e.limit, e.message))?;
    let files = prepare_files(contact_key, actor, report.id, uploads, &[])?;
    let flags = crate::flags::scan_steps(store, &report).await?;
    let mut extra = files.steps;
    extra.extend(flags);
    let now = tocsin_domain::time::now();
    let op = crate::sms::form_report_op(actor, report, claim, now, extra);
    store.write(actor, op).await?;
    Ok(())
}

/// Whether an error is a broken size limit ([`EvidenceLimits::check`]): front ends answer 413.
pub fn is_too_large(e: &AppError) -> bool {
    matches!(
        e.field(),
        Some("max_file_bytes" | "max_report_bytes" | "max_files")
    )
}
