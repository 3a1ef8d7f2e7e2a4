//! What a brief for decision-makers holds (`tocsin brief`, `GET /situations/{id}/brief`):
//! gathered here, at the audience's clearance, and laid out by `tocsin-brief` (PDF, HTML).
//!
//! Kept narrow on purpose: [`App::brief_content`] reads the situation, its latest two
//! published assessments, its incidents, legal qualifications, actions and the toolbox, and
//! nothing else. When the situation dashboard's overview exists, this gathering can read from
//! it instead; the [`BriefContent`] shape is what the layout depends on.
//!
//! **Rules.** A brief carries nothing above its clearance: the lower of the audience role's
//! default clearance and the clearance of whoever makes it (the operator at the command line
//! has none of their own). It never names a source, a report or who warned: it reads no
//! report and no source at all. Its label is the highest label of what it carries. Making one
//! is audited (`brief.make`), and the restricted incidents it shows are audited as a list.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use tocsin_domain::legal::{guarded_terms, unqualified};
use tocsin_domain::{
    ActionStatus, Assessment, AssessmentStatus, AuditEvent, Crime, Finding, Incident,
    IncidentFilter, Lang, Level, PageRequest, Permission, Role, Term, Tlp, VerificationStatus,
};
use tocsin_framework::{FactorNames, Framework};
use tocsin_store::StoreExt;
use tocsin_toolbox::Toolbox;
use uuid::Uuid;

use crate::actions::ACTION_FRAMEWORK;
use crate::{reads, visible, Acting, App, AppError, Result};

/// Incidents a brief reads at most (counts, trend and map).
const MAX_INCIDENTS: usize = 5_000;
/// Key incidents shown.
const KEY_INCIDENTS: usize = 5;
/// Measures shown.
const MEASURES: usize = 5;
/// Precedents shown.
const PRECEDENTS: usize = 3;
/// Months of the trend.
const TREND_MONTHS: u32 = 12;
/// Characters of an incident's description shown.
const DESCRIPTION_CHARS: usize = 240;
/// Characters of the situation's own summary shown.
const SITUATION_CHARS: usize = 700;
/// Characters of the assessment's summary shown.
const SUMMARY_CHARS: usize = 1_500;

/// What to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BriefRequest {
    /// Who will read it: its clearance is this role's default clearance (at most the maker's).
    pub audience: Role,
    /// The language of its headings and risk-factor names.
    pub lang: Lang,
    /// Its format (recorded in the audit entry).
    pub format: BriefFormat,
}

/// A brief's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BriefFormat {
    /// PDF, laid out by Typst.
    Pdf,
    /// A standalone HTML page.
    Html,
}

impl BriefFormat {
    /// `pdf` or `html`.
    pub fn parse(s: &str) -> Result<BriefFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pdf" => Ok(BriefFormat::Pdf),
            "html" => Ok(BriefFormat::Html),
            _ => Err(AppError::bad_field("format", "expected pdf or html")),
        }
    }

    /// `pdf` or `html`.
    pub fn as_str(self) -> &'static str {
        match self {
            BriefFormat::Pdf => "pdf",
            BriefFormat::Html => "html",
        }
    }
}

/// Parse `--audience` / `audience=`: a role name.
pub fn parse_audience(s: &str) -> Result<Role> {
    Role::parse(s).map_err(|_| {
        AppError::bad_field(
            "audience",
            "expected admin, analyst, desk_officer, monitor_coordinator or viewer",
        )
    })
}

/// Parse `--lang` / `lang=`: `en`, `fr`, `sw` or `ar`.
pub fn parse_lang(s: &str) -> Result<Lang> {
    match Lang::parse(s) {
        Some(l) if s.trim().len() == 2 => Ok(l),
        _ => Err(AppError::bad_field("lang", "expected en, fr, sw or ar")),
    }
}

