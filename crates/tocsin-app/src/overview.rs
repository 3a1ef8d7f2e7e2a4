//! The situation dashboard ([`App::situation_dashboard`]): everything the page
//! `/situations/{id}` shows — and a brief prints ([`crate::brief`]) — in one plain struct
//! ([`SituationDashboard`]), as the viewer may see it. One computation, two renderings: the
//! page and the brief read the same figures.
//!
//! **Invariant:** every figure comes from records at or below the viewer's clearance: the
//! trend counts only incidents the store answers under `max_tlp = clearance`, the risk table
//! only published assessments the viewer may read, alerts only those within clearance, the
//! plan only a situation the viewer may read. No source, handle or contact is read at all.
//! A part the viewer's role may not read (incidents, alerts) is `None`, not an error, so
//! every role that may read the situation gets its dashboard.

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;
use tocsin_domain::assessment::{Confidence, Level};
use tocsin_domain::{
    AlertStatus, Assessment, AssessmentStatus, DomainError, ForecastPoint, Incident,
    IncidentFilter, LegalQualification, PageRequest, Permission, Severity, SignalRecord, Situation,
    Tlp, User, VerificationStatus,
};
use tocsin_store::DaysQuery;
use uuid::Uuid;

use crate::actions::{rank_measures, ActionBrief, AssessmentRef, FactorLevel, SuggestedMeasure};
use crate::alerts::AlertQuery;
use crate::charts::{self, MapPoint, RankPoint, TrendBar};
use crate::situations::in_area;
use crate::{reads, require, App, Result};

/// The longest trend window: ten years.
pub const MAX_WINDOW_DAYS: i64 = 3_660;
/// Windows up to this many days are drawn week by week; longer ones month by month.
pub const WEEKLY_UP_TO_DAYS: i64 = 371;
/// The most open alerts the dashboard lists.
const ALERTS_SHOWN: u32 = 20;
/// The most incidents of the window read for the map and the key incidents.
pub const MAX_INCIDENTS: usize = 5_000;
/// Key verified incidents shown.
const KEY_INCIDENTS: usize = 5;
/// Escalation signals listed.
const SIGNALS_SHOWN: usize = 50;

/// Which event days the trend covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TrendWindow {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

impl TrendWindow {
    /// The 52 weeks ending with `today`'s week (Monday to Sunday).
    pub fn default_for(today: NaiveDate) -> TrendWindow {
        let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
        TrendWindow {
            from: monday - Duration::weeks(51),
            to: monday + Duration::days(6),
        }
    }

    /// A window from the page's `from` and `to` (either may be left out: 52 weeks before `to`,
    /// `to` defaults to today), checked: `from` not after `to`, at most [`MAX_WINDOW_DAYS`].
    /// Errors name `from` or `to`.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        today: NaiveDate,
    ) -> std::result::Result<TrendWindow, DomainError> {
        let day = |field: &str, v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| {
                    NaiveDate::parse_from_str(v, "%Y-%m-%d")
                        .map_err(|_| DomainError::invalid(field, "expected YYYY-MM-DD"))
                })
                .transpose()
        };
        let (from, to) = (day("from", from)?, day("to", to)?);
        let w = match (from, to) {
            (None, None) => TrendWindow::default_for(today),
            (Some(f), None) => TrendWindow {
                from: f,
                to: today.max(f),
            },
            (None, Some(t)) => TrendWindow {
                from: t - Duration::weeks(52) + Duration::days(1),
                to: t,
            },
            (Some(f), Some(t)) => TrendWindow { from: f, to: t },
        };
        if w.to < w.from {
            return Err(DomainError::invalid("to", "must not be before `from`"));
        }
        if (w.to - w.from).num_days() > MAX_WINDOW_DAYS {
            return Err(DomainError::invalid(
                "from",
                "the window is at most ten years",
            ));
        }
        Ok(w)
    }

    /// Whether the trend is drawn week by week (else month by month).
    pub fn weekly(&self) -> bool {
        (self.to - self.from).num_days() < WEEKLY_UP_TO_DAYS
    }

    /// The first day of the period holding `d`: its Monday, or the first of its month.
    fn period_of(&self, d: NaiveDate) -> NaiveDate {
        if self.weekly() {
            d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
        } else {
            d.with_day(1).unwrap_or(d)
        }
    }

    /// The periods covering the window, in order, with their labels.
    fn periods(&self) -> Vec<(NaiveDate, String)> {
        let mut out = vec![];
        let mut p = self.period_of(self.from);
        while p <= self.to {
            if self.weekly() {
                out.push((p, p.to_string()));
                p += Duration::weeks(1);
            } else {
                out.push((p, p.format("%Y-%m").to_string()));
                p = p
                    .checked_add_months(chrono::Months::new(1))
                    .unwrap_or(self.to + Duration::days(1));
            }
        }
        out
    }
}

