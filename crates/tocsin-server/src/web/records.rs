//! Pages for what had only an API: escalation signals (`/signals`, `/signals/{id}`), the
//! newest forecast run (`/forecasts`), the assessments of every situation (`/assessments`) and
//! the audit trail (`/admin/audit`, admins: filtered and paged). Each list says how many it
//! holds and sorts by the column asked for (`?sort=KEY&dir=asc|desc`). Who may see what is
//! [`tocsin_app`]'s: signals are computed at the viewer's clearance, assessments are shown
//! within it, the audit trail only to those who may read it.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Router;
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use tocsin_domain::{AssessmentStatus, Country, Permission};
use tocsin_store::AuditFilter;

use super::{page, path_id, WebResult, WebUser};
use crate::error::ApiError;
use crate::input::{non_empty, parse_query};
use crate::AppState;

/// `/signals`, `/signals/{id}`, `/forecasts`, `/assessments`, `/admin/audit`.
pub fn router() -> Router<AppState> {
    use axum::routing::get;
    Router::new()
        .route("/signals", get(signals))
        .route("/signals/{id}", get(signal))
        .route("/forecasts", get(forecasts))
        .route("/assessments", get(assessments))
        .route("/admin/audit", get(audit))
}

/// The most signals the list reads.
const SIGNALS_SHOWN: u32 = 1000;

/// Audit entries on one page.
const AUDIT_PAGE: u32 = 50;

/// The order a list is shown in: a column key the page knows, and its direction.
#[derive(Debug, Clone)]
pub(crate) struct Sort {
    key: String,
    desc: bool,
}

impl Sort {
    /// The order asked for, refused with a 400 naming `sort` unless `key` is one of `keys`;
    /// `default` (and its direction) when none is asked for.
    pub(crate) fn parse(
        sort: &Option<String>,
        dir: &Option<String>,
        keys: &[&str],
        default: (&str, bool),
    ) -> Result<Sort, ApiError> {
        let key = non_empty(sort).unwrap_or(default.0);
        if !keys.contains(&key) {
            return Err(ApiError::field(
                "sort",
                format!("sort: expected one of {}", keys.join(", ")),
            ));
        }
        let desc = match non_empty(dir) {
            None if key == default.0 => default.1,
            None => false,
            Some("asc") => false,
            Some("desc") => true,
            Some(_) => return Err(ApiError::field("dir", "dir: expected asc or desc")),
        };
        Ok(Sort {
            key: key.to_string(),
            desc,
        })
    }

    pub(crate) fn apply<T>(&self, v: &mut [T], cmp: impl Fn(&str, &T, &T) -> Ordering) {
        v.sort_by(|a, b| {
            let o = cmp(&self.key, a, b);
            if self.desc {
                o.reverse()
            } else {
                o
            }
        });
    }

    /// For each of `keys`, the link that sorts by it (the other way round when it is the
    /// current order), keeping the page's filters `q`, and the arrow the header shows.
    pub(crate) fn links(&self, path: &str, q: &impl Serialize, keys: &[&str]) -> Value {
        let mut pairs: Vec<(String, String)> = serde_json::to_value(q)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k != "sort" && k != "dir" && k != "before")
            .filter_map(|(k, v)| {
                v.as_str()
                    .filter(|s| !s.is_empty())
                    .map(|s| (k, s.to_string()))
            })
            .collect();
        let base = pairs.len();
        let mut out = serde_json::Map::new();
        for k in keys {
            pairs.truncate(base);
            let desc = if *k == self.key { !self.desc } else { false };
            pairs.push(("sort".into(), k.to_string()));
            pairs.push(("dir".into(), if desc { "desc" } else { "asc" }.into()));
            let url = format!(
                "{path}?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            );
            let arrow = match (*k == self.key, self.desc) {
                (false, _) => "",
                (true, true) => " ↓",
                (true, false) => " ↑",
            };
            out.insert(
                k.to_string(),
                serde_json::json!({ "url": url, "arrow": arrow }),
            );
        }
        Value::from_serialize(serde_json::Value::Object(out))
    }
}