/// Everything a brief shows, already filtered for its audience.
#[derive(Debug, Clone, Serialize)]
pub struct BriefContent {
    /// The situation.
    pub situation: BriefSituation,
    /// Who it is for.
    pub audience: Role,
    /// Its language.
    pub lang: Lang,
    /// Nothing above this label was read.
    pub clearance: Tlp,
    /// The highest label of what it carries (its own marking).
    pub tlp: Tlp,
    /// The day it was made (UTC).
    pub made_on: NaiveDate,
    /// The latest published assessment at or below the clearance.
    pub assessment: Option<BriefAssessment>,
    /// Its risk factors rated above none, highest level first.
    pub factors: Vec<BriefFactor>,
    /// Whether the factor names are a translation not checked against an official text.
    pub names_unchecked: bool,
    /// Totals over the incidents read.
    pub totals: BriefTotals,
    /// The verified incidents with the most fatalities, then the newest.
    pub key_incidents: Vec<BriefIncident>,
    /// Incidents and fatalities per month, the last twelve months to `made_on`.
    pub trend: Vec<MonthCount>,
    /// Where the incidents happened.
    pub points: Vec<MapPoint>,
    /// Toolbox measures for the factors at high or severe.
    pub measures: Vec<BriefMeasure>,
    /// Why no measure is suggested, when that is so.
    pub measures_note: Option<String>,
    /// Actions planned or in progress.
    pub open_actions: Vec<BriefAction>,
    /// Factors at high or severe no action addresses.
    pub gaps: Vec<BriefGap>,
    /// Precedents of the suggested measures.
    pub precedents: Vec<BriefPrecedent>,
    /// Legal qualifications recorded for the situation (at or below the clearance).
    pub legal: Vec<BriefQualification>,
    /// Guarded words used in the brief's text that no recorded qualification covers.
    pub warnings: Vec<TermWarning>,
}

/// The situation as a brief names it.
#[derive(Debug, Clone, Serialize)]
pub struct BriefSituation {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// ISO alpha-3.
    pub country: String,
    /// The country's English name.
    pub country_name: String,
    /// First-level area, if any.
    pub admin1: Option<String>,
    /// `watch`, `active` or `closed`.
    pub status: String,
    /// Its summary.
    pub description: String,
}

/// The assessment a brief reads.
#[derive(Debug, Clone, Serialize)]
pub struct BriefAssessment {
    /// The date it speaks for.
    pub as_of: NaiveDate,
    /// Its summary.
    pub summary: String,
    /// Its framework's id.
    pub framework: String,
    /// The framework's title.
    pub framework_name: String,
    /// The date of the published assessment changes are counted from.
    pub previous_as_of: Option<NaiveDate>,
}

/// How a factor's level moved since the previous published assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Higher now.
    Up,
    /// Lower now.
    Down,
    /// The same.
    Same,
    /// Not rated before (or no previous assessment).
    New,
}

/// One risk factor.
#[derive(Debug, Clone, Serialize)]
pub struct BriefFactor {
    /// Its number in the framework.
    pub number: u32,
    /// Its name in the brief's language.
    pub name: String,
    /// Its level.
    pub level: Level,
    /// Its level in the previous published assessment.
    pub previous: Option<Level>,
    /// The move.
    pub change: Change,
}

/// Totals over the incidents read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BriefTotals {
    /// Incidents.
    pub incidents: u64,
    /// Of which verified.
    pub verified: u64,
    /// Best-estimate fatalities.
    pub fatalities: i64,
    /// Whether the cap on incidents read was reached (totals are then lower bounds).
    pub capped: bool,
}

/// A key incident.
#[derive(Debug, Clone, Serialize)]
pub struct BriefIncident {
    /// Day of the event.
    pub date: NaiveDate,
    /// Place (location, else admin1, else the country code).
    pub place: String,
    /// ACLED event type.
    pub event_type: String,
    /// Best estimate of deaths.
    pub fatalities: i64,
    /// What happened (shortened).
    pub description: String,
    /// Its label.
    pub tlp: Tlp,
}

/// One month of the trend.
#[derive(Debug, Clone, Serialize)]
pub struct MonthCount {
    /// `YYYY-MM`.
    pub month: String,
    /// Incidents that month.
    pub incidents: u64,
    /// Fatalities that month.
    pub fatalities: i64,
}

/// One incident on the map.
#[derive(Debug, Clone, Serialize)]
pub struct MapPoint {
    /// WGS84 latitude.
    pub lat: f64,
    /// WGS84 longitude.
    pub lon: f64,
    /// Best estimate of deaths.
    pub fatalities: i64,
    /// Whether it is verified.
    pub verified: bool,
}

