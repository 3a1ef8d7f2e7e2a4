//! Evidence files on every backend: blobs content-addressed and stored once, file records read
//! back as written, one file per original and report, custody entries chained after the op's
//! own entry in the same write (and nothing at all when a guard trips), and evidence that the
//! database refuses to change or delete.

use tocsin_domain::evidence_file::sha256_hex;
use tocsin_domain::{time, Actor, AuditEvent, Channel, EvidenceFile, FileKind, NewReport, Tlp};
use tocsin_store::evidence_files::EVIDENCE_RECORD;
use tocsin_store::{Blob, BlobRole, EvidenceStep, Op, Step, Store, StoreError, StoreExt};
use tocsin_store_tests::{story, Db, Raw};
use uuid::Uuid;

story!(
    files_are_stored_once_with_their_custody,
    evidence_is_immutable
);

fn system() -> Actor {
    Actor::system("evidence-test")
}

async fn report(s: &dyn Store) -> Uuid {
    let r = NewReport {
        id: tocsin_domain::random_id(),
        channel: Channel::Api,
        provider_key: None,
        source_id: None,
        text: "photo of the burnt market".into(),
        tlp: Tlp::AmberStrict,
        latitude: None,
        longitude: None,
        country: None,
        occurred_at: None,
        received_at: time::now(),
        meta: Default::default(),
    };
    s.create_report(&system(), r).await.unwrap().id
}

fn file(report_id: Uuid, original: &[u8], working: &[u8]) -> EvidenceFile {
    EvidenceFile {
        id: tocsin_domain::random_id(),
        report_id,
        kind: FileKind::Jpeg,
        sha256: sha256_hex(original),
        size: original.len() as u64,
        working_sha256: sha256_hex(working),
        working_size: working.len() as u64,
        removed: vec!["APP1 EXIF".into()],
        created_at: time::now(),
        not_cleaned: None,
    }
}

/// The steps storing `f` (sealed bytes stand in as given) and its custody entry.
fn steps(f: &EvidenceFile, sealed: &[u8], working: &[u8]) -> Vec<Step> {
    vec![
        Step::Evidence(EvidenceStep::PutBlob(Box::new(Blob {
            sha256: f.sha256.clone(),
            role: BlobRole::Original,
            bytes: sealed.to_vec(),
        }))),
        Step::Evidence(EvidenceStep::PutBlob(Box::new(Blob {
            sha256: f.working_sha256.clone(),
            role: BlobRole::Working,
            bytes: working.to_vec(),
        }))),
        Step::Evidence(EvidenceStep::Create(Box::new(f.clone()))),
        Step::Evidence(EvidenceStep::Custody(Box::new(
            AuditEvent::new(
                &system(),
                "evidence.upload",
                EVIDENCE_RECORD,
                Some(f.id.to_string()),
            )
            .with_detail(serde_json::json!({"sha256": f.sha256})),
        ))),
    ]
}

fn op(report_id: Uuid, steps: Vec<Step>) -> Op {
    Op::All {
        steps,
        audit: Box::new(AuditEvent::new(
            &system(),
            "evidence.attach",
            "report",
            Some(report_id.to_string()),
        )),
    }
}

async fn audit_count(s: &dyn Store) -> usize {
    s.audit_entries(0, 10_000).await.unwrap().len()
}

