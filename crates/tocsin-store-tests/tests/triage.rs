//! Triage decisions and the queue on every backend: a decision is stored as given and read
//! back in order; the queue holds the reports no incident links and no closing decision
//! names, within the label asked, with the latest assignee; a second closing decision, a
//! decision on a missing report and any change to a stored decision are refused.

use std::collections::HashSet;

use tocsin_domain::{
    time, Actor, AssignedFilter, AuditEvent, Channel, ContactKey, Country, DuplicateOf, Incident,
    IncidentInput, NewReport, NewSource, Reliability, ReportMeta, Tlp, TriageDecision,
    TriageFilter, TriageItem, TriageKey, TriageKind, TriageRanking,
};
use tocsin_store::{Op, Step, Store, StoreError, StoreExt};
use tocsin_store_tests::{story, Db};
use uuid::Uuid;

story!(
    the_database_ranks_the_queue_as_the_application_did,
    decisions_shape_the_queue,
    decisions_are_append_only,
    suggestions_are_kept_per_report
);

fn sys() -> Actor {
    Actor::system("triage-test")
}

async fn report(s: &dyn Store, text: &str, tlp: Tlp, country: Option<&str>) -> Uuid {
    let r = NewReport {
        id: tocsin_domain::random_id(),
        channel: Channel::Sms,
        provider_key: None,
        source_id: None,
        text: text.into(),
        tlp,
        latitude: None,
        longitude: None,
        country: country.map(|c| Country::parse(c).unwrap()),
        occurred_at: None,
        received_at: time::now(),
        meta: Default::default(),
    };
    s.create_report(&sys(), r).await.unwrap().id
}

async fn decide(s: &dyn Store, d: TriageDecision) -> tocsin_store::Result<()> {
    s.write(
        &sys(),
        Op::All {
            steps: vec![Step::Triage(Box::new(d))],
            audit: Box::new(AuditEvent::new(&sys(), "report.test", "report", None)),
        },
    )
    .await
    .map(|_| ())
}

fn queue_filter(max_tlp: Tlp) -> TriageFilter {
    TriageFilter {
        max_tlp,
        channel: None,
        country: None,
    }
}

async fn queued(s: &dyn Store, f: &TriageFilter) -> Vec<(Uuid, Option<String>)> {
    s.triage_candidates(f, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.report.id, c.assignee))
        .collect()
}

async fn decisions_shape_the_queue(s: &dyn Store, _db: &Db) {
    let open = report(s, "armed men at the market", Tlp::Amber, Some("CAF")).await;
    let rejected = report(s, "spam", Tlp::Amber, None).await;
    let dup = report(s, "armed men at the market again", Tlp::Amber, None).await;
    let linked = report(s, "houses burned", Tlp::Amber, None).await;
    let red = report(s, "a red report", Tlp::Red, None).await;

    let mut d = TriageDecision::new(rejected, TriageKind::Rejected, "ana");
    d.reason = Some("advertising".into());
    decide(s, d.clone()).await.unwrap();
    let mut dd = TriageDecision::new(dup, TriageKind::Duplicate, "ana");
    dd.duplicate_of = Some(DuplicateOf::Report(open));
    decide(s, dd.clone()).await.unwrap();
    let inc = Incident::parse(IncidentInput {
        event_date: "2025-03-01".into(),
        event_type: "Violence against civilians".into(),
        sub_event_type: "Attack".into(),
        country: "CAF".into(),
        latitude: 6.0,
        longitude: 20.0,
        fatalities: 0,
        description: "burned".into(),
        tlp: Tlp::Amber,
        report_ids: Some(vec![linked]),
        ..Default::default()
    })
    .unwrap();
    let inc = s.create_incident(&sys(), inc).await.unwrap();
    assert_eq!(s.incidents_linking(linked).await.unwrap(), vec![inc.id]);
    assert!(s.incidents_linking(open).await.unwrap().is_empty());

    // Assigned twice: the latest assignee shows; an assignment keeps the report queued.
    let mut a = TriageDecision::new(open, TriageKind::Assigned, "ana");
    a.assignee = Some("bob".into());
    decide(s, a).await.unwrap();
    let mut a = TriageDecision::new(open, TriageKind::Assigned, "bob");
    a.assignee = Some("carla".into());
    decide(s, a).await.unwrap();

    let q = queued(s, &queue_filter(Tlp::Amber)).await;
    assert_eq!(q, vec![(open, Some("carla".into()))]);
    let q = queued(s, &queue_filter(Tlp::Red)).await;
    assert_eq!(q.len(), 2, "the red report shows only at RED: {q:?}");
    assert!(q.iter().any(|(id, _)| *id == red));
    let mut f = queue_filter(Tlp::Red);
    f.country = Some(Country::parse("CAF").unwrap());
    assert_eq!(queued(s, &f).await.len(), 1);
    f.country = None;
    f.channel = Some(Channel::Web);
    assert!(queued(s, &f).await.is_empty());
    // Counted in the database: the same reports, within the label asked.
    assert_eq!(s.triage_count(&f).await.unwrap(), 0);
    assert_eq!(s.triage_count(&queue_filter(Tlp::Amber)).await.unwrap(), 1);
    assert_eq!(s.triage_count(&queue_filter(Tlp::Red)).await.unwrap(), 2);
    f.channel = None;
    f.country = Some(Country::parse("CAF").unwrap());
    assert_eq!(s.triage_count(&f).await.unwrap(), 1);

    // History in order, as written.
    let h = s.triage_decisions(rejected).await.unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].reason.as_deref(), Some("advertising"));
    assert_eq!(h[0].by, "ana");
    assert_eq!(h[0].id, d.id);
    assert_eq!(
        s.triage_decisions(dup).await.unwrap()[0].duplicate_of,
        Some(DuplicateOf::Report(open))
    );
    let h = s.triage_decisions(open).await.unwrap();
    let who: Vec<_> = h.iter().map(|d| d.assignee.clone().unwrap()).collect();
    assert_eq!(who, ["bob", "carla"]);

    // A second closing decision is refused; so is one on a report that does not exist.
    let mut again = TriageDecision::new(rejected, TriageKind::Duplicate, "bob");
    again.duplicate_of = Some(DuplicateOf::Incident(inc.id));
    assert!(matches!(
        decide(s, again).await,
        Err(StoreError::Conflict(_))
    ));
    let mut ghost = TriageDecision::new(Uuid::new_v4(), TriageKind::Rejected, "bob");
    ghost.reason = Some("x".into());
    assert!(matches!(decide(s, ghost).await, Err(StoreError::NotFound)));
    s.verify_audit()
        .await
        .unwrap()
        .expect("audit chain verifies");
}

