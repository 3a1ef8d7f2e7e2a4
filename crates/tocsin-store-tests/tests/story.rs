//! One story, every backend: each check below takes a `&dyn Store` (plus, where it must reach
//! under the store, the [`Db`] it lives in) and is run against a fresh SQLite file in a
//! tempdir and a fresh PostgreSQL database. See the crate docs for the environment variables.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use std::collections::HashSet;
use tocsin_app::sms::Intake;
use tocsin_domain::user::token_hash;
use tocsin_domain::{
    time, Actor, ApiToken, AuditEvent, BBox, Channel, ContactKey, Country, Cursor, DomainError,
    Incident, IncidentFilter, IncidentInput, IncidentPatch, NewReport, NewSource, NewUser, Page,
    PageRequest, Reliability, ReportFilter, Role, Situation, SourceContact, Tlp,
    VerificationStatus,
};
use tocsin_store::{Counts, ImportChunk, Op, Store, StoreError, StoreExt, WebSession};
use tocsin_store_tests::{story, Db, Raw};
use uuid::Uuid;

story!(
    reports_round_trip,
    report_filters,
    incidents_round_trip_and_filters,
    cursor_pagination_walks_everything_once,
    reports_are_immutable_and_audit_append_only,
    duplicate_provider_message_id_is_a_conflict,
    incident_updates_are_versioned_and_atomic,
    concurrent_incident_updates_lose_nothing,
    sources_keep_contact_sealed,
    situations,
    users_and_tokens,
    sessions,
    audit_records_every_write,
    audit_tampering_is_detected,
    concurrent_writes_keep_one_chain,
    a_failing_write_does_not_affect_others,
    two_handles_share_one_chain,
    reopen_keeps_data_and_chain,
    meta_and_counts,
    imports_upsert_by_provenance,
    streamed_imports_are_all_or_nothing,
    large_streamed_import_keeps_indexes_and_queries_right,
    streamed_import_keeps_every_field,
    scan_reads_every_visible_incident_once,
    sms_ingest_is_idempotent_and_queues_one_ack,
    outbox_claims_settles_and_retries,
    form_codes_link_a_web_report_once,
    credentials_can_be_withdrawn,
);

// ---------------------------------------------------------------------------------------------
// Fixtures.
// ---------------------------------------------------------------------------------------------

fn system() -> Actor {
    Actor::system("story")
}

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn country(c: &str) -> Country {
    Country::parse(c).unwrap()
}

fn report(text: &str, tlp: Tlp) -> NewReport {
    NewReport {
        // Random, as the server makes them: lists must not rely on ids for order.
        id: tocsin_domain::random_id(),
        channel: Channel::Api,
        provider_key: None,
        source_id: None,
        text: text.into(),
        tlp,
        latitude: None,
        longitude: None,
        country: None,
        occurred_at: None,
        received_at: time::now(),
        meta: Default::default(),
    }
}

fn incident_input() -> IncidentInput {
    IncidentInput {
        event_date: "2025-03-01".into(),
        event_type: "Violence against civilians".into(),
        sub_event_type: "Attack".into(),
        country: "CAF".into(),
        latitude: 6.1,
        longitude: 20.9,
        fatalities: 3,
        description: "Village attacked at dawn".into(),
        tlp: Tlp::Amber,
        ..Default::default()
    }
}

/// A situation with only a name, a country and a label, stored.
async fn new_situation(s: &dyn Store, name: &str, country: &str, tlp: Tlp) -> Situation {
    let sit = Situation::parse(tocsin_domain::NewSituation {
        name: name.into(),
        country: country.into(),
        admin1: None,
        status: None,
        description: None,
        tlp: Some(tlp),
    })
    .unwrap();
    s.create_situation(&system(), sit).await.unwrap()
}

fn incident() -> Incident {
    Incident::parse(incident_input()).unwrap()
}

fn all_reports() -> ReportFilter {
    ReportFilter {
        max_tlp: Tlp::Red,
        ..Default::default()
    }
}

fn all_incidents() -> IncidentFilter {
    IncidentFilter {
        max_tlp: Tlp::Red,
        ..Default::default()
    }
}

fn first_page(limit: u32) -> PageRequest {
    PageRequest { after: None, limit }
}

fn next(page_cursor: &str, limit: u32) -> PageRequest {
    PageRequest {
        after: Some(Cursor::decode(page_cursor).unwrap()),
        limit,
    }
}

/// Ids newest first, as every list must serve them.
fn newest_first(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids.reverse();
    ids
}

async fn report_ids(s: &dyn Store, f: &ReportFilter) -> Vec<Uuid> {
    let p = s.list_reports(f, first_page(500)).await.unwrap();
    assert!(p.next_cursor.is_none());
    p.items.iter().map(|r| r.id).collect()
}

/// The ids `list_incidents` gives for `f`, checked against `IncidentFilter::matches` over every
/// incident read back by id (the server answers lists that way).
async fn incident_ids(s: &dyn Store, f: &IncidentFilter) -> Vec<Uuid> {
    let p = s.list_incidents(f, first_page(500)).await.unwrap();
    assert!(p.next_cursor.is_none());
    let ids: Vec<Uuid> = p.items.iter().map(|i| i.id).collect();
    let every = s.list_incidents(&all_incidents(), first_page(500)).await;
    let every: Vec<Uuid> = every.unwrap().items.iter().map(|i| i.id).collect();
    let mut by_id = s.get_incidents(&every).await.unwrap();
    assert_eq!(by_id.len(), every.len(), "every incident read back by id");
    by_id.retain(|i| f.matches(i));
    by_id.sort_by_key(|i| std::cmp::Reverse((i.event_date, i.id)));
    let matched: Vec<Uuid> = by_id.iter().map(|i| i.id).collect();
    assert_eq!(
        matched, ids,
        "the filter's own test agrees with the store's query"
    );
    ids
}

async fn audit_count(s: &dyn Store) -> i64 {
    s.verify_audit()
        .await
        .unwrap()
        .expect("audit chain verifies")
}

async fn last_audit(s: &dyn Store) -> tocsin_domain::AuditEntry {
    let n = audit_count(s).await;
    s.audit_entries(n - 1, 1)
        .await
        .unwrap()
        .pop()
        .expect("an audit entry")
}

fn is_not_found<T: std::fmt::Debug>(r: tocsin_store::Result<T>) -> bool {
    matches!(r, Err(StoreError::NotFound))
}

fn is_conflict<T: std::fmt::Debug>(r: tocsin_store::Result<T>) -> bool {
    matches!(r, Err(StoreError::Conflict(_)))
}

fn domain_field<T: std::fmt::Debug>(r: tocsin_store::Result<T>) -> String {
    match r {
        Err(StoreError::Domain(DomainError::Invalid { field, .. })) => field,
        other => panic!("expected a domain refusal, got {other:?}"),
    }
}

async fn new_source(s: &dyn Store, handle: &str, tlp: Tlp) -> tocsin_domain::Source {
    let key = ContactKey::generate();
    let ns = NewSource::new(handle, "monitor", Reliability::B, tlp, None, &key).unwrap();
    s.create_source(&system(), ns).await.unwrap()
}

