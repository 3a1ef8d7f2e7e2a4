//! The alert-rule engine as a server runs it: one [`RuleEngine`] fed the committed writes
//! that can satisfy a rule, each firing turned into an alert or evidence.
//!
//! [`EngineDriver::pass`] is one catch-up: it reads what was written since its cursor — by
//! this process or any other (the CLI's imports, another server) — and feeds it to the engine:
//! incidents changed after `(updated_at, id)` (re-reading the last few seconds, as commits can
//! land slightly out of timestamp order), and the audit trail after its sequence number for
//! reports (`report.create`, `sms.receive`), recorded signals, published assessments, stored
//! forecast runs and rule changes (`rule.create/update/disable`: that rule reloads). Feeding is
//! idempotent, so reading a write twice changes nothing. A [`Reason::Crossed`] firing opens
//! the rule's alert or adds to its open one (`alerts::rule_fired`, labelled `Fired::tlp`); a
//! [`Reason::StillMet`] one only adds evidence to an open alert.
//!
//! The cursor is stored in the database (`meta`) after the firings it covers are applied. A
//! driver that finds the stored cursor not where it left it (another server ran the engine
//! meanwhile, or none has yet) loads the engine again: the rules, and the incidents up to the
//! stored cursor (`RuleEngine::load_until`) and, for signals, assessments and forecasts,
//! the engine's memory stored beside the cursor (`MEMORY_KEY`: what it had seen of them, not
//! what the store holds now), then feeds the rest, so a server taking over fires what its
//! predecessor had not, including a signal, assessment or forecast written in between. The server runs one driver per process as a singleton
//! job, woken after each write it serves; see `tocsin_server::alerts::rules_job`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tocsin_domain::{Actor, AlertRule, Tlp};
use tocsin_rules::{Fired, Reason, RuleEngine};
use tocsin_store::{Op, StoreError};
use uuid::Uuid;

use crate::alerts::{rule_fired, RuleFiring};
use crate::{App, AppError};

/// Where the engine's cursor is stored (`meta`).
pub const CURSOR_KEY: &str = "rules.engine.cursor";

/// Where the engine's memory of signals, assessments and forecasts is stored (`meta`;
/// [`tocsin_rules::Memory`]), written before the cursor whenever a pass changed it.
pub const MEMORY_KEY: &str = "rules.engine.memory";

/// How far back each pass re-reads incidents: commits can land out of timestamp order by
/// about this much.
pub const LOOKBACK_SECS: i64 = 5;

/// Rows read per page.
const PAGE: u32 = 1_000;

/// How far the engine has read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The newest incident fed, by `(updated_at, id)`.
    pub incidents: Option<(DateTime<Utc>, Uuid)>,
    /// The last audit entry read.
    pub audit: i64,
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PassReport {
    /// Whether the engine was (re)loaded from the store.
    pub loaded: bool,
    /// Incidents fed.
    pub incidents: u64,
    /// Audit entries read.
    pub entries: u64,
    /// Firings applied.
    pub fired: u64,
    /// Alerts opened.
    pub opened: u64,
    /// The cost of each incident evaluation (`incident_upserted`), in this pass.
    pub evaluations: Vec<Duration>,
}

/// One process's rule engine with its cursor. See the module.
#[derive(Debug, Default)]
pub struct EngineDriver {
    loaded: Option<(RuleEngine, Cursor)>,
}

fn store_err(e: StoreError) -> AppError {
    e.into()
}

impl EngineDriver {
    /// A driver that loads the engine on its first pass.
    pub fn new() -> EngineDriver {
        EngineDriver::default()
    }

    /// Forget the engine: the next pass loads it again from the stored cursor.
    pub fn reset(&mut self) {
        self.loaded = None;
    }

    /// One catch-up (see the module). On an error the engine is dropped, so the next pass
    /// reloads it from the stored cursor and nothing read since is lost.
    pub async fn pass(
        &mut self,
        app: &App<'_>,
        now: DateTime<Utc>,
    ) -> Result<PassReport, AppError> {
        let r = self.pass_inner(app, now).await;
        if r.is_err() {
            self.loaded = None;
        }
        r
    }

