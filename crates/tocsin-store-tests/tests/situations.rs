//! Situations and their dashboard's figures, every backend: several admin-1 areas stored,
//! read back and edited (one audit entry each); `incident_days` groups the incidents of a
//! country and of a situation by day and area, never counting one labelled above the
//! clearance asked for, nor one outside the window or the country (unless it belongs to the
//! situation).

use chrono::NaiveDate;
use tocsin_domain::{
    Actor, Areas, Country, Incident, IncidentInput, NewSituation, PageRequest, Situation,
    SituationEdit, Tlp,
};
use tocsin_store::{DayGroup, DaysQuery, Store, StoreError, StoreExt};
use tocsin_store_tests::{story, Db};
use uuid::Uuid;

story!(situation_areas, incident_days);

fn system() -> Actor {
    Actor::system("situations")
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

async fn situation(s: &dyn Store, admin1: Option<Areas>) -> Situation {
    let sit = Situation::parse(NewSituation {
        name: "CAR: centre and east".into(),
        country: "CAF".into(),
        admin1,
        status: Some("active".into()),
        description: Some("Armed groups moving east.".into()),
        tlp: Some(Tlp::Amber),
    })
    .unwrap();
    s.create_situation(&system(), sit).await.unwrap()
}

async fn situation_areas(s: &dyn Store, _db: &Db) {
    let many = situation(
        s,
        Some(Areas::Many(vec!["Ouaka".into(), "Haute-Kotto".into()])),
    )
    .await;
    let back = s.get_situation(many.id).await.unwrap();
    assert_eq!(back.admin1, vec!["Ouaka", "Haute-Kotto"]);
    assert_eq!(back, many);
    let whole = situation(s, None).await;
    assert!(s.get_situation(whole.id).await.unwrap().admin1.is_empty());
    let listed = s
        .list_situations(Tlp::Red, PageRequest::first(50))
        .await
        .unwrap();
    let l = listed.items.iter().find(|x| x.id == many.id).unwrap();
    assert_eq!(l.admin1, vec!["Ouaka", "Haute-Kotto"]);

    // An edit: a third area, a new status; id, country, label and creation kept.
    let edited = back
        .edit(SituationEdit {
            admin1: Some(Areas::Many(vec![
                "Ouaka".into(),
                "Haute-Kotto".into(),
                "Vakaga".into(),
            ])),
            status: Some("watch".into()),
            ..Default::default()
        })
        .unwrap();
    let before = s.audit_entries(0, 100_000).await.unwrap().len();
    s.update_situation(&system(), edited.clone()).await.unwrap();
    let again = s.get_situation(many.id).await.unwrap();
    assert_eq!(again, edited);
    assert_eq!(again.admin1.len(), 3);
    assert_eq!(again.status, "watch");
    let audit = s.audit_entries(0, 100_000).await.unwrap();
    assert_eq!(audit.len(), before + 1);
    let last = audit.last().unwrap();
    assert_eq!(last.action, "situation.update");
    assert_eq!(
        last.record_id.as_deref(),
        Some(many.id.to_string().as_str())
    );

    // Back to the whole country.
    let cleared = again
        .edit(SituationEdit {
            admin1: Some(Areas::Many(vec![])),
            ..Default::default()
        })
        .unwrap();
    s.update_situation(&system(), cleared).await.unwrap();
    assert!(s.get_situation(many.id).await.unwrap().admin1.is_empty());

    // One that does not exist: not found, and nothing written.
    let mut ghost = again.clone();
    ghost.id = Uuid::now_v7();
    let n = s.audit_entries(0, 100_000).await.unwrap().len();
    assert!(matches!(
        s.update_situation(&system(), ghost).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.audit_entries(0, 100_000).await.unwrap().len(), n);
}

#[allow(clippy::too_many_arguments)]
fn incident(
    day: &str,
    country: &str,
    admin1: Option<&str>,
    fatalities: i64,
    tlp: Tlp,
    lat: f64,
    lon: f64,
    situation_id: Option<Uuid>,
) -> Incident {
    Incident::parse(IncidentInput {
        event_date: day.into(),
        event_type: "Violence against civilians".into(),
        sub_event_type: "Attack".into(),
        country: country.into(),
        admin1: admin1.map(String::from),
        latitude: lat,
        longitude: lon,
        fatalities,
        description: "for the trend".into(),
        tlp,
        situation_id,
        ..Default::default()
    })
    .unwrap()
}

async fn incident_days(s: &dyn Store, _db: &Db) {
    let sit = situation(s, Some("Ouaka".into())).await;
    let other = situation(s, None).await;
    let rows = [
        incident(
            "2025-03-03",
            "CAF",
            Some("Ouaka"),
            2,
            Tlp::Green,
            6.0,
            20.5,
            None,
        ),
        incident(
            "2025-03-03",
            "CAF",
            Some("Ouaka"),
            5,
            Tlp::Amber,
            6.3,
            20.9,
            None,
        ),
        incident(
            "2025-03-03",
            "CAF",
            Some("Ouaka"),
            7,
            Tlp::Red,
            6.2,
            20.7,
            None,
        ),
        incident(
            "2025-03-04",
            "CAF",
            Some("Bangui"),
            1,
            Tlp::Green,
            4.4,
            18.6,
            None,
        ),
        incident(
            "2025-03-05",
            "CAF",
            None,
            0,
            Tlp::Clear,
            5.0,
            19.0,
            Some(sit.id),
        ),
        // The situation's, across the border: counted through its situation.
        incident(
            "2025-03-06",
            "TCD",
            Some("Salamat"),
            4,
            Tlp::Green,
            10.9,
            20.6,
            Some(sit.id),
        ),
        // Another situation's, across the border: not asked for.
        incident(
            "2025-03-06",
            "TCD",
            Some("Salamat"),
            9,
            Tlp::Green,
            10.9,
            20.6,
            Some(other.id),
        ),
        // Outside the window.
        incident(
            "2025-02-28",
            "CAF",
            Some("Ouaka"),
            3,
            Tlp::Green,
            6.0,
            20.5,
            None,
        ),
        incident(
            "2025-04-01",
            "CAF",
            Some("Ouaka"),
            3,
            Tlp::Green,
            6.0,
            20.5,
            None,
        ),
        // Another country.
        incident(
            "2025-03-03",
            "SDN",
            Some("Ouaka"),
            3,
            Tlp::Green,
            13.6,
            25.3,
            None,
        ),
    ];
    for i in rows {
        s.create_incident(&system(), i).await.unwrap();
    }
    let q = |max_tlp| DaysQuery {
        country: Country::parse("CAF").unwrap(),
        situation_id: Some(sit.id),
        from: date("2025-03-01"),
        to: date("2025-03-31"),
        max_tlp,
    };
    let mut got = s.incident_days(&q(Tlp::Amber)).await.unwrap();
    got.sort_by(|a, b| {
        (a.date, a.country.code(), &a.admin1).cmp(&(b.date, b.country.code(), &b.admin1))
    });
    let key = |g: &DayGroup| {
        (
            g.date.to_string(),
            g.country.code().to_string(),
            g.admin1.clone(),
            g.in_situation,
            g.incidents,
            g.fatalities,
        )
    };
    let keys: Vec<_> = got.iter().map(key).collect();
    let k = |d: &str, c: &str, a: Option<&str>, mine: bool, n: u64, f: u64| {
        (
            d.to_string(),
            c.to_string(),
            a.map(String::from),
            mine,
            n,
            f,
        )
    };
    assert_eq!(
        keys,
        vec![
            // The RED one is left out at AMBER: two incidents, 7 fatalities, not three and 14.
            k("2025-03-03", "CAF", Some("Ouaka"), false, 2, 7),
            k("2025-03-04", "CAF", Some("Bangui"), false, 1, 1),
            k("2025-03-05", "CAF", None, true, 1, 0),
            k("2025-03-06", "TCD", Some("Salamat"), true, 1, 4),
        ]
    );
    // Bounds of the AMBER-visible points only.
    let ouaka = &got[0];
    assert_eq!(ouaka.bounds, [20.5, 6.0, 20.9, 6.3]);

    // At RED the third Ouaka incident counts, and its point widens the bounds.
    let red = s.incident_days(&q(Tlp::Red)).await.unwrap();
    let o = red
        .iter()
        .find(|g| g.admin1.as_deref() == Some("Ouaka") && g.date == date("2025-03-03"))
        .unwrap();
    assert_eq!((o.incidents, o.fatalities), (3, 14));
    // At CLEAR only the situation's unplaced one.
    let clear = s.incident_days(&q(Tlp::Clear)).await.unwrap();
    assert_eq!(clear.len(), 1);
    assert_eq!((clear[0].incidents, clear[0].in_situation), (1, true));
    // Without a situation, only the country.
    let mut none = q(Tlp::Amber);
    none.situation_id = None;
    let country_only = s.incident_days(&none).await.unwrap();
    assert_eq!(country_only.iter().map(|g| g.incidents).sum::<u64>(), 4);
    assert!(country_only.iter().all(|g| !g.in_situation));
    assert!(country_only.iter().all(|g| g.country.code() == "CAF"));
}