async fn decisions_are_append_only(s: &dyn Store, db: &Db) {
    let r = report(s, "text", Tlp::Amber, None).await;
    let mut d = TriageDecision::new(r, TriageKind::Rejected, "ana");
    d.reason = Some("noise".into());
    decide(s, d).await.unwrap();
    let mut raw = db.raw().await;
    assert!(raw
        .exec("UPDATE report_triage SET reason = 'changed'")
        .await
        .is_err());
    assert!(raw.exec("DELETE FROM report_triage").await.is_err());
    assert_eq!(
        s.triage_decisions(r).await.unwrap()[0].reason.as_deref(),
        Some("noise")
    );
}

async fn suggestions_are_kept_per_report(s: &dyn Store, _db: &Db) {
    let a = report(s, "armed men at the market", Tlp::Amber, None).await;
    let b = report(s, "houses burned", Tlp::Amber, None).await;
    let keep = |id: Uuid, at: &str, json: &str| tocsin_store::StoredSuggestions {
        report_id: id,
        computed_at: time::parse(at).unwrap(),
        matches: json.into(),
    };
    let ghost = Uuid::new_v4();
    s.write(
        &sys(),
        Op::StoreSuggestions(vec![
            keep(a, "2026-01-01T10:00:00Z", "{\"v\":1}"),
            keep(ghost, "2026-01-01T10:00:00Z", "{}"),
        ]),
    )
    .await
    .unwrap();
    // Replaced, not added; a report that does not exist is skipped; none kept for `b`.
    s.write(
        &sys(),
        Op::StoreSuggestions(vec![keep(a, "2026-01-02T11:30:00.123456Z", "{\"v\":2}")]),
    )
    .await
    .unwrap();
    let got = s.stored_suggestions(&[a, b, ghost]).await.unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].report_id, a);
    assert_eq!(
        time::format(&got[0].computed_at),
        "2026-01-02T11:30:00.123456Z"
    );
    assert_eq!(got[0].matches, "{\"v\":2}");
    // Kept suggestions are derived data: no audit entry, and the chain still verifies.
    s.verify_audit()
        .await
        .unwrap()
        .expect("audit chain verifies");
}

