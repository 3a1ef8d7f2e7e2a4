//! The alert-rule engine: which enabled rules a write satisfies, evaluated as the write happens.
//!
//! A [`RuleEngine`] holds the enabled [`AlertRule`]s, indexed so that one event touches only
//! the rules it can concern: incident thresholds by country, by situation and, for radius
//! areas, by a coarse 5° grid; report rules by keyword category; the few signal, assessment
//! and forecast rules by kind. It is loaded once from the store ([`RuleEngine::load`]: one
//! scan of the incidents, the stored signals, the latest published assessments and the latest
//! forecast run), without firing, and then fed every write. Each feed returns the [`Fired`]
//! rules; opening an alert (or adding the evidence to the open one) is the application's
//! `open_or_add_evidence`, not this crate's.
//!
//! **Incident thresholds** keep, per rule, the incidents matching its static filter (area,
//! event types, civilian targeting; never one marked `false`) whose event date lies in the
//! window, keyed by incident id: an updated incident replaces its old contribution, and an
//! import of the same incident again changes nothing. The window ends at the newest event date
//! the rule has matched (a high-water mark that never moves back) and spans whole days: `7d` is
//! that date and the six before it. A rule fires ([`Reason::Crossed`]) when its minimums
//! become met (all the minimums it gives, at least one incident); while they stay met, each
//! incident that newly joins the window comes back as [`Reason::StillMet`], so the app adds it
//! to the open alert instead of opening another. Falling below and crossing again fires again.
//!
//! **Civilian targeting**: an incident targets civilians when its ACLED event type is
//! *Violence against civilians*, its UCDP type of violence is 3 (one-sided violence), or its
//! targeted group names civilians (ACLED's `civilian_targeting` and UCDP's one-sided events
//! are imported as the targeted group `civilians`).
//!
//! **Other kinds** fire once per new fact: a signal's area, metric and week first reaching the
//! rule's severity (at any clearance: the evidence is the lowest-labelled record that does);
//! a published assessment putting a factor at the rule's level when the situation's previous
//! published assessment had it lower or absent; a country entering a forecast's top N
//! compared with the previous run of the same model (every country in the top N when there is
//! no previous run); a report whose keyword category (`ReportMeta::category`) is one of the
//! rule's, about its country when it names one.
//!
//! **Clearance**: the engine sees everything, as the system. Each [`Fired`] carries
//! `tlp_floor`, the highest label among its evidence, and `tlp`, the label its alert must carry
//! at least (the rule's own label or the floor, whichever is higher), so no alert shows a
//! figure from records above its label. Titles name counts, places and categories, never a
//! report's text or source.

mod geo;
mod window;

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use tocsin_domain::{
    AlertEvidence, AlertRule, Area, Assessment, AssessmentStatus, Condition, Country, ForecastRun,
    Incident, IncidentFilter, IncidentThreshold, Level, Report, Severity, SignalRecord, Tlp,
    VerificationStatus,
};
use tocsin_store::{Analysis, Incidents, StoreError};
use uuid::Uuid;

pub use geo::distance_km;
use window::{Entry, Window};

/// Why a load or a rule reload failed.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a rule fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The condition became met: open an alert, or add the evidence to the rule's open one.
    Crossed,
    /// The condition was already met and this new record also matches: add it to the rule's
    /// open alert, if one is open; never opens one.
    StillMet,
}

/// A rule that a write satisfied, with what it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    /// The rule.
    pub rule_id: Uuid,
    /// The rule's version that fired.
    pub rule_version: i64,
    /// The rule's severity (of the alert to open).
    pub severity: Severity,
    /// Crossed, or still met with new evidence.
    pub reason: Reason,
    /// The records: for a crossed incident threshold every incident in the window, oldest
    /// first; otherwise the new record.
    pub evidence: Vec<AlertEvidence>,
    /// The country it concerns, when there is one.
    pub country: Option<Country>,
    /// The situation it concerns, when there is one.
    pub situation: Option<Uuid>,
    /// In words, e.g. `Ituri attacks: 5 incidents in Ituri (COD) within 7d, threshold 3`.
    pub title: String,
    /// The highest label among the evidence: the alert must not be labelled lower.
    pub tlp_floor: Tlp,
    /// The label for the alert: the rule's label, raised to `tlp_floor` when that is higher.
    pub tlp: Tlp,
}

