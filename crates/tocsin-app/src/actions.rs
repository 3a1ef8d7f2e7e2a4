//! Action plans: actions drawn from the prevention toolbox, the measures a situation's risk
//! picture suggests, the whole-of-government view (departments × risk factors) and the
//! reminders to leads of overdue actions.
//!
//! An action has no label of its own: it inherits its situation's, so an action of a
//! situation above the caller's clearance answers `NotFound`, as the situation does.
//! Suggestions and the view read the situation's latest published assessment the caller may
//! see (never a draft, never one above their clearance).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;
use tocsin_domain::{
    Action, ActionError, ActionPatch, ActionRefs, ActionStatus, Actor, Assessment,
    AssessmentStatus, AuditEvent, Department, Level, NewAction, Page, PageRequest, Permission,
    Situation, Tlp, User,
};
use tocsin_framework::Framework;
use tocsin_store::{ActionFilter, ActionReminder, ActionStep, Op, Step, StoreError};
use tocsin_toolbox::{Measure, Toolbox};
use uuid::Uuid;

use crate::{reads, require, App, AppError, Result};

/// The framework whose risk factors actions and the toolbox refer to.
pub const ACTION_FRAMEWORK: &str = "un-foa-2014";

static UN_2014: LazyLock<Framework> = LazyLock::new(Framework::un_2014);

/// Actions of one situation the views read at most.
const PLAN_LIMIT: u32 = 1000;
/// Overdue actions one reminder pass handles at most.
const REMIND_BATCH: u32 = 100;

/// What to list (`GET /api/v1/actions?situation=&status=&lead=&desk=&overdue=`).
#[derive(Debug, Clone, Default)]
pub struct ActionQuery {
    /// Of this situation.
    pub situation: Option<Uuid>,
    /// In this status (`planned`, `in_progress`, `done`, `dropped`).
    pub status: Option<String>,
    /// Led by this user.
    pub lead: Option<String>,
    /// Carried by this desk.
    pub desk: Option<Uuid>,
    /// Only overdue ones (past due, neither done nor dropped).
    pub overdue: bool,
}

/// An action with the reminders its lead was sent.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActionView {
    /// The action.
    #[serde(flatten)]
    pub action: Action,
    /// Whether it is past due and neither done nor dropped, today.
    pub overdue: bool,
    /// The due dates its lead was reminded of, with when.
    pub reminders: Vec<ReminderView>,
}

/// One reminder to an action's lead.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReminderView {
    /// The due date it was overdue against.
    pub due_date: NaiveDate,
    /// When the lead was reminded.
    pub at: DateTime<Utc>,
}

/// A risk factor and its level in the assessment that makes a measure relevant.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FactorLevel {
    /// Its number in the UN 2014 framework.
    pub factor: u32,
    /// Its name.
    pub name: String,
    /// Its level.
    pub level: Level,
}

/// A measure suggested for a situation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SuggestedMeasure {
    /// The toolbox measure (with its "to check" marks).
    #[schema(value_type = Object)]
    pub measure: &'static Measure,
    /// The factors at high or severe it addresses, highest first.
    pub factors: Vec<FactorLevel>,
    /// The highest of their levels.
    pub level: Level,
}

/// Which assessment a view read.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssessmentRef {
    /// Its id.
    pub id: Uuid,
    /// Its date.
    pub as_of: NaiveDate,
    /// Its framework.
    pub framework: String,
}

/// The measures a situation's risk picture suggests.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Suggestions {
    /// The situation.
    pub situation_id: Uuid,
    /// The latest published assessment read (none: nothing to suggest from).
    pub assessment: Option<AssessmentRef>,
    /// Why there is nothing to suggest, when that is so.
    pub note: Option<String>,
    /// The risk factors at high or severe, highest first.
    pub factors: Vec<FactorLevel>,
    /// The measures, those acting on the highest level first.
    pub measures: Vec<SuggestedMeasure>,
}

