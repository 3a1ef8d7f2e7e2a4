//! Suggested matches of a report: the incidents and other reports it may be about, scored by
//! time, distance and text (`tocsin-match`), each with its explanation, best first, within the
//! viewer's clearance.
//!
//! Candidates come from [`IncidentLists::near`](crate::IncidentLists::near) (the server's
//! in-memory incident index, else the store) and [`tocsin_store::Matching::reports_near`]:
//! within [`WINDOW_BEFORE_DAYS`] days before and [`WINDOW_AFTER_DAYS`] after the report's
//! time, within [`RADIUS_KM`] of its point (given, or of the first place its text names),
//! else in its country, else anywhere in the window; never above the viewer's clearance, so
//! no score, rank or count is computed from a record the viewer may not see.
//!
//! **Same source.** A candidate whose every known source is the report's own source is never
//! suggested as corroboration. It is shown (marked, with "same source" in its explanation)
//! only to a reader cleared for that source; to anyone else it is left out, since "these two
//! came from one person" is itself something about the warner.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tocsin_domain::page::BBox;
use tocsin_domain::{Incident, Permission, Report, Tlp, User};
use tocsin_match::{Item, Matcher, Prepared, When};
use tocsin_store::{IncidentNear, NearReport, ReportNear, StoreError};
use uuid::Uuid;

use crate::{reads, require, visible, App, Result};

/// Candidates from this many days before the report's time.
pub const WINDOW_BEFORE_DAYS: i64 = 7;
/// Candidates up to this many days after the report's time.
pub const WINDOW_AFTER_DAYS: i64 = 2;
/// Candidates within this distance (a box around it) of the report's point.
pub const RADIUS_KM: f64 = 50.0;
/// At most this many candidates of each kind are scored (the nearest in time first).
pub const CANDIDATES: u32 = 500;
/// Matches scoring below this are not shown at all.
pub const SHOWN_FROM: f64 = 0.3;
/// At most this many matches are shown.
pub const MAX_SHOWN: usize = 20;

/// What a match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    /// A stored incident.
    Incident,
    /// Another report.
    Report,
}

/// One candidate of a report's matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportMatch {
    /// Incident or report.
    pub kind: MatchKind,
    /// Its id.
    pub id: Uuid,
    /// 0 (nothing in common) to 1, rounded to 3 decimals.
    pub score: f64,
    /// Suggested as the same event (score at or above the threshold, not the same source).
    pub suggested: bool,
    /// From the report's own source: never corroboration (shown only to a reader cleared for
    /// that source).
    pub same_source: bool,
    /// Kilometres apart, when both have a place.
    pub distance_km: Option<f64>,
    /// Hours apart, when both have a time.
    pub hours_apart: Option<f64>,
    /// The terms they share, as a person reads them.
    pub shared_terms: Vec<String>,
    /// Why: "3.2 km, 5 h apart, 4 shared terms: bunia, attack, market, 12".
    pub explanation: String,
    /// What it says: an incident's description or a report's text, cut at 200 characters.
    pub summary: String,
    /// When: an incident's event date, a report's claimed time or else its time of receipt.
    pub when: String,
    /// Its label.
    pub tlp: Tlp,
}

/// A report's matches, best first.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReportMatches {
    /// The report.
    pub report_id: Uuid,
    /// The score from which a match is suggested.
    pub threshold: f64,
    /// Where the report was placed for the search: "given point", "by name: Bunia", or "no
    /// place given".
    pub placed: String,
    /// The candidates shown, best first.
    pub matches: Vec<ReportMatch>,
}

fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The box of `km` around a point (clamped to the globe; no wrap at the antimeridian).
pub fn box_around(lat: f64, lon: f64, km: f64) -> BBox {
    let dlat = km / 111.0;
    let dlon = km / (111.0 * lat.to_radians().cos().abs().max(0.01));
    BBox {
        min_lon: (lon - dlon).max(-180.0),
        min_lat: (lat - dlat).max(-90.0),
        max_lon: (lon + dlon).min(180.0),
        max_lat: (lat + dlat).min(90.0),
    }
}

fn report_when(r: &Report) -> When {
    match r.occurred_at {
        Some(t) => When::Claimed(t),
        None => When::Received(r.received_at),
    }
}

fn report_time(r: &Report) -> DateTime<Utc> {
    r.occurred_at.unwrap_or(r.received_at)
}

/// What matching reuses from one report to the next for one viewer within one request (a
/// triage page matches each of its reports): candidates already prepared, sources and
/// source clearances already looked up.
pub(crate) struct MatchScope {
    pub(crate) m: Matcher<'static>,
    incidents: HashMap<Uuid, Prepared>,
    reports: HashMap<Uuid, Prepared>,
    source_of: HashMap<Uuid, Option<Uuid>>,
    cleared_for: HashMap<(Uuid, Uuid), bool>,
}

