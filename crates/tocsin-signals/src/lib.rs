//! Escalation signals: weekly incident and fatality series per area, a negative-binomial
//! CUSUM detector, and signals that explain themselves.
//!
//! A *signal* is an automatic detection that violence in an area has risen above what its
//! own recent history makes expected, e.g. "902 fatalities in Bangui province, CAF in the
//! week of 2013-12-02 against 4.1 expected". Signals are prompts for an analyst, not
//! findings: they say *where to look*, never what happened.
//!
//! # Series ([`weekly_series`])
//!
//! Observations (an event date, a country, an optional admin1 and a fatality count; see
//! [`Observation`], which [`tocsin_domain::Incident`] converts into) are counted per ISO
//! week (Monday to Sunday, [`week_start`]) in two kinds of area: each country, and each
//! (country, admin1) pair. An incident without an admin1 counts for its country only. Two
//! metrics per area ([`Metric`]): the number of incidents and the sum of their best
//! fatality estimates. Weeks without events are zeros: every series of a country and of
//! its admin1s runs from the week of that country's first observation to the last week
//! (the week containing `as_of`, or of the latest observation), with no gaps. The last week
//! may be incomplete; it is evaluated as it stands, which can only under-count, and the
//! next run recomputes everything from the full history.
//!
//! # Detector ([`scan`])
//!
//! For each week `t` of a series `y`, with the settings of [`DetectorConfig`] and the
//! metric's [`MetricConfig`]:
//!
//! 1. **Baseline.** The window is the `W` weeks (`window_weeks`, default 52) that end
//!    `g` weeks before `t` (`guard_weeks`, default 4): weeks `t−g−W … t−g−1`. The guard
//!    band keeps the first weeks of an escalation out of its own baseline. A week whose
//!    window holds fewer than `min_baseline_weeks` (default 8) weeks of history is not
//!    evaluated. The in-control distribution is negative binomial, fitted by the method of
//!    moments on the window's mean `m` and sample variance `v`:
//!    `μ = max(m, mean_floor)` and size (dispersion) `r = m² / (v − m)` when `v > m`, else
//!    Poisson (`r = ∞`); then `r = max(r, min_size)`. The mean floor stops a quiet series
//!    (a baseline of zero) from alarming on a single event; the size floor stops one past
//!    outlier in the window from making the series deaf.
//! 2. **CUSUM.** The upper one-sided CUSUM of the negative-binomial log-likelihood ratio
//!    for a shift of the mean from `μ` to `kμ` (`k` = `shift`) at fixed size `r` (the
//!    NB CUSUM of Höhle & Paul 2008, as in the R package `surveillance`):
//!
//!    ```text
//!    LLR_t = y_t · ln( k(r + μ) / (r + kμ) ) + r · ln( (r + μ) / (r + kμ) )
//!    (Poisson limit r → ∞:  LLR_t = y_t · ln k − (k − 1)μ)
//!    S_t   = max(0, S_{t−1} + LLR_t),  S before the first evaluated week = 0
//!    ```
//!
//!    The statistic is the evidence, in nats, that the series now runs at `k` times its
//!    baseline rather than at it; it accumulates over consecutive weeks, so a sustained
//!    moderate rise is found as well as a single large jump.
//! 3. **Shewhart arm.** The CUSUM weighs each count linearly, so under a strongly
//!    overdispersed baseline (small `r`) even a count far beyond anything in the window
//!    adds little. Alongside it, as in a combined Shewhart–CUSUM scheme (Lucas 1982), a
//!    week is also tested on its own: its upper tail probability `P(Y ≥ y_t)` under the
//!    fitted baseline (summed in log space) alarms below `tail_probability` (default
//!    10⁻⁴; 0 turns the arm off).
//! 4. **Alarm.** A week alarms when `S_t > h` (`threshold`) or `P(Y ≥ y_t) <
//!    tail_probability`, provided `LLR_t > 0` (the week itself is above expectation) and
//!    `y_t ≥ min_observed`; `S` then restarts at 0. A sustained escalation therefore
//!    alarms again every few weeks until its level has entered the baseline. The severity
//!    is [`Severity::High`] when `S_t ≥ high_factor · h` (default 2) or the tail probability
//!    is below a hundredth of `tail_probability`, else [`Severity::Moderate`].
//!
//! **Fatalities** are heavy-tailed (a single massacre can outweigh a year), so they are
//! their own negative binomial, whose method-of-moments size is typically far below 1:
//! the per-death weight `ln(k(r+μ)/(r+kμ))` is then small, and a fatality alarm needs a
//! sustained rise, a week far beyond the window's own spread (the Shewhart arm), or a
//! quiet area (where the mean floor of 1 death a week applies). Their size floor
//! (`min_size` 0.3, against 1 for incidents) keeps one past massacre from making the
//! series deaf; an alarm needs 10 deaths in its week.
//!
//! **Speech**: dangerous-speech flags an analyst confirmed ([`Kind::Speech`] observations,
//! dated by when the words were said or published, placed by the report's or post's
//! country and, where the report has a position, its admin1) are a third series per area.
//! They never count as incidents; a rise in confirmed incitement in an area is a signal of
//! its own, with the incidents' settings by default (`[signals.speech]`).
//!
//! # Defaults and their measurement
//!
//! The defaults ([`DetectorConfig::default`]) were chosen on synthetic series
//! (`tests/synthetic.rs`): Poisson and negative-binomial baselines of 0.3, 2 and 10
//! incidents a week (each incident with negative-binomial deaths, mean 4, size 0.5), step
//! changes of ×2, ×3 and ×5 at a known week after three years of history, and series
//! without change; 200 runs per cell. `cargo test -p tocsin-signals --test synthetic --
//! --nocapture` prints the tables, `-- --ignored --nocapture` the sweep over window
//! (26, 52), shift (1.5, 2, 3) and threshold (3–6). With the defaults:
//!
//! * false alarms on the series without change: at most 0.72 per 100 area-weeks for
//!   incidents (0.38 at Poisson 2 a week, i.e. one in about five years per area) and 0.47
//!   for fatalities; the test asserts ≤ 1;
//! * a ×3 rise in incidents at 2 a week is found within its first 4 weeks in 93% of runs
//!   (median delay 1 week; the test asserts ≥ 90%), at 10 a week in 100%; ×5 at 0.3 a
//!   week in only 26% (median 7 weeks): sparse series need time;
//! * fatalities alone are a slow signal (×3 at 2 incidents a week: 12% within 4 weeks):
//!   the incident series does most of the early work;
//! * one to four incidents after a year of none do not alarm; five do (Shewhart), and so
//!   do three weeks of three (CUSUM).
//!
//! On UCDP GED 23.1 for the Central African Republic (1,848 events, `tests/car.rs`;
//! `cargo run -p tocsin-signals --example car` prints them) the defaults give 201 signals
//! over 1991–2022, 75 of them in 2013–14: Séléka's offensive (Ouham, December 2012), the
//! fall of Bangui (March–April 2013), Bossangoa and Ouham (September 2013), and the
//! anti-balaka attack on Bangui of 5 December 2013 (902 deaths against 4.1 expected).
//!
//! # Use
//!
//! [`detect`] runs the detector over every area and returns every alarm of the history;
//! [`detect_recent`] returns those of the last weeks only, which is what a scheduled run
//! records. Both are deterministic: the output is ordered by week, then area, then metric.

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use tocsin_domain::{Country, Incident};

