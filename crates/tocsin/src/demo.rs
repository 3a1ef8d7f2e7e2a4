//! `--demo`: a fictional scenario, seeded once, so a newcomer sees a working system.
//!
//! Every record is invented (the places are real, the events are not) and says so.

use anyhow::Result;
use chrono::{Duration, Utc};
use futures::future::try_join_all;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tocsin_domain::incident::ACLED_TYPOLOGY;
use tocsin_domain::{
    Actor, Channel, ContactKey, Country, Incident, NewReport, NewSource, NewUser, Reliability,
    Role, Situation, SourceContact, Tlp, VerificationStatus,
};
use tocsin_store::{DynStore, Op, StoreExt};

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "tocsin-demo-only";

struct Area {
    name: &'static str,
    country: &'static str,
    admin1: &'static [&'static str],
    lat: f64,
    lon: f64,
    groups: &'static [&'static str],
}

const AREAS: &[Area] = &[
    Area {
        name: "Central African Republic: north-west (demo)",
        country: "CAF",
        admin1: &["Ouham-Pendé", "Ouham", "Nana-Mambéré"],
        lat: 6.9,
        lon: 16.4,
        groups: &["herders", "farming villages", "displaced families"],
    },
    Area {
        name: "South Sudan: Upper Nile (demo)",
        country: "SSD",
        admin1: &["Upper Nile", "Jonglei"],
        lat: 9.5,
        lon: 32.0,
        groups: &["cattle camps", "riverside villages", "returnees"],
    },
    Area {
        name: "Burkina Faso: Sahel (demo)",
        country: "BFA",
        admin1: &["Sahel", "Nord", "Est"],
        lat: 13.8,
        lon: -0.5,
        groups: &["market towns", "pastoralist communities", "IDP sites"],
    },
];

const REPORT_TEXTS: &[&str] = &[
    "Armed men seen moving towards {place} at dawn, about {n} on motorbikes.",
    "Hommes armés signalés près de {place}, les familles fuient vers la brousse.",
    "Houses burned in {place} last night, {n} people missing.",
    "Threats broadcast against {group} in {place}; people are afraid to go to market.",
    "Watu wenye silaha wameonekana karibu na {place}.",
    "Checkpoint set up on the road to {place}; {group} turned back.",
    "Rumour that an attack on {place} is planned for the weekend.",
    "Attaque contre {group} à {place}, {n} blessés selon les voisins.",
];