/// One incident-threshold rule and its window.
#[derive(Debug)]
struct IncRule {
    rule: AlertRule,
    /// The admin1 of a country area, lower-cased.
    admin1: Option<String>,
    window: Window,
    met: bool,
}

impl IncRule {
    fn new(rule: AlertRule) -> IncRule {
        let t = threshold(&rule);
        let days = t.window.as_secs().div_ceil(86_400) as i64;
        let admin1 = match &t.area {
            Area::Country { admin1, .. } => admin1.as_ref().map(|a| a.trim().to_lowercase()),
            _ => None,
        };
        IncRule {
            rule,
            admin1,
            window: Window::new(days),
            met: false,
        }
    }

    fn threshold(&self) -> &IncidentThreshold {
        threshold(&self.rule)
    }

    fn matches(&self, i: &Incident) -> bool {
        if i.verification_status == VerificationStatus::Refuted {
            return false;
        }
        let t = self.threshold();
        let in_area = match &t.area {
            Area::Country { country, .. } => {
                *country == i.country
                    && self.admin1.as_ref().is_none_or(|a| {
                        i.admin1.as_ref().is_some_and(|x| {
                            x.trim().chars().flat_map(char::to_lowercase).eq(a.chars())
                        })
                    })
            }
            Area::Radius {
                latitude,
                longitude,
                radius_km,
            } => distance_km(*latitude, *longitude, i.latitude, i.longitude) <= *radius_km,
            Area::Situation { situation } => i.situation_id == Some(*situation),
        };
        in_area
            && (t.event_types.is_empty() || t.event_types.contains(&i.event_type))
            && t.civilian_targeting
                .is_none_or(|want| want == targets_civilians(i))
    }

    fn is_met(&self) -> bool {
        let t = self.threshold();
        let w = &self.window;
        w.count >= 1
            && t.min_incidents.is_none_or(|n| w.count >= u64::from(n))
            && t.min_fatalities
                .is_none_or(|n| w.fatalities >= i64::from(n))
    }

    fn title(&self) -> String {
        let t = self.threshold();
        let w = &self.window;
        let mut s = format!("{}: ", self.rule.name);
        let n = w.count;
        let incidents = if n == 1 { "incident" } else { "incidents" };
        if t.min_fatalities.is_some() {
            let _ = write!(s, "{} deaths in {n} {incidents}", w.fatalities);
        } else {
            let _ = write!(s, "{n} {incidents}");
        }
        if !t.event_types.is_empty() {
            let _ = write!(s, " of type {}", t.event_types.join(" or "));
        }
        match t.civilian_targeting {
            Some(true) => s.push_str(" targeting civilians"),
            Some(false) => s.push_str(" not targeting civilians"),
            None => {}
        }
        match &t.area {
            Area::Country { country, admin1 } => match admin1 {
                Some(a) => {
                    let _ = write!(s, " in {a} ({})", country.code());
                }
                None => {
                    let _ = write!(s, " in {} ({})", country.name(), country.code());
                }
            },
            Area::Radius {
                latitude,
                longitude,
                radius_km,
            } => {
                let _ = write!(s, " within {radius_km} km of {latitude:.3}, {longitude:.3}");
            }
            Area::Situation { situation } => {
                let _ = write!(s, " in situation {situation}");
            }
        }
        let _ = write!(s, " within {}, threshold ", t.window);
        match (t.min_incidents, t.min_fatalities) {
            (Some(i), Some(f)) => {
                let _ = write!(s, "{i} incidents and {f} deaths");
            }
            (Some(i), None) => {
                let _ = write!(s, "{i}");
            }
            (None, Some(f)) => {
                let _ = write!(s, "{f} deaths");
            }
            (None, None) => s.push('1'),
        }
        s
    }
}

fn threshold(rule: &AlertRule) -> &IncidentThreshold {
    match &rule.condition {
        Condition::Incidents(t) => t,
        _ => unreachable!("only incident thresholds are kept as IncRule"),
    }
}

/// Whether an incident targets civilians: ACLED's *Violence against civilians*, UCDP's
/// one-sided violence (type 3), or a targeted group naming civilians.
pub fn targets_civilians(i: &Incident) -> bool {
    i.event_type == "Violence against civilians"
        || i.violence_type == Some(3)
        || i.targeted_group
            .as_deref()
            .is_some_and(|g| g.to_lowercase().contains("civilian"))
}