/// An area under watch: a country, or one of its first-level subdivisions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Area {
    /// The country.
    pub country: Country,
    /// The first-level subdivision, or `None` for the whole country.
    pub admin1: Option<String>,
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.admin1 {
            Some(a) => write!(f, "{a}, {}", self.country.code()),
            None => f.write_str(self.country.code()),
        }
    }
}

/// What a series counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Incidents in the week.
    Incidents,
    /// Best-estimate deaths in the week's incidents.
    Fatalities,
    /// Dangerous speech an analyst confirmed, by the week it was said or published.
    Speech,
}

impl Metric {
    /// Every metric, in output order.
    pub const ALL: [Metric; 3] = [Metric::Incidents, Metric::Fatalities, Metric::Speech];

    /// `incidents` or `fatalities`.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Incidents => "incidents",
            Metric::Fatalities => "fatalities",
            Metric::Speech => "speech",
        }
    }

    fn noun(self, n: u64) -> &'static str {
        match (self, n) {
            (Metric::Incidents, 1) => "incident",
            (Metric::Incidents, _) => "incidents",
            (Metric::Fatalities, 1) => "fatality",
            (Metric::Fatalities, _) => "fatalities",
            (Metric::Speech, 1) => "confirmed dangerous-speech flag",
            (Metric::Speech, _) => "confirmed dangerous-speech flags",
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an observation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// An incident: counts in [`Metric::Incidents`] and its deaths in [`Metric::Fatalities`].
    #[default]
    Incident,
    /// A dangerous-speech flag an analyst confirmed: counts in [`Metric::Speech`] only.
    Speech,
}

/// One event as the detector sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// Day of the event.
    pub date: NaiveDate,
    /// Its country.
    pub country: Country,
    /// Its first-level subdivision, if known (blank counts as unknown).
    pub admin1: Option<String>,
    /// Best estimate of deaths (0 for speech).
    pub fatalities: u64,
    /// An incident or confirmed speech.
    pub kind: Kind,
}

impl From<&Incident> for Observation {
    fn from(i: &Incident) -> Observation {
        Observation {
            date: i.event_date,
            country: i.country.clone(),
            admin1: i.admin1.clone(),
            fatalities: u64::try_from(i.fatalities).unwrap_or(0),
            kind: Kind::Incident,
        }
    }
}

