//! Records naming partners, and sharing groups, through the use cases on a real store (SQLite,
//! and PostgreSQL when configured). What a partner's bundle carries: GREEN and AMBER reach a
//! partner cleared for AMBER; TLP:AMBER+STRICT only a partner the record names, directly or
//! through a group it is in; TLP:RED never, named or not; a record naming anyone goes only to
//! those partners and never into STIX. Only admins make groups (not of a partner's name, only
//! of partners); only analysts who share name partners on a record they can see; a name
//! narrowed away is sent as a retraction; a removed partner leaves every group and record, so
//! a partner added later under its name is not sent what named the first.
//!
//! A partner's terms: nothing is sent before an admin previews what would cross and approves
//! (an approval of other terms than those previewed is a conflict); redaction rules withhold
//! the place and the description from what is sent, unapprove the terms, and once approved
//! again send what was sent before as a new version; the partner's history lists what went.

use std::collections::BTreeSet;
use tocsin_app::share::Audience;
use tocsin_app::{Acting, App, AppError};
use tocsin_domain::incident::IncidentInput;
use tocsin_domain::{
    Actor, ContactKey, Incident, IncidentFilter, NewUser, PartnerInput, Role, SharingGroupInput,
    SigningKey, Tlp, User, VerificationStatus,
};
use tocsin_exchange::stix::StixOrg;
use tocsin_framework::Frameworks;
use tocsin_store::{DynStore, StoreExt};
use tocsin_store_tests::Db;
use uuid::Uuid;

async fn user(store: &DynStore, name: &str, role: Role, clearance: Tlp) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    u.clearance = clearance;
    store.create_user(&Actor::system("test"), u).await.unwrap()
}

fn partner(name: &str, max_tlp: &str) -> PartnerInput {
    PartnerInput {
        name: name.into(),
        url: "https://tocsin.partner.example".into(),
        key: SigningKey::generate().public_key().to_string(),
        max_tlp: max_tlp.into(),
        countries: vec![],
        kinds: vec![],
    }
}

async fn verified(store: &DynStore, tlp: Tlp, text: &str) -> Uuid {
    let mut i = Incident::parse(IncidentInput {
        event_date: "2026-11-01".into(),
        event_type: "Violence against civilians".into(),
        sub_event_type: "Attack".into(),
        country: "CAF".into(),
        latitude: 5.76,
        longitude: 20.67,
        fatalities: 2,
        description: text.into(),
        tlp,
        credibility: Some(2),
        ..Default::default()
    })
    .unwrap();
    i.verification_status = VerificationStatus::Verified;
    store
        .create_incident(&Actor::system("test"), i)
        .await
        .unwrap()
        .id
}

fn org() -> StixOrg {
    StixOrg {
        name: "Here".into(),
        instance_id: Uuid::nil(),
    }
}

/// The incidents a bundle for `partner` would carry now, and those it would retract.
async fn bundle_for(app: &App<'_>, partner: &str) -> (BTreeSet<Uuid>, BTreeSet<Uuid>) {
    let made = app
        .make_partner_bundle(Acting::Operator("test"), partner, org())
        .await
        .unwrap();
    let sent = made
        .records
        .iter()
        .filter(|r| r.retracted_at.is_none())
        .map(|r| r.record_id)
        .collect();
    let gone = made
        .records
        .iter()
        .filter(|r| r.retracted_at.is_some())
        .map(|r| r.record_id)
        .collect();
    app.record_partner_bundle(Acting::Operator("test"), made)
        .await
        .unwrap();
    (sent, gone)
}

async fn stix(app: &App<'_>, store: &DynStore) -> BTreeSet<Uuid> {
    let scope = app
        .start_share(
            Acting::Operator("test"),
            Audience::Stix,
            Tlp::Amber,
            IncidentFilter::default(),
            serde_json::json!({}),
        )
        .await
        .unwrap();
    let all = store
        .list_incidents(&scope.filter, Default::default())
        .await
        .unwrap()
        .items;
    app.share_chunk(&scope, Audience::Stix, all)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect()
}

/// Preview the partner's terms and approve them, as an admin does before the first exchange.
async fn approve(app: &App<'_>, admin: &User, name: &str) {
    let preview = app.preview_partner(admin.into(), name).await.unwrap();
    app.approve_partner(admin.into(), name, &preview.digest)
        .await
        .unwrap();
}

