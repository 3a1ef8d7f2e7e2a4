//! The `/share` page, for roles that may share ([`Permission::ShareExport`]: admins and
//! analysts; [`Permission::ShareImport`]: analysts): download a STIX 2.1 bundle of what may
//! leave, the TLP ceiling chosen (the form asks `GET /api/v1/share/stix`), and upload another
//! organisation's bundle, naming it, with the result shown (counts and every refused object
//! with its reason). The rules are the application layer's ([`tocsin_app::share`]).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Router;
use minijinja::context;
use tocsin_app::share::ReceiveSummary;
use tocsin_domain::{Permission, Tlp};

use super::{page, WebError, WebResult, WebUser};
use crate::auth::same;
use crate::files::read_multipart;
use crate::share::{read_stix, receive_status, MAX_BUNDLE_BYTES};
use crate::AppState;
use tocsin_app::bundles::BundleError;

/// `/share`.
pub fn router() -> Router<AppState> {
    use axum::routing::get;
    Router::new()
        .route(
            "/share",
            get(share_page)
                .post(upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    MAX_BUNDLE_BYTES + 64 * 1024,
                )),
        )
        .route("/share/bundle", axum::routing::post(partner_bundle))
        .route("/share/sync", axum::routing::post(sync_now))
        .route("/share/received", get(received_page))
        .route("/share/received/{id}/note", axum::routing::post(note))
}

async fn received_render(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    error: Option<String>,
) -> WebResult {
    let items = st.app().received_items(&wu.user).await?;
    Ok(page(
        st,
        wu,
        status,
        "share_received.html",
        context! {
            items,
            can_note => wu.user.can(Permission::ShareImport),
            error,
        },
    ))
}

/// `GET /share/received`: assessments, alerts, rumours and actions received from partner
/// organisations, read-only, each with its origin and this organisation's note.
pub async fn received_page(State(st): State<AppState>, wu: WebUser) -> WebResult {
    received_render(&st, &wu, StatusCode::OK, None).await
}

/// The note form of a received item.
#[derive(serde::Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    note: String,
}

/// `POST /share/received/{id}/note`: keep (or clear) this organisation's note on a received
/// item, then back to the list.
pub async fn note(
    State(st): State<AppState>,
    wu: WebUser,
    axum::extract::Path(id): axum::extract::Path<String>,
    super::CsrfForm(f): super::CsrfForm<NoteForm>,
) -> WebResult {
    use axum::response::IntoResponse;
    let id = super::path_id(&id)?;
    match st.app().note_received_item(&wu.user, id, &f.note).await {
        Ok(_) => {
            Ok(axum::response::Redirect::to(&format!("/share/received#item-{id}")).into_response())
        }
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            if !e.status.is_client_error() || e.status == StatusCode::NOT_FOUND {
                return Err(e.into());
            }
            let msg = super::refusal::human(wu.lang, &e, |_| Some(wu.t("received.note", &[])));
            received_render(&st, &wu, e.status, Some(msg)).await
        }
    }
}

fn render(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    from: &str,
    result: Option<&ReceiveSummary>,
    error: Option<String>,
) -> WebResult {
    render_with(st, wu, status, from, result, error, None)
}

fn render_with(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    from: &str,
    result: Option<&ReceiveSummary>,
    error: Option<String>,
    sync: Option<Vec<minijinja::Value>>,
) -> WebResult {
    if !wu.user.can(Permission::ShareExport) && !wu.user.can(Permission::ShareImport) {
        return Err(tocsin_app::AppError::forbidden(Permission::ShareExport).into());
    }
    // The ceilings a STIX bundle may have, up to the reader's clearance.
    let ceilings: Vec<&str> = [Tlp::Clear, Tlp::Green, Tlp::Amber]
        .into_iter()
        .filter(|t| wu.user.may_see(*t))
        .map(Tlp::as_str)
        .collect();
    Ok(page(
        st,
        wu,
        status,
        "share.html",
        context! {
            can_export => wu.user.can(Permission::ShareExport),
            can_sync => wu.user.can(Permission::ShareExport) && wu.user.can(Permission::ShareImport),
            sync,
            can_import => wu.user.can(Permission::ShareImport),
            ceilings,
            organisation => st.organisation_name.to_string(),
            from,
            result => result.map(|r| context! {
                created => r.created, updated => r.updated, retracted => r.retracted,
                unchanged => r.unchanged, ignored => r.ignored,
                refused => r.refused.iter().map(|x| context! { id => x.id.clone(), reason => x.reason.clone() }).collect::<Vec<_>>(),
            }),
            error,
            invalid_field => error_field(status),
        },
    ))
}

fn error_field(status: StatusCode) -> Option<&'static str> {
    (status == StatusCode::BAD_REQUEST || status == StatusCode::PAYLOAD_TOO_LARGE).then_some("file")
}

/// `GET /share`: the download form and the upload form.
pub async fn share_page(State(st): State<AppState>, wu: WebUser) -> WebResult {
    render(&st, &wu, StatusCode::OK, "", None, None)
}