/// An action as a cell of the whole-of-government view shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActionBrief {
    /// Its id.
    pub id: Uuid,
    /// Its measure.
    pub measure_id: String,
    /// The measure's name.
    pub measure: String,
    /// Status.
    pub status: ActionStatus,
    /// Lead.
    pub lead: String,
    /// The department carrying it.
    pub department: String,
    /// Due.
    pub due_date: NaiveDate,
    /// Past due and not finished.
    pub overdue: bool,
}

/// One department's actions on one risk factor.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ResponseCell {
    /// The department.
    pub department: String,
    /// Its actions addressing the factor.
    pub actions: Vec<ActionBrief>,
}

/// One risk factor across departments.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ResponseRow {
    /// The factor.
    pub factor: u32,
    /// Its name.
    pub name: String,
    /// Its level in the assessment read, if rated there.
    pub level: Option<Level>,
    /// At high or severe and no action (other than a dropped one) addresses it.
    pub gap: bool,
    /// One cell per department, in the order of [`ResponseView::departments`].
    pub cells: Vec<ResponseCell>,
}

/// The whole-of-government view of a situation: departments × risk factors.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ResponseView {
    /// The situation.
    pub situation_id: Uuid,
    /// The assessment the levels come from.
    pub assessment: Option<AssessmentRef>,
    /// The columns.
    pub departments: Vec<String>,
    /// The rows: factors at high or severe, and any an action addresses.
    pub rows: Vec<ResponseRow>,
    /// The factors at high or severe that no action addresses.
    pub gaps: Vec<FactorLevel>,
    /// Actions addressing no risk factor (not placed in the grid).
    pub unplaced: Vec<ActionBrief>,
}

fn factor_name(n: u32) -> String {
    UN_2014
        .risk_factors
        .get(n.wrapping_sub(1) as usize)
        .map(|f| f.name.clone())
        .unwrap_or_else(|| format!("Risk factor {n}"))
}

fn measure_factors(id: &str) -> Option<Vec<u32>> {
    Toolbox::shipped()
        .measure(id)
        .map(|m| m.risk_factors.iter().map(|f| u32::from(*f)).collect())
}

fn brief(a: &Action, today: NaiveDate) -> ActionBrief {
    ActionBrief {
        id: a.id,
        measure_id: a.measure_id.clone(),
        measure: Toolbox::shipped()
            .measure(&a.measure_id)
            .map(|m| m.name.clone())
            .unwrap_or_default(),
        status: a.status,
        lead: a.lead.clone(),
        department: a.department.name().to_string(),
        due_date: a.due_date,
        overdue: a.is_overdue(today),
    }
}

/// Whether `u` may record or change actions carried by `desk` (none: no desk named): every
/// role holding [`Permission::ActionWrite`] may; a desk officer only for a desk they are a
/// member of (an action with no desk is recorded by analysts and admins). The one place that
/// decides it.
async fn may_act_for_desk(app: &App<'_>, u: &User, desk: Option<Uuid>) -> Result<()> {
    require(u, Permission::ActionWrite)?;
    if u.role != tocsin_domain::Role::DeskOfficer {
        return Ok(());
    }
    let member = match desk {
        Some(id) => match app.store.get_desk(id).await {
            Ok(d) => d.members.iter().any(|m| m == &u.username),
            Err(tocsin_store::StoreError::NotFound) => false,
            Err(e) => return Err(e.into()),
        },
        None => false,
    };
    if member {
        Ok(())
    } else {
        Err(AppError::refused(
            "a desk officer records the actions of their own desk only",
        ))
    }
}