    async fn pass_inner(
        &mut self,
        app: &App<'_>,
        now: DateTime<Utc>,
    ) -> Result<PassReport, AppError> {
        let mut report = PassReport::default();
        let stored = read_cursor(app).await?;
        // Whether the engine's memory changed (or was never stored) and must be written.
        let mut remember = false;
        let fresh = match (&self.loaded, stored) {
            (Some((_, c)), Some(s)) => *c != s,
            _ => true,
        };
        if fresh {
            let cursor = match stored {
                Some(c) => c,
                None => Cursor {
                    incidents: Some((now - chrono::Duration::seconds(LOOKBACK_SECS), Uuid::nil())),
                    audit: last_audit_seq(app).await?,
                },
            };
            let rules = app.store.list_rules(true).await?;
            // Taking over from a stored cursor: start from what the engine had seen of
            // signals, assessments and forecasts there, so those written since fire when
            // the audit trail is replayed. (No memory stored yet: the store's present state.)
            let memory = match stored {
                Some(_) => read_memory(app).await?,
                None => None,
            };
            remember = memory.is_none();
            let engine = RuleEngine::load_until(&**app.store, rules, cursor.incidents, memory)
                .await
                .map_err(|e| AppError::Internal(format!("loading the rule engine: {e}")))?;
            self.loaded = Some((engine, cursor));
            report.loaded = true;
        }
        let (engine, cursor) = self.loaded.as_mut().expect("loaded above");
        let mut fired = Vec::new();

        // Rule changes and the other kinds of writes, from the audit trail.
        loop {
            let entries = app.store.audit_entries(cursor.audit, PAGE).await?;
            let full = entries.len() == PAGE as usize;
            let mut signals = false;
            for e in &entries {
                cursor.audit = cursor.audit.max(e.seq);
                report.entries += 1;
                let id = e.record_id.as_deref().and_then(|s| Uuid::parse_str(s).ok());
                match (e.action.as_str(), id) {
                    ("report.create" | "sms.receive" | "message.receive", Some(id)) => {
                        match app.store.get_report(id).await {
                            Ok(r) => fired.extend(engine.report_stored(&r)),
                            Err(StoreError::NotFound) => {}
                            Err(e) => return Err(e.into()),
                        }
                    }
                    ("signals.record", _) => signals = true,
                    ("assessment.publish", Some(id)) => match app.store.get_assessment(id).await {
                        Ok(a) => {
                            remember = true;
                            fired.extend(engine.assessment_published(&a))
                        }
                        Err(StoreError::NotFound) => {}
                        Err(e) => return Err(e.into()),
                    },
                    ("forecast.store", Some(id)) => match app.store.get_forecast_run(id).await {
                        Ok(run) => {
                            remember = true;
                            fired.extend(engine.forecast_run_stored(&run))
                        }
                        Err(StoreError::NotFound) => {}
                        Err(e) => return Err(e.into()),
                    },
                    ("rule.create" | "rule.update" | "rule.disable", Some(id)) => {
                        match app.store.get_rule(id).await {
                            Ok(rule) => {
                                let f =
                                    engine.reload_rule(&**app.store, rule).await.map_err(|e| {
                                        AppError::Internal(format!("reloading a rule: {e}"))
                                    })?;
                                fired.extend(f);
                            }
                            Err(StoreError::NotFound) => engine.remove_rule(id),
                            Err(e) => return Err(e.into()),
                        }
                    }
                    _ => {}
                }
            }
            if signals {
                remember = true;
                for clearance in Tlp::ALL {
                    let v = app
                        .store
                        .list_signals(clearance, None, None, u32::MAX)
                        .await?;
                    fired.extend(engine.signals_recorded(&v));
                }
            }
            if !full {
                break;
            }
        }

        // Incidents changed since the cursor (and the last few seconds again).
        let horizon = now - chrono::Duration::seconds(LOOKBACK_SECS);
        let mut since = cursor.incidents.map(|(t, id)| {
            if t <= horizon {
                (t, id)
            } else {
                (horizon, Uuid::nil())
            }
        });
        loop {
            let batch = app.store.map_points(since, PAGE).await?;
            let full = batch.len() == PAGE as usize;
            let Some(last) = batch.last() else { break };
            since = Some((last.updated_at, last.id));
            let ids: Vec<Uuid> = batch.iter().map(|p| p.id).collect();
            let mut incidents = app.store.get_incidents(&ids).await?;
            incidents.sort_by_key(|i| (i.updated_at, i.id));
            for i in &incidents {
                let t = Instant::now();
                let f = engine.incident_upserted(i);
                report.evaluations.push(t.elapsed());
                report.incidents += 1;
                fired.extend(f);
            }
            if since > cursor.incidents {
                cursor.incidents = since;
            }
            if !full {
                break;
            }
        }

        // Apply, then store the cursor: a crash in between replays, which is harmless.
        let mut rules: Vec<(Uuid, Option<AlertRule>)> = Vec::new();
        let mut seen = HashSet::new();
        for f in fired {
            report.fired += 1;
            if seen.insert(f.rule_id) {
                rules.push((f.rule_id, None));
            }
            if apply(app, &f, &mut rules, now).await? {
                report.opened += 1;
            }
        }
        if remember {
            let text = serde_json::to_string(&engine.memory()).expect("plain JSON");
            app.store
                .write(
                    &Actor::system("rules"),
                    Op::SetMeta(MEMORY_KEY.into(), text),
                )
                .await
                .map_err(store_err)?;
        }
        let cursor = *cursor;
        if stored != Some(cursor) {
            let text = serde_json::to_string(&cursor).expect("plain JSON");
            app.store
                .write(
                    &Actor::system("rules"),
                    Op::SetMeta(CURSOR_KEY.into(), text),
                )
                .await
                .map_err(store_err)?;
        }
        Ok(report)
    }
}