impl MatchScope {
    /// An empty scope with the default matcher and the embedded gazetteer.
    pub(crate) fn new() -> MatchScope {
        MatchScope {
            m: Matcher::new(Some(tocsin_geo::Gazetteer::global())),
            incidents: HashMap::new(),
            reports: HashMap::new(),
            source_of: HashMap::new(),
            cleared_for: HashMap::new(),
        }
    }

    /// The score from which a match is suggested.
    pub(crate) fn threshold(&self) -> f64 {
        self.m.params.threshold
    }

    /// Remember report `id`'s source, looked up elsewhere.
    pub(crate) fn note_source(&mut self, id: Uuid, source: Option<Uuid>) {
        self.source_of.insert(id, source);
    }
}

/// One report's matches as [`App::match_one`] finds them.
pub(crate) struct Found {
    /// Where the report was placed for the search.
    pub placed: String,
    /// The report's source, when known.
    pub own_source: Option<Uuid>,
    /// Whether a candidate query answered as many as it may ([`CANDIDATES`]).
    pub capped: bool,
    /// Every candidate scoring at least [`SHOWN_FROM`] that the viewer may see, best first.
    pub matches: Vec<ReportMatch>,
}

impl App<'_> {
    /// The matches of report `id` that `u` may see, best first (at most [`MAX_SHOWN`], none
    /// scoring under [`SHOWN_FROM`]). For roles that read both reports and incidents; a report
    /// above the viewer's clearance answers `NotFound`. Restricted records shown are audited
    /// as a list.
    pub async fn report_matches(&self, u: &User, id: Uuid) -> Result<ReportMatches> {
        require(u, Permission::ReportRead)?;
        require(u, Permission::IncidentRead)?;
        let report = self.store.get_report(id).await?;
        visible(u, report.tlp)?;
        reads::one(self.store, u, "report", report.id, report.tlp).await?;
        let mut scope = MatchScope::new();
        let mut found = self.match_one(u, &mut scope, &report, true).await?;
        found.matches.truncate(MAX_SHOWN);
        self.audit_matches(u, &found.matches).await?;
        Ok(ReportMatches {
            report_id: report.id,
            threshold: scope.threshold(),
            placed: found.placed,
            matches: found.matches,
        })
    }

    /// Audit the restricted records among `matches` shown to `u`, one list entry per kind.
    pub(crate) async fn audit_matches(&self, u: &User, matches: &[ReportMatch]) -> Result<()> {
        for (kind, name) in [
            (MatchKind::Incident, "incident"),
            (MatchKind::Report, "report"),
        ] {
            reads::list(
                self.store,
                u,
                name,
                matches
                    .iter()
                    .filter(|x| x.kind == kind)
                    .map(|x| (x.id, x.tlp)),
            )
            .await?;
        }
        Ok(())
    }

    /// Match one report `u` may see against the incidents (when `with_incidents`; the caller
    /// checked `u` may read them) and reports near it that `u` may see, reusing what `scope`
    /// already holds. Same-source matches are kept only when `u` is cleared for the source.
    /// Nothing is audited here: the caller audits what it shows ([`App::audit_matches`]).
    pub(crate) async fn match_one(
        &self,
        u: &User,
        scope: &mut MatchScope,
        report: &Report,
        with_incidents: bool,
    ) -> Result<Found> {
        let mut found = self
            .match_all(u.clearance, scope, report, with_incidents)
            .await?;
        if found.matches.iter().any(|x| x.same_source)
            && !self.cleared_for_source(u, scope, found.own_source).await?
        {
            found.matches.retain(|x| !x.same_source);
        }
        Ok(found)
    }

    /// Whether `u` may see the source `sid` (so may be shown that two records came from it).
    pub(crate) async fn cleared_for_source(
        &self,
        u: &User,
        scope: &mut MatchScope,
        sid: Option<Uuid>,
    ) -> Result<bool> {
        let Some(sid) = sid else {
            return Ok(false);
        };
        if let Some(c) = scope.cleared_for.get(&(u.id, sid)) {
            return Ok(*c);
        }
        let c = match self.store.get_source(sid).await {
            Ok(src) => u.may_see(src.tlp),
            Err(StoreError::NotFound) => false,
            Err(e) => return Err(e.into()),
        };
        scope.cleared_for.insert((u.id, sid), c);
        Ok(c)
    }

    /// The source of report `id`, looked up once per scope.
    pub(crate) async fn source_of(&self, scope: &mut MatchScope, id: Uuid) -> Result<Option<Uuid>> {
        if let Some(s) = scope.source_of.get(&id) {
            return Ok(*s);
        }
        let s = self
            .store
            .report_sources(&[id])
            .await?
            .into_iter()
            .find_map(|(_, s)| s);
        scope.source_of.insert(id, s);
        Ok(s)
    }

    /// Where `report` is looked for and what it is compared as.
    pub(crate) async fn probe(
        &self,
        scope: &mut MatchScope,
        report: &Report,
        max_tlp: Tlp,
    ) -> Result<Probe> {
        let own_source = self.source_of(scope, report.id).await?;
        let own_sources: Vec<Uuid> = own_source.into_iter().collect();
        let country = report.country.as_ref().map(|c| c.code().to_string());
        let prepared = scope.m.prepare(&Item {
            text: &report.text,
            point: report.latitude.zip(report.longitude),
            place: report.meta.place_name.as_deref(),
            when: report_when(report),
            country: country.as_deref(),
            sources: &own_sources,
        });
        let (point, placed_by) = prepared.point();
        let placed = match (point, placed_by) {
            (Some(_), None) => "given point".to_string(),
            (Some(_), Some(n)) => format!("by name: {n}"),
            (None, _) => "no place given".to_string(),
        };
        let t = report_time(report);
        let bbox = point.map(|(lat, lon)| box_around(lat, lon, RADIUS_KM));
        let by_country = if bbox.is_none() {
            report.country.clone()
        } else {
            None
        };
        let incidents = IncidentNear {
            from: (t - Duration::days(WINDOW_BEFORE_DAYS)).date_naive(),
            to: (t + Duration::days(WINDOW_AFTER_DAYS)).date_naive(),
            bbox,
            country: by_country.clone(),
            max_tlp,
            limit: CANDIDATES,
        };
        let reports = ReportNear {
            from: t - Duration::days(WINDOW_BEFORE_DAYS),
            to: report.received_at.max(t) + Duration::days(WINDOW_AFTER_DAYS + 2),
            bbox,
            unplaced: true,
            country: by_country,
            exclude: Some(report.id),
            max_tlp,
            limit: CANDIDATES,
        };
        Ok(Probe {
            own_source,
            prepared,
            placed,
            incidents,
            reports,
        })
    }

    /// Prepare the incidents `scope` does not hold yet, with the sources of their reports.
    pub(crate) async fn prepare_incidents(
        &self,
        scope: &mut MatchScope,
        incidents: &[Incident],
    ) -> Result<()> {
        // The sources of the incidents' reports (ids only, never shown).
        let linked: Vec<Uuid> = incidents
            .iter()
            .filter(|i| !scope.incidents.contains_key(&i.id))
            .flat_map(|i| i.report_ids.iter().copied())
            .filter(|r| !scope.source_of.contains_key(r))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if !linked.is_empty() {
            let known: HashMap<Uuid, Option<Uuid>> = self
                .store
                .report_sources(&linked)
                .await?
                .into_iter()
                .collect();
            for r in linked {
                scope.source_of.insert(r, known.get(&r).copied().flatten());
            }
        }
        let m = scope.m;
        for inc in incidents {
            if !scope.incidents.contains_key(&inc.id) {
                let of = |r: &Uuid| scope.source_of.get(r).copied().flatten();
                // A linked report without a known source makes the incident not wholly ours.
                let sources: Vec<Uuid> = if inc.report_ids.iter().any(|r| of(r).is_none()) {
                    Vec::new()
                } else {
                    inc.report_ids.iter().filter_map(of).collect()
                };
                let c = inc.country.code();
                let p = m.prepare(&incident_item(inc, c, &sources));
                scope.incidents.insert(inc.id, p);
            }
        }
        Ok(())
    }

    /// The match of a prepared incident against `probe`, when it scores at least
    /// [`SHOWN_FROM`].
    pub(crate) fn score_incident(
        scope: &MatchScope,
        probe: &Probe,
        inc: &Incident,
    ) -> Option<ReportMatch> {
        let s = scope.m.score(&probe.prepared, &scope.incidents[&inc.id]);
        (s.score >= SHOWN_FROM).then(|| {
            to_match(
                MatchKind::Incident,
                inc.id,
                inc.tlp,
                &inc.description,
                inc.event_date.to_string(),
                s,
            )
        })
    }

    /// The match of a candidate report against `probe`, when it scores at least
    /// [`SHOWN_FROM`] (preparing it into `scope` first).
    pub(crate) fn score_report(
        scope: &mut MatchScope,
        probe: &Probe,
        r: &NearReport,
    ) -> Option<ReportMatch> {
        let m = scope.m;
        let id = r.report.id;
        scope.source_of.insert(id, r.source_id);
        let cand = scope.reports.entry(id).or_insert_with(|| {
            let c = r.report.country.as_ref().map(|c| c.code().to_string());
            let sources: Vec<Uuid> = r.source_id.into_iter().collect();
            m.prepare(&Item {
                text: &r.report.text,
                point: r.report.latitude.zip(r.report.longitude),
                place: r.report.meta.place_name.as_deref(),
                when: report_when(&r.report),
                country: c.as_deref(),
                sources: &sources,
            })
        });
        let s = m.score(&probe.prepared, cand);
        (s.score >= SHOWN_FROM).then(|| {
            let when = tocsin_domain::time::format(&report_time(&r.report));
            to_match(MatchKind::Report, id, r.report.tlp, &r.report.text, when, s)
        })
    }

    /// Every match of `report` scoring at least [`SHOWN_FROM`] among the incidents (when
    /// `with_incidents`) and reports near it labelled at most `max_tlp`, same-source ones
    /// included, best first. The caller decides what a viewer may be shown of them.
    pub(crate) async fn match_all(
        &self,
        max_tlp: Tlp,
        scope: &mut MatchScope,
        report: &Report,
        with_incidents: bool,
    ) -> Result<Found> {
        let probe = self.probe(scope, report, max_tlp).await?;
        let mut scored: Vec<ReportMatch> = Vec::new();
        let mut capped = false;
        if with_incidents {
            let mut incidents = self.incidents.near(self.store, &probe.incidents).await?;
            capped |= crate::suggestions::at_cap(incidents.len());
            incidents.retain(|i| i.tlp <= max_tlp);
            self.prepare_incidents(scope, &incidents).await?;
            scored.extend(
                incidents
                    .iter()
                    .filter_map(|inc| Self::score_incident(scope, &probe, inc)),
            );
        }
        let mut reports: Vec<NearReport> = self.store.reports_near(&probe.reports).await?;
        capped |= crate::suggestions::at_cap(reports.len());
        reports.retain(|r| r.report.tlp <= max_tlp);
        for r in &reports {
            scored.extend(Self::score_report(scope, &probe, r));
        }
        sort_matches(&mut scored);
        Ok(Found {
            placed: probe.placed,
            own_source: probe.own_source,
            capped,
            matches: scored,
        })
    }
}

