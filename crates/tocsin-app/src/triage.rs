//! Triage of incoming reports: the queue (most urgent first, within clearance), the decisions
//! a named person records on a report (reject with a reason, duplicate of a report or an
//! incident, assign to a colleague who may triage, a follow-up asked of its source through the
//! outbox), a report's history and linked incidents, and incidents made from reports with the
//! fields a client leaves out taken from them.
//!
//! Reports are never changed: a report is in the queue while no incident links it and no
//! closing decision (duplicate, rejected) names it.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::json;
use tocsin_domain::triage::triage_text;
use tocsin_domain::{
    AlertEvidence, AlertStatus, AssignedFilter, AuditEvent, Channel, Country, DuplicateOf,
    Incident, IncidentDraft, OutboundMessage, Page, Permission, Reliability, Report,
    TriageDecision, TriageFilter, TriageItem, TriageKey, TriageKind, TriageRanking, User,
};
use tocsin_store::{AlertFilter, Op, Step, StoreError};
use uuid::Uuid;

use crate::matching::{MatchKind, MatchScope, ReportMatch};
use crate::{reads, require, visible, App, AppError, Result};

/// What the queue is narrowed to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TriageQuery {
    /// Only reports from this channel.
    pub channel: Option<Channel>,
    /// Only reports about this country.
    pub country: Option<Country>,
    /// By assignment.
    pub assigned: AssignedFilter,
    /// Each report of the page with its suggested matches ([`QueueItem::matches`]); without,
    /// the ranking alone (the API and the page ask for them).
    pub with_matches: bool,
}

/// At most this many suggested matches are shown with each report of the queue.
pub const QUEUE_MATCHES: usize = 3;

/// One report of the triage queue with its best suggested matches.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueueItem {
    /// The report and its place in the queue.
    #[serde(flatten)]
    pub item: TriageItem,
    /// Its best matches scoring at or above the suggestion threshold (at most
    /// [`QUEUE_MATCHES`]), best first, as [`App::report_matches`] finds them for the viewer:
    /// incidents only for those who read incidents, nothing above their clearance, a
    /// same-source match only to those cleared for the source.
    pub matches: Vec<ReportMatch>,
}

/// The most open alerts read to mark reports that are their evidence.
const MAX_OPEN_ALERTS: u32 = 2_000;