/// A suggested measure.
#[derive(Debug, Clone, Serialize)]
pub struct BriefMeasure {
    /// The toolbox id.
    pub id: String,
    /// Its name (English: the toolbox has no translations).
    pub name: String,
    /// Its category.
    pub category: String,
    /// The factors at high or severe it addresses.
    pub factors: Vec<u32>,
}

/// An open action.
#[derive(Debug, Clone, Serialize)]
pub struct BriefAction {
    /// The measure's name.
    pub measure: String,
    /// The owning department.
    pub department: String,
    /// `planned` or `in_progress`.
    pub status: ActionStatus,
    /// Due.
    pub due_date: NaiveDate,
    /// Past due.
    pub overdue: bool,
}

/// A factor at high or severe that no action addresses.
#[derive(Debug, Clone, Serialize)]
pub struct BriefGap {
    /// Its number.
    pub number: u32,
    /// Its name in the brief's language.
    pub name: String,
    /// Its level.
    pub level: Level,
}

/// A precedent.
#[derive(Debug, Clone, Serialize)]
pub struct BriefPrecedent {
    /// Title.
    pub title: String,
    /// Country.
    pub country: String,
    /// Years.
    pub years: String,
    /// `success`, `partial_success`, `failure` or `contested`.
    pub assessment: String,
    /// What happened (shortened).
    pub outcome: String,
}

/// A recorded legal qualification.
#[derive(Debug, Clone, Serialize)]
pub struct BriefQualification {
    /// The crime named.
    pub crime: Crime,
    /// What was concluded.
    pub finding: Finding,
    /// When.
    pub on: NaiveDate,
}

/// A guarded word in the brief's text with no recorded qualification covering it.
#[derive(Debug, Clone, Serialize)]
pub struct TermWarning {
    /// Which text of the brief (`summary`, `situation`, `incident 2026-03-01`).
    pub field: String,
    /// Which word.
    pub term: Term,
    /// As written.
    pub found: String,
    /// Where, in characters from the start of that text.
    pub at: usize,
}

fn shorten(s: &str, n: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= n {
        return s.to_string();
    }
    let cut: String = s.chars().take(n).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a);
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.']))
}

fn month_key(d: NaiveDate) -> (i32, u32) {
    (d.year(), d.month())
}

/// The twelve months ending with `last`'s, oldest first.
fn months_to(last: NaiveDate) -> Vec<(i32, u32)> {
    let (mut y, mut m) = month_key(last);
    let mut v = Vec::with_capacity(TREND_MONTHS as usize);
    for _ in 0..TREND_MONTHS {
        v.push((y, m));
        if m == 1 {
            y -= 1;
            m = 12;
        } else {
            m -= 1;
        }
    }
    v.reverse();
    v
}

/// The published assessments of a situation at or below `cap`, newest first.
fn published(all: Vec<Assessment>, cap: Tlp) -> Vec<Assessment> {
    let mut v: Vec<Assessment> = all
        .into_iter()
        .filter(|a| a.status == AssessmentStatus::Published && a.tlp <= cap)
        .collect();
    v.sort_by_key(|a| std::cmp::Reverse((a.as_of, a.created_at)));
    v
}