fn set(ids: &[Uuid]) -> BTreeSet<Uuid> {
    ids.iter().copied().collect()
}

async fn story(store: DynStore) {
    let frameworks = Frameworks::shipped();
    let mut app = App::new(&store, &frameworks);
    let ck = ContactKey::generate();
    app.contact_key = Some(&ck);
    let admin = user(&store, "ada", Role::Admin, Tlp::Red).await;
    let ana = user(&store, "ana", Role::Analyst, Tlp::Red).await;
    let amber_ana = user(&store, "amy", Role::Analyst, Tlp::Amber).await;
    let viewer = user(&store, "vic", Role::Viewer, Tlp::Green).await;
    for (name, max) in [
        ("UN office", "TLP:AMBER"),
        ("NGO", "TLP:AMBER"),
        ("Watch", "TLP:GREEN"),
    ] {
        app.add_partner((&admin).into(), partner(name, max))
            .await
            .unwrap();
        approve(&app, &admin, name).await;
    }

    // Groups: admins only, of partners, not under a partner's name.
    let group = |name: &str, members: &[&str]| SharingGroupInput {
        name: name.into(),
        members: members.iter().map(|m| m.to_string()).collect(),
    };
    assert!(matches!(
        app.add_sharing_group((&ana).into(), group("Focal points", &["UN office"]))
            .await,
        Err(AppError::Forbidden { .. })
    ));
    assert!(matches!(
        app.add_sharing_group((&admin).into(), group("NGO", &["UN office"])).await,
        Err(AppError::BadField { ref field, .. }) if field == "name"
    ));
    assert!(matches!(
        app.add_sharing_group((&admin).into(), group("Focal points", &["Nobody"])).await,
        Err(AppError::BadField { ref field, .. }) if field == "members"
    ));
    assert!(
        store.sharing_groups().await.unwrap().is_empty(),
        "nothing written"
    );
    app.add_sharing_group((&admin).into(), group("Focal points", &["UN office"]))
        .await
        .unwrap();
    assert!(matches!(
        app.add_partner((&admin).into(), partner("Focal points", "TLP:AMBER")).await,
        Err(AppError::BadField { ref field, .. }) if field == "name"
    ));
    assert_eq!(
        app.sharing_groups((&ana).into()).await.unwrap()[0].members,
        ["UN office"]
    );

    let green = verified(&store, Tlp::Green, "GREEN").await;
    let amber = verified(&store, Tlp::Amber, "AMBER").await;
    let strict_un = verified(&store, Tlp::AmberStrict, "STRICT-UN").await;
    let strict_group = verified(&store, Tlp::AmberStrict, "STRICT-GROUP").await;
    let strict_none = verified(&store, Tlp::AmberStrict, "STRICT-NONE").await;
    let red_un = verified(&store, Tlp::Red, "RED-UN").await;
    let green_ngo = verified(&store, Tlp::Green, "GREEN-NGO").await;

    // Naming: analysts who share, on what they can see, only partners' and groups' names.
    let names = |v: &[&str]| v.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    assert!(matches!(
        app.set_share_with((&viewer).into(), green, &names(&["NGO"]))
            .await,
        Err(AppError::Forbidden { .. })
    ));
    assert!(matches!(
        app.set_share_with((&amber_ana).into(), strict_un, &names(&["UN office"]))
            .await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        app.set_share_with((&ana).into(), green, &names(&["Nobody"])).await,
        Err(AppError::BadField { ref field, .. }) if field == "share_with"
    ));
    assert!(
        store.shares_with().await.unwrap().is_empty(),
        "nothing written"
    );
    for (id, n) in [
        (strict_un, &["UN office"][..]),
        (strict_group, &["Focal points"][..]),
        (red_un, &["UN office"][..]),
        (green_ngo, &[" NGO ", "NGO"][..]),
    ] {
        app.set_share_with((&ana).into(), id, &names(n))
            .await
            .unwrap();
    }
    assert_eq!(
        app.share_with((&ana).into(), green_ngo).await.unwrap(),
        ["NGO"]
    );
    let audited = store.audit_entries(0, 10_000).await.unwrap();
    assert!(audited.iter().any(|e| e.action == "incident.share_with"
        && e.record_id.as_deref() == Some(&strict_un.to_string())));

    // What crosses.
    let (un, _) = bundle_for(&app, "UN office").await;
    assert_eq!(un, set(&[green, amber, strict_un, strict_group]));
    let (ngo, _) = bundle_for(&app, "NGO").await;
    assert_eq!(ngo, set(&[green, amber, green_ngo]));
    let (watch, _) = bundle_for(&app, "Watch").await;
    assert_eq!(watch, set(&[green]));
    assert_eq!(stix(&app, &store).await, set(&[green, amber]));
    let _ = strict_none;

    // Narrowed: what no longer names the partner is retracted from it.
    app.set_share_with((&ana).into(), strict_un, &[])
        .await
        .unwrap();
    let (un, gone) = bundle_for(&app, "UN office").await;
    assert_eq!(un, set(&[green, amber, strict_group]));
    assert_eq!(gone, set(&[strict_un]));

    // A removed partner leaves its groups and records; one added later under its name gets
    // only what its label allows.
    app.set_share_with((&ana).into(), green_ngo, &names(&["NGO", "UN office"]))
        .await
        .unwrap();
    app.remove_partner((&admin).into(), "UN office")
        .await
        .unwrap();
    assert!(store.sharing_groups().await.unwrap()[0].members.is_empty());
    assert_eq!(
        app.share_with((&ana).into(), green_ngo).await.unwrap(),
        ["NGO"]
    );
    app.add_partner((&admin).into(), partner("UN office", "TLP:AMBER"))
        .await
        .unwrap();
    approve(&app, &admin, "UN office").await;
    let (un, _) = bundle_for(&app, "UN office").await;
    assert_eq!(un, set(&[green, amber]));

    // A group's members changed: only partners; the NGO joins and then gets what names the group.
    assert!(matches!(
        app.set_sharing_group_members((&admin).into(), "Focal points", &names(&["Nobody"])).await,
        Err(AppError::BadField { ref field, .. }) if field == "members"
    ));
    assert!(matches!(
        app.set_sharing_group_members((&ana).into(), "Focal points", &names(&["NGO"]))
            .await,
        Err(AppError::Forbidden { .. })
    ));
    let g = app
        .set_sharing_group_members((&admin).into(), "Focal points", &names(&["NGO"]))
        .await
        .unwrap();
    assert_eq!(g.members, ["NGO"]);
    let (ngo, _) = bundle_for(&app, "NGO").await;
    assert!(ngo.contains(&strict_group), "a member now");

    // A removed group leaves the records naming it.
    app.remove_sharing_group((&admin).into(), "Focal points")
        .await
        .unwrap();
    assert!(app
        .share_with((&ana).into(), strict_group)
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        app.remove_sharing_group((&admin).into(), "Focal points")
            .await,
        Err(AppError::NotFound)
    ));
}

