//! Received records on every backend: an incident received from another organisation is
//! stored with its origin in one write, found again by origin and original id, updated in
//! place, and once retracted it is left out of lists, exports and map points while its row and
//! origin stay; the same original id from the same origin cannot land twice; the installation
//! has one id that never changes; a batch larger than one multi-row insert (1,200 incidents
//! and their origins) lands whole in one write, and the same original id in it fails it whole.

use tocsin_domain::{
    time, Actor, AuditEvent, Incident, IncidentFilter, IncidentInput, PageRequest, Received, Tlp,
};
use tocsin_store::{Op, ShareStep, Step, Store, StoreError, VerificationStep};
use tocsin_store_tests::{story, Db};
use uuid::Uuid;

story!(
    a_received_incident_keeps_its_origin,
    a_retracted_incident_leaves_every_view,
    the_same_original_lands_once,
    the_instance_id_is_stable,
    a_large_batch_lands_in_one_write,
    received_items_keep_their_content_and_notes
);

fn sys() -> Actor {
    Actor::system("share-test")
}

fn incident(origin: &str, original: &str, tlp: Tlp) -> Incident {
    let mut i = Incident::parse(IncidentInput {
        event_date: "2025-03-01".into(),
        event_type: "Violence against civilians".into(),
        sub_event_type: "Attack".into(),
        country: "CAF".into(),
        latitude: 5.76,
        longitude: 20.67,
        fatalities: 2,
        description: "Received".into(),
        tlp,
        ..Default::default()
    })
    .unwrap();
    i.dataset = Some(format!("shared:{origin}"));
    i.external_id = Some(original.into());
    i
}

fn received(i: &Incident, origin: &str, original: &str) -> Received {
    Received {
        record_id: i.id,
        kind: "incident".into(),
        origin: origin.into(),
        original_id: original.into(),
        format: "stix".into(),
        modified: time::now(),
        tlp: i.tlp,
        received_at: time::now(),
        retracted_at: None,
    }
}

async fn receive(s: &dyn Store, i: &Incident, r: Received) -> Result<(), StoreError> {
    s.write(
        &sys(),
        Op::All {
            steps: vec![
                Step::Verification(VerificationStep::CreateIncident(Box::new(i.clone()))),
                Step::Share(ShareStep::Receive(Box::new(r))),
            ],
            audit: Box::new(AuditEvent::new(&sys(), "share.receive", "incident", None)),
        },
    )
    .await
    .map(|_| ())
}

async fn a_received_incident_keeps_its_origin(s: &dyn Store, _db: &Db) {
    let i = incident("Partner NGO", "incident--a", Tlp::Green);
    receive(s, &i, received(&i, "Partner NGO", "incident--a"))
        .await
        .unwrap();
    let r = s.received(i.id).await.unwrap().expect("its origin");
    assert_eq!(
        (r.origin.as_str(), r.original_id.as_str(), r.tlp),
        ("Partner NGO", "incident--a", Tlp::Green)
    );
    let found = s
        .received_by_original("Partner NGO", &["incident--a".into(), "incident--b".into()])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found["incident--a"].record_id, i.id);
    assert!(s
        .received_by_original("Another", &["incident--a".into()])
        .await
        .unwrap()
        .is_empty());
    // An incident made here has no origin.
    assert!(s.received(Uuid::now_v7()).await.unwrap().is_none());
    // A newer version replaces the row and the origin's version time, in one write.
    let mut next = i.clone();
    next.fatalities = 5;
    next.tlp = Tlp::Amber;
    next.version = 2;
    let mut r2 = received(&next, "Partner NGO", "incident--a");
    r2.modified = time::now() + chrono::Duration::seconds(5);
    s.write(
        &sys(),
        Op::All {
            steps: vec![
                Step::Verification(VerificationStep::ReplaceIncident {
                    incident: Box::new(next.clone()),
                    expected_version: 1,
                }),
                Step::Share(ShareStep::Receive(Box::new(r2.clone()))),
            ],
            audit: Box::new(AuditEvent::new(&sys(), "share.receive", "incident", None)),
        },
    )
    .await
    .unwrap();
    let got = s.get_incident(i.id).await.unwrap();
    assert_eq!((got.fatalities, got.tlp, got.version), (5, Tlp::Amber, 2));
    let r = s.received(i.id).await.unwrap().unwrap();
    assert_eq!((r.tlp, r.modified), (Tlp::Amber, r2.modified));
}