/// The signals list's filters and order.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SignalQuery {
    country: Option<String>,
    /// `moderate` or `high`.
    severity: Option<String>,
    /// Weeks starting on or after, `YYYY-MM-DD`.
    since: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
}

const SIGNAL_KEYS: [&str; 5] = ["week", "country", "metric", "severity", "score"];

/// `GET /signals`: escalation signals computed at the viewer's clearance, filtered and sorted.
pub async fn signals(State(st): State<AppState>, wu: WebUser, RawQuery(q): RawQuery) -> WebResult {
    let q: SignalQuery = parse_query(q.as_deref())?;
    let sort = Sort::parse(&q.sort, &q.dir, &SIGNAL_KEYS, ("week", true))?;
    let country = non_empty(&q.country)
        .map(Country::parse)
        .transpose()
        .map_err(ApiError::from)?;
    let since = non_empty(&q.since)
        .map(|s| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| ApiError::field("since", "since: expected YYYY-MM-DD"))
        })
        .transpose()?;
    let severity = non_empty(&q.severity).map(str::to_string);
    if severity
        .as_deref()
        .is_some_and(|s| s != "moderate" && s != "high")
    {
        return Err(ApiError::field("severity", "severity: expected moderate or high").into());
    }
    let mut items = st
        .app()
        .signals(&wu.user, country.as_ref(), since, SIGNALS_SHOWN)
        .await?;
    let capped = items.len() as u32 >= SIGNALS_SHOWN;
    if let Some(s) = &severity {
        items.retain(|x| &x.severity == s);
    }
    sort.apply(&mut items, |k, a, b| match k {
        "country" => a
            .country
            .code()
            .cmp(b.country.code())
            .then(a.admin1.cmp(&b.admin1)),
        "metric" => a.metric.cmp(&b.metric),
        "severity" => a.severity.cmp(&b.severity),
        "score" => a.score.total_cmp(&b.score),
        _ => a.week_start.cmp(&b.week_start),
    });
    let links = sort.links("/signals", &q, &SIGNAL_KEYS);
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "signals.html",
        context! { total => items.len(), capped, items, q, links },
    ))
}

/// `GET /signals/{id}`: one signal, with the alert raised on it if the viewer may see one.
pub async fn signal(State(st): State<AppState>, wu: WebUser, Path(id): Path<String>) -> WebResult {
    let (s, alert) = st.app().signal(&wu.user, path_id(&id)?).await?;
    let situations = st
        .app()
        .list_situations(
            &wu.user,
            tocsin_domain::PageRequest {
                after: None,
                limit: 500,
            },
        )
        .await?
        .items
        .into_iter()
        .filter(|x| x.country == s.country)
        .collect::<Vec<_>>();
    let forecast = match st.app().latest_forecast(&wu.user).await {
        Ok(run) => run.scores.into_iter().find(|x| x.country == s.country),
        Err(tocsin_app::AppError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "signal.html",
        context! { s, alert, situations, forecast },
    ))
}

/// The forecast page's filter and order.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastQuery {
    country: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
}

const FORECAST_KEYS: [&str; 3] = ["rank", "country", "probability"];

/// `GET /forecasts`: every country's rank in the newest forecast run.
pub async fn forecasts(
    State(st): State<AppState>,
    wu: WebUser,
    RawQuery(q): RawQuery,
) -> WebResult {
    let q: ForecastQuery = parse_query(q.as_deref())?;
    let sort = Sort::parse(&q.sort, &q.dir, &FORECAST_KEYS, ("rank", false))?;
    let country = non_empty(&q.country)
        .map(Country::parse)
        .transpose()
        .map_err(ApiError::from)?;
    let run = match st.app().latest_forecast(&wu.user).await {
        Ok(r) => Some(r),
        Err(tocsin_app::AppError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let (mut scores, meta) = match run {
        Some(r) => {
            let meta = context! {
                year => r.year, model => r.model.clone(), data => r.data.clone(),
                countries => r.countries, created_at => r.created_at,
            };
            (r.scores, Some(meta))
        }
        None => (Vec::new(), None),
    };
    if let Some(c) = &country {
        scores.retain(|s| &s.country == c);
    }
    sort.apply(&mut scores, |k, a, b| match k {
        "country" => a.country.code().cmp(b.country.code()),
        "probability" => a.probability.total_cmp(&b.probability),
        _ => a.rank.cmp(&b.rank),
    });
    let links = sort.links("/forecasts", &q, &FORECAST_KEYS);
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "forecasts.html",
        context! { run => meta, total => scores.len(), scores, q, links },
    ))
}

