//! Partner organisations and the signed bundles exchanged with them (issue 20, parts 1, 3 and
//! 5): `GET`/`POST /api/v1/partners` and `DELETE /api/v1/partners/{name}` (admins), and the
//! functions `tocsin share export` and `tocsin share import` run: [`make_partner_bundle`] reads
//! what may cross to a partner ([`tocsin_app::share::may_cross`] at the partner's ceiling and
//! countries), adds a retraction for each record sent before that no longer crosses, and signs
//! it ([`tocsin_exchange::bundle`]); [`receive_partner_bundle`] checks a partner's bundle
//! whole before anything of it is stored. Over the network: [`push_partner_bundle`] posts a
//! bundle to the partner's `POST /api/v1/share/bundles` with the token that partner issued,
//! and [`receive_pushed_bundle`] takes one from a partner by the token this installation issued
//! it, with the same checks as a file.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use tocsin_app::share::{Audience, ReceiveSummary};
use tocsin_app::{Acting, App, AppError};
use tocsin_domain::{Partner, PartnerInput, SentRecord};
use tocsin_exchange::bundle::{open_bundle, write_bundle, BundleHeader, BundleMeta};
use tocsin_exchange::stix::{StixOrg, StixWriter};
use tocsin_store::DynStore;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::JsonBody;
use crate::AppState;

/// A bundle made for a partner, not yet handed over: its bytes, its header, and what it
/// carries (recorded by [`record_partner_bundle`] once the bundle is written out).
pub struct MadeBundle {
    /// The whole file.
    pub bytes: Vec<u8>,
    /// Its header.
    pub header: BundleHeader,
    /// The partner.
    pub partner: Partner,
    /// The records it carries (retractions with their time).
    pub records: Vec<SentRecord>,
}

impl MadeBundle {
    /// How many incidents it carries.
    pub fn incidents(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.retracted_at.is_none())
            .count()
    }

    /// How many retractions it carries.
    pub fn retractions(&self) -> usize {
        self.records.len() - self.incidents()
    }

    /// SHA-256 of the whole file (hex).
    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.bytes))
    }
}

fn io(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("the bundle could not be made: {e}"))
}

/// Make the signed bundle of what may cross to the partner `name`, as `who` from `org`.
pub async fn make_partner_bundle(
    app: &App<'_>,
    store: &DynStore,
    who: Acting<'_>,
    name: &str,
    org: StixOrg,
) -> tocsin_app::Result<MadeBundle> {
    let key = app.signing_key(who).await?;
    let ps = app.start_partner_share(who, name).await?;
    let partner_key = ps.partner.key()?;
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let (reader, filter) = (store.clone(), ps.scope.filter.clone());
    let scan = tokio::spawn(async move { reader.scan_incidents(&filter, tx).await });
    let meta = BundleMeta {
        origin: org.name.clone(),
        origin_instance: org.instance_id,
        partner: ps.partner.name.clone(),
        partner_key,
        created_at: tocsin_domain::time::now(),
    };
    let mut w = StixWriter::new(Vec::new(), org, ps.scope.max_tlp).map_err(io)?;
    let mut records = Vec::new();
    let mut crossing = HashSet::new();
    while let Some(chunk) = rx.recv().await {
        let shared = app
            .share_chunk(&ps.scope, Audience::Partner(&ps.partner.name), chunk)
            .await?;
        for i in &shared {
            w.write(i).map_err(io)?;
            crossing.insert(i.id);
            records.push(SentRecord {
                partner: ps.partner.name.clone(),
                record_id: i.id,
                modified: i.updated_at.max(i.created_at),
                tlp: i.tlp,
                retracted_at: None,
                sent_at: meta.created_at,
            });
        }
    }
    scan.await.map_err(io)??;
    // What was sent before and no longer crosses (refuted, relabelled, out of the partner's
    // terms now): a retraction, with the time it was first sent as one.
    let mut gone: Vec<&SentRecord> = ps
        .sent
        .values()
        .filter(|s| !crossing.contains(&s.record_id))
        .collect();
    gone.sort_by_key(|s| s.record_id);
    for s in gone {
        let at = s.retracted_at.unwrap_or(meta.created_at);
        w.write_revoked(s.record_id, &s.modified, &at, s.tlp)
            .map_err(io)?;
        records.push(SentRecord {
            retracted_at: Some(at),
            sent_at: meta.created_at,
            ..s.clone()
        });
    }
    let payload = w.finish().map_err(io)?;
    let mut bytes = Vec::with_capacity(payload.len() + 1024);
    let header = write_bundle(&mut bytes, &meta, &payload, &key).map_err(io)?;
    Ok(MadeBundle {
        bytes,
        header,
        partner: ps.partner,
        records,
    })
}

