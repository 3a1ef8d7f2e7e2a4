//! The verification desk on every backend: incidents written whole and guarded by version,
//! the append-only verification and grade histories, checklist ticks once each, report
//! credibility, reports' sources within a label, track records counted only over what a
//! clearance covers and following a refutation; and the old status names migrated.

use sqlx::{Connection, Executor};
use std::path::Path;
use tocsin_domain::{
    time, Actor, AuditEvent, Channel, ContactKey, Incident, IncidentInput, NewReport, NewSource,
    Reliability, ReliabilityEntry, ReportInput, TaskTick, Tlp, TrackRecord, VerificationEntry,
    VerificationStatus,
};
use tocsin_store::{Op, Step, Store, StoreError, StoreExt, VerificationStep};
use tocsin_store_tests::{story, Db};
use uuid::Uuid;

story!(
    verification_desk_is_stored_and_guarded,
    track_records_follow_every_change
);

fn system() -> Actor {
    Actor::system("verification-test")
}

async fn write(store: &dyn Store, steps: Vec<VerificationStep>) -> Result<(), StoreError> {
    store
        .write(
            &system(),
            Op::All {
                steps: steps.into_iter().map(Step::Verification).collect(),
                audit: Box::new(AuditEvent::new(&system(), "test", "incident", None)),
            },
        )
        .await
        .map(|_| ())
}

fn incident(tlp: Tlp, reports: Vec<Uuid>) -> Incident {
    let mut i = Incident::parse(IncidentInput {
        event_date: "2026-01-05".into(),
        event_type: "Violence against civilians".into(),
        sub_event_type: "Attack".into(),
        country: "CAF".into(),
        latitude: 6.1,
        longitude: 20.9,
        fatalities: 2,
        description: "Market attacked".into(),
        tlp,
        ..Default::default()
    })
    .unwrap();
    i.report_ids = reports;
    i
}

async fn source(store: &dyn Store, handle: &str, tlp: Tlp) -> Uuid {
    let key = ContactKey::generate();
    let s = NewSource::new(handle, "monitor", Reliability::F, tlp, None, &key).unwrap();
    store.create_source(&system(), s).await.unwrap().id
}

async fn report(store: &dyn Store, source: Option<Uuid>, tlp: Tlp) -> Uuid {
    let r = NewReport::parse(
        ReportInput {
            text: "armed men at the market".into(),
            tlp: Some(tlp),
            latitude: None,
            longitude: None,
            occurred_at: None,
            country: None,
            source: None,
        },
        Channel::Api,
        source,
    )
    .unwrap();
    store.create_report(&system(), r).await.unwrap().id
}

fn entry(id: Uuid, from: VerificationStatus, to: VerificationStatus) -> VerificationEntry {
    VerificationEntry {
        incident_id: id,
        from,
        to,
        by: "ana".into(),
        reason: format!("{from} to {to}"),
        at: time::now(),
    }
}

