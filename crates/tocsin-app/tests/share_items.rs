//! Records other than incidents shared between two installations through the use cases, on
//! real stores (A on SQLite; B on SQLite, and on PostgreSQL when configured): a published
//! assessment's summary and risk levels, an alert with its CAP form, a rumour's status and an
//! action marked shareable cross to a partner cleared for TLP:AMBER; drafts, TLP:RED records,
//! an AMBER+STRICT alert and an action not marked do not, nor any factor's rationale or action's lead.
//! The partner keeps them read-only with its origin and its own notes; receiving twice stores
//! once; a later version supersedes (the note stays); unsharing an action sends a retraction
//! that hides it. Their times (and the alert's CAP `sent`) leave only to the hour. The payload passes the OASIS validator and round-trips through `stix2` when
//! those are installed (required with `TOCSIN_REQUIRE_STIX=1`).

use serde_json::json;
use tocsin_app::{Acting, App, AppError};
use tocsin_domain::{
    Actor, AssessmentStatus, ContactKey, Desk, NewAssessment, NewDesk, NewRumour, NewSituation,
    NewUser, PartnerInput, Role, RumourPatch, SharedKind, Situation, Tlp, User,
};
use tocsin_exchange::stix::StixOrg;
use tocsin_framework::Frameworks;
use tocsin_store::{DynStore, Op, Step, StoreExt};
use tocsin_store_tests::Db;
use uuid::Uuid;

async fn user(store: &DynStore, name: &str, role: Role, clearance: Tlp) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    u.clearance = clearance;
    store.create_user(&Actor::system("test"), u).await.unwrap()
}

async fn situation(app: &App<'_>, by: &User, name: &str, tlp: Tlp) -> Situation {
    app.create_situation(
        by,
        NewSituation {
            name: name.into(),
            country: "CAF".into(),
            admin1: None,
            status: None,
            description: None,
            tlp: Some(tlp),
        },
    )
    .await
    .unwrap()
}

/// An assessment of `s` with these levels, published by a second analyst when `publish`.
async fn assessment(
    app: &App<'_>,
    (author, reviewer): (&User, &User),
    s: &Situation,
    summary: &str,
    levels: &[(u32, &str)],
    publish: bool,
) -> Uuid {
    let factors: Vec<_> = levels
        .iter()
        .map(|(f, l)| json!({"factor": f, "level": l, "confidence": "medium", "rationale": "RATIONALE-NEVER-LEAVES"}))
        .collect();
    let n: NewAssessment = serde_json::from_value(json!({
        "framework": "un-foa-2014", "as_of": "2026-11-01", "factors": factors, "summary": summary
    }))
    .unwrap();
    let a = app.create_assessment(author, s.id, n).await.unwrap();
    if publish {
        app.step_assessment(reviewer, a.id, AssessmentStatus::Reviewed, None, None)
            .await
            .unwrap();
        app.step_assessment(reviewer, a.id, AssessmentStatus::Published, None, None)
            .await
            .unwrap();
    }
    a.id
}

fn desk() -> Desk {
    let n: NewDesk = serde_json::from_value(json!({
        "name": "CAR desk",
        "department": "foreign affairs",
        "members": ["ana"],
        "countries": ["CAF"],
        "escalation": [{"after": "15m", "notify": {"user": "ana"}}],
        "repeat": 1,
    }))
    .unwrap();
    Desk::parse(n, &tocsin_domain::Department::defaults()).unwrap()
}

fn org(name: &str, n: u128) -> StixOrg {
    StixOrg {
        name: name.into(),
        instance_id: Uuid::from_u128(n),
    }
}

const CHECK: &str = r#"
import json, sys
from stix2validator import validate_string, ValidationOptions, print_results
import stix2
text = open(sys.argv[1]).read()
res = validate_string(text, ValidationOptions(version="2.1"))
if not res.is_valid:
    print_results(res)
    sys.exit(1)
b = stix2.parse(text, allow_custom=True)
again = json.loads(b.serialize())
if again != json.loads(text):
    before = {o["id"]: o for o in json.loads(text)["objects"]}
    for o in again["objects"]:
        if o != before.get(o["id"]):
            print("ROUND TRIP DIFFERS:", json.dumps(before.get(o["id"])), "->", json.dumps(o))
    sys.exit(2)
print("OK", len(again["objects"]))
"#;