/// The incident and fatality trend of the situation's area.
#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    /// `week` or `month`.
    pub period: &'static str,
    /// One bar per period of the window, zeros included, oldest first.
    pub bars: Vec<TrendBar>,
    /// Incidents in the window.
    pub incidents: u64,
    /// Their fatalities.
    pub fatalities: u64,
    /// The chart ([`charts::trend_svg`]).
    pub svg: String,
}

/// One risk factor of the latest published assessment.
#[derive(Debug, Clone, Serialize)]
pub struct RiskRow {
    /// Its number in the framework.
    pub factor: u32,
    /// Its name.
    pub name: String,
    /// Its level now.
    pub level: Level,
    /// How sure the analyst is.
    pub confidence: Confidence,
    /// Its level in the previous published assessment, if rated there.
    pub previous: Option<Level>,
    /// `up`, `down`, `same`, or `new` (not rated in the previous one, or there is none).
    pub change: &'static str,
    /// The analyst's rationale.
    pub rationale: String,
}

/// The risk factors of the latest published assessment, with their change since the previous
/// published one (both among those the viewer may read).
#[derive(Debug, Clone, Serialize)]
pub struct RiskTable {
    /// The assessment read (none: nothing published yet).
    pub assessment: Option<AssessmentRef>,
    /// Its summary.
    pub summary: String,
    /// The one compared with.
    pub previous: Option<AssessmentRef>,
    /// The label of the assessment read.
    pub tlp: Option<Tlp>,
    /// Rated factors, highest level first, then by number.
    pub rows: Vec<RiskRow>,
}

/// An open alert as the dashboard lists it.
#[derive(Debug, Clone, Serialize)]
pub struct OpenAlert {
    /// Its id.
    pub id: Uuid,
    /// What it is about.
    pub title: String,
    /// How grave.
    pub severity: Severity,
    /// Open, acknowledged or action decided.
    pub status: AlertStatus,
    /// Its label.
    pub tlp: Tlp,
    /// Raised.
    pub opened_at: chrono::DateTime<chrono::Utc>,
}

/// Open alerts of the situation.
#[derive(Debug, Clone, Serialize)]
pub struct OpenAlerts {
    /// How many are not closed (within clearance).
    pub total: u64,
    /// The newest of them, at most 20.
    pub alerts: Vec<OpenAlert>,
}

/// The action plan and its gaps.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Its actions, overdue first, then by due date.
    pub actions: Vec<ActionBrief>,
    /// Risk factors at high or severe no action (other than a dropped one) addresses.
    pub gaps: Vec<FactorLevel>,
    /// How many actions are overdue.
    pub overdue: usize,
}

/// The country's forecast rank.
#[derive(Debug, Clone, Serialize)]
pub struct Forecast {
    /// The latest stored run ranking the country.
    pub latest: Option<ForecastPoint>,
    /// The one before, if any.
    pub previous: Option<ForecastPoint>,
    /// `up` (a higher risk rank: a smaller number), `down`, `same`; none with fewer than two.
    pub trend: Option<&'static str>,
    /// Rank per run, oldest first.
    pub history: Vec<RankPoint>,
    /// The sparkline ([`charts::rank_sparkline_svg`]).
    pub svg: String,
}

/// The incidents of the area in the trend's window, for the map and the key incidents.
#[derive(Debug, Clone, Serialize)]
pub struct AreaIncidents {
    /// How many were read (at most [`MAX_INCIDENTS`]).
    pub read: u64,
    /// Of which verified.
    pub verified: u64,
    /// Whether the cap was reached (then the map and the verified count are incomplete).
    pub capped: bool,
    /// The verified ones with the most fatalities, then the newest (at most five).
    pub key: Vec<KeyIncident>,
    /// Where each lies.
    pub points: Vec<MapPoint>,
}

