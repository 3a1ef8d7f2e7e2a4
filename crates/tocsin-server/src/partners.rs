//! Partner organisations and the signed bundles exchanged with them over HTTP (issue 20):
//! `GET`/`POST /api/v1/partners` and `DELETE /api/v1/partners/{name}` (admins), and
//! `POST`/`GET /api/v1/share/bundles`, where a partner pushes a bundle here or pulls the one
//! made for it, authenticated by the token this installation issued it. What a bundle carries
//! and what is stored of one are the application layer's ([`tocsin_app::bundles`]).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use tocsin_app::bundles::BundleError;
use tocsin_app::share::ReceiveSummary;
use tocsin_app::{Acting, App};
use tocsin_domain::{Partner, PartnerInput, SharingGroup, SharingGroupInput};

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::JsonBody;
use crate::AppState;

/// The largest bundle `POST /api/v1/share/bundles` takes.
pub const MAX_PUSH_BYTES: usize = tocsin_app::bundles::MAX_TRANSFER_BYTES;

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
    match app
        .receive_partner_bundle(
            Acting::Operator(&who),
            &partner.name,
            body.to_vec(),
            MAX_PUSH_BYTES,
        )
        .await
    {
        Ok(s) => Ok((crate::share::receive_status(&s), Json(s)).into_response()),
        Err(BundleError::App(e)) => Err(e.into()),
        Err(BundleError::Refused(why)) => Err(ApiError::field(
            "body",
            format!("nothing was stored: {why}"),
        )),
        Err(e @ BundleError::Transfer(_)) => Err(ApiError::field("body", e.to_string())),
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

/// Query parameters of `GET /api/v1/share/bundles`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// The cursor the last page stored gave (its header's `page.next`); none: from the start.
    pub after: Option<String>,
    /// Records per page (1 to 100,000; default 10,000).
    pub limit: Option<usize>,
}

/// `GET /api/v1/share/bundles?after=CURSOR&limit=N`: a partner pulls the signed page of what
/// may cross to it after `after` (in version time then id order), authenticated by the token
/// this installation issued it; the page's header says where it ends and whether more follow,
/// and the last one carries the retractions of what no longer crosses. Each page is recorded
/// as sent to it and audited. 401 without a partner's token; 400 for a bad cursor.
#[utoipa::path(get, path = "/api/v1/share/bundles", tag = "share", params(PageQuery),
    responses((status = 200, description = "a signed bundle (application/vnd.tocsin.bundle)"),
        (status = 400), (status = 401)),
    security(("bearer" = [])))]
pub async fn serve_pulled_bundle(
    State(st): State<AppState>,
    headers: axum::http::HeaderMap,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let app = st.app();
    let partner = calling_partner(&app, &headers).await?;
    let q: PageQuery = crate::input::parse_query(q.as_deref())?;
    let after = q
        .after
        .as_deref()
        .filter(|a| !a.trim().is_empty())
        .map(tocsin_domain::SyncCursor::parse)
        .transpose()
        .map_err(tocsin_app::AppError::from)?;
    let limit = match q.limit {
        None => tocsin_app::bundles::DEFAULT_PAGE_RECORDS,
        Some(n) if (1..=tocsin_app::bundles::MAX_PAGE_RECORDS).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::field(
                "limit",
                "expected 1 to 100000 records per page",
            ))
        }
    };
    let who = format!("partner:{}", partner.name);
    let by = Acting::Operator(&who);
    let org = crate::share::org(&st).await?;
    let made = app
        .make_partner_page(by, &partner.name, org, after, limit)
        .await?;
    let bytes = made.bytes.clone();
    app.record_partner_bundle(by, made).await?;
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

