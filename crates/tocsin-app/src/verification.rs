//! The verification desk: an incident's verification status moved by a named person with a
//! reason (the domain's state machine, the checklist required before `verified`), the
//! automatic corroboration rule applied on every path that links reports to incidents,
//! linking one report to an incident, the Admiralty grading shown with every claim ("B2"),
//! reports' credibility, and sources' reliability grades with their history, track record
//! and Tocsin's suggestion.
//!
//! Who may: moving a status, ticking a task, linking a report and grading a report's
//! credibility need `IncidentUpdate` (analysts: the permission the old verify use case used);
//! setting a source's grade needs `SourceGrade` (analysts and monitor coordinators). Everyone
//! who reads an incident sees its verification panel (without the moves unless they may make
//! them).

use std::collections::HashMap;

use serde::Serialize;
use tocsin_domain::verification::{
    auto_corroboration, check_credibility, check_reason, missing_tasks, suggest_reliability,
};
use tocsin_domain::{
    AuditEvent, Incident, Page, PageRequest, Permission, Reliability, ReliabilityEntry, Report,
    Source, TaskTick, Tlp, TrackRecord, User, VerificationEntry, VerificationStatus,
};
use tocsin_store::{Op, Step, StoreError, VerificationStep};
use uuid::Uuid;

use crate::{require, visible, App, AppError, Result};

/// The verification checklist (`[verification]`): the tasks every incident needs done before
/// it may be marked verified.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerificationSettings {
    /// Task names, in the order the page lists them.
    pub required_tasks: Vec<String>,
}

impl Default for VerificationSettings {
    fn default() -> Self {
        VerificationSettings {
            required_tasks: DEFAULT_TASKS.iter().map(|t| t.to_string()).collect(),
        }
    }
}

/// The checklist when none is configured.
pub const DEFAULT_TASKS: &[&str] = &[
    "Contact a second, independent source",
    "Check the place and date against other reporting",
];

impl VerificationSettings {
    /// Refuse an empty, repeated or overlong task name, naming the key.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for t in &self.required_tasks {
            let t = t.trim();
            if t.is_empty() || t.chars().count() > 200 {
                return Err("verification.required_tasks: each task is 1 to 200 characters".into());
            }
            if !seen.insert(t) {
                return Err(format!(
                    "verification.required_tasks: {t:?} is listed twice"
                ));
            }
        }
        Ok(())
    }
}

/// The settings [`App::new`] uses.
pub static DEFAULT_SETTINGS: std::sync::LazyLock<VerificationSettings> =
    std::sync::LazyLock::new(VerificationSettings::default);

/// One task of the checklist and, once done, who did it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TaskView {
    /// The task.
    pub task: String,
    /// Who did it, when, with what note (absent: not done).
    pub done: Option<TaskTick>,
}

/// What an incident's verification panel shows.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct VerificationView {
    /// The incident.
    pub incident_id: Uuid,
    /// Its status now.
    pub state: VerificationStatus,
    /// The moves the reader may make now (empty for one who may not move it).
    pub allowed_moves: Vec<VerificationStatus>,
    /// The required tasks not yet done (a move to `verified` is refused while any is left).
    pub missing_tasks: Vec<String>,
    /// The checklist.
    pub tasks: Vec<TaskView>,
    /// Every change, oldest first.
    pub history: Vec<VerificationEntry>,
}

/// A source with its track record and Tocsin's suggested grade.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SourceView {
    /// The source (handle, kind, `reliability`: the grade a person set).
    #[serde(flatten)]
    pub source: Source,
    /// Tocsin's suggestion from the track record (absent: fewer than 3 decided reports).
    pub suggested_reliability: Option<Reliability>,
    /// What became of its reports, counted over what the reader may see.
    pub track_record: TrackRecord,
}

/// A source's page: the source, and the history of its grade.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SourcePage {
    /// The source.
    #[serde(flatten)]
    pub view: SourceView,
    /// Every grade a person set, oldest first.
    pub reliability_history: Vec<ReliabilityEntry>,
}

/// How many times a write guarded by a version is read and decided again.
const TRIES: usize = 4;

