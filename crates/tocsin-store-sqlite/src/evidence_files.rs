//! Evidence files on SQLite: blobs content-addressed by SHA-256 and role (`evidence_blobs`),
//! file records with the domain's JSON in `body` (`evidence_files`); custody logs read from the
//! audit chain.

use sqlx::sqlite::SqliteConnection;
use sqlx::Row;
use tocsin_domain::time::format as ts;
use tocsin_domain::{AuditEntry, EvidenceFile};
use tocsin_store::evidence_files::EVIDENCE_RECORD;
use tocsin_store::{BlobRole, EvidenceStep, Result, StoreError};
use uuid::Uuid;

use crate::db_err;
use crate::rows::{parse_ts, parse_uuid};

fn body(f: &EvidenceFile) -> Result<String> {
    serde_json::to_string(f).map_err(|e| StoreError::Backend(e.to_string()))
}

fn from_body(s: &str) -> Result<EvidenceFile> {
    serde_json::from_str(s)
        .map_err(|e| StoreError::Backend(format!("corrupt evidence file body: {e}")))
}

/// Apply one evidence step inside the op's savepoint.
pub(crate) async fn apply(conn: &mut SqliteConnection, step: &EvidenceStep) -> Result<()> {
    match step {
        EvidenceStep::PutBlob(b) => {
            sqlx::query(
                "INSERT INTO evidence_blobs (sha256, role, size, bytes) VALUES (?,?,?,?) \
                 ON CONFLICT (sha256, role) DO NOTHING",
            )
            .bind(&b.sha256)
            .bind(b.role.as_str())
            .bind(b.bytes.len() as i64)
            .bind(&b.bytes)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        EvidenceStep::Create(f) => {
            let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM reports WHERE id = ?")
                .bind(f.report_id.to_string())
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "INSERT INTO evidence_files (id, report_id, sha256, working_sha256, created_at, body) \
                 VALUES (?,?,?,?,?,?)",
            )
            .bind(f.id.to_string())
            .bind(f.report_id.to_string())
            .bind(&f.sha256)
            .bind(&f.working_sha256)
            .bind(ts(&f.created_at))
            .bind(body(f)?)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        EvidenceStep::Custody(_) => Ok(()),
    }
}

#[async_trait::async_trait]
impl tocsin_store::EvidenceFiles for crate::SqliteStore {
    async fn get_evidence_file(&self, id: Uuid) -> Result<EvidenceFile> {
        let b: String = sqlx::query_scalar("SELECT body FROM evidence_files WHERE id = ?")
            .bind(id.to_string())
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        from_body(&b)
    }

    async fn evidence_files_of(&self, report_id: Uuid) -> Result<Vec<EvidenceFile>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT body FROM evidence_files WHERE report_id = ? ORDER BY created_at, id",
        )
        .bind(report_id.to_string())
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(|b| from_body(b)).collect()
    }

    async fn get_blob(&self, sha256: &str, role: BlobRole) -> Result<Vec<u8>> {
        sqlx::query_scalar("SELECT bytes FROM evidence_blobs WHERE sha256 = ? AND role = ?")
            .bind(sha256)
            .bind(role.as_str())
            .fetch_one(&self.read)
            .await
            .map_err(db_err)
    }

    async fn blob_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM evidence_blobs")
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        Ok(n as u64)
    }

    async fn custody_log(&self, file_id: Uuid) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor_id, actor_name, action, record_type, record_id, detail, \
             prev_hash, hash FROM audit_log WHERE record_type = ? AND record_id = ? ORDER BY seq",
        )
        .bind(EVIDENCE_RECORD)
        .bind(file_id.to_string())
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    seq: r.get(0),
                    at: parse_ts(r.get(1))?,
                    actor_id: r
                        .get::<Option<String>, _>(2)
                        .map(|s| parse_uuid(&s))
                        .transpose()?,
                    actor_name: r.get(3),
                    action: r.get(4),
                    record_type: r.get(5),
                    record_id: r.get(6),
                    detail: r.get(7),
                    prev_hash: r.get(8),
                    hash: r.get(9),
                })
            })
            .collect()
    }
}