/// The assessments list's filter and order.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentQuery {
    /// `draft`, `reviewed` or `published`.
    status: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
}

const ASSESSMENT_KEYS: [&str; 5] = ["as_of", "situation", "status", "author", "updated"];

/// `GET /assessments`: the assessments of every situation the viewer may see.
pub async fn assessments(
    State(st): State<AppState>,
    wu: WebUser,
    RawQuery(q): RawQuery,
) -> WebResult {
    let q: AssessmentQuery = parse_query(q.as_deref())?;
    let sort = Sort::parse(&q.sort, &q.dir, &ASSESSMENT_KEYS, ("as_of", true))?;
    let status = non_empty(&q.status)
        .map(AssessmentStatus::parse)
        .transpose()
        .map_err(ApiError::from)?;
    let mut rows = st.app().assessment_rows(&wu.user, status).await?;
    sort.apply(&mut rows, |k, a, b| match k {
        "situation" => a.situation.cmp(&b.situation),
        "status" => a.status.cmp(b.status),
        "author" => a.author.cmp(&b.author),
        "updated" => a.updated_at.cmp(&b.updated_at),
        _ => a.as_of.cmp(&b.as_of),
    });
    let links = sort.links("/assessments", &q, &ASSESSMENT_KEYS);
    let drafts_shown = tocsin_app::assessments::may_see_drafts(&wu.user);
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "assessments.html",
        context! { total => rows.len(), rows, q, links, drafts_shown,
        can_write => wu.user.can(Permission::AssessmentWrite) },
    ))
}

/// The audit page's filters and position.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    actor: Option<String>,
    /// The start of the action, e.g. `source.` or `user.time_zone`.
    action: Option<String>,
    record_type: Option<String>,
    record_id: Option<String>,
    /// Entries before this position (the next page).
    before: Option<String>,
}

/// `GET /admin/audit`: the audit trail, newest first, filtered and paged (those who may read
/// it: admins).
pub async fn audit(State(st): State<AppState>, wu: WebUser, RawQuery(q): RawQuery) -> WebResult {
    let q: AuditQuery = parse_query(q.as_deref())?;
    let f = AuditFilter {
        actor: non_empty(&q.actor).map(str::to_string),
        action: non_empty(&q.action).map(str::to_string),
        record_type: non_empty(&q.record_type).map(str::to_string),
        record_id: non_empty(&q.record_id).map(str::to_string),
    };
    let before = non_empty(&q.before)
        .map(|b| {
            b.parse::<i64>()
                .map_err(|_| ApiError::field("before", "before: expected a whole number"))
        })
        .transpose()?;
    let (items, total) = st
        .app()
        .search_audit(&wu.user, &f, before, AUDIT_PAGE)
        .await?;
    let next = (items.len() as u32 == AUDIT_PAGE)
        .then(|| items.last().map(|e| e.seq))
        .flatten()
        .map(|seq| {
            let mut pairs: Vec<(&str, String)> = [
                ("actor", &f.actor),
                ("action", &f.action),
                ("record_type", &f.record_type),
                ("record_id", &f.record_id),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
            .collect();
            pairs.push(("before", seq.to_string()));
            format!(
                "/admin/audit?{}",
                serde_urlencoded::to_string(pairs).unwrap_or_default()
            )
        });
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "audit.html",
        context! { shown => items.len(), items, total, q, next_url => next, paged => before.is_some() },
    ))
}
