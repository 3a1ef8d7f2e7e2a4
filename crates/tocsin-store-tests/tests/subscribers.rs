//! Subscribers on every backend: subscribing twice is subscribing once (the id and sealed
//! number kept, the place and language replaced, a stopped subscriber active again), STOP by
//! phone hash, area queries (countries, admin1, circle, polygon) counting and selecting only
//! active subscribers inside, counts per admin1 area, the sealed number opening only for its
//! subscriber, and place offers that expire.

use chrono::Duration;
use serde_json::json;
use tocsin_domain::{
    time, Actor, AuditEvent, BroadcastArea, ContactKey, Country, Lang, NewSubscriber,
    SubscriberPhone, SubscriberPlace, SubscriberStatus,
};
use tocsin_store::{AreaCount, Op, PlaceOffer, Step, Store, StoreError, SubscriberStep};
use tocsin_store_tests::{story, Db};
use uuid::Uuid;

story!(
    subscribing_is_idempotent_and_stop_stops,
    areas_select_active_subscribers_inside,
    place_offers_expire_and_clear
);

fn system() -> Actor {
    Actor::system("subscribers-test")
}

fn op(step: SubscriberStep) -> Op {
    Op::All {
        steps: vec![Step::Subscriber(step)],
        audit: Box::new(AuditEvent::new(
            &system(),
            "subscriber.test",
            "subscriber",
            None,
        )),
    }
}

fn place(country: &str, admin1: Option<&str>, name: &str, lat: f64, lon: f64) -> SubscriberPlace {
    SubscriberPlace::new(
        Country::parse(country).unwrap(),
        admin1.map(str::to_string),
        name,
        lat,
        lon,
    )
    .unwrap()
}

async fn subscribe(
    store: &dyn Store,
    key: &ContactKey,
    phone: &str,
    p: SubscriberPlace,
    lang: Lang,
) -> NewSubscriber {
    let n = NewSubscriber::new(&SubscriberPhone::new(phone.into()), p, lang, key);
    store
        .write(
            &system(),
            op(SubscriberStep::Subscribe(Box::new(n.clone()))),
        )
        .await
        .unwrap();
    n
}

async fn stop(store: &dyn Store, key: &ContactKey, phone: &str) {
    let phone_hash = SubscriberPhone::new(phone.into()).lookup_hash(key);
    store
        .write(
            &system(),
            op(SubscriberStep::Stop {
                phone_hash,
                at: time::now(),
            }),
        )
        .await
        .unwrap();
}

