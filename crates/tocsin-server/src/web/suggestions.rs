//! The assessment page's bulk decisions on evidence suggestions: `POST
//! /assessments/{id}/suggestions`, one form holding a checkbox per suggestion (`pick`), the
//! buttons deciding the ticked ones (`accept`), one (`one`), a whole indicator (`group`) or
//! all of one generic rule (`rule`). One write per post ([`tocsin_app::App::decide_suggestions`]).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Router;
use tocsin_app::assessments::{BulkDecision, BulkItem};
use tocsin_domain::{Evidence, EvidenceKind};

use super::{path_id, CsrfForm, WebError, WebResult, WebUser};
use crate::error::ApiError;
use crate::AppState;

/// `/assessments/{id}/suggestions`.
pub fn router() -> Router<AppState> {
    Router::new().route("/assessments/{id}/suggestions", axum::routing::post(decide))
}

fn bad(field: &str, message: &str) -> WebError {
    ApiError::field(field, message).into()
}

fn accept(v: &str, field: &str) -> Result<bool, WebError> {
    match v {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(bad(field, "expected yes or no")),
    }
}

/// `indicator|kind|reference`.
fn item(v: &str, field: &str) -> Result<BulkItem, WebError> {
    let mut p = v.splitn(3, '|');
    let (Some(indicator), Some(kind), Some(reference)) = (p.next(), p.next(), p.next()) else {
        return Err(bad(field, "expected indicator|kind|reference"));
    };
    let kind = match kind {
        "incident" => EvidenceKind::Incident,
        "report" => EvidenceKind::Report,
        "speech_flag" => EvidenceKind::SpeechFlag,
        _ => {
            return Err(bad(
                field,
                "expected an incident, a report or a speech flag",
            ))
        }
    };
    Ok(BulkItem {
        indicator: indicator.to_string(),
        evidence: Evidence {
            kind,
            reference: reference.to_string(),
            note: None,
        },
    })
}

/// What the posted form asks.
fn decision(fields: &[(String, String)]) -> Result<BulkDecision, WebError> {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if let Some(v) = get("one") {
        let (yes, rest) = v.split_once('|').ok_or_else(|| bad("one", "malformed"))?;
        return Ok(BulkDecision {
            accept: accept(yes, "one")?,
            items: vec![item(rest, "one")?],
            ..Default::default()
        });
    }
    if let Some(v) = get("group") {
        let (yes, ind) = v.split_once('|').ok_or_else(|| bad("group", "malformed"))?;
        return Ok(BulkDecision {
            accept: accept(yes, "group")?,
            indicator: Some(ind.to_string()),
            ..Default::default()
        });
    }
    if let Some(v) = get("rule") {
        let mut p = v.splitn(3, '|');
        let (Some(yes), Some(ind), Some(why)) = (p.next(), p.next(), p.next()) else {
            return Err(bad("rule", "malformed"));
        };
        return Ok(BulkDecision {
            accept: accept(yes, "rule")?,
            indicator: Some(ind.to_string()),
            why: Some(why.to_string()),
            ..Default::default()
        });
    }
    let yes = accept(get("accept").unwrap_or(""), "accept")?;
    let items = fields
        .iter()
        .filter(|(k, _)| k == "pick")
        .map(|(_, v)| item(v, "pick"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BulkDecision {
        accept: yes,
        items,
        ..Default::default()
    })
}

/// `POST /assessments/{id}/suggestions`: decide the chosen suggestions in one write; a
/// refusal is shown on the assessment page.
pub async fn decide(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let id = path_id(&id)?;
    let d = decision(&fields)?;
    match st.app().decide_suggestions(&wu.user, id, d).await {
        Ok((a, _)) => {
            Ok(Redirect::to(&format!("/assessments/{}#suggestions", a.id)).into_response())
        }
        Err(e) => {
            let e = ApiError::from(e);
            if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND {
                super::analysis::assessment_page(
                    &st,
                    &wu,
                    id,
                    e.status,
                    Some(wu.reason(&e.message)),
                )
                .await
            } else {
                Err(e.into())
            }
        }
    }
}