/// Remember what `made` carried as sent, and audit every record of it with the partner, the
/// bundle's SHA-256 and its signature: once the bundle is handed over (written out).
pub async fn record_partner_bundle(
    app: &App<'_>,
    who: Acting<'_>,
    made: MadeBundle,
) -> tocsin_app::Result<()> {
    let sha = made.sha256();
    app.record_partner_send(
        who,
        &made.partner,
        made.records,
        &sha,
        &made.header.signature,
    )
    .await
}

/// Why a partner's bundle was not received.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// Refused whole before anything was stored (bad signature, not for us, changed, not a
    /// bundle).
    #[error("nothing was stored: {0}")]
    Refused(String),
    /// A use case refused (no such partner, a role that may not import) or storage failed.
    #[error(transparent)]
    App(#[from] AppError),
}

/// Receive the bundle `bytes` from the partner `name` as `who`: checked whole first (made for
/// this installation, signed by that partner's key, not changed since; see
/// [`open_bundle`]), then its incidents stored labelled with the partner's name
/// ([`App::receive_partner_incidents`]: once per original id, a later version supersedes, a
/// retraction hides, TLP:RED refused), each batch audited with the bundle's SHA-256 and
/// signature.
pub async fn receive_partner_bundle(
    app: &App<'_>,
    who: Acting<'_>,
    name: &str,
    bytes: Vec<u8>,
    max_bytes: usize,
) -> Result<ReceiveSummary, ReceiveError> {
    let partner = app.partner_for_import(who, name).await?;
    let signer = partner.key().map_err(AppError::from)?;
    let me = app.signing_key(who).await?.public_key();
    let sha = hex::encode(Sha256::digest(&bytes));
    let (header, stix) = tokio::task::spawn_blocking(move || {
        let (header, payload) =
            open_bundle(&bytes, &partner.name, &signer, &me).map_err(|e| e.to_string())?;
        let stix = crate::share::read_stix(payload, max_bytes).map_err(|e| e.to_string())?;
        Ok::<_, String>((header, stix))
    })
    .await
    .map_err(io)?
    .map_err(ReceiveError::Refused)?;
    let summary = ReceiveSummary {
        ignored: stix.ignored,
        refused: stix.refused,
        ..Default::default()
    };
    let provenance = serde_json::json!({
        "partner": name.trim(),
        "bundle_sha256": sha,
        "signature": header.signature,
        "bundle_origin": header.origin,
        "bundle_created_at": header.created_at,
    });
    Ok(app
        .receive_partner_incidents(who, name.trim(), stix.incidents, summary, provenance)
        .await?)
}

/// The largest bundle `POST /api/v1/share/bundles` takes.
pub const MAX_PUSH_BYTES: usize = 256 * 1024 * 1024;

/// Why a push did not land.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// A use case refused or failed.
    #[error(transparent)]
    App(#[from] AppError),
    /// The partner could not be reached.
    #[error("the partner could not be reached: {0}")]
    Network(String),
    /// The partner refused the bundle.
    #[error("the partner refused the bundle ({status}): {message}")]
    Refused {
        /// Its HTTP status.
        status: u16,
        /// What it said.
        message: String,
    },
}

