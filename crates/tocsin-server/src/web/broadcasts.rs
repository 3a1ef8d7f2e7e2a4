//! Web pages of broadcasts: the list `/broadcasts` (with the global stop switch for admins),
//! the composer `/broadcasts/new` (texts per language with their SMS length counted as they
//! are typed by `assets/broadcast.js`, the area as countries, admin1 areas, a circle or a
//! polygon — drawn by clicks on the offline MapLibre map, which fills the typed corners
//! field, still there without WebGL or JavaScript — the figures (recipients, km², corners
//! kept once simplified, time to send per gateway) refreshed as the area changes from
//! `POST /api/v1/broadcasts/estimate`, and a "Check" button showing them without
//! JavaScript), and a broadcast's page (counts refreshing while it sends, approve / cancel /
//! correct). Test and live broadcasts look unmistakably different on every page: a striped
//! TEST banner or a red LIVE banner, and the word in the title. The rules are the
//! application layer's ([`tocsin_app::broadcasts`]).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Router;
use minijinja::context;
use serde::Deserialize;
use std::collections::BTreeMap;
use tocsin_app::broadcasts::{BroadcastEstimate, BroadcastInput};
use tocsin_domain::broadcast::LANGUAGES;
use tocsin_domain::{BroadcastAnswers, BroadcastState, PageRequest, Permission};

use super::{next_url, page, path_id, CsrfForm, WebResult, WebUser};
use crate::error::ApiError;
use crate::input::parse_query;
use crate::AppState;

/// `/broadcasts`, `/broadcasts/new`, `/broadcasts/stop`, `/broadcasts/{id}` and its moves.
pub fn router() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/broadcasts", get(list).post(create))
        .route("/broadcasts/new", get(new_form))
        .route("/broadcasts/stop", post(stop))
        .route("/broadcasts/{id}", get(detail))
        .route("/broadcasts/{id}/approve", post(approve))
        .route("/broadcasts/{id}/cancel", post(cancel))
        .route("/broadcasts/{id}/correct", post(correct))
}

/// A refusal shown on the page (client errors other than 404); others are error pages.
fn on_form(wu: &WebUser, e: tocsin_app::AppError) -> Result<(StatusCode, String), super::WebError> {
    let e = ApiError::from(e);
    if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND {
        Ok((e.status, wu.reason(&e.message)))
    } else {
        Err(e.into())
    }
}

/// Broadcasts on a page of the list.
pub const LIST_PAGE: u32 = 50;

/// The list's position.
#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub struct ListQuery {
    /// Where the page starts (the previous page's last broadcast).
    #[serde(default)]
    cursor: String,
}

/// `GET /broadcasts`: the broadcasts with their counts, newest first, paged with the total,
/// and the stop switch.
pub async fn list(State(st): State<AppState>, wu: WebUser, RawQuery(q): RawQuery) -> WebResult {
    let q: ListQuery = parse_query(q.as_deref())?;
    list_page(&st, &wu, StatusCode::OK, None, &q).await
}

async fn list_page(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    error: Option<String>,
    q: &ListQuery,
) -> WebResult {
    let app = st.app();
    let req =
        PageRequest::parse(Some(LIST_PAGE), Some(q.cursor.as_str())).map_err(ApiError::from)?;
    let (p, total) = app.list_broadcasts_page(&wu.user, req).await?;
    let next_url = next_url("/broadcasts", ListQuery::default(), &p.next_cursor);
    let paged = !q.cursor.is_empty();
    let shown = p.items.len();
    let items = p.items;
    let stop = app.stop_switch(&wu.user).await?;
    Ok(page(
        st,
        wu,
        status,
        "broadcasts.html",
        context! {
            items, error, total, shown, next_url, paged,
            stopped => stop.as_ref().is_some_and(|s| s.on),
            stop,
            can_compose => wu.user.can(Permission::BroadcastCompose),
            can_stop => wu.user.can(Permission::BroadcastStop),
        },
    ))
}

/// The composer as typed.
#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub struct ComposeForm {
    #[serde(default)]
    mode: String,
    #[serde(default)]
    text_en: String,
    #[serde(default)]
    text_fr: String,
    #[serde(default)]
    text_sw: String,
    #[serde(default)]
    text_ar: String,
    /// `countries`, `admin1`, `circle` or `polygon`.
    #[serde(default)]
    area_kind: String,
    /// Comma-separated ISO alpha-3 codes.
    #[serde(default)]
    countries: String,
    /// One `CAF: Ouaka` per line.
    #[serde(default)]
    admin1: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    radius_km: String,
    /// One `lat, lon` per line.
    #[serde(default)]
    polygon: String,
    /// `YYYY-MM-DDTHH:MM` in the user's time zone (UTC without one), empty for at once.
    #[serde(default)]
    send_at: String,
    #[serde(default)]
    rumour_id: String,
    #[serde(default)]
    risk_factor: String,
    /// A confirmed dangerous-speech flag this answers.
    #[serde(default)]
    flag_id: String,
    /// `check` (only show the estimate) or `create`.
    #[serde(default)]
    action: String,
}