/// The Monday that starts `date`'s ISO week.
pub fn week_start(date: NaiveDate) -> NaiveDate {
    date - Days::new(u64::from(date.weekday().num_days_from_monday()))
}

/// An area's weekly counts, without gaps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklySeries {
    /// The area.
    pub area: Area,
    /// Monday of the first week.
    pub start: NaiveDate,
    /// Incidents per week.
    pub incidents: Vec<u64>,
    /// Fatalities per week.
    pub fatalities: Vec<u64>,
    /// Confirmed dangerous-speech flags per week.
    pub speech: Vec<u64>,
}

impl WeeklySeries {
    /// The counts of `metric`.
    pub fn values(&self, metric: Metric) -> &[u64] {
        match metric {
            Metric::Incidents => &self.incidents,
            Metric::Fatalities => &self.fatalities,
            Metric::Speech => &self.speech,
        }
    }

    /// Monday of week `index`.
    pub fn week(&self, index: usize) -> NaiveDate {
        self.start + Days::new(7 * index as u64)
    }
}

/// Weekly series of every country and (country, admin1) in `observations`, ordered by
/// area (a country before its admin1s). Observations after `as_of` are left out; the
/// series end with the week containing `as_of`, or with the week of the latest observation.
pub fn weekly_series<I, O>(observations: I, as_of: Option<NaiveDate>) -> Vec<WeeklySeries>
where
    I: IntoIterator<Item = O>,
    O: Into<Observation>,
{
    // (area, week) → (incidents, fatalities, speech); country → first week.
    let mut cells: BTreeMap<Area, BTreeMap<NaiveDate, (u64, u64, u64)>> = BTreeMap::new();
    let mut first: BTreeMap<Country, NaiveDate> = BTreeMap::new();
    let mut latest: Option<NaiveDate> = None;
    for o in observations {
        let o: Observation = o.into();
        if as_of.is_some_and(|d| o.date > d) {
            continue;
        }
        let week = week_start(o.date);
        latest = latest.max(Some(week));
        first
            .entry(o.country.clone())
            .and_modify(|w| *w = (*w).min(week))
            .or_insert(week);
        let admin1 = o.admin1.as_deref().map(str::trim).filter(|a| !a.is_empty());
        let mut add = |area: Area| {
            let c = cells.entry(area).or_default().entry(week).or_default();
            match o.kind {
                Kind::Incident => {
                    c.0 += 1;
                    c.1 = c.1.saturating_add(o.fatalities);
                }
                Kind::Speech => c.2 += 1,
            }
        };
        add(Area {
            country: o.country.clone(),
            admin1: None,
        });
        if let Some(a) = admin1 {
            add(Area {
                country: o.country.clone(),
                admin1: Some(a.to_string()),
            });
        }
    }
    let Some(last) = as_of.map(week_start).or(latest) else {
        return vec![];
    };
    cells
        .into_iter()
        .filter_map(|(area, weeks)| {
            let start = first[&area.country];
            if start > last {
                return None;
            }
            let len = ((last - start).num_days() / 7 + 1) as usize;
            let mut s = WeeklySeries {
                area,
                start,
                incidents: vec![0; len],
                fatalities: vec![0; len],
                speech: vec![0; len],
            };
            for (week, (n, f, sp)) in weeks {
                let i = ((week - start).num_days() / 7) as usize;
                s.incidents[i] = n;
                s.fatalities[i] = f;
                s.speech[i] = sp;
            }
            Some(s)
        })
        .collect()
}

/// A setting refused by [`DetectorConfig::validate`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// The named setting is out of range.
    #[error("signals.{field}: {reason}")]
    Invalid {
        /// The setting, e.g. `incidents.shift`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// The detector's settings for one metric (see the crate documentation for the maths).
/// Deserialised as part of [`DetectorConfig`], where a missing field takes the metric's
/// default.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricConfig {
    /// `k`: the CUSUM looks for a rise to `k` times the baseline mean (> 1).
    pub shift: f64,
    /// `h`: the CUSUM alarms above this (> 0).
    pub threshold: f64,
    /// The baseline mean used is at least this (> 0), so a quiet area does not alarm on
    /// one event.
    pub mean_floor: f64,
    /// The negative-binomial size (dispersion) used is at least this (> 0).
    pub min_size: f64,
    /// An alarm needs at least this count in its week.
    pub min_observed: u64,
    /// The Shewhart arm: a week also alarms when a count at least as high has less than
    /// this probability under its baseline (0 turns the arm off).
    pub tail_probability: f64,
}

