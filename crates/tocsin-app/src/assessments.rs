//! Assessments and their workflow (draft → reviewed by a second analyst → published), evidence
//! suggestions and their decisions. Permission and clearance are decided here; the workflow
//! rules (who may review, which step follows which) are the domain's.

use serde::Serialize;
use std::collections::HashSet;
use std::sync::{Arc, LazyLock};
use tocsin_domain::assessment::{self, AssessmentDiff};
use tocsin_domain::evidence::{group_suggestions, suggest};
use tocsin_domain::{
    Assessment, AssessmentChange, AssessmentEdit, AssessmentStatus, Evidence, EvidenceKind,
    IncidentFilter, NewAssessment, PageRequest, Permission, ReportFilter, Situation, Suggestion,
    SuggestionGroup, Tagged, User,
};
use tocsin_framework::{EvidenceMap, Framework};
use tocsin_store::StoreExt;
use uuid::Uuid;

use crate::evidence::{self, Labels};
use crate::{may_label, reads, require, App, AppError, Result};

static UN_EVIDENCE: LazyLock<EvidenceMap> = LazyLock::new(EvidenceMap::un_2014);

/// How far back evidence suggestions look, in days before the assessment's date.
pub const SUGGESTION_WINDOW_DAYS: i64 = 365;

/// Whether `u` may see assessments that are not yet published.
pub fn may_see_drafts(u: &User) -> bool {
    u.can(Permission::AssessmentWrite)
        || u.can(Permission::AssessmentReview)
        || u.can(Permission::AssessmentPublish)
}

fn visible_assessment(u: &User, a: &Assessment) -> bool {
    u.may_see(a.tlp) && (a.status == AssessmentStatus::Published || may_see_drafts(u))
}

/// The permission a change needs.
pub fn permission_for(change: &AssessmentChange) -> Permission {
    match change {
        AssessmentChange::Edit(_)
        | AssessmentChange::Decide { .. }
        | AssessmentChange::DecideMany { .. } => Permission::AssessmentWrite,
        AssessmentChange::Transition { to, .. } => match to {
            AssessmentStatus::Reviewed => Permission::AssessmentReview,
            AssessmentStatus::Published | AssessmentStatus::Draft => Permission::AssessmentPublish,
        },
    }
}

/// An assessment with what changed since the previous published one.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssessmentView {
    /// The assessment.
    pub assessment: Assessment,
    /// Changes against the previous published assessment, if there is one.
    pub diff: Option<AssessmentDiff>,
}

/// One line of the list of assessments: what it is about and where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct AssessmentRow {
    /// The assessment.
    pub id: Uuid,
    /// Its situation.
    pub situation_id: Uuid,
    /// The situation's name.
    pub situation: String,
    /// The situation's country (ISO alpha-3).
    pub country: String,
    /// The date it speaks for.
    pub as_of: chrono::NaiveDate,
    /// `draft`, `reviewed` or `published`.
    pub status: &'static str,
    /// Its label.
    pub tlp: tocsin_domain::Tlp,
    /// Its author.
    pub author: String,
    /// Last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// The most assessments [`App::assessment_rows`] reads.
pub const ROWS_LIMIT: u32 = 2_000;