impl App<'_> {
    /// One page of the triage queue as `u` may see it: reports within their clearance only
    /// (never counted otherwise), most urgent first ([`TriageItem::key`]); a match to an
    /// open alert only for alerts `u` may read; the source's handle and reliability only to
    /// those who may see the source; each report of the page with its best suggested matches
    /// ([`QueueItem::matches`]). `after` is the key of the last item of the previous page.
    pub async fn triage_queue(
        &self,
        u: &User,
        q: TriageQuery,
        limit: u32,
        after: Option<TriageKey>,
    ) -> Result<Page<QueueItem>> {
        Ok(self.triage_queue_page(u, q, limit, after, false).await?.0)
    }

    /// [`App::triage_queue`] with how many reports the whole queue holds for `u` with these
    /// filters (counted in the database), for a page to say.
    pub async fn triage_queue_counted(
        &self,
        u: &User,
        q: TriageQuery,
        limit: u32,
        after: Option<TriageKey>,
    ) -> Result<(Page<QueueItem>, u64)> {
        self.triage_queue_page(u, q, limit, after, true).await
    }

    /// The queue's page, and its total when `counted` (else 0).
    async fn triage_queue_page(
        &self,
        u: &User,
        q: TriageQuery,
        limit: u32,
        after: Option<TriageKey>,
        counted: bool,
    ) -> Result<(Page<QueueItem>, u64)> {
        require(u, Permission::ReportTriage)?;
        require(u, Permission::ReportRead)?;
        let ranking = TriageRanking {
            filter: TriageFilter {
                max_tlp: u.clearance,
                channel: q.channel,
                country: q.country,
            },
            assigned: q.assigned,
            viewer: u.username.clone(),
            sources_shown: u.can(Permission::SourceRead),
            open_alert_reports: self.reports_in_open_alerts(u).await?,
        };
        // Ranked and paged in the database; one row more than the page says whether another
        // page follows.
        let rows = self
            .store
            .triage_page(&ranking, after.as_ref(), limit.saturating_add(1))
            .await?;
        let mut rest: Vec<TriageItem> = rows.into_iter().filter_map(|c| ranking.item(c)).collect();
        debug_assert!(
            rest.windows(2).all(|w| w[0].key() < w[1].key()),
            "the store ranks the queue as TriageItem::key does"
        );
        let more = rest.len() > limit as usize;
        rest.truncate(limit as usize);
        let next_cursor = more
            .then(|| rest.last().map(|i| i.key().encode()))
            .flatten();
        let total = if counted {
            self.store.triage_ranked_count(&ranking).await?
        } else {
            0
        };
        reads::list(
            self.store,
            u,
            "report",
            rest.iter().map(|i| (i.report.id, i.report.tlp)),
        )
        .await?;
        // The page's suggested matches, kept from earlier requests and brought up to date
        // ([`App::page_suggestions`]), then narrowed to what `u` may be shown.
        let mut scope = MatchScope::new();
        let with_incidents = u.can(Permission::IncidentRead);
        let mut suggestions = if q.with_matches {
            let reports: Vec<&Report> = rest.iter().map(|i| &i.report).collect();
            self.page_suggestions(u, &mut scope, &reports).await?
        } else {
            HashMap::new()
        };
        let threshold = scope.threshold();
        let mut items = Vec::with_capacity(rest.len());
        let mut shown = Vec::new();
        for item in rest {
            let mut matches = Vec::new();
            let all = suggestions.remove(&item.report.id).unwrap_or_default();
            let mut cleared = None;
            for x in all {
                if matches.len() == QUEUE_MATCHES {
                    break;
                }
                if (x.kind == MatchKind::Incident && !with_incidents)
                    || !u.may_see(x.tlp)
                    || !(x.suggested || (x.same_source && x.score >= threshold))
                {
                    continue;
                }
                if x.same_source {
                    let ok = match cleared {
                        Some(c) => c,
                        None => {
                            let own = self.source_of(&mut scope, item.report.id).await?;
                            let c = self.cleared_for_source(u, &mut scope, own).await?;
                            cleared = Some(c);
                            c
                        }
                    };
                    if !ok {
                        continue;
                    }
                }
                matches.push(x);
            }
            for x in &matches {
                if !shown.iter().any(|y: &ReportMatch| y.id == x.id) {
                    shown.push(x.clone());
                }
            }
            items.push(QueueItem { item, matches });
        }
        self.audit_matches(u, &shown).await?;
        Ok((Page { items, next_cursor }, total))
    }

    /// The reports that are evidence of an alert not closed that `u` may read.
    async fn reports_in_open_alerts(&self, u: &User) -> Result<HashSet<Uuid>> {
        let mut out = HashSet::new();
        if !u.can(Permission::AlertRead) {
            return Ok(out);
        }
        for status in [
            AlertStatus::Open,
            AlertStatus::Acknowledged,
            AlertStatus::ActionDecided,
        ] {
            let mut f = AlertFilter::up_to(u.clearance);
            f.status = Some(status);
            let page = self
                .store
                .list_alerts(&f, tocsin_domain::PageRequest::first(500))
                .await?;
            let mut page = page;
            let mut read = 0u32;
            loop {
                read += page.items.len() as u32;
                for a in &page.items {
                    if u.may_see(a.tlp) {
                        out.extend(a.evidence.iter().filter_map(|e| match e {
                            AlertEvidence::Report(r) => Some(*r),
                            _ => None,
                        }));
                    }
                }
                let Some(c) = page.next_cursor.clone() else {
                    break;
                };
                if read >= MAX_OPEN_ALERTS {
                    break;
                }
                let req = tocsin_domain::PageRequest::parse(Some(500), Some(&c))?;
                page = self.store.list_alerts(&f, req).await?;
            }
        }
        Ok(out)
    }

    /// Hide a report's source handle from `u` unless they may see the source; its reliability
    /// when they may. `seen` caches the lookups by handle.
    async fn source_shown(
        &self,
        u: &User,
        r: &mut Report,
        seen: &mut HashMap<String, Option<Reliability>>,
    ) -> Result<Option<Reliability>> {
        let Some(h) = r.source.clone() else {
            return Ok(None);
        };
        let shown = match seen.get(&h) {
            Some(s) => *s,
            None => {
                let s = match self.store.get_source_by_handle(&h).await {
                    Ok(s) if u.can(Permission::SourceRead) && u.may_see(s.tlp) => {
                        Some(s.reliability)
                    }
                    Ok(_) | Err(StoreError::NotFound) => None,
                    Err(e) => return Err(e.into()),
                };
                seen.insert(h, s);
                s
            }
        };
        if shown.is_none() {
            r.source = None;
        }
        Ok(shown)
    }

    /// A report `u` may triage, still in the queue (else `Conflict`, saying why).
    async fn open_for_triage(&self, u: &User, id: Uuid) -> Result<Report> {
        require(u, Permission::ReportTriage)?;
        let r = self.store.get_report(id).await?;
        visible(u, r.tlp)?;
        if !self.store.incidents_linking(id).await?.is_empty() {
            return Err(AppError::Conflict(
                "this report is already linked to an incident".into(),
            ));
        }
        if let Some(d) = self
            .store
            .triage_decisions(id)
            .await?
            .into_iter()
            .find(|d| d.kind.closes())
        {
            return Err(AppError::Conflict(format!(
                "this report was already marked {} by {}",
                d.kind.as_str(),
                d.by
            )));
        }
        Ok(r)
    }

    /// Write a decision with its audit entry (plus any other steps) in one transaction.
    async fn record_decision(
        &self,
        u: &User,
        d: TriageDecision,
        detail: serde_json::Value,
        mut steps: Vec<Step>,
    ) -> Result<TriageDecision> {
        let audit = AuditEvent::new(
            &u.actor(),
            &format!("report.{}", d.kind.as_str()),
            "report",
            Some(d.report_id.to_string()),
        )
        .with_detail(detail);
        steps.push(Step::Triage(Box::new(d.clone())));
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps,
                    audit: Box::new(audit),
                },
            )
            .await?;
        Ok(d)
    }

    /// Reject a report in the queue; the reason is required.
    pub async fn reject_report(&self, u: &User, id: Uuid, reason: &str) -> Result<TriageDecision> {
        require(u, Permission::ReportTriage)?;
        let reason = triage_text("reason", reason)?;
        let r = self.open_for_triage(u, id).await?;
        let mut d = TriageDecision::new(r.id, TriageKind::Rejected, &u.username);
        d.reason = Some(reason.clone());
        self.record_decision(u, d, json!({ "reason": reason }), vec![])
            .await
    }

    /// Mark a report in the queue a duplicate of another report or an incident `u` may see
    /// (one they may not see is refused as missing, naming `of`).
    pub async fn mark_duplicate(&self, u: &User, id: Uuid, of: Uuid) -> Result<TriageDecision> {
        require(u, Permission::ReportTriage)?;
        let r = self.open_for_triage(u, id).await?;
        let missing = || AppError::invalid("of", "no such report or incident");
        if of == r.id {
            return Err(AppError::invalid("of", "a report cannot duplicate itself"));
        }
        let target = match self.store.get_report(of).await {
            Ok(o) if u.may_see(o.tlp) => DuplicateOf::Report(o.id),
            Ok(_) => return Err(missing()),
            Err(StoreError::NotFound) => {
                if !u.can(Permission::IncidentRead) {
                    return Err(missing());
                }
                match self.store.get_incident(of).await {
                    Ok(i) if u.may_see(i.tlp) => DuplicateOf::Incident(i.id),
                    Ok(_) | Err(StoreError::NotFound) => return Err(missing()),
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        };
        let mut d = TriageDecision::new(r.id, TriageKind::Duplicate, &u.username);
        d.duplicate_of = Some(target);
        let detail = json!({ "of": target.id().to_string(), "of_kind": target.kind() });
        self.record_decision(u, d, detail, vec![]).await
    }

    /// Assign a report in the queue to a colleague who may triage and may see it.
    pub async fn assign_report(
        &self,
        u: &User,
        id: Uuid,
        username: &str,
    ) -> Result<TriageDecision> {
        require(u, Permission::ReportTriage)?;
        let r = self.open_for_triage(u, id).await?;
        let who = match self.store.get_user_by_name(username.trim()).await {
            Ok(w) if w.can(Permission::ReportTriage) => w,
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(AppError::invalid(
                    "user",
                    "no colleague of this name may triage reports",
                ))
            }
            Err(e) => return Err(e.into()),
        };
        if !who.may_see(r.tlp) {
            return Err(AppError::invalid(
                "user",
                "this colleague is not cleared for this report",
            ));
        }
        let mut d = TriageDecision::new(r.id, TriageKind::Assigned, &u.username);
        d.assignee = Some(who.username.clone());
        self.record_decision(u, d, json!({ "assignee": who.username }), vec![])
            .await
    }

    /// Ask a report's source a follow-up question through the outbox. `u` never learns the
    /// number; the audit entry names the report, not the source. Refused when the report has
    /// no source `u` may see, or the source cannot be reached (no contact details, no gateway
    /// configured: `gateway` picks one from the gateway the source was last answered through).
    pub async fn follow_up_report(
        &self,
        u: &User,
        id: Uuid,
        text: &str,
        routes: &dyn crate::sources::ReplyRoutes,
    ) -> Result<TriageDecision> {
        require(u, Permission::ReportTriage)?;
        let text = triage_text("text", text)?;
        let r = self.store.get_report(id).await?;
        visible(u, r.tlp)?;
        let no_source = || {
            AppError::invalid(
                "id",
                "this report has no known source to ask (it came in anonymously)",
            )
        };
        let handle = r.source.as_deref().ok_or_else(no_source)?;
        let source = match self.store.get_source_by_handle(handle).await {
            Ok(s) if u.can(Permission::SourceRead) && u.may_see(s.tlp) => s,
            Ok(_) | Err(StoreError::NotFound) => return Err(no_source()),
            Err(e) => return Err(e.into()),
        };
        if !source.has_contact {
            return Err(AppError::invalid(
                "id",
                "the source of this report cannot be reached: no contact details are held",
            ));
        }
        let (gateway, sender) = match self.reply_route(&source, routes).await {
            Err(AppError::Conflict(why)) if why.starts_with("no SMS gateway") => {
                return Err(AppError::Conflict(
                    "the source of this report cannot be reached: no SMS gateway is configured"
                        .into(),
                ))
            }
            r => r?,
        };
        let mut m = OutboundMessage::new(
            format!("followup:{}", tocsin_domain::random_id()),
            &gateway,
            source.id,
            Some(r.id),
            text.clone(),
        );
        m.sender = sender;
        let mut d = TriageDecision::new(r.id, TriageKind::FollowUp, &u.username);
        d.text = Some(text);
        self.record_decision(u, d, json!({}), vec![Step::Enqueue(Box::new(m))])
            .await
    }

    /// A report's triage decisions, oldest first, for a reader of the report.
    pub async fn report_history(&self, u: &User, id: Uuid) -> Result<Vec<TriageDecision>> {
        require(u, Permission::ReportRead)?;
        let r = self.store.get_report(id).await?;
        visible(u, r.tlp)?;
        let mut v = self.store.triage_decisions(id).await?;
        // What a duplicate points at is shown only when the reader may see it.
        for d in &mut v {
            let shown = match d.duplicate_of {
                Some(DuplicateOf::Report(o)) => match self.store.get_report(o).await {
                    Ok(o) => u.may_see(o.tlp),
                    Err(StoreError::NotFound) => false,
                    Err(e) => return Err(e.into()),
                },
                Some(DuplicateOf::Incident(o)) => {
                    u.can(Permission::IncidentRead)
                        && match self.store.get_incident(o).await {
                            Ok(i) => u.may_see(i.tlp),
                            Err(StoreError::NotFound) => false,
                            Err(e) => return Err(e.into()),
                        }
                }
                None => true,
            };
            if !shown {
                d.duplicate_of = None;
            }
        }
        Ok(v)
    }

    /// The incidents linking a report that `u` may see (none without the permission).
    pub async fn report_incidents(&self, u: &User, id: Uuid) -> Result<Vec<Incident>> {
        require(u, Permission::ReportRead)?;
        let r = self.store.get_report(id).await?;
        visible(u, r.tlp)?;
        if !u.can(Permission::IncidentRead) {
            return Ok(vec![]);
        }
        let ids = self.store.incidents_linking(id).await?;
        let mut v: Vec<Incident> = self
            .store
            .get_incidents(&ids)
            .await?
            .into_iter()
            .filter(|i| u.may_see(i.tlp))
            .collect();
        v.sort_by_key(|i| std::cmp::Reverse(i.event_date));
        Ok(v)
    }

    /// A report `u` may see with its source's reliability (to those who may see the source;
    /// the handle is hidden from the others), for the report's page.
    pub async fn report_with_grade(
        &self,
        u: &User,
        id: Uuid,
    ) -> Result<(Report, Option<Reliability>)> {
        let mut r = self.get_report(u, id).await?;
        let grade = self.source_shown(u, &mut r, &mut HashMap::new()).await?;
        Ok((r, grade))
    }

    /// The usernames of colleagues who may triage (for the assign form).
    pub async fn triagers(&self, u: &User) -> Result<Vec<String>> {
        require(u, Permission::ReportTriage)?;
        let mut v: Vec<String> = self
            .store
            .list_users()
            .await?
            .into_iter()
            .filter(|w| w.can(Permission::ReportTriage))
            .map(|w| w.username)
            .collect();
        v.sort();
        Ok(v)
    }

    /// The reports `u` names for an incident, each one they may read (else refused as
    /// missing, naming `report_ids`).
    async fn reports_for_incident(&self, u: &User, ids: &[Uuid]) -> Result<Vec<Report>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let r = if u.can(Permission::ReportRead) {
                match self.store.get_report(*id).await {
                    Ok(r) if u.may_see(r.tlp) => Some(r),
                    Ok(_) | Err(StoreError::NotFound) => None,
                    Err(e) => return Err(e.into()),
                }
            } else {
                None
            };
            out.push(r.ok_or_else(|| AppError::invalid("report_ids", "no such report"))?);
        }
        Ok(out)
    }

    /// A new incident's form prefilled from reports (for the web page): what
    /// [`App::create_incident_from`] would take from them.
    pub async fn incident_draft(&self, u: &User, report_ids: &[Uuid]) -> Result<IncidentDraft> {
        require(u, Permission::IncidentCreate)?;
        let reports = self.reports_for_incident(u, report_ids).await?;
        let mut d = IncidentDraft {
            report_ids: Some(report_ids.to_vec()),
            ..Default::default()
        };
        d.prefill(&reports, place_of);
        Ok(d)
    }

    /// Record an incident from a draft: fields absent are taken from the reports it names
    /// ([`IncidentDraft::prefill`]); without reports every required field must be given
    /// (the first missing one is named). Then as [`App::create_incident`].
    pub async fn create_incident_from(&self, u: &User, mut d: IncidentDraft) -> Result<Incident> {
        require(u, Permission::IncidentCreate)?;
        let ids = d.report_ids.clone().unwrap_or_default();
        if !ids.is_empty() {
            let reports = self.reports_for_incident(u, &ids).await?;
            d.prefill(&reports, place_of);
        }
        let input = d.complete().map_err(|e| match e {
            tocsin_domain::DomainError::Invalid { field, message } => {
                AppError::bad_field(field, message)
            }
            e => e.into(),
        })?;
        self.create_incident(u, input).await
    }
}

/// The country (ISO3) and first-level area of a point, from the embedded gazetteer.
fn place_of(lat: f64, lon: f64) -> Option<(String, Option<String>)> {
    tocsin_geo::reverse(lat, lon).map(|p| (p.country.to_string(), p.admin1.map(str::to_string)))
}
