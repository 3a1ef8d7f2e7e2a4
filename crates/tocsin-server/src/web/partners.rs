//! The admin page `/partners`: the partner organisations this one shares signed bundles with
//! (name, ceiling, countries, URL, key, and what was sent to and received from each, when), a
//! form to add one and a button to remove each. Who
//! may do it, and what a partner may be, is the application layer's
//! ([`tocsin_app::partners`]), as for `/api/v1/partners` and `tocsin partner`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Router;
use minijinja::context;
use serde::Deserialize;
use tocsin_domain::{PartnerInput, Tlp};

use super::{page, CsrfForm, WebResult, WebUser};
use crate::error::ApiError;
use crate::AppState;

/// `/partners`.
pub fn router() -> Router<AppState> {
    Router::new().route("/partners", axum::routing::get(partners).post(act))
}

#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    error: Option<String>,
    field: Option<String>,
}

async fn render(st: &AppState, wu: &WebUser, status: StatusCode, o: Outcome) -> WebResult {
    let app = st.app();
    let list = app.list_partners((&wu.user).into()).await?;
    let own_key = app.public_signing_key((&wu.user).into()).await?.to_string();
    let mut partners = Vec::with_capacity(list.len());
    for p in &list {
        let a = app.partner_activity((&wu.user).into(), &p.name).await?;
        partners.push(context! {
            name => p.name.clone(), url => p.url.clone(), key => p.public_key.clone(),
            max_tlp => p.max_tlp.as_str(),
            countries => p.countries.iter().map(|c| c.code().to_string()).collect::<Vec<_>>(),
            added_at => p.added_at,
            sent => a.sent, sent_retracted => a.sent_retracted, last_sent => a.last_sent,
            received => a.received, received_retracted => a.received_retracted,
            last_received => a.last_received,
        });
    }
    let ceilings: Vec<&str> = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict]
        .into_iter()
        .map(Tlp::as_str)
        .collect();
    let invalid_field = o.field.clone();
    Ok(page(
        st,
        wu,
        status,
        "partners.html",
        context! {
            partners, ceilings, own_key, notice => o.notice, error => o.error, invalid_field,
        },
    ))
}

/// `GET /partners`.
pub async fn partners(State(st): State<AppState>, wu: WebUser) -> WebResult {
    render(&st, &wu, StatusCode::OK, Outcome::default()).await
}

/// One action of the page's forms: `add` (name, url, key, max_tlp, countries as
/// comma-separated codes), `remove` (name), `issue_token` (name: a new token that partner
/// pushes and pulls here with, shown once) or `push_token` (name, token: the one it issued
/// this installation, kept sealed).
#[derive(Deserialize)]
pub struct PartnerForm {
    action: String,
    name: Option<String>,
    url: Option<String>,
    key: Option<String>,
    max_tlp: Option<String>,
    countries: Option<String>,
    token: Option<String>,
}

/// `POST /partners` (CSRF-checked): add or remove a partner; a refused action shows the page
/// again with the reason (and the field named); one by someone who is not an admin is refused.
pub async fn act(
    State(st): State<AppState>,
    wu: WebUser,
    CsrfForm(f): CsrfForm<PartnerForm>,
) -> WebResult {
    let app = st.app();
    let name = f.name.unwrap_or_default();
    let done: Result<String, ApiError> = match f.action.as_str() {
        "add" => app
            .add_partner(
                (&wu.user).into(),
                PartnerInput {
                    name: name.clone(),
                    url: f.url.unwrap_or_default(),
                    key: f.key.unwrap_or_default(),
                    max_tlp: f.max_tlp.unwrap_or_default(),
                    countries: f
                        .countries
                        .unwrap_or_default()
                        .split([',', ' '])
                        .filter(|c| !c.trim().is_empty())
                        .map(str::to_string)
                        .collect(),
                },
            )
            .await
            .map(|p| wu.t("partners.added", &[("name", p.name)]))
            .map_err(ApiError::from),
        "remove" => app
            .remove_partner((&wu.user).into(), &name)
            .await
            .map(|()| wu.t("partners.removed", &[("name", name.clone())]))
            .map_err(ApiError::from),
        // The token the partner pushes and pulls here with: shown this once.
        "issue_token" => app
            .issue_partner_token((&wu.user).into(), &name)
            .await
            .map(|token| {
                wu.t(
                    "partners.token_issued",
                    &[("name", name.trim().to_string()), ("token", token)],
                )
            })
            .map_err(ApiError::from),
        "push_token" => app
            .set_partner_push_token((&wu.user).into(), &name, &f.token.unwrap_or_default())
            .await
            .map(|()| wu.t("partners.token_kept", &[("name", name.trim().to_string())]))
            .map_err(ApiError::from),
        _ => Err(ApiError::field(
            "action",
            "expected add, remove, issue_token or push_token",
        )),
    };
    match done {
        Ok(n) => {
            let o = Outcome {
                notice: Some(n),
                ..Outcome::default()
            };
            render(&st, &wu, StatusCode::OK, o).await
        }
        Err(e) if e.status.is_client_error() => {
            let o = Outcome {
                error: Some(wu.reason(&e.message)),
                field: e.field.clone(),
                ..Outcome::default()
            };
            render(&st, &wu, e.status, o).await
        }
        Err(e) => Err(e.into()),
    }
}
