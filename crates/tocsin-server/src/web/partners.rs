//! The admin page `/partners`: the partner organisations this one shares signed bundles with
//! (name, ceiling, countries, URL, key, and what was sent to and received from each, when), a
//! form to add one and a button to remove each; their tokens; and the sharing groups (several
//! partners under one name a record can be shared with). Who
//! may do it, and what a partner may be, is the application layer's
//! ([`tocsin_app::partners`]), as for `/api/v1/partners` and `tocsin partner`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Router;
use minijinja::{context, Value};
use serde::Deserialize;
use tocsin_domain::{PartnerInput, SharingGroupInput, Tlp};

use super::{page, CsrfForm, WebResult, WebUser};
use crate::error::ApiError;
use crate::AppState;

/// `/partners` and `/partners/{name}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/partners", axum::routing::get(partners).post(act))
        .route(
            "/partners/{name}",
            axum::routing::get(partner_page).post(partner_act),
        )
}

/// The most records sent and received the partner page lists.
const HISTORY_SHOWN: usize = 200;

/// The page of one partner: its terms and whether they are approved, its redaction rules (a
/// form), a preview of what would cross under them (counts and the first records as it would
/// receive them) with the button approving them, and what was sent to it and received from it,
/// record by record, and when.
async fn render_partner(
    st: &AppState,
    wu: &WebUser,
    name: &str,
    status: StatusCode,
    o: Outcome,
) -> WebResult {
    let app = st.app();
    let p = app.partner((&wu.user).into(), name).await?;
    let preview = app.preview_partner((&wu.user).into(), &p.name).await?;
    let (sent, received) = app
        .partner_history((&wu.user).into(), &p.name, HISTORY_SHOWN)
        .await?;
    let sample: Vec<Value> = preview
        .sample
        .iter()
        .map(|i| {
            context! {
                id => i.id.to_string(), event_date => i.event_date.to_string(),
                event_type => i.event_type.clone(), tlp => i.tlp.as_str(),
                place => [i.location.clone(), i.admin2.clone(), i.admin1.clone()]
                    .into_iter().flatten().collect::<Vec<_>>().join(", "),
                country => i.country.code().to_string(),
                latitude => i.latitude, longitude => i.longitude,
                actors => [i.actor1.clone(), i.actor2.clone()]
                    .into_iter().flatten().collect::<Vec<_>>().join(" / "),
                targeted_group => i.targeted_group.clone(),
                description => i.description.clone(), grading => i.grading.clone(),
            }
        })
        .collect();
    let sent: Vec<Value> = sent
        .iter()
        .map(|r| {
            context! {
                id => r.record_id.to_string(), tlp => r.tlp.as_str(), modified => r.modified,
                sent_at => r.sent_at, retracted_at => r.retracted_at,
            }
        })
        .collect();
    let received: Vec<Value> = received
        .iter()
        .map(|r| {
            context! {
                id => r.record_id.to_string(), original_id => r.original_id.clone(),
                tlp => r.tlp.as_str(), modified => r.modified, received_at => r.received_at,
                retracted_at => r.retracted_at,
            }
        })
        .collect();
    let rules: Vec<Value> = tocsin_domain::Redact::ALL
        .iter()
        .map(|r| context! { name => r.as_str(), on => p.redact.contains(r) })
        .collect();
    let by_tlp: Vec<Value> = preview
        .by_tlp
        .iter()
        .map(|(t, n)| context! { tlp => t.as_str(), n => *n })
        .collect();
    let invalid_field = o.field.clone();
    Ok(page(
        st,
        wu,
        status,
        "partner.html",
        context! {
            p => context! {
                name => p.name.clone(), url => p.url.clone(), max_tlp => p.max_tlp.as_str(),
                countries => p.countries.iter().map(|c| c.code().to_string()).collect::<Vec<_>>(),
                kinds => p.kinds.clone(),
                approved_at => p.approved_at, terms_changed_at => p.terms_changed_at,
            },
            rules, digest => preview.digest, incidents => preview.incidents, by_tlp,
            retractions => preview.retractions, sample, sent, received,
            items_by_kind => preview.items_by_kind.iter().map(|(k, n)| context! { kind => k.as_str(), n => *n }).collect::<Vec<_>>(),
            item_sample => preview.item_sample,
            notice => o.notice, error => o.error, invalid_field,
        },
    ))
}

/// `GET /partners/{name}` (admins).
pub async fn partner_page(
    State(st): State<AppState>,
    wu: WebUser,
    Path(name): Path<String>,
) -> WebResult {
    render_partner(&st, &wu, &name, StatusCode::OK, Outcome::default()).await
}