/// The toolbox measures for the risk picture `a` (the latest published assessment, with
/// `note` saying why it cannot be used, as [`App::risk_picture`] answers): the factors at high
/// or severe, the measures addressing them (those acting on the highest level first, then on
/// more such factors, then toolbox order), and why there is nothing to suggest, if so.
pub(crate) fn rank_measures(
    a: Option<&Assessment>,
    note: Option<String>,
) -> (Vec<FactorLevel>, Vec<SuggestedMeasure>, Option<String>) {
    let factors = match (a, &note) {
        (Some(a), None) => high_factors(a),
        _ => vec![],
    };
    let mut measures: Vec<(usize, SuggestedMeasure)> = Toolbox::shipped()
        .measures
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let hit: Vec<FactorLevel> = factors
                .iter()
                .filter(|f| m.risk_factors.iter().any(|r| u32::from(*r) == f.factor))
                .cloned()
                .collect();
            let level = hit.first()?.level;
            Some((
                i,
                SuggestedMeasure {
                    measure: m,
                    factors: hit,
                    level,
                },
            ))
        })
        .collect();
    measures.sort_by(|(i, x), (j, y)| {
        y.level
            .cmp(&x.level)
            .then(y.factors.len().cmp(&x.factors.len()))
            .then(i.cmp(j))
    });
    let note = note.or_else(|| {
        factors.is_empty().then(|| {
            "no risk factor is at high or severe in the latest published assessment".into()
        })
    });
    (
        factors,
        measures.into_iter().map(|(_, m)| m).collect(),
        note,
    )
}

fn today() -> NaiveDate {
    tocsin_domain::time::now().date_naive()
}

fn from_action_error(e: ActionError) -> AppError {
    match e {
        ActionError::Invalid(d) => d.into(),
        ActionError::Illegal(m) => AppError::Conflict(m.to_string()),
        e @ ActionError::Stale { .. } => AppError::Conflict(e.to_string()),
    }
}

/// The latest published assessment `u` may see among `all` (newest `as_of` first, then
/// newest created).
fn latest_published<'a>(u: &User, all: &'a [Assessment]) -> Option<&'a Assessment> {
    all.iter()
        .filter(|a| a.status == AssessmentStatus::Published && u.may_see(a.tlp))
        .max_by_key(|a| (a.as_of, a.created_at))
}

/// The factors at high or severe in `a`, highest first, then by number.
fn high_factors(a: &Assessment) -> Vec<FactorLevel> {
    let mut v: Vec<FactorLevel> = a
        .factors
        .iter()
        .filter(|f| f.level >= Level::High)
        .map(|f| FactorLevel {
            factor: f.factor,
            name: factor_name(f.factor),
            level: f.level,
        })
        .collect();
    v.sort_by(|x, y| y.level.cmp(&x.level).then(x.factor.cmp(&y.factor)));
    v
}