async fn new_user(s: &dyn Store, name: &str, role: Role) -> tocsin_domain::User {
    s.create_user(&system(), NewUser::build(name, role, None).unwrap())
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// The story.
// ---------------------------------------------------------------------------------------------

async fn reports_round_trip(s: &dyn Store, _db: &Db) {
    let src = new_source(s, "M-0423", Tlp::Amber).await;
    let full = NewReport {
        channel: Channel::Sms,
        provider_key: Some("key-of-gw-77".into()),
        source_id: Some(src.id),
        latitude: Some(6.1234567891),
        longitude: Some(-20.987654321),
        country: Some(country("CAF")),
        occurred_at: Some(time::now() - Duration::hours(3)),
        ..report("Hommes armés à Bria 🚨 — مسلحون\n  line two\t", Tlp::Amber)
    };
    let stored = s.create_report(&system(), full.clone()).await.unwrap();
    assert_eq!(stored.source.as_deref(), Some("M-0423"));
    assert_eq!(stored.text, full.text, "text is kept byte-exact");
    let json = serde_json::to_string(&stored).unwrap();
    assert!(
        !json.contains("gw-77") && !json.contains("provider"),
        "a report never shows the gateway's message id, even hashed: {json}"
    );
    assert_eq!(stored.channel, Channel::Sms);
    assert_eq!(stored.country, Some(country("CAF")));
    assert_eq!(stored.occurred_at, full.occurred_at);
    assert_eq!(
        s.get_report(full.id).await.unwrap(),
        stored,
        "what is read back is what the write answered, timestamps and floats exact"
    );

    let bare = s
        .create_report(&system(), report("bare", Tlp::Clear))
        .await
        .unwrap();
    assert_eq!(s.get_report(bare.id).await.unwrap(), bare);
    assert_eq!(bare.source, None);
    assert_eq!(
        (bare.latitude, bare.country.clone(), bare.occurred_at),
        (None, None, None)
    );

    let listed = s
        .list_reports(&all_reports(), first_page(10))
        .await
        .unwrap();
    assert_eq!(
        listed.items,
        vec![bare.clone(), stored.clone()],
        "newest first"
    );
    assert!(listed.next_cursor.is_none());

    assert!(is_not_found(s.get_report(Uuid::now_v7()).await));
    // A report naming a source that does not exist is refused and nothing is written.
    let orphan = NewReport {
        source_id: Some(Uuid::now_v7()),
        ..report("orphan", Tlp::Clear)
    };
    assert!(s.create_report(&system(), orphan).await.is_err());
    assert_eq!(s.counts().await.unwrap().reports, 2);
}

async fn report_filters(s: &dyn Store, _db: &Db) {
    let a = NewReport {
        country: Some(country("CAF")),
        latitude: Some(6.1),
        longitude: Some(20.9),
        received_at: at(2025, 1, 10),
        meta: Default::default(),
        ..report("a", Tlp::Green)
    };
    let b = NewReport {
        country: Some(country("SSD")),
        latitude: Some(4.85),
        longitude: Some(31.6),
        channel: Channel::Sms,
        received_at: at(2025, 2, 10),
        meta: Default::default(),
        ..report("b", Tlp::Amber)
    };
    let c = NewReport {
        country: Some(country("CAF")),
        channel: Channel::Web,
        received_at: at(2025, 3, 10),
        meta: Default::default(),
        ..report("c", Tlp::Red)
    };
    let d = NewReport {
        latitude: Some(5.0),
        longitude: Some(20.0),
        received_at: at(2025, 4, 10),
        meta: Default::default(),
        ..report("d", Tlp::Clear)
    };
    let e = NewReport {
        country: Some(country("CAF")),
        latitude: Some(7.0),
        longitude: Some(22.0),
        received_at: at(2025, 5, 10),
        meta: Default::default(),
        ..report("e", Tlp::AmberStrict)
    };
    for r in [&a, &b, &c, &d, &e] {
        s.create_report(&system(), r.clone()).await.unwrap();
    }
    let (a, b, c, d, e) = (a.id, b.id, c.id, d.id, e.id);
    let f = |g: &dyn Fn(&mut ReportFilter)| {
        let mut f = all_reports();
        g(&mut f);
        f
    };

    assert_eq!(report_ids(s, &all_reports()).await, vec![e, d, c, b, a]);
    // Clearance: nothing above it, ever.
    assert_eq!(
        report_ids(s, &ReportFilter::default()).await,
        vec![d],
        "default clearance is CLEAR"
    );
    assert_eq!(
        report_ids(s, &f(&|f| f.max_tlp = Tlp::Green)).await,
        vec![d, a]
    );
    assert_eq!(
        report_ids(s, &f(&|f| f.max_tlp = Tlp::Amber)).await,
        vec![d, b, a]
    );
    assert_eq!(
        report_ids(s, &f(&|f| f.max_tlp = Tlp::AmberStrict)).await,
        vec![e, d, b, a]
    );
    for max in Tlp::ALL {
        let p = s
            .list_reports(&f(&|f| f.max_tlp = max), first_page(500))
            .await
            .unwrap();
        assert!(
            p.items.iter().all(|r| r.tlp <= max),
            "clearance {max} leaked a record"
        );
        for exact in Tlp::ALL {
            let p = s
                .list_reports(
                    &f(&|f| {
                        f.max_tlp = max;
                        f.tlp = Some(exact);
                    }),
                    first_page(500),
                )
                .await
                .unwrap();
            assert!(p.items.iter().all(|r| r.tlp == exact && r.tlp <= max));
        }
    }
    // Exact label.
    assert_eq!(
        report_ids(s, &f(&|f| f.tlp = Some(Tlp::Amber))).await,
        vec![b]
    );
    let red_above_clearance = f(&|f| {
        f.tlp = Some(Tlp::Red);
        f.max_tlp = Tlp::Amber;
    });
    assert!(report_ids(s, &red_above_clearance).await.is_empty());
    // Country.
    let caf = country("CAF");
    assert_eq!(
        report_ids(s, &f(&|f| f.country = Some(caf.clone()))).await,
        vec![e, c, a]
    );
    let caf_green = f(&|f| {
        f.country = Some(caf.clone());
        f.max_tlp = Tlp::Green;
    });
    assert_eq!(report_ids(s, &caf_green).await, vec![a]);
    // Received-time range: `from` inclusive, `to` exclusive.
    let feb_to_mar = f(&|f| {
        f.from = Some(at(2025, 2, 10));
        f.to = Some(at(2025, 3, 10));
    });
    assert_eq!(report_ids(s, &feb_to_mar).await, vec![b]);
    let from_march = f(&|f| f.from = Some(at(2025, 3, 10)));
    assert_eq!(report_ids(s, &from_march).await, vec![e, d, c]);
    let before_feb = f(&|f| f.to = Some(at(2025, 2, 10) + Duration::microseconds(1)));
    assert_eq!(report_ids(s, &before_feb).await, vec![b, a]);
    // Bounding box (edges included; reports without a point never match).
    let car = BBox::parse("14,2,28,11").unwrap();
    assert_eq!(
        report_ids(s, &f(&|f| f.bbox = Some(car))).await,
        vec![e, d, a]
    );
    let edge = BBox::parse("20.9,6.1,20.9,6.1").unwrap();
    assert_eq!(report_ids(s, &f(&|f| f.bbox = Some(edge))).await, vec![a]);
    // Channel.
    assert_eq!(
        report_ids(s, &f(&|f| f.channel = Some(Channel::Sms))).await,
        vec![b]
    );
    assert_eq!(
        report_ids(s, &f(&|f| f.channel = Some(Channel::Api))).await,
        vec![e, d, a]
    );
    // Combined.
    let combined = f(&|f| {
        f.country = Some(caf.clone());
        f.bbox = Some(car);
        f.from = Some(at(2025, 1, 1));
        f.to = Some(at(2025, 5, 1));
    });
    assert_eq!(report_ids(s, &combined).await, vec![a]);
}

async fn incidents_round_trip_and_filters(s: &dyn Store, _db: &Db) {
    let sit = s
        .create_situation(
            &system(),
            Situation::parse(tocsin_domain::NewSituation {
                name: "CAR north-west".into(),
                country: "CAF".into(),
                admin1: Some("Ouham-Pendé".into()),
                status: Some("active".into()),
                description: None,
                tlp: Some(Tlp::Green),
            })
            .unwrap(),
        )
        .await
        .unwrap();
    let r1 = s
        .create_report(&system(), report("r1", Tlp::Amber))
        .await
        .unwrap();
    let r2 = s
        .create_report(&system(), report("r2", Tlp::Amber))
        .await
        .unwrap();

    let i1 = Incident::parse(IncidentInput {
        admin1: Some("Ouham-Pendé".into()),
        admin2: Some("Paoua".into()),
        location: Some("Bémal".into()),
        actor1: Some("Armed group".into()),
        actor2: Some("Civilians (CAF)".into()),
        targeted_group: Some("Herders".into()),
        fatalities_low: Some(2),
        fatalities_high: Some(9),
        credibility: Some(2),
        date_precision: Some(2),
        geo_precision: Some(3),
        situation_id: Some(sit.id),
        report_ids: Some(vec![r1.id, r2.id]),
        dataset: Some("acled".into()),
        external_id: Some("CAF-123".into()),
        latitude: 6.123456789012,
        longitude: 20.987654321098,
        ..incident_input()
    })
    .unwrap();
    let i2 = Incident::parse(IncidentInput {
        event_date: "2025-03-15".into(),
        event_type: "Battles".into(),
        sub_event_type: "Armed clash".into(),
        latitude: 4.3,
        longitude: 18.5,
        tlp: Tlp::Green,
        verification_status: Some(VerificationStatus::Verified),
        ..incident_input()
    })
    .unwrap();
    let i3 = Incident::parse(IncidentInput {
        event_date: "2025-04-02".into(),
        sub_event_type: "Abduction/forced disappearance".into(),
        country: "SSD".into(),
        latitude: 4.85,
        longitude: 31.6,
        tlp: Tlp::Red,
        verification_status: Some(VerificationStatus::Verified),
        ..incident_input()
    })
    .unwrap();
    let i4 = Incident::parse(IncidentInput {
        event_date: "2024-12-31".into(),
        event_type: "Protests".into(),
        sub_event_type: "Peaceful protest".into(),
        country: "BGD".into(),
        latitude: 23.8,
        longitude: 90.4,
        fatalities: 0,
        tlp: Tlp::Clear,
        verification_status: Some(VerificationStatus::Disputed),
        ..incident_input()
    })
    .unwrap();
    for i in [&i1, &i2, &i3, &i4] {
        let stored = s.create_incident(&system(), i.clone()).await.unwrap();
        assert_eq!(&stored, i);
        assert_eq!(
            &s.get_incident(i.id).await.unwrap(),
            i,
            "every field round-trips"
        );
    }
    assert_eq!(
        s.get_incident(i1.id).await.unwrap().report_ids,
        vec![r1.id, r2.id]
    );
    assert!(is_not_found(s.get_incident(Uuid::now_v7()).await));
    // Several at once: the ones that exist, whatever the order asked; unknown ids are skipped.
    let mut got = s
        .get_incidents(&[i3.id, Uuid::now_v7(), i1.id, i3.id])
        .await
        .unwrap();
    got.sort_by_key(|i| i.id);
    got.dedup_by_key(|i| i.id);
    let mut want = vec![i1.clone(), i3.clone()];
    want.sort_by_key(|i| i.id);
    assert_eq!(got, want);
    assert!(s.get_incidents(&[]).await.unwrap().is_empty());
    // Map points carry what lists filter on.
    let points = s.map_points(None, 100).await.unwrap();
    let point = |id: Uuid| points.iter().find(|p| p.id == id).unwrap().clone();
    assert_eq!(point(i1.id).situation_id, Some(sit.id));
    assert_eq!(point(i1.id).verification_status, i1.verification_status);
    assert_eq!(point(i2.id).situation_id, None);
    assert_eq!(
        point(i2.id).verification_status,
        VerificationStatus::Verified
    );

    let (i1, i2, i3, i4) = (i1.id, i2.id, i3.id, i4.id);
    let f = |g: &dyn Fn(&mut IncidentFilter)| {
        let mut f = all_incidents();
        g(&mut f);
        f
    };
    assert_eq!(
        incident_ids(s, &all_incidents()).await,
        vec![i3, i2, i1, i4],
        "latest event date first"
    );
    assert_eq!(incident_ids(s, &IncidentFilter::default()).await, vec![i4]);
    assert_eq!(
        incident_ids(s, &f(&|f| f.max_tlp = Tlp::Amber)).await,
        vec![i2, i1, i4]
    );
    for max in Tlp::ALL {
        let p = s
            .list_incidents(&f(&|f| f.max_tlp = max), first_page(500))
            .await
            .unwrap();
        assert!(
            p.items.iter().all(|i| i.tlp <= max),
            "clearance {max} leaked a record"
        );
    }
    assert_eq!(
        incident_ids(s, &f(&|f| f.tlp = Some(Tlp::Green))).await,
        vec![i2]
    );
    let red_above = f(&|f| {
        f.tlp = Some(Tlp::Red);
        f.max_tlp = Tlp::AmberStrict;
    });
    assert!(incident_ids(s, &red_above).await.is_empty());
    assert_eq!(
        incident_ids(s, &f(&|f| f.country = Some(country("CAF")))).await,
        vec![i2, i1]
    );
    // Event-date range, both ends inclusive.
    let march = f(&|f| {
        f.from = Some(date(2025, 3, 1));
        f.to = Some(date(2025, 3, 15));
    });
    assert_eq!(incident_ids(s, &march).await, vec![i2, i1]);
    assert_eq!(
        incident_ids(s, &f(&|f| f.to = Some(date(2024, 12, 31)))).await,
        vec![i4]
    );
    assert_eq!(
        incident_ids(s, &f(&|f| f.from = Some(date(2025, 3, 2)))).await,
        vec![i3, i2]
    );
    let car = BBox::parse("14,2,28,11").unwrap();
    assert_eq!(
        incident_ids(s, &f(&|f| f.bbox = Some(car))).await,
        vec![i2, i1]
    );
    let vac = f(&|f| f.event_type = Some("Violence against civilians".into()));
    assert_eq!(incident_ids(s, &vac).await, vec![i3, i1]);
    let verified = f(&|f| f.verification_status = Some(VerificationStatus::Verified));
    assert_eq!(incident_ids(s, &verified).await, vec![i3, i2]);
    let disputed = f(&|f| f.verification_status = Some(VerificationStatus::Disputed));
    assert_eq!(incident_ids(s, &disputed).await, vec![i4]);
    assert_eq!(
        incident_ids(s, &f(&|f| f.situation_id = Some(sit.id))).await,
        vec![i1]
    );
    let combined = f(&|f| {
        f.country = Some(country("CAF"));
        f.verification_status = Some(VerificationStatus::Verified);
        f.max_tlp = Tlp::Green;
    });
    assert_eq!(incident_ids(s, &combined).await, vec![i2]);

    // Provenance is unique: the same dataset row twice is a conflict, and nothing is written.
    let before = (s.counts().await.unwrap(), audit_count(s).await);
    let again = Incident::parse(IncidentInput {
        dataset: Some("acled".into()),
        external_id: Some("CAF-123".into()),
        ..incident_input()
    })
    .unwrap();
    assert!(is_conflict(s.create_incident(&system(), again).await));
    assert_eq!((s.counts().await.unwrap(), audit_count(s).await), before);
    let other_dataset = Incident::parse(IncidentInput {
        dataset: Some("ucdp-ged".into()),
        external_id: Some("CAF-123".into()),
        ..incident_input()
    })
    .unwrap();
    s.create_incident(&system(), other_dataset).await.unwrap();
}

async fn cursor_pagination_walks_everything_once(s: &dyn Store, _db: &Db) {
    // 25 reports, 5 of them above the reader's clearance: 20 visible. Ids are random, so lists
    // go by time, then id; every third report shares its time with the one before.
    let mut created = Vec::new();
    let start = time::now() - Duration::hours(1);
    for n in 0..25i64 {
        let tlp = if n % 5 == 2 { Tlp::Red } else { Tlp::Amber };
        let r = NewReport {
            received_at: start + Duration::seconds(n - n / 3),
            ..report(&format!("report {n}"), tlp)
        };
        created.push(s.create_report(&system(), r).await.unwrap());
    }
    created.sort_by_key(|r| std::cmp::Reverse((r.received_at, r.id)));
    let visible: Vec<Uuid> = created
        .iter()
        .filter(|r| r.tlp <= Tlp::Amber)
        .map(|r| r.id)
        .collect();
    assert_eq!(visible.len(), 20);
    assert_ne!(
        newest_first(visible.clone()),
        visible,
        "random ids: the order comes from the times"
    );
    let filter = ReportFilter {
        max_tlp: Tlp::Amber,
        ..Default::default()
    };
    // A limit that divides the total (the last full page must still end the walk) and ones that do not.
    for limit in [1, 5, 7, 19, 20, 21, 500] {
        let mut seen = Vec::new();
        let mut req = first_page(limit);
        let mut pages = 0;
        loop {
            let page: Page<_> = s.list_reports(&filter, req).await.unwrap();
            pages += 1;
            assert!(page.items.len() <= limit as usize);
            seen.extend(page.items.iter().map(|r| r.id));
            match page.next_cursor {
                Some(c) => {
                    assert_eq!(
                        page.items.len(),
                        limit as usize,
                        "only the last page is short"
                    );
                    req = next(&c, limit);
                }
                None => break,
            }
            assert!(pages <= 25, "pagination does not end");
        }
        assert_eq!(
            seen, visible,
            "limit {limit}: every item exactly once, newest first"
        );
        assert_eq!(
            pages,
            20usize.div_ceil(limit as usize).max(1),
            "limit {limit}"
        );
    }

    // Incidents page by event date, newest first, then by id; sources and situations by id.
    let mut incidents = Vec::new();
    for day in [3, 1, 3, 2, 5, 1, 3] {
        let mut i = incident();
        i.event_date = NaiveDate::from_ymd_opt(2025, 1, day).unwrap();
        let i = s.create_incident(&system(), i).await.unwrap();
        incidents.push((i.event_date, i.id));
    }
    incidents.sort_by(|a, b| b.cmp(a));
    let incidents: Vec<Uuid> = incidents.into_iter().map(|(_, id)| id).collect();
    let mut seen = Vec::new();
    let mut req = first_page(3);
    loop {
        let page = s.list_incidents(&all_incidents(), req).await.unwrap();
        seen.extend(page.items.iter().map(|i| i.id));
        match page.next_cursor {
            Some(c) => req = next(&c, 3),
            None => break,
        }
    }
    assert_eq!(
        seen, incidents,
        "incidents: latest event date first, then newest id"
    );

    let mut sources = Vec::new();
    for n in 0..5 {
        sources.push(new_source(s, &format!("S-{n}"), Tlp::Green).await);
    }
    sources.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.id)));
    let sources: Vec<Uuid> = sources.iter().map(|s| s.id).collect();
    let p1 = s.list_sources(Tlp::Red, first_page(2)).await.unwrap();
    let p2 = s
        .list_sources(Tlp::Red, next(p1.next_cursor.as_deref().unwrap(), 2))
        .await
        .unwrap();
    let p3 = s
        .list_sources(Tlp::Red, next(p2.next_cursor.as_deref().unwrap(), 2))
        .await
        .unwrap();
    assert!(p3.next_cursor.is_none());
    let seen: Vec<Uuid> = [p1.items, p2.items, p3.items]
        .concat()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(seen, sources, "sources: newest first by time, then id");
}

