//! What a brief for decision-makers holds (`tocsin brief`, `GET /situations/{id}/brief`):
//! gathered here, at the audience's clearance, and laid out by `tocsin-brief` (PDF, HTML).
//!
//! One computation, two renderings: [`App::brief_content`] reads the situation dashboard
//! ([`crate::overview`]) as the brief's reader may see it, over the dashboard's default window
//! (the last 52 weeks), and puts it into words in the brief's language: the same figures, the
//! same clearance filtering. The [`BriefContent`] shape is what the layout depends on; its
//! pictures are drawn by [`crate::charts`].
//!
//! **Rules.** A brief carries nothing above its clearance: the lower of the audience role's
//! default clearance and the clearance of whoever makes it (the operator at the command line
//! has none of their own). It never names a source, a report or who warned: it reads no
//! report and no source at all. Its label is the highest label of what it carries. Making one
//! is audited (`brief.make`), and the restricted incidents it shows are audited as a list.

use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeSet;
use tocsin_domain::legal::{guarded_terms, unqualified};
use tocsin_domain::{
    ActionStatus, AuditEvent, Crime, Finding, Lang, Level, Permission, Role, Term, Tlp, User,
};
use tocsin_framework::FactorNames;
use tocsin_store::StoreExt;
use tocsin_toolbox::Toolbox;
use uuid::Uuid;

use crate::actions::ACTION_FRAMEWORK;
pub use crate::charts::{MapPoint, TrendBar};
use crate::overview::{Parts, TrendWindow};
use crate::{visible, Acting, App, AppError, Result};

/// Measures shown.
const MEASURES: usize = 5;
/// Precedents shown.
const PRECEDENTS: usize = 3;
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
    /// Totals over the window (the dashboard's trend).
    pub totals: BriefTotals,
    /// The verified incidents with the most fatalities, then the newest.
    pub key_incidents: Vec<BriefIncident>,
    /// The window: the last 52 weeks to `made_on`.
    pub window: TrendWindow,
    /// Incidents and fatalities per week of the window (the dashboard's trend).
    pub trend: Vec<TrendBar>,
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
    /// The country's name in the brief's language.
    pub country_name: String,
    /// Its first-level areas (none: the whole country).
    pub admin1: Vec<String>,
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

/// Totals over the window.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BriefTotals {
    /// Incidents.
    pub incidents: u64,
    /// Of which verified.
    pub verified: u64,
    /// Best-estimate fatalities.
    pub fatalities: u64,
    /// Whether the cap on incidents read for the map was reached (the verified count is then
    /// a lower bound).
    pub capped: bool,
}

/// A key incident.
#[derive(Debug, Clone, Serialize)]
pub struct BriefIncident {
    /// Day of the event.
    pub date: NaiveDate,
    /// Place (location, else admin1, else the country code).
    pub place: String,
    /// ACLED event type, in the brief's language.
    pub event_type: String,
    /// ACLED sub-event type, in the brief's language (empty when not recorded).
    pub sub_event_type: String,
    /// Best estimate of deaths.
    pub fatalities: u64,
    /// What happened (shortened).
    pub description: String,
    /// Its label.
    pub tlp: Tlp,
}

/// A suggested measure.
#[derive(Debug, Clone, Serialize)]
pub struct BriefMeasure {
    /// The toolbox id.
    pub id: String,
    /// Its name in the brief's language.
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
    /// Title, in the brief's language.
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
        // The dashboard as the brief's reader sees it: the maker at the brief's clearance.
        let reader = match by {
            Acting::User(u) => User {
                clearance: cap,
                ..u.clone()
            },
            Acting::Operator(name) => User::operator(
                name,
                cap,
                vec![Permission::SituationRead, Permission::IncidentRead],
            ),
        };
        let made_on = tocsin_domain::time::now().date_naive();
        let window = TrendWindow::default_for(made_on);
        let parts = Parts {
            alerts: false,
            signals: false,
        };
        let d = self.dashboard_parts(&reader, s.id, window, parts).await?;
        let s = &d.situation;
        let mut tlp = s.tlp;
        let description = shorten(&s.description, SITUATION_CHARS);

        // Risk factors: the latest published assessment and the one before it, named in the
        // brief's language.
        let framework = d
            .risk
            .assessment
            .as_ref()
            .and_then(|a| self.frameworks.get(&a.framework))
            .map(|f| f.as_ref());
        let names = framework.and_then(FactorNames::shipped);
        let name_of = |n: u32| -> String {
            framework
                .and_then(|f| f.factor_name(names.as_ref(), n, lang))
                .map(str::to_string)
                .unwrap_or_else(|| format!("{n}"))
        };
        if let Some(t) = d.risk.tlp {
            tlp = tlp.max(t);
        }
        let factors: Vec<BriefFactor> = d
            .risk
            .rows
            .iter()
            .filter(|r| r.level > Level::None)
            .map(|r| BriefFactor {
                number: r.factor,
                name: name_of(r.factor),
                level: r.level,
                previous: r.previous,
                change: match r.change {
                    "up" => Change::Up,
                    "down" => Change::Down,
                    "same" => Change::Same,
                    _ => Change::New,
                },
            })
            .collect();
        let assessment = d.risk.assessment.as_ref().map(|a| BriefAssessment {
            as_of: a.as_of,
            summary: shorten(&d.risk.summary, SUMMARY_CHARS),
            framework: a.framework.clone(),
            framework_name: framework.map(|f| f.name.clone()).unwrap_or_default(),
            previous_as_of: d.risk.previous.as_ref().map(|p| p.as_of),
        });
        let names_unchecked =
            lang != "en" && names.as_ref().is_some_and(|n| n.names.contains_key(lang));