/// The detector's settings, as they appear under `[signals]` in the configuration; every
/// field is optional there and defaults as documented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RawConfig")]
pub struct DetectorConfig {
    /// `W`: weeks in the baseline window (default 52).
    pub window_weeks: u32,
    /// `g`: most recent weeks left out of the baseline (default 4).
    pub guard_weeks: u32,
    /// Weeks of history a baseline needs before its week is evaluated (default 8).
    pub min_baseline_weeks: u32,
    /// A signal is [`Severity::High`] when its score is at least this many times the
    /// threshold (default 2).
    pub high_factor: f64,
    /// Incident counts: `shift` 2, `threshold` 4, `mean_floor` 0.25, `min_size` 1,
    /// `min_observed` 3, `tail_probability` 10⁻⁴.
    pub incidents: MetricConfig,
    /// Fatalities: `shift` 2, `threshold` 5, `mean_floor` 1, `min_size` 0.3,
    /// `min_observed` 10, `tail_probability` 10⁻⁴.
    pub fatalities: MetricConfig,
    /// Confirmed dangerous speech: as incidents (`shift` 2, `threshold` 4, `mean_floor`
    /// 0.25, `min_size` 1, `min_observed` 3, `tail_probability` 10⁻⁴).
    pub speech: MetricConfig,
}

impl Default for DetectorConfig {
    fn default() -> DetectorConfig {
        DetectorConfig {
            window_weeks: 52,
            guard_weeks: 4,
            min_baseline_weeks: 8,
            high_factor: 2.0,
            incidents: MetricConfig {
                shift: 2.0,
                threshold: 4.0,
                mean_floor: 0.25,
                min_size: 1.0,
                min_observed: 3,
                tail_probability: 1e-4,
            },
            fatalities: MetricConfig {
                shift: 2.0,
                threshold: 5.0,
                mean_floor: 1.0,
                min_size: 0.3,
                min_observed: 10,
                tail_probability: 1e-4,
            },
            speech: MetricConfig {
                shift: 2.0,
                threshold: 4.0,
                mean_floor: 0.25,
                min_size: 1.0,
                min_observed: 3,
                tail_probability: 1e-4,
            },
        }
    }
}

/// [`MetricConfig`] as written, every field optional.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    shift: Option<f64>,
    threshold: Option<f64>,
    mean_floor: Option<f64>,
    min_size: Option<f64>,
    min_observed: Option<u64>,
    tail_probability: Option<f64>,
}

impl RawMetric {
    fn over(self, d: MetricConfig) -> MetricConfig {
        MetricConfig {
            shift: self.shift.unwrap_or(d.shift),
            threshold: self.threshold.unwrap_or(d.threshold),
            mean_floor: self.mean_floor.unwrap_or(d.mean_floor),
            min_size: self.min_size.unwrap_or(d.min_size),
            min_observed: self.min_observed.unwrap_or(d.min_observed),
            tail_probability: self.tail_probability.unwrap_or(d.tail_probability),
        }
    }
}

/// [`DetectorConfig`] as written, every field optional.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    window_weeks: Option<u32>,
    guard_weeks: Option<u32>,
    min_baseline_weeks: Option<u32>,
    high_factor: Option<f64>,
    incidents: RawMetric,
    fatalities: RawMetric,
    speech: RawMetric,
}

impl From<RawConfig> for DetectorConfig {
    fn from(r: RawConfig) -> DetectorConfig {
        let d = DetectorConfig::default();
        DetectorConfig {
            window_weeks: r.window_weeks.unwrap_or(d.window_weeks),
            guard_weeks: r.guard_weeks.unwrap_or(d.guard_weeks),
            min_baseline_weeks: r.min_baseline_weeks.unwrap_or(d.min_baseline_weeks),
            high_factor: r.high_factor.unwrap_or(d.high_factor),
            incidents: r.incidents.over(d.incidents),
            fatalities: r.fatalities.over(d.fatalities),
            speech: r.speech.over(d.speech),
        }
    }
}

impl DetectorConfig {
    /// The settings of `metric`.
    pub fn metric(&self, metric: Metric) -> &MetricConfig {
        match metric {
            Metric::Incidents => &self.incidents,
            Metric::Fatalities => &self.fatalities,
            Metric::Speech => &self.speech,
        }
    }