async fn reports_are_immutable_and_audit_append_only(s: &dyn Store, db: &Db) {
    let r = s
        .create_report(&system(), report("as received", Tlp::Amber))
        .await
        .unwrap();
    let mut raw = db.raw().await;
    let id = r.id;
    let err = raw
        .exec(&format!(
            "UPDATE reports SET text = 'forged' WHERE id = '{id}'"
        ))
        .await
        .unwrap_err();
    assert!(err.contains("reports are immutable"), "{err}");
    let err = raw.exec("UPDATE reports SET tlp = 0").await.unwrap_err();
    assert!(err.contains("reports are immutable"), "{err}");
    let err = raw
        .exec(&format!("DELETE FROM reports WHERE id = '{id}'"))
        .await
        .unwrap_err();
    assert!(err.contains("never deleted"), "{err}");
    let err = raw.exec("DELETE FROM reports").await.unwrap_err();
    assert!(err.contains("never deleted"), "{err}");
    assert_eq!(s.get_report(id).await.unwrap(), r);
    assert_eq!(s.counts().await.unwrap().reports, 1);

    let err = raw
        .exec("UPDATE audit_log SET actor_name = 'mallory'")
        .await
        .unwrap_err();
    assert!(err.contains("append-only"), "{err}");
    let err = raw.exec("DELETE FROM audit_log").await.unwrap_err();
    assert!(err.contains("append-only"), "{err}");
    if let Raw::Postgres(_) = raw {
        // TRUNCATE skips row triggers; statement triggers refuse it too.
        assert!(raw.exec("TRUNCATE reports CASCADE").await.is_err());
        assert!(raw.exec("TRUNCATE audit_log").await.is_err());
    }
    assert_eq!(audit_count(s).await, 1);
}

async fn duplicate_provider_message_id_is_a_conflict(s: &dyn Store, _db: &Db) {
    let sms = |text: &str, id: Option<&str>| NewReport {
        channel: Channel::Sms,
        provider_key: id.map(String::from),
        ..report(text, Tlp::Amber)
    };
    let first = s
        .create_report(&system(), sms("first", Some("gw-1")))
        .await
        .unwrap();
    let before = (s.counts().await.unwrap(), audit_count(s).await);

    let dup = sms("redelivered", Some("gw-1"));
    assert!(is_conflict(s.create_report(&system(), dup.clone()).await));
    assert!(is_not_found(s.get_report(dup.id).await), "nothing written");
    assert_eq!(
        (s.counts().await.unwrap(), audit_count(s).await),
        before,
        "nor audited"
    );
    assert_eq!(s.get_report(first.id).await.unwrap(), first);

    // The same provider id on another channel is another message; reports without one never clash.
    let web = NewReport {
        channel: Channel::Web,
        provider_key: Some("gw-1".into()),
        ..report("web", Tlp::Amber)
    };
    s.create_report(&system(), web).await.unwrap();
    s.create_report(&system(), sms("no id 1", None))
        .await
        .unwrap();
    s.create_report(&system(), sms("no id 2", None))
        .await
        .unwrap();
    assert_eq!(s.counts().await.unwrap().reports, 4);
    // The same report id twice is a conflict as well.
    assert!(is_conflict(
        s.create_report(
            &system(),
            NewReport {
                id: first.id,
                ..sms("again", None)
            }
        )
        .await
    ));
    assert_eq!(audit_count(s).await, before.1 + 3);
}