/// The risk-factor number a rule's `factor` names: `RF1`, `rf 1` and `1` all name factor 1.
pub fn factor_number(factor: &str) -> Option<u32> {
    let f = factor.trim();
    let f = match f.get(..2) {
        Some(p) if p.eq_ignore_ascii_case("rf") => &f[2..],
        _ => f,
    };
    f.trim().parse().ok()
}

/// A signal's identity across clearances and runs: its area, metric and week.
type SignalKey = (Country, Option<String>, String, NaiveDate);

/// The latest published assessment of a situation.
#[derive(Debug)]
struct Assessed {
    id: Uuid,
    as_of: NaiveDate,
    levels: HashMap<u32, Level>,
}

/// The latest forecast run of a model.
#[derive(Debug)]
struct LastRun {
    id: Uuid,
    year: i32,
    created_at: DateTime<Utc>,
    ranks: HashMap<Country, u32>,
}

/// What the engine remembers of signals, assessments and forecasts at a cursor: stored with
/// the cursor, so a server taking the engine over starts from what its predecessor had seen
/// (not from the store's present state, which would swallow whatever was written between
/// the cursor and the takeover) and fires for those writes when it replays them.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Memory {
    /// The highest severity seen per signal key.
    signals: Vec<SignalMemo>,
    /// The latest published assessment per situation.
    assessed: Vec<AssessedMemo>,
    /// The latest forecast run per model.
    forecasts: Vec<RunMemo>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct SignalMemo {
    country: Country,
    admin1: Option<String>,
    metric: String,
    week: NaiveDate,
    best: Severity,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct AssessedMemo {
    situation: Uuid,
    id: Uuid,
    as_of: NaiveDate,
    levels: Vec<(u32, Level)>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct RunMemo {
    model: String,
    id: Uuid,
    year: i32,
    created_at: DateTime<Utc>,
    ranks: Vec<(Country, u32)>,
}

/// How many report ids the engine remembers, so a report fed twice fires once.
const REMEMBERED_REPORTS: usize = 100_000;

/// The enabled rules, indexed, with the state their evaluation needs. See the crate docs.
#[derive(Debug, Default)]
pub struct RuleEngine {
    incident_rules: HashMap<Uuid, IncRule>,
    by_country: HashMap<Country, Vec<Uuid>>,
    by_situation: HashMap<Uuid, Vec<Uuid>>,
    grid: HashMap<(i16, i16), Vec<Uuid>>,
    /// Incident → the incident rules whose window holds it.
    holders: HashMap<Uuid, Vec<Uuid>>,
    /// Signal, assessment, forecast and report rules.
    other_rules: HashMap<Uuid, AlertRule>,
    report_by_category: HashMap<String, Vec<Uuid>>,
    signal_rules: Vec<Uuid>,
    assessment_rules: Vec<Uuid>,
    forecast_rules: Vec<Uuid>,
    signal_best: HashMap<SignalKey, Severity>,
    assessed: HashMap<Uuid, Assessed>,
    forecasts: HashMap<String, LastRun>,
    seen_reports: HashSet<Uuid>,
    seen_order: VecDeque<Uuid>,
}

impl RuleEngine {
    /// An engine holding the enabled ones of `rules`, with empty state (feed it incidents with
    /// [`RuleEngine::load_incident`], or use [`RuleEngine::load`]).
    pub fn new(rules: impl IntoIterator<Item = AlertRule>) -> RuleEngine {
        let mut e = RuleEngine::default();
        for r in rules {
            e.add(r);
        }
        e
    }

    /// An engine holding the enabled ones of `rules`, its state read from the store: one scan
    /// of every incident, the stored signals of every clearance, the latest published
    /// assessment of each situation and the latest forecast run. Nothing fires while loading.
    pub async fn load<S>(store: &S, rules: Vec<AlertRule>) -> Result<RuleEngine, RulesError>
    where
        S: Incidents + Analysis + ?Sized,
    {
        RuleEngine::load_until(store, rules, None, None).await
    }

    /// [`RuleEngine::load`], counting only the incidents changed at or before `until`
    /// (`(updated_at, id)` order; `None`: all). A server taking the engine over loads up to
    /// the cursor its predecessor reached, then feeds the later incidents, so a threshold they
    /// cross still fires.
    pub async fn load_until<S>(
        store: &S,
        rules: Vec<AlertRule>,
        until: Option<(DateTime<Utc>, Uuid)>,
        memory: Option<Memory>,
    ) -> Result<RuleEngine, RulesError>
    where
        S: Incidents + Analysis + ?Sized,
    {
        let mut e = RuleEngine::new(rules);
        if !e.incident_rules.is_empty() {
            let filter = IncidentFilter {
                max_tlp: Tlp::Red,
                ..Default::default()
            };
            scan(store, &filter, |i| {
                if until.is_none_or(|u| (i.updated_at, i.id) <= u) {
                    e.load_incident(i)
                }
            })
            .await?;
        }
        if let Some(m) = memory {
            e.restore(m);
            return Ok(e);
        }
        for clearance in Tlp::ALL {
            let v = store.list_signals(clearance, None, None, u32::MAX).await?;
            e.remember_signals(&v);
        }
        for a in store.list_assessments(None, u32::MAX).await? {
            if a.status == AssessmentStatus::Published && !e.assessed.contains_key(&a.situation_id)
            {
                e.assessment_published(&a);
            }
        }
        if let Some(run) = store.latest_forecast_run().await? {
            e.remember_forecast(&run);
        }
        Ok(e)
    }

    /// What the engine remembers of signals, assessments and forecasts (see [`Memory`]).
    pub fn memory(&self) -> Memory {
        let mut m = Memory {
            signals: self
                .signal_best
                .iter()
                .map(|((country, admin1, metric, week), best)| SignalMemo {
                    country: country.clone(),
                    admin1: admin1.clone(),
                    metric: metric.clone(),
                    week: *week,
                    best: *best,
                })
                .collect(),
            assessed: self
                .assessed
                .iter()
                .map(|(situation, a)| {
                    let mut levels: Vec<(u32, Level)> =
                        a.levels.iter().map(|(f, l)| (*f, *l)).collect();
                    levels.sort_by_key(|(f, _)| *f);
                    AssessedMemo {
                        situation: *situation,
                        id: a.id,
                        as_of: a.as_of,
                        levels,
                    }
                })
                .collect(),
            forecasts: self
                .forecasts
                .iter()
                .map(|(model, r)| {
                    let mut ranks: Vec<(Country, u32)> =
                        r.ranks.iter().map(|(c, n)| (c.clone(), *n)).collect();
                    ranks.sort_by(|x, y| x.0.code().cmp(y.0.code()));
                    RunMemo {
                        model: model.clone(),
                        id: r.id,
                        year: r.year,
                        created_at: r.created_at,
                        ranks,
                    }
                })
                .collect(),
        };
        // A stable order, so an unchanged memory compares (and serialises) equal.
        m.signals.sort_by(|x, y| {
            (x.country.code(), &x.admin1, &x.metric, x.week).cmp(&(
                y.country.code(),
                &y.admin1,
                &y.metric,
                y.week,
            ))
        });
        m.assessed.sort_by_key(|a| a.situation);
        m.forecasts.sort_by(|x, y| x.model.cmp(&y.model));
        m
    }

    fn restore(&mut self, m: Memory) {
        for s in m.signals {
            self.signal_best
                .insert((s.country, s.admin1, s.metric, s.week), s.best);
        }
        for a in m.assessed {
            self.assessed.insert(
                a.situation,
                Assessed {
                    id: a.id,
                    as_of: a.as_of,
                    levels: a.levels.into_iter().collect(),
                },
            );
        }
        for r in m.forecasts {
            self.forecasts.insert(
                r.model,
                LastRun {
                    id: r.id,
                    year: r.year,
                    created_at: r.created_at,
                    ranks: r.ranks.into_iter().collect(),
                },
            );
        }
    }

    /// Count an incident into the windows without firing (the initial load).
    pub fn load_incident(&mut self, i: &Incident) {
        self.feed(i, None);
    }

    /// How many enabled rules the engine holds.
    pub fn len(&self) -> usize {
        self.incident_rules.len() + self.other_rules.len()
    }

    /// Whether it holds no rule.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The incident-threshold rules whose condition is met now.
    pub fn met(&self) -> Vec<Uuid> {
        let mut v: Vec<Uuid> = self
            .incident_rules
            .iter()
            .filter(|(_, r)| r.met)
            .map(|(id, _)| *id)
            .collect();
        v.sort();
        v
    }

    /// A new or changed incident (created, updated or imported). Returns the rules it fired.
    pub fn incident_upserted(&mut self, i: &Incident) -> Vec<Fired> {
        let mut out = Vec::new();
        self.feed(i, Some(&mut out));
        out
    }

    fn candidates(&self, i: &Incident) -> Vec<Uuid> {
        let mut c: Vec<Uuid> = Vec::new();
        let mut push = |ids: Option<&Vec<Uuid>>| {
            for id in ids.into_iter().flatten() {
                if !c.contains(id) {
                    c.push(*id);
                }
            }
        };
        push(self.by_country.get(&i.country));
        if let Some(s) = i.situation_id {
            push(self.by_situation.get(&s));
        }
        if !self.grid.is_empty() {
            push(self.grid.get(&geo::cell(i.latitude, i.longitude)));
        }
        push(self.holders.get(&i.id));
        c
    }

    fn feed(&mut self, i: &Incident, mut out: Option<&mut Vec<Fired>>) {
        if self.incident_rules.is_empty() {
            return;
        }
        let entry = Entry {
            date: i.event_date,
            fatalities: i.fatalities,
            tlp: i.tlp,
        };
        let mut evicted = Vec::new();
        for rid in self.candidates(i) {
            let Some(r) = self.incident_rules.get_mut(&rid) else {
                continue;
            };
            let was_met = r.met;
            let old = r.window.remove(i.id);
            let inside = r.matches(i) && r.window.insert(i.id, entry, &mut evicted);
            for gone in evicted.drain(..) {
                unhold(&mut self.holders, gone, rid);
            }
            match (old.is_some(), inside) {
                (true, false) => unhold(&mut self.holders, i.id, rid),
                (false, true) => self.holders.entry(i.id).or_default().push(rid),
                _ => {}
            }
            r.met = r.is_met();
            let Some(out) = out.as_deref_mut() else {
                continue;
            };
            let reason = if r.met && !was_met {
                Reason::Crossed
            } else if r.met && inside && old.is_none() {
                Reason::StillMet
            } else {
                continue;
            };
            let (ids, tlp_floor) = match reason {
                Reason::Crossed => r.window.evidence(),
                Reason::StillMet => (vec![i.id], i.tlp),
            };
            let t = r.threshold();
            let (country, situation) = match &t.area {
                Area::Country { country, .. } => (Some(country.clone()), None),
                Area::Radius { .. } => (Some(i.country.clone()), None),
                Area::Situation { situation } => (None, Some(*situation)),
            };
            out.push(fired(
                &r.rule,
                reason,
                ids.into_iter().map(AlertEvidence::Incident).collect(),
                country,
                situation,
                r.title(),
                tlp_floor,
            ));
        }
    }

    /// Signals just recorded (a detector run: records of every clearance; ones already seen
    /// are ignored). Fires a signal rule once per area, metric and week, when it first
    /// reaches the rule's severity.
    pub fn signals_recorded(&mut self, signals: &[SignalRecord]) -> Vec<Fired> {
        let mut groups: HashMap<SignalKey, Vec<(&SignalRecord, Severity)>> = HashMap::new();
        for s in signals {
            if let Some(sev) = signal_severity(s) {
                groups.entry(signal_key(s)).or_default().push((s, sev));
            }
        }
        let mut out = Vec::new();
        for (key, recs) in groups {
            let prev = self.signal_best.get(&key).copied();
            let best = recs.iter().map(|(_, s)| *s).max().expect("non-empty group");
            if prev.is_none_or(|p| best > p) {
                self.signal_best.insert(key.clone(), best);
            }
            for rid in &self.signal_rules {
                let rule = &self.other_rules[rid];
                let Condition::Signal(c) = &rule.condition else {
                    continue;
                };
                let in_area = c.country.as_ref().is_none_or(|x| *x == key.0)
                    && c.admin1
                        .as_ref()
                        .is_none_or(|a| key.1.as_ref().is_some_and(|k| k.eq_ignore_ascii_case(a)));
                if !in_area || best < c.min_severity || prev.is_some_and(|p| p >= c.min_severity) {
                    continue;
                }
                let (s, sev) = recs
                    .iter()
                    .filter(|(_, sev)| *sev >= c.min_severity)
                    .min_by_key(|(s, _)| s.tlp)
                    .expect("one record reaches the severity");
                let place = match &s.admin1 {
                    Some(a) => format!("{a} ({})", s.country.code()),
                    None => format!("{} ({})", s.country.name(), s.country.code()),
                };
                out.push(fired(
                    rule,
                    Reason::Crossed,
                    vec![AlertEvidence::Signal(s.id)],
                    Some(s.country.clone()),
                    None,
                    format!(
                        "{}: {sev} escalation signal in {place}, {} in the week of {}",
                        rule.name, s.metric, s.week_start
                    ),
                    s.tlp,
                ));
            }
        }
        out
    }

    fn remember_signals(&mut self, signals: &[SignalRecord]) {
        for s in signals {
            if let Some(sev) = signal_severity(s) {
                let best = self.signal_best.entry(signal_key(s)).or_insert(sev);
                *best = (*best).max(sev);
            }
        }
    }

    /// An assessment just published (others are ignored, as is one older than the
    /// situation's latest published one). Fires an assessment rule when a factor it watches
    /// reaches its level and the previous published assessment had it lower or absent.
    pub fn assessment_published(&mut self, a: &Assessment) -> Vec<Fired> {
        if a.status != AssessmentStatus::Published {
            return Vec::new();
        }
        if let Some(prev) = self.assessed.get(&a.situation_id) {
            if prev.id == a.id || prev.as_of > a.as_of {
                return Vec::new();
            }
        }
        let levels: HashMap<u32, Level> = a.factors.iter().map(|f| (f.factor, f.level)).collect();
        let prev = self.assessed.insert(
            a.situation_id,
            Assessed {
                id: a.id,
                as_of: a.as_of,
                levels: levels.clone(),
            },
        );
        let before = |f: u32| prev.as_ref().and_then(|p| p.levels.get(&f).copied());
        let mut out = Vec::new();
        for rid in &self.assessment_rules {
            let rule = &self.other_rules[rid];
            let Condition::Assessment(c) = &rule.condition else {
                continue;
            };
            if c.situation.is_some_and(|s| s != a.situation_id) {
                continue;
            }
            let watched = c.factor.as_deref().map(factor_number);
            let mut raised: Vec<(u32, Level)> = a
                .factors
                .iter()
                .filter(|f| watched.is_none_or(|w| w == Some(f.factor)))
                .filter(|f| {
                    f.level >= c.min_level && before(f.factor).is_none_or(|b| b < c.min_level)
                })
                .map(|f| (f.factor, f.level))
                .collect();
            if raised.is_empty() {
                continue;
            }
            raised.sort();
            let what = raised
                .iter()
                .map(|(f, l)| format!("risk factor {f} at {}", l.as_str()))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(fired(
                rule,
                Reason::Crossed,
                vec![AlertEvidence::Assessment(a.id)],
                None,
                Some(a.situation_id),
                format!(
                    "{}: assessment of {} puts {what} (threshold {})",
                    rule.name,
                    a.as_of,
                    c.min_level.as_str()
                ),
                a.tlp,
            ));
        }
        out
    }

    /// A forecast run just stored (ignored when it is older than the latest run of its model).
    /// Fires a forecast rule for each country that entered its top N compared with that run.
    pub fn forecast_run_stored(&mut self, run: &ForecastRun) -> Vec<Fired> {
        if let Some(prev) = self.forecasts.get(&run.model) {
            if prev.id == run.id || (prev.year, prev.created_at) > (run.year, run.created_at) {
                return Vec::new();
            }
        }
        let prev = self.remember_forecast(run);
        let mut out = Vec::new();
        for rid in &self.forecast_rules {
            let rule = &self.other_rules[rid];
            let Condition::Forecast(c) = &rule.condition else {
                continue;
            };
            for s in &run.scores {
                if s.rank > c.top || c.country.as_ref().is_some_and(|x| *x != s.country) {
                    continue;
                }
                let was = prev.as_ref().and_then(|p| p.ranks.get(&s.country).copied());
                if was.is_some_and(|r| r <= c.top) {
                    continue;
                }
                out.push(fired(
                    rule,
                    Reason::Crossed,
                    vec![AlertEvidence::Forecast(run.id)],
                    Some(s.country.clone()),
                    None,
                    format!(
                        "{}: {} ({}) entered the top {} of the {} forecast: rank {} of {} ({} data){}",
                        rule.name,
                        s.country.name(),
                        s.country.code(),
                        c.top,
                        run.model,
                        s.rank,
                        run.countries,
                        run.year,
                        match was {
                            Some(r) => format!(", was {r}"),
                            None => String::new(),
                        }
                    ),
                    // Forecasts are computed from public data and carry no label.
                    Tlp::Clear,
                ));
            }
        }
        out
    }

    fn remember_forecast(&mut self, run: &ForecastRun) -> Option<LastRun> {
        self.forecasts.insert(
            run.model.clone(),
            LastRun {
                id: run.id,
                year: run.year,
                created_at: run.created_at,
                ranks: run
                    .scores
                    .iter()
                    .map(|s| (s.country.clone(), s.rank))
                    .collect(),
            },
        )
    }

    /// A report just stored. Fires the report rules of its keyword category (about its
    /// country, when the rule names one); a report fed twice fires once.
    pub fn report_stored(&mut self, r: &Report) -> Vec<Fired> {
        let Some(cat) = r.meta.category.as_deref().map(|c| c.trim().to_lowercase()) else {
            return Vec::new();
        };
        let Some(rules) = self.report_by_category.get(&cat) else {
            return Vec::new();
        };
        if !self.seen_reports.insert(r.id) {
            return Vec::new();
        }
        self.seen_order.push_back(r.id);
        if self.seen_order.len() > REMEMBERED_REPORTS {
            if let Some(old) = self.seen_order.pop_front() {
                self.seen_reports.remove(&old);
            }
        }
        let mut out = Vec::new();
        for rid in rules {
            let rule = &self.other_rules[rid];
            let Condition::Report(c) = &rule.condition else {
                continue;
            };
            if c.country
                .as_ref()
                .is_some_and(|x| Some(x) != r.country.as_ref())
            {
                continue;
            }
            let place = match &r.country {
                Some(c) => format!(" about {} ({})", c.name(), c.code()),
                None => String::new(),
            };
            out.push(fired(
                rule,
                Reason::Crossed,
                vec![AlertEvidence::Report(r.id)],
                r.country.clone(),
                None,
                format!("{}: report with urgency code \"{cat}\"{place}", rule.name),
                r.tlp,
            ));
        }
        out
    }

    /// Add, change, disable or re-enable a rule. An incident-threshold rule's window is
    /// rebuilt from `incidents` (every incident its area may hold; others are skipped), so
    /// only this rule's state is touched. Returns the rule's firing when its condition is met
    /// at once (the caller opens the alert, or adds to the open one), else `None`.
    pub fn set_rule<'a>(
        &mut self,
        rule: AlertRule,
        incidents: impl IntoIterator<Item = &'a Incident>,
    ) -> Option<Fired> {
        let id = rule.id;
        self.remove_rule(id);
        if !rule.enabled {
            return None;
        }
        let Condition::Incidents(_) = &rule.condition else {
            self.add(rule);
            return None;
        };
        let mut r = IncRule::new(rule);
        let mut evicted = Vec::new();
        for i in incidents {
            if r.matches(i) {
                r.window.remove(i.id);
                r.window.insert(
                    i.id,
                    Entry {
                        date: i.event_date,
                        fatalities: i.fatalities,
                        tlp: i.tlp,
                    },
                    &mut evicted,
                );
                evicted.clear();
            }
        }
        r.met = r.is_met();
        for iid in r.window.by_id.keys() {
            self.holders.entry(*iid).or_default().push(id);
        }
        let now = r.met.then(|| {
            let (ids, floor) = r.window.evidence();
            let t = r.threshold();
            let (country, situation) = match &t.area {
                Area::Country { country, .. } => (Some(country.clone()), None),
                Area::Radius { .. } => (None, None),
                Area::Situation { situation } => (None, Some(*situation)),
            };
            fired(
                &r.rule,
                Reason::Crossed,
                ids.into_iter().map(AlertEvidence::Incident).collect(),
                country,
                situation,
                r.title(),
                floor,
            )
        });
        self.index(id, &r.rule);
        self.incident_rules.insert(id, r);
        now
    }

    /// [`RuleEngine::set_rule`], its incidents read from the store: one scan narrowed to the
    /// rule's country, situation or bounding box. Incidents written while it scans should be
    /// fed again afterwards (feeding is idempotent).
    pub async fn reload_rule<S>(
        &mut self,
        store: &S,
        rule: AlertRule,
    ) -> Result<Option<Fired>, RulesError>
    where
        S: Incidents + ?Sized,
    {
        let mut incidents = Vec::new();
        if let (true, Condition::Incidents(t)) = (rule.enabled, &rule.condition) {
            let mut filter = IncidentFilter {
                max_tlp: Tlp::Red,
                ..Default::default()
            };
            match &t.area {
                Area::Country { country, .. } => filter.country = Some(country.clone()),
                Area::Situation { situation } => filter.situation_id = Some(*situation),
                Area::Radius { .. } => {}
            }
            let probe = IncRule::new(rule.clone());
            scan(store, &filter, |i| {
                if probe.matches(i) {
                    incidents.push(i.clone());
                }
            })
            .await?;
        }
        Ok(self.set_rule(rule, &incidents))
    }

    /// Stop evaluating a rule and drop its state.
    pub fn remove_rule(&mut self, id: Uuid) {
        if let Some(r) = self.incident_rules.remove(&id) {
            for iid in r.window.by_id.keys() {
                unhold(&mut self.holders, *iid, id);
            }
        }
        self.other_rules.remove(&id);
        for list in self
            .by_country
            .values_mut()
            .chain(self.by_situation.values_mut())
            .chain(self.grid.values_mut())
            .chain(self.report_by_category.values_mut())
        {
            list.retain(|x| *x != id);
        }
        self.by_country.retain(|_, v| !v.is_empty());
        self.by_situation.retain(|_, v| !v.is_empty());
        self.grid.retain(|_, v| !v.is_empty());
        self.report_by_category.retain(|_, v| !v.is_empty());
        for list in [
            &mut self.signal_rules,
            &mut self.assessment_rules,
            &mut self.forecast_rules,
        ] {
            list.retain(|x| *x != id);
        }
    }

    fn add(&mut self, rule: AlertRule) {
        if !rule.enabled {
            return;
        }
        let id = rule.id;
        self.index(id, &rule);
        match &rule.condition {
            Condition::Incidents(_) => {
                self.incident_rules.insert(id, IncRule::new(rule));
            }
            _ => {
                self.other_rules.insert(id, rule);
            }
        }
    }

    fn index(&mut self, id: Uuid, rule: &AlertRule) {
        match &rule.condition {
            Condition::Incidents(t) => match &t.area {
                Area::Country { country, .. } => {
                    self.by_country.entry(country.clone()).or_default().push(id)
                }
                Area::Situation { situation } => {
                    self.by_situation.entry(*situation).or_default().push(id)
                }
                Area::Radius {
                    latitude,
                    longitude,
                    radius_km,
                } => {
                    for c in geo::cells_within(*latitude, *longitude, *radius_km) {
                        self.grid.entry(c).or_default().push(id);
                    }
                }
            },
            Condition::Signal(_) => self.signal_rules.push(id),
            Condition::Assessment(_) => self.assessment_rules.push(id),
            Condition::Forecast(_) => self.forecast_rules.push(id),
            Condition::Report(c) => {
                for cat in &c.categories {
                    self.report_by_category
                        .entry(cat.trim().to_lowercase())
                        .or_default()
                        .push(id);
                }
            }
        }
    }
}

fn unhold(holders: &mut HashMap<Uuid, Vec<Uuid>>, incident: Uuid, rule: Uuid) {
    if let Some(v) = holders.get_mut(&incident) {
        v.retain(|r| *r != rule);
        if v.is_empty() {
            holders.remove(&incident);
        }
    }
}

fn fired(
    rule: &AlertRule,
    reason: Reason,
    evidence: Vec<AlertEvidence>,
    country: Option<Country>,
    situation: Option<Uuid>,
    title: String,
    tlp_floor: Tlp,
) -> Fired {
    Fired {
        rule_id: rule.id,
        rule_version: rule.version,
        severity: rule.severity,
        reason,
        evidence,
        country,
        situation,
        title,
        tlp_floor,
        tlp: rule.tlp.max(tlp_floor),
    }
}

fn signal_severity(s: &SignalRecord) -> Option<Severity> {
    Severity::parse(s.severity.trim()).ok()
}

fn signal_key(s: &SignalRecord) -> SignalKey {
    (
        s.country.clone(),
        s.admin1.clone(),
        s.metric.clone(),
        s.week_start,
    )
}

/// Stream a filter's incidents from the store into `each`, chunk by chunk.
async fn scan<S, F>(store: &S, filter: &IncidentFilter, mut each: F) -> Result<u64, RulesError>
where
    S: Incidents + ?Sized,
    F: FnMut(&Incident),
{
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let consume = async {
        while let Some(chunk) = rx.recv().await {
            for i in &chunk {
                each(i);
            }
        }
    };
    let (n, ()) = tokio::join!(store.scan_incidents(filter, tx), consume);
    Ok(n?)
}

#[cfg(test)]
mod tests;