        // Incidents: the dashboard's trend and the area's incidents.
        let (trend, mut totals) = match &d.trend {
            Some(t) => (
                t.bars.clone(),
                BriefTotals {
                    incidents: t.incidents,
                    fatalities: t.fatalities,
                    ..BriefTotals::default()
                },
            ),
            None => (vec![], BriefTotals::default()),
        };
        let (key_incidents, points) = match &d.incidents {
            Some(i) => {
                totals.verified = i.verified;
                totals.capped = i.capped;
                let key: Vec<BriefIncident> = i
                    .key
                    .iter()
                    .map(|k| BriefIncident {
                        date: k.date,
                        place: k.place.clone(),
                        event_type: crate::words::event_type_name(&k.event_type, req.lang)
                            .map_or_else(|| k.event_type.clone(), str::to_string),
                        sub_event_type: crate::words::event_type_name(&k.sub_event_type, req.lang)
                            .map_or_else(|| k.sub_event_type.clone(), str::to_string),
                        fatalities: k.fatalities,
                        description: shorten(&k.description, DESCRIPTION_CHARS),
                        tlp: k.tlp,
                    })
                    .collect();
                (key, i.points.clone())
            }
            None => (vec![], vec![]),
        };
        for i in &key_incidents {
            tlp = tlp.max(i.tlp);
        }

        // Measures, open actions, gaps and precedents (the toolbox refers to the UN 2014
        // framework's factors).
        let toolbox = Toolbox::shipped();
        let un = self.frameworks.get(ACTION_FRAMEWORK).map(|f| f.as_ref());
        let un_names = un.and_then(FactorNames::shipped);
        let un_name = |n: u32, english: &str| -> String {
            un.and_then(|f| f.factor_name(un_names.as_ref(), n, lang))
                .map_or_else(|| english.to_string(), str::to_string)
        };
        let measures: Vec<BriefMeasure> = d
            .measures
            .measures
            .iter()
            .take(MEASURES)
            .map(|m| BriefMeasure {
                id: m.measure.id.clone(),
                name: crate::words::measure_name(&m.measure.id, req.lang)
                    .map_or_else(|| m.measure.name.clone(), str::to_string),
                category: crate::words::category_name(&m.measure.category, req.lang)
                    .map_or_else(|| m.measure.category.clone(), str::to_string),
                factors: m.factors.iter().map(|f| f.factor).collect(),
            })
            .collect();
        let measures_note = d.measures.note.clone();
        let mut open: Vec<BriefAction> = d
            .plan
            .actions
            .iter()
            .filter(|a| matches!(a.status, ActionStatus::Planned | ActionStatus::InProgress))
            .map(|a| BriefAction {
                measure: crate::words::measure_name(&a.measure_id, req.lang)
                    .map(str::to_string)
                    .unwrap_or_else(|| {
                        if a.measure.is_empty() {
                            a.measure_id.clone()
                        } else {
                            a.measure.clone()
                        }
                    }),
                department: a.department.clone(),
                status: a.status,
                due_date: a.due_date,
                overdue: a.overdue,
            })
            .collect();
        open.sort_by_key(|a| a.due_date);
        let gaps = d
            .plan
            .gaps
            .iter()
            .map(|g| BriefGap {
                number: g.factor,
                name: un_name(g.factor, &g.name),
                level: g.level,
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
                title: crate::words::precedent_title(&p.id, req.lang)
                    .map_or_else(|| p.title.clone(), str::to_string),
                country: crate::words::country_name(&p.iso3, req.lang)
                    .map_or_else(|| p.country.clone(), str::to_string),
                years: p.years.clone(),
                assessment: crate::words::assessment_name(&p.assessment, req.lang)
                    .map_or_else(|| p.assessment.clone(), str::to_string),
                outcome: shorten(
                    crate::words::precedent_outcome(&p.id, req.lang).unwrap_or(&p.outcome),
                    200,
                ),
            })
            .collect();

        // Legal qualifications and the terminology guard over the brief's own text.
        for q in &d.legal {
            tlp = tlp.max(q.tlp);
        }
        let recorded: Vec<Crime> = d.legal.iter().map(|q| q.crime).collect();
        let legal = d
            .legal
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

        let e = AuditEvent::new(
            &by.actor(),
            "brief.make",
            "situation",
            Some(s.id.to_string()),
        )
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
                country_name: crate::words::country_name(s.country.code(), req.lang)
                    .map_or_else(|| s.country.name().to_string(), str::to_string),
                admin1: s.admin1.clone(),
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
            window,
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
