//! Web pages of risk analysis: situations, assessments (view, edit, workflow, evidence
//! suggestions), legal qualifications and the framework. The rules are the application
//! layer's ([`tocsin_app::assessments`], [`tocsin_app::situations`]).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use minijinja::context;
use serde::Deserialize;
use std::collections::HashMap;
use tocsin_app::overview::TrendWindow;
use tocsin_domain::assessment::FactorAssessment;
use tocsin_domain::{
    Areas, AssessmentEdit, AssessmentStatus, Confidence, Crime, DomainError, Evidence,
    EvidenceKind, Finding, Level, NewAssessment, NewLegalQualification, PageRequest, Permission,
    SituationEdit,
};
use uuid::Uuid;

use super::{page, path_id, CsrfForm, WebError, WebResult, WebUser};
use crate::error::ApiError;
use crate::AppState;

/// `/situations…`, `/assessments…`, `/framework`.
pub fn router() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/framework", get(framework))
        .route("/situations", get(situations))
        .route("/situations/{id}", get(situation))
        .route("/situations/{id}/edit", post(edit_situation))
        .route("/situations/{id}/assessments", post(new_assessment))
        .route("/situations/{id}/legal-qualifications", post(qualify))
        .route("/situations/{id}/factors/{n}", get(factor_history))
        .route("/assessments/{id}", get(assessment))
        .route("/assessments/{id}/edit", get(edit_page).post(edit))
        .route("/assessments/{id}/step", post(step))
        .route("/assessments/{id}/decide", post(decide))
}

/// A refusal the page shows on the form it came from (client errors other than 404); other
/// errors are error pages.
fn on_form(wu: &WebUser, e: tocsin_app::AppError) -> Result<(StatusCode, String), WebError> {
    let e = ApiError::from(e);
    if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND {
        Ok((e.status, wu.reason(&e.message)))
    } else {
        Err(e.into())
    }
}

/// `GET /framework`: the default analysis framework, with each indicator's verification mark.
pub async fn framework(State(st): State<AppState>, wu: WebUser) -> Response {
    page(
        &st,
        &wu,
        StatusCode::OK,
        "framework.html",
        context! { f => st.framework() },
    )
}

/// The risk-factor history page's order.
#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct FactorQuery {
    sort: Option<String>,
    dir: Option<String>,
}

/// The orders of the risk-factor history page.
const FACTOR_KEYS: [&str; 3] = ["as_of", "level", "confidence"];

/// `GET /situations/{id}/factors/{n}?sort=&dir=`: one risk factor's published levels over
/// time (newest first unless sorted otherwise), each with its assessment, for those who may
/// read the situation's assessments; an unknown factor is a 400 naming it.
pub async fn factor_history(
    State(st): State<AppState>,
    wu: WebUser,
    Path((id, n)): Path<(String, String)>,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> WebResult {
    let q: FactorQuery = crate::input::parse_query(q.as_deref())?;
    let sort = super::records::Sort::parse(&q.sort, &q.dir, &FACTOR_KEYS, ("as_of", true))?;
    let id = path_id(&id)?;
    let app = st.app();
    let mut points = app.factor_history(&wu.user, id, &n).await?;
    let situation = app.get_situation(&wu.user, id).await?;
    sort.apply(&mut points, |k, a, b| {
        let by = match k {
            "level" => a.level.cmp(&b.level),
            "confidence" => (a.confidence as u8).cmp(&(b.confidence as u8)),
            _ => std::cmp::Ordering::Equal,
        };
        by.then(a.as_of.cmp(&b.as_of))
            .then(a.assessment_id.cmp(&b.assessment_id))
    });
    let number: u32 = n.trim().parse().unwrap_or_default();
    let name = st
        .framework()
        .risk_factors
        .iter()
        .find(|r| r.number == number)
        .map(|r| r.name.clone())
        .unwrap_or_default();
    let links = sort.links(
        &format!("/situations/{id}/factors/{number}"),
        &q,
        &FACTOR_KEYS,
    );
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "factor_history.html",
        context! { situation, number, name, total => points.len(), points, links },
    ))
}

/// `GET /situations`
pub async fn situations(State(st): State<AppState>, wu: WebUser) -> WebResult {
    let listed = st
        .app()
        .list_situations(&wu.user, PageRequest::first(500))
        .await?;
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "situations.html",
        context! { situations => listed.items },
    ))
}

