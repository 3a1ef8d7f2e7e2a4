//! Triage decisions and the queue on every backend: a decision is stored as given and read
//! back in order; the queue holds the reports no incident links and no closing decision
//! names, within the label asked, with the latest assignee; a second closing decision, a
//! decision on a missing report and any change to a stored decision are refused.

use tocsin_domain::{
    time, Actor, AuditEvent, Channel, Country, DuplicateOf, Incident, IncidentInput, NewReport,
    Tlp, TriageDecision, TriageFilter, TriageKind,
};
use tocsin_store::{Op, Step, Store, StoreError, StoreExt};
use tocsin_store_tests::{story, Db};
use uuid::Uuid;

story!(
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