impl App<'_> {
    /// The content of a brief on situation `id` for `req.audience`, made by `by` (a user who
    /// may read situations and incidents, or the operator). A situation labelled above the
    /// brief's clearance is refused naming `audience`; one above the maker's answers
    /// `NotFound`. Audited: one `brief.make` entry, and the restricted incidents shown.
    pub async fn brief_content(
        &self,
        by: Acting<'_>,
        id: Uuid,
        req: BriefRequest,
    ) -> Result<BriefContent> {
        by.require(Permission::SituationRead)?;
        by.require(Permission::IncidentRead)?;
        let audience_cap = req.audience.default_clearance();
        let cap = match by {
            Acting::User(u) => audience_cap.min(u.clearance),
            Acting::Operator(_) => audience_cap,
        };
        let s = self.store.get_situation(id).await?;
        if let Acting::User(u) = by {
            visible(u, s.tlp)?;
        }
        if s.tlp > cap {
            return Err(AppError::bad_field(
                "audience",
                format!(
                    "the situation is labelled {}, above what a brief for {} may carry ({cap})",
                    s.tlp,
                    req.audience.as_str()
                ),
            ));
        }
        let lang = req.lang.code();
        let mut tlp = s.tlp;
        let description = shorten(&s.description, SITUATION_CHARS);

        // Risk factors: the latest published assessment and the one before it.
        let assessments = published(self.store.list_assessments(Some(s.id), 500).await?, cap);
        let latest = assessments.first();
        let framework: Option<&Framework> = latest
            .and_then(|a| self.frameworks.get(&a.framework))
            .map(|f| f.as_ref());
        let names = framework.and_then(FactorNames::shipped);
        let name_of = |n: u32| -> String {
            framework
                .and_then(|f| f.factor_name(names.as_ref(), n, lang))
                .map(str::to_string)
                .unwrap_or_else(|| format!("{n}"))
        };
        let previous = latest.and_then(|a| {
            assessments
                .iter()
                .skip(1)
                .find(|p| p.framework == a.framework)
        });
        let mut factors: Vec<BriefFactor> = vec![];
        if let Some(a) = latest {
            tlp = tlp.max(a.tlp);
            let before: BTreeMap<u32, Level> = previous
                .map(|p| p.factors.iter().map(|f| (f.factor, f.level)).collect())
                .unwrap_or_default();
            for f in a.factors.iter().filter(|f| f.level > Level::None) {
                let prev = before.get(&f.factor).copied();
                factors.push(BriefFactor {
                    number: f.factor,
                    name: name_of(f.factor),
                    level: f.level,
                    previous: prev,
                    change: match prev {
                        None => Change::New,
                        Some(p) if f.level > p => Change::Up,
                        Some(p) if f.level < p => Change::Down,
                        Some(_) => Change::Same,
                    },
                });
            }
            factors.sort_by(|x, y| y.level.cmp(&x.level).then(x.number.cmp(&y.number)));
        }
        let assessment = latest.map(|a| BriefAssessment {
            as_of: a.as_of,
            summary: shorten(&a.summary, SUMMARY_CHARS),
            framework: a.framework.clone(),
            framework_name: framework.map(|f| f.name.clone()).unwrap_or_default(),
            previous_as_of: previous.map(|p| p.as_of),
        });
        let names_unchecked =
            lang != "en" && names.as_ref().is_some_and(|n| n.names.contains_key(lang));

        // Incidents of the situation at or below the clearance.
        let incidents = self.brief_incidents(s.id, cap).await?;
        let capped = incidents.len() >= MAX_INCIDENTS;
        let made_on = tocsin_domain::time::now().date_naive();
        let mut totals = BriefTotals {
            capped,
            ..BriefTotals::default()
        };
        let months = months_to(made_on);
        let mut per_month: BTreeMap<(i32, u32), (u64, i64)> =
            months.iter().map(|m| (*m, (0, 0))).collect();
        for i in &incidents {
            totals.incidents += 1;
            totals.fatalities += i.fatalities.max(0);
            if i.verification_status == VerificationStatus::Verified {
                totals.verified += 1;
            }
            if let Some(m) = per_month.get_mut(&month_key(i.event_date)) {
                m.0 += 1;
                m.1 += i.fatalities.max(0);
            }
        }
        let trend = per_month
            .into_iter()
            .map(|((y, m), (n, f))| MonthCount {
                month: format!("{y:04}-{m:02}"),
                incidents: n,
                fatalities: f,
            })
            .collect();
        let points = incidents
            .iter()
            .map(|i| MapPoint {
                lat: i.latitude,
                lon: i.longitude,
                fatalities: i.fatalities,
                verified: i.verification_status == VerificationStatus::Verified,
            })
            .collect();
        let mut verified: Vec<&Incident> = incidents
            .iter()
            .filter(|i| i.verification_status == VerificationStatus::Verified)
            .collect();
        verified.sort_by(|x, y| {
            y.fatalities
                .cmp(&x.fatalities)
                .then(y.event_date.cmp(&x.event_date))
        });
        verified.truncate(KEY_INCIDENTS);
        let key_incidents: Vec<BriefIncident> = verified
            .iter()
            .map(|i| BriefIncident {
                date: i.event_date,
                place: i
                    .location
                    .clone()
                    .or_else(|| i.admin1.clone())
                    .unwrap_or_else(|| i.country.code().to_string()),
                event_type: i.event_type.clone(),
                fatalities: i.fatalities,
                description: shorten(&i.description, DESCRIPTION_CHARS),
                tlp: i.tlp,
            })
            .collect();
        for i in &verified {
            tlp = tlp.max(i.tlp);
        }

        // Measures, open actions, gaps and precedents (the toolbox refers to the UN 2014
        // framework's factors).
        let toolbox = Toolbox::shipped();
        let high: Vec<&BriefFactor> = match latest {
            Some(a) if a.framework == ACTION_FRAMEWORK => {
                factors.iter().filter(|f| f.level >= Level::High).collect()
            }
            _ => vec![],
        };
        let measures_note = match latest {
            None => Some("no published assessment".to_string()),
            Some(a) if a.framework != ACTION_FRAMEWORK => Some(format!(
                "the toolbox's measures refer to the risk factors of {ACTION_FRAMEWORK}, not {}",
                a.framework
            )),
            Some(_) if high.is_empty() => Some("no risk factor at high or severe".to_string()),
            Some(_) => None,
        };
        let mut ranked: Vec<(Level, usize, usize, BriefMeasure)> = toolbox
            .measures
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                let hit: Vec<&&BriefFactor> = high
                    .iter()
                    .filter(|f| m.risk_factors.iter().any(|r| u32::from(*r) == f.number))
                    .collect();
                let top = hit.iter().map(|f| f.level).max()?;
                Some((
                    top,
                    hit.len(),
                    i,
                    BriefMeasure {
                        id: m.id.clone(),
                        name: m.name.clone(),
                        category: m.category.clone(),
                        factors: hit.iter().map(|f| f.number).collect(),
                    },
                ))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let measures: Vec<BriefMeasure> = ranked
            .into_iter()
            .take(MEASURES)
            .map(|(_, _, _, m)| m)
            .collect();
        let actions = self.store.actions_of(s.id, 1000).await?;
        let addressed: BTreeSet<u32> = actions
            .iter()
            .filter(|a| a.status != ActionStatus::Dropped)
            .flat_map(|a| a.risk_factors.iter().copied())
            .collect();
        let mut open: Vec<BriefAction> = actions
            .iter()
            .filter(|a| matches!(a.status, ActionStatus::Planned | ActionStatus::InProgress))
            .map(|a| BriefAction {
                measure: toolbox
                    .measure(&a.measure_id)
                    .map_or_else(|| a.measure_id.clone(), |m| m.name.clone()),
                department: a.department.name().to_string(),
                status: a.status,
                due_date: a.due_date,
                overdue: a.due_date < made_on,
            })
            .collect();
        open.sort_by_key(|a| a.due_date);
        let gaps = high
            .iter()
            .filter(|f| !addressed.contains(&f.number))
            .map(|f| BriefGap {
                number: f.number,
                name: f.name.clone(),
                level: f.level,
            })
            .collect();
        let mut seen = BTreeSet::new();
        let mut candidates: Vec<&tocsin_toolbox::Precedent> = measures
            .iter()
            .filter_map(|m| toolbox.measure(&m.id))
            .flat_map(|m| m.precedents.iter())
            .filter_map(|p| toolbox.precedent(p))
            .filter(|p| seen.insert(p.id.clone()))
            .collect();
        // The situation's own country first, then in the measures' order.
        candidates.sort_by_key(|p| p.iso3 != s.country.code());
        let precedents = candidates
            .into_iter()
            .take(PRECEDENTS)
            .map(|p| BriefPrecedent {
                title: p.title.clone(),
                country: p.country.clone(),
                years: p.years.clone(),
                assessment: p.assessment.clone(),
                outcome: shorten(&p.outcome, 200),
            })
            .collect();

        // Legal qualifications and the terminology guard over the brief's own text.
        let quals: Vec<_> = self
            .store
            .list_legal_qualifications(s.id)
            .await?
            .into_iter()
            .filter(|q| q.tlp <= cap)
            .collect();
        for q in &quals {
            tlp = tlp.max(q.tlp);
        }
        let recorded: Vec<Crime> = quals.iter().map(|q| q.crime).collect();
        let legal = quals
            .iter()
            .map(|q| BriefQualification {
                crime: q.crime,
                finding: q.finding,
                on: q.created_at.date_naive(),
            })
            .collect();
        let mut texts: Vec<(String, &str)> = vec![
            ("situation".into(), description.as_str()),
            ("situation name".into(), s.name.as_str()),
        ];
        if let Some(a) = &assessment {
            texts.push(("summary".into(), a.summary.as_str()));
        }
        for i in &key_incidents {
            texts.push((format!("incident {}", i.date), i.description.as_str()));
        }
        let warnings = texts
            .into_iter()
            .flat_map(|(field, text)| {
                unqualified(guarded_terms(text), &recorded)
                    .into_iter()
                    .map(move |u| TermWarning {
                        field: field.clone(),
                        term: u.term,
                        found: u.found,
                        at: u.at,
                    })
            })
            .collect();

        let actor = by.actor();
        reads::list_by(
            self.store,
            &actor,
            "incident",
            verified.iter().map(|i| (i.id, i.tlp)),
        )
        .await?;
        let e = AuditEvent::new(&actor, "brief.make", "situation", Some(s.id.to_string()))
            .with_detail(serde_json::json!({
                "audience": req.audience.as_str(),
                "lang": lang,
                "format": req.format.as_str(),
                "clearance": cap.as_str(),
                "tlp": tlp.as_str(),
                "incidents": totals.incidents,
            }));
        self.store.audit(e).await?;

        Ok(BriefContent {
            situation: BriefSituation {
                id: s.id,
                name: s.name.clone(),
                country: s.country.code().to_string(),
                country_name: s.country.name().to_string(),
                admin1: (!s.admin1.is_empty()).then(|| s.admin1.join(", ")),
                status: s.status.clone(),
                description,
            },
            audience: req.audience,
            lang: req.lang,
            clearance: cap,
            tlp,
            made_on,
            assessment,
            factors,
            names_unchecked,
            totals,
            key_incidents,
            trend,
            points,
            measures,
            measures_note,
            open_actions: open,
            gaps,
            precedents,
            legal,
            warnings,
        })
    }

    /// The incidents of situation `id` at or below `cap`, newest first, at most
    /// [`MAX_INCIDENTS`].
    async fn brief_incidents(&self, id: Uuid, cap: Tlp) -> Result<Vec<Incident>> {
        let f = IncidentFilter {
            situation_id: Some(id),
            max_tlp: cap,
            ..IncidentFilter::default()
        };
        let mut out = vec![];
        let mut cursor: Option<String> = None;
        loop {
            let page = PageRequest::parse(Some(500), cursor.as_deref())?;
            let p = self.incidents.list(self.store, &f, page).await?;
            out.extend(p.items.into_iter().filter(|i| i.tlp <= cap));
            match p.next_cursor {
                Some(c) if out.len() < MAX_INCIDENTS => cursor = Some(c),
                _ => break,
            }
        }
        out.truncate(MAX_INCIDENTS);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_months_end_with_the_given_one() {
        let m = months_to(NaiveDate::from_ymd_opt(2026, 3, 15).unwrap());
        assert_eq!(m.len(), 12);
        assert_eq!(m[0], (2025, 4));
        assert_eq!(m[11], (2026, 3));
    }

    #[test]
    fn long_text_is_cut_at_a_word() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("one two three four", 10), "one two…");
    }

    #[test]
    fn formats_languages_and_audiences_are_checked() {
        assert_eq!(BriefFormat::parse("PDF").unwrap(), BriefFormat::Pdf);
        assert!(BriefFormat::parse("docx").is_err());
        assert_eq!(parse_lang("ar").unwrap(), Lang::Ar);
        assert!(parse_lang("de").is_err());
        assert!(parse_lang("arabic").is_err());
        assert_eq!(parse_audience("desk-officer").unwrap(), Role::DeskOfficer);
        assert!(parse_audience("minister").is_err());
    }
}