/// The dashboard's window in the page's query: `from` and `to` (`YYYY-MM-DD`).
#[derive(Debug, Default, Deserialize)]
struct WindowQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /situations/{id}?from=&to=`: the situation dashboard (map, trend over the window,
/// risk factors, open alerts, plan and gaps, forecast), then assessments, signals and legal
/// qualifications. A bad `from` or `to` is a 400 naming it.
pub async fn situation(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> WebResult {
    let id = path_id(&id)?;
    let w: WindowQuery = serde_urlencoded::from_str(q.as_deref().unwrap_or(""))
        .map_err(|e| WebError::bad_form(format!("the page's query: {e}")))?;
    let window = TrendWindow::parse(
        w.from.as_deref(),
        w.to.as_deref(),
        tocsin_domain::time::now().date_naive(),
    )
    .map_err(|e| {
        let mut e = ApiError::from(tocsin_app::AppError::from(e));
        e.status = StatusCode::BAD_REQUEST;
        WebError::from(e)
    })?;
    situation_page(&st, &wu, id, window, StatusCode::OK, None, None).await
}

/// The situation form's fields: `admin1` is one area per line.
#[derive(Debug, Deserialize)]
pub struct SituationForm {
    name: String,
    #[serde(default)]
    admin1: String,
    status: String,
    #[serde(default)]
    description: String,
}

impl SituationForm {
    fn areas(&self) -> Vec<String> {
        self.admin1.lines().map(str::to_string).collect()
    }
}

/// `POST /situations/{id}/edit`: name, admin-1 areas, status, summary. A refusal shows the
/// page again with the typed values and the message.
pub async fn edit_situation(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<SituationForm>,
) -> WebResult {
    let id = path_id(&id)?;
    let e = SituationEdit {
        name: Some(f.name.clone()),
        admin1: Some(Areas::Many(f.areas())),
        status: Some(f.status.clone()),
        description: Some(f.description.clone()),
    };
    match st.app().update_situation(&wu.user, id, e).await {
        Ok(s) => Ok(Redirect::to(&format!("/situations/{}", s.id)).into_response()),
        Err(e) => {
            let (status, message) = on_form(&wu, e)?;
            let window = TrendWindow::default_for(tocsin_domain::time::now().date_naive());
            situation_page(&st, &wu, id, window, status, Some(message), Some(f)).await
        }
    }
}

async fn situation_page(
    st: &AppState,
    wu: &WebUser,
    id: Uuid,
    window: TrendWindow,
    status: StatusCode,
    error: Option<String>,
    typed: Option<SituationForm>,
) -> WebResult {
    // One computation for the whole page: each restricted record read is audited once.
    let d = st.app().situation_dashboard(&wu.user, id, window).await?;
    let bbox = d
        .bounds
        .map(|[w, s, e, n]| format!("{w:.4},{s:.4},{e:.4},{n:.4}"));
    let edit_open = typed.is_some();
    let edit = match typed {
        Some(f) => {
            context! { name => f.name, admin1 => f.admin1, status => f.status, description => f.description }
        }
        None => context! {
            name => d.situation.name.clone(), admin1 => d.situation.admin1.join("\n"),
            status => d.situation.status.clone(), description => d.situation.description.clone(),
        },
    };
    let latest = d.forecast.latest.clone();
    let signal_ids: Vec<Uuid> = d.signals.iter().map(|g| g.id).collect();
    let signal_alerts: std::collections::HashMap<String, String> = st
        .app()
        .alerts_on_signals(&wu.user, &signal_ids)
        .await?
        .into_iter()
        .map(|(s, a)| (s.to_string(), a.to_string()))
        .collect();
    // The last day of each signal's week, for the link to the incidents behind it.
    let signal_weeks: std::collections::HashMap<String, String> = d
        .signals
        .iter()
        .map(|g| {
            let to = g.week_start + chrono::Duration::days(6);
            (g.id.to_string(), to.to_string())
        })
        .collect();
    let trend = match (&d.forecast.previous, &d.forecast.latest) {
        (Some(a), Some(b)) => {
            let args = [("rank", a.rank.to_string()), ("year", a.year.to_string())];
            Some(if b.rank < a.rank {
                wu.t("situation.trend_up", &args)
            } else if b.rank > a.rank {
                wu.t("situation.trend_down", &args)
            } else {
                wu.t("situation.unchanged_since", &args)
            })
        }
        _ => None,
    };
    Ok(page(
        st,
        wu,
        status,
        "situation.html",
        context! {
            d, bbox, edit, edit_open, latest, trend, error, signal_alerts, signal_weeks,
            can_edit => wu.user.can(Permission::SituationWrite),
            can_assess => wu.user.can(Permission::AssessmentWrite),
            can_qualify => wu.user.can(Permission::LegalQualify),
            brief_audience => wu.user.role.as_str(),
            crimes => [Crime::Genocide, Crime::CrimesAgainstHumanity, Crime::WarCrimes].map(|c| {
                let code = serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
                let label = wu.t(&format!("crime.{code}"), &[]);
                (code, label)
            }),
            findings => [Finding::RiskOf, Finding::MayAmountTo, Finding::Determined].map(|f| {
                let code = serde_json::to_value(f).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
                let label = wu.t(&format!("finding_label.{code}"), &[]);
                (code, label)
            }),
        },
    ))
}

/// A form with nothing but its CSRF token.
#[derive(Deserialize)]
pub struct Empty {}

/// `POST /situations/{id}/assessments`: start a draft, then edit it.
pub async fn new_assessment(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(Empty {}): CsrfForm<Empty>,
) -> WebResult {
    let n = NewAssessment {
        framework: None,
        as_of: None,
        summary: None,
        tlp: None,
        factors: vec![],
        observations: vec![],
    };
    let a = st
        .app()
        .create_assessment(&wu.user, path_id(&id)?, n)
        .await?;
    Ok(Redirect::to(&format!("/assessments/{}/edit", a.id)).into_response())
}

/// The legal qualification form.
#[derive(Deserialize)]
pub struct LegalForm {
    crime: Crime,
    finding: Finding,
    rationale: String,
    basis: String,
}

/// `POST /situations/{id}/legal-qualifications`
pub async fn qualify(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<LegalForm>,
) -> WebResult {
    let id = path_id(&id)?;
    let n = NewLegalQualification {
        crime: f.crime,
        finding: f.finding,
        rationale: f.rationale,
        basis: Some(f.basis),
        tlp: None,
    };
    match st.app().qualify(&wu.user, id, n).await {
        Ok(q) => Ok(Redirect::to(&format!("/situations/{}", q.situation_id)).into_response()),
        Err(e) => {
            let (status, message) = on_form(&wu, e)?;
            let window = TrendWindow::default_for(tocsin_domain::time::now().date_naive());
            situation_page(&st, &wu, id, window, status, Some(message), None).await
        }
    }
}

/// `GET /assessments/{id}`
pub async fn assessment(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> WebResult {
    assessment_page(&st, &wu, path_id(&id)?, StatusCode::OK, None).await
}

pub(crate) async fn assessment_page(
    st: &AppState,
    wu: &WebUser,
    id: Uuid,
    status: StatusCode,
    error: Option<String>,
) -> WebResult {
    let app = st.app();
    let v = app.assessment_view(&wu.user, id).await?;
    let a = &v.assessment;
    let situation = app.situation_for(&wu.user, a.situation_id).await?;
    let u = &wu.user;
    let draft = a.status == AssessmentStatus::Draft;
    let suggestions = app.suggestion_groups(u, a).await?;
    let fw = app.framework_of(a)?;
    let factor_names: HashMap<String, String> = fw
        .risk_factors
        .iter()
        .map(|r| (r.number.to_string(), r.name.clone()))
        .collect();
    let indicator_texts: HashMap<String, String> = fw
        .indicators()
        .map(|(_, i)| {
            (
                i.number.clone(),
                format!("{} [{}]", i.text, i.status.mark()),
            )
        })
        .collect();
    Ok(page(
        st,
        wu,
        status,
        "assessment.html",
        context! {
            v, situation, suggestions, factor_names, indicator_texts, error,
            framework => fw.name.clone(),
            can_edit => draft && u.can(Permission::AssessmentWrite),
            can_review => draft && u.can(Permission::AssessmentReview) && u.id != a.author_id,
            own_draft => draft && u.id == a.author_id,
            can_publish => a.status == AssessmentStatus::Reviewed && u.can(Permission::AssessmentPublish),
        },
    ))
}

/// `GET /assessments/{id}/edit`
pub async fn edit_page(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> WebResult {
    edit_form(&st, &wu, path_id(&id)?, StatusCode::OK, None).await
}

/// A refused edit shown again: the fields as typed, the message naming the field as the
/// page labels it, and the name of the form control to mark.
struct Refused<'a> {
    typed: &'a HashMap<String, String>,
    message: String,
    control: Option<String>,
}

async fn edit_form(
    st: &AppState,
    wu: &WebUser,
    id: Uuid,
    status: StatusCode,
    refused: Option<Refused<'_>>,
) -> WebResult {
    let app = st.app();
    let a = app.assessment_to_edit(&wu.user, id).await?;
    let fw = app.framework_of(&a)?;
    let typed = |k: String| refused.as_ref().and_then(|r| r.typed.get(&k).cloned());
    let rows: Vec<_> = fw
        .risk_factors
        .iter()
        .map(|rf| {
            let n = rf.number;
            let f = a.factor(n);
            context! {
                number => n, name => rf.name.clone(), group => rf.group.clone(),
                level => typed(format!("level_{n}")).unwrap_or_else(|| f.map(|f| f.level.as_str()).unwrap_or("").to_string()),
                confidence => typed(format!("confidence_{n}")).unwrap_or_else(|| f.map(|f| f.confidence.as_str()).unwrap_or("medium").to_string()),
                rationale => typed(format!("rationale_{n}")).unwrap_or_else(|| f.map(|f| f.rationale.clone()).unwrap_or_default()),
            }
        })
        .collect();
    let as_of = typed("as_of".into()).unwrap_or_else(|| a.as_of.to_string());
    let summary = typed("summary".into()).unwrap_or_else(|| a.summary.clone());
    let (error, invalid) = match refused {
        Some(r) => (Some(r.message), r.control),
        None => (None, None),
    };
    Ok(page(
        st,
        wu,
        status,
        "assessment_edit.html",
        context! {
            a, rows, error, invalid_field => invalid, as_of, summary,
            levels => Level::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
        },
    ))
}

/// The edit form's fields: `expected_version`, `as_of`, `summary`, and per risk factor N of
/// the assessment's framework `level_N`, `confidence_N`, `rationale_N`.
fn read_edit(
    fw: &tocsin_framework::Framework,
    expected_version: i64,
    fields: &HashMap<String, String>,
) -> Result<AssessmentEdit, DomainError> {
    let get = |k: &str| fields.get(k).map(String::as_str);
    let mut e = AssessmentEdit {
        expected_version: Some(expected_version),
        summary: Some(get("summary").unwrap_or("").to_string()),
        ..Default::default()
    };
    e.as_of = Some(
        chrono::NaiveDate::parse_from_str(get("as_of").unwrap_or("").trim(), "%Y-%m-%d")
            .map_err(|_| DomainError::invalid("as_of", "expected YYYY-MM-DD"))?,
    );
    for rf in &fw.risk_factors {
        let n = rf.number;
        let level = get(&format!("level_{n}")).map(str::trim).unwrap_or("");
        if level.is_empty() {
            e.clear_factors.push(n);
            continue;
        }
        e.factors.push(FactorAssessment {
            factor: n,
            level: Level::parse(level)
                .map_err(|_| DomainError::invalid(format!("level_{n}"), "unknown level"))?,
            confidence: Confidence::parse(get(&format!("confidence_{n}")).unwrap_or("medium"))
                .map_err(|_| {
                    DomainError::invalid(format!("confidence_{n}"), "unknown confidence")
                })?,
            rationale: get(&format!("rationale_{n}")).unwrap_or("").to_string(),
            evidence: vec![],
        });
    }
    Ok(e)
}

/// A refused field of the edit form as the page labels it, and the control to mark: `factors[i]`
/// is the i-th factor sent, `numbers[i]` its risk factor's number.
fn edit_field(
    lang: tocsin_domain::Lang,
    fw: &tocsin_framework::Framework,
    numbers: &[u32],
    field: &str,
) -> Option<(String, Option<String>)> {
    let factor = |n: u32| {
        let name = fw
            .risk_factors
            .iter()
            .find(|rf| rf.number == n)
            .map(|rf| format!(" ({})", rf.name))
            .unwrap_or_default();
        format!(
            "{} {n}{name}",
            super::i18n::text(lang, "assessment.risk_factor", &[])
        )
    };
    let sep = if lang == tocsin_domain::Lang::Fr {
        " : "
    } else {
        ": "
    };
    let part_name = |p: &str| super::i18n::field_name(lang, p);
    if let Some(("factors", i, sub)) = super::refusal::indexed(field) {
        let n = *numbers.get(i)?;
        let part = sub.split(['.', '[']).next().unwrap_or("");
        let control = match part {
            "rationale" | "level" | "confidence" => format!("{part}_{n}"),
            _ => format!("level_{n}"),
        };
        let label = match part {
            "" | "factor" => factor(n),
            p => format!("{}{sep}{}", factor(n), part_name(p)),
        };
        return Some((label, Some(control)));
    }
    for part in ["level", "confidence", "rationale"] {
        if let Some(n) = field
            .strip_prefix(part)
            .and_then(|r| r.strip_prefix('_'))
            .and_then(|n| n.parse::<u32>().ok())
        {
            return Some((
                format!("{}{sep}{}", factor(n), part_name(part)),
                Some(field.to_string()),
            ));
        }
    }
    match field {
        "as_of" => Some((
            super::i18n::text(lang, "assessments.as_of", &[]),
            Some("as_of".into()),
        )),
        "summary" => Some((
            super::i18n::text(lang, "assessment.summary", &[]),
            Some("summary".into()),
        )),
        _ => None,
    }
}

/// `POST /assessments/{id}/edit`: factor fields are `level_N`, `confidence_N`, `rationale_N`
/// of the framework the assessment was made with. A refused edit shows the form again with
/// everything as typed and the refused field named as the page labels it.
pub async fn edit(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(fields): CsrfForm<HashMap<String, String>>,
) -> WebResult {
    // The form always carries these; one without them is not this form.
    for k in ["expected_version", "as_of", "summary"] {
        if !fields.contains_key(k) {
            return Err(WebError::bad_form(format!("missing field `{k}`")));
        }
    }
    let expected_version: i64 = fields["expected_version"]
        .trim()
        .parse()
        .map_err(WebError::bad_form)?;
    let id = path_id(&id)?;
    let app = st.app();
    let a = app.assessment_for(&wu.user, id).await?;
    let fw = app.framework_of(&a)?;
    let mut numbers = Vec::new();
    let result = match read_edit(&fw, expected_version, &fields) {
        Ok(mut e) => {
            // Keep evidence already linked to each factor: the form edits levels and words.
            for f in &mut e.factors {
                if let Some(old) = a.factor(f.factor) {
                    f.evidence = old.evidence.clone();
                }
            }
            numbers = e.factors.iter().map(|f| f.factor).collect();
            app.edit_assessment(&wu.user, id, e).await
        }
        Err(d) => Err(d.into()),
    };
    match result {
        Ok(a) => Ok(Redirect::to(&format!("/assessments/{}", a.id)).into_response()),
        Err(e) => {
            let e = ApiError::from(e);
            if !e.status.is_client_error() || e.status == StatusCode::NOT_FOUND {
                return Err(e.into());
            }
            let found = e
                .field
                .as_deref()
                .and_then(|f| edit_field(wu.lang, &fw, &numbers, f));
            let message = super::refusal::human(wu.lang, &e, |_| {
                found.as_ref().map(|(label, _)| label.clone())
            });
            let refused = Refused {
                typed: &fields,
                message,
                control: found.and_then(|(_, c)| c),
            };
            edit_form(&st, &wu, id, e.status, Some(refused)).await
        }
    }
}

/// A workflow step.
#[derive(Deserialize)]
pub struct StepForm {
    to: String,
    expected_version: i64,
    #[serde(default)]
    note: String,
}

/// `POST /assessments/{id}/step`: review, publish or send back.
pub async fn step(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<StepForm>,
) -> WebResult {
    let id = path_id(&id)?;
    let to = AssessmentStatus::parse(&f.to)?;
    let stepped = st
        .app()
        .step_assessment(&wu.user, id, to, Some(f.note), Some(f.expected_version))
        .await;
    match stepped {
        Ok(a) => Ok(Redirect::to(&format!("/assessments/{}", a.id)).into_response()),
        Err(e) => {
            let (status, message) = on_form(&wu, e)?;
            assessment_page(&st, &wu, id, status, Some(message)).await
        }
    }
}

/// An analyst's decision on an evidence suggestion.
#[derive(Deserialize)]
pub struct DecideForm {
    indicator: String,
    kind: EvidenceKind,
    reference: String,
    accept: String,
}

/// `POST /assessments/{id}/decide`: accept or dismiss an evidence suggestion.
pub async fn decide(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<DecideForm>,
) -> WebResult {
    let id = path_id(&id)?;
    let evidence = Evidence {
        kind: f.kind,
        reference: f.reference,
        note: None,
    };
    let decided = st
        .app()
        .decide_suggestion(&wu.user, id, f.indicator, evidence, f.accept == "yes")
        .await;
    match decided {
        Ok(a) => Ok(Redirect::to(&format!("/assessments/{}#suggestions", a.id)).into_response()),
        Err(e) => {
            let (status, message) = on_form(&wu, e)?;
            assessment_page(&st, &wu, id, status, Some(message)).await
        }
    }
}