impl App<'_> {
    /// The verification settings in force.
    fn checklist(&self) -> &[String] {
        &self.verification.required_tasks
    }

    /// Apply the automatic corroboration rule to `i` (about to be written): the sources of its
    /// linked reports labelled at most the incident's own label (a report above it must not
    /// show through the incident's status) are counted; the entry to record, if the rule
    /// moves it.
    pub async fn corroborate(&self, i: &mut Incident) -> Result<Option<VerificationEntry>> {
        if i.verification_status != VerificationStatus::Unverified || i.report_ids.len() < 2 {
            return Ok(None);
        }
        let sources = self.store.report_source_ids(&i.report_ids, i.tlp).await?;
        let entry = auto_corroboration(
            i.id,
            i.verification_status,
            sources.values().copied(),
            tocsin_domain::time::now(),
        );
        if let Some(e) = &entry {
            i.verification_status = e.to;
        }
        Ok(entry)
    }

    /// The steps that store `i` (new, or replacing version `expected`) with the automatic
    /// corroboration applied, recording its history entry in the same write.
    async fn incident_steps(
        &self,
        mut i: Incident,
        expected: Option<i64>,
    ) -> Result<(Vec<Step>, Incident)> {
        let entry = self.corroborate(&mut i).await?;
        let mut steps = vec![Step::Verification(match expected {
            None => VerificationStep::CreateIncident(Box::new(i.clone())),
            Some(v) => VerificationStep::ReplaceIncident {
                incident: Box::new(i.clone()),
                expected_version: v,
            },
        })];
        if let Some(e) = entry {
            steps.push(Step::Verification(VerificationStep::Record(e)));
        }
        Ok((steps, i))
    }

    /// Store a new incident built by the caller, the corroboration rule applied (the one write
    /// of `create_incident`).
    pub(crate) async fn write_new_incident(&self, u: &User, i: Incident) -> Result<Incident> {
        let audit = tocsin_store::audit_for(&u.actor(), &Op::CreateIncident(Box::new(i.clone())))
            .expect("incident creation is audited");
        let (steps, i) = self.incident_steps(i, None).await?;
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps,
                    audit: Box::new(audit),
                },
            )
            .await?;
        Ok(i)
    }

    /// Replace incident `current` by `next` (its next version), the corroboration rule applied.
    pub(crate) async fn write_incident_change(
        &self,
        u: &User,
        current: &Incident,
        next: Incident,
        audit: AuditEvent,
    ) -> Result<Incident> {
        let (steps, i) = self.incident_steps(next, Some(current.version)).await?;
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps,
                    audit: Box::new(audit),
                },
            )
            .await?;
        Ok(i)
    }

    /// The verification panel of an incident `u` may see.
    pub async fn verification_view(&self, u: &User, id: Uuid) -> Result<VerificationView> {
        require(u, Permission::IncidentRead)?;
        let i = self.store.get_incident(id).await?;
        visible(u, i.tlp)?;
        self.view_of(u, &i).await
    }

    async fn view_of(&self, u: &User, i: &Incident) -> Result<VerificationView> {
        let ticks = self.store.verification_ticks(i.id).await?;
        let history = self.store.verification_history(i.id).await?;
        let required = self.checklist();
        let mut tasks: Vec<TaskView> = required
            .iter()
            .map(|t| TaskView {
                task: t.clone(),
                done: ticks.iter().find(|k| &k.task == t).cloned(),
            })
            .collect();
        // Tasks ticked under an earlier checklist stay shown.
        for k in ticks.iter().filter(|k| !required.contains(&k.task)) {
            tasks.push(TaskView {
                task: k.task.clone(),
                done: Some(k.clone()),
            });
        }
        let allowed_moves = if u.can(Permission::IncidentUpdate) {
            i.verification_status.allowed_moves().to_vec()
        } else {
            vec![]
        };
        Ok(VerificationView {
            incident_id: i.id,
            state: i.verification_status,
            allowed_moves,
            missing_tasks: missing_tasks(required, &ticks)
                .into_iter()
                .map(str::to_string)
                .collect(),
            tasks,
            history,
        })
    }

    /// Move an incident's verification status (the domain's state machine; `verified` only
    /// with every required task done), by `u`, with a reason; audited and kept in its history.
    pub async fn set_verification(
        &self,
        u: &User,
        id: Uuid,
        state: &str,
        reason: &str,
    ) -> Result<Incident> {
        require(u, Permission::IncidentUpdate)?;
        let mut i = self.store.get_incident(id).await?;
        visible(u, i.tlp)?;
        self.refuse_if_received(u, id).await?;
        let to = VerificationStatus::parse(state).map_err(|e| match e {
            tocsin_domain::DomainError::Invalid { message, .. } => {
                AppError::invalid("state", message)
            }
            e => e.into(),
        })?;
        let reason = check_reason("reason", reason, true)?;
        for _ in 0..TRIES {
            let from = i.verification_status;
            from.check_move(to)?;
            if to == VerificationStatus::Verified {
                let ticks = self.store.verification_ticks(id).await?;
                let missing = missing_tasks(self.checklist(), &ticks);
                if !missing.is_empty() {
                    return Err(AppError::invalid(
                        "state",
                        format!(
                            "verified needs every task of the checklist done; not done: {}",
                            missing.join("; ")
                        ),
                    ));
                }
            }
            let mut next = i.clone();
            next.verification_status = to;
            next.version += 1;
            next.updated_at = tocsin_domain::time::now();
            let entry = VerificationEntry {
                incident_id: id,
                from,
                to,
                by: u.username.clone(),
                reason: reason.clone(),
                at: next.updated_at,
            };
            let audit = AuditEvent::new(
                &u.actor(),
                "incident.verification",
                "incident",
                Some(id.to_string()),
            )
            .with_detail(serde_json::json!({"from": from.as_str(), "to": to.as_str()}));
            let op = Op::All {
                steps: vec![
                    Step::Verification(VerificationStep::ReplaceIncident {
                        incident: Box::new(next.clone()),
                        expected_version: i.version,
                    }),
                    Step::Verification(VerificationStep::Record(entry)),
                ],
                audit: Box::new(audit),
            };
            match self.store.write(&u.actor(), op).await {
                Ok(_) => {
                    let mut shown = next;
                    self.links_seen(u, &mut shown).await?;
                    self.grade_incidents(u, std::slice::from_mut(&mut shown))
                        .await?;
                    return Ok(shown);
                }
                Err(StoreError::Conflict(_)) => {
                    i = self.store.get_incident(id).await?;
                    visible(u, i.tlp)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict(
            "the incident keeps changing; reload it and try again".into(),
        ))
    }

    /// Tick a task of the checklist for an incident `u` may see, with an optional note.
    pub async fn tick_task(
        &self,
        u: &User,
        id: Uuid,
        task: &str,
        note: &str,
    ) -> Result<VerificationView> {
        require(u, Permission::IncidentUpdate)?;
        let i = self.store.get_incident(id).await?;
        self.refuse_if_received(u, id).await?;
        visible(u, i.tlp)?;
        let task = task.trim();
        if !self.checklist().iter().any(|t| t == task) {
            return Err(AppError::invalid(
                "task",
                format!(
                    "not a task of the checklist (expected one of: {})",
                    self.checklist().join("; ")
                ),
            ));
        }
        let note = check_reason("note", note, false)?;
        if i.verification_status.is_final() {
            return Err(AppError::invalid(
                "task",
                format!(
                    "the incident is {}: its checklist is closed",
                    i.verification_status
                ),
            ));
        }
        let tick = TaskTick {
            incident_id: id,
            task: task.to_string(),
            by: u.username.clone(),
            note,
            at: tocsin_domain::time::now(),
        };
        let audit = AuditEvent::new(
            &u.actor(),
            "incident.verification_task",
            "incident",
            Some(id.to_string()),
        )
        .with_detail(serde_json::json!({"task": task}));
        match self
            .store
            .write(
                &u.actor(),
                Op::All {
                    steps: vec![Step::Verification(VerificationStep::Tick(tick))],
                    audit: Box::new(audit),
                },
            )
            .await
        {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(AppError::Conflict(format!("{task:?} is already done")))
            }
            Err(e) => return Err(e.into()),
        }
        self.view_of(u, &i).await
    }

    /// Link one report to an incident (`POST /reports/{id}/link`): both must be ones `u` may
    /// see (else as absent); the automatic corroboration rule applies in the same write.
    pub async fn link_report(
        &self,
        u: &User,
        report_id: Uuid,
        incident_id: Uuid,
    ) -> Result<Incident> {
        require(u, Permission::IncidentUpdate)?;
        require(u, Permission::ReportRead)?;
        let r = self.store.get_report(report_id).await?;
        visible(u, r.tlp)?;
        self.refuse_if_received(u, incident_id).await?;
        for _ in 0..TRIES {
            let current = match self.store.get_incident(incident_id).await {
                Ok(i) if u.may_see(i.tlp) => i,
                Ok(_) | Err(StoreError::NotFound) => {
                    return Err(AppError::invalid("incident_id", "no such incident"))
                }
                Err(e) => return Err(e.into()),
            };
            if current.report_ids.contains(&report_id) {
                let mut shown = current;
                self.links_seen(u, &mut shown).await?;
                self.grade_incidents(u, std::slice::from_mut(&mut shown))
                    .await?;
                return Ok(shown);
            }
            let mut next = current.clone();
            next.apply(tocsin_domain::IncidentPatch {
                report_ids: Some({
                    let mut ids = current.report_ids.clone();
                    ids.push(report_id);
                    ids
                }),
                ..Default::default()
            })?;
            let audit = AuditEvent::new(
                &u.actor(),
                "incident.link_report",
                "incident",
                Some(incident_id.to_string()),
            )
            .with_detail(serde_json::json!({"report_id": report_id.to_string()}));
            match self.write_incident_change(u, &current, next, audit).await {
                Ok(mut i) => {
                    self.links_seen(u, &mut i).await?;
                    self.grade_incidents(u, std::slice::from_mut(&mut i))
                        .await?;
                    return Ok(i);
                }
                Err(AppError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(AppError::Conflict(
            "the incident keeps changing; reload it and try again".into(),
        ))
    }

    /// Grade a report's information credibility (1–6), for a report `u` may see.
    pub async fn set_report_credibility(
        &self,
        u: &User,
        report_id: Uuid,
        credibility: i16,
    ) -> Result<Report> {
        require(u, Permission::IncidentUpdate)?;
        let r = self.store.get_report(report_id).await?;
        visible(u, r.tlp)?;
        let credibility = check_credibility(credibility)?;
        let audit = AuditEvent::new(
            &u.actor(),
            "report.credibility",
            "report",
            Some(report_id.to_string()),
        )
        .with_detail(serde_json::json!({"credibility": credibility}));
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps: vec![Step::Verification(VerificationStep::SetReportCredibility {
                        report_id,
                        credibility,
                        by: u.username.clone(),
                        at: tocsin_domain::time::now(),
                    })],
                    audit: Box::new(audit),
                },
            )
            .await?;
        self.get_report(u, report_id).await
    }

    /// Fill in the grading of reports as `u` is shown them: their credibility, and their
    /// source's reliability when `u` is shown the source's handle (else `F`).
    pub async fn grade_reports(&self, u: &User, reports: &mut [Report]) -> Result<()> {
        let ids: Vec<Uuid> = reports.iter().map(|r| r.id).collect();
        let cred = self.store.report_credibilities(&ids).await?;
        let mut grades: HashMap<String, Reliability> = HashMap::new();
        for r in reports.iter_mut() {
            let reliability = match &r.source {
                None => Reliability::F,
                Some(h) => match grades.get(h) {
                    Some(g) => *g,
                    None => {
                        let g = match self.store.get_source_by_handle(h).await {
                            Ok(s) if u.may_see(s.tlp) => s.reliability,
                            Ok(_) | Err(StoreError::NotFound) => Reliability::F,
                            Err(e) => return Err(e.into()),
                        };
                        grades.insert(h.clone(), g);
                        g
                    }
                },
            };
            r.set_grading(reliability, cred.get(&r.id).copied().unwrap_or(6));
        }
        Ok(())
    }

    /// Fill in the grading of incidents as `u` is shown them: the best reliability among the
    /// sources of the linked reports `u` is shown (call after [`App::links_seen`]) and may see,
    /// `F` when there is none.
    pub async fn grade_incidents(&self, u: &User, incidents: &mut [Incident]) -> Result<()> {
        self.grade_at(u.clearance, incidents).await
    }

    /// As [`App::grade_incidents`], for a reader cleared to `clearance`.
    pub async fn grade_at(&self, clearance: Tlp, incidents: &mut [Incident]) -> Result<()> {
        let ids: Vec<Uuid> = incidents
            .iter()
            .flat_map(|i| i.report_ids.iter().copied())
            .collect();
        if ids.is_empty() {
            for i in incidents.iter_mut() {
                i.set_reliability(Reliability::F);
            }
            return Ok(());
        }
        let sources = self.store.report_source_ids(&ids, clearance).await?;
        let mut grades: HashMap<Uuid, Option<Reliability>> = HashMap::new();
        for i in incidents.iter_mut() {
            let mut best = Reliability::F;
            for r in &i.report_ids {
                let Some(Some(s)) = sources.get(r) else {
                    continue;
                };
                let g = match grades.get(s) {
                    Some(g) => *g,
                    None => {
                        let g = match self.store.get_source(*s).await {
                            Ok(src) if src.tlp <= clearance => Some(src.reliability),
                            Ok(_) | Err(StoreError::NotFound) => None,
                            Err(e) => return Err(e.into()),
                        };
                        grades.insert(*s, g);
                        g
                    }
                };
                if let Some(g) = g {
                    best = best.min(g);
                }
            }
            i.set_reliability(best);
        }
        Ok(())
    }

    async fn views(&self, u: &User, sources: Vec<Source>) -> Result<Vec<SourceView>> {
        let ids: Vec<Uuid> = sources.iter().map(|s| s.id).collect();
        let records = self.store.track_records(&ids, u.clearance).await?;
        Ok(sources
            .into_iter()
            .map(|s| {
                let t = records.get(&s.id).copied().unwrap_or_default();
                SourceView {
                    source: s,
                    suggested_reliability: suggest_reliability(&t),
                    track_record: t,
                }
            })
            .collect())
    }

    /// One page of the sources `u` may see, each with its track record and suggestion.
    pub async fn list_source_views(&self, u: &User, page: PageRequest) -> Result<Page<SourceView>> {
        let p = self.list_sources(u, page).await?;
        Ok(Page {
            items: self.views(u, p.items).await?,
            next_cursor: p.next_cursor,
        })
    }

    /// A source `u` may see, with its track record, suggestion and grade history.
    pub async fn source_page(&self, u: &User, id: Uuid) -> Result<SourcePage> {
        let s = self.get_source(u, id).await?;
        let view = self.views(u, vec![s]).await?.remove(0);
        Ok(SourcePage {
            view,
            reliability_history: self.store.reliability_history(id).await?,
        })
    }

    /// Set a source's reliability grade, with a reason; kept in its history (who, when, why,
    /// old → new) and audited.
    pub async fn set_source_reliability(
        &self,
        u: &User,
        id: Uuid,
        grade: &str,
        reason: &str,
    ) -> Result<SourcePage> {
        require(u, Permission::SourceGrade)?;
        let s = self.store.get_source(id).await?;
        visible(u, s.tlp)?;
        let to = Reliability::parse(grade).map_err(|_| {
            AppError::invalid(
                "grade",
                "expected a letter A (completely reliable) to F (cannot be judged)",
            )
        })?;
        let reason = check_reason("reason", reason, true)?;
        if s.reliability == to {
            return Err(AppError::invalid(
                "grade",
                format!("the source is already graded {to}"),
            ));
        }
        let entry = ReliabilityEntry {
            source_id: id,
            from: s.reliability,
            to,
            by: u.username.clone(),
            reason,
            at: tocsin_domain::time::now(),
        };
        let audit = AuditEvent::new(
            &u.actor(),
            "source.reliability",
            "source",
            Some(id.to_string()),
        )
        .with_detail(serde_json::json!({"from": s.reliability.as_str(), "to": to.as_str()}));
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps: vec![Step::Verification(VerificationStep::SetReliability(entry))],
                    audit: Box::new(audit),
                },
            )
            .await?;
        self.source_page(u, id).await
    }
}