    /// Refuse settings the detector cannot work with.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |field, reason: &str| {
            Err(ConfigError::Invalid {
                field,
                reason: reason.to_string(),
            })
        };
        if self.window_weeks == 0 {
            return bad("window_weeks", "must be at least 1");
        }
        if self.min_baseline_weeks == 0 || self.min_baseline_weeks > self.window_weeks {
            return bad("min_baseline_weeks", "must be between 1 and window_weeks");
        }
        if !(1.0..=f64::MAX).contains(&self.high_factor) {
            return bad("high_factor", "must be at least 1");
        }
        for (m, names) in [
            (
                &self.incidents,
                [
                    "incidents.shift",
                    "incidents.threshold",
                    "incidents.mean_floor",
                    "incidents.min_size",
                    "incidents.tail_probability",
                ],
            ),
            (
                &self.fatalities,
                [
                    "fatalities.shift",
                    "fatalities.threshold",
                    "fatalities.mean_floor",
                    "fatalities.min_size",
                    "fatalities.tail_probability",
                ],
            ),
            (
                &self.speech,
                [
                    "speech.shift",
                    "speech.threshold",
                    "speech.mean_floor",
                    "speech.min_size",
                    "speech.tail_probability",
                ],
            ),
        ] {
            let checks = [
                (m.shift > 1.0 && m.shift.is_finite(), "must be above 1"),
                (
                    m.threshold > 0.0 && m.threshold.is_finite(),
                    "must be above 0",
                ),
                (
                    m.mean_floor > 0.0 && m.mean_floor.is_finite(),
                    "must be above 0",
                ),
                (m.min_size > 0.0, "must be above 0"),
                (
                    (0.0..1.0).contains(&m.tail_probability),
                    "must be at least 0 and below 1",
                ),
            ];
            for ((ok, reason), field) in checks.into_iter().zip(names) {
                if !ok {
                    return bad(field, reason);
                }
            }
        }
        Ok(())
    }
}

/// A week where the CUSUM crossed its threshold, in series terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    /// Index of the week in the series.
    pub index: usize,
    /// The week's count.
    pub observed: u64,
    /// The baseline mean used for the week (after the floor).
    pub expected: f64,
    /// The baseline window's own mean (before the floor).
    pub baseline_mean: f64,
    /// Weeks in the baseline window.
    pub baseline_weeks: usize,
    /// Index of the window's first week.
    pub baseline_start: usize,
    /// The CUSUM statistic at the alarm.
    pub score: f64,
    /// Probability of at least `observed` under the week's baseline distribution.
    pub tail: f64,
    /// Consecutive weeks the statistic has been above zero, this one included.
    pub run_weeks: usize,
    /// Count over those weeks.
    pub run_observed: u64,
    /// Expected count over those weeks.
    pub run_expected: f64,
}

/// `P(Y ≥ y)` for `Y` negative binomial with mean `mu` and size `size` (Poisson when
/// `size` is infinite), summed in log space so that large means do not underflow.
fn upper_tail(y: u64, mu: f64, size: f64) -> f64 {
    if y == 0 {
        return 1.0;
    }
    let poisson = size > 1e9;
    // log p(0), then p(j + 1) / p(j).
    let mut lp = if poisson {
        -mu
    } else {
        size * (size / (size + mu)).ln()
    };
    let mut below = 0.0;
    for j in 0..y {
        below += lp.exp();
        let jf = j as f64;
        lp += if poisson {
            (mu / (jf + 1.0)).ln()
        } else {
            ((jf + size) / (jf + 1.0) * mu / (size + mu)).ln()
        };
    }
    // When `below` rounds to 1, sum the tail directly instead.
    if below > 0.999 {
        let mut tail = 0.0;
        for j in y..y.saturating_add(100_000) {
            let p = lp.exp();
            tail += p;
            if p < tail * 1e-17 {
                break;
            }
            let jf = j as f64;
            lp += if poisson {
                (mu / (jf + 1.0)).ln()
            } else {
                ((jf + size) / (jf + 1.0) * mu / (size + mu)).ln()
            };
        }
        tail.min(1.0)
    } else {
        (1.0 - below).max(0.0)
    }
}

/// Run the detector over one series; the alarms in week order.
pub fn scan(
    counts: &[u64],
    config: &DetectorConfig,
    metric: Metric,
) -> Result<Vec<Alarm>, ConfigError> {
    config.validate()?;
    let m = config.metric(metric);
    let window = config.window_weeks as usize;
    let guard = config.guard_weeks as usize;
    let min_base = config.min_baseline_weeks as usize;
    // Prefix sums of y and y² (exact in f64 below 2⁵³).
    let mut p1 = Vec::with_capacity(counts.len() + 1);
    let mut p2 = Vec::with_capacity(counts.len() + 1);
    let (mut a, mut b) = (0.0f64, 0.0f64);
    p1.push(a);
    p2.push(b);
    for &y in counts {
        let y = y as f64;
        a += y;
        b += y * y;
        p1.push(a);
        p2.push(b);
    }
    let mut alarms = vec![];
    let mut s = 0.0f64;
    let (mut run_weeks, mut run_obs, mut run_exp) = (0usize, 0u64, 0.0f64);
    for (t, &y) in counts.iter().enumerate() {
        let Some(end) = t.checked_sub(guard) else {
            continue;
        };
        let begin = end.saturating_sub(window);
        let n = end - begin;
        if n < min_base {
            continue;
        }
        let nf = n as f64;
        let mean = (p1[end] - p1[begin]) / nf;
        let var = if n > 1 {
            ((p2[end] - p2[begin]) - nf * mean * mean).max(0.0) / (nf - 1.0)
        } else {
            0.0
        };
        let mu = mean.max(m.mean_floor);
        let size = if var > mean {
            (mean * mean / (var - mean)).max(m.min_size)
        } else {
            f64::INFINITY
        };
        let k = m.shift;
        let yf = y as f64;
        let llr = if size > 1e9 {
            yf * k.ln() - (k - 1.0) * mu
        } else {
            yf * (k * (size + mu) / (size + k * mu)).ln()
                + size * ((size + mu) / (size + k * mu)).ln()
        };
        s = (s + llr).max(0.0);
        if s > 0.0 {
            run_weeks += 1;
            run_obs += y;
            run_exp += mu;
        } else {
            (run_weeks, run_obs, run_exp) = (0, 0, 0.0);
        }
        if llr <= 0.0 || y < m.min_observed {
            continue;
        }
        let tail = upper_tail(y, mu, size);
        if s > m.threshold || tail < m.tail_probability {
            alarms.push(Alarm {
                index: t,
                observed: y,
                expected: mu,
                baseline_mean: mean,
                baseline_weeks: n,
                baseline_start: begin,
                score: s,
                tail,
                run_weeks,
                run_observed: run_obs,
                run_expected: run_exp,
            });
            s = 0.0;
            (run_weeks, run_obs, run_exp) = (0, 0, 0.0);
        }
    }
    Ok(alarms)
}