impl App<'_> {
    /// The assessments of every situation that `u` may see (drafts only to those who work on
    /// them, never one whose situation is above their clearance), optionally in one status,
    /// newest `as_of` first; at most [`ROWS_LIMIT`] are read. The listing of restricted ones is
    /// audited.
    pub async fn assessment_rows(
        &self,
        u: &User,
        status: Option<AssessmentStatus>,
    ) -> Result<Vec<AssessmentRow>> {
        require(u, Permission::SituationRead)?;
        let all = self.store.list_assessments(None, ROWS_LIMIT).await?;
        let mut situations: std::collections::HashMap<Uuid, Option<Situation>> =
            std::collections::HashMap::new();
        let mut rows = Vec::new();
        for a in all {
            if !visible_assessment(u, &a) || status.is_some_and(|s| s != a.status) {
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(slot) =
                situations.entry(a.situation_id)
            {
                slot.insert(match self.store.get_situation(a.situation_id).await {
                    Ok(s) if u.may_see(s.tlp) => Some(s),
                    Ok(_) | Err(tocsin_store::StoreError::NotFound) => None,
                    Err(e) => return Err(e.into()),
                });
            }
            let Some(Some(s)) = situations.get(&a.situation_id) else {
                continue;
            };
            rows.push(AssessmentRow {
                id: a.id,
                situation_id: s.id,
                situation: s.name.clone(),
                country: s.country.code().to_string(),
                as_of: a.as_of,
                status: a.status.as_str(),
                tlp: a.tlp,
                author: a.author.clone(),
                updated_at: a.updated_at,
            });
        }
        reads::list(
            self.store,
            u,
            "assessment",
            rows.iter().map(|r| (r.id, r.tlp)),
        )
        .await?;
        Ok(rows)
    }

    /// An assessment `u` may see (drafts only to those who work on them), with its situation,
    /// which they must be cleared for too. Not audited: the callers that show it audit.
    pub async fn assessment_in(&self, u: &User, id: Uuid) -> Result<(Assessment, Situation)> {
        require(u, Permission::SituationRead)?;
        let a = self.store.get_assessment(id).await?;
        if !visible_assessment(u, &a) {
            return Err(AppError::NotFound);
        }
        let s = self.store.get_situation(a.situation_id).await?;
        if !u.may_see(s.tlp) {
            return Err(AppError::NotFound);
        }
        let a = evidence::seen_by(self.store, &mut Labels::default(), u, a).await?;
        Ok((a, s))
    }

    /// An assessment `u` may see, as [`App::assessment_in`] finds it.
    pub async fn assessment_for(&self, u: &User, id: Uuid) -> Result<Assessment> {
        Ok(self.assessment_in(u, id).await?.0)
    }

    /// A situation's assessments `u` may see, newest first, each with only the evidence they
    /// may see.
    pub async fn assessments_of(&self, u: &User, s: &Situation) -> Result<Vec<Assessment>> {
        let all = self.store.list_assessments(Some(s.id), 500).await?;
        let mut labels = Labels::default();
        let mut out = vec![];
        for a in all.into_iter().filter(|a| visible_assessment(u, a)) {
            out.push(evidence::seen_by(self.store, &mut labels, u, a).await?);
        }
        Ok(out)
    }

    /// The assessments of a situation `u` may see, newest first.
    pub async fn list_assessments(&self, u: &User, situation_id: Uuid) -> Result<Vec<Assessment>> {
        let s = self.situation_for(u, situation_id).await?;
        self.assessments_of(u, &s).await
    }

    /// An assessment with its diff against the previous published one, as `u` may see it;
    /// the read of a restricted one is audited.
    pub async fn assessment_view(&self, u: &User, id: Uuid) -> Result<AssessmentView> {
        let a = self.assessment_for(u, id).await?;
        reads::one(self.store, u, "assessment", a.id, a.tlp).await?;
        let all = self
            .store
            .list_assessments(Some(a.situation_id), 500)
            .await?;
        let previous = match assessment::previous(&all, &a).filter(|p| u.may_see(p.tlp)) {
            Some(p) => {
                Some(evidence::seen_by(self.store, &mut Labels::default(), u, p.clone()).await?)
            }
            None => None,
        };
        let diff = previous.map(|p| assessment::diff(&p, &a));
        Ok(AssessmentView {
            assessment: a,
            diff,
        })
    }

    /// An assessment as `u` opens it to edit (they must write assessments); the read is
    /// audited. Only a draft is edited: anything else answers `Conflict`.
    pub async fn assessment_to_edit(&self, u: &User, id: Uuid) -> Result<Assessment> {
        require(u, Permission::AssessmentWrite)?;
        let a = self.assessment_for(u, id).await?;
        reads::one(self.store, u, "assessment", a.id, a.tlp).await?;
        if a.status != AssessmentStatus::Draft {
            return Err(AppError::Conflict(
                "Only a draft can be edited. A published assessment is kept as it is; start a new one."
                    .into(),
            ));
        }
        Ok(a)
    }

    /// The framework a new assessment is made with: the one it names, else the default.
    pub fn framework_for_new(&self, n: &NewAssessment) -> Result<Arc<Framework>> {
        match &n.framework {
            None => Ok(self.frameworks.default_framework().clone()),
            Some(id) => {
                self.frameworks.get(id).cloned().ok_or_else(|| {
                    AppError::invalid("framework", format!("unknown framework {id:?}"))
                })
            }
        }
    }

    /// The framework an assessment was made with: every loaded framework can be edited and
    /// shown (a conflict only when a deployment has dropped the framework an old one used).
    pub fn framework_of(&self, a: &Assessment) -> Result<Arc<Framework>> {
        self.frameworks.get(&a.framework).cloned().ok_or_else(|| {
            AppError::Conflict(format!(
                "this assessment uses framework {:?}, which this server has not loaded",
                a.framework
            ))
        })
    }

    /// Start a draft of a situation `u` may see, with the framework it names or the
    /// deployment's default. Its label is at least the situation's and at most `u`'s
    /// clearance.
    pub async fn create_assessment(
        &self,
        u: &User,
        situation_id: Uuid,
        n: NewAssessment,
    ) -> Result<Assessment> {
        require(u, Permission::AssessmentWrite)?;
        let s = self.situation_for(u, situation_id).await?;
        let fw = self.framework_for_new(&n)?;
        let a = Assessment::create(n, &fw, s.id, s.tlp, &u.actor(), tocsin_domain::time::now())?;
        may_label(u, a.tlp)?;
        Ok(self.store.create_assessment(&u.actor(), a).await?)
    }

    /// Apply a change by `u`: the permission and clearance here, the workflow in the domain.
    pub async fn change_assessment(
        &self,
        u: &User,
        id: Uuid,
        change: AssessmentChange,
    ) -> Result<Assessment> {
        require(u, permission_for(&change))?;
        let (a, situation) = self.assessment_in(u, id).await?;
        let fw = self.framework_of(&a)?;
        match &change {
            AssessmentChange::Edit(e) => {
                e.check(&fw, situation.tlp)?;
                if let Some(t) = e.tlp {
                    may_label(u, t)?;
                }
                self.check_edit_evidence(&a, e).await?;
            }
            AssessmentChange::Decide {
                indicator,
                evidence,
                ..
            } => {
                if fw.indicator(indicator).is_none() {
                    return Err(AppError::bad_field(
                        "indicator",
                        format!("{} has no indicator {indicator:?}", fw.id),
                    ));
                }
                let mut labels = Labels::default();
                labels.load(self.store, [evidence]).await?;
                labels.check(evidence, a.tlp)?;
            }
            AssessmentChange::DecideMany { decisions, .. } => {
                for (i, (indicator, _)) in decisions.iter().enumerate() {
                    if fw.indicator(indicator).is_none() {
                        return Err(AppError::bad_field(
                            format!("items[{i}].indicator"),
                            format!("{} has no indicator {indicator:?}", fw.id),
                        ));
                    }
                }
                let mut labels = Labels::default();
                labels
                    .load(self.store, decisions.iter().map(|(_, e)| e))
                    .await?;
                for (_, e) in decisions {
                    labels.check(e, a.tlp)?;
                }
            }
            AssessmentChange::Transition { .. } => {}
        }
        Ok(self
            .store
            .change_assessment(&u.actor(), a.id, change)
            .await?)
    }

    /// An edit newly cites only records labelled at or below the assessment's label once
    /// edited; lowering the label is refused while it keeps evidence above the new one.
    async fn check_edit_evidence(&self, a: &Assessment, e: &AssessmentEdit) -> Result<()> {
        let tlp = e.tlp.unwrap_or(a.tlp);
        let new = e
            .factors
            .iter()
            .flat_map(|f| f.evidence.iter())
            .chain(e.observations.iter().flat_map(|o| o.evidence.iter()));
        // Links the assessment already holds pass (a form sends them back as it found them;
        // a record deleted since is no new citation); new ones must exist under its label.
        let stored = self.store.get_assessment(a.id).await?;
        let held: HashSet<(EvidenceKind, &str)> = evidence::held(&stored)
            .map(|x| (x.kind, x.reference.as_str()))
            .collect();
        let new: Vec<&Evidence> = new
            .filter(|x| !held.contains(&(x.kind, x.reference.as_str())))
            .collect();
        let mut labels = Labels::default();
        labels.load(self.store, new.iter().copied()).await?;
        for x in new {
            labels.check(x, tlp)?;
        }
        if tlp < a.tlp {
            // What the edit keeps: factors and observations it does not replace or clear,
            // and the accepted suggestions.
            let kept: Vec<&tocsin_domain::Evidence> = stored
                .factors
                .iter()
                .filter(|f| {
                    !e.clear_factors.contains(&f.factor)
                        && !e.factors.iter().any(|n| n.factor == f.factor)
                })
                .flat_map(|f| f.evidence.iter())
                .chain(
                    stored
                        .observations
                        .iter()
                        .filter(|o| !e.observations.iter().any(|n| n.indicator == o.indicator))
                        .flat_map(|o| o.evidence.iter()),
                )
                .chain(
                    stored
                        .decisions
                        .iter()
                        .filter(|d| d.accepted)
                        .map(|d| &d.evidence),
                )
                .collect();
            labels.load(self.store, kept.iter().copied()).await?;
            if kept.iter().any(|x| labels.above(x, tlp)) {
                return Err(AppError::invalid(
                    "tlp",
                    format!(
                        "this assessment cites evidence labelled above {}; remove it before \
                         lowering the label",
                        tlp.as_str()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Edit a draft.
    pub async fn edit_assessment(
        &self,
        u: &User,
        id: Uuid,
        e: AssessmentEdit,
    ) -> Result<Assessment> {
        self.change_assessment(u, id, AssessmentChange::Edit(e))
            .await
    }

    /// Edit a draft with a change written against the framework `named` (a file from the
    /// template names it): refused, naming `framework`, if the assessment uses another.
    pub async fn edit_assessment_named(
        &self,
        u: &User,
        id: Uuid,
        e: AssessmentEdit,
        named: Option<&str>,
    ) -> Result<Assessment> {
        if let Some(f) = named {
            require(u, Permission::AssessmentWrite)?;
            let a = self.assessment_for(u, id).await?;
            if f != a.framework {
                return Err(AppError::invalid(
                    "framework",
                    format!(
                        "{f:?} is not the assessment's framework ({:?})",
                        a.framework
                    ),
                ));
            }
        }
        self.edit_assessment(u, id, e).await
    }

    /// Move an assessment through its workflow: reviewed (a second analyst), published, or
    /// back to draft.
    pub async fn step_assessment(
        &self,
        u: &User,
        id: Uuid,
        to: AssessmentStatus,
        note: Option<String>,
        expected_version: Option<i64>,
    ) -> Result<Assessment> {
        let change = AssessmentChange::Transition {
            to,
            note: note.filter(|n| !n.trim().is_empty()),
            expected_version,
        };
        self.change_assessment(u, id, change).await
    }

    /// Mark a draft reviewed (not by its author).
    pub async fn review_assessment(
        &self,
        u: &User,
        id: Uuid,
        note: Option<String>,
        expected_version: Option<i64>,
    ) -> Result<Assessment> {
        self.step_assessment(u, id, AssessmentStatus::Reviewed, note, expected_version)
            .await
    }

    /// Publish a reviewed assessment; it never changes again.
    pub async fn publish_assessment(
        &self,
        u: &User,
        id: Uuid,
        note: Option<String>,
        expected_version: Option<i64>,
    ) -> Result<Assessment> {
        self.step_assessment(u, id, AssessmentStatus::Published, note, expected_version)
            .await
    }

    /// Send a reviewed assessment back to draft.
    pub async fn return_assessment(
        &self,
        u: &User,
        id: Uuid,
        note: Option<String>,
        expected_version: Option<i64>,
    ) -> Result<Assessment> {
        self.step_assessment(u, id, AssessmentStatus::Draft, note, expected_version)
            .await
    }

    /// Accept or dismiss an evidence suggestion for an indicator of a draft.
    pub async fn decide_suggestion(
        &self,
        u: &User,
        id: Uuid,
        indicator: String,
        evidence: Evidence,
        accept: bool,
    ) -> Result<Assessment> {
        let change = AssessmentChange::Decide {
            indicator,
            evidence,
            accept,
        };
        self.change_assessment(u, id, change).await
    }

    /// The evidence suggestions of an assessment, for those who write assessments.
    pub async fn suggestions_for(&self, u: &User, id: Uuid) -> Result<Vec<Suggestion>> {
        require(u, Permission::AssessmentWrite)?;
        let a = self.assessment_for(u, id).await?;
        self.suggestions(u, &a).await
    }

    /// Evidence suggestions for a draft, from the situation's incidents and reports of the
    /// last [`SUGGESTION_WINDOW_DAYS`] that `u` may see and the assessment's own label covers;
    /// none for one who may not edit assessments (the page shows them to editors only). The
    /// restricted records the list shows are audited as any list of them.
    pub async fn suggestions(&self, u: &User, a: &Assessment) -> Result<Vec<Suggestion>> {
        Ok(self.suggestions_counted(u, a).await?.0)
    }

    /// As [`App::suggestions`], with how many incidents were considered (those `u` may see
    /// and the assessment's label covers).
    async fn suggestions_counted(
        &self,
        u: &User,
        a: &Assessment,
    ) -> Result<(Vec<Suggestion>, usize)> {
        if !u.can(Permission::AssessmentWrite)
            || a.framework != UN_EVIDENCE.framework
            || a.status != AssessmentStatus::Draft
        {
            return Ok((vec![], 0));
        }
        let s = self.store.get_situation(a.situation_id).await?;
        let max_tlp = u.clearance.min(a.tlp);
        let from = a.as_of - chrono::Duration::days(SUGGESTION_WINDOW_DAYS);
        let mut incidents = vec![];
        if u.can(Permission::IncidentRead) {
            let f = IncidentFilter {
                country: Some(s.country.clone()),
                from: Some(from),
                to: Some(a.as_of),
                max_tlp,
                ..Default::default()
            };
            incidents = self
                .incidents
                .list(self.store, &f, PageRequest::first(500))
                .await?
                .items;
            if !s.admin1.is_empty() {
                incidents.retain(|i| {
                    i.situation_id == Some(s.id)
                        || crate::situations::in_area(&s, &i.country, i.admin1.as_deref())
                });
            }
        }
        let mut reports = vec![];
        if u.can(Permission::ReportRead) {
            let f = ReportFilter {
                country: Some(s.country.clone()),
                from: from.and_hms_opt(0, 0, 0).map(|d| d.and_utc()),
                max_tlp,
                ..Default::default()
            };
            reports = self
                .store
                .list_reports(&f, PageRequest::first(200))
                .await?
                .items;
        }
        // Confirmed dangerous speech said in the situation's area in the window (the store
        // reads by when flags were made, which is after their words were said).
        let mut flags = vec![];
        if u.can(Permission::ReportRead) {
            let since = from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
            flags = self.store.confirmed_flags(since, max_tlp).await?;
            flags.retain(|p| {
                crate::signals::speech_observation(p).is_some_and(|o| {
                    o.date >= from
                        && o.date <= a.as_of
                        && o.country == s.country
                        && (s.admin1.is_empty()
                            || crate::situations::in_area(&s, &o.country, o.admin1.as_deref()))
                })
            });
        }
        let mut tags = self
            .store
            .get_tags(
                Tagged::Incident,
                &incidents.iter().map(|i| i.id).collect::<Vec<_>>(),
            )
            .await?;
        tags.extend(
            self.store
                .get_tags(
                    Tagged::Report,
                    &reports.iter().map(|r| r.id).collect::<Vec<_>>(),
                )
                .await?,
        );
        let out = suggest(&UN_EVIDENCE, a, &incidents, &reports, &flags, &tags);
        let shown = |kind: EvidenceKind| -> HashSet<&str> {
            out.iter()
                .filter(|x| x.evidence.kind == kind)
                .map(|x| x.evidence.reference.as_str())
                .collect()
        };
        let (si, sr) = (shown(EvidenceKind::Incident), shown(EvidenceKind::Report));
        let sf = shown(EvidenceKind::SpeechFlag);
        reads::list(
            self.store,
            u,
            "speech_flag",
            flags
                .iter()
                .filter(|p| sf.contains(p.flag.id.to_string().as_str()))
                .map(|p| (p.flag.id, p.flag.tlp)),
        )
        .await?;
        reads::list(
            self.store,
            u,
            "incident",
            incidents
                .iter()
                .filter(|i| si.contains(i.id.to_string().as_str()))
                .map(|i| (i.id, i.tlp)),
        )
        .await?;
        reads::list(
            self.store,
            u,
            "report",
            reports
                .iter()
                .filter(|r| sr.contains(r.id.to_string().as_str()))
                .map(|r| (r.id, r.tlp)),
        )
        .await?;
        Ok((out, incidents.len()))
    }

    /// The evidence suggestions of an assessment grouped by indicator, with counts; the
    /// suggestions of a rule that fires on most incidents considered (`[analysis]
    /// generic_rule_share`, `generic_rule_count`) set apart and flagged for review. Only what
    /// [`App::suggestions`] shows `u`: nothing above their clearance or the assessment's label.
    pub async fn suggestion_groups(&self, u: &User, a: &Assessment) -> Result<SuggestionsView> {
        let (all, considered) = self.suggestions_counted(u, a).await?;
        let total = all.len();
        Ok(SuggestionsView {
            total,
            incidents_considered: considered,
            groups: group_suggestions(all, considered, &self.alerting.generic_rule),
        })
    }

    /// [`App::suggestion_groups`] of an assessment, for those who write assessments.
    pub async fn suggestion_groups_for(&self, u: &User, id: Uuid) -> Result<SuggestionsView> {
        require(u, Permission::AssessmentWrite)?;
        let a = self.assessment_for(u, id).await?;
        self.suggestion_groups(u, &a).await
    }

    /// Accept or dismiss many suggestions of a draft in one write with one audit entry: the
    /// ones listed, and every pending suggestion `u` is shown for `indicator` (of the rule
    /// `why`, when given). Listed ones are checked as one decision is (the indicator exists,
    /// the record is labelled within the assessment's label); one decided meanwhile keeps its
    /// decision. Answers the assessment and how many suggestions were newly decided.
    pub async fn decide_suggestions(
        &self,
        u: &User,
        id: Uuid,
        d: BulkDecision,
    ) -> Result<(Assessment, usize)> {
        require(u, Permission::AssessmentWrite)?;
        let (a, _) = self.assessment_in(u, id).await?;
        let fw = self.framework_of(&a)?;
        let mut decisions: Vec<(String, Evidence)> = d
            .items
            .iter()
            .map(|i| (i.indicator.clone(), i.evidence.clone()))
            .collect();
        if let Some(ind) = d.indicator.as_deref().filter(|i| !i.trim().is_empty()) {
            if fw.indicator(ind).is_none() {
                return Err(AppError::bad_field(
                    "indicator",
                    format!("{} has no indicator {ind:?}", fw.id),
                ));
            }
            let why = d.why.as_deref().filter(|w| !w.trim().is_empty());
            for s in self.suggestions(u, &a).await? {
                if s.indicator == ind && why.is_none_or(|w| w == s.why) {
                    decisions.push((s.indicator, s.evidence));
                }
            }
        }
        if decisions.is_empty() {
            return Err(AppError::invalid(
                "items",
                "no pending suggestion chosen: tick some, or name an indicator that has some",
            ));
        }
        let stored_before = self.store.get_assessment(a.id).await?.decisions.len();
        let change = AssessmentChange::DecideMany {
            decisions,
            accept: d.accept,
        };
        let after = self.change_assessment(u, a.id, change).await?;
        let decided = after.decisions.len().saturating_sub(stored_before);
        let after = evidence::seen_by(self.store, &mut Labels::default(), u, after).await?;
        Ok((after, decided))
    }
}

/// An assessment's pending suggestions, grouped.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SuggestionsView {
    /// How many in all.
    pub total: usize,
    /// How many incidents were considered (the base of a rule's share).
    pub incidents_considered: usize,
    /// By indicator, in framework order.
    pub groups: Vec<SuggestionGroup>,
}

/// One suggestion named in a bulk decision.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkItem {
    /// The indicator.
    pub indicator: String,
    /// The record.
    pub evidence: Evidence,
}

/// Accept or dismiss many suggestions: those listed in `items`, and every pending one for
/// `indicator` (only of the rule `why`, when given).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDecision {
    /// Accept (true) or dismiss (false).
    pub accept: bool,
    /// Suggestions named one by one.
    #[serde(default)]
    pub items: Vec<BulkItem>,
    /// Every pending suggestion for this indicator.
    #[serde(default)]
    pub indicator: Option<String>,
    /// With `indicator`: only those of the rule with this reason.
    #[serde(default)]
    pub why: Option<String>,
}