impl ComposeForm {
    fn texts(&self) -> BTreeMap<String, String> {
        [
            ("en", &self.text_en),
            ("fr", &self.text_fr),
            ("sw", &self.text_sw),
            ("ar", &self.text_ar),
        ]
        .into_iter()
        .filter(|(_, t)| !t.trim().is_empty())
        .map(|(l, t)| (l.to_string(), t.replace("\r\n", "\n")))
        .collect()
    }

    /// The area's JSON, as the API takes it; errors name the form's field.
    fn area(&self) -> Result<serde_json::Value, String> {
        let num = |field: &str, v: &str| {
            v.trim()
                .parse::<f64>()
                .map_err(|_| format!("{field}: expected a number"))
        };
        match self.area_kind.as_str() {
            "countries" => Ok(serde_json::json!({
                "countries": self.countries.split([',', ' ']).map(str::trim)
                    .filter(|c| !c.is_empty()).collect::<Vec<_>>()
            })),
            "admin1" => {
                let mut v = Vec::new();
                for line in self.admin1.lines().filter(|l| !l.trim().is_empty()) {
                    let (c, n) = line
                        .split_once(':')
                        .ok_or("admin1: write one area per line as COUNTRY: name")?;
                    v.push(serde_json::json!({"country": c.trim(), "name": n.trim()}));
                }
                Ok(serde_json::json!({ "admin1": v }))
            }
            "circle" => Ok(serde_json::json!({"circle": {
                "lat": num("lat", &self.lat)?,
                "lon": num("lon", &self.lon)?,
                "radius_km": num("radius_km", &self.radius_km)?,
            }})),
            "polygon" => {
                let mut ring = Vec::new();
                for (i, line) in self
                    .polygon
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .enumerate()
                {
                    let (a, b) = line
                        .split_once([',', ' ', ';'])
                        .ok_or_else(|| format!("polygon: line {}: write lat, lon", i + 1))?;
                    ring.push([num("polygon", b)?, num("polygon", a)?]);
                }
                if let (Some(f), Some(l)) = (ring.first().copied(), ring.last().copied()) {
                    if f != l {
                        ring.push(f);
                    }
                }
                Ok(serde_json::json!({"polygon": {"type": "Polygon", "coordinates": [ring]}}))
            }
            _ => Err("area_kind: choose countries, admin1 areas, a circle or a polygon".into()),
        }
    }

    /// The broadcast as typed, its time to send read in `zone` (UTC when `None`).
    fn input(&self, zone: Option<&str>) -> Result<BroadcastInput, String> {
        let zone_name = zone.unwrap_or("UTC");
        let send_at = match self.send_at.trim() {
            "" => None,
            s => {
                let typed = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
                    .map_err(|_| format!("send_at: expected a date and time ({zone_name})"))?;
                Some(tocsin_domain::time::from_local(typed, zone).ok_or_else(|| {
                    format!("send_at: {s} does not exist in {zone_name} (the clocks skip it)")
                })?)
            }
        };
        let answers = match (
            self.rumour_id.trim(),
            self.risk_factor.trim(),
            self.flag_id.trim(),
        ) {
            ("", "", "") => None,
            (r, "", "") => Some(BroadcastAnswers::Rumour(
                uuid::Uuid::parse_str(r).map_err(|_| "rumour_id: not a valid id".to_string())?,
            )),
            ("", f, "") => {
                Some(BroadcastAnswers::RiskFactor(f.parse().map_err(|_| {
                    "risk_factor: expected a risk factor's number".to_string()
                })?))
            }
            ("", "", f) => Some(BroadcastAnswers::SpeechFlag(
                uuid::Uuid::parse_str(f).map_err(|_| "flag_id: not a valid id".to_string())?,
            )),
            _ => {
                return Err(
                    "answers: a broadcast answers one rumour, risk factor or flag, \
                     not several"
                        .into(),
                )
            }
        };
        Ok(BroadcastInput {
            mode: self.mode.clone(),
            texts: self.texts(),
            area: self.area()?,
            send_at,
            answers,
        })
    }
}