async fn verification_desk_is_stored_and_guarded(s: &dyn Store, db: &Db) {
    use VerificationStatus::*;
    let a = source(s, "M-A1", Tlp::Amber).await;
    let b = source(s, "M-B1", Tlp::Amber).await;
    let ra1 = report(s, Some(a), Tlp::Amber).await;
    let ra2 = report(s, Some(a), Tlp::Amber).await;
    let rb = report(s, Some(b), Tlp::Red).await;
    let anon = report(s, None, Tlp::Green).await;

    // Reports' sources, within a label.
    let got = s
        .report_source_ids(&[ra1, rb, anon, Uuid::new_v4()], Tlp::Amber)
        .await
        .unwrap();
    assert_eq!(got.len(), 2, "the RED report and the unknown id are absent");
    assert_eq!((got[&ra1], got[&anon]), (Some(a), None));
    assert_eq!(
        s.report_source_ids(&[rb], Tlp::Red).await.unwrap()[&rb],
        Some(b)
    );

    // An incident written whole, with its first history entry, in one write.
    let mut i = incident(Tlp::Amber, vec![ra1, rb]);
    write(
        s,
        vec![
            VerificationStep::CreateIncident(Box::new(i.clone())),
            VerificationStep::Record(entry(i.id, Unverified, Corroborated)),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        s.get_incident(i.id).await.unwrap().report_ids,
        vec![ra1, rb]
    );

    // Replaced only from the version read.
    let v1 = i.version;
    i.verification_status = Refuted;
    i.version += 1;
    write(
        s,
        vec![
            VerificationStep::ReplaceIncident {
                incident: Box::new(i.clone()),
                expected_version: v1,
            },
            VerificationStep::Record(entry(i.id, Corroborated, Refuted)),
        ],
    )
    .await
    .unwrap();
    let stale = write(
        s,
        vec![
            VerificationStep::Record(entry(i.id, Refuted, Disputed)),
            VerificationStep::ReplaceIncident {
                incident: Box::new(i.clone()),
                expected_version: v1,
            },
        ],
    )
    .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let mut gone = incident(Tlp::Amber, vec![]);
    gone.version = 2;
    assert!(matches!(
        write(
            s,
            vec![VerificationStep::ReplaceIncident {
                incident: Box::new(gone),
                expected_version: 1,
            }]
        )
        .await,
        Err(StoreError::NotFound)
    ));
    let stored = s.get_incident(i.id).await.unwrap();
    assert_eq!((stored.verification_status, stored.version), (Refuted, 2));
    let h = s.verification_history(i.id).await.unwrap();
    assert_eq!(
        h.iter().map(|e| (e.from, e.to)).collect::<Vec<_>>(),
        vec![(Unverified, Corroborated), (Corroborated, Refuted)],
        "the refused write left no entry"
    );
    assert_eq!(
        (h[0].by.as_str(), h[1].reason.as_str()),
        ("ana", "corroborated to refuted")
    );

    // Checklist ticks: once each.
    let tick = |task: &str| TaskTick {
        incident_id: i.id,
        task: task.into(),
        by: "ana".into(),
        note: "called the parish priest".into(),
        at: time::now(),
    };
    write(
        s,
        vec![VerificationStep::Tick(tick("Call a second contact"))],
    )
    .await
    .unwrap();
    assert!(matches!(
        write(
            s,
            vec![VerificationStep::Tick(tick("Call a second contact"))]
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    let ticks = s.verification_ticks(i.id).await.unwrap();
    assert_eq!(ticks.len(), 1);
    assert_eq!(ticks[0].note, "called the parish priest");

    // Grades: guarded by the grade read, history kept.
    let grade = |from, to| ReliabilityEntry {
        source_id: a,
        from,
        to,
        by: "mona".into(),
        reason: "known for years".into(),
        at: time::now(),
    };
    write(
        s,
        vec![VerificationStep::SetReliability(grade(
            Reliability::F,
            Reliability::B,
        ))],
    )
    .await
    .unwrap();
    assert!(matches!(
        write(
            s,
            vec![VerificationStep::SetReliability(grade(
                Reliability::F,
                Reliability::C
            ))]
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.get_source(a).await.unwrap().reliability, Reliability::B);
    let rh = s.reliability_history(a).await.unwrap();
    assert_eq!(
        rh.iter()
            .map(|e| (e.from, e.to, e.by.as_str()))
            .collect::<Vec<_>>(),
        vec![(Reliability::F, Reliability::B, "mona")]
    );

    // Report credibility: set, replaced.
    for c in [3, 2] {
        write(
            s,
            vec![VerificationStep::SetReportCredibility {
                report_id: ra1,
                credibility: c,
                by: "ana".into(),
                at: time::now(),
            }],
        )
        .await
        .unwrap();
    }
    let cred = s.report_credibilities(&[ra1, ra2]).await.unwrap();
    assert_eq!((cred.get(&ra1), cred.get(&ra2)), (Some(&2), None));

    // Track records: the refuted incident counts against both sources, at RED; at AMBER the
    // RED report is not counted at all.
    let t = s.track_records(&[a, b], Tlp::Red).await.unwrap();
    let tr = |confirmed, refuted, total| TrackRecord {
        confirmed,
        refuted,
        total,
    };
    assert_eq!((t[&a], t[&b]), (tr(0, 1, 2), tr(0, 1, 1)));
    let t = s.track_records(&[a, b], Tlp::Amber).await.unwrap();
    assert_eq!((t[&a], t[&b]), (tr(0, 1, 2), tr(0, 0, 0)));
    // A verified incident linking both of a's reports; a RED incident is counted only at RED.
    let mut v = incident(Tlp::Red, vec![ra1, ra2]);
    v.verification_status = Verified;
    write(s, vec![VerificationStep::CreateIncident(Box::new(v))])
        .await
        .unwrap();
    assert_eq!(
        s.track_records(&[a], Tlp::Red).await.unwrap()[&a],
        tr(2, 1, 2)
    );
    assert_eq!(
        s.track_records(&[a], Tlp::Amber).await.unwrap()[&a],
        tr(0, 1, 2)
    );

    // The histories are append-only, whoever has the database.
    let mut raw = db.raw().await;
    for sql in [
        "UPDATE verification_history SET reason = 'nothing happened'",
        "DELETE FROM verification_history",
        "UPDATE reliability_history SET to_grade = 'A'",
        "DELETE FROM reliability_history",
    ] {
        assert!(raw.exec(sql).await.is_err(), "{sql} must be refused");
    }
}

/// Track records are answered from counts the database keeps (no scan of incidents): they
/// follow an incident's creation, import, status, label and links, a report's source being
/// claimed, and two incidents linking one report; always within the reader's clearance.
async fn track_records_follow_every_change(s: &dyn Store, db: &Db) {
    use VerificationStatus::*;
    let tr = |confirmed, refuted, total| TrackRecord {
        confirmed,
        refuted,
        total,
    };
    let a = source(s, "T-A", Tlp::Amber).await;
    let b = source(s, "T-B", Tlp::Amber).await;
    let ra = report(s, Some(a), Tlp::Green).await;
    let rb = report(s, Some(a), Tlp::Amber).await;
    // From the public form, its sender not yet known.
    let anon = NewReport::parse(
        ReportInput {
            text: "they gathered at the school".into(),
            tlp: Some(Tlp::Green),
            latitude: None,
            longitude: None,
            occurred_at: None,
            country: None,
            source: None,
        },
        Channel::Web,
        None,
    )
    .unwrap();
    let anon = s.create_report(&system(), anon).await.unwrap().id;
    let at = |tlp| async move { s.track_records(&[a, b], tlp).await.unwrap() };
    assert_eq!(at(Tlp::Red).await[&a], tr(0, 0, 2));
    assert_eq!(
        at(Tlp::Green).await[&a],
        tr(0, 0, 1),
        "the AMBER report is not counted"
    );
    assert_eq!(at(Tlp::Red).await[&b], tr(0, 0, 0));

    // Built from both reports, unverified: nothing confirmed yet.
    let mut i = incident(Tlp::Green, vec![ra, rb]);
    write(
        s,
        vec![VerificationStep::CreateIncident(Box::new(i.clone()))],
    )
    .await
    .unwrap();
    assert_eq!(at(Tlp::Red).await[&a], tr(0, 0, 2));
    let replace = |i: &mut Incident| {
        let expected_version = i.version;
        i.version += 1;
        VerificationStep::ReplaceIncident {
            incident: Box::new(i.clone()),
            expected_version,
        }
    };
    // Verified: both confirmed, the AMBER one only for AMBER readers.
    i.verification_status = Verified;
    write(s, vec![replace(&mut i)]).await.unwrap();
    assert_eq!(at(Tlp::Amber).await[&a], tr(2, 0, 2));
    assert_eq!(at(Tlp::Green).await[&a], tr(1, 0, 1));
    // Relabelled AMBER: a GREEN reader no longer counts it.
    i.tlp = Tlp::Amber;
    write(s, vec![replace(&mut i)]).await.unwrap();
    assert_eq!(at(Tlp::Green).await[&a], tr(0, 0, 1));
    assert_eq!(at(Tlp::Amber).await[&a], tr(2, 0, 2));
    // A second incident, refuted, also links `ra`: confirmed and refuted both.
    let mut j = incident(Tlp::Green, vec![ra]);
    j.verification_status = Refuted;
    write(
        s,
        vec![VerificationStep::CreateIncident(Box::new(j.clone()))],
    )
    .await
    .unwrap();
    assert_eq!(at(Tlp::Amber).await[&a], tr(2, 1, 2));
    assert_eq!(at(Tlp::Green).await[&a], tr(0, 1, 1));
    // The first one unlinks `ra`.
    i.report_ids = vec![rb];
    write(s, vec![replace(&mut i)]).await.unwrap();
    assert_eq!(at(Tlp::Amber).await[&a], tr(1, 1, 2));
    // Back to unverified: no longer confirmed.
    i.verification_status = Disputed;
    write(s, vec![replace(&mut i)]).await.unwrap();
    assert_eq!(at(Tlp::Amber).await[&a], tr(0, 1, 2));

    // An imported incident built from the anonymous report, corroborated; then the report's
    // sender is found to be source b (as a claimed form code does).
    let mut k = incident(Tlp::Green, vec![anon]);
    k.verification_status = Corroborated;
    k.dataset = Some("partner".into());
    k.external_id = Some("p-1".into());
    s.import_incidents(&system(), "partner", vec![k])
        .await
        .unwrap();
    assert_eq!(at(Tlp::Red).await[&b], tr(0, 0, 0));
    // A streamed import (the bulk path) of an incident naming one report twice.
    let mut m = incident(Tlp::Green, vec![ra, ra]);
    m.verification_status = Verified;
    m.dataset = Some("partner".into());
    m.external_id = Some("p-2".into());
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tx.send(tocsin_store::ImportChunk::Rows {
        dataset: "partner".into(),
        incidents: vec![m],
    })
    .await
    .unwrap();
    tx.send(tocsin_store::ImportChunk::End).await.unwrap();
    drop(tx);
    s.import_stream(&system(), rx).await.unwrap();
    assert_eq!(at(Tlp::Green).await[&a], tr(1, 1, 1));
    assert_eq!(at(Tlp::Amber).await[&a], tr(1, 1, 2));
    let mut raw = db.raw().await;
    let sql = match raw {
        tocsin_store_tests::Raw::Sqlite(_) => format!(
            "UPDATE reports SET source_id = '{b}' WHERE id = '{anon}' AND source_id IS NULL"
        ),
        tocsin_store_tests::Raw::Postgres(_) => format!(
            "UPDATE reports SET source_id = '{b}'::uuid WHERE id = '{anon}'::uuid \
             AND source_id IS NULL"
        ),
    };
    assert_eq!(raw.exec(&sql).await, Ok(1));
    assert_eq!(at(Tlp::Green).await[&b], tr(1, 0, 1));
    assert_eq!(
        at(Tlp::Red).await[&a],
        tr(1, 1, 2),
        "a's record is unchanged"
    );

    // The derived counts are the database's own: no one writes them but its triggers, and a
    // source nobody reported for has none.
    let unknown = Uuid::new_v4();
    assert_eq!(
        s.track_records(&[unknown], Tlp::Red).await.unwrap()[&unknown],
        tr(0, 0, 0)
    );
}

/// A migrator with the backend's migrations older than `before` (copied to `tmp`).
async fn migrations_before(backend: &str, before: i64, tmp: &Path) -> sqlx::migrate::Migrator {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(backend)
        .join("migrations");
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        let version: i64 = name[..4].parse().unwrap();
        if version < before {
            std::fs::copy(e.path(), tmp.join(&name)).unwrap();
        }
    }
    sqlx::migrate::Migrator::new(tmp.to_path_buf())
        .await
        .unwrap()
}

const OLD: [(&str, &str, VerificationStatus); 3] = [
    (
        "0190f7a2-0000-7000-8000-000000000001",
        "partially_verified",
        VerificationStatus::Corroborated,
    ),
    (
        "0190f7a2-0000-7000-8000-000000000002",
        "false",
        VerificationStatus::Refuted,
    ),
    (
        "0190f7a2-0000-7000-8000-000000000003",
        "verified",
        VerificationStatus::Verified,
    ),
];

fn old_rows(now: &str) -> String {
    OLD.iter()
        .map(|(id, status, _)| {
            format!(
                "INSERT INTO incidents (id, event_date, date_precision, event_type, sub_event_type, \
                 country, latitude, longitude, geo_precision, fatalities, credibility, \
                 verification_status, description, tlp, created_at, updated_at, version) VALUES \
                 ('{id}', '2025-01-01', 1, 'Battles', 'Armed clash', 'CAF', 6.0, 20.0, 1, 0, 6, \
                 '{status}', 'old', 1, {now}, {now}, 1);"
            )
        })
        .collect()
}

async fn check_migrated(store: &dyn Store) {
    for (id, _, want) in OLD {
        let i = store
            .get_incident(Uuid::parse_str(id).unwrap())
            .await
            .unwrap();
        assert_eq!(i.verification_status, want, "{id}");
    }
}

#[tokio::test]
async fn sqlite_old_status_names_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tocsin.db").display());
    let tmp = tempfile::tempdir().unwrap();
    let old = migrations_before("tocsin-store-sqlite", 17, tmp.path()).await;
    let opts = url
        .parse::<sqlx::sqlite::SqliteConnectOptions>()
        .unwrap()
        .create_if_missing(true);
    let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
    old.run(&mut c).await.unwrap();
    c.execute(old_rows("'2026-01-01T00:00:00.000000Z'").as_str())
        .await
        .unwrap();
    c.close().await.unwrap();
    let store = tocsin_store_sqlite::SqliteStore::open(&url).await.unwrap();
    check_migrated(&store).await;
}

#[tokio::test]
async fn postgres_old_status_names_migrate() {
    let Ok(admin) = std::env::var("TOCSIN_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("TOCSIN_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "TOCSIN_REQUIRE_POSTGRES=1 but TOCSIN_TEST_POSTGRES_URL is not set"
        );
        return;
    };
    let name = format!("tocsin_migrate_{}", Uuid::new_v4().simple());
    let mut a = sqlx::PgConnection::connect(&admin).await.unwrap();
    a.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let base = admin.split('?').next().unwrap();
    let cut = base
        .rfind('/')
        .filter(|i| *i > base.find("://").unwrap() + 2);
    let url = format!("{}/{name}", &base[..cut.unwrap_or(base.len())]);
    let tmp = tempfile::tempdir().unwrap();
    let old = migrations_before("tocsin-store-postgres", 16, tmp.path()).await;
    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
    old.run(&mut c).await.unwrap();
    c.execute(old_rows("now()").as_str()).await.unwrap();
    c.close().await.unwrap();
    let store = tocsin_store_postgres::PostgresStore::open(&url)
        .await
        .unwrap();
    check_migrated(&store).await;
    drop(store);
    let _ = a
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await;
}