/// Apply one firing; true when it opened an alert.
async fn apply(
    app: &App<'_>,
    f: &Fired,
    rules: &mut [(Uuid, Option<AlertRule>)],
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let slot = rules
        .iter_mut()
        .find(|(id, _)| *id == f.rule_id)
        .expect("every firing's rule is listed");
    if slot.1.is_none() {
        match app.store.get_rule(f.rule_id).await {
            Ok(r) => slot.1 = Some(r),
            Err(StoreError::NotFound) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
    }
    let rule = slot.1.as_ref().expect("read above");
    if !rule.enabled {
        return Ok(false);
    }
    let firing = RuleFiring {
        tlp: f.tlp,
        may_open: f.reason == Reason::Crossed,
        evidence: f.evidence.clone(),
        country: f.country.clone(),
        situation: f.situation,
        title: &f.title,
    };
    match rule_fired(app, rule, firing, now).await {
        Ok(o) => Ok(matches!(o, Some(crate::alerts::Outcome::Opened(_)))),
        // The rule routes to no desk any more, or its alert is in a state that takes no
        // evidence: say so, and go on with the others.
        Err(e @ (AppError::Invalid { .. } | AppError::BadField { .. } | AppError::Conflict(_))) => {
            tracing::warn!(rule = %f.rule_id, error = %e, "a rule fired but no alert could be opened or added to");
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

async fn read_memory(app: &App<'_>) -> Result<Option<tocsin_rules::Memory>, AppError> {
    Ok(app
        .store
        .get_meta(MEMORY_KEY)
        .await?
        .and_then(|t| serde_json::from_str(&t).ok()))
}

async fn read_cursor(app: &App<'_>) -> Result<Option<Cursor>, AppError> {
    Ok(app
        .store
        .get_meta(CURSOR_KEY)
        .await?
        .and_then(|t| serde_json::from_str(&t).ok()))
}

/// The newest audit entry's sequence number (the engine's first start reads from there).
async fn last_audit_seq(app: &App<'_>) -> Result<i64, AppError> {
    let mut seq = 0;
    loop {
        let v = app.store.audit_entries(seq, 10_000).await?;
        match v.last() {
            Some(e) => seq = e.seq,
            None => return Ok(seq),
        }
        if v.len() < 10_000 {
            return Ok(seq);
        }
    }
}
