//! Web pages of risk analysis: situations, assessments (view, edit, workflow, evidence
//! suggestions) and legal qualifications. The rules are those of [`crate::analysis`].

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::HashMap;
use tocsin_domain::assessment::FactorAssessment;
use tocsin_domain::{
    AssessmentChange, AssessmentEdit, AssessmentStatus, Confidence, Crime, Evidence, EvidenceKind,
    Finding, Level, NewAssessment, NewLegalQualification, PageRequest, Permission,
};

use crate::analysis::{self as an};
use crate::auth::same;
use crate::error::ApiError;
use crate::web::{error_page, message, page, WebUser};
use crate::AppState;

/// Parse a form and check its CSRF token, or answer with the error page.
#[allow(clippy::result_large_err)]
pub(crate) fn form<T: DeserializeOwned>(
    st: &AppState,
    wu: &WebUser,
    body: &Bytes,
) -> Result<(T, HashMap<String, String>), Response> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|e| {
        error_page(
            st,
            wu,
            ApiError::new(StatusCode::BAD_REQUEST, format!("invalid form: {e}")),
        )
    })?;
    let map: HashMap<String, String> = fields.into_iter().collect();
    if !map
        .get("csrf")
        .is_some_and(|c| same(c, &wu.session.csrf_token))
    {
        return Err(message(
            st,
            wu,
            StatusCode::FORBIDDEN,
            "Not allowed",
            "The form's security token is missing or wrong.",
        ));
    }
    let t = serde_urlencoded::from_bytes::<T>(body).map_err(|e| {
        error_page(
            st,
            wu,
            ApiError::new(StatusCode::BAD_REQUEST, format!("invalid form: {e}")),
        )
    })?;
    Ok((t, map))
}

/// `GET /situations`
pub async fn situations(State(st): State<AppState>, wu: WebUser) -> Response {
    if !wu.user.can(Permission::SituationRead) {
        return error_page(&st, &wu, ApiError::forbidden());
    }
    let listed = st
        .store
        .list_situations(wu.user.clearance, PageRequest::first(500))
        .await;
    if let Ok(p) = &listed {
        let shown = p.items.iter().map(|s| (s.id, s.tlp));
        if let Err(e) = crate::reads::list(&st, &wu.user, "situation", shown).await {
            return error_page(&st, &wu, e);
        }
    }
    match listed {
        Ok(p) => page(
            &st,
            &wu,
            StatusCode::OK,
            "situations.html",
            context! { situations => p.items },
        ),
        Err(e) => error_page(&st, &wu, e.into()),
    }
}

