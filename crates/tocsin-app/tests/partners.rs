//! Partners and the signing key through the use cases, on a real store (SQLite, and PostgreSQL
//! when configured): only admins add, list and remove partners (analysts, desk officers,
//! monitor coordinators and viewers are refused, nothing written); a second partner of the
//! same name is a conflict; TLP:RED is refused as a ceiling; the signing key is made once,
//! opens only with the contact key that sealed it, and its public half is refused to a viewer.

use tocsin_app::{Acting, App, AppError};
use tocsin_domain::{Actor, ContactKey, NewUser, PartnerInput, Role, SigningKey, User};
use tocsin_framework::Frameworks;
use tocsin_store::{DynStore, StoreExt};
use tocsin_store_tests::Db;

async fn user(store: &DynStore, name: &str, role: Role) -> User {
    let u = NewUser::build(name, role, None).unwrap();
    store.create_user(&Actor::system("test"), u).await.unwrap()
}

fn input(name: &str) -> PartnerInput {
    PartnerInput {
        name: name.into(),
        url: "https://tocsin.partner.example".into(),
        key: SigningKey::generate().public_key().to_string(),
        max_tlp: "TLP:AMBER".into(),
        countries: vec!["KEN".into()],
        kinds: vec![],
    }
}

async fn story(store: DynStore) {
    let frameworks = Frameworks::shipped();
    let mut app = App::new(&store, &frameworks);
    let admin = user(&store, "ada", Role::Admin).await;
    for (name, role) in [
        ("ana", Role::Analyst),
        ("dora", Role::DeskOfficer),
        ("mo", Role::MonitorCoordinator),
        ("vic", Role::Viewer),
    ] {
        let u = user(&store, name, role).await;
        let e = app.add_partner((&u).into(), input("UN office")).await;
        assert!(matches!(e, Err(AppError::Forbidden { .. })), "{role:?}");
        assert!(matches!(
            app.list_partners((&u).into()).await,
            Err(AppError::Forbidden { .. })
        ));
        assert!(matches!(
            app.remove_partner((&u).into(), "UN office").await,
            Err(AppError::Forbidden { .. })
        ));
    }
    assert!(
        store.partners().await.unwrap().is_empty(),
        "nothing written"
    );
    let p = app
        .add_partner((&admin).into(), input("UN office"))
        .await
        .unwrap();
    assert_eq!(p.countries[0].code(), "KEN");
    assert!(matches!(
        app.add_partner((&admin).into(), input("UN office")).await,
        Err(AppError::Conflict(_))
    ));
    let mut red = input("Red team");
    red.max_tlp = "TLP:RED".into();
    assert!(matches!(
        app.add_partner((&admin).into(), red).await,
        Err(AppError::Invalid { ref field, .. }) if field == "max_tlp"
    ));
    let all = app.list_partners((&admin).into()).await.unwrap();
    assert_eq!(all.len(), 1);
    app.remove_partner((&admin).into(), "UN office")
        .await
        .unwrap();
    assert!(matches!(
        app.remove_partner((&admin).into(), "UN office").await,
        Err(AppError::NotFound)
    ));

    // The signing key: made once, sealed with the contact key.
    let op = Acting::Operator("cli");
    assert!(matches!(
        app.signing_key(op).await,
        Err(AppError::Unavailable(_))
    ));
    let ck = ContactKey::generate();
    app.contact_key = Some(&ck);
    let a = app.public_signing_key(op).await.unwrap();
    assert_eq!(app.public_signing_key((&admin).into()).await.unwrap(), a);
    let viewer = user(&store, "vera", Role::Viewer).await;
    assert!(matches!(
        app.public_signing_key((&viewer).into()).await,
        Err(AppError::Forbidden { .. })
    ));
    let other = ContactKey::generate();
    app.contact_key = Some(&other);
    assert!(matches!(
        app.signing_key(op).await,
        Err(AppError::Internal(_))
    ));
}

#[tokio::test]
async fn partners_and_the_signing_key_on_sqlite() {
    story(Db::sqlite().await.store).await;
}

#[tokio::test]
async fn partners_and_the_signing_key_on_postgres() {
    if let Some(db) = Db::postgres().await {
        story(db.store.clone()).await;
    }
}

/// A partner's bundle, already checked, carrying a TLP:RED incident beside a GREEN one: the
/// GREEN one is stored with the partner as its origin, the RED one refused with the reason
/// and not stored (TLP:RED never leaves its organisation).
#[tokio::test]
async fn a_red_record_from_a_partner_is_refused() {
    use tocsin_app::share::ReceiveSummary;
    use tocsin_domain::{Incident, IncidentFilter, IncidentInput, IncomingIncident, Tlp};
    let store = Db::sqlite().await.store;
    let frameworks = Frameworks::shipped();
    let app = App::new(&store, &frameworks);
    let incoming = |id: &str, tlp: Tlp| IncomingIncident {
        original_id: id.into(),
        modified: tocsin_domain::time::now(),
        revoked: false,
        incident: Incident::parse(IncidentInput {
            event_date: "2025-03-01".into(),
            event_type: "Violence against civilians".into(),
            sub_event_type: "Attack".into(),
            country: "CAF".into(),
            latitude: 6.1,
            longitude: 20.9,
            fatalities: 3,
            description: format!("{id} village attacked"),
            tlp,
            ..Default::default()
        })
        .unwrap(),
    };
    let s = app
        .receive_partner_incidents(
            Acting::Operator("test"),
            "UN office",
            vec![
                incoming("incident--green", Tlp::Green),
                incoming("incident--red", Tlp::Red),
            ],
            ReceiveSummary::default(),
            serde_json::json!({}),
        )
        .await
        .unwrap();
    assert_eq!(s.created, 1, "{s:?}");
    assert_eq!(s.refused.len(), 1, "{s:?}");
    assert_eq!(s.refused[0].id, "incident--red");
    assert!(s.refused[0].reason.contains("TLP:RED"), "{s:?}");
    let stored = store
        .list_incidents(
            &IncidentFilter {
                max_tlp: Tlp::Red,
                ..Default::default()
            },
            tocsin_domain::PageRequest::first(10),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].tlp, Tlp::Green);
}