/// How far above its threshold a signal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Above the threshold.
    Moderate,
    /// A CUSUM at least `high_factor` times its threshold, or a count whose probability
    /// is a hundredth of `tail_probability` or less.
    High,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Moderate => "moderate",
            Severity::High => "high",
        })
    }
}

/// An escalation detected in an area's weekly series, with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// Where.
    pub area: Area,
    /// In which series.
    pub metric: Metric,
    /// Monday of the week that alarmed.
    pub week_start: NaiveDate,
    /// The week's count.
    pub observed: u64,
    /// The count the baseline expects (its mean, at least the floor).
    pub expected: f64,
    /// Weeks in the baseline window.
    pub baseline_weeks: u32,
    /// The CUSUM statistic.
    pub score: f64,
    /// The CUSUM threshold.
    pub threshold: f64,
    /// Probability of at least `observed` under the baseline (the Shewhart arm alarms
    /// below `tail_probability`).
    pub tail_probability: f64,
    /// How far above.
    pub severity: Severity,
    /// The same in plain English.
    pub explanation: String,
}

/// A count in prose: one decimal, two below 1.
fn num(x: f64) -> String {
    if x < 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.1}")
    }
}

fn signal(series: &WeeklySeries, metric: Metric, a: &Alarm, config: &DetectorConfig) -> Signal {
    let m = config.metric(metric);
    let week = series.week(a.index);
    let from = series.week(a.baseline_start);
    let to = series.week(a.baseline_start + a.baseline_weeks) - Days::new(1);
    let high = a.score >= config.high_factor * m.threshold || a.tail < m.tail_probability / 100.0;
    let severity = if high {
        Severity::High
    } else {
        Severity::Moderate
    };
    let mut e = format!(
        "{} {} in {} in the week of {week} against {} expected (",
        a.observed,
        metric.noun(a.observed),
        series.area,
        num(a.expected),
    );
    if a.baseline_mean < a.expected {
        e += &format!(
            "the floor; the baseline of the {} weeks {from} to {to} averaged {}",
            a.baseline_weeks,
            num(a.baseline_mean)
        );
    } else {
        e += &format!("baseline of the {} weeks {from} to {to}", a.baseline_weeks);
    }
    if a.score > m.threshold {
        e += &format!("); CUSUM {:.1} above threshold {:.1}", a.score, m.threshold);
        if a.run_weeks > 1 {
            e += &format!(
                ", built over {} weeks with {} {} against {} expected",
                a.run_weeks,
                a.run_observed,
                metric.noun(a.run_observed),
                num(a.run_expected)
            );
        }
    } else {
        e += &format!("); CUSUM {:.1} below threshold {:.1}", a.score, m.threshold);
    }
    if a.tail < m.tail_probability {
        if a.tail < 1e-99 {
            e += "; a count this high has probability below 1e-99 under the baseline";
        } else {
            e += &format!(
                "; a count this high has probability {:.1e} under the baseline",
                a.tail
            );
        }
    }
    e += &format!(" ({severity}).");
    Signal {
        area: series.area.clone(),
        metric,
        week_start: week,
        observed: a.observed,
        expected: a.expected,
        baseline_weeks: a.baseline_weeks as u32,
        score: a.score,
        threshold: m.threshold,
        tail_probability: a.tail,
        severity,
        explanation: e,
    }
}