async fn a_retracted_incident_leaves_every_view(s: &dyn Store, _db: &Db) {
    let i = incident("Partner NGO", "incident--r", Tlp::Clear);
    receive(s, &i, received(&i, "Partner NGO", "incident--r"))
        .await
        .unwrap();
    let f = IncidentFilter {
        max_tlp: Tlp::Red,
        ..Default::default()
    };
    let page = PageRequest {
        after: None,
        limit: 10,
    };
    assert_eq!(s.list_incidents(&f, page).await.unwrap().items.len(), 1);
    let before = s.map_points(None, 10).await.unwrap();
    assert!(!before[0].retracted);
    let at = time::now();
    let mut r = received(&i, "Partner NGO", "incident--r");
    r.retracted_at = Some(at);
    s.write(
        &sys(),
        Op::All {
            steps: vec![
                Step::Share(ShareStep::Retract {
                    incident_id: i.id,
                    at,
                    version: 2,
                }),
                Step::Share(ShareStep::Receive(Box::new(r))),
            ],
            audit: Box::new(AuditEvent::new(&sys(), "share.retract", "incident", None)),
        },
    )
    .await
    .unwrap();
    assert!(s.list_incidents(&f, page).await.unwrap().items.is_empty());
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    assert_eq!(s.scan_incidents(&f, tx).await.unwrap(), 0);
    assert!(rx.recv().await.is_none());
    // The map index sees the change (it refreshes by time) and that it is retracted.
    let pts = s.map_points(None, 10).await.unwrap();
    assert_eq!(pts.len(), 1);
    assert!(pts[0].retracted);
    // The row and its origin stay, so its page can say it was retracted.
    let got = s.get_incident(i.id).await.unwrap();
    assert_eq!(got.version, 2);
    assert!(s
        .received(i.id)
        .await
        .unwrap()
        .unwrap()
        .retracted_at
        .is_some());
    // Retracting an incident that does not exist changes nothing.
    let err = s
        .write(
            &sys(),
            Op::All {
                steps: vec![Step::Share(ShareStep::Retract {
                    incident_id: Uuid::now_v7(),
                    at,
                    version: 2,
                })],
                audit: Box::new(AuditEvent::new(&sys(), "share.retract", "incident", None)),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

async fn the_same_original_lands_once(s: &dyn Store, _db: &Db) {
    let a = incident("Partner NGO", "incident--d", Tlp::Green);
    receive(s, &a, received(&a, "Partner NGO", "incident--d"))
        .await
        .unwrap();
    // A second local record claiming the same origin and original id: refused whole.
    let mut b = incident("Partner NGO", "incident--d", Tlp::Green);
    b.dataset = Some("shared:elsewhere".into());
    let err = receive(s, &b, received(&b, "Partner NGO", "incident--d"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(matches!(
        s.get_incident(b.id).await,
        Err(StoreError::NotFound)
    ));
    // The same original id from another organisation is another record.
    let c = incident("Other NGO", "incident--d", Tlp::Green);
    receive(s, &c, received(&c, "Other NGO", "incident--d"))
        .await
        .unwrap();
}

async fn the_instance_id_is_stable(s: &dyn Store, _db: &Db) {
    let a = s.instance_id().await.unwrap();
    assert_eq!(a.get_version_num(), 4);
    s.migrate().await.unwrap();
    assert_eq!(s.instance_id().await.unwrap(), a);
}

async fn a_large_batch_lands_in_one_write(s: &dyn Store, _db: &Db) {
    let batch = |from: usize, n: usize| -> (Vec<Incident>, Vec<Received>) {
        (from..from + n)
            .map(|k| {
                let i = incident("Batch org", &format!("incident--{k}"), Tlp::Green);
                let r = received(&i, "Batch org", &format!("incident--{k}"));
                (i, r)
            })
            .unzip()
    };
    let write = |incidents: Vec<Incident>, records: Vec<Received>| async move {
        s.write(
            &sys(),
            Op::All {
                steps: vec![
                    Step::Verification(VerificationStep::CreateIncidents(incidents)),
                    Step::Share(ShareStep::ReceiveAll(records)),
                ],
                audit: Box::new(AuditEvent::new(&sys(), "share.receive", "incident", None)),
            },
        )
        .await
    };
    let (incidents, records) = batch(0, 1_200);
    let last = incidents[1_199].id;
    write(incidents, records).await.unwrap();
    let originals: Vec<String> = (0..1_200)
        .map(|k| format!("incident--{k}"))
        .step_by(2)
        .collect();
    let held = s
        .received_by_original("Batch org", &originals)
        .await
        .unwrap();
    assert_eq!(held.len(), 600);
    assert_eq!(
        s.get_incident(last).await.unwrap().external_id.as_deref(),
        Some("incident--1199")
    );
    // A batch holding an original already received fails whole: nothing of it is stored.
    let (incidents, records) = batch(1_150, 100);
    let first_new = incidents[60].id;
    let err = write(incidents, records).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(matches!(
        s.get_incident(first_new).await,
        Err(StoreError::NotFound)
    ));
}

/// A received item (a record other than an incident) is kept with its origin and content,
/// read back within a label, replaced by a later version, noted locally (the note survives a
/// new version), marked retracted; a note on no such item is not found; an action is marked
/// shareable and unmarked, and marking one that does not exist is not found.
async fn received_items_keep_their_content_and_notes(s: &dyn Store, _db: &Db) {
    use tocsin_domain::{SharedItem, SharedKind};
    let id = Uuid::new_v4();
    let mut item = SharedItem {
        kind: SharedKind::Rumour,
        id,
        title: "The bridge was mined".into(),
        summary: "The bridge at Bria was mined".into(),
        status: "new".into(),
        level: None,
        country: tocsin_domain::Country::parse("CAF").ok(),
        factors: vec![],
        cap: None,
        tlp: Tlp::Amber,
        created_at: time::now(),
        updated_at: time::now(),
        version: 1,
    };
    let rec = Received {
        record_id: id,
        kind: "rumour".into(),
        origin: "NGO".into(),
        original_id: "note--6b0e6e9a-3a4d-4b7e-9c8e-1f2a3b4c5d6e".into(),
        format: "tocsin".into(),
        modified: item.updated_at,
        tlp: Tlp::Amber,
        received_at: time::now(),
        retracted_at: None,
    };
    let put = |rec: Received, item: SharedItem| Op::All {
        steps: vec![
            Step::Share(ShareStep::Receive(Box::new(rec))),
            Step::Share(ShareStep::ReceiveItem {
                id,
                item: Box::new(item),
            }),
        ],
        audit: Box::new(AuditEvent::new(&sys(), "share.receive", "item", None)),
    };
    s.write(&sys(), put(rec.clone(), item.clone()))
        .await
        .unwrap();
    let got = s.received_item(id).await.unwrap().unwrap();
    assert_eq!(
        (got.item.clone(), got.received.clone()),
        (item.clone(), rec.clone())
    );
    assert_eq!(s.received_items(Tlp::Amber, 10).await.unwrap().len(), 1);
    assert!(s.received_items(Tlp::Green, 10).await.unwrap().is_empty());
    let note = |id: Uuid, text: Option<&str>| Op::All {
        steps: vec![Step::Share(ShareStep::ItemNote {
            id,
            note: text.map(str::to_string),
            by: "ben".into(),
            at: time::now(),
        })],
        audit: Box::new(AuditEvent::new(&sys(), "share.item_note", "item", None)),
    };
    s.write(&sys(), note(id, Some("Checked with our office")))
        .await
        .unwrap();
    assert!(matches!(
        s.write(&sys(), note(Uuid::new_v4(), Some("x"))).await,
        Err(StoreError::NotFound)
    ));
    item.status = "confirmed_false".into();
    let mut later = rec.clone();
    later.modified = time::now();
    later.retracted_at = Some(time::now());
    s.write(&sys(), put(later, item.clone())).await.unwrap();
    let got = s.received_item(id).await.unwrap().unwrap();
    assert_eq!(got.item.status, "confirmed_false");
    assert_eq!(got.note.as_deref(), Some("Checked with our office"));
    assert_eq!(got.note_by.as_deref(), Some("ben"));
    assert!(got.received.retracted_at.is_some());
    assert!(s.received_item(Uuid::new_v4()).await.unwrap().is_none());

    // Actions marked shareable: an unknown action is not found.
    let share = |action_id: Uuid, tlp: Option<Tlp>| Op::All {
        steps: vec![Step::Share(ShareStep::ActionShare {
            action_id,
            tlp,
            by: "ana".into(),
            at: time::now(),
        })],
        audit: Box::new(AuditEvent::new(&sys(), "action.share", "action", None)),
    };
    assert!(matches!(
        s.write(&sys(), share(Uuid::new_v4(), Some(Tlp::Green)))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(s.shareable_actions().await.unwrap().is_empty());
}