/// `GET /situations/{id}`
pub async fn situation(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> Response {
    situation_page(&st, &wu, &id, StatusCode::OK, None).await
}

async fn situation_page(
    st: &AppState,
    wu: &WebUser,
    id: &str,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let o = match an::overview(st, &wu.user, id).await {
        Ok(o) => o,
        Err(e) => return error_page(st, wu, e),
    };
    let latest = o.forecast.last().cloned();
    let trend = match o.forecast.len() {
        n if n >= 2 => {
            let (a, b) = (&o.forecast[n - 2], &o.forecast[n - 1]);
            Some(if b.rank < a.rank {
                format!("up from rank {} ({})", a.rank, a.year)
            } else if b.rank > a.rank {
                format!("down from rank {} ({})", a.rank, a.year)
            } else {
                format!("unchanged since {}", a.year)
            })
        }
        _ => None,
    };
    page(
        st,
        wu,
        status,
        "situation.html",
        context! {
            o, latest, trend, error,
            can_assess => wu.user.can(Permission::AssessmentWrite),
            can_qualify => wu.user.can(Permission::LegalQualify),
            crimes => [("genocide", Crime::Genocide.label()), ("crimes_against_humanity", Crime::CrimesAgainstHumanity.label()), ("war_crimes", Crime::WarCrimes.label())],
            findings => [("risk_of", Finding::RiskOf.label()), ("may_amount_to", Finding::MayAmountTo.label()), ("determined", Finding::Determined.label())],
        },
    )
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[allow(dead_code)]
    csrf: String,
}

/// `POST /situations/{id}/assessments`: start a draft, then edit it.
pub async fn new_assessment(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = form::<CsrfOnly>(&st, &wu, &body) {
        return r;
    }
    let n = NewAssessment {
        framework: None,
        as_of: None,
        summary: None,
        tlp: None,
        factors: vec![],
        observations: vec![],
    };
    match an::create_assessment(&st, &wu.user, &id, n).await {
        Ok(a) => Redirect::to(&format!("/assessments/{}/edit", a.id)).into_response(),
        Err(e) => error_page(&st, &wu, e),
    }
}

#[derive(Deserialize)]
struct LegalForm {
    #[allow(dead_code)]
    csrf: String,
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
    body: Bytes,
) -> Response {
    let (f, _) = match form::<LegalForm>(&st, &wu, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let n = NewLegalQualification {
        crime: f.crime,
        finding: f.finding,
        rationale: f.rationale,
        basis: Some(f.basis),
        tlp: None,
    };
    match an::qualify(&st, &wu.user, &id, n).await {
        Ok(q) => Redirect::to(&format!("/situations/{}", q.situation_id)).into_response(),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            situation_page(&st, &wu, &id, e.status, Some(e.message)).await
        }
        Err(e) => error_page(&st, &wu, e),
    }
}

/// `GET /assessments/{id}`
pub async fn assessment(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> Response {
    assessment_page(&st, &wu, &id, StatusCode::OK, None).await
}

async fn assessment_page(
    st: &AppState,
    wu: &WebUser,
    id: &str,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let v = match an::assessment_view(st, &wu.user, id).await {
        Ok(v) => v,
        Err(e) => return error_page(st, wu, e),
    };
    let a = &v.assessment;
    let situation = match st.store.get_situation(a.situation_id).await {
        Ok(s) => s,
        Err(e) => return error_page(st, wu, e.into()),
    };
    let u = &wu.user;
    let draft = a.status == AssessmentStatus::Draft;
    let suggestions = if draft && u.can(Permission::AssessmentWrite) {
        match an::suggestions(st, u, a).await {
            Ok(s) => s,
            Err(e) => return error_page(st, wu, e),
        }
    } else {
        vec![]
    };
    let fw = match an::framework_of(st, a) {
        Ok(f) => f,
        Err(e) => return error_page(st, wu, e),
    };
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
    page(
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
    )
}

/// `GET /assessments/{id}/edit`
pub async fn edit_page(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> Response {
    edit_form(&st, &wu, &id, StatusCode::OK, None).await
}

async fn edit_form(
    st: &AppState,
    wu: &WebUser,
    id: &str,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    if !wu.user.can(Permission::AssessmentWrite) {
        return error_page(st, wu, ApiError::forbidden());
    }
    let a = match an::assessment_for(st, &wu.user, id).await {
        Ok(a) => a,
        Err(e) => return error_page(st, wu, e),
    };
    if let Err(e) = crate::reads::one(st, &wu.user, "assessment", a.id, a.tlp).await {
        return error_page(st, wu, e);
    }
    if a.status != AssessmentStatus::Draft {
        return message(
            st,
            wu,
            StatusCode::CONFLICT,
            "Not a draft",
            "Only a draft can be edited. A published assessment is kept as it is; start a new one.",
        );
    }
    let fw = match an::framework_of(st, &a) {
        Ok(f) => f,
        Err(e) => return error_page(st, wu, e),
    };
    let rows: Vec<_> = fw
        .risk_factors
        .iter()
        .map(|rf| {
            let f = a.factor(rf.number);
            context! {
                number => rf.number, name => rf.name.clone(), group => rf.group.clone(),
                level => f.map(|f| f.level.as_str()).unwrap_or(""),
                confidence => f.map(|f| f.confidence.as_str()).unwrap_or("medium"),
                rationale => f.map(|f| f.rationale.clone()).unwrap_or_default(),
            }
        })
        .collect();
    page(
        st,
        wu,
        status,
        "assessment_edit.html",
        context! {
            a, rows, error,
            levels => Level::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
        },
    )
}

#[derive(Deserialize)]
struct EditHead {
    #[allow(dead_code)]
    csrf: String,
    expected_version: i64,
    as_of: String,
    summary: String,
}

/// `POST /assessments/{id}/edit`: factor fields are `level_N`, `confidence_N`, `rationale_N`.
pub async fn edit(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (head, fields) = match form::<EditHead>(&st, &wu, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    // The form's fields are the risk factors of the framework the assessment was made with.
    let fw = match an::assessment_for(&st, &wu.user, &id)
        .await
        .and_then(|a| an::framework_of(&st, &a))
    {
        Ok(f) => f,
        Err(e) => return error_page(&st, &wu, e),
    };
    let mut e = AssessmentEdit {
        expected_version: Some(head.expected_version),
        summary: Some(head.summary),
        ..Default::default()
    };
    let result = (|| -> Result<AssessmentEdit, tocsin_domain::DomainError> {
        e.as_of = Some(
            chrono::NaiveDate::parse_from_str(head.as_of.trim(), "%Y-%m-%d")
                .map_err(|_| tocsin_domain::DomainError::invalid("as_of", "expected YYYY-MM-DD"))?,
        );
        for rf in &fw.risk_factors {
            let n = rf.number;
            let level = fields
                .get(&format!("level_{n}"))
                .map(|s| s.trim())
                .unwrap_or("");
            if level.is_empty() {
                e.clear_factors.push(n);
                continue;
            }
            e.factors.push(FactorAssessment {
                factor: n,
                level: Level::parse(level).map_err(|_| {
                    tocsin_domain::DomainError::invalid(format!("level_{n}"), "unknown level")
                })?,
                confidence: Confidence::parse(
                    fields
                        .get(&format!("confidence_{n}"))
                        .map(String::as_str)
                        .unwrap_or("medium"),
                )?,
                rationale: fields
                    .get(&format!("rationale_{n}"))
                    .cloned()
                    .unwrap_or_default(),
                evidence: vec![],
            });
        }
        Ok(e)
    })();
    let result = match result {
        Ok(mut e) => {
            // Keep evidence already linked to each factor: the form edits levels and words.
            if let Ok(a) = an::assessment_for(&st, &wu.user, &id).await {
                for f in &mut e.factors {
                    if let Some(old) = a.factor(f.factor) {
                        f.evidence = old.evidence.clone();
                    }
                }
            }
            an::change_assessment(&st, &wu.user, &id, AssessmentChange::Edit(e)).await
        }
        Err(d) => Err(d.into()),
    };
    match result {
        Ok(a) => Redirect::to(&format!("/assessments/{}", a.id)).into_response(),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            edit_form(&st, &wu, &id, e.status, Some(e.message)).await
        }
        Err(e) => error_page(&st, &wu, e),
    }
}

#[derive(Deserialize)]
struct StepForm {
    #[allow(dead_code)]
    csrf: String,
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
    body: Bytes,
) -> Response {
    let (f, _) = match form::<StepForm>(&st, &wu, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let to = match tocsin_domain::AssessmentStatus::parse(&f.to) {
        Ok(t) => t,
        Err(e) => return error_page(&st, &wu, e.into()),
    };
    let change = AssessmentChange::Transition {
        to,
        note: Some(f.note).filter(|n| !n.trim().is_empty()),
        expected_version: Some(f.expected_version),
    };
    match an::change_assessment(&st, &wu.user, &id, change).await {
        Ok(a) => Redirect::to(&format!("/assessments/{}", a.id)).into_response(),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            assessment_page(&st, &wu, &id, e.status, Some(e.message)).await
        }
        Err(e) => error_page(&st, &wu, e),
    }
}

#[derive(Deserialize)]
struct DecideForm {
    #[allow(dead_code)]
    csrf: String,
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
    body: Bytes,
) -> Response {
    let (f, _) = match form::<DecideForm>(&st, &wu, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let change = AssessmentChange::Decide {
        indicator: f.indicator,
        evidence: Evidence {
            kind: f.kind,
            reference: f.reference,
            note: None,
        },
        accept: f.accept == "yes",
    };
    match an::change_assessment(&st, &wu.user, &id, change).await {
        Ok(a) => Redirect::to(&format!("/assessments/{}#suggestions", a.id)).into_response(),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            assessment_page(&st, &wu, &id, e.status, Some(e.message)).await
        }
        Err(e) => error_page(&st, &wu, e),
    }
}