async fn terms_story(store: DynStore) {
    let frameworks = Frameworks::shipped();
    let mut app = App::new(&store, &frameworks);
    let ck = ContactKey::generate();
    app.contact_key = Some(&ck);
    let admin = user(&store, "ada", Role::Admin, Tlp::Red).await;
    let ana = user(&store, "ana", Role::Analyst, Tlp::Red).await;
    app.add_partner((&admin).into(), partner("UN office", "TLP:AMBER"))
        .await
        .unwrap();
    let mut i = Incident::parse(IncidentInput {
        event_date: "2026-11-17".into(),
        event_type: "Violence against civilians".into(),
        sub_event_type: "Attack".into(),
        country: "CAF".into(),
        latitude: 5.7612,
        longitude: 20.6734,
        fatalities: 2,
        description: "DESCRIPTION-SECRET men came from the mine".into(),
        location: Some("PLACE-SECRET village".into()),
        tlp: Tlp::Amber,
        credibility: Some(2),
        ..Default::default()
    })
    .unwrap();
    i.verification_status = VerificationStatus::Verified;
    let id = store
        .create_incident(&Actor::system("test"), i)
        .await
        .unwrap()
        .id;
    verified(&store, Tlp::Green, "GREEN").await;
    let op = Acting::Operator("test");

    // Nothing before the terms are approved; only admins preview, redact and approve.
    let Err(e) = app.make_partner_bundle(op, "UN office", org()).await else {
        panic!("a bundle was made before the terms were approved");
    };
    assert!(e.to_string().contains("approves its terms"), "{e}");
    assert!(matches!(
        app.preview_partner((&ana).into(), "UN office").await,
        Err(AppError::Forbidden { .. })
    ));
    assert!(matches!(
        app.set_partner_redaction((&ana).into(), "UN office", &["place"])
            .await,
        Err(AppError::Forbidden { .. })
    ));
    let preview = app
        .preview_partner((&admin).into(), "UN office")
        .await
        .unwrap();
    assert_eq!(preview.incidents, 2);
    // A preview is audited as one, not as an export of the records.
    let audited = store.audit_entries(0, 10_000).await.unwrap();
    assert!(audited
        .iter()
        .any(|e| e.action == "share.export" && e.detail.contains("\"preview\":true")));
    assert!(audited.iter().any(|e| e.action == "partner.preview"));
    assert_eq!(preview.by_tlp, vec![(Tlp::Green, 1), (Tlp::Amber, 1)]);
    assert!(preview
        .sample
        .iter()
        .any(|s| s.description.contains("DESCRIPTION-SECRET")));
    assert!(matches!(
        app.approve_partner((&admin).into(), "UN office", "0000")
            .await,
        Err(AppError::Conflict(_))
    ));
    let p = app
        .approve_partner((&admin).into(), "UN office", &preview.digest)
        .await
        .unwrap();
    assert!(p.approved_at.is_some());
    let made = app
        .make_partner_bundle(op, "UN office", org())
        .await
        .unwrap();
    let first = made
        .records
        .iter()
        .find(|r| r.record_id == id)
        .unwrap()
        .modified;
    assert!(String::from_utf8_lossy(&made.bytes).contains("PLACE-SECRET"));
    app.record_partner_bundle(op, made).await.unwrap();

    // Redaction: the terms are unapproved until previewed again; an approval of the old
    // preview is refused; then the place and the description no longer leave, and what was
    // sent goes again as a new version.
    let p = app
        .set_partner_redaction((&admin).into(), "UN office", &["description", "place"])
        .await
        .unwrap();
    assert!(p.approved_at.is_none());
    assert!(app
        .make_partner_bundle(op, "UN office", org())
        .await
        .is_err());
    assert!(matches!(
        app.approve_partner((&admin).into(), "UN office", &preview.digest)
            .await,
        Err(AppError::Conflict(_))
    ));
    assert!(matches!(
        app.set_partner_redaction((&admin).into(), "UN office", &["nope"]).await,
        Err(AppError::Invalid { ref field, .. }) if field == "redact"
    ));
    let preview = app
        .preview_partner((&admin).into(), "UN office")
        .await
        .unwrap();
    let shown = preview.sample.iter().find(|s| s.id == id).unwrap();
    assert_eq!(shown.description, tocsin_domain::share::WITHHELD);
    assert_eq!(shown.location, None);
    assert_eq!((shown.latitude, shown.longitude), (5.8, 20.7));
    app.approve_partner((&admin).into(), "UN office", &preview.digest)
        .await
        .unwrap();
    let made = app
        .make_partner_bundle(op, "UN office", org())
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&made.bytes).to_string();
    for secret in ["PLACE-SECRET", "DESCRIPTION-SECRET", "5.7612", "20.6734"] {
        assert!(!text.contains(secret), "{secret} crossed");
    }
    let again = made
        .records
        .iter()
        .find(|r| r.record_id == id)
        .unwrap()
        .modified;
    assert!(again > first, "sent again as a newer version");
    app.record_partner_bundle(op, made).await.unwrap();
    let (sent, received) = app
        .partner_history((&admin).into(), "UN office", 10)
        .await
        .unwrap();
    assert_eq!(sent.len(), 2);
    assert!(received.is_empty());
}

#[tokio::test]
async fn a_partners_terms_on_sqlite() {
    terms_story(Db::sqlite().await.store).await;
}

#[tokio::test]
async fn a_partners_terms_on_postgres() {
    if let Some(db) = Db::postgres().await {
        terms_story(db.store.clone()).await;
    }
}

#[tokio::test]
async fn records_naming_partners_on_sqlite() {
    story(Db::sqlite().await.store).await;
}

#[tokio::test]
async fn records_naming_partners_on_postgres() {
    if let Some(db) = Db::postgres().await {
        story(db.store.clone()).await;
    }
}
