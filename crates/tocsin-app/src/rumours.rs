//! Rumours: analysts and monitor coordinators record and follow them (`RumourWrite`),
//! everyone who reads rumours reads them within clearance (`RumourRead`; one above answers
//! `NotFound`). A report is marked as a sighting by someone who may read it; sightings are
//! shown (with the report's excerpt only to readers of reports) and counted only when the
//! viewer is cleared for their report, so no count, no "first heard" and no "last heard" comes
//! from a report above the viewer's clearance, and no source is ever named.
//!
//! A rumour goes to a desk as alerts do (the one named, else the desk answering for its
//! situation, else its country). [`App::notify_overdue_rumours`] tells the desk's members of
//! a rumour past its deadline, once per rumour and deadline, through their channels (a
//! member cleared below the rumour's label is told only that a rumour needs attention).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tocsin_domain::{
    Actor, AuditEvent, NewRumour, Page, PageRequest, Permission, Rumour, RumourError, RumourPatch,
    RumourPriority, RumourStatus, Sighting, TextDuration, User,
};
use tocsin_store::{
    Op, RumourFilter, RumourReminder, RumourStep, SightingSummary, Step, StoreError, StoredSighting,
};
use uuid::Uuid;

use crate::desks::users_named;
use crate::rules::route;
use crate::{may_label, notify, reads, require, visible, App, AppError, Result};

/// Overdue rumours one notification pass handles at most.
const REMIND_BATCH: u32 = 100;
/// Sightings one rumour page shows at most.
const SIGHTINGS_LIMIT: u32 = 1000;
/// The longest excerpt of a report shown with a sighting, in characters.
const EXCERPT_CHARS: usize = 200;

/// What a desk member cleared below a rumour's label is told, and nothing more (with the link).
pub const RESTRICTED_SUBJECT: &str = "Tocsin: a rumour needs your attention";

/// The time allowed to act on a rumour, per priority (`[rumours]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RumourDeadlines {
    /// Critical (default 6h).
    pub critical: TextDuration,
    /// High (default 24h).
    pub high: TextDuration,
    /// Medium (default 3d).
    pub medium: TextDuration,
    /// Low (default 7d).
    pub low: TextDuration,
}

impl Default for RumourDeadlines {
    fn default() -> Self {
        let d = |s: u64| TextDuration::from_secs(s).expect("in range");
        RumourDeadlines {
            critical: d(6 * 3600),
            high: d(24 * 3600),
            medium: d(3 * 86_400),
            low: d(7 * 86_400),
        }
    }
}

impl RumourDeadlines {
    /// The time allowed for `p`.
    pub fn for_priority(&self, p: RumourPriority) -> Duration {
        match p {
            RumourPriority::Critical => self.critical,
            RumourPriority::High => self.high,
            RumourPriority::Medium => self.medium,
            RumourPriority::Low => self.low,
        }
        .to_chrono()
    }

    /// Every duration must be longer than 0s; errors name `rumours.PRIORITY`.
    pub fn validate(&self) -> Result<()> {
        for p in RumourPriority::ALL {
            let d = match p {
                RumourPriority::Critical => self.critical,
                RumourPriority::High => self.high,
                RumourPriority::Medium => self.medium,
                RumourPriority::Low => self.low,
            };
            d.positive(&format!("rumours.{}", p.as_str()))?;
        }
        Ok(())
    }
}

/// What to list (`GET /api/v1/rumours?status=&priority=&country=&overdue=`).
#[derive(Debug, Clone, Default)]
pub struct RumourQuery {
    /// In this status.
    pub status: Option<String>,
    /// Of this priority.
    pub priority: Option<String>,
    /// In this country (ISO alpha-3).
    pub country: Option<String>,
    /// Only overdue ones (past the deadline, not closed).
    pub overdue: bool,
}

/// A rumour as a list shows it: with the overdue flag and what the viewer may count of its
/// sightings.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RumourItem {
    /// The rumour.
    #[serde(flatten)]
    pub rumour: Rumour,
    /// Past its deadline and not closed, now.
    pub overdue: bool,
    /// Sightings whose report the viewer is cleared for.
    pub sightings: u64,
    /// The earliest of those reports.
    pub first_heard: Option<DateTime<Utc>>,
    /// The latest of those reports.
    pub last_heard: Option<DateTime<Utc>>,
}