/// The queue ranked and paged in the database (`Triage::triage_page`, followed page by page
/// with the last item's key as the cursor) is the queue the application ranked in memory
/// before (`TriageRanking::rank` over every candidate): same reports, same order, same source
/// handles and grades hidden or shown, for every clearance, with and without the right to see
/// sources, each assignment filter, with and without open alerts, and with a country or
/// channel filter. The set mixes every label on reports and on sources, every grade, anonymous
/// reports, categories written with stray case and spaces, reports received at the same
/// instant, closed, linked and reassigned reports.
async fn the_database_ranks_the_queue_as_the_application_did(s: &dyn Store, _db: &Db) {
    let key = ContactKey::generate();
    let mut sources = Vec::new();
    for (i, grade) in Reliability::ALL.iter().enumerate() {
        let tlp = Tlp::ALL[(i * 2) % Tlp::ALL.len()];
        let ns = NewSource::new(&format!("R-{i:03}"), "monitor", *grade, tlp, None, &key).unwrap();
        sources.push(s.create_source(&sys(), ns).await.unwrap().id);
    }
    let categories = [
        None,
        Some("attack"),
        Some(" Threat "),
        Some("RUMOUR"),
        Some("displacement"),
        Some("sexual_violence"),
        Some("no_such_code"),
        Some("armed_movement"),
        Some("hate_speech\t"),
        Some("looting_burning"),
        Some("abduction"),
    ];
    let base = time::now() - chrono::Duration::days(3);
    let mut ids = Vec::new();
    // A small deterministic generator: the same mix on both backends.
    let mut seed = 0x2545_f491_u64;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) as usize) % n
    };
    for i in 0..90 {
        let tlp = Tlp::ALL[next(Tlp::ALL.len())];
        let source = (next(3) > 0).then(|| sources[next(sources.len())]);
        // Every fifth report shares its instant with the one before: ties broken by id.
        let at = base + chrono::Duration::seconds(i64::from(i - i % 5 / 4) * 37);
        let r = NewReport {
            id: tocsin_domain::random_id(),
            channel: if next(4) == 0 {
                Channel::Web
            } else {
                Channel::Sms
            },
            provider_key: None,
            source_id: source,
            text: format!("report {i}"),
            tlp,
            latitude: None,
            longitude: None,
            country: [Some("CAF"), Some("SSD"), None][next(3)].map(|c| Country::parse(c).unwrap()),
            occurred_at: None,
            received_at: at,
            meta: ReportMeta {
                category: categories[next(categories.len())].map(str::to_string),
                ..Default::default()
            },
        };
        ids.push(s.create_report(&sys(), r).await.unwrap().id);
    }
    // Closed, linked and (re)assigned reports.
    for (n, id) in ids.iter().enumerate() {
        match n % 9 {
            1 => {
                let mut d = TriageDecision::new(*id, TriageKind::Rejected, "ana");
                d.reason = Some("noise".into());
                decide(s, d).await.unwrap();
            }
            2 => {
                let mut d = TriageDecision::new(*id, TriageKind::Duplicate, "ana");
                d.duplicate_of = Some(DuplicateOf::Report(ids[0]));
                decide(s, d).await.unwrap();
            }
            4 | 7 => {
                for who in ["bob", "ana"].iter().take(1 + n % 2) {
                    let mut d = TriageDecision::new(*id, TriageKind::Assigned, "carla");
                    d.assignee = Some(who.to_string());
                    decide(s, d).await.unwrap();
                }
            }
            _ => {}
        }
    }
    let inc = Incident::parse(IncidentInput {
        event_date: "2025-03-01".into(),
        event_type: "Violence against civilians".into(),
        sub_event_type: "Attack".into(),
        country: "CAF".into(),
        latitude: 6.0,
        longitude: 20.0,
        fatalities: 0,
        description: "linked".into(),
        tlp: Tlp::Amber,
        report_ids: Some(vec![ids[3], ids[12]]),
        ..Default::default()
    })
    .unwrap();
    s.create_incident(&sys(), inc).await.unwrap();

    let alerts: HashSet<_> = [0, 5, 6, 10, 11, 30, 31, 47, 60].map(|i| ids[i]).into();
    let filters = [
        (None, None),
        (Some(Country::parse("CAF").unwrap()), None),
        (None, Some(Channel::Web)),
    ];
    let mut compared = 0;
    for max_tlp in Tlp::ALL {
        for sources_shown in [true, false] {
            for assigned in [
                AssignedFilter::Any,
                AssignedFilter::Me,
                AssignedFilter::Nobody,
            ] {
                for open_alert_reports in [HashSet::new(), alerts.clone()] {
                    for (country, channel) in &filters {
                        let ranking = TriageRanking {
                            filter: TriageFilter {
                                max_tlp,
                                channel: *channel,
                                country: country.clone(),
                            },
                            assigned,
                            viewer: "ana".into(),
                            sources_shown,
                            open_alert_reports: open_alert_reports.clone(),
                        };
                        let all = s.triage_candidates(&ranking.filter, 1000).await.unwrap();
                        let expected = ranking.rank(all);
                        let got = ranked_pages(s, &ranking, 7).await;
                        assert_eq!(
                            got, expected,
                            "ranked in the database as in memory for {ranking:?}"
                        );
                        assert_eq!(
                            s.triage_ranked_count(&ranking).await.unwrap(),
                            expected.len() as u64
                        );
                        compared += expected.len();
                    }
                }
            }
        }
    }
    assert!(
        compared > 1000,
        "the mix put reports in the queues: {compared}"
    );
}

/// Every page of the queue ranked in the database, `limit` at a time, as items.
async fn ranked_pages(s: &dyn Store, r: &TriageRanking, limit: u32) -> Vec<TriageItem> {
    let mut out: Vec<TriageItem> = Vec::new();
    let mut after: Option<TriageKey> = None;
    loop {
        let page = s.triage_page(r, after.as_ref(), limit).await.unwrap();
        let n = page.len();
        out.extend(
            page.into_iter()
                .map(|c| r.item(c).expect("kept by the store")),
        );
        if n < limit as usize {
            return out;
        }
        // The cursor as a client sends it back.
        let k = out.last().unwrap().key().encode();
        after = Some(TriageKey::decode(&k).unwrap());
    }
}
