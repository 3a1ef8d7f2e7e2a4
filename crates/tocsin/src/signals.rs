//! The signal schedule inside `tocsin serve` ([`schedule_job`]); one run is the application
//! layer's [`tocsin_app::signals::run_signals`], shared with `tocsin signals run` ([`run_once`]).

use anyhow::Result;
use chrono::NaiveDate;
use std::time::Duration;
use tocsin_domain::SignalRecord;
use tocsin_signals::DetectorConfig;
use tocsin_store::DynStore;

use crate::config::SignalsConfig;

/// [`tocsin_app::signals::run_signals`], its refusal or failure as an error for the command
/// line: the TLP:RED signals of the `weeks` up to `as_of` and how many were new.
pub async fn run_once(
    store: &DynStore,
    cfg: &DetectorConfig,
    as_of: NaiveDate,
    weeks: u32,
) -> Result<(Vec<SignalRecord>, u64)> {
    Ok(tocsin_app::signals::run_signals(store, cfg, as_of, weeks).await?)
}

/// The signal schedule as a job for the job runner: [`run_once`] every `interval_minutes`
/// (after `start_delay`), on one server at a time among those sharing the database. `None`
/// when the schedule is off (`interval_minutes = 0`). A failed or panicking run is recorded
/// and retried after back-off; the next one runs on time.
pub fn schedule_job(
    store: DynStore,
    cfg: SignalsConfig,
    start_delay: Duration,
) -> Option<tocsin_jobs::Job> {
    if cfg.interval_minutes == 0 {
        tracing::info!("scheduled signal runs are off (signals.interval_minutes = 0)");
        return None;
    }
    let interval = Duration::from_secs(cfg.interval_minutes.saturating_mul(60));
    tracing::info!(
        interval_minutes = cfg.interval_minutes,
        weeks = cfg.weeks,
        "signals will run on a schedule"
    );
    let job = tocsin_jobs::Job::new("signals", interval, move || {
        let (store, detector, weeks) = (store.clone(), cfg.detector.clone(), cfg.weeks);
        async move {
            let as_of = tocsin_domain::time::now().date_naive();
            let started = std::time::Instant::now();
            let (found, new) = run_once(&store, &detector, as_of, weeks)
                .await
                .map_err(|e| format!("scheduled signal run failed: {e:#}"))?;
            let ms = started.elapsed().as_millis() as u64;
            tracing::info!(%as_of, signals = found.len(), new, ms, "scheduled signal run");
            Ok(tocsin_jobs::Progress::done())
        }
    })
    .singleton()
    .start_after(start_delay);
    Some(job)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Days;
    use std::sync::Arc;
    use tocsin_domain::{Actor, Country, Incident, Tlp};
    use tocsin_store::StoreExt;

    fn incident(date: NaiveDate, n: usize) -> Incident {
        Incident::parse(tocsin_domain::IncidentInput {
            event_date: date.to_string(),
            event_type: "Violence against civilians".into(),
            sub_event_type: "Attack".into(),
            country: "CAF".into(),
            admin1: Some("Ouham".into()),
            latitude: 6.5,
            longitude: 17.4,
            fatalities: 1,
            description: format!("synthetic {n}"),
            tlp: Tlp::Amber,
            dataset: Some("test".into()),
            external_id: Some(format!("t{n}")),
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn history_reaches_behind_the_window() {
        let d = DetectorConfig::default();
        let as_of = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
        let from = tocsin_app::signals::history_start(&d, as_of, 4);
        assert_eq!((as_of - from).num_weeks(), 52 + 4 + 4 + 26);
    }

    #[tokio::test]
    async fn schedule_records_signals_and_stops() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store: DynStore = Arc::new(tocsin_store_sqlite::SqliteStore::open(&url).await.unwrap());
        // A quiet year (one incident a week), then a week with fifteen, ending this week.
        let today = tocsin_domain::time::now().date_naive();
        let mut incidents = vec![];
        for w in 1..=40u64 {
            incidents.push(incident(today - Days::new(7 * w), incidents.len()));
        }
        for _ in 0..15 {
            incidents.push(incident(today, incidents.len()));
        }
        store
            .import_incidents(&Actor::system("test"), "test", incidents)
            .await
            .unwrap();
        let cfg = SignalsConfig {
            interval_minutes: 1,
            ..Default::default()
        };
        let mut runner = tocsin_jobs::Runner::new(store.clone());
        runner.add(schedule_job(store.clone(), cfg, Duration::ZERO).unwrap());
        let h = runner.start();
        let caf = Country::parse("CAF").unwrap();
        let mut found = vec![];
        for _ in 0..100 {
            found = store
                .list_signals(Tlp::Red, Some(&caf), None, 100)
                .await
                .unwrap();
            if !found.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            found.iter().any(|s| s.admin1.as_deref() == Some("Ouham")
                && s.metric == "incidents"
                && s.explanation.contains("15 incidents in Ouham, CAF")),
            "{found:?}"
        );
        // Every incident is TLP:AMBER: a TLP:GREEN caller's signals count none of them.
        assert!(store
            .list_signals(Tlp::Green, Some(&caf), None, 100)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            store
                .list_signals(Tlp::Amber, Some(&caf), None, 100)
                .await
                .unwrap()
                .len(),
            found.len()
        );
        tokio::time::timeout(Duration::from_secs(5), h.shutdown())
            .await
            .expect("the schedule stops when told");
        let off = SignalsConfig {
            interval_minutes: 0,
            ..Default::default()
        };
        assert!(schedule_job(store, off, Duration::ZERO).is_none());
    }
}
