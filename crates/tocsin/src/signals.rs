//! Escalation signals from the stored incidents: one run ([`run_once`]), shared by
//! `tocsin signals run` and the schedule inside `tocsin serve` ([`schedule_job`]).

use anyhow::{Context, Result};
use chrono::{Days, NaiveDate};
use std::time::Duration;
use tocsin_domain::{Actor, IncidentFilter, SignalRecord, Tlp};
use tocsin_signals::{DetectorConfig, Observation};
use tocsin_store::{DynStore, StoreExt};

use crate::config::SignalsConfig;

/// Weeks of history read before the detector's own window, guard band and recorded weeks,
/// so that the CUSUM of the first recorded week has settled.
pub const MARGIN_WEEKS: u64 = 26;

/// The first day of history a run reads.
pub fn history_start(cfg: &DetectorConfig, as_of: NaiveDate, weeks: u32) -> NaiveDate {
    let span =
        u64::from(cfg.window_weeks) + u64::from(cfg.guard_weeks) + u64::from(weeks) + MARGIN_WEEKS;
    as_of
        .checked_sub_days(Days::new(7 * span))
        .unwrap_or(NaiveDate::MIN)
}

/// Every stored incident (any label: this is the system reading) with an event date from
/// [`history_start`] to `as_of`, as the detector sees it, with its label.
async fn observations(
    store: &DynStore,
    cfg: &DetectorConfig,
    as_of: NaiveDate,
    weeks: u32,
) -> Result<Vec<(Tlp, Observation)>> {
    let filter = IncidentFilter {
        from: Some(history_start(cfg, as_of, weeks)),
        to: Some(as_of),
        max_tlp: Tlp::Red,
        ..Default::default()
    };
    // The store's streamed read: one snapshot, batches over a channel.
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let scan = {
        let store = store.clone();
        tokio::spawn(async move { store.scan_incidents(&filter, tx).await })
    };
    let mut out = vec![];
    while let Some(batch) = rx.recv().await {
        out.extend(batch.iter().map(|i| (i.tlp, Observation::from(i))));
    }
    scan.await
        .context("the incident scan stopped")?
        .context("cannot read incidents")?;
    Ok(out)
}

/// The detector run once per clearance level over the incidents labelled at most that level:
/// what a caller of each clearance may see. A level with no incident of its own label gets
/// the level below's signals again, without a second detector run.
fn detect_per_level(
    obs: &[(Tlp, Observation)],
    cfg: &DetectorConfig,
    as_of: NaiveDate,
    weeks: u32,
) -> Result<Vec<(Tlp, Vec<tocsin_signals::Signal>)>> {
    let mut out: Vec<(Tlp, Vec<tocsin_signals::Signal>)> = vec![];
    for level in Tlp::ALL {
        let found = match out.last() {
            Some((_, below)) if !obs.iter().any(|(t, _)| *t == level) => below.clone(),
            _ => {
                let visible = obs
                    .iter()
                    .filter(|(t, _)| *t <= level)
                    .map(|(_, o)| o.clone());
                tocsin_signals::detect_recent(visible, cfg, Some(as_of), weeks)?
            }
        };
        out.push((level, found));
    }
    Ok(out)
}

/// A detected signal as stored.
pub fn to_record(
    s: &tocsin_signals::Signal,
    tlp: Tlp,
    now: chrono::DateTime<chrono::Utc>,
) -> SignalRecord {
    SignalRecord {
        id: tocsin_domain::new_id(),
        country: s.area.country.clone(),
        admin1: s.area.admin1.clone(),
        metric: s.metric.as_str().to_string(),
        week_start: s.week_start,
        observed: s.observed as f64,
        expected: s.expected,
        score: s.score,
        threshold: s.threshold,
        severity: s.severity.to_string().to_ascii_lowercase(),
        explanation: s.explanation.clone(),
        created_at: now,
        tlp,
    }
}

/// Detect the signals of the `weeks` weeks up to `as_of` in the stored incidents, once per
/// clearance level ([`detect_per_level`]), and record every level's (ones already recorded for
/// the same area, metric, week and level are skipped by the store). Returns the TLP:RED
/// signals (the system's view, from every incident) and how many of those were new.
pub async fn run_once(
    store: &DynStore,
    cfg: &DetectorConfig,
    as_of: NaiveDate,
    weeks: u32,
) -> Result<(Vec<SignalRecord>, u64)> {
    cfg.validate()?;
    let obs = observations(store, cfg, as_of, weeks).await?;
    let c = cfg.clone();
    let levels = tokio::task::spawn_blocking(move || detect_per_level(&obs, &c, as_of, weeks))
        .await
        .context("the detector stopped")??;
    let now = tocsin_domain::time::now();
    let (mut red, mut red_new) = (vec![], 0);
    for (tlp, found) in levels {
        let records: Vec<SignalRecord> = found.iter().map(|s| to_record(s, tlp, now)).collect();
        let new = if records.is_empty() {
            0
        } else {
            store
                .record_signals(&Actor::system("signals"), records.clone())
                .await
                .context("cannot record signals")?
        };
        if tlp == Tlp::Red {
            (red, red_new) = (records, new);
        }
    }
    Ok((red, red_new))
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
    use std::sync::Arc;
    use tocsin_domain::{Country, Incident};

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
        let from = history_start(&d, as_of, 4);
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