/// Seed the scenario unless it is already there; print how to log in either way.
pub async fn seed(store: &DynStore, key: &ContactKey) -> Result<()> {
    if store.get_meta("demo_seeded").await?.is_some() {
        print_login();
        return Ok(());
    }
    let actor = Actor::system("demo");
    let mut rng = StdRng::seed_from_u64(2013);

    for role in Role::ALL {
        let name = match role {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::DeskOfficer => "desk",
            Role::MonitorCoordinator => "monitor",
            Role::Viewer => "viewer",
        };
        match store
            .create_user(&actor, NewUser::build(name, role, Some(DEMO_PASSWORD))?)
            .await
        {
            Ok(_) | Err(tocsin_store::StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }

    let mut situations = Vec::new();
    for a in AREAS {
        let s = Situation::parse(tocsin_domain::NewSituation {
            name: a.name.into(),
            country: a.country.into(),
            admin1: Some(tocsin_domain::Areas::Many(
                a.admin1.iter().map(|x| x.to_string()).collect(),
            )),
            status: Some("active".into()),
            description: Some("Fictional demo situation: invented events in a real place.".into()),
            tlp: Some(Tlp::Green),
        })?;
        situations.push(store.create_situation(&actor, s).await?);
    }

    let mut sources = Vec::new();
    for n in 1..=24 {
        let contact = SourceContact {
            chat: None,
            name: None,
            phone: Some(format!("+236700{:05}", 10_000 + n * 37)),
            email: None,
        };
        let rel = [
            Reliability::B,
            Reliability::C,
            Reliability::C,
            Reliability::F,
        ][n % 4];
        let s = NewSource::new(
            &format!("M-{n:04}"),
            "monitor",
            rel,
            Tlp::AmberStrict,
            Some(&contact),
            key,
        )?;
        sources.push(store.create_source(&actor, s).await?);
    }

    let now = Utc::now();
    let mut reports = Vec::new();
    for _ in 0..600 {
        let ai = rng.gen_range(0..AREAS.len());
        let a = &AREAS[ai];
        let days = rng.gen_range(0..180);
        let place = a.admin1[rng.gen_range(0..a.admin1.len())];
        let text = REPORT_TEXTS[rng.gen_range(0..REPORT_TEXTS.len())]
            .replace("{place}", place)
            .replace("{group}", a.groups[rng.gen_range(0..a.groups.len())])
            .replace("{n}", &rng.gen_range(2..40).to_string());
        let at = tocsin_domain::time::now()
            - Duration::days(days)
            - Duration::minutes(rng.gen_range(0..1440));
        let r = NewReport {
            id: tocsin_domain::random_id(),
            channel: [Channel::Sms, Channel::Sms, Channel::Web, Channel::Api][rng.gen_range(0..4)],
            provider_key: None,
            source_id: Some(sources[rng.gen_range(0..sources.len())].id),
            text: format!("[DEMO] {text}"),
            tlp: [Tlp::Amber, Tlp::Amber, Tlp::AmberStrict, Tlp::Green][rng.gen_range(0..4)],
            latitude: Some(a.lat + rng.gen_range(-1.0..1.0)),
            longitude: Some(a.lon + rng.gen_range(-1.5..1.5)),
            country: Some(Country::parse(a.country)?),
            occurred_at: Some(at),
            received_at: at + Duration::minutes(rng.gen_range(5..300)),
            meta: Default::default(),
        };
        reports.push((ai, r));
    }
    let mut report_ids: Vec<Vec<uuid::Uuid>> = vec![Vec::new(); AREAS.len()];
    for chunk in reports.chunks(200) {
        let stored = try_join_all(
            chunk
                .iter()
                .map(|(_, r)| store.create_report(&actor, r.clone())),
        )
        .await?;
        for ((ai, _), r) in chunk.iter().zip(stored) {
            report_ids[*ai].push(r.id);
        }
    }

    let mut incidents = Vec::new();
    for n in 0..420 {
        let ai = n % AREAS.len();
        let a = &AREAS[ai];
        // The first area escalates: its incidents crowd into the last weeks.
        let days = if ai == 0 {
            (rng.gen_range(0.0f64..1.0).powi(3) * 180.0) as i64
        } else {
            rng.gen_range(0..180)
        };
        let (et, subs) = ACLED_TYPOLOGY[[0, 1, 2, 2, 2, 4, 5][rng.gen_range(0..7)]];
        let fatalities: i64 = if et == "Strategic developments" {
            0
        } else {
            rng.gen_range(0..12)
        };
        let mut i = Incident::parse(tocsin_domain::IncidentInput {
            event_date: (now - Duration::days(days)).date_naive().to_string(),
            event_type: et.into(),
            sub_event_type: subs[rng.gen_range(0..subs.len())].into(),
            country: a.country.into(),
            latitude: a.lat + rng.gen_range(-1.0..1.0),
            longitude: a.lon + rng.gen_range(-1.5..1.5),
            fatalities,
            description: format!(
                "[DEMO] Fictional incident affecting {}.",
                a.groups[rng.gen_range(0..a.groups.len())]
            ),
            tlp: [
                Tlp::Clear,
                Tlp::Green,
                Tlp::Green,
                Tlp::Amber,
                Tlp::Amber,
                Tlp::Red,
            ][rng.gen_range(0..6)],
            admin1: Some(a.admin1[rng.gen_range(0..a.admin1.len())].into()),
            actor1: Some(
                [
                    "Armed group A (fictional)",
                    "Militia B (fictional)",
                    "State forces",
                ][rng.gen_range(0..3)]
                .into(),
            ),
            targeted_group: Some(a.groups[rng.gen_range(0..a.groups.len())].into()),
            credibility: Some(rng.gen_range(1..=6)),
            verification_status: Some(VerificationStatus::ALL[rng.gen_range(0..4)]),
            geo_precision: Some(rng.gen_range(1..=3)),
            situation_id: Some(situations[ai].id),
            ..Default::default()
        })?;
        let pool = &report_ids[ai];
        i.report_ids = (0..rng.gen_range(1..=2))
            .map(|_| pool[rng.gen_range(0..pool.len())])
            .collect();
        incidents.push(i);
    }
    for chunk in incidents.chunks(200) {
        try_join_all(
            chunk
                .iter()
                .map(|i| store.create_incident(&actor, i.clone())),
        )
        .await?;
    }
    store
        .write(
            &actor,
            Op::SetMeta(
                "demo_seeded".into(),
                tocsin_domain::time::format(&tocsin_domain::time::now()),
            ),
        )
        .await?;
    let c = store.counts().await?;
    println!(
        "Demo scenario seeded: {} situations, {} sources, {} reports, {} incidents, {} users (all fictional).",
        c.situations, c.sources, c.reports, c.incidents, c.users
    );
    print_login();
    Ok(())
}

fn print_login() {
    println!("Demo users (password \"{DEMO_PASSWORD}\" for each): admin, analyst, desk, monitor, viewer.");
    println!("Log in at the address below as `analyst` to see everything an analyst sees.");
}