impl App<'_> {
    fn action_refs<'r>(&self, deps: &'r [Department]) -> ActionRefs<'r> {
        ActionRefs {
            measure: &measure_factors,
            factor_count: UN_2014.risk_factors.len() as u32,
            departments: deps,
        }
    }

    /// The lead named on an action: an enabled user cleared for the situation's label.
    async fn check_lead(&self, lead: &str, situation: &Situation) -> Result<()> {
        match self.store.get_user_by_name(lead).await {
            Ok(l) if !l.disabled && l.may_see(situation.tlp) => Ok(()),
            Ok(l) if l.disabled => Err(AppError::invalid("lead", "this user is disabled")),
            Ok(_) => Err(AppError::invalid(
                "lead",
                "this user is not cleared for the situation's label",
            )),
            Err(StoreError::NotFound) => Err(AppError::invalid("lead", "no such user")),
            Err(e) => Err(e.into()),
        }
    }

    /// An action `u` may see, with its situation (not audited).
    async fn action_in(&self, u: &User, id: Uuid) -> Result<(Action, Situation)> {
        require(u, Permission::SituationRead)?;
        let a = self.store.get_action(id).await?;
        let s = self.situation_for(u, a.situation_id).await?;
        Ok((a, s))
    }

    /// Record an action of a situation's plan (admins, analysts, desk officers; for a desk
    /// they may act for, see `may_act_for_desk`). Its measure must be in the toolbox; its
    /// risk factors are the measure's unless given.
    pub async fn create_action(&self, u: &User, mut n: NewAction) -> Result<Action> {
        require(u, Permission::ActionWrite)?;
        // What is not given comes from the linked alerts (the first that has it), then the
        // desk's department. Alerts the user may not see count as missing.
        for id in &n.alert_ids {
            let alert = match self.store.get_alert(*id).await {
                Ok(a) if u.may_see(a.tlp) => a,
                Ok(_) | Err(tocsin_store::StoreError::NotFound) => {
                    return Err(AppError::invalid(
                        "alert_ids",
                        format!("no such alert {id}"),
                    ))
                }
                Err(e) => return Err(e.into()),
            };
            if n.situation_id.is_none() {
                n.situation_id = alert.situation_id;
            }
            if n.desk_id.is_none() {
                n.desk_id = Some(alert.desk_id);
            }
        }
        if n.department.is_none() {
            if let Some(desk) = n.desk_id {
                if let Ok(d) = self.store.get_desk(desk).await {
                    n.department = Some(d.department.name().to_string());
                }
            }
        }
        let Some(situation_id) = n.situation_id else {
            return Err(AppError::invalid(
                "situation_id",
                "required (or link an alert that concerns a situation)",
            ));
        };
        let situation = self
            .situation_for(u, situation_id)
            .await
            .map_err(|e| match e {
                AppError::NotFound => AppError::invalid("situation_id", "no such situation"),
                e => e,
            })?;
        may_act_for_desk(self, u, n.desk_id).await?;
        let deps = self.alerting.departments.clone();
        let a = Action::create(
            n,
            &self.action_refs(&deps),
            &u.username,
            tocsin_domain::time::now(),
        )?;
        self.check_lead(&a.lead, &situation).await?;
        let audit = AuditEvent::new(
            &u.actor(),
            "action.create",
            "action",
            Some(a.id.to_string()),
        )
        .with_detail(serde_json::json!({
            "situation_id": a.situation_id,
            "measure_id": a.measure_id,
            "status": a.status.as_str(),
            "department": a.department.name(),
            "lead": a.lead,
        }));
        let op = Op::All {
            steps: vec![Step::Action(ActionStep::Create(Box::new(a.clone())))],
            audit: Box::new(audit),
        };
        self.store.write(&u.actor(), op).await?;
        Ok(a)
    }

    /// An action `u` may see (its situation's label within their clearance), with the
    /// reminders its lead was sent; the read of a restricted one is audited.
    pub async fn get_action(&self, u: &User, id: Uuid) -> Result<ActionView> {
        let (a, s) = self.action_in(u, id).await?;
        reads::one(self.store, u, "action", a.id, s.tlp).await?;
        let reminders = self
            .store
            .action_reminders(a.id)
            .await?
            .into_iter()
            .map(|r| ReminderView {
                due_date: r.due_date,
                at: r.at,
            })
            .collect();
        Ok(ActionView {
            overdue: a.is_overdue(today()),
            action: a,
            reminders,
        })
    }

    /// One page of the actions `u` may see, newest first; a listing of restricted ones is
    /// audited.
    pub async fn list_actions(
        &self,
        u: &User,
        q: ActionQuery,
        page: PageRequest,
    ) -> Result<Page<Action>> {
        require(u, Permission::SituationRead)?;
        if let Some(s) = q.situation {
            self.situation_for(u, s).await?;
        }
        let status = q
            .status
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(ActionStatus::parse)
            .transpose()
            .map_err(|e| AppError::bad_field("status", e.to_string()))?;
        let f = ActionFilter {
            max_tlp: u.clearance,
            situation_id: q.situation,
            status,
            lead: q.lead.filter(|l| !l.trim().is_empty()),
            desk_id: q.desk,
            overdue_on: q.overdue.then(today),
        };
        let page = self.store.list_actions(&f, page).await?;
        let mut labels: HashMap<Uuid, Tlp> = HashMap::new();
        for a in &page.items {
            if !labels.contains_key(&a.situation_id) {
                let s = self.store.get_situation(a.situation_id).await?;
                labels.insert(s.id, s.tlp);
            }
        }
        reads::list(
            self.store,
            u,
            "action",
            page.items.iter().map(|a| (a.id, labels[&a.situation_id])),
        )
        .await?;
        Ok(page)
    }

    /// Every action of a situation `u` may see, oldest first.
    pub async fn actions_of(&self, u: &User, situation_id: Uuid) -> Result<Vec<Action>> {
        let s = self.situation_for(u, situation_id).await?;
        let v = self.store.actions_of(s.id, PLAN_LIMIT).await?;
        reads::list(self.store, u, "action", v.iter().map(|a| (a.id, s.tlp))).await?;
        Ok(v)
    }

    /// Change an action: its status (planned ⇄ in progress → done or dropped, those two
    /// final and needing an outcome; a refused move answers `Conflict`), dates, lead, owner,
    /// factors, alerts, notes. A stale `expected_version` answers `Conflict`.
    pub async fn patch_action(&self, u: &User, id: Uuid, p: ActionPatch) -> Result<Action> {
        require(u, Permission::ActionWrite)?;
        let (mut a, situation) = self.action_in(u, id).await?;
        may_act_for_desk(self, u, a.desk_id).await?;
        if p.desk_id.is_some() {
            may_act_for_desk(self, u, p.desk_id).await?;
        }
        let before = a.status;
        let deps = self.alerting.departments.clone();
        a.apply(&p, &self.action_refs(&deps), tocsin_domain::time::now())
            .map_err(from_action_error)?;
        if p.lead.is_some() {
            self.check_lead(&a.lead, &situation).await?;
        }
        let fields: Vec<&str> = [
            ("status", p.status.is_some()),
            ("outcome", p.outcome.is_some()),
            ("due_date", p.due_date.is_some()),
            ("next_review", p.next_review.is_some()),
            ("lead", p.lead.is_some()),
            ("department", p.department.is_some()),
            ("desk_id", p.desk_id.is_some()),
            ("risk_factors", p.risk_factors.is_some()),
            ("alert_ids", p.alert_ids.is_some()),
            ("notes", p.notes.is_some()),
        ]
        .into_iter()
        .filter_map(|(f, on)| on.then_some(f))
        .collect();
        let audit = AuditEvent::new(
            &u.actor(),
            "action.update",
            "action",
            Some(a.id.to_string()),
        )
        .with_detail(serde_json::json!({
            "fields": fields,
            "status": {"from": before.as_str(), "to": a.status.as_str()},
            "version": a.version,
        }));
        let op = Op::All {
            steps: vec![Step::Action(ActionStep::Update(Box::new(a.clone())))],
            audit: Box::new(audit),
        };
        self.store.write(&u.actor(), op).await?;
        Ok(a)
    }

    /// The latest published assessment of `s` that `u` may see, and why nothing can be
    /// suggested from it when that is so.
    pub(crate) async fn risk_picture(
        &self,
        u: &User,
        s: &Situation,
    ) -> Result<(Option<Assessment>, Option<String>)> {
        let all = self.store.list_assessments(Some(s.id), 500).await?;
        let Some(a) = latest_published(u, &all).cloned() else {
            return Ok((
                None,
                Some("no published assessment of this situation yet".into()),
            ));
        };
        if a.framework != ACTION_FRAMEWORK {
            return Ok((
                Some(a.clone()),
                Some(format!(
                    "the latest published assessment uses the {} framework; the toolbox's measures refer to the risk factors of {ACTION_FRAMEWORK}",
                    a.framework
                )),
            ));
        }
        Ok((Some(a), None))
    }

    /// The toolbox measures addressing the risk factors at high or severe in the situation's
    /// latest published assessment (drafts never count), each with the factors that make it
    /// relevant, those acting on the highest level first (then on more such factors, then
    /// toolbox order).
    pub async fn suggested_measures(&self, u: &User, situation_id: Uuid) -> Result<Suggestions> {
        let s = self.get_situation(u, situation_id).await?;
        let (a, note) = self.risk_picture(u, &s).await?;
        let assessment = a.as_ref().map(|a| AssessmentRef {
            id: a.id,
            as_of: a.as_of,
            framework: a.framework.clone(),
        });
        let (factors, measures, note) = rank_measures(a.as_ref(), note);
        Ok(Suggestions {
            situation_id: s.id,
            assessment,
            note,
            factors,
            measures,
        })
    }

    /// The whole-of-government view: the departments (the configured ones, then any other an
    /// action names) × the risk factors at high or severe in the latest published assessment
    /// and any an action addresses, with the actions in each cell, and the gaps: factors at
    /// high or severe that no action addresses (a dropped action addresses nothing).
    pub async fn response_view(&self, u: &User, situation_id: Uuid) -> Result<ResponseView> {
        let s = self.get_situation(u, situation_id).await?;
        let (a, note) = self.risk_picture(u, &s).await?;
        let levels: BTreeMap<u32, Level> = match (&a, &note) {
            (Some(a), None) => a.factors.iter().map(|f| (f.factor, f.level)).collect(),
            _ => BTreeMap::new(),
        };
        let actions = self.store.actions_of(s.id, PLAN_LIMIT).await?;
        reads::list(
            self.store,
            u,
            "action",
            actions.iter().map(|x| (x.id, s.tlp)),
        )
        .await?;
        let today = today();
        let mut departments: Vec<String> = self
            .alerting
            .departments
            .iter()
            .map(|d| d.name().to_string())
            .collect();
        for x in &actions {
            if !departments.iter().any(|d| d == x.department.name()) {
                departments.push(x.department.name().to_string());
            }
        }
        let high: Vec<FactorLevel> = levels
            .iter()
            .filter(|(_, l)| **l >= Level::High)
            .map(|(f, l)| FactorLevel {
                factor: *f,
                name: factor_name(*f),
                level: *l,
            })
            .collect();
        let mut factors: BTreeSet<u32> = high.iter().map(|f| f.factor).collect();
        factors.extend(actions.iter().flat_map(|x| x.risk_factors.iter().copied()));
        let addressed: BTreeSet<u32> = actions
            .iter()
            .filter(|x| x.status != ActionStatus::Dropped)
            .flat_map(|x| x.risk_factors.iter().copied())
            .collect();
        // Rows: the factors at the highest levels first, then the others by number.
        let mut order: Vec<u32> = factors.into_iter().collect();
        order.sort_by_key(|f| (std::cmp::Reverse(levels.get(f).copied()), *f));
        let rows = order
            .into_iter()
            .map(|f| {
                let level = levels.get(&f).copied();
                ResponseRow {
                    factor: f,
                    name: factor_name(f),
                    level,
                    gap: level.is_some_and(|l| l >= Level::High) && !addressed.contains(&f),
                    cells: departments
                        .iter()
                        .map(|d| ResponseCell {
                            department: d.clone(),
                            actions: actions
                                .iter()
                                .filter(|x| x.department.name() == d && x.risk_factors.contains(&f))
                                .map(|x| brief(x, today))
                                .collect(),
                        })
                        .collect(),
                }
            })
            .collect();
        let mut gaps: Vec<FactorLevel> = high
            .into_iter()
            .filter(|f| !addressed.contains(&f.factor))
            .collect();
        gaps.sort_by(|x, y| y.level.cmp(&x.level).then(x.factor.cmp(&y.factor)));
        Ok(ResponseView {
            situation_id: s.id,
            assessment: a.map(|a| AssessmentRef {
                id: a.id,
                as_of: a.as_of,
                framework: a.framework,
            }),
            departments,
            rows,
            gaps,
            unplaced: actions
                .iter()
                .filter(|x| x.risk_factors.is_empty())
                .map(|x| brief(x, today))
                .collect(),
        })
    }

    /// Remind the lead of every action overdue on `today` once per due date: one reminder
    /// recorded (with its `action.overdue` audit entry naming the lead, the action and the
    /// due date, nothing of its content) per action and due date, whichever server or restart
    /// gets there first; the others meet the reminder already recorded and skip it. Returns
    /// how many leads were reminded now.
    ///
    /// The reminder is an in-app one (shown on the action, its lead's overdue list and the
    /// audit trail): users carry no e-mail address or inbox yet, so no delivery can be
    /// queued. When they do, the delivery joins the same `Op::All` with the idempotency key
    /// [`overdue_key`], so it is queued once with its reminder.
    pub async fn remind_overdue_actions(&self, today: NaiveDate) -> Result<u64> {
        let actor = Actor::system("actions");
        let mut reminded = 0;
        for a in self.store.unreminded_overdue(today, REMIND_BATCH).await? {
            let now = tocsin_domain::time::now();
            let audit = AuditEvent::new(&actor, "action.overdue", "action", Some(a.id.to_string()))
                .with_detail(serde_json::json!({
                    "lead": a.lead,
                    "due_date": a.due_date.to_string(),
                }));
            let mut steps = vec![Step::Action(ActionStep::Remind(ActionReminder {
                action_id: a.id,
                due_date: a.due_date,
                lead: a.lead.clone(),
                at: now,
            }))];
            steps.extend(self.overdue_notices(&a, now).await?);
            let op = Op::All {
                steps,
                audit: Box::new(audit),
            };
            match self.store.write(&actor, op).await {
                Ok(_) => reminded += 1,
                // Another server (or an earlier run that died before answering) did it.
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(reminded)
    }

    /// The notices telling an overdue action's lead (through `notify`, on the channels their
    /// preferences choose for a moderate alert: by default the inbox and e-mail). A lead
    /// cleared below the situation's label (cleared once, lowered since) is told only that
    /// an action needs their attention, with the link. None for a lead who is gone or
    /// disabled: the reminder is still recorded and shown on the action.
    async fn overdue_notices(&self, a: &Action, now: DateTime<Utc>) -> Result<Vec<Step>> {
        let lead = match self.store.get_user_by_name(&a.lead).await {
            Ok(u) => u,
            Err(StoreError::NotFound) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let situation = self.store.get_situation(a.situation_id).await?;
        let base = self
            .channels
            .public_url
            .as_deref()
            .map(|u| u.trim_end_matches('/'))
            .unwrap_or("");
        let link = format!("{base}/situations/{}/actions#action-{}", situation.id, a.id);
        let measure = Toolbox::shipped()
            .measure(&a.measure_id)
            .map(|m| m.name.as_str())
            .unwrap_or(a.measure_id.as_str());
        let content = |u: &User| {
            if !u.may_see(situation.tlp) {
                return crate::notify::Content::restricted(OVERDUE_RESTRICTED, &link);
            }
            let subject = format!("Tocsin: action overdue since {}: {measure}", a.due_date);
            crate::notify::Content {
                body: format!(
                    "{subject}\n\nSituation: {} · {}\nDepartment: {}\nStatus: {}\nDue: {}\n\n{link}\n",
                    situation.name,
                    situation.tlp.as_str(),
                    a.department.name(),
                    a.status.as_str(),
                    a.due_date,
                ),
                sms: format!("{subject} ({}) {link}", situation.name),
                subject,
                tlp: situation.tlp,
            }
        };
        crate::notify::notices_for(
            self,
            std::slice::from_ref(&lead),
            tocsin_domain::Severity::Moderate,
            None,
            &overdue_key(a.id, a.due_date),
            content,
            &link,
            now,
        )
        .await
    }
}

/// What a lead cleared below an overdue action's label is told (with the link).
pub const OVERDUE_RESTRICTED: &str = "Tocsin: an action needs your attention";

/// The idempotency key of the notification reminding an action's lead of a due date.
pub fn overdue_key(action_id: Uuid, due_date: NaiveDate) -> String {
    format!("action-overdue:{action_id}:{due_date}")
}