async fn incident_updates_are_versioned_and_atomic(s: &dyn Store, _db: &Db) {
    let alice = new_user(s, "alice", Role::Analyst).await;
    let created = s.create_incident(&system(), incident()).await.unwrap();
    assert_eq!(created.version, 1);

    let patch = IncidentPatch {
        fatalities: Some(12),
        fatalities_high: Some(20),
        verification_status: Some(VerificationStatus::Verified),
        description: Some("Confirmed by two monitors".into()),
        tlp: Some(Tlp::Green),
        expected_version: Some(1),
        ..Default::default()
    };
    let updated = s
        .update_incident(&alice.actor(), created.id, patch)
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.fatalities, 12);
    assert_eq!(updated.fatalities_high, Some(20));
    assert_eq!(updated.verification_status, VerificationStatus::Verified);
    assert_eq!(updated.tlp, Tlp::Green);
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at >= created.updated_at);
    assert_eq!(
        updated.event_type, created.event_type,
        "absent fields are left alone"
    );
    assert_eq!(s.get_incident(created.id).await.unwrap(), updated);

    let e = last_audit(s).await;
    assert_eq!(
        (e.action.as_str(), e.record_type.as_str()),
        ("incident.update", "incident")
    );
    assert_eq!(e.record_id, Some(created.id.to_string()));
    assert_eq!(
        (e.actor_id, e.actor_name.as_str()),
        (Some(alice.id), "alice")
    );
    let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap();
    let mut fields: Vec<&str> = detail["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "description",
            "fatalities",
            "fatalities_high",
            "tlp",
            "verification_status"
        ]
    );

    let audited = audit_count(s).await;
    // A stale version is refused and nothing changes.
    let stale = IncidentPatch {
        fatalities: Some(99),
        expected_version: Some(1),
        ..Default::default()
    };
    assert_eq!(
        domain_field(s.update_incident(&alice.actor(), created.id, stale).await),
        "expected_version"
    );
    // An invalid patch is refused whole: the valid field in it is not applied either.
    let invalid = IncidentPatch {
        fatalities: Some(50),
        latitude: Some(100.0),
        ..Default::default()
    };
    assert_eq!(
        domain_field(s.update_incident(&alice.actor(), created.id, invalid).await),
        "latitude"
    );
    let mismatched = IncidentPatch {
        sub_event_type: Some("Armed clash".into()),
        ..Default::default()
    };
    assert_eq!(
        domain_field(
            s.update_incident(&alice.actor(), created.id, mismatched)
                .await
        ),
        "sub_event_type"
    );
    assert_eq!(
        s.get_incident(created.id).await.unwrap(),
        updated,
        "unchanged"
    );
    assert_eq!(
        audit_count(s).await,
        audited,
        "refusals are not audited as updates"
    );

    assert!(is_not_found(
        s.update_incident(&alice.actor(), Uuid::now_v7(), IncidentPatch::default())
            .await
    ));
    let again = s
        .update_incident(
            &alice.actor(),
            created.id,
            IncidentPatch {
                expected_version: Some(2),
                location: Some("Bémal".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (again.version, again.location.as_deref()),
        (3, Some("Bémal"))
    );
}

async fn concurrent_incident_updates_lose_nothing(s: &dyn Store, db: &Db) {
    let created = s.create_incident(&system(), incident()).await.unwrap();
    let id = created.id;
    // Ten editors race with the same expected version: exactly one wins.
    let racers: Vec<_> = (0..10)
        .map(|n| {
            let store = db.store.clone();
            tokio::spawn(async move {
                let p = IncidentPatch {
                    fatalities: Some(100 + n),
                    expected_version: Some(1),
                    ..Default::default()
                };
                store.update_incident(&system(), id, p).await
            })
        })
        .collect();
    let mut won = 0;
    for r in racers {
        match r.await.unwrap() {
            Ok(i) => {
                won += 1;
                assert_eq!(i.version, 2);
            }
            Err(StoreError::Domain(e)) => assert_eq!(e.field(), Some("expected_version")),
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(won, 1);
    // Ten unconditional edits at once: each is applied on top of the one before.
    let editors: Vec<_> = (0..10)
        .map(|n| {
            let store = db.store.clone();
            tokio::spawn(async move {
                let p = IncidentPatch {
                    fatalities: Some(n),
                    ..Default::default()
                };
                store
                    .update_incident(&system(), id, p)
                    .await
                    .map(|i| i.version)
            })
        })
        .collect();
    let mut versions = Vec::new();
    for e in editors {
        versions.push(e.await.unwrap().unwrap());
    }
    versions.sort();
    assert_eq!(versions, (3..=12).collect::<Vec<i64>>(), "no lost update");
    assert_eq!(s.get_incident(id).await.unwrap().version, 12);
    assert_eq!(audit_count(s).await, 1 + 1 + 10);
}

async fn sources_keep_contact_sealed(s: &dyn Store, _db: &Db) {
    let coordinator = new_user(s, "coord", Role::MonitorCoordinator).await;
    let key = ContactKey::generate();
    let contact = SourceContact {
        chat: None,
        name: Some("Marie K.".into()),
        phone: Some("+23672000000".into()),
        email: Some("marie@example.org".into()),
    };
    let ns = NewSource::new(
        "M-0423",
        "monitor",
        Reliability::B,
        Tlp::AmberStrict,
        Some(&contact),
        &key,
    )
    .unwrap();
    let sealed = ns.contact.clone().unwrap();
    let src = s.create_source(&system(), ns).await.unwrap();
    assert!(src.has_contact);
    let got = s.get_source(src.id).await.unwrap();
    assert_eq!(got, src);
    let json = serde_json::to_string(&got).unwrap();
    assert!(
        !json.contains("23672") && !json.contains("marie"),
        "get_source exposes no contact: {json}"
    );
    assert_eq!(s.get_source_by_handle("M-0423").await.unwrap(), src);
    assert!(is_not_found(s.get_source_by_handle("M-9999").await));
    assert!(is_not_found(s.get_source(Uuid::now_v7()).await));

    let audited = audit_count(s).await;
    let read = s
        .read_source_contact(&coordinator.actor(), src.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, sealed, "the sealed bytes come back as stored");
    assert!(
        !read.0.windows(5).any(|w| w == b"23672"),
        "stored sealed, not in clear"
    );
    assert_eq!(SourceContact::open(&read, &key, src.id).unwrap(), contact);
    assert!(SourceContact::open(&read, &ContactKey::generate(), src.id).is_err());
    assert!(
        SourceContact::open(&read, &key, Uuid::new_v4()).is_err(),
        "a sealed contact opens only for its own source"
    );
    assert_eq!(audit_count(s).await, audited + 1);
    let e = last_audit(s).await;
    assert_eq!(e.action, "source.contact.read");
    assert_eq!(e.record_type, "source");
    assert_eq!(e.record_id, Some(src.id.to_string()));
    assert_eq!(
        (e.actor_id, e.actor_name.as_str()),
        (Some(coordinator.id), "coord")
    );
    assert!(
        !e.detail.contains("23672"),
        "the audit names the handle, not the contact"
    );
    assert!(e.detail.contains("M-0423"));
    // Reading the contact of a source that does not exist fails, and is not audited as a read.
    assert!(is_not_found(
        s.read_source_contact(&coordinator.actor(), Uuid::now_v7())
            .await
    ));
    assert_eq!(audit_count(s).await, audited + 1);

    let plain = new_source(s, "OUTLET-1", Tlp::Clear).await;
    assert!(!plain.has_contact);
    assert_eq!(s.get_source_contact(plain.id).await.unwrap(), None);
    assert!(!s.get_source(plain.id).await.unwrap().has_contact);
    // Handles are unique.
    let taken =
        NewSource::new("M-0423", "monitor", Reliability::C, Tlp::Amber, None, &key).unwrap();
    assert!(is_conflict(s.create_source(&system(), taken).await));
    // Clearance applies to source records too.
    let ids = |p: Page<tocsin_domain::Source>| p.items.iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.list_sources(Tlp::Green, first_page(10)).await.unwrap()),
        vec![plain.id]
    );
    assert_eq!(
        ids(s.list_sources(Tlp::Red, first_page(10)).await.unwrap()),
        vec![plain.id, src.id]
    );
    assert_eq!(s.counts().await.unwrap().sources, 2);
}

async fn situations(s: &dyn Store, _db: &Db) {
    let make = |name: &str, tlp| {
        Situation::parse(tocsin_domain::NewSituation {
            name: name.into(),
            country: "SDN".into(),
            admin1: None,
            status: None,
            description: Some("El Fasher siege".into()),
            tlp: Some(tlp),
        })
        .unwrap()
    };
    let a = s
        .create_situation(&system(), make("Darfur", Tlp::Green))
        .await
        .unwrap();
    let b = s
        .create_situation(&system(), make("Kordofan", Tlp::Red))
        .await
        .unwrap();
    assert_eq!(s.get_situation(a.id).await.unwrap(), a);
    assert_eq!(s.get_situation(b.id).await.unwrap(), b);
    assert!(is_not_found(s.get_situation(Uuid::now_v7()).await));
    let green = s.list_situations(Tlp::Green, first_page(10)).await.unwrap();
    assert_eq!(green.items, vec![a.clone()]);
    let red = s.list_situations(Tlp::Red, first_page(1)).await.unwrap();
    assert_eq!(red.items, vec![b.clone()]);
    let rest = s
        .list_situations(Tlp::Red, next(red.next_cursor.as_deref().unwrap(), 1))
        .await
        .unwrap();
    assert_eq!((rest.items, rest.next_cursor), (vec![a], None));
    assert_eq!(last_audit(s).await.action, "situation.create");
}

async fn users_and_tokens(s: &dyn Store, _db: &Db) {
    let alice = NewUser::build("alice", Role::Analyst, Some("correct horse battery")).unwrap();
    let alice = s.create_user(&system(), alice).await.unwrap();
    let got = s.get_user(alice.id).await.unwrap();
    assert_eq!(got, alice);
    assert!(
        got.check_password("correct horse battery"),
        "the hash round-trips"
    );
    assert_eq!(s.get_user_by_name("alice").await.unwrap(), alice);
    assert!(is_not_found(s.get_user_by_name("mallory").await));
    assert!(is_not_found(s.get_user(Uuid::now_v7()).await));
    let twin = NewUser::build("alice", Role::Viewer, None).unwrap();
    assert!(is_conflict(s.create_user(&system(), twin).await));

    let mut zed = NewUser::build("Zed", Role::Viewer, None).unwrap();
    zed.disabled = true;
    zed.clearance = Tlp::Clear;
    let zed = s.create_user(&system(), zed).await.unwrap();
    assert_eq!(s.get_user(zed.id).await.unwrap(), zed);
    new_user(s, "bob", Role::DeskOfficer).await;
    new_user(s, "_svc", Role::Viewer).await;
    let names: Vec<String> = s
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(
        names,
        ["Zed", "_svc", "alice", "bob"],
        "sorted by name, bytewise"
    );

    let (token, secret) = ApiToken::generate(alice.id, "cli", None);
    s.write(&alice.actor(), Op::CreateToken(token.clone()))
        .await
        .unwrap();
    assert_eq!(s.user_for_token(&token_hash(&secret)).await.unwrap(), alice);
    assert_eq!(
        s.user_for_token(&token.token_hash).await.unwrap().id,
        alice.id
    );
    assert!(is_not_found(
        s.user_for_token(&token_hash("tsn_not-a-token")).await
    ));
    assert!(
        is_not_found(s.user_for_token(&secret).await),
        "the secret itself is not a key"
    );
    let e = last_audit(s).await;
    assert_eq!(e.action, "token.create");
    assert!(!e.detail.contains(&secret) && !e.detail.contains(&token.token_hash));
    // A token for a user who does not exist is refused, and a token hash is unique.
    let (orphan, _) = ApiToken::generate(Uuid::now_v7(), "ghost", None);
    assert!(s.write(&system(), Op::CreateToken(orphan)).await.is_err());
    let (mut copy, _) = ApiToken::generate(zed.id, "copy", None);
    copy.token_hash = token.token_hash.clone();
    assert!(is_conflict(s.write(&system(), Op::CreateToken(copy)).await));
    assert_eq!(s.counts().await.unwrap().users, 4);
}

async fn sessions(s: &dyn Store, _db: &Db) {
    let u = new_user(s, "desk", Role::DeskOfficer).await;
    let audited = audit_count(s).await;
    let now = time::now();
    let live = WebSession {
        id_hash: token_hash("cookie-1"),
        user_id: u.id,
        csrf_token: "csrf-1".into(),
        created_at: now,
        expires_at: now + Duration::hours(8),
    };
    let expired = WebSession {
        id_hash: token_hash("cookie-2"),
        expires_at: now - Duration::seconds(1),
        created_at: now - Duration::hours(9),
        ..live.clone()
    };
    s.write(&u.actor(), Op::CreateSession(live.clone()))
        .await
        .unwrap();
    s.write(&u.actor(), Op::CreateSession(expired.clone()))
        .await
        .unwrap();
    assert_eq!(s.get_session(&live.id_hash).await.unwrap(), live);
    assert!(
        is_not_found(s.get_session(&expired.id_hash).await),
        "expired sessions are not served"
    );
    assert!(is_not_found(s.get_session(&token_hash("cookie-3")).await));
    assert!(is_conflict(
        s.write(&u.actor(), Op::CreateSession(live.clone())).await
    ));

    s.write(&u.actor(), Op::DeleteSession(live.id_hash.clone()))
        .await
        .unwrap();
    assert!(is_not_found(s.get_session(&live.id_hash).await));
    s.write(&u.actor(), Op::DeleteSession(live.id_hash.clone()))
        .await
        .unwrap();
    assert_eq!(audit_count(s).await, audited, "sessions are not audited");
}

async fn audit_records_every_write(s: &dyn Store, _db: &Db) {
    assert_eq!(
        s.verify_audit().await.unwrap(),
        Ok(0),
        "an empty chain verifies"
    );
    let admin = new_user(s, "root", Role::Admin).await;
    let me = admin.actor();
    let r = s.create_report(&me, report("x", Tlp::Green)).await.unwrap();
    let i = s.create_incident(&me, incident()).await.unwrap();
    s.update_incident(
        &me,
        i.id,
        IncidentPatch {
            fatalities: Some(4),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let src = new_source(s, "M-1", Tlp::Amber).await;
    let sit = Situation::parse(tocsin_domain::NewSituation {
        name: "Watch".into(),
        country: "MLI".into(),
        admin1: None,
        status: None,
        description: None,
        tlp: None,
    })
    .unwrap();
    let sit = s.create_situation(&me, sit).await.unwrap();
    let (token, _) = ApiToken::generate(admin.id, "cli", None);
    s.write(&me, Op::CreateToken(token.clone())).await.unwrap();
    let detail = serde_json::json!({"ip": "127.0.0.1", "note": "ünïcødé \"quoted\" \\ 🚨", "n": [1, 2.5, null]});
    s.audit(
        AuditEvent::new(&me, "login.success", "user", Some(admin.id.to_string()))
            .with_detail(detail.clone()),
    )
    .await
    .unwrap();
    // Not audited: meta, sessions.
    s.write(&me, Op::SetMeta("demo_seeded".into(), "1".into()))
        .await
        .unwrap();

    let entries = s.audit_entries(0, 1000).await.unwrap();
    let got: Vec<(i64, &str, &str, Option<String>)> = entries
        .iter()
        .map(|e| {
            (
                e.seq,
                e.action.as_str(),
                e.record_type.as_str(),
                e.record_id.clone(),
            )
        })
        .collect();
    let some = |id: Uuid| Some(id.to_string());
    assert_eq!(
        got,
        vec![
            (1, "user.create", "user", some(admin.id)),
            (2, "report.create", "report", some(r.id)),
            (3, "incident.create", "incident", some(i.id)),
            (4, "incident.update", "incident", some(i.id)),
            (5, "source.create", "source", some(src.id)),
            (6, "situation.create", "situation", some(sit.id)),
            (7, "token.create", "user", some(admin.id)),
            (8, "login.success", "user", some(admin.id)),
        ]
    );
    assert_eq!(entries[0].actor_name, "system:story");
    assert!(entries[1..]
        .iter()
        .filter(|e| e.action != "source.create")
        .all(|e| e.actor_id == Some(admin.id)));
    let report_detail: serde_json::Value = serde_json::from_str(&entries[1].detail).unwrap();
    assert_eq!(
        report_detail,
        serde_json::json!({"channel": "api", "tlp": "TLP:GREEN"})
    );
    assert_eq!(
        entries[7].detail,
        detail.to_string(),
        "detail is kept byte-exact"
    );
    assert!(entries
        .windows(2)
        .all(|w| w[1].prev_hash == w[0].hash && w[0].at <= w[1].at));
    assert_eq!(s.verify_audit().await.unwrap(), Ok(8));
    // Paging through the log.
    let mid: Vec<i64> = s
        .audit_entries(2, 3)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(mid, [3, 4, 5]);
    assert!(s.audit_entries(8, 10).await.unwrap().is_empty());
}

async fn audit_tampering_is_detected(s: &dyn Store, db: &Db) {
    for n in 0..5 {
        s.create_report(&system(), report(&format!("r{n}"), Tlp::Clear))
            .await
            .unwrap();
    }
    assert_eq!(s.verify_audit().await.unwrap(), Ok(5));
    let mut raw = db.raw().await;
    assert!(raw
        .exec("UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 3")
        .await
        .is_err());
    // Someone with database access removes the guard and edits history.
    raw.drop_trigger("audit_append_only", "audit_log").await;
    assert_eq!(
        raw.exec("UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 3")
            .await,
        Ok(1)
    );
    let broken = s.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 3, "{broken}");
    assert!(broken.reason.contains("hash"), "{broken}");
    // Re-sealing the edited entry does not help: the next one no longer follows it.
    raw.exec("UPDATE audit_log SET hash = 'f00d' WHERE seq = 3")
        .await
        .unwrap();
    assert_eq!(s.verify_audit().await.unwrap().unwrap_err().seq, 3);
}

async fn concurrent_writes_keep_one_chain(s: &dyn Store, db: &Db) {
    let tasks: Vec<_> = (0..20)
        .map(|t| {
            let store = db.store.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in 0..10 {
                    let r = report(&format!("task {t} report {n}"), Tlp::Amber);
                    ids.push(store.create_report(&system(), r).await.unwrap().id);
                }
                ids
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for t in tasks {
        ids.extend(t.await.unwrap());
    }
    assert_eq!(ids.len(), 200);
    assert_eq!(s.counts().await.unwrap().reports, 200);
    assert_eq!(s.verify_audit().await.unwrap(), Ok(200), "one linear chain");
    let entries = s.audit_entries(0, 1000).await.unwrap();
    let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    let audited: HashSet<Uuid> = entries
        .iter()
        .map(|e| Uuid::parse_str(e.record_id.as_deref().unwrap()).unwrap())
        .collect();
    assert_eq!(audited, ids, "each report audited exactly once");
    let listed = s
        .list_reports(&all_reports(), first_page(500))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 200);
}

async fn a_failing_write_does_not_affect_others(s: &dyn Store, db: &Db) {
    new_user(s, "dup", Role::Viewer).await;
    let inc = s.create_incident(&system(), incident()).await.unwrap();
    let mut tasks = Vec::new();
    for n in 0..60 {
        let store = db.store.clone();
        let inc_id = inc.id;
        tasks.push(tokio::spawn(async move {
            let r = match n % 6 {
                // A duplicate username among good writes.
                0 => store
                    .create_user(
                        &system(),
                        NewUser::build("dup", Role::Viewer, None).unwrap(),
                    )
                    .await
                    .map(|_| ()),
                // An invalid incident patch.
                1 => store
                    .update_incident(
                        &system(),
                        inc_id,
                        IncidentPatch {
                            longitude: Some(500.0),
                            ..Default::default()
                        },
                    )
                    .await
                    .map(|_| ()),
                2 => store
                    .create_user(
                        &system(),
                        NewUser::build(&format!("user{n}"), Role::Viewer, None).unwrap(),
                    )
                    .await
                    .map(|_| ()),
                _ => store
                    .create_report(&system(), report(&format!("good {n}"), Tlp::Green))
                    .await
                    .map(|_| ()),
            };
            (n % 6, r)
        }));
    }
    let (mut conflicts, mut refused, mut ok) = (0, 0, 0);
    for t in tasks {
        match t.await.unwrap() {
            (0, r) => {
                assert!(is_conflict(r));
                conflicts += 1;
            }
            (1, r) => {
                assert!(matches!(r, Err(StoreError::Domain(_))), "{r:?}");
                refused += 1;
            }
            (_, r) => {
                r.unwrap();
                ok += 1;
            }
        }
    }
    assert_eq!((conflicts, refused, ok), (10, 10, 40));
    let c = s.counts().await.unwrap();
    assert_eq!((c.reports, c.users, c.incidents), (30, 11, 1));
    assert_eq!(
        s.get_incident(inc.id).await.unwrap(),
        inc,
        "the refused patches changed nothing"
    );
    assert_eq!(s.verify_audit().await.unwrap(), Ok(1 + 1 + 40));
}

async fn two_handles_share_one_chain(s: &dyn Store, db: &Db) {
    // A second store on the same database, as a CLI run beside the server would open one.
    let other = db.open_another().await;
    let a = s
        .create_report(&system(), report("from the first", Tlp::Clear))
        .await
        .unwrap();
    let b = other
        .create_report(&system(), report("from the second", Tlp::Clear))
        .await
        .unwrap();
    let c = s
        .create_report(&system(), report("first again", Tlp::Clear))
        .await
        .unwrap();
    assert_eq!(other.get_report(a.id).await.unwrap(), a);
    assert_eq!(s.get_report(b.id).await.unwrap(), b);
    assert_eq!(other.get_report(c.id).await.unwrap(), c);
    assert_eq!(s.verify_audit().await.unwrap(), Ok(3));

    let mut tasks = Vec::new();
    for n in 0..20 {
        let store = if n % 2 == 0 {
            db.store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            for k in 0..5 {
                store
                    .create_report(&system(), report(&format!("{n}/{k}"), Tlp::Clear))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(s.counts().await.unwrap().reports, 103);
    assert_eq!(other.verify_audit().await.unwrap(), Ok(103));
}

async fn reopen_keeps_data_and_chain(s: &dyn Store, db: &Db) {
    let u = new_user(s, "keeper", Role::Analyst).await;
    let r = s
        .create_report(&system(), report("kept", Tlp::Amber))
        .await
        .unwrap();
    s.write(&system(), Op::SetMeta("k".into(), "v".into()))
        .await
        .unwrap();
    let again = db.open_another().await;
    again.migrate().await.unwrap();
    assert_eq!(again.get_user(u.id).await.unwrap(), u);
    assert_eq!(again.get_report(r.id).await.unwrap(), r);
    assert_eq!(again.get_meta("k").await.unwrap().as_deref(), Some("v"));
    again
        .create_report(&system(), report("after reopening", Tlp::Amber))
        .await
        .unwrap();
    assert_eq!(
        again.verify_audit().await.unwrap(),
        Ok(3),
        "the chain continues where it was"
    );
}

async fn meta_and_counts(s: &dyn Store, _db: &Db) {
    assert_eq!(s.counts().await.unwrap(), Counts::default());
    assert_eq!(s.get_meta("demo_seeded").await.unwrap(), None);
    s.write(&system(), Op::SetMeta("demo_seeded".into(), "no".into()))
        .await
        .unwrap();
    assert_eq!(
        s.get_meta("demo_seeded").await.unwrap().as_deref(),
        Some("no")
    );
    s.write(
        &system(),
        Op::SetMeta("demo_seeded".into(), "2025-06-01 ✓".into()),
    )
    .await
    .unwrap();
    assert_eq!(
        s.get_meta("demo_seeded").await.unwrap().as_deref(),
        Some("2025-06-01 ✓")
    );
    assert_eq!(s.get_meta("other").await.unwrap(), None);
    assert_eq!(audit_count(s).await, 0, "meta is not audited");

    new_user(s, "u1", Role::Viewer).await;
    new_user(s, "u2", Role::Viewer).await;
    new_source(s, "S-1", Tlp::Clear).await;
    for n in 0..3 {
        s.create_report(&system(), report(&format!("r{n}"), Tlp::Red))
            .await
            .unwrap();
    }
    for _ in 0..4 {
        s.create_incident(&system(), incident()).await.unwrap();
    }
    new_situation(s, "Sahel", "BFA", Tlp::Red).await;
    assert_eq!(
        s.counts().await.unwrap(),
        Counts {
            reports: 3,
            incidents: 4,
            sources: 1,
            situations: 1,
            users: 2
        },
        "counts ignore clearance: they are totals"
    );
}

/// Imported incidents are keyed by (dataset, external id): a re-import updates, never duplicates,
/// and keeps what analysts set in Tocsin.
async fn imports_upsert_by_provenance(s: &dyn Store, _db: &Db) {
    let row = |ext: &str, fatalities: i64| {
        let mut i = incident();
        i.dataset = Some("ucdp-ged".into());
        i.external_id = Some(ext.into());
        i.fatalities = fatalities;
        i.violence_type = Some(3);
        i
    };
    let first: Vec<Incident> = (0..1200).map(|n| row(&format!("e{n}"), 1)).collect();
    assert_eq!(
        s.import_incidents(&system(), "ucdp-ged", first)
            .await
            .unwrap(),
        (1200, 0)
    );
    // An analyst verifies one imported event and relabels it.
    let all = all_incidents();
    let page = s.list_incidents(&all, first_page(500)).await.unwrap();
    let target = page
        .items
        .iter()
        .find(|i| i.external_id.as_deref() == Some("e1199"))
        .cloned()
        .unwrap();
    s.update_incident(
        &system(),
        target.id,
        IncidentPatch {
            verification_status: Some(VerificationStatus::Verified),
            tlp: Some(Tlp::Amber),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // Re-import: 1200 existing rows (one listed twice, the last copy wins) plus 10 new ones.
    let mut again: Vec<Incident> = (0..1210).map(|n| row(&format!("e{n}"), 5)).collect();
    again.push(row("e1199", 9));
    assert_eq!(
        s.import_incidents(&system(), "ucdp-ged", again)
            .await
            .unwrap(),
        (10, 1200)
    );
    assert_eq!(s.counts().await.unwrap().incidents, 1210);
    let after = s.get_incident(target.id).await.unwrap();
    assert_eq!(after.fatalities, 9, "the dataset's fields are replaced");
    assert_eq!(
        after.verification_status,
        VerificationStatus::Verified,
        "Tocsin's fields are kept"
    );
    assert_eq!(after.tlp, Tlp::Amber);
    assert_eq!(after.violence_type, Some(3));
    assert_eq!(after.version, 3);
    assert_eq!(after.created_at, target.created_at);
    // The same external id in another dataset is another incident.
    assert_eq!(
        s.import_incidents(
            &system(),
            "acled",
            vec![{
                let mut i = row("e1", 1);
                i.dataset = Some("acled".into());
                i
            }]
        )
        .await
        .unwrap(),
        (1, 0)
    );
    // A row without provenance refuses the whole batch.
    let mut bad = vec![row("z1", 1), row("z2", 1)];
    bad[1].external_id = None;
    let before = s.counts().await.unwrap();
    assert!(matches!(
        s.import_incidents(&system(), "ucdp-ged", bad).await,
        Err(StoreError::Domain(_))
    ));
    assert_eq!(s.counts().await.unwrap(), before);
    let audit = last_audit(s).await;
    assert_eq!(audit.action, "incident.import");
}

/// An imported row of `dataset`.
fn imported(dataset: &str, ext: &str, fatalities: i64) -> Incident {
    let mut i = incident();
    i.dataset = Some(dataset.into());
    i.external_id = Some(ext.into());
    i.fatalities = fatalities;
    i
}

/// Rows of `dataset` for a streamed import.
fn rows_of(dataset: &str, incidents: Vec<Incident>) -> ImportChunk {
    ImportChunk::Rows {
        dataset: dataset.into(),
        incidents,
    }
}

/// A stream of import messages, all queued up front.
fn chunks(messages: Vec<ImportChunk>) -> tokio::sync::mpsc::Receiver<ImportChunk> {
    let (tx, rx) = tokio::sync::mpsc::channel(messages.len() + 1);
    for m in messages {
        tx.try_send(m).unwrap();
    }
    rx
}

/// Every incident the store holds, by external id (through the streamed read).
async fn by_external_id(s: &dyn Store) -> std::collections::HashMap<String, Incident> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let all = all_incidents();
    let (n, got) = tokio::join!(s.scan_incidents(&all, tx), async {
        let mut got = Vec::new();
        while let Some(c) = rx.recv().await {
            got.extend(c);
        }
        got
    });
    assert_eq!(n.unwrap(), got.len() as u64);
    got.into_iter()
        .filter_map(|i| Some((i.external_id.clone()?, i)))
        .collect()
}

/// A streamed import is one transaction: upserts by provenance across its batches, one audit
/// entry saying what landed, and nothing at all when the stream is cut short or a batch is bad.
async fn streamed_imports_are_all_or_nothing(s: &dyn Store, db: &Db) {
    let rows = |range: std::ops::Range<u32>, fatalities: i64| -> Vec<Incident> {
        range
            .map(|n| imported("acled", &format!("A{n}"), fatalities))
            .collect()
    };
    // A repeated external id in a later batch updates the incident its first copy created.
    let mut second = rows(3000..6000, 1);
    second.push(imported("acled", "A0", 2));
    let before = audit_count(s).await;
    let done = s
        .import_stream(
            &system(),
            chunks(vec![
                rows_of("acled", rows(0..3000, 1)),
                rows_of("acled", second),
                ImportChunk::End,
            ]),
        )
        .await
        .unwrap();
    assert_eq!(done, (6000, 1));
    assert_eq!(s.counts().await.unwrap().incidents, 6000);
    let all = by_external_id(s).await;
    assert_eq!(all.len(), 6000);
    assert_eq!(all["A0"].fatalities, 2, "the last copy wins");
    assert_eq!(
        audit_count(s).await,
        before + 1,
        "one audit entry per import"
    );
    let audit = last_audit(s).await;
    assert_eq!(audit.action, "incident.import");
    let detail: serde_json::Value = serde_json::from_str(&audit.detail).unwrap();
    assert_eq!(
        detail,
        serde_json::json!({"datasets": ["acled"], "rows": 6001, "inserted": 6000, "updated": 1})
    );

    // An analyst's changes survive a re-import, which updates and never duplicates.
    let target = all["A5"].clone();
    s.update_incident(
        &system(),
        target.id,
        IncidentPatch {
            verification_status: Some(VerificationStatus::Verified),
            tlp: Some(Tlp::Red),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let done = s
        .import_stream(
            &system(),
            chunks(vec![
                rows_of("acled", rows(0..4000, 5)),
                rows_of("acled", rows(4000..6010, 5)),
                ImportChunk::End,
            ]),
        )
        .await
        .unwrap();
    assert_eq!(done, (10, 6000));
    assert_eq!(s.counts().await.unwrap().incidents, 6010);
    let after = s.get_incident(target.id).await.unwrap();
    assert_eq!(after.fatalities, 5, "the dataset's fields are replaced");
    assert_eq!(after.verification_status, VerificationStatus::Verified);
    assert_eq!(after.tlp, Tlp::Red, "Tocsin's fields are kept");
    assert_eq!(after.created_at, target.created_at);
    assert_eq!(after.version, 3);

    // Cut short (the reader stopped without saying End), or a bad batch after good ones:
    // nothing changes, not even the audit trail.
    let counts = s.counts().await.unwrap();
    let audits = audit_count(s).await;
    let cut = s
        .import_stream(
            &system(),
            chunks(vec![rows_of("acled", rows(7000..9000, 1))]),
        )
        .await;
    assert!(matches!(cut, Err(StoreError::Backend(_))), "{cut:?}");
    let mut bad = rows(9000..9010, 1);
    bad[3].external_id = None;
    let refused = s
        .import_stream(
            &system(),
            chunks(vec![
                rows_of("acled", rows(7000..9000, 1)),
                rows_of("acled", bad),
                ImportChunk::End,
            ]),
        )
        .await;
    assert!(matches!(refused, Err(StoreError::Domain(_))), "{refused:?}");
    // Rows of another dataset than their batch says are refused too.
    let refused = s
        .import_stream(
            &system(),
            chunks(vec![
                rows_of("acled", rows(7000..7100, 1)),
                rows_of("ucdp-ged", rows(7100..7101, 1)),
                ImportChunk::End,
            ]),
        )
        .await;
    assert!(matches!(refused, Err(StoreError::Domain(_))), "{refused:?}");
    // A new dataset (its rows go in as plain inserts on SQLite) that names a situation that
    // does not exist, or reuses the id of an incident already stored: refused, nothing kept.
    let fresh = |range: std::ops::Range<u32>| -> Vec<Incident> {
        range
            .map(|n| imported("gdelt", &format!("G{n}"), 1))
            .collect()
    };
    let mut orphan = fresh(300..600);
    orphan[200].situation_id = Some(Uuid::now_v7());
    let refused = s
        .import_stream(
            &system(),
            chunks(vec![
                rows_of("gdelt", fresh(0..300)),
                rows_of("gdelt", orphan),
                ImportChunk::End,
            ]),
        )
        .await;
    assert!(refused.is_err(), "{refused:?}");
    let mut clash = fresh(300..600);
    clash[5].id = all["A1"].id;
    let refused = s
        .import_stream(
            &system(),
            chunks(vec![
                rows_of("gdelt", fresh(0..300)),
                rows_of("gdelt", clash),
                ImportChunk::End,
            ]),
        )
        .await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(s.counts().await.unwrap(), counts);
    assert_eq!(audit_count(s).await, audits);
    assert_eq!(by_external_id(s).await.len(), 6010);
    assert_eq!(
        s.get_incident(all["A1"].id)
            .await
            .unwrap()
            .external_id
            .as_deref(),
        Some("A1")
    );

    // Other writes made while an import runs wait for it and land; the chain stays whole.
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let store = db.store.clone();
    let import = tokio::spawn(async move { store.import_stream(&system(), rx).await });
    tx.send(rows_of("acled", rows(10_000..10_100, 1)))
        .await
        .unwrap();
    let store = db.store.clone();
    let other = tokio::spawn(async move { store.create_incident(&system(), incident()).await });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    tx.send(ImportChunk::End).await.unwrap();
    assert_eq!(import.await.unwrap().unwrap(), (100, 0));
    other.await.unwrap().unwrap();
    assert_eq!(s.counts().await.unwrap().incidents, 6010 + 100 + 1);
    assert_eq!(audit_count(s).await, audits + 2);
}

/// A streamed import stores every field as given: each optional field set on one row and
/// empty on another, text with quotes and non-ASCII letters, a situation and report links.
async fn streamed_import_keeps_every_field(s: &dyn Store, _db: &Db) {
    let sit = new_situation(s, "Ouaka", "CAF", Tlp::Green).await;
    let r1 = s
        .create_report(&system(), report("f1", Tlp::Amber))
        .await
        .unwrap();
    let full = Incident::parse(IncidentInput {
        admin1: Some("Ouaka".into()),
        admin2: Some("Bambari".into()),
        location: Some("Ngakobo \"PK 60\"".into()),
        actor1: Some("Groupe armé l'Unité".into()),
        actor2: Some("Civils (Peuls)".into()),
        targeted_group: Some("civilians".into()),
        fatalities_low: Some(4),
        fatalities_high: Some(15),
        credibility: Some(2),
        date_precision: Some(2),
        geo_precision: Some(3),
        situation_id: Some(sit.id),
        report_ids: Some(vec![r1.id]),
        dataset: Some("fields".into()),
        external_id: Some("F-full".into()),
        violence_type: Some(3),
        verification_status: Some(VerificationStatus::Verified),
        description: "Attaque à l'aube; «12 tués», selon \"MINUSCA\"".into(),
        latitude: 5.763_214_7,
        longitude: 20.673_902_1,
        tlp: Tlp::Red,
        ..incident_input()
    })
    .unwrap();
    let bare = Incident::parse(IncidentInput {
        dataset: Some("fields".into()),
        external_id: Some("F-bare".into()),
        fatalities: 0,
        tlp: Tlp::Clear,
        ..incident_input()
    })
    .unwrap();
    // Among other rows, so that SQLite writes `full` in a many-row statement and `bare` in
    // the single-row statements of a batch's remainder.
    let mut rows: Vec<Incident> = (0..200)
        .map(|k| imported("fields", &format!("pad{k}"), 1))
        .collect();
    rows.insert(3, full.clone());
    rows.insert(150, bare.clone());
    assert_eq!(
        s.import_stream(
            &system(),
            chunks(vec![rows_of("fields", rows), ImportChunk::End])
        )
        .await
        .unwrap(),
        (202, 0)
    );
    for want in [&full, &bare] {
        assert_eq!(&s.get_incident(want.id).await.unwrap(), want);
    }
}

/// A large import (many batches, many-row and single-row statements): afterwards the incidents'
/// indexes are the same and intact, and queries answer as the rows say.
async fn large_streamed_import_keeps_indexes_and_queries_right(s: &dyn Store, db: &Db) {
    let index_names = |raw: Raw| async move {
        match raw {
            Raw::Sqlite(mut c) => {
                let names: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'index' \
                     AND tbl_name = 'incidents' ORDER BY name",
                )
                .fetch_all(&mut c)
                .await
                .unwrap();
                let check: String = sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_one(&mut c)
                    .await
                    .unwrap();
                assert_eq!(check, "ok");
                names
            }
            Raw::Postgres(_) => vec![],
        }
    };
    let indexes = index_names(db.raw().await).await;
    let countries = ["CAF", "SSD", "MLI"];
    let n = 60_000u32;
    let rows: Vec<Incident> = (0..n)
        .map(|k| {
            let mut i = imported("big", &format!("B{k}"), i64::from(k % 7));
            i.country = country(countries[(k % 3) as usize]);
            i.event_date = date(2020, 1, 1) + Duration::days(i64::from(k % 1000));
            i.longitude = f64::from(k % 360) - 180.0;
            i
        })
        .collect();
    let mut messages: Vec<ImportChunk> = rows
        .chunks(tocsin_store::MAX_IMPORT_BATCH)
        .map(|c| rows_of("big", c.to_vec()))
        .collect();
    messages.push(ImportChunk::End);
    assert_eq!(
        s.import_stream(&system(), chunks(messages)).await.unwrap(),
        (u64::from(n), 0)
    );
    assert_eq!(index_names(db.raw().await).await, indexes);
    // Queries through each index answer as the rows say.
    let mali_2020 = IncidentFilter {
        country: Some(country("MLI")),
        from: Some(date(2020, 1, 1)),
        to: Some(date(2020, 12, 31)),
        ..all_incidents()
    };
    let expected = rows
        .iter()
        .filter(|i| i.country.code() == "MLI" && i.event_date.year() == 2020)
        .count();
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let (n_scanned, mut got) = tokio::join!(s.scan_incidents(&mali_2020, tx), async {
        let mut got = 0;
        while let Some(c) = rx.recv().await {
            got += c.len();
        }
        got
    });
    assert_eq!(n_scanned.unwrap() as usize, expected);
    assert_eq!(got, expected);
    got = 0;
    let mut page = first_page(500);
    loop {
        let p = s.list_incidents(&mali_2020, page).await.unwrap();
        got += p.items.len();
        match p.next_cursor {
            Some(c) => page = next(&c, 500),
            None => break,
        }
    }
    assert_eq!(got, expected);
    let west = IncidentFilter {
        bbox: Some(BBox {
            min_lon: -180.0,
            min_lat: -90.0,
            max_lon: -179.5,
            max_lat: 90.0,
        }),
        ..all_incidents()
    };
    let expected = rows.iter().filter(|i| i.longitude <= -179.5).count();
    let p = s.list_incidents(&west, first_page(500)).await.unwrap();
    assert!(p.next_cursor.is_none());
    assert_eq!(p.items.len(), expected);
    // The map index loads through the (updated_at, id) index.
    let points = s.map_points(None, 100_000).await.unwrap();
    assert_eq!(points.len(), n as usize);
    assert_eq!(audit_count(s).await, 1);
}

/// The streamed read behind exports: every incident up to the clearance, each once, filters
/// applied, and a receiver that goes away ends it without error.
async fn scan_reads_every_visible_incident_once(s: &dyn Store, _db: &Db) {
    let mut want_green = HashSet::new();
    for (k, tlp) in [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::Red]
        .into_iter()
        .cycle()
        .take(2500)
        .enumerate()
    {
        let mut i = incident();
        i.tlp = tlp;
        i.report_ids = if k % 5 == 0 {
            vec![Uuid::now_v7()]
        } else {
            vec![]
        };
        let i = s.create_incident(&system(), i).await.unwrap();
        if tlp <= Tlp::Green {
            want_green.insert(i.id);
        }
    }
    let scan = |f: IncidentFilter| async move {
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let (n, got) = tokio::join!(s.scan_incidents(&f, tx), async {
            let mut got = Vec::new();
            while let Some(c) = rx.recv().await {
                assert!(c.len() <= tocsin_store::SCAN_CHUNK);
                got.extend(c);
            }
            got
        });
        assert_eq!(n.unwrap(), got.len() as u64);
        got
    };
    let green = scan(IncidentFilter {
        max_tlp: Tlp::Green,
        ..Default::default()
    })
    .await;
    let ids: HashSet<Uuid> = green.iter().map(|i| i.id).collect();
    assert_eq!(ids.len(), green.len(), "each once");
    assert_eq!(ids, want_green);
    // Each incident reads back as stored.
    for i in green.iter().step_by(97) {
        assert_eq!(i, &s.get_incident(i.id).await.unwrap());
    }
    assert!(scan(IncidentFilter {
        country: Some(country("SSD")),
        ..all_incidents()
    })
    .await
    .is_empty());
    assert_eq!(
        scan(IncidentFilter {
            tlp: Some(Tlp::Red),
            ..all_incidents()
        })
        .await
        .len(),
        625
    );
    // The receiver goes away after one chunk: the scan stops, without error.
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let all = all_incidents();
    let (n, _) = tokio::join!(s.scan_incidents(&all, tx), async move {
        rx.recv().await.unwrap();
        drop(rx);
    });
    assert!(n.unwrap() < 2500);
}

fn inbound(
    phone_hash: &str,
    text: &str,
    provider_id: Option<&str>,
    ack: bool,
) -> tocsin_domain::InboundSms {
    let key = ContactKey::generate();
    let mut r = report(text, Tlp::AmberStrict);
    r.channel = Channel::Sms;
    r.provider_key = provider_id.map(str::to_string);
    r.meta.language = Some("fr".into());
    r.meta.category = Some("attack".into());
    let new_source_id = Uuid::new_v4();
    tocsin_domain::InboundSms {
        phone_hash: phone_hash.into(),
        new_source_id,
        sealed_contact: SourceContact {
            chat: None,
            phone: Some("+23670000001".into()),
            ..Default::default()
        }
        .seal(&key, new_source_id),
        new_handle: format!("M-{}", &phone_hash[..6]),
        report: r,
        dedupe_window_secs: 600,
        ack: ack.then(|| tocsin_domain::Ack {
            gateway: "kannel".to_string(),
            text: "Merci. Référence R-ABC123.".to_string(),
            sender: Some("1234".into()),
            not_sent: None,
        }),
        claim: None,
        count_as: Some("kannel".into()),
    }
}

/// Gateways retry: a message ingested twice is stored once, and acknowledged once; the
/// gateway's counters count each message in the write that stores or recognises it.
async fn sms_ingest_is_idempotent_and_queues_one_ack(s: &dyn Store, _db: &Db) {
    let (r1, dup) = s
        .ingest_sms(
            &system(),
            inbound("aaaaaaaa", "ATTAQUE Bria", Some("kannel:1"), true),
        )
        .await
        .unwrap();
    assert!(!dup);
    assert_eq!(r1.meta.category.as_deref(), Some("attack"));
    let handle = r1.source.clone().unwrap();
    // The same provider id again: nothing new.
    let (again, dup) = s
        .ingest_sms(
            &system(),
            inbound("aaaaaaaa", "ATTAQUE Bria", Some("kannel:1"), true),
        )
        .await
        .unwrap();
    assert!(dup);
    assert_eq!(again.id, r1.id);
    // Without a provider id: same sender and text inside the window is a duplicate…
    let (r2, dup) = s
        .ingest_sms(&system(), inbound("aaaaaaaa", "no id", None, true))
        .await
        .unwrap();
    assert!(!dup);
    let (r2b, dup) = s
        .ingest_sms(&system(), inbound("aaaaaaaa", "no id", None, true))
        .await
        .unwrap();
    assert!(dup && r2b.id == r2.id);
    // …but another sender with the same text is not, and gets a new source.
    let (r3, dup) = s
        .ingest_sms(&system(), inbound("bbbbbbbb", "no id", None, true))
        .await
        .unwrap();
    assert!(!dup);
    assert_ne!(r3.source, r1.source);
    // The same sender keeps one source.
    assert_eq!(r2.source.as_deref(), Some(handle.as_str()));
    let src = s.get_source_by_handle(&handle).await.unwrap();
    assert!(src.has_contact);
    let acks = s.list_outbound(Some(src.id), 100).await.unwrap();
    assert_eq!(
        acks.len(),
        2,
        "one acknowledgement per new report from this sender"
    );
    assert!(acks
        .iter()
        .all(|m| m.status == tocsin_domain::OutboxStatus::Queued && m.gateway == "kannel"));
    assert_eq!(s.counts().await.unwrap().reports, 3);
    let counters = s.channel_counters().await.unwrap();
    let kannel = counters.iter().find(|c| c.name == "kannel").unwrap();
    assert_eq!((kannel.taken, kannel.duplicates, kannel.refused), (3, 2, 0));
    assert!(kannel.last_taken_at.is_some());
    // A report without an ack request queues nothing.
    let before = s.list_outbound(None, 100).await.unwrap().len();
    s.ingest_sms(
        &system(),
        inbound("cccccccc", "quiet", Some("twilio:SM1"), false),
    )
    .await
    .unwrap();
    assert_eq!(s.list_outbound(None, 100).await.unwrap().len(), before);
}

async fn outbox_claims_settles_and_retries(s: &dyn Store, _db: &Db) {
    use tocsin_domain::OutboxStatus::*;
    use tocsin_store::SendOutcome;
    s.ingest_sms(&system(), inbound("dddddddd", "one", Some("k:1"), true))
        .await
        .unwrap();
    let mut polled = inbound("eeeeeeee", "two", Some("k:2"), true);
    polled.ack = Some(tocsin_domain::Ack {
        gateway: "smssync".into(),
        text: "ack".into(),
        sender: None,
        not_sent: None,
    });
    s.ingest_sms(&system(), polled).await.unwrap();
    // Pushed gateways: the kannel message only; the SMSSync one waits for its poll.
    let claimed = s.claim_outbound(None, 10, 60).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!((claimed[0].status, claimed[0].attempts), (Sending, 1));
    assert!(
        s.claim_outbound(None, 10, 60).await.unwrap().is_empty(),
        "a claimed message is not handed out twice"
    );
    let polled = s.claim_outbound(Some("smssync"), 10, 60).await.unwrap();
    assert_eq!(polled.len(), 1);
    // Sent, then delivered by report.
    s.write(
        &system(),
        Op::SettleOutbound {
            id: claimed[0].id,
            outcome: SendOutcome::Sent(Some("gw-77".into())),
        },
    )
    .await
    .unwrap();
    assert_eq!(s.get_outbound(claimed[0].id).await.unwrap().status, Sent);
    s.write(
        &system(),
        Op::DeliveryReport {
            gateway: "kannel".into(),
            provider_key: "gw-77".into(),
            message_id: None,
            delivered: true,
        },
    )
    .await
    .unwrap();
    let m = s.get_outbound(claimed[0].id).await.unwrap();
    assert_eq!(
        (m.status, m.provider_key.as_deref(), m.sender.as_deref()),
        (Delivered, Some("gw-77"), Some("1234")),
        "delivered; the reply goes out from the number the warner wrote to"
    );
    // A passing failure goes back to the queue with back-off; a lasting one fails.
    s.write(
        &system(),
        Op::SettleOutbound {
            id: polled[0].id,
            outcome: SendOutcome::Retry("timeout".into()),
        },
    )
    .await
    .unwrap();
    let m = s.get_outbound(polled[0].id).await.unwrap();
    assert_eq!(
        (m.status, m.last_error.as_deref()),
        (Queued, Some("timeout"))
    );
    assert!(
        m.next_attempt_at > tocsin_domain::time::now(),
        "retry waits"
    );
    assert!(s
        .claim_outbound(Some("smssync"), 10, 60)
        .await
        .unwrap()
        .is_empty());
    s.write(
        &system(),
        Op::SettleOutbound {
            id: polled[0].id,
            outcome: SendOutcome::Failed("refused".into()),
        },
    )
    .await
    .unwrap();
    assert_eq!(s.get_outbound(polled[0].id).await.unwrap().status, Failed);
    // A delivery report that overtakes the send's own record (Kannel calls its dlr-url with our
    // id at once) is kept: recording the send afterwards does not downgrade it.
    s.ingest_sms(&system(), inbound("abababab", "fast", Some("k:9"), true))
        .await
        .unwrap();
    let fast = s.claim_outbound(None, 10, 60).await.unwrap();
    assert_eq!(fast.len(), 1);
    let dlr = Op::DeliveryReport {
        gateway: "kannel".into(),
        provider_key: "not yet known".into(),
        message_id: Some(fast[0].id),
        delivered: true,
    };
    s.write(&system(), dlr).await.unwrap();
    s.write(
        &system(),
        Op::SettleOutbound {
            id: fast[0].id,
            outcome: SendOutcome::Sent(Some(fast[0].id.to_string())),
        },
    )
    .await
    .unwrap();
    assert_eq!(s.get_outbound(fast[0].id).await.unwrap().status, Delivered);
    // A claim that lapses (the sender died mid-send) is handed out again, never lost.
    s.ingest_sms(&system(), inbound("ffffffff", "three", Some("k:3"), true))
        .await
        .unwrap();
    let c = s.claim_outbound(None, 10, 0).await.unwrap();
    assert_eq!(c.len(), 1);
    let again = s.claim_outbound(None, 10, 60).await.unwrap();
    assert_eq!(
        (again.len(), again[0].id, again[0].attempts),
        (1, c[0].id, 2)
    );
}

/// On SQLite a second process (a `tocsin import` beside the server) can hold the write lock for
/// longer than the busy timeout: the store's writes wait for it and then land, instead of
/// failing after ten seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writes_wait_out_a_long_lock_held_elsewhere() {
    let db = Db::sqlite().await;
    let Raw::Sqlite(mut other) = db.raw().await else {
        unreachable!("a SQLite database")
    };
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let store = db.store.clone();
    let started = std::time::Instant::now();
    let write = tokio::spawn(async move { store.create_incident(&system(), incident()).await });
    // Longer than the writer's 10 s busy timeout.
    tokio::time::sleep(std::time::Duration::from_secs(12)).await;
    assert!(
        !write.is_finished(),
        "the write cannot land while the lock is held"
    );
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    let done = write.await.unwrap();
    assert!(done.is_ok(), "{done:?}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(12));
    assert_eq!(db.store.counts().await.unwrap().incidents, 1);
}

/// A web-form report is linked to a phone only when that phone texts the report's one-time
/// code, once, before it expires; the link is the only change a report ever takes.
async fn form_codes_link_a_web_report_once(s: &dyn Store, db: &Db) {
    let web = |text: &str| NewReport {
        channel: Channel::Web,
        ..report(text, Tlp::AmberStrict)
    };
    let submit = |r: &NewReport, code: &str, expires: DateTime<Utc>| {
        tocsin_app::sms::form_report_op(
            &system(),
            r.clone(),
            Some(tocsin_domain::FormClaim {
                code_hash: code.into(),
                report_id: r.id,
                ack_text: format!("ack for {}", r.text),
                expires_at: expires,
            }),
            time::now(),
            vec![],
        )
    };
    let live = web("seen from the road");
    s.write(
        &system(),
        submit(&live, "code-live", time::now() + Duration::hours(24)),
    )
    .await
    .unwrap();
    let old = web("seen yesterday");
    s.write(
        &system(),
        submit(&old, "code-old", time::now() - Duration::minutes(1)),
    )
    .await
    .unwrap();
    assert!(s.get_report(live.id).await.unwrap().source.is_none());
    let before = s.counts().await.unwrap().reports;
    let code_sms = |phone: &str, code: &str, pid: &str| {
        let mut m = inbound(phone, "K7Q2-MX4P", Some(pid), true);
        m.claim = Some(code.into());
        m
    };
    // The code arrives from a phone: the web report now names that phone's source, and the
    // acknowledgement queued is the web report's own; the code itself is not a report.
    let (r, dup) = s
        .ingest_sms(&system(), code_sms("11111111", "code-live", "k:c1"))
        .await
        .unwrap();
    assert!(!dup);
    assert_eq!(r.id, live.id);
    let handle = r.source.clone().expect("linked");
    assert_eq!(
        s.get_report(live.id).await.unwrap().source,
        Some(handle.clone())
    );
    assert_eq!(s.counts().await.unwrap().reports, before);
    let src = s.get_source_by_handle(&handle).await.unwrap();
    let out = s.list_outbound(Some(src.id), 10).await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(
        (
            out[0].report_id,
            out[0].text.as_str(),
            out[0].sender.as_deref()
        ),
        (Some(live.id), "ack for seen from the road", Some("1234"))
    );
    // The gateway retries: nothing more.
    let (_, dup) = s
        .ingest_sms(&system(), code_sms("11111111", "code-live", "k:c1"))
        .await
        .unwrap();
    assert!(dup);
    assert_eq!(s.list_outbound(Some(src.id), 10).await.unwrap().len(), 1);
    // Another phone with the same (used) code, or an expired code, or an unknown one: an
    // ordinary report of that phone; the web reports stay as they were.
    for (phone, code, pid) in [
        ("22222222", "code-live", "k:c2"),
        ("33333333", "code-old", "k:c3"),
        ("44444444", "code-unknown", "k:c4"),
    ] {
        let (r, dup) = s
            .ingest_sms(&system(), code_sms(phone, code, pid))
            .await
            .unwrap();
        assert!(!dup && r.id != live.id && r.id != old.id, "{code}");
        assert_eq!(r.text, "K7Q2-MX4P");
    }
    assert_eq!(s.get_report(live.id).await.unwrap().source, Some(handle));
    assert!(s.get_report(old.id).await.unwrap().source.is_none());
    assert_eq!(s.counts().await.unwrap().reports, before + 3);
    // Under the store too: the source link is the one change allowed, once, on web reports.
    let mut raw = db.raw().await;
    let other = s.get_source_by_handle("M-222222").await.unwrap();
    for sql in [
        format!(
            "UPDATE reports SET source_id = '{}' WHERE id = '{}'",
            other.id, live.id
        ),
        format!("UPDATE reports SET text = 'forged' WHERE id = '{}'", old.id),
        format!(
            "UPDATE reports SET source_id = '{}', text = 'forged' WHERE id = '{}'",
            other.id, old.id
        ),
    ] {
        let err = raw.exec(&sql).await.unwrap_err();
        assert!(err.contains("reports are immutable"), "{sql}: {err}");
    }
}

// ---------------------------------------------------------------------------------------------
// Withdrawing credentials: disabling users, replacing passwords, revoking and expiring tokens.
// ---------------------------------------------------------------------------------------------

fn session_of(user: &tocsin_domain::User, cookie: &str) -> WebSession {
    let now = time::now();
    WebSession {
        id_hash: token_hash(cookie),
        user_id: user.id,
        csrf_token: format!("csrf-{cookie}"),
        created_at: now,
        expires_at: now + Duration::hours(8),
    }
}

async fn credentials_can_be_withdrawn(s: &dyn Store, _db: &Db) {
    let sys = system();
    let u = new_user(s, "withdrawn", Role::Analyst).await;
    let other = new_user(s, "bystander", Role::Viewer).await;
    for (who, cookie) in [(&u, "u-1"), (&u, "u-2"), (&other, "o-1")] {
        s.write(&who.actor(), Op::CreateSession(session_of(who, cookie)))
            .await
            .unwrap();
    }

    // Tokens: one without expiry, one expiring in an hour, one that has expired.
    let (forever, forever_secret) = ApiToken::generate(u.id, "forever", None);
    let (hour, hour_secret) = ApiToken::generate(u.id, "hour", Some(Duration::hours(1)));
    let (mut old, old_secret) = ApiToken::generate(u.id, "old", Some(Duration::hours(1)));
    old.created_at -= Duration::hours(3);
    old.expires_at = Some(old.created_at + Duration::hours(1));
    for t in [&forever, &hour, &old] {
        s.write(&sys, Op::CreateToken(t.clone())).await.unwrap();
    }
    assert!(
        last_audit(s).await.detail.contains("expires_at"),
        "token creation records the expiry"
    );
    assert_eq!(
        s.user_for_token(&token_hash(&forever_secret))
            .await
            .unwrap()
            .id,
        u.id
    );
    assert_eq!(
        s.user_for_token(&token_hash(&hour_secret))
            .await
            .unwrap()
            .id,
        u.id
    );
    assert!(
        is_not_found(s.user_for_token(&token_hash(&old_secret)).await),
        "an expired token does not work"
    );
    let listed = s.list_tokens(u.id).await.unwrap();
    assert_eq!(
        listed,
        vec![old.clone(), forever.clone(), hour.clone()],
        "oldest first"
    );
    assert!(s.list_tokens(other.id).await.unwrap().is_empty());

    // Revoking a token stops it for good, and is audited; an unknown id is not found.
    s.write(&sys, Op::RevokeToken(forever.id)).await.unwrap();
    let e = last_audit(s).await;
    assert_eq!(
        (e.action.as_str(), e.record_id.as_deref()),
        ("token.revoke", Some(forever.id.to_string().as_str()))
    );
    assert!(is_not_found(
        s.user_for_token(&token_hash(&forever_secret)).await
    ));
    assert!(s.list_tokens(u.id).await.unwrap()[1].revoked);
    let before = audit_count(s).await;
    assert!(is_not_found(
        s.write(&sys, Op::RevokeToken(Uuid::now_v7())).await
    ));
    assert_eq!(
        audit_count(s).await,
        before,
        "a refused write leaves no audit entry"
    );

    // Disabling ends the user's sessions (not others'), in the same write; enabling does not
    // bring them back.
    s.write(
        &sys,
        tocsin_app::accounts::set_disabled_op(&sys, u.id, true),
    )
    .await
    .unwrap();
    assert_eq!(last_audit(s).await.action, "user.disable");
    assert!(s.get_user(u.id).await.unwrap().disabled);
    assert!(is_not_found(s.get_session(&token_hash("u-1")).await));
    assert!(is_not_found(s.get_session(&token_hash("u-2")).await));
    assert!(s.get_session(&token_hash("o-1")).await.is_ok());
    s.write(
        &sys,
        tocsin_app::accounts::set_disabled_op(&sys, u.id, false),
    )
    .await
    .unwrap();
    assert_eq!(last_audit(s).await.action, "user.enable");
    assert!(!s.get_user(u.id).await.unwrap().disabled);
    assert!(is_not_found(s.get_session(&token_hash("u-1")).await));
    assert!(is_not_found(
        s.write(
            &sys,
            tocsin_app::accounts::set_disabled_op(&sys, Uuid::now_v7(), true)
        )
        .await
    ));

    // A new password replaces the hash and ends the user's sessions; the hash is not audited.
    s.write(&u.actor(), Op::CreateSession(session_of(&u, "u-3")))
        .await
        .unwrap();
    let hash = tocsin_domain::user::hash_password("a brand new passphrase").unwrap();
    s.write(
        &sys,
        tocsin_app::accounts::set_password_op(&sys, u.id, tocsin_store::Redacted(hash.clone())),
    )
    .await
    .unwrap();
    let e = last_audit(s).await;
    assert_eq!(e.action, "user.password");
    assert!(!e.detail.contains(&hash));
    assert!(s
        .get_user(u.id)
        .await
        .unwrap()
        .check_password("a brand new passphrase"));
    assert!(is_not_found(s.get_session(&token_hash("u-3")).await));
    assert!(s.get_session(&token_hash("o-1")).await.is_ok());
}