/// The composer as typed, with the figures of its area: `estimate` when the caller already
/// has them, else computed here when the area reads.
async fn compose_page(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    form: &ComposeForm,
    error: Option<String>,
    estimate: Option<BroadcastEstimate>,
) -> WebResult {
    let estimate = match (estimate, form.area()) {
        (Some(e), _) => Some(e),
        (None, Ok(area)) if !form.mode.is_empty() => st
            .app()
            .estimate_broadcast(&wu.user, &form.mode, &area, &form.texts())
            .await
            .ok(),
        _ => None,
    };
    Ok(page(
        st,
        wu,
        status,
        "broadcast_new.html",
        context! {
            form, error, estimate,
            languages => LANGUAGES,
            gateway => st.app().broadcast_gateway(),
            zone => wu.user.time_zone.clone().unwrap_or_else(|| "UTC".into()),
        },
    ))
}

/// `GET /broadcasts/new`: the composer (test mode preselected). `?flag=ID` (the flag page's
/// "answer with a counter-message") names the confirmed flag it answers and, when the flag
/// is in a report whose country the author may read, that country as the area.
pub async fn new_form(State(st): State<AppState>, wu: WebUser, RawQuery(q): RawQuery) -> WebResult {
    let q: NewQuery = parse_query(q.as_deref())?;
    let mut form = ComposeForm {
        mode: "test".into(),
        area_kind: "countries".into(),
        ..Default::default()
    };
    if let Some(id) = q.flag {
        form.flag_id = id.to_string();
        if let Ok(f) = st.app().get_flag(&wu.user, id).await {
            if let Some(r) = f.report_id {
                if let Ok(r) = st.app().get_report(&wu.user, r).await {
                    form.countries = r.country.map(|c| c.code().to_string()).unwrap_or_default();
                }
            }
        }
    }
    compose_page(&st, &wu, StatusCode::OK, &form, None, None).await
}

/// The composer's query: `flag`, a flag it answers.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewQuery {
    #[serde(default)]
    flag: Option<uuid::Uuid>,
}

/// `POST /broadcasts`: check the figures, or write the broadcast (pending approval).
pub async fn create(
    State(st): State<AppState>,
    wu: WebUser,
    CsrfForm(f): CsrfForm<ComposeForm>,
) -> WebResult {
    let input = match f.input(wu.user.time_zone.as_deref()) {
        Ok(i) => i,
        Err(msg) => {
            return compose_page(&st, &wu, StatusCode::BAD_REQUEST, &f, Some(msg), None).await
        }
    };
    if f.action == "check" {
        // An area the estimate refuses (an unknown admin1 name…) is said, not left blank.
        return match st
            .app()
            .estimate_broadcast(&wu.user, &input.mode, &input.area, &input.texts)
            .await
        {
            Ok(e) => compose_page(&st, &wu, StatusCode::OK, &f, None, Some(e)).await,
            Err(e) => {
                let (status, message) = on_form(&wu, e)?;
                compose_page(&st, &wu, status, &f, Some(message), None).await
            }
        };
    }
    match st.app().compose_broadcast(&wu.user, input).await {
        Ok(c) => Ok(Redirect::to(&format!("/broadcasts/{}", c.id)).into_response()),
        Err(e) => {
            let (status, message) = on_form(&wu, e)?;
            compose_page(&st, &wu, status, &f, Some(message), None).await
        }
    }
}

async fn detail_page(
    st: &AppState,
    wu: &WebUser,
    id: uuid::Uuid,
    status: StatusCode,
    error: Option<String>,
) -> WebResult {
    let v = st.app().get_broadcast(&wu.user, id).await?;
    let b = &v.broadcast;
    let own = b.author == wu.user.id;
    let state = b.state;
    Ok(page(
        st,
        wu,
        status,
        "broadcast.html",
        context! {
            error,
            area => serde_json::to_string(&b.area).unwrap_or_default(),
            area_summary => area_summary(&b.area),
            approved_by => b.approved_by().map(|e| e.by_name.clone()),
            refresh => matches!(state, BroadcastState::Approved | BroadcastState::Sending),
            can_approve => wu.user.can(Permission::BroadcastApprove) && state == BroadcastState::Pending,
            own,
            can_cancel => (wu.user.can(Permission::BroadcastApprove) || wu.user.can(Permission::BroadcastCompose))
                && state.may_become(BroadcastState::Cancelled),
            can_correct => wu.user.can(Permission::BroadcastCompose)
                && (state == BroadcastState::Sent
                    || (state == BroadcastState::Cancelled && b.at(BroadcastState::Sending).is_some())),
            v,
        },
    ))
}