impl RumourItem {
    fn new(rumour: Rumour, s: Option<&SightingSummary>, now: DateTime<Utc>) -> RumourItem {
        RumourItem {
            overdue: rumour.is_overdue(now),
            sightings: s.map_or(0, |s| s.count),
            first_heard: s.map(|s| s.first),
            last_heard: s.map(|s| s.last),
            rumour,
        }
    }
}

/// A sighting as its viewer may see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SightingView {
    /// The sighting's id.
    pub id: Uuid,
    /// How it was heard.
    pub how: tocsin_domain::HeardHow,
    /// Where it was heard.
    #[serde(rename = "where")]
    pub where_heard: String,
    /// Who marked it.
    pub by: String,
    /// When it was marked.
    pub at: DateTime<Utc>,
    /// When the report was received.
    pub heard_at: DateTime<Utc>,
    /// The report (only to readers of reports).
    pub report_id: Option<Uuid>,
    /// The start of the report's text (only to readers of reports).
    pub excerpt: Option<String>,
}

/// One reminder to the desk.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RumourReminderView {
    /// The deadline it was overdue against.
    pub deadline: DateTime<Utc>,
    /// How many desk members were notified.
    pub notified: u32,
    /// When.
    pub at: DateTime<Utc>,
}

/// A rumour with its sightings as the viewer may see them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RumourView {
    /// The rumour, overdue flag and counts.
    #[serde(flatten)]
    pub item: RumourItem,
    /// The sightings the viewer is cleared for, oldest report first.
    pub sighting_list: Vec<SightingView>,
    /// The statuses it may move to now (closing ones need findings).
    pub moves: Vec<RumourStatus>,
    /// The reminders sent to its desk.
    pub reminders: Vec<RumourReminderView>,
}

/// A report marked as a sighting: `{report_id, how, where}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSighting {
    /// The report.
    pub report_id: Uuid,
    /// `word_of_mouth`, `radio`, `social_media`, `sms`, `leaflet` or `other`.
    pub how: String,
    /// Where it was heard.
    #[serde(rename = "where", default)]
    pub where_heard: String,
}

fn now() -> DateTime<Utc> {
    tocsin_domain::time::now()
}

fn from_rumour_error(e: RumourError) -> AppError {
    match e {
        RumourError::Invalid(d) => d.into(),
        e @ (RumourError::Illegal { .. } | RumourError::Stale { .. }) => {
            AppError::Conflict(e.to_string())
        }
    }
}

fn excerpt(text: &str) -> String {
    let mut t: String = text.chars().take(EXCERPT_CHARS).collect();
    if t.len() < text.len() {
        t.push('…');
    }
    t
}

fn sighting_view(u: &User, s: StoredSighting) -> SightingView {
    let reader = u.can(Permission::ReportRead);
    SightingView {
        id: s.sighting.id,
        how: s.sighting.how,
        where_heard: s.sighting.where_heard,
        by: s.sighting.by,
        at: s.sighting.at,
        heard_at: s.report_received_at,
        report_id: reader.then_some(s.sighting.report_id),
        excerpt: reader.then(|| excerpt(&s.report_text)),
    }
}

/// The link to a rumour's page.
pub fn rumour_link(app: &App<'_>, id: Uuid) -> String {
    let base = app
        .channels
        .public_url
        .as_deref()
        .map(|u| u.trim_end_matches('/'))
        .unwrap_or("");
    format!("{base}/rumours/{id}")
}