async fn subscribing_is_idempotent_and_stop_stops(store: &dyn Store, _db: &Db) {
    let key = ContactKey::generate();
    let bambari = place("CAF", Some("Ouaka"), "Bambari", 5.76, 20.67);
    let first = subscribe(store, &key, "+23672000001", bambari.clone(), Lang::Fr).await;
    let id = first.subscriber.id;
    let got = store.get_subscriber(id).await.unwrap();
    assert_eq!(got, first.subscriber, "read back as written");
    assert!(matches!(
        store.get_subscriber(Uuid::new_v4()).await,
        Err(StoreError::NotFound)
    ));
    let sealed = store.subscriber_contact(id).await.unwrap();
    assert_eq!(
        SubscriberPhone::open(&sealed, &key, id).unwrap().expose(),
        "+23672000001"
    );

    // The same number again, elsewhere and in Sango-speaking Swahili: one subscriber, moved.
    let bria = place("CAF", Some("Haute-Kotto"), "Bria", 6.54, 21.99);
    subscribe(store, &key, "+23672000001", bria.clone(), Lang::Sw).await;
    let again = store.get_subscriber(id).await.unwrap();
    assert_eq!(again.id, id, "the first id is kept");
    assert_eq!(again.place, bria);
    assert_eq!(again.language, Lang::Sw);
    assert_eq!(again.created_at, first.subscriber.created_at);
    let sealed = store.subscriber_contact(id).await.unwrap();
    assert!(
        SubscriberPhone::open(&sealed, &key, id).is_ok(),
        "the number sealed for the first id still opens"
    );
    let hash = SubscriberPhone::new("+23672000001".into()).lookup_hash(&key);
    assert_eq!(
        store
            .subscriber_by_phone_hash(&hash)
            .await
            .unwrap()
            .unwrap()
            .id,
        id
    );
    assert_eq!(store.subscriber_by_phone_hash("nope").await.unwrap(), None);
    let all = BroadcastArea::parse(&json!({"countries": ["CAF"]})).unwrap();
    assert_eq!(store.count_in_area(&all).await.unwrap(), 1);

    // STOP: stopped at once, counted nowhere; a STOP from an unknown number changes nothing.
    stop(store, &key, "+23672000001").await;
    stop(store, &key, "+23672999999").await;
    assert_eq!(
        store.get_subscriber(id).await.unwrap().status,
        SubscriberStatus::Stopped
    );
    assert_eq!(store.count_in_area(&all).await.unwrap(), 0);
    assert!(store.recipients_in_area(&all).await.unwrap().is_empty());
    assert!(store.subscriber_counts(None).await.unwrap().is_empty());

    // Joining again makes the same subscriber active.
    subscribe(store, &key, "+23672000001", bambari, Lang::Fr).await;
    let back = store.get_subscriber(id).await.unwrap();
    assert_eq!(back.status, SubscriberStatus::Active);
    assert_eq!(back.language, Lang::Fr);
    assert_eq!(store.count_in_area(&all).await.unwrap(), 1);
}

async fn areas_select_active_subscribers_inside(store: &dyn Store, _db: &Db) {
    let key = ContactKey::generate();
    // Bangui (Ombella-M'Poko has none here), Bambari (Ouaka), Bria (Haute-Kotto), and one in
    // Chad; one Bambari subscriber stops.
    let people = [
        (
            "+23672100001",
            place("CAF", Some("Bangui"), "Bangui", 4.36, 18.56),
            Lang::Fr,
        ),
        (
            "+23672100002",
            place("CAF", Some("Bangui"), "Bangui", 4.37, 18.58),
            Lang::Sw,
        ),
        (
            "+23672100003",
            place("CAF", Some("Ouaka"), "Bambari", 5.76, 20.67),
            Lang::Fr,
        ),
        (
            "+23672100004",
            place("CAF", Some("Ouaka"), "Bambari", 5.77, 20.68),
            Lang::Ar,
        ),
        (
            "+23672100005",
            place("CAF", Some("Haute-Kotto"), "Bria", 6.54, 21.99),
            Lang::En,
        ),
        (
            "+23566000006",
            place("TCD", Some("Salamat"), "Am Timan", 11.03, 20.28),
            Lang::Ar,
        ),
        (
            "+23672100007",
            place("CAF", None, "Somewhere", 7.0, 19.0),
            Lang::Fr,
        ),
    ];
    let mut ids = Vec::new();
    for (phone, p, l) in &people {
        ids.push(
            subscribe(store, &key, phone, p.clone(), *l)
                .await
                .subscriber
                .id,
        );
    }
    stop(store, &key, "+23672100004").await;

    let counts = store.subscriber_counts(None).await.unwrap();
    let c = |country: &str, admin1: Option<&str>, count: u64| AreaCount {
        country: Country::parse(country).unwrap(),
        admin1: admin1.map(str::to_string),
        count,
    };
    assert_eq!(
        counts,
        vec![
            c("CAF", None, 1),
            c("CAF", Some("Bangui"), 2),
            c("CAF", Some("Haute-Kotto"), 1),
            c("CAF", Some("Ouaka"), 1),
            c("TCD", Some("Salamat"), 1),
        ],
        "active subscribers per admin1 area, the stopped one left out"
    );

    let area = |v| BroadcastArea::parse(&v).unwrap();
    let countries = area(json!({"countries": ["CAF"]}));
    assert_eq!(store.count_in_area(&countries).await.unwrap(), 5);
    let admin1 = area(
        json!({"admin1": [{"country": "CAF", "name": "Ouaka"}, {"country": "CAF", "name": "Bangui"}]}),
    );
    let mut got: Vec<Uuid> = store
        .recipients_in_area(&admin1)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    got.sort();
    let mut want = vec![ids[0], ids[1], ids[2]];
    want.sort();
    assert_eq!(got, want, "Bangui and Ouaka, without the stopped one");
    // The same name in another country is another area.
    let wrong_country = area(json!({"admin1": [{"country": "TCD", "name": "Ouaka"}]}));
    assert_eq!(store.count_in_area(&wrong_country).await.unwrap(), 0);

    // 25 km around central Bangui: both Bangui subscribers, in their languages.
    let circle = area(json!({"circle": {"lat": 4.36, "lon": 18.56, "radius_km": 25}}));
    let mut rec = store.recipients_in_area(&circle).await.unwrap();
    rec.sort_by_key(|r| r.id);
    let mut want: Vec<(Uuid, Lang)> = vec![(ids[0], Lang::Fr), (ids[1], Lang::Sw)];
    want.sort();
    assert_eq!(
        rec.iter().map(|r| (r.id, r.language)).collect::<Vec<_>>(),
        want
    );
    // A triangle around Bambari and Bria, whose box also holds the subscriber at 7°N 19°E
    // (outside the triangle): only the two inside are selected.
    let triangle = area(json!({"polygon": {"type": "Polygon", "coordinates": [[
        [20.0, 5.0], [23.0, 6.0], [20.5, 7.5], [20.0, 5.0]
    ]]}}));
    let b = triangle.bbox().unwrap();
    assert!(b.min_lon <= 20.0 && b.max_lat >= 7.0);
    let mut got: Vec<Uuid> = store
        .recipients_in_area(&triangle)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    got.sort();
    let mut want = vec![ids[2], ids[4]];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(
        store.subscriber_counts(Some(&triangle)).await.unwrap(),
        vec![c("CAF", Some("Haute-Kotto"), 1), c("CAF", Some("Ouaka"), 1)]
    );
    assert_eq!(store.count_in_area(&triangle).await.unwrap(), 2);
}