/// A key verified incident.
#[derive(Debug, Clone, Serialize)]
pub struct KeyIncident {
    /// Its id.
    pub id: Uuid,
    /// Day of the event.
    pub date: NaiveDate,
    /// Place (location, else admin1, else the country code).
    pub place: String,
    /// ACLED event type.
    pub event_type: String,
    /// ACLED sub-event type.
    pub sub_event_type: String,
    /// Best estimate of deaths.
    pub fatalities: u64,
    /// What happened.
    pub description: String,
    /// Its label.
    pub tlp: Tlp,
}

/// The toolbox measures the risk picture suggests.
#[derive(Debug, Clone, Serialize)]
pub struct Measures {
    /// The risk factors at high or severe (of the UN 2014 framework), highest first.
    pub factors: Vec<FactorLevel>,
    /// The measures addressing them, those acting on the highest level first.
    pub measures: Vec<SuggestedMeasure>,
    /// Why there is nothing to suggest, when that is so.
    pub note: Option<String>,
}

/// Everything the situation dashboard shows, filtered for the viewer (see the module's
/// invariant). Plain data: the web page renders it, a brief prints it.
#[derive(Debug, Clone, Serialize)]
pub struct SituationDashboard {
    /// The situation (its admin-1 areas in `admin1`).
    pub situation: Situation,
    /// The trend's window.
    pub window: TrendWindow,
    /// Incidents and fatalities in the area over the window; `None` for a role that may not
    /// read incidents.
    pub trend: Option<Trend>,
    /// Where the counted incidents lie, a little widened: west, south, east, north (the
    /// map's first view); `None` when none is counted.
    pub bounds: Option<[f64; 4]>,
    /// The area's incidents over the window (map, key verified incidents); `None` for a role
    /// that may not read incidents.
    pub incidents: Option<AreaIncidents>,
    /// The situation's assessments the viewer may see, newest first.
    pub assessments: Vec<Assessment>,
    /// The risk factors.
    pub risk: RiskTable,
    /// Suggested measures.
    pub measures: Measures,
    /// Legal qualifications recorded, at or below the viewer's clearance.
    pub legal: Vec<LegalQualification>,
    /// Recent escalation signals in the area, computed at the viewer's clearance.
    pub signals: Vec<SignalRecord>,
    /// Open alerts; `None` for a role that may not read alerts (or when not asked for).
    pub alerts: Option<OpenAlerts>,
    /// The action plan and its gaps.
    pub plan: Plan,
    /// The forecast rank and its trend.
    pub forecast: Forecast,
}

/// Which optional parts [`App::dashboard_parts`] reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parts {
    /// Open alerts.
    pub alerts: bool,
    /// Escalation signals.
    pub signals: bool,
}

fn change(now: Level, before: Option<Level>) -> &'static str {
    match before {
        None => "new",
        Some(b) if now > b => "up",
        Some(b) if now < b => "down",
        Some(_) => "same",
    }
}