/// The bundle's STIX payload passes `stix2-validator` and round-trips through `stix2`.
fn check_payload(bundle: &[u8]) {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import stix2, stix2validator"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("TOCSIN_REQUIRE_STIX").as_deref() != Ok("1"),
            "TOCSIN_REQUIRE_STIX=1 but python3 cannot import stix2 and stix2validator"
        );
        eprintln!("skipping the STIX validator checks: pip install stix2-validator stix2");
        return;
    }
    let at = bundle.iter().position(|b| *b == b'\n').unwrap() + 1;
    let dir = std::env::temp_dir().join(format!("tocsin-items-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (file, script) = (dir.join("b.json"), dir.join("check.py"));
    std::fs::write(&file, &bundle[at..]).unwrap();
    std::fs::write(&script, CHECK).unwrap();
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "the payload fails the STIX checks:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn story(a_store: DynStore, b_store: DynStore) {
    let frameworks = Frameworks::shipped();
    let site =
        tocsin_app::cap::Site::new("alerts@ngo.example", "https://tocsin.ngo.example").unwrap();
    let (ka, kb) = (ContactKey::generate(), ContactKey::generate());
    let mut a = App::new(&a_store, &frameworks);
    a.contact_key = Some(&ka);
    a.cap_site = Some(&site);
    let mut b = App::new(&b_store, &frameworks);
    b.contact_key = Some(&kb);
    let op = Acting::Operator("test");

    let admin = user(&a_store, "ada", Role::Admin, Tlp::Red).await;
    let ana = user(&a_store, "ana", Role::Analyst, Tlp::Red).await;
    let bob = user(&a_store, "bob", Role::Analyst, Tlp::Red).await;
    let viewer = user(&a_store, "vic", Role::Viewer, Tlp::Green).await;
    let b_admin = user(&b_store, "bea", Role::Admin, Tlp::Red).await;
    let b_ana = user(&b_store, "ben", Role::Analyst, Tlp::Amber).await;
    let b_viewer = user(&b_store, "val", Role::Viewer, Tlp::Green).await;

    let key_a = a.public_signing_key(op).await.unwrap().to_string();
    let key_b = b.public_signing_key(op).await.unwrap().to_string();
    let partner = |name: &str, key: &str| PartnerInput {
        name: name.into(),
        url: "https://tocsin.partner.example".into(),
        key: key.into(),
        max_tlp: "TLP:AMBER".into(),
        countries: vec![],
        kinds: vec![],
    };
    a.add_partner((&admin).into(), partner("Ministry", &key_b))
        .await
        .unwrap();
    b.add_partner((&b_admin).into(), partner("NGO", &key_a))
        .await
        .unwrap();

    // On A: what crosses and what does not.
    let s = situation(&a, &ana, "CAR north-west", Tlp::Green).await;
    let secret = situation(&a, &ana, "SECRET-SITUATION", Tlp::Red).await;
    let published = assessment(
        &a,
        (&ana, &bob),
        &s,
        "Armed groups recruit along the border.",
        &[(14, "severe"), (5, "high")],
        true,
    )
    .await;
    assessment(
        &a,
        (&ana, &bob),
        &s,
        "DRAFT-SUMMARY",
        &[(10, "high")],
        false,
    )
    .await;
    assessment(
        &a,
        (&ana, &bob),
        &secret,
        "RED-SUMMARY",
        &[(10, "high")],
        true,
    )
    .await;
    let d = desk();
    a_store
        .write(
            &Actor::system("test"),
            Op::All {
                steps: vec![Step::CreateDesk(Box::new(d.clone()))],
                audit: Box::new(tocsin_domain::AuditEvent::new(
                    &Actor::system("test"),
                    "desk.create",
                    "desk",
                    None,
                )),
            },
        )
        .await
        .unwrap();
    let raise = |title: &str, tlp: &str| tocsin_app::alerts::RaiseAlert {
        title: title.into(),
        severity: "high".into(),
        tlp: Some(tlp.into()),
        situation: None,
        country: Some("CAF".into()),
        desk: Some(d.id),
        evidence: vec![],
    };
    let now = tocsin_domain::time::now();
    let alert = a
        .raise_alert(&ana, raise("Militia gathering near Bria", "TLP:GREEN"), now)
        .await
        .unwrap();
    a.raise_alert(&ana, raise("RED-ALERT", "TLP:RED"), now)
        .await
        .unwrap();
    a.raise_alert(&ana, raise("STRICT-ALERT", "TLP:AMBER+STRICT"), now)
        .await
        .unwrap();
    let rumour = |claim: &str, tlp: &str| NewRumour {
        claim: claim.into(),
        country: "CAF".into(),
        tlp: Some(tlp.into()),
        ..Default::default()
    };
    let amber_rumour = a
        .create_rumour(&ana, rumour("The bridge at Bria was mined", "TLP:AMBER"))
        .await
        .unwrap();
    a.create_rumour(&ana, rumour("RED-RUMOUR", "TLP:RED"))
        .await
        .unwrap();
    let action = |measure: &str| tocsin_domain::NewAction {
        measure_id: measure.into(),
        situation_id: Some(s.id),
        department: Some("foreign affairs".into()),
        lead: "lena".into(),
        due_date: "2026-12-31".parse().unwrap(),
        ..Default::default()
    };
    user(&a_store, "lena", Role::Analyst, Tlp::Red).await;
    let shared_action = a
        .create_action(&ana, action("poc_peacekeeping"))
        .await
        .unwrap();
    let kept_action = a
        .create_action(&ana, action("targeted_sanctions"))
        .await
        .unwrap();

    // Marking an action shareable: who may, and under what.
    assert!(matches!(
        a.set_action_sharing(&viewer, shared_action.id, Some(Tlp::Green))
            .await,
        Err(AppError::Forbidden { .. })
    ));
    assert!(matches!(
        a.set_action_sharing(&ana, shared_action.id, Some(Tlp::Red)).await,
        Err(AppError::Invalid { ref field, .. }) if field == "tlp"
    ));
    assert!(matches!(
        a.set_action_sharing(&ana, Uuid::new_v4(), Some(Tlp::Green))
            .await,
        Err(AppError::NotFound)
    ));
    a.set_action_sharing(&ana, shared_action.id, Some(Tlp::Green))
        .await
        .unwrap();
    assert_eq!(
        a.action_sharing(&viewer, shared_action.id).await.unwrap(),
        Some(Tlp::Green)
    );
    assert_eq!(
        a.action_sharing(&viewer, kept_action.id).await.unwrap(),
        None
    );

    // The preview counts each kind; the bundle carries them.
    let preview = a
        .preview_partner((&admin).into(), "Ministry")
        .await
        .unwrap();
    assert_eq!(
        preview.items_by_kind,
        vec![
            (SharedKind::Assessment, 1),
            (SharedKind::Alert, 1),
            (SharedKind::Rumour, 1),
            (SharedKind::Action, 1)
        ]
    );
    a.approve_partner((&admin).into(), "Ministry", &preview.digest)
        .await
        .unwrap();
    let made = a
        .make_partner_bundle(op, "Ministry", org("NGO", 1))
        .await
        .unwrap();
    assert_eq!((made.incidents(), made.items()), (0, 4));
    let text = String::from_utf8_lossy(&made.bytes).to_string();
    for never in [
        "DRAFT-SUMMARY",
        "RED-SUMMARY",
        "SECRET-SITUATION",
        "RED-ALERT",
        "STRICT-ALERT",
        "RED-RUMOUR",
        "RATIONALE-NEVER-LEAVES",
        "lena",
        "targeted_sanctions",
    ] {
        assert!(!text.contains(never), "{never} crossed");
    }
    for crossed in [
        "Armed groups recruit along the border.",
        "urn:oasis:names:tc:emergency:cap:1.2",
        "Militia gathering near Bria",
        "The bridge at Bria was mined",
        "course-of-action--",
    ] {
        assert!(text.contains(crossed), "{crossed} did not cross");
    }
    check_payload(&made.bytes);
    let bytes = made.bytes.clone();
    a.record_partner_bundle(op, made).await.unwrap();

    // A partner limited to rumours gets the rumour alone (and no incident).
    let mut only = partner("Rumour watch", &key_b);
    only.kinds = vec!["rumour".into()];
    a.add_partner((&admin).into(), only).await.unwrap();
    let preview = a
        .preview_partner((&admin).into(), "Rumour watch")
        .await
        .unwrap();
    assert_eq!(preview.items_by_kind, vec![(SharedKind::Rumour, 1)]);
    a.approve_partner((&admin).into(), "Rumour watch", &preview.digest)
        .await
        .unwrap();
    let limited = a
        .make_partner_bundle(op, "Rumour watch", org("NGO", 1))
        .await
        .unwrap();
    assert_eq!((limited.incidents(), limited.items()), (0, 1));
    assert!(matches!(
        a.add_partner((&admin).into(), PartnerInput { kinds: vec!["report".into()], ..partner("Bad", &key_b) }).await,
        Err(AppError::BadField { ref field, .. } | AppError::Invalid { ref field, .. }) if field == "kinds"
    ));

    // On B: stored read-only with its origin, within each reader's clearance.
    let got = b
        .receive_partner_bundle((&b_ana).into(), "NGO", bytes.clone(), 1 << 20)
        .await
        .unwrap();
    assert_eq!((got.created, got.refused.len()), (4, 0), "{got:?}");
    let items = b.received_items(&b_ana).await.unwrap();
    assert_eq!(items.len(), 4);
    assert!(items.iter().all(|i| i.received.origin == "NGO"));
    let of = |k: SharedKind| items.iter().find(|i| i.item.kind == k).unwrap().clone();
    let assess = of(SharedKind::Assessment);
    assert_eq!(assess.item.level.as_deref(), Some("severe"));
    assert_eq!(assess.item.factors.len(), 2);
    assert!(assess.item.title.contains("CAR north-west"));
    let cap = of(SharedKind::Alert).item.cap.unwrap();
    assert!(
        cap.contains("<headline>Militia gathering near Bria</headline>"),
        "{cap}"
    );
    assert!(cap.contains("alerts@ngo.example"), "{cap}");
    // Times leave only to the hour: not the second the alert was raised.
    let sent = &cap[cap.find("<sent>").unwrap() + 6..cap.find("</sent>").unwrap()];
    assert!(sent.ends_with(":00:00-00:00"), "{sent}");
    for i in &items {
        use chrono::Timelike;
        assert_eq!(
            (i.item.created_at.minute(), i.item.created_at.second()),
            (0, 0)
        );
    }
    assert_eq!(of(SharedKind::Rumour).item.status, "new");
    assert_eq!(
        of(SharedKind::Action).item.status,
        shared_action.status.as_str()
    );
    assert_eq!(
        b.received_items(&b_viewer).await.unwrap().len(),
        3,
        "the AMBER rumour is above a GREEN viewer's clearance"
    );
    let _ = (published, alert.id);

    // Notes: analysts only, checked, kept locally.
    assert!(matches!(
        b.note_received_item(&b_viewer, assess.id, "mine").await,
        Err(AppError::Forbidden { .. })
    ));
    assert!(matches!(
        b.note_received_item(&b_ana, assess.id, &"x".repeat(6_000)).await,
        Err(AppError::Invalid { ref field, .. }) if field == "note"
    ));
    let noted = b
        .note_received_item(&b_ana, assess.id, "Matches our field office's reading.")
        .await
        .unwrap();
    assert_eq!(
        noted.note.as_deref(),
        Some("Matches our field office's reading.")
    );
    assert_eq!(noted.note_by.as_deref(), Some("ben"));

    // Received again: stored once.
    let again = b
        .receive_partner_bundle((&b_ana).into(), "NGO", bytes, 1 << 20)
        .await
        .unwrap();
    assert_eq!((again.created, again.unchanged), (0, 4), "{again:?}");

    // A later version supersedes, the note stays; unsharing sends a retraction.
    a.patch_rumour(
        &ana,
        amber_rumour.id,
        RumourPatch {
            status: Some("under_investigation".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    a.set_action_sharing(&ana, shared_action.id, None)
        .await
        .unwrap();
    let made = a
        .make_partner_bundle(op, "Ministry", org("NGO", 1))
        .await
        .unwrap();
    assert_eq!((made.items(), made.retractions()), (3, 1));
    check_payload(&made.bytes);
    let bytes = made.bytes.clone();
    a.record_partner_bundle(op, made).await.unwrap();
    let got = b
        .receive_partner_bundle((&b_ana).into(), "NGO", bytes, 1 << 20)
        .await
        .unwrap();
    assert_eq!(
        (got.updated, got.retracted, got.unchanged),
        (1, 1, 2),
        "{got:?}"
    );
    let items = b.received_items(&b_ana).await.unwrap();
    let of = |k: SharedKind| items.iter().find(|i| i.item.kind == k).unwrap().clone();
    assert_eq!(of(SharedKind::Rumour).item.status, "under_investigation");
    assert!(of(SharedKind::Action).received.retracted_at.is_some());
    assert_eq!(
        of(SharedKind::Assessment).note.as_deref(),
        Some("Matches our field office's reading.")
    );
    // The partner's history on A names what was sent.
    let sent = a_store.sent_to("Ministry").await.unwrap();
    assert_eq!(sent[&shared_action.id].kind, "action");
    assert!(sent[&shared_action.id].retracted_at.is_some());
}

#[tokio::test]
async fn other_records_between_two_sqlite_installations() {
    story(Db::sqlite().await.store, Db::sqlite().await.store).await;
}

#[tokio::test]
async fn other_records_from_sqlite_to_postgres() {
    if let Some(db) = Db::postgres().await {
        story(Db::sqlite().await.store, db.store.clone()).await;
    }
}
