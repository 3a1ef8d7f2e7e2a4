//! Escalation signals: the detector ([`tocsin_signals`]) run over the stored incidents and the
//! dangerous speech analysts confirmed, once per clearance level, and recorded. One run
//! ([`run_signals`]) serves `tocsin signals run` and the schedule inside `tocsin serve`.
//!
//! Each level's signals are computed from the records labelled at most that level only, so a
//! reader is never shown a count (of incidents, deaths or confirmed speech) that includes a
//! record above their clearance.

use chrono::{Days, NaiveDate};
use tocsin_domain::{Actor, Country, IncidentFilter, PlacedFlag, SignalRecord, Tlp};
use tocsin_signals::{DetectorConfig, Kind, Observation};
use tocsin_store::{DynStore, StoreExt};

use crate::{AppError, Result};

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

/// A confirmed flag as the detector counts it: on the day its words were said, in the
/// country of its report or post (else the country under the report's position), and in
/// the first-level area under the report's position when that lies in the same country.
/// `None` for a flag with no country at all: it cannot be placed in a series.
pub fn speech_observation(p: &PlacedFlag) -> Option<Observation> {
    let place = p
        .position
        .and_then(|(lat, lon)| tocsin_geo::Gazetteer::global().reverse(lat, lon));
    let country = match (&p.country, &place) {
        (Some(c), _) => c.clone(),
        (None, Some(pl)) => Country::parse(pl.country).ok()?,
        (None, None) => return None,
    };
    let admin1 = place
        .filter(|pl| pl.country == country.code())
        .and_then(|pl| pl.admin1.map(str::to_string));
    Some(Observation {
        date: p.said_at.date_naive(),
        country,
        admin1,
        fatalities: 0,
        kind: Kind::Speech,
    })
}

/// Every stored incident (any label: this is the system reading) with an event date from
/// [`history_start`] to `as_of`, and every confirmed flag said in that time, as the
/// detector sees them, each with its label.
async fn observations(
    store: &DynStore,
    cfg: &DetectorConfig,
    as_of: NaiveDate,
    weeks: u32,
) -> Result<Vec<(Tlp, Observation)>> {
    let from = history_start(cfg, as_of, weeks);
    let filter = IncidentFilter {
        from: Some(from),
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
        .map_err(|e| AppError::Internal(format!("the incident scan stopped: {e}")))??;
    let since = from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    for p in store.confirmed_flags(since, Tlp::Red).await? {
        if let Some(o) = speech_observation(&p).filter(|o| o.date >= from && o.date <= as_of) {
            out.push((p.flag.tlp, o));
        }
    }
    Ok(out)
}

/// The detector run once per clearance level over the records labelled at most that level:
/// what a reader of each clearance may see. A level with no record of its own label gets
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
                tocsin_signals::detect_recent(visible, cfg, Some(as_of), weeks)
                    .map_err(|e| AppError::bad_field("signals", e.to_string()))?
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

/// Detect the signals of the `weeks` weeks up to `as_of` in the stored incidents and
/// confirmed speech, once per clearance level ([`detect_per_level`]), and record every
/// level's (ones already recorded for the same area, metric, week and level are skipped by
/// the store). Returns the TLP:RED signals (the system's view, from every record) and how
/// many of those were new.
pub async fn run_signals(
    store: &DynStore,
    cfg: &DetectorConfig,
    as_of: NaiveDate,
    weeks: u32,
) -> Result<(Vec<SignalRecord>, u64)> {
    cfg.validate()
        .map_err(|e| AppError::bad_field("signals", e.to_string()))?;
    let obs = observations(store, cfg, as_of, weeks).await?;
    let c = cfg.clone();
    let levels = tokio::task::spawn_blocking(move || detect_per_level(&obs, &c, as_of, weeks))
        .await
        .map_err(|e| AppError::Internal(format!("the detector stopped: {e}")))??;
    let now = tocsin_domain::time::now();
    let (mut red, mut red_new) = (vec![], 0);
    for (tlp, found) in levels {
        let records: Vec<SignalRecord> = found.iter().map(|s| to_record(s, tlp, now)).collect();
        let new = if records.is_empty() {
            0
        } else {
            store
                .record_signals(&Actor::system("signals"), records.clone())
                .await?
        };
        if tlp == Tlp::Red {
            (red, red_new) = (records, new);
        }
    }
    Ok((red, red_new))
}