/// The `partner-sync` job: every `every`, exchange with each partner this installation holds
/// a token for ([`App::sync_partners`]: push what it lacks, pull what it made for us; each
/// resumes where a cut one stopped). A singleton. Fails, so `/healthz` says so, when any
/// partner's exchange failed, naming the partner and why (never a token).
pub fn sync_job(
    st: &AppState,
    every: std::time::Duration,
    tolerance: std::time::Duration,
) -> tocsin_jobs::Job {
    let st = st.clone();
    tocsin_jobs::Job::new("partner-sync", every, move || {
        let st = st.clone();
        async move {
            let org = crate::share::org(&st)
                .await
                .map_err(|e| format!("partner sync: {}", e.message))?;
            let outcomes = st
                .app()
                .sync_partners(Acting::Operator("partner-sync"), org)
                .await
                .map_err(|e| format!("partner sync: {e}"))?;
            let mut failed = Vec::new();
            for o in outcomes {
                match (&o.push, &o.pull) {
                    (Ok(push), Ok(pull)) => tracing::info!(
                        partner = %o.partner,
                        pushed = push.sent,
                        retracted = push.retractions,
                        pulled_pages = pull.pages,
                        created = pull.stored.created,
                        updated = pull.stored.updated,
                        "partner sync"
                    ),
                    _ => {
                        let why = [
                            ("push", &o.push.as_ref().err()),
                            ("pull", &o.pull.as_ref().err()),
                        ]
                        .into_iter()
                        .filter_map(|(what, e)| e.map(|e| format!("{what}: {e}")))
                        .collect::<Vec<_>>()
                        .join("; ");
                        failed.push(format!("{}: {why}", o.partner));
                    }
                }
            }
            if failed.is_empty() {
                Ok(tocsin_jobs::Progress::done())
            } else {
                Err(format!("partner sync failed for {}", failed.join(" | ")).into())
            }
        }
    })
    .singleton()
    .tolerance(tolerance)
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

/// A partner's redaction rules.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedactionBody {
    /// What is withheld from every record sent to it: `place`, `date`, `actors`,
    /// `targeted_group`, `description`; empty: nothing beyond what never leaves.
    pub redact: Vec<String>,
}

/// An approval of a partner's terms as previewed.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalBody {
    /// The digest of the terms the preview showed (`digest` in its answer).
    pub terms: String,
}