async fn files_are_stored_once_with_their_custody(s: &dyn Store, _db: &Db) {
    let r1 = report(s).await;
    let r2 = report(s).await;
    let (orig, sealed, work) = (
        b"original photo".to_vec(),
        b"sealed bytes".to_vec(),
        b"clean".to_vec(),
    );
    let f1 = file(r1, &orig, &work);
    let before = audit_count(s).await;
    s.write(&system(), op(r1, steps(&f1, &sealed, &work)))
        .await
        .unwrap();
    // The op's entry, then the file's custody entry, in one write.
    let entries = s.audit_entries(0, 10_000).await.unwrap();
    assert_eq!(entries.len(), before + 2);
    assert_eq!(entries[before].action, "evidence.attach");
    assert_eq!(entries[before + 1].action, "evidence.upload");
    assert_eq!(entries[before + 1].record_id, Some(f1.id.to_string()));
    assert!(s.verify_audit().await.unwrap().is_ok());

    assert_eq!(s.get_evidence_file(f1.id).await.unwrap(), f1);
    assert_eq!(s.evidence_files_of(r1).await.unwrap(), vec![f1.clone()]);
    assert_eq!(
        s.get_blob(&f1.sha256, BlobRole::Original).await.unwrap(),
        sealed
    );
    assert_eq!(
        s.get_blob(&f1.working_sha256, BlobRole::Working)
            .await
            .unwrap(),
        work
    );
    assert!(matches!(
        s.get_blob(&f1.sha256, BlobRole::Working).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.blob_count().await.unwrap(), 2);

    // The same original on another report: a new record, the bytes stored once.
    let f2 = file(r2, &orig, &work);
    s.write(&system(), op(r2, steps(&f2, b"sealed again", &work)))
        .await
        .unwrap();
    assert_eq!(s.blob_count().await.unwrap(), 2);
    // The first sealed copy is kept: content-addressed, stored once.
    assert_eq!(
        s.get_blob(&f1.sha256, BlobRole::Original).await.unwrap(),
        sealed
    );

    // The same original twice on one report: the guard trips and nothing is written, not
    // even the custody entry.
    let before = audit_count(s).await;
    let again = file(r1, &orig, &work);
    let e = s
        .write(&system(), op(r1, steps(&again, &sealed, &work)))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    assert_eq!(audit_count(s).await, before);
    assert!(matches!(
        s.get_evidence_file(again.id).await,
        Err(StoreError::NotFound)
    ));

    // A file of a report that does not exist is not found, and nothing lands.
    let orphan = file(Uuid::new_v4(), b"other", b"other clean");
    let e = s
        .write(
            &system(),
            op(orphan.report_id, steps(&orphan, b"x", b"other clean")),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
    assert_eq!(s.blob_count().await.unwrap(), 2);
    assert_eq!(audit_count(s).await, before);

    // The custody log: the entries about the file, oldest first.
    s.audit(
        AuditEvent::new(
            &system(),
            "evidence.original.release",
            EVIDENCE_RECORD,
            Some(f1.id.to_string()),
        )
        .with_detail(serde_json::json!({"reason": "court"})),
    )
    .await
    .unwrap();
    let log = s.custody_log(f1.id).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["evidence.upload", "evidence.original.release"]);
    assert!(log[0].seq < log[1].seq);
    assert_eq!(s.custody_log(f2.id).await.unwrap().len(), 1);
}

async fn evidence_is_immutable(s: &dyn Store, db: &Db) {
    let r = report(s).await;
    let f = file(r, b"o", b"w");
    s.write(&system(), op(r, steps(&f, b"sealed", b"w")))
        .await
        .unwrap();
    let mut raw = db.raw().await;
    for sql in [
        "UPDATE evidence_blobs SET bytes = bytes".to_string(),
        "DELETE FROM evidence_blobs".to_string(),
        format!(
            "UPDATE evidence_files SET sha256 = 'forged' WHERE id = '{}'",
            f.id
        ),
        "DELETE FROM evidence_files".to_string(),
    ] {
        let e = raw.exec(&sql).await.unwrap_err();
        assert!(e.contains("evidence is"), "{sql}: {e}");
    }
    if let Raw::Postgres(_) = raw {
        assert!(raw.exec("TRUNCATE evidence_blobs").await.is_err());
        assert!(raw.exec("TRUNCATE evidence_files").await.is_err());
    }
    assert_eq!(s.get_evidence_file(f.id).await.unwrap(), f);
}