/// `POST /partners/{name}` (CSRF-checked, admins): `action=redact` with `redact` once per
/// ticked rule (none: withhold nothing more), or `action=approve` with `terms`, the digest of
/// the terms the page previewed. A refusal shows the page again with the reason.
pub async fn partner_act(
    State(st): State<AppState>,
    wu: WebUser,
    Path(name): Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let app = st.app();
    let value = |k: &str| {
        fields
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let done: Result<String, ApiError> = match value("action").as_str() {
        "redact" => {
            let rules: Vec<&str> = fields
                .iter()
                .filter(|(k, _)| k == "redact")
                .map(|(_, v)| v.as_str())
                .collect();
            app.set_partner_redaction((&wu.user).into(), &name, &rules)
                .await
                .map(|p| wu.t("partner.redaction_set", &[("name", p.name)]))
                .map_err(ApiError::from)
        }
        "approve" => app
            .approve_partner((&wu.user).into(), &name, &value("terms"))
            .await
            .map(|p| wu.t("partner.approved", &[("name", p.name)]))
            .map_err(ApiError::from),
        _ => Err(ApiError::field("action", "expected redact or approve")),
    };
    let o = match done {
        Ok(n) => Outcome {
            notice: Some(n),
            ..Outcome::default()
        },
        Err(e)
            if e.status.is_client_error()
                && e.status != StatusCode::NOT_FOUND
                && e.status != StatusCode::FORBIDDEN =>
        {
            let status = e.status;
            let o = Outcome {
                error: Some(wu.reason(&e.message)),
                field: e.field.clone(),
                ..Outcome::default()
            };
            return render_partner(&st, &wu, &name, status, o).await;
        }
        Err(e) => return Err(e.into()),
    };
    render_partner(&st, &wu, &name, StatusCode::OK, o).await
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
            kinds => p.kinds.clone(),
            added_at => p.added_at, approved => p.approved_at.is_some(),
            sent => a.sent, sent_retracted => a.sent_retracted, last_sent => a.last_sent,
            received => a.received, received_retracted => a.received_retracted,
            last_received => a.last_received,
        });
    }
    let ceilings: Vec<&str> = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict]
        .into_iter()
        .map(Tlp::as_str)
        .collect();
    let groups = app.sharing_groups((&wu.user).into()).await?;
    let invalid_field = o.field.clone();
    Ok(page(
        st,
        wu,
        status,
        "partners.html",
        context! {
            partners, groups, ceilings, own_key, record_kinds => tocsin_domain::share::RECORD_KINDS, notice => o.notice, error => o.error, invalid_field,
        },
    ))
}

/// `GET /partners`.
pub async fn partners(State(st): State<AppState>, wu: WebUser) -> WebResult {
    render(&st, &wu, StatusCode::OK, Outcome::default()).await
}

/// One action of the page's forms: `add` (name, url, key, max_tlp, countries as
/// comma-separated codes), `remove` (name), `issue_token` (name: a new token that partner
/// pushes and pulls here with, shown once), `push_token` (name, token: the one it issued
/// this installation, kept sealed), `group_add` or `group_members` (name, `members` once per
/// ticked partner) or `group_remove` (name).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
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
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let app = st.app();
    // A group's members and a partner's kinds come once per ticked box; the rest is one value
    // per field.
    let (members, rest): (Vec<_>, Vec<_>) = fields.into_iter().partition(|(k, _)| k == "members");
    let members: Vec<String> = members.into_iter().map(|(_, v)| v).collect();
    let (kinds, rest): (Vec<_>, Vec<_>) = rest.into_iter().partition(|(k, _)| k == "kinds");
    let kinds: Vec<String> = kinds.into_iter().map(|(_, v)| v).collect();
    let f: PartnerForm = serde_urlencoded::to_string(&rest)
        .ok()
        .and_then(|q| serde_urlencoded::from_str(&q).ok())
        .ok_or_else(|| {
            ApiError::field("action", "expected the fields of one of the page's forms")
        })?;
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
                    kinds,
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
        "group_add" => app
            .add_sharing_group(
                (&wu.user).into(),
                SharingGroupInput {
                    name: name.clone(),
                    members,
                },
            )
            .await
            .map(|g| wu.t("partners.group_added", &[("name", g.name)]))
            .map_err(ApiError::from),
        "group_members" => app
            .set_sharing_group_members((&wu.user).into(), &name, &members)
            .await
            .map(|g| wu.t("partners.group_changed", &[("name", g.name)]))
            .map_err(ApiError::from),
        "group_remove" => app
            .remove_sharing_group((&wu.user).into(), &name)
            .await
            .map(|()| {
                wu.t(
                    "partners.group_removed",
                    &[("name", name.trim().to_string())],
                )
            })
            .map_err(ApiError::from),
        _ => Err(ApiError::field(
            "action",
            "expected add, remove, issue_token, push_token, group_add, group_members or \
             group_remove",
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