/// A broadcast's area as a person reads it: "Countries: CAF, SSD", "Admin-1 areas: Ouaka
/// (CAF)", "A circle of 10 km around 6.50000, 20.50000", "A polygon of 4 corners: …".
pub fn area_summary(area: &serde_json::Value) -> String {
    let num = |v: &serde_json::Value| v.as_f64().map_or("?".into(), |x| format!("{x:.5}"));
    if let Some(cs) = area.get("countries").and_then(|v| v.as_array()) {
        let names: Vec<&str> = cs.iter().filter_map(|c| c.as_str()).collect();
        return format!("Countries: {}", names.join(", "));
    }
    if let Some(a) = area.get("admin1").and_then(|v| v.as_array()) {
        let names: Vec<String> = a
            .iter()
            .map(|x| {
                let s = |k: &str| x.get(k).and_then(|v| v.as_str()).unwrap_or("?").to_string();
                format!("{} ({})", s("name"), s("country"))
            })
            .collect();
        return format!("Admin-1 areas: {}", names.join(", "));
    }
    if let Some(c) = area.get("circle") {
        return format!(
            "A circle of {} km around {}, {}",
            c.get("radius_km").and_then(|v| v.as_f64()).unwrap_or(0.0),
            num(&c["lat"]),
            num(&c["lon"])
        );
    }
    if let Some(ring) = area
        .get("polygon")
        .and_then(|p| p.get("coordinates"))
        .and_then(|c| c.get(0))
        .and_then(|r| r.as_array())
    {
        // The ring closes on its first corner: that one is listed once.
        let corners: Vec<String> = ring
            .iter()
            .take(ring.len().saturating_sub(1).max(1))
            .map(|p| format!("{}, {}", num(&p[1]), num(&p[0])))
            .collect();
        return format!(
            "A polygon of {} corners (lat, lon): {}",
            corners.len(),
            corners.join("; ")
        );
    }
    serde_json::to_string(area).unwrap_or_default()
}

/// `GET /broadcasts/{id}`: a broadcast's page.
pub async fn detail(State(st): State<AppState>, wu: WebUser, Path(id): Path<String>) -> WebResult {
    detail_page(&st, &wu, path_id(&id)?, StatusCode::OK, None).await
}

/// An empty form (the CSRF token only).
#[derive(Debug, Deserialize)]
pub struct Empty {}

/// `POST /broadcasts/{id}/approve`.
pub async fn approve(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult {
    let id = path_id(&id)?;
    match st.app().approve_broadcast(&wu.user, id).await {
        Ok(_) => Ok(Redirect::to(&format!("/broadcasts/{id}")).into_response()),
        Err(e) => {
            let (status, message) = on_form(&wu, e)?;
            detail_page(&st, &wu, id, status, Some(message)).await
        }
    }
}

/// The cancel form.
#[derive(Debug, Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    reason: String,
}

/// `POST /broadcasts/{id}/cancel`.
pub async fn cancel(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<CancelForm>,
) -> WebResult {
    let id = path_id(&id)?;
    match st
        .app()
        .cancel_broadcast(&wu.user, id, Some(f.reason))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/broadcasts/{id}")).into_response()),
        Err(e) => {
            let (status, message) = on_form(&wu, e)?;
            detail_page(&st, &wu, id, status, Some(message)).await
        }
    }
}

/// `POST /broadcasts/{id}/correct`: prepare the correction (prefilled) and open it.
pub async fn correct(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult {
    let id = path_id(&id)?;
    match st.app().correct_broadcast(&wu.user, id, None).await {
        Ok(c) => Ok(Redirect::to(&format!("/broadcasts/{}", c.id)).into_response()),
        Err(e) => {
            let (status, message) = on_form(&wu, e)?;
            detail_page(&st, &wu, id, status, Some(message)).await
        }
    }
}

/// The stop switch form.
#[derive(Debug, Deserialize)]
pub struct StopForm {
    /// `on` or `off`.
    on: String,
    #[serde(default)]
    reason: String,
}

/// `POST /broadcasts/stop`: the global stop switch (admins).
pub async fn stop(
    State(st): State<AppState>,
    wu: WebUser,
    CsrfForm(f): CsrfForm<StopForm>,
) -> WebResult {
    match st
        .app()
        .set_stop_switch(&wu.user, f.on == "on", Some(f.reason))
        .await
    {
        Ok(_) => Ok(Redirect::to("/broadcasts").into_response()),
        Err(e) => {
            let (status, message) = on_form(&wu, e)?;
            list_page(&st, &wu, status, Some(message), &ListQuery::default()).await
        }
    }
}
