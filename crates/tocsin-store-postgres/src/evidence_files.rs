//! Evidence files on PostgreSQL: blobs content-addressed by SHA-256 and role
//! (`evidence_blobs`, `bytea`), file records with the domain's JSON in `body`
//! (`evidence_files`); custody logs read from the audit chain.

use sqlx::postgres::PgConnection;
use tocsin_domain::{AuditEntry, EvidenceFile};
use tocsin_store::evidence_files::EVIDENCE_RECORD;
use tocsin_store::{BlobRole, EvidenceStep, Result, StoreError};
use uuid::Uuid;

use crate::db_err;
use crate::rows::{audit_from_row, AUDIT_COLS};

fn body(f: &EvidenceFile) -> Result<String> {
    serde_json::to_string(f).map_err(|e| StoreError::Backend(e.to_string()))
}

fn from_body(s: &str) -> Result<EvidenceFile> {
    serde_json::from_str(s)
        .map_err(|e| StoreError::Backend(format!("corrupt evidence file body: {e}")))
}

/// Apply one evidence step inside the op's transaction.
pub(crate) async fn apply(conn: &mut PgConnection, step: &EvidenceStep) -> Result<()> {
    match step {
        EvidenceStep::PutBlob(b) => {
            sqlx::query(
                "INSERT INTO evidence_blobs (sha256, role, size, bytes) VALUES ($1,$2,$3,$4) \
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
            let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM reports WHERE id = $1")
                .bind(f.report_id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "INSERT INTO evidence_files (id, report_id, sha256, working_sha256, created_at, body) \
                 VALUES ($1,$2,$3,$4,$5,$6::jsonb)",
            )
            .bind(f.id)
            .bind(f.report_id)
            .bind(&f.sha256)
            .bind(&f.working_sha256)
            .bind(f.created_at)
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
impl tocsin_store::EvidenceFiles for crate::PostgresStore {
    async fn get_evidence_file(&self, id: Uuid) -> Result<EvidenceFile> {
        let b: String = sqlx::query_scalar("SELECT body::text FROM evidence_files WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        from_body(&b)
    }

    async fn evidence_files_of(&self, report_id: Uuid) -> Result<Vec<EvidenceFile>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT body::text FROM evidence_files WHERE report_id = $1 ORDER BY created_at, id",
        )
        .bind(report_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(|b| from_body(b)).collect()
    }

    async fn get_blob(&self, sha256: &str, role: BlobRole) -> Result<Vec<u8>> {
        sqlx::query_scalar("SELECT bytes FROM evidence_blobs WHERE sha256 = $1 AND role = $2")
            .bind(sha256)
            .bind(role.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn blob_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM evidence_blobs")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(n as u64)
    }

    async fn custody_log(&self, file_id: Uuid) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLS} FROM audit_log WHERE record_type = $1 AND record_id = $2 \
             ORDER BY seq"
        ))
        .bind(EVIDENCE_RECORD)
        .bind(file_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(audit_from_row).collect()
    }
}