impl App<'_> {
    fn allowed(&self) -> impl Fn(RumourPriority) -> Duration + '_ {
        |p| self.alerting.rumours.for_priority(p)
    }

    /// A rumour `u` may see (not audited).
    async fn rumour_in(&self, u: &User, id: Uuid) -> Result<Rumour> {
        require(u, Permission::RumourRead)?;
        let r = self.store.get_rumour(id).await?;
        visible(u, r.tlp)?;
        Ok(r)
    }

    /// Record a rumour (analysts, monitor coordinators). It goes to the desk named, else the
    /// desk answering for its situation, else its country (none: no desk is told when it is
    /// overdue, and the page says so); its deadline is its creation plus the time allowed for
    /// its priority (`[rumours]`).
    pub async fn create_rumour(&self, u: &User, n: NewRumour) -> Result<Rumour> {
        require(u, Permission::RumourWrite)?;
        if let Some(s) = n.situation_id {
            match self.store.get_situation(s).await {
                Ok(sit) if u.may_see(sit.tlp) => {}
                Ok(_) | Err(StoreError::NotFound) => {
                    return Err(AppError::invalid("situation_id", "no such situation"))
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut r = Rumour::create(n, &u.username, now(), self.allowed())?;
        may_label(u, r.tlp)?;
        let desk = route(self, r.desk_id, r.situation_id, Some(&r.country))
            .await
            .map_err(|e| match e {
                AppError::Invalid { message, .. } => AppError::invalid("desk_id", message),
                e => e,
            })?;
        r.desk_id = desk.map(|d| d.id);
        let audit = AuditEvent::new(
            &u.actor(),
            "rumour.create",
            "rumour",
            Some(r.id.to_string()),
        )
        .with_detail(serde_json::json!({
            "priority": r.priority.as_str(),
            "country": r.country.code(),
            "tlp": r.tlp.as_str(),
            "desk_id": r.desk_id,
        }));
        let op = Op::All {
            steps: vec![Step::Rumour(RumourStep::Create(Box::new(r.clone())))],
            audit: Box::new(audit),
        };
        self.store.write(&u.actor(), op).await?;
        Ok(r)
    }

    /// A rumour `u` may see, with the sightings they are cleared for; the read of a
    /// restricted one is audited.
    pub async fn get_rumour(&self, u: &User, id: Uuid) -> Result<RumourView> {
        let r = self.rumour_in(u, id).await?;
        reads::one(self.store, u, "rumour", r.id, r.tlp).await?;
        let at = now();
        let sightings: Vec<StoredSighting> = self
            .store
            .sightings_of(r.id, SIGHTINGS_LIMIT)
            .await?
            .into_iter()
            .filter(|s| u.may_see(s.report_tlp))
            .collect();
        if u.can(Permission::ReportRead) {
            reads::list(
                self.store,
                u,
                "report",
                sightings
                    .iter()
                    .map(|s| (s.sighting.report_id, s.report_tlp)),
            )
            .await?;
        }
        let summary = (!sightings.is_empty()).then(|| SightingSummary {
            count: sightings.len() as u64,
            first: sightings
                .iter()
                .map(|s| s.report_received_at)
                .min()
                .unwrap_or(at),
            last: sightings
                .iter()
                .map(|s| s.report_received_at)
                .max()
                .unwrap_or(at),
        });
        let reminders = self
            .store
            .rumour_reminders(r.id)
            .await?
            .into_iter()
            .map(|m| RumourReminderView {
                deadline: m.deadline,
                notified: m.notified,
                at: m.at,
            })
            .collect();
        let moves = r.status.moves();
        Ok(RumourView {
            item: RumourItem::new(r, summary.as_ref(), at),
            sighting_list: sightings.into_iter().map(|s| sighting_view(u, s)).collect(),
            moves,
            reminders,
        })
    }

    /// One page of the rumours `u` may see, newest first, each with the overdue flag and the
    /// sightings they may count; a listing of restricted ones is audited.
    pub async fn list_rumours(
        &self,
        u: &User,
        q: RumourQuery,
        page: PageRequest,
    ) -> Result<Page<RumourItem>> {
        require(u, Permission::RumourRead)?;
        let blank = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        let at = now();
        let f = RumourFilter {
            max_tlp: u.clearance,
            status: blank(q.status)
                .map(|s| RumourStatus::parse(&s))
                .transpose()
                .map_err(|e| AppError::bad_field("status", e.to_string()))?,
            priority: blank(q.priority)
                .map(|s| RumourPriority::parse(&s))
                .transpose()
                .map_err(|e| AppError::bad_field("priority", e.to_string()))?,
            country: blank(q.country)
                .map(|c| tocsin_domain::Country::parse(&c))
                .transpose()
                .map_err(|e| AppError::bad_field("country", e.to_string()))?,
            overdue_at: q.overdue.then_some(at),
        };
        let page = self.store.list_rumours(&f, page).await?;
        reads::list(
            self.store,
            u,
            "rumour",
            page.items.iter().map(|r| (r.id, r.tlp)),
        )
        .await?;
        let ids: Vec<Uuid> = page.items.iter().map(|r| r.id).collect();
        let counts = self.store.sighting_summaries(&ids, u.clearance).await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|r| {
                    let s = counts.get(&r.id).copied();
                    RumourItem::new(r, s.as_ref(), at)
                })
                .collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Change a rumour: its status (the workflow's moves; a refused move or a stale
    /// `expected_version` answers `Conflict`; closing without findings is invalid, naming
    /// `findings`), priority (the deadline follows), findings, response, broadcast, claim,
    /// place, label (never above the editor's clearance).
    pub async fn patch_rumour(&self, u: &User, id: Uuid, p: RumourPatch) -> Result<Rumour> {
        require(u, Permission::RumourWrite)?;
        let mut r = self.rumour_in(u, id).await?;
        let before = r.status;
        r.apply(&p, now(), self.allowed())
            .map_err(from_rumour_error)?;
        may_label(u, r.tlp)?;
        let fields: Vec<&str> = [
            ("status", p.status.is_some()),
            ("findings", p.findings.is_some()),
            ("priority", p.priority.is_some()),
            ("response", p.response.is_some()),
            ("broadcast", p.broadcast.is_some()),
            ("claim", p.claim.is_some()),
            ("admin1", p.admin1.is_some()),
            ("place_name", p.place_name.is_some()),
            ("tlp", p.tlp.is_some()),
        ]
        .into_iter()
        .filter_map(|(f, on)| on.then_some(f))
        .collect();
        let audit = AuditEvent::new(
            &u.actor(),
            "rumour.update",
            "rumour",
            Some(r.id.to_string()),
        )
        .with_detail(serde_json::json!({
            "fields": fields,
            "status": {"from": before.as_str(), "to": r.status.as_str()},
            "version": r.version,
        }));
        let op = Op::All {
            steps: vec![Step::Rumour(RumourStep::Update(Box::new(r.clone())))],
            audit: Box::new(audit),
        };
        self.store.write(&u.actor(), op).await?;
        Ok(r)
    }

    /// Mark a report as a sighting of a rumour (those who change rumours and may read the
    /// report; a report above their clearance answers as a missing one, naming `report_id`).
    /// Once per rumour and report (again: `Conflict`).
    pub async fn add_sighting(&self, u: &User, id: Uuid, n: NewSighting) -> Result<SightingView> {
        require(u, Permission::RumourWrite)?;
        require(u, Permission::ReportRead)?;
        let r = self.rumour_in(u, id).await?;
        let report = match self.store.get_report(n.report_id).await {
            Ok(rep) if u.may_see(rep.tlp) => rep,
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(AppError::invalid("report_id", "no such report"))
            }
            Err(e) => return Err(e.into()),
        };
        let s = Sighting::new(r.id, report.id, &n.how, &n.where_heard, &u.username, now())?;
        let audit = AuditEvent::new(
            &u.actor(),
            "rumour.sighting",
            "rumour",
            Some(r.id.to_string()),
        )
        .with_detail(serde_json::json!({
            "sighting_id": s.id,
            "report_id": report.id,
            "how": s.how.as_str(),
        }));
        let op = Op::All {
            steps: vec![Step::Rumour(RumourStep::AddSighting(Box::new(s.clone())))],
            audit: Box::new(audit),
        };
        match self.store.write(&u.actor(), op).await {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(AppError::Conflict(
                    "this report is already a sighting of this rumour".into(),
                ))
            }
            Err(e) => return Err(e.into()),
        }
        Ok(sighting_view(
            u,
            StoredSighting {
                sighting: s,
                report_tlp: report.tlp,
                report_received_at: report.received_at,
                report_text: report.text,
            },
        ))
    }

    /// The rumours `u` may see that a report (which they may read) is a sighting of.
    pub async fn rumours_of_report(&self, u: &User, report_id: Uuid) -> Result<Vec<Rumour>> {
        require(u, Permission::RumourRead)?;
        require(u, Permission::ReportRead)?;
        let report = self.store.get_report(report_id).await?;
        visible(u, report.tlp)?;
        let mut out = vec![];
        for id in self.store.rumours_of_report(report_id).await? {
            match self.store.get_rumour(id).await {
                Ok(r) if u.may_see(r.tlp) => out.push(r),
                Ok(_) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }

    /// Tell the desk of every rumour overdue at `at` (past its deadline, not closed), once
    /// per rumour and deadline: one reminder recorded with its `rumour.overdue` audit entry
    /// (naming the desk, the deadline and how many were told, nothing of the claim), and for
    /// each enabled member the channels their preferences choose for the rumour's priority
    /// (inbox item, e-mail, SMS), each keyed so it is queued once. A member cleared below the
    /// rumour's label is told only [`RESTRICTED_SUBJECT`] and the link. Whichever server or
    /// restart gets there first records it; the others meet the reminder and skip. Returns
    /// how many rumours' desks were told now.
    pub async fn notify_overdue_rumours(&self, at: DateTime<Utc>) -> Result<u64> {
        let actor = Actor::system("rumours");
        let mut done = 0;
        for r in self
            .store
            .unreminded_overdue_rumours(at, REMIND_BATCH)
            .await?
        {
            let members = match r.desk_id {
                Some(d) => match self.store.get_desk(d).await {
                    Ok(desk) => users_named(self, &desk.members).await?,
                    Err(StoreError::NotFound) => vec![],
                    Err(e) => return Err(e.into()),
                },
                None => vec![],
            };
            let mut steps = vec![];
            steps.extend(overdue_notices(self, &r, &members, at).await?);
            let audit = AuditEvent::new(&actor, "rumour.overdue", "rumour", Some(r.id.to_string()))
                .with_detail(serde_json::json!({
                    "desk_id": r.desk_id,
                    "deadline": tocsin_domain::time::format(&r.deadline),
                    "recipients": members.len(),
                }));
            steps.insert(
                0,
                Step::Rumour(RumourStep::Remind(RumourReminder {
                    rumour_id: r.id,
                    deadline: r.deadline,
                    notified: members.len() as u32,
                    at,
                })),
            );
            let op = Op::All {
                steps,
                audit: Box::new(audit),
            };
            match self.store.write(&actor, op).await {
                Ok(_) => done += 1,
                // Another server (or an earlier run that died before answering) did it.
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(done)
    }
}

/// The steps telling `members` that `r` is overdue, through [`notify::notices_for`] on the
/// channels their preferences choose for its priority, keyed
/// `rumour-overdue:{id}:{deadline}:{user}:{channel}`. The text comes from the rumour's own
/// fields only (never a sighting or a source); to one cleared below its label, only
/// [`RESTRICTED_SUBJECT`] and the link.
async fn overdue_notices(
    app: &App<'_>,
    r: &Rumour,
    members: &[User],
    at: DateTime<Utc>,
) -> Result<Vec<Step>> {
    let link = rumour_link(app, r.id);
    let content = |user: &User| {
        if !user.may_see(r.tlp) {
            return notify::Content::restricted(RESTRICTED_SUBJECT, &link);
        }
        let claim: String = r.claim.chars().take(120).collect();
        let subject = format!("Tocsin [{}]: rumour overdue — {claim}", r.priority);
        notify::Content {
            body: format!(
                "{subject}\n\nPriority: {} · {} · {} ({})\nStatus: {}\nDeadline: {}\n\n{link}\n",
                r.priority,
                r.tlp.as_str(),
                r.country.name(),
                r.country.code(),
                r.status,
                tocsin_domain::time::format(&r.deadline),
            ),
            sms: format!("{subject} {link}"),
            subject,
            tlp: r.tlp,
        }
    };
    notify::notices_for(
        app,
        members,
        r.priority.severity(),
        None,
        &format!("rumour-overdue:{}:{}", r.id, r.deadline.timestamp()),
        content,
        &link,
        at,
    )
    .await
}