/// `POST /share` (multipart: `from`, `file`, `csrf`): receive a bundle and show how it went.
pub async fn upload(
    State(st): State<AppState>,
    wu: WebUser,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> WebResult {
    let body = body.map_err(|e| {
        WebError::new(
            e.status(),
            "Invalid request",
            wu.t(
                "share.too_large",
                &[("size", (MAX_BUNDLE_BYTES / 1024 / 1024).to_string())],
            ),
        )
    })?;
    let mp = read_multipart(&headers, body).await?;
    if !mp
        .field("csrf")
        .is_some_and(|c| same(c, &wu.session.csrf_token))
    {
        return Err(WebError::csrf());
    }
    let from = mp.field("from").unwrap_or("").trim().to_string();
    if !wu.user.can(Permission::ShareImport) {
        return Err(tocsin_app::AppError::forbidden(Permission::ShareImport).into());
    }
    if let Err(e) = tocsin_domain::share::origin_name(&from) {
        let msg = wu.t("share.name_origin", &[]);
        let _ = e;
        return render(
            &st,
            &wu,
            StatusCode::UNPROCESSABLE_ENTITY,
            &from,
            None,
            Some(msg),
        );
    }
    let Some(file) = mp.files.into_iter().next() else {
        let msg = wu.t("share.no_file", &[]);
        return render(&st, &wu, StatusCode::BAD_REQUEST, &from, None, Some(msg));
    };
    if is_partner_bundle(&file) {
        // A partner's signed bundle: checked whole with that partner's key before anything is
        // stored, as `tocsin share import` does.
        let who = (&wu.user).into();
        return match st
            .app()
            .receive_partner_bundle(who, &from, file, MAX_BUNDLE_BYTES)
            .await
        {
            Ok(summary) => render(
                &st,
                &wu,
                receive_status(&summary),
                &from,
                Some(&summary),
                None,
            ),
            Err(BundleError::App(e)) => Err(e.into()),
            Err(BundleError::Refused(why)) => {
                let msg = wu.t("share.malformed", &[("why", why)]);
                render(&st, &wu, StatusCode::BAD_REQUEST, &from, None, Some(msg))
            }
            Err(e @ BundleError::Transfer(_)) => {
                let msg = wu.t("share.malformed", &[("why", e.to_string())]);
                render(&st, &wu, StatusCode::BAD_REQUEST, &from, None, Some(msg))
            }
        };
    }
    let bundle = match tokio::task::spawn_blocking(move || read_stix(&file, MAX_BUNDLE_BYTES)).await
    {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            let msg = wu.t("share.malformed", &[("why", e.to_string())]);
            return render(&st, &wu, StatusCode::BAD_REQUEST, &from, None, Some(msg));
        }
        Err(e) => {
            return Err(WebError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Error",
                e.to_string(),
            ))
        }
    };
    let summary = st
        .app()
        .receive_stix((&wu.user).into(), &from, bundle)
        .await?;
    render(
        &st,
        &wu,
        receive_status(&summary),
        &from,
        Some(&summary),
        None,
    )
}

/// Whether `file` is a partner's signed bundle (its first line the header naming
/// [`tocsin_exchange::bundle::BUNDLE_FORMAT`]) rather than a plain STIX bundle.
fn is_partner_bundle(file: &[u8]) -> bool {
    let first = file.split(|b| *b == b'\n').next().unwrap_or_default();
    serde_json::from_slice::<serde_json::Value>(first)
        .is_ok_and(|h| h["format"] == tocsin_exchange::bundle::BUNDLE_FORMAT)
}

/// The `/share` form asking for a partner's signed bundle.
#[derive(serde::Deserialize)]
pub struct BundleForm {
    partner: String,
}

/// `POST /share/bundle` (CSRF-checked; field `partner`): the signed bundle of what may cross
/// to that partner, as a download (what `tocsin share export` writes), recorded as sent and
/// audited once made; a refusal (no such partner, a role that may not export) shows the page
/// with the reason.
pub async fn partner_bundle(
    State(st): State<AppState>,
    wu: WebUser,
    super::CsrfForm(f): super::CsrfForm<BundleForm>,
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    let app = st.app();
    let by = (&wu.user).into();
    let org = crate::share::org(&st).await.map_err(WebError::from)?;
    let made = match app.make_partner_bundle(by, f.partner.trim(), org).await {
        Ok(m) => m,
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            if !e.status.is_client_error() || e.status == StatusCode::FORBIDDEN {
                return Err(e.into());
            }
            let msg = wu.reason(&e.message);
            return render(&st, &wu, e.status, "", None, Some(msg))
                .map(IntoResponse::into_response);
        }
    };
    let bytes = made.bytes.clone();
    let file = format!(
        "attachment; filename=\"{}.tocsin\"",
        made.partner
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
    );
    app.record_partner_bundle(by, made).await?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.tocsin.bundle".to_string(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, file),
            (axum::http::header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// `POST /share/sync` (CSRF-checked): exchange with every partner this installation holds a
/// token for now, as the `partner-sync` schedule does (push what it lacks, then pull what it
/// made for us), and show how each went.
pub async fn sync_now(
    State(st): State<AppState>,
    wu: WebUser,
    super::CsrfForm(_): super::CsrfForm<std::collections::HashMap<String, String>>,
) -> WebResult {
    let org = crate::share::org(&st).await.map_err(WebError::from)?;
    let outcomes = st.app().sync_partners((&wu.user).into(), org).await?;
    let rows = outcomes
        .into_iter()
        .map(|o| {
            context! {
                partner => o.partner,
                push => o.push.as_ref().ok().map(|p| context! {
                    pages => p.pages, sent => p.sent, retractions => p.retractions,
                    already => p.already_there,
                }),
                push_error => o.push.as_ref().err().map(|e| wu.reason(e)),
                pull => o.pull.as_ref().ok().map(|p| context! {
                    pages => p.pages, created => p.stored.created, updated => p.stored.updated,
                    retracted => p.stored.retracted, refused => p.stored.refused.len(),
                }),
                pull_error => o.pull.as_ref().err().map(|e| wu.reason(e)),
            }
        })
        .collect();
    render_with(&st, &wu, StatusCode::OK, "", None, None, Some(rows))
}
