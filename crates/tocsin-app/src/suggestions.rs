//! Reports' suggested matches kept between requests, for the triage queue: matching each of a
//! page's 50 reports on every request cost hundreds of milliseconds. A report's suggestions
//! are computed once within the highest label, keeping every match at or above the threshold
//! ([`Op::StoreSuggestions`]); later requests score only what changed since (incidents by
//! their time of change, reports by their time of receipt) and write the result back. A viewer
//! is then shown only what [`App::match_one`] would show them: nothing above their clearance,
//! incidents only to those who read them, a same-source match only to those cleared for the
//! source. Where the computation hit the cap on candidates ([`CANDIDATES`]) records above a
//! viewer's clearance may have taken the place of ones they may see, so for such a report a
//! viewer below the highest label is matched live instead.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tocsin_domain::{Actor, Incident, Report, Tlp, User};
use tocsin_store::{Op, StoredSuggestions};
use uuid::Uuid;

use crate::matching::{sort_matches, MatchScope, ReportMatch, CANDIDATES};
use crate::{App, Result};

/// Changes stamped up to this long before a computation are scored again: writes that were
/// under way meanwhile commit with an earlier time. For this long after a bulk import of more
/// than [`MAX_CHANGED`] incidents, queue pages are matched anew.
pub const SLACK_SECONDS: i64 = 60;
/// Past this many incidents changed since the oldest kept suggestions of a page, the page's
/// reports are matched anew.
pub const MAX_CHANGED: u32 = 500;
/// Kept suggestions nothing touched are written back (with a later time) this often.
pub const REWRITE_MINUTES: i64 = 30;

/// What is kept of a report's matches.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Kept {
    /// Whether a candidate query answered its cap.
    capped: bool,
    /// The matches at or above the threshold, same-source ones included, best first.
    matches: Vec<ReportMatch>,
}

impl App<'_> {
    /// The suggestions of `reports` (each in the queue, seen by `u`) that `u` may be shown
    /// after the caller's filter: kept ones brought up to date, missing ones computed and
    /// kept. Best first; nothing is audited here.
    pub(crate) async fn page_suggestions(
        &self,
        u: &User,
        scope: &mut MatchScope,
        reports: &[&Report],
    ) -> Result<HashMap<Uuid, Vec<ReportMatch>>> {
        let started = tocsin_domain::time::now();
        let slack = Duration::seconds(SLACK_SECONDS);
        let threshold = scope.threshold();
        let ids: Vec<Uuid> = reports.iter().map(|r| r.id).collect();
        // The page's own sources in one query (matching needs them).
        for (id, s) in self.store.report_sources(&ids).await? {
            scope.note_source(id, s);
        }
        let mut kept: HashMap<Uuid, (DateTime<Utc>, Kept)> = HashMap::new();
        for s in self.store.stored_suggestions(&ids).await? {
            // Unreadable (an older shape): computed anew.
            if let Ok(k) = serde_json::from_str::<Kept>(&s.matches) {
                kept.insert(s.report_id, (s.computed_at, k));
            }
        }
        // Incidents changed since the oldest kept computation, read once for the page.
        let mut changed: Vec<Incident> = Vec::new();
        if let Some(oldest) = kept.values().map(|(t, _)| *t).min() {
            let points = self
                .store
                .map_points(Some((oldest - slack, Uuid::nil())), MAX_CHANGED + 1)
                .await?;
            if points.len() > MAX_CHANGED as usize {
                kept.clear();
            } else if !points.is_empty() {
                let ids: Vec<Uuid> = points.iter().map(|p| p.id).collect();
                changed = self.store.get_incidents(&ids).await?;
                self.prepare_incidents(scope, &changed).await?;
            }
        }

        let mut out = HashMap::new();
        let mut write = Vec::new();
        for r in reports {
            let (k, rewrite) = match kept.remove(&r.id) {
                None => {
                    let found = self.match_all(Tlp::Red, scope, r, true).await?;
                    let k = Kept {
                        capped: found.capped,
                        matches: found
                            .matches
                            .into_iter()
                            .filter(|x| x.score >= threshold)
                            .collect(),
                    };
                    (k, true)
                }
                Some((at, mut k)) => {
                    let since = at - slack;
                    let probe = self.probe(scope, r, Tlp::Red).await?;
                    let before = k.matches.clone();
                    let mut touched = false;
                    for inc in changed.iter().filter(|i| i.updated_at >= since) {
                        touched = true;
                        k.matches.retain(|x| x.id != inc.id);
                        if probe.covers(inc) {
                            k.matches.extend(
                                Self::score_incident(scope, &probe, inc)
                                    .filter(|x| x.score >= threshold),
                            );
                        }
                    }
                    if probe.reports.to >= since {
                        let mut q = probe.reports.clone();
                        q.from = q.from.max(since);
                        for nr in self.store.reports_near(&q).await? {
                            touched = true;
                            k.matches.retain(|x| x.id != nr.report.id);
                            k.matches.extend(
                                Self::score_report(scope, &probe, &nr)
                                    .filter(|x| x.score >= threshold),
                            );
                        }
                    }
                    sort_matches(&mut k.matches);
                    // Written back when anything was scored (so the next request scores
                    // less), or now and then.
                    let rewrite = touched
                        || k.matches != before
                        || started - at > Duration::minutes(REWRITE_MINUTES);
                    (k, rewrite)
                }
            };
            if rewrite {
                write.push(StoredSuggestions {
                    report_id: r.id,
                    computed_at: started,
                    matches: serde_json::to_string(&k).expect("matches serialise"),
                });
            }
            let shown = if k.capped && u.clearance < Tlp::Red {
                let with_incidents = u.can(tocsin_domain::Permission::IncidentRead);
                self.match_one(u, scope, r, with_incidents).await?.matches
            } else {
                k.matches
            };
            out.insert(r.id, shown);
        }
        if !write.is_empty() {
            self.store
                .write(&Actor::system("suggestions"), Op::StoreSuggestions(write))
                .await?;
        }
        Ok(out)
    }
}

/// Whether a candidate query of `n` answers was cut at the cap.
pub(crate) fn at_cap(n: usize) -> bool {
    n >= CANDIDATES as usize
}