/// Push `made` to its partner's `POST {url}/api/v1/share/bundles` with the token that
/// partner issued; answers what the partner stored. Only after the partner took it is the
/// bundle recorded as sent ([`record_partner_bundle`]).
pub async fn push_partner_bundle(
    app: &App<'_>,
    who: Acting<'_>,
    made: MadeBundle,
) -> Result<ReceiveSummary, PushError> {
    let token = app.partner_push_token(who, &made.partner).await?;
    let url = format!(
        "{}/api/v1/share/bundles",
        made.partner.url.trim_end_matches('/')
    );
    let resp = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .map_err(|e| PushError::Network(e.to_string()))?
        .post(&url)
        .bearer_auth(token)
        .header("content-type", "application/vnd.tocsin.bundle")
        .body(made.bytes.clone())
        .send()
        .await
        .map_err(|e| PushError::Network(e.to_string()))?;
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| PushError::Network(e.to_string()))?;
    if !status.is_success() {
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| text.chars().take(300).collect());
        return Err(PushError::Refused {
            status: status.as_u16(),
            message,
        });
    }
    let summary: ReceiveSummary = serde_json::from_str(&text).map_err(|e| {
        PushError::Network(format!(
            "the partner's answer is not a receive summary: {e}"
        ))
    })?;
    record_partner_bundle(app, who, made).await?;
    Ok(summary)
}

/// `POST /api/v1/share/bundles`: a partner pushes a signed bundle (the body, at most 256 MiB),
/// authenticated by the token this installation issued it (`tocsin partner token`) as a
/// bearer token. The bundle is checked whole as a file import is (made for this installation,
/// signed with that partner's key, unchanged): otherwise 400 and nothing stored. 200 with the
/// counts; 401 without a partner's token.
#[utoipa::path(post, path = "/api/v1/share/bundles", tag = "share",
    request_body(content = String, content_type = "application/vnd.tocsin.bundle"),
    responses((status = 200, body = ReceiveSummary), (status = 400), (status = 401),
        (status = 413), (status = 422, body = ReceiveSummary)),
    security(("bearer" = [])))]
pub async fn receive_pushed_bundle(
    State(st): State<AppState>,
    req: axum::extract::Request,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    // Who is calling first: a caller without a partner's token costs no body read.
    let app = st.app();
    let partner = calling_partner(&app, req.headers()).await?;
    let body = axum::body::to_bytes(req.into_body(), MAX_PUSH_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the bundle is larger than {MAX_PUSH_BYTES} bytes"),
            )
        })?;
    let who = format!("partner:{}", partner.name);
    match receive_partner_bundle(
        &app,
        Acting::Operator(&who),
        &partner.name,
        body.to_vec(),
        MAX_PUSH_BYTES,
    )
    .await
    {
        Ok(s) => Ok((crate::share::receive_status(&s), Json(s)).into_response()),
        Err(ReceiveError::Refused(why)) => Err(ApiError::field(
            "body",
            format!("nothing was stored: {why}"),
        )),
        Err(ReceiveError::App(e)) => Err(e.into()),
    }
}

/// The partner whose token (issued here) a request carries as its bearer token; 401 else.
async fn calling_partner(
    app: &App<'_>,
    headers: &axum::http::HeaderMap,
) -> Result<Partner, ApiError> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(ApiError::unauthorized)?;
    app.partner_by_token(token)
        .await?
        .ok_or_else(ApiError::unauthorized)
}

/// `GET /api/v1/share/bundles`: a partner pulls the signed bundle made for it (what may cross
/// to it now, with the retractions of what no longer does), authenticated by the token this
/// installation issued it; the bundle is recorded as sent to it and audited. 401 without a
/// partner's token.
#[utoipa::path(get, path = "/api/v1/share/bundles", tag = "share",
    responses((status = 200, description = "a signed bundle (application/vnd.tocsin.bundle)"),
        (status = 401)),
    security(("bearer" = [])))]