impl App<'_> {
    /// The situation dashboard for `u` over `window` (see [`SituationDashboard`]). Needs
    /// `situation_read` and the situation within clearance (else `NotFound`); the read of a
    /// restricted situation and of the actions is audited as their own pages audit them.
    pub async fn situation_dashboard(
        &self,
        u: &User,
        situation_id: Uuid,
        window: TrendWindow,
    ) -> Result<SituationDashboard> {
        let all = Parts {
            alerts: true,
            signals: true,
        };
        self.dashboard_parts(u, situation_id, window, all).await
    }

    /// [`App::situation_dashboard`] reading only the optional `parts` asked for (a brief
    /// reads neither alerts nor signals, so their reads are not audited in its name).
    pub(crate) async fn dashboard_parts(
        &self,
        u: &User,
        situation_id: Uuid,
        window: TrendWindow,
        parts: Parts,
    ) -> Result<SituationDashboard> {
        require(u, Permission::SituationRead)?;
        // Reads the situation (audited when restricted), its plan and gaps.
        let response = self.response_view(u, situation_id).await?;
        let situation = self.situation_for(u, situation_id).await?;
        let (trend, bounds, incidents) = if u.can(Permission::IncidentRead) {
            let (t, b) = self.trend(u, &situation, window).await?;
            let i = self.area_incidents(u, &situation, window).await?;
            (Some(t), b, Some(i))
        } else {
            (None, None, None)
        };
        let assessments = self.assessments_of(u, &situation).await?;
        let risk = self.risk_table(&assessments);
        let (picture, note) = self.risk_picture(u, &situation).await?;
        let (factors, measures, note) = rank_measures(picture.as_ref(), note);
        let legal = self.legal_of(u, &situation).await?;
        let signals = if parts.signals {
            self.signals_in_area(u, &situation, SIGNALS_SHOWN).await?
        } else {
            vec![]
        };
        let alerts = if parts.alerts && u.can(Permission::AlertRead) {
            Some(self.open_alerts(u, situation.id).await?)
        } else {
            None
        };
        let mut actions: Vec<ActionBrief> = vec![];
        for a in response
            .rows
            .iter()
            .flat_map(|r| r.cells.iter().flat_map(|c| c.actions.iter()))
            .chain(response.unplaced.iter())
        {
            if !actions.iter().any(|x| x.id == a.id) {
                actions.push(a.clone());
            }
        }
        actions.sort_by(|a, b| {
            b.overdue
                .cmp(&a.overdue)
                .then(a.due_date.cmp(&b.due_date))
                .then(a.id.cmp(&b.id))
        });
        let plan = Plan {
            overdue: actions.iter().filter(|a| a.overdue).count(),
            actions,
            gaps: response.gaps,
        };
        let forecast = self.forecast_of(&situation).await?;
        Ok(SituationDashboard {
            situation,
            window,
            trend,
            bounds,
            incidents,
            assessments,
            risk,
            measures: Measures {
                factors,
                measures,
                note,
            },
            legal,
            signals,
            alerts,
            plan,
            forecast,
        })
    }

    /// The incidents of `s`'s area (its own, and those in its country and areas) in the window
    /// at or below `u`'s clearance, newest first, at most [`MAX_INCIDENTS`]; the key verified
    /// ones shown are audited as a list.
    async fn area_incidents(
        &self,
        u: &User,
        s: &Situation,
        w: TrendWindow,
    ) -> Result<AreaIncidents> {
        let base = IncidentFilter {
            from: Some(w.from),
            to: Some(w.to),
            max_tlp: u.clearance,
            ..IncidentFilter::default()
        };
        let own = IncidentFilter {
            situation_id: Some(s.id),
            ..base.clone()
        };
        let around = IncidentFilter {
            country: Some(s.country.clone()),
            ..base
        };
        let mut all = self.list_up_to(&own, MAX_INCIDENTS).await?;
        let mut capped = all.len() >= MAX_INCIDENTS;
        if !capped {
            for i in self.list_up_to(&around, MAX_INCIDENTS).await? {
                if i.situation_id != Some(s.id) && in_area(s, &i.country, i.admin1.as_deref()) {
                    all.push(i);
                }
            }
            capped = all.len() >= MAX_INCIDENTS;
        }
        all.retain(|i| u.may_see(i.tlp));
        all.sort_by(|a, b| b.event_date.cmp(&a.event_date).then(a.id.cmp(&b.id)));
        all.truncate(MAX_INCIDENTS);
        let is_verified = |i: &Incident| i.verification_status == VerificationStatus::Verified;
        let mut key: Vec<&Incident> = all.iter().filter(|i| is_verified(i)).collect();
        let verified = key.len() as u64;
        key.sort_by(|x, y| {
            y.fatalities
                .cmp(&x.fatalities)
                .then(y.event_date.cmp(&x.event_date))
        });
        key.truncate(KEY_INCIDENTS);
        reads::list(self.store, u, "incident", key.iter().map(|i| (i.id, i.tlp))).await?;
        let key = key
            .into_iter()
            .map(|i| KeyIncident {
                id: i.id,
                date: i.event_date,
                place: i
                    .location
                    .clone()
                    .or_else(|| i.admin1.clone())
                    .unwrap_or_else(|| i.country.code().to_string()),
                event_type: i.event_type.clone(),
                sub_event_type: i.sub_event_type.clone(),
                fatalities: i.fatalities.max(0) as u64,
                description: i.description.clone(),
                tlp: i.tlp,
            })
            .collect();
        let points = all
            .iter()
            .map(|i| MapPoint {
                lat: i.latitude,
                lon: i.longitude,
                fatalities: i.fatalities.max(0) as u64,
                verified: is_verified(i),
            })
            .collect();
        Ok(AreaIncidents {
            read: all.len() as u64,
            verified,
            capped,
            key,
            points,
        })
    }

    /// Every incident `f` lists, newest first, at most `cap`.
    async fn list_up_to(&self, f: &IncidentFilter, cap: usize) -> Result<Vec<Incident>> {
        let mut out = vec![];
        let mut cursor: Option<String> = None;
        loop {
            let page = PageRequest::parse(Some(500), cursor.as_deref())?;
            let p = self.incidents.list(self.store, f, page).await?;
            out.extend(p.items.into_iter().filter(|i| i.tlp <= f.max_tlp));
            match p.next_cursor {
                Some(c) if out.len() < cap => cursor = Some(c),
                _ => break,
            }
        }
        out.truncate(cap);
        Ok(out)
    }

    async fn trend(
        &self,
        u: &User,
        s: &Situation,
        w: TrendWindow,
    ) -> Result<(Trend, Option<[f64; 4]>)> {
        let groups = self
            .incidents
            .days(
                self.store,
                &DaysQuery {
                    country: s.country.clone(),
                    situation_id: Some(s.id),
                    from: w.from,
                    to: w.to,
                    max_tlp: u.clearance,
                },
            )
            .await?;
        let periods = w.periods();
        let mut bars: Vec<TrendBar> = periods
            .iter()
            .map(|(_, label)| TrendBar {
                label: label.clone(),
                incidents: 0,
                fatalities: 0,
            })
            .collect();
        let mut bounds: Option<[f64; 4]> = None;
        for g in groups {
            if !(g.in_situation || in_area(s, &g.country, g.admin1.as_deref())) {
                continue;
            }
            let start = w.period_of(g.date);
            let Ok(i) = periods.binary_search_by(|(p, _)| p.cmp(&start)) else {
                continue;
            };
            bars[i].incidents += g.incidents;
            bars[i].fatalities += g.fatalities;
            let b = bounds.get_or_insert(g.bounds);
            b[0] = b[0].min(g.bounds[0]);
            b[1] = b[1].min(g.bounds[1]);
            b[2] = b[2].max(g.bounds[2]);
            b[3] = b[3].max(g.bounds[3]);
        }
        let period = if w.weekly() { "week" } else { "month" };
        let area = if s.admin1.is_empty() {
            s.country.code().to_string()
        } else {
            format!("{} ({})", s.admin1.join(", "), s.country.code())
        };
        let title = format!(
            "Incidents and fatalities per {period} in {area}, {} to {}",
            w.from, w.to
        );
        let svg = charts::trend_svg(&title, &bars);
        let trend = Trend {
            period,
            incidents: bars.iter().map(|b| b.incidents).sum(),
            fatalities: bars.iter().map(|b| b.fatalities).sum(),
            bars,
            svg,
        };
        let bounds = bounds.map(|[w, s, e, n]| {
            // A little room around the points; a single point gets about a degree.
            let pad = ((e - w).max(n - s) * 0.1).max(0.5);
            [
                (w - pad).max(-180.0),
                (s - pad).max(-90.0),
                (e + pad).min(180.0),
                (n + pad).min(90.0),
            ]
        });
        Ok((trend, bounds))
    }

    fn risk_table(&self, assessments: &[Assessment]) -> RiskTable {
        let mut published: Vec<&Assessment> = assessments
            .iter()
            .filter(|a| a.status == AssessmentStatus::Published)
            .collect();
        published.sort_by_key(|a| std::cmp::Reverse((a.as_of, a.created_at)));
        let Some(latest) = published.first().copied() else {
            return RiskTable {
                assessment: None,
                summary: String::new(),
                previous: None,
                tlp: None,
                rows: vec![],
            };
        };
        let previous = published
            .iter()
            .skip(1)
            .find(|p| p.framework == latest.framework);
        let names = self.framework_of(latest).ok();
        let mut rows: Vec<RiskRow> = latest
            .factors
            .iter()
            .map(|f| {
                let before = previous.and_then(|p| p.factor(f.factor)).map(|p| p.level);
                RiskRow {
                    factor: f.factor,
                    name: names
                        .as_ref()
                        .and_then(|fw| fw.risk_factors.iter().find(|r| r.number == f.factor))
                        .map(|r| r.name.clone())
                        .unwrap_or_else(|| format!("Risk factor {}", f.factor)),
                    level: f.level,
                    confidence: f.confidence,
                    previous: before,
                    change: change(f.level, before),
                    rationale: f.rationale.clone(),
                }
            })
            .collect();
        rows.sort_by(|a, b| b.level.cmp(&a.level).then(a.factor.cmp(&b.factor)));
        let r = |a: &tocsin_domain::Assessment| AssessmentRef {
            id: a.id,
            as_of: a.as_of,
            framework: a.framework.clone(),
        };
        RiskTable {
            assessment: Some(r(latest)),
            summary: latest.summary.clone(),
            previous: previous.map(|p| r(p)),
            tlp: Some(latest.tlp),
            rows,
        }
    }

    async fn open_alerts(&self, u: &User, situation_id: Uuid) -> Result<OpenAlerts> {
        let mut total = 0;
        let mut alerts = vec![];
        for status in [
            AlertStatus::Open,
            AlertStatus::Acknowledged,
            AlertStatus::ActionDecided,
        ] {
            let q = AlertQuery {
                status: Some(status.as_str().to_string()),
                situation: Some(situation_id),
                ..Default::default()
            };
            total += self.count_alerts(u, &q).await?;
            let page = self
                .alerts_unaudited(u, &q, PageRequest::first(ALERTS_SHOWN))
                .await?;
            alerts.extend(page.items.into_iter().map(|a| OpenAlert {
                id: a.id,
                title: a.title,
                severity: a.severity,
                status: a.status,
                tlp: a.tlp,
                opened_at: a.opened_at,
            }));
        }
        alerts.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(b.opened_at.cmp(&a.opened_at))
        });
        alerts.truncate(ALERTS_SHOWN as usize);
        // The three pages above are read without audit; what is shown is audited once.
        reads::list(self.store, u, "alert", alerts.iter().map(|a| (a.id, a.tlp))).await?;
        Ok(OpenAlerts { total, alerts })
    }

    async fn forecast_of(&self, s: &Situation) -> Result<Forecast> {
        let history = self.store.forecast_history(&s.country).await?;
        let n = history.len();
        let latest = history.last().cloned();
        let previous = n.checked_sub(2).and_then(|i| history.get(i)).cloned();
        let trend = match (&previous, &latest) {
            (Some(a), Some(b)) => Some(if b.rank < a.rank {
                "up"
            } else if b.rank > a.rank {
                "down"
            } else {
                "same"
            }),
            _ => None,
        };
        let points: Vec<RankPoint> = history
            .iter()
            .map(|p| RankPoint {
                year: p.year,
                rank: p.rank,
            })
            .collect();
        let svg = charts::rank_sparkline_svg(
            &format!("Forecast rank of {} over the stored runs", s.country.code()),
            &points,
        );
        Ok(Forecast {
            latest,
            previous,
            trend,
            history: points,
            svg,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_default_window_is_52_whole_weeks_ending_this_week() {
        let w = TrendWindow::default_for(d("2025-11-27")); // a Thursday
        assert_eq!(w.to, d("2025-11-30"));
        assert_eq!(w.from, d("2024-12-02"));
        assert!(w.weekly());
        assert_eq!(w.periods().len(), 52);
        assert_eq!(w.periods()[0].1, "2024-12-02");
    }

    #[test]
    fn a_long_window_is_drawn_by_month() {
        let w =
            TrendWindow::parse(Some("2023-01-15"), Some("2024-12-31"), d("2025-01-01")).unwrap();
        assert!(!w.weekly());
        let p = w.periods();
        assert_eq!(p.len(), 24);
        assert_eq!((p[0].1.as_str(), p[23].1.as_str()), ("2023-01", "2024-12"));
        assert_eq!(w.period_of(d("2024-02-29")), d("2024-02-01"));
    }

    #[test]
    fn a_bad_window_is_refused_naming_the_field() {
        let today = d("2025-01-01");
        for (f, t, field) in [
            (Some("2025-13-01"), None, "from"),
            (None, Some("yesterday"), "to"),
            (Some("2025-02-01"), Some("2025-01-01"), "to"),
            (Some("2000-01-01"), Some("2025-01-01"), "from"),
        ] {
            match TrendWindow::parse(f, t, today) {
                Err(DomainError::Invalid { field: got, .. }) => assert_eq!(got, field),
                other => panic!("{f:?} {t:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn changes_read_up_down_same_or_new() {
        assert_eq!(change(Level::High, Some(Level::Moderate)), "up");
        assert_eq!(change(Level::Low, Some(Level::Severe)), "down");
        assert_eq!(change(Level::High, Some(Level::High)), "same");
        assert_eq!(change(Level::High, None), "new");
    }
}