async fn place_offers_expire_and_clear(store: &dyn Store, _db: &Db) {
    let now = time::now();
    let offer = PlaceOffer {
        phone_hash: "h1".into(),
        language: Lang::Fr,
        places: vec![
            place("CAF", Some("Ouaka"), "Bambari", 5.76, 20.67),
            place("COD", Some("Ituri"), "Bambari", 1.63, 29.98),
        ],
        expires_at: now + Duration::minutes(15),
    };
    store
        .write(
            &system(),
            op(SubscriberStep::Offer(Box::new(offer.clone()))),
        )
        .await
        .unwrap();
    let got = store.place_offer("h1", now).await.unwrap().unwrap();
    assert_eq!(got.places, offer.places);
    assert_eq!(got.language, Lang::Fr);
    assert_eq!(
        store
            .place_offer("h1", now + Duration::minutes(16))
            .await
            .unwrap(),
        None,
        "expired"
    );
    assert_eq!(store.place_offer("h2", now).await.unwrap(), None);
    // A new offer replaces the old one; STOP clears it.
    let mut second = offer.clone();
    second.places.truncate(1);
    store
        .write(&system(), op(SubscriberStep::Offer(Box::new(second))))
        .await
        .unwrap();
    assert_eq!(
        store
            .place_offer("h1", now)
            .await
            .unwrap()
            .unwrap()
            .places
            .len(),
        1
    );
    store
        .write(
            &system(),
            op(SubscriberStep::Stop {
                phone_hash: "h1".into(),
                at: now,
            }),
        )
        .await
        .unwrap();
    assert_eq!(store.place_offer("h1", now).await.unwrap(), None);
    store
        .write(&system(), op(SubscriberStep::ClearOffer("h1".into())))
        .await
        .unwrap();
}