pub async fn serve_pulled_bundle(
    State(st): State<AppState>,
    headers: axum::http::HeaderMap,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let app = st.app();
    let partner = calling_partner(&app, &headers).await?;
    let who = format!("partner:{}", partner.name);
    let by = Acting::Operator(&who);
    let org = crate::share::org(&st).await?;
    let made = make_partner_bundle(&app, &st.store, by, &partner.name, org).await?;
    let bytes = made.bytes.clone();
    record_partner_bundle(&app, by, made).await?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.tocsin.bundle",
            ),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response())
}

/// Pull the bundle the partner `name` made for this installation (`GET {url}/api/v1/share/bundles`
/// with the token it issued), then receive it as a file is received.
pub async fn pull_partner_bundle(
    app: &App<'_>,
    who: Acting<'_>,
    name: &str,
) -> Result<ReceiveSummary, PullError> {
    let partner = app.partner_for_import(who, name).await?;
    let token = app.partner_push_token(who, &partner).await?;
    let url = format!("{}/api/v1/share/bundles", partner.url.trim_end_matches('/'));
    let resp = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .map_err(|e| PushError::Network(e.to_string()))?
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| PushError::Network(e.to_string()))?;
    let status = resp.status();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| PushError::Network(e.to_string()))?;
    if !status.is_success() {
        let message = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or_default();
        return Err(PushError::Refused {
            status: status.as_u16(),
            message,
        }
        .into());
    }
    Ok(receive_partner_bundle(app, who, &partner.name, bytes.to_vec(), MAX_PUSH_BYTES).await?)
}

/// Why a pull did not land.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The partner could not be reached, refused, or a use case refused.
    #[error(transparent)]
    Push(#[from] PushError),
    /// The bundle it answered was refused, or storing it failed.
    #[error(transparent)]
    Receive(#[from] ReceiveError),
}

impl From<AppError> for PullError {
    fn from(e: AppError) -> Self {
        PullError::Push(PushError::App(e))
    }
}

/// `GET /api/v1/partners`: the partner organisations, by name (admins).
#[utoipa::path(get, path = "/api/v1/partners", tag = "share",
    responses((status = 200, body = Vec<Partner>), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn list_partners(
    State(st): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<Partner>>> {
    Ok(Json(st.app().list_partners((&user.0).into()).await?))
}

/// `POST /api/v1/partners`: add a partner organisation (admins): its name, base URL, public
/// signing key (what its `tocsin share key` prints), the highest label it may receive (never
/// TLP:RED) and the countries it is limited to. 409 when the name is taken.
#[utoipa::path(post, path = "/api/v1/partners", tag = "share", request_body = PartnerInput,
    responses((status = 201, body = Partner), (status = 400), (status = 403), (status = 409),
        (status = 422)),
    security(("bearer" = [])))]
pub async fn add_partner(
    State(st): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<PartnerInput>,
) -> ApiResult<(StatusCode, Json<Partner>)> {
    let p = st.app().add_partner((&user.0).into(), b).await?;
    Ok((StatusCode::CREATED, Json(p)))
}

/// `DELETE /api/v1/partners/{name}`: remove a partner (admins); what it sent stays, labelled
/// with its name.
#[utoipa::path(delete, path = "/api/v1/partners/{name}", tag = "share",
    params(("name" = String, Path, description = "the partner's name")),
    responses((status = 204), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn remove_partner(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    st.app().remove_partner((&user.0).into(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `/api/v1/partners…`
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{delete, get};
    axum::Router::new()
        .route("/partners", get(list_partners).post(add_partner))
        .route("/partners/{name}", delete(remove_partner))
        .route(
            "/share/bundles",
            axum::routing::post(receive_pushed_bundle)
                .get(serve_pulled_bundle)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_PUSH_BYTES)),
        )
}

/// The partner routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_partners,
        add_partner,
        remove_partner,
        receive_pushed_bundle,
        serve_pulled_bundle
    ),
    components(schemas(Partner, PartnerInput))
)]
pub struct PartnersDoc;