/// Best first (ties by id).
pub(crate) fn sort_matches(v: &mut [ReportMatch]) {
    v.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
}

/// A report made ready for matching: its own source, its prepared form, where it was placed
/// and the candidate queries around it.
pub(crate) struct Probe {
    /// Its source, when known.
    pub own_source: Option<Uuid>,
    /// What it is compared as.
    pub prepared: Prepared,
    /// Where it was placed for the search.
    pub placed: String,
    /// The incidents it is compared with.
    pub incidents: IncidentNear,
    /// The reports it is compared with.
    pub reports: ReportNear,
}

impl Probe {
    /// Whether `inc` is among the incidents the probe's query answers (time, box or country,
    /// label), the cap on their number aside.
    pub(crate) fn covers(&self, inc: &Incident) -> bool {
        let q = &self.incidents;
        inc.tlp <= q.max_tlp
            && inc.event_date >= q.from
            && inc.event_date <= q.to
            && q.bbox.is_none_or(|b| {
                inc.longitude >= b.min_lon
                    && inc.longitude <= b.max_lon
                    && inc.latitude >= b.min_lat
                    && inc.latitude <= b.max_lat
            })
            && q.country.as_ref().is_none_or(|c| *c == inc.country)
    }
}

fn incident_item<'a>(inc: &'a Incident, country: &'a str, sources: &'a [Uuid]) -> Item<'a> {
    Item {
        text: &inc.description,
        point: Some((inc.latitude, inc.longitude)),
        place: inc.location.as_deref(),
        when: When::incident(inc.event_date, inc.date_precision),
        country: Some(country),
        sources,
    }
}

fn to_match(
    kind: MatchKind,
    id: Uuid,
    tlp: Tlp,
    text: &str,
    when: String,
    s: tocsin_match::Scored,
) -> ReportMatch {
    ReportMatch {
        kind,
        id,
        score: round3(s.score),
        suggested: s.suggested,
        same_source: s.same_source,
        distance_km: s.distance_km.map(|d| (d * 10.0).round() / 10.0),
        hours_apart: s.hours_apart.map(|h| (h * 10.0).round() / 10.0),
        shared_terms: s.shared_terms,
        explanation: s.explanation,
        summary: cut(text, 200),
        when,
        tlp,
    }
}