/// Every signal in the history of `observations` up to `as_of` (default: the latest
/// observation), ordered by week, then area, then metric.
pub fn detect<I, O>(
    observations: I,
    config: &DetectorConfig,
    as_of: Option<NaiveDate>,
) -> Result<Vec<Signal>, ConfigError>
where
    I: IntoIterator<Item = O>,
    O: Into<Observation>,
{
    config.validate()?;
    let mut out = vec![];
    for series in weekly_series(observations, as_of) {
        for metric in Metric::ALL {
            for a in scan(series.values(metric), config, metric)? {
                out.push(signal(&series, metric, &a, config));
            }
        }
    }
    out.sort_by(|a, b| (a.week_start, &a.area, a.metric).cmp(&(b.week_start, &b.area, b.metric)));
    Ok(out)
}

/// The signals of the last `weeks` weeks up to `as_of` (the week containing `as_of`
/// and the `weeks − 1` before it; default: up to the latest observation), as a scheduled
/// run records them. The detector still reads the whole history for its baselines.
pub fn detect_recent<I, O>(
    observations: I,
    config: &DetectorConfig,
    as_of: Option<NaiveDate>,
    weeks: u32,
) -> Result<Vec<Signal>, ConfigError>
where
    I: IntoIterator<Item = O>,
    O: Into<Observation>,
{
    let observations: Vec<Observation> = observations.into_iter().map(Into::into).collect();
    let Some(as_of) = as_of.or_else(|| observations.iter().map(|o| o.date).max()) else {
        return Ok(vec![]);
    };
    let mut all = detect(observations, config, Some(as_of))?;
    let from = week_start(as_of) - Days::new(7 * u64::from(weeks.saturating_sub(1)));
    all.retain(|s| weeks > 0 && s.week_start >= from);
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(date: &str, admin1: Option<&str>, fatalities: u64) -> Observation {
        Observation {
            date: date.parse().unwrap(),
            country: Country::parse("CAF").unwrap(),
            admin1: admin1.map(str::to_string),
            fatalities,
            kind: Kind::Incident,
        }
    }

    #[test]
    fn weeks_start_on_monday() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(week_start(d("2013-12-05")), d("2013-12-02"));
        assert_eq!(week_start(d("2013-12-02")), d("2013-12-02"));
        assert_eq!(week_start(d("2013-12-08")), d("2013-12-02"));
        assert_eq!(week_start(d("2021-01-01")), d("2020-12-28"));
    }

    #[test]
    fn series_fill_gaps_per_country_and_admin1() {
        let o = vec![
            obs("2024-01-03", Some("Bangui"), 2),
            obs("2024-01-04", None, 1),
            obs("2024-01-24", Some(" Bangui "), 5),
            obs("2024-01-25", Some("Ouaka"), 0),
            obs("2024-02-20", Some("Ouaka"), 9),
        ];
        let s = weekly_series(o.clone(), None);
        let names: Vec<String> = s.iter().map(|s| s.area.to_string()).collect();
        assert_eq!(names, ["CAF", "Bangui, CAF", "Ouaka, CAF"]);
        assert!(s.iter().all(|s| s.start.to_string() == "2024-01-01"));
        assert_eq!(s[0].incidents, [2, 0, 0, 2, 0, 0, 0, 1]);
        assert_eq!(s[0].fatalities, [3, 0, 0, 5, 0, 0, 0, 9]);
        assert_eq!(s[1].incidents, [1, 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(s[2].values(Metric::Fatalities), [0, 0, 0, 0, 0, 0, 0, 9]);
        assert_eq!(s[2].week(7).to_string(), "2024-02-19");
        // `as_of` cuts and extends.
        let s = weekly_series(o.clone(), Some("2024-01-10".parse().unwrap()));
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].incidents, [2, 0]);
        let s = weekly_series(o, Some("2024-03-06".parse().unwrap()));
        assert_eq!(s[0].incidents.len(), 10);
        assert!(weekly_series(Vec::<Observation>::new(), None).is_empty());
    }

    #[test]
    fn upper_tail_matches_closed_forms() {
        // Poisson(2): P(Y >= 3) = 1 - e^-2 (1 + 2 + 2).
        let p = 1.0 - (-2.0f64).exp() * 5.0;
        assert!((upper_tail(3, 2.0, f64::INFINITY) - p).abs() < 1e-12);
        // Size 1 is geometric: P(Y >= y) = (mu / (1 + mu))^y.
        for y in [1, 5, 40] {
            let p = (0.44f64 / 1.44).powi(y as i32);
            assert!((upper_tail(y, 0.44, 1.0) / p - 1.0).abs() < 1e-9, "{y}");
        }
        // Far tails and large means stay finite and ordered.
        assert!(upper_tail(1000, 40.0, 0.3) > 0.0);
        assert!(upper_tail(1000, 40.0, 0.3) < upper_tail(500, 40.0, 0.3));
        assert!((upper_tail(500, 500.0, f64::INFINITY) - 0.5).abs() < 0.02);
        assert_eq!(upper_tail(0, 3.0, 1.0), 1.0);
    }

    #[test]
    fn config_deserialises_with_defaults_and_validates() {
        let c: DetectorConfig =
            serde_json::from_str(r#"{"window_weeks": 26, "incidents": {"threshold": 6.0}}"#)
                .unwrap();
        let d = DetectorConfig::default();
        assert_eq!(c.window_weeks, 26);
        assert_eq!(c.incidents.threshold, 6.0);
        assert_eq!(c.incidents.shift, d.incidents.shift);
        assert_eq!(c.fatalities, d.fatalities);
        assert!(serde_json::from_str::<DetectorConfig>(r#"{"windw": 3}"#).is_err());
        let back: DetectorConfig =
            serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        let mut bad = d.clone();
        bad.fatalities.shift = 1.0;
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "signals.fatalities.shift: must be above 1"
        );
        bad = d.clone();
        bad.min_baseline_weeks = 60;
        assert!(scan(&[1, 2, 3], &bad, Metric::Incidents).is_err());
    }

    #[test]
    fn detect_explains_and_recent_keeps_the_last_weeks() {
        let mut o = vec![];
        let start: NaiveDate = "2023-01-02".parse().unwrap();
        for w in 0..60u64 {
            let day = start + Days::new(7 * w);
            let n = if w >= 58 { 14 } else { 2 + (w % 3 == 0) as u64 };
            for _ in 0..n {
                o.push(obs(&day.to_string(), Some("Bangui"), 1));
            }
        }
        let cfg = DetectorConfig::default();
        let all = detect(o.clone(), &cfg, None).unwrap();
        let first = &all[0];
        assert_eq!(first.week_start, start + Days::new(7 * 58));
        assert_eq!(
            (first.area.to_string(), first.metric),
            ("CAF".into(), Metric::Incidents)
        );
        assert!(
            first.explanation.starts_with(
                "14 incidents in CAF in the week of 2024-02-12 against 2.3 expected (baseline of the 52 weeks 2023-01-16 to 2024-01-14); CUSUM"
            ),
            "{}",
            first.explanation
        );
        assert_eq!(first.severity, Severity::High);
        // Ordered by week, area, metric; all four series alarm in week 58.
        let keys: Vec<String> = all
            .iter()
            .map(|s| format!("{} {} {}", s.week_start, s.area, s.metric))
            .collect();
        assert_eq!(
            &keys[..4],
            [
                "2024-02-12 CAF incidents",
                "2024-02-12 CAF fatalities",
                "2024-02-12 Bangui, CAF incidents",
                "2024-02-12 Bangui, CAF fatalities",
            ]
        );
        // The last week only, then a run a week later, then one before the rise.
        assert_eq!(
            detect_recent(o.clone(), &cfg, None, 1).unwrap().len(),
            all.iter()
                .filter(|s| s.week_start == start + Days::new(7 * 59))
                .count()
        );
        let later = (start + Days::new(7 * 60 + 2)).to_string();
        let r = detect_recent(o.clone(), &cfg, Some(later.parse().unwrap()), 2).unwrap();
        assert!(r.iter().all(|s| s.week_start >= start + Days::new(7 * 59)));
        let before = (start + Days::new(7 * 57)).to_string();
        assert!(
            detect_recent(o.clone(), &cfg, Some(before.parse().unwrap()), 8)
                .unwrap()
                .is_empty()
        );
        assert!(detect_recent(o, &cfg, None, 0).unwrap().is_empty());
    }
    #[test]
    fn confirmed_speech_is_its_own_series() {
        let speech = |date: &str| Observation {
            kind: Kind::Speech,
            ..obs(date, Some("Ouham"), 0)
        };
        // A quiet year: one incident and one confirmed flag every four weeks; then a week
        // with eight confirmed flags and no incident.
        let mut o = vec![];
        let start: NaiveDate = "2024-01-01".parse().unwrap();
        for w in (0..52).step_by(4) {
            let d = (start + Days::new(7 * w)).to_string();
            o.push(obs(&d, Some("Ouham"), 0));
            o.push(speech(&d));
        }
        let last = (start + Days::new(7 * 56)).to_string();
        for _ in 0..8 {
            o.push(speech(&last));
        }
        let s = weekly_series(o.clone(), None);
        let ouham = s.iter().find(|s| s.area.admin1.is_some()).unwrap();
        assert_eq!(ouham.speech.iter().sum::<u64>(), 13 + 8);
        assert_eq!(ouham.incidents.iter().sum::<u64>(), 13);
        let found = detect_recent(o, &DetectorConfig::default(), None, 1).unwrap();
        assert!(
            found.iter().all(|s| s.metric == Metric::Speech),
            "{found:?}"
        );
        let x = found
            .iter()
            .find(|s| s.area.admin1.as_deref() == Some("Ouham"))
            .expect("a speech signal in Ouham");
        assert_eq!(x.observed, 8);
        assert!(
            x.explanation
                .starts_with("8 confirmed dangerous-speech flags in Ouham, CAF"),
            "{}",
            x.explanation
        );
    }
}