/// `PUT /api/v1/partners/{name}/redaction`: set what is withheld from every record sent to the
/// partner (admins). Its terms are then unapproved until previewed and approved again.
#[utoipa::path(put, path = "/api/v1/partners/{name}/redaction", tag = "share",
    params(("name" = String, Path, description = "the partner's name")),
    request_body = RedactionBody,
    responses((status = 200, body = Partner), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn set_redaction(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    JsonBody(b): JsonBody<RedactionBody>,
) -> ApiResult<Json<Partner>> {
    Ok(Json(
        st.app()
            .set_partner_redaction((&user.0).into(), &name, &b.redact)
            .await?,
    ))
}

/// `GET /api/v1/partners/{name}/preview`: what would cross to the partner under its terms as
/// they stand (admins): counts by label, retractions, the first records as it would receive
/// them (redacted), and the terms' `digest` an approval names.
#[utoipa::path(get, path = "/api/v1/partners/{name}/preview", tag = "share",
    params(("name" = String, Path, description = "the partner's name")),
    responses((status = 200, description = "the preview: partner, digest, incidents, by_tlp, retractions, sample"),
        (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn preview(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
) -> ApiResult<Json<tocsin_app::bundles::PartnerPreview>> {
    Ok(Json(
        st.app().preview_partner((&user.0).into(), &name).await?,
    ))
}

/// `POST /api/v1/partners/{name}/approve`: approve the partner's terms as previewed (admins);
/// 409 when they changed since the preview. Records are sent to it from then on.
#[utoipa::path(post, path = "/api/v1/partners/{name}/approve", tag = "share",
    params(("name" = String, Path, description = "the partner's name")),
    request_body = ApprovalBody,
    responses((status = 200, body = Partner), (status = 403), (status = 404), (status = 409),
        (status = 422)),
    security(("bearer" = [])))]
pub async fn approve(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    JsonBody(b): JsonBody<ApprovalBody>,
) -> ApiResult<Json<Partner>> {
    Ok(Json(
        st.app()
            .approve_partner((&user.0).into(), &name, &b.terms)
            .await?,
    ))
}

/// `GET /api/v1/sharing-groups`: the sharing groups with their members (admins, and analysts
/// who share).
#[utoipa::path(get, path = "/api/v1/sharing-groups", tag = "share",
    responses((status = 200, body = Vec<SharingGroup>), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn list_sharing_groups(
    State(st): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<SharingGroup>>> {
    Ok(Json(st.app().sharing_groups((&user.0).into()).await?))
}

/// `POST /api/v1/sharing-groups`: make a sharing group of partners (admins). 409 when the name
/// is taken; 422 when a member is no partner or the name is a partner's.
#[utoipa::path(post, path = "/api/v1/sharing-groups", tag = "share",
    request_body = SharingGroupInput,
    responses((status = 201, body = SharingGroup), (status = 400), (status = 403),
        (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn add_sharing_group(
    State(st): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<SharingGroupInput>,
) -> ApiResult<(StatusCode, Json<SharingGroup>)> {
    let g = st.app().add_sharing_group((&user.0).into(), b).await?;
    Ok((StatusCode::CREATED, Json(g)))
}

/// A sharing group's members.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersBody {
    /// Its members from now on, partners by name (at least one).
    pub members: Vec<String>,
}

/// `PUT /api/v1/sharing-groups/{name}/members`: replace a sharing group's members (admins).
#[utoipa::path(put, path = "/api/v1/sharing-groups/{name}/members", tag = "share",
    params(("name" = String, Path, description = "the group's name")),
    request_body = MembersBody,
    responses((status = 200, body = SharingGroup), (status = 400), (status = 403),
        (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn set_group_members(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    JsonBody(b): JsonBody<MembersBody>,
) -> ApiResult<Json<SharingGroup>> {
    Ok(Json(
        st.app()
            .set_sharing_group_members((&user.0).into(), &name, &b.members)
            .await?,
    ))
}

/// `DELETE /api/v1/sharing-groups/{name}`: remove a sharing group (admins), and its name from
/// every record.
#[utoipa::path(delete, path = "/api/v1/sharing-groups/{name}", tag = "share",
    params(("name" = String, Path, description = "the group's name")),
    responses((status = 204), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn remove_sharing_group(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    st.app()
        .remove_sharing_group((&user.0).into(), &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who an incident is shared with: partners and sharing groups by name.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareWithBody {
    /// Partners and groups, by name; empty: whoever the incident's label allows.
    pub share_with: Vec<String>,
}

/// `GET /api/v1/incidents/{id}/share-with`: the partners and groups the incident is shared
/// with (analysts who share and can see it).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/share-with", tag = "share",
    params(("id" = uuid::Uuid, Path, description = "the incident")),
    responses((status = 200, body = ShareWithBody), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_share_with(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<Json<ShareWithBody>> {
    let share_with = st.app().share_with((&user.0).into(), id).await?;
    Ok(Json(ShareWithBody { share_with }))
}

/// `PUT /api/v1/incidents/{id}/share-with`: name the partners and groups the incident is shared
/// with (replacing what it named). A record naming anyone crosses only to those partners and
/// never into STIX; TLP:AMBER+STRICT crosses only to a partner so named. 422 for a name that
/// is no partner's nor group's (400).
#[utoipa::path(put, path = "/api/v1/incidents/{id}/share-with", tag = "share",
    params(("id" = uuid::Uuid, Path, description = "the incident")),
    request_body = ShareWithBody,
    responses((status = 200, body = ShareWithBody), (status = 400), (status = 403),
        (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn put_share_with(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<uuid::Uuid>,
    JsonBody(b): JsonBody<ShareWithBody>,
) -> ApiResult<Json<ShareWithBody>> {
    let share_with = st
        .app()
        .set_share_with((&user.0).into(), id, &b.share_with)
        .await?;
    Ok(Json(ShareWithBody { share_with }))
}

/// `/api/v1/partners…`, `/api/v1/sharing-groups…` and `/api/v1/incidents/{id}/share-with`.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{delete, get};
    axum::Router::new()
        .route("/partners", get(list_partners).post(add_partner))
        .route("/partners/{name}", delete(remove_partner))
        .route(
            "/partners/{name}/redaction",
            axum::routing::put(set_redaction),
        )
        .route("/partners/{name}/preview", get(preview))
        .route("/partners/{name}/approve", axum::routing::post(approve))
        .route(
            "/sharing-groups",
            get(list_sharing_groups).post(add_sharing_group),
        )
        .route("/sharing-groups/{name}", delete(remove_sharing_group))
        .route(
            "/sharing-groups/{name}/members",
            axum::routing::put(set_group_members),
        )
        .route(
            "/incidents/{id}/share-with",
            get(get_share_with).put(put_share_with),
        )
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
        serve_pulled_bundle,
        list_sharing_groups,
        add_sharing_group,
        remove_sharing_group,
        set_group_members,
        get_share_with,
        put_share_with,
        set_redaction,
        preview,
        approve
    ),
    components(schemas(
        Partner,
        PartnerInput,
        SharingGroup,
        SharingGroupInput,
        ShareWithBody,
        MembersBody,
        RedactionBody,
        ApprovalBody
    ))
)]
pub struct PartnersDoc;
