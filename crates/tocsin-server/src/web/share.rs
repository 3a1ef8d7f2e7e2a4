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
use crate::share::{read_stix, receive_status, receive_stix, MAX_BUNDLE_BYTES};
use crate::AppState;

/// `/share`.
pub fn router() -> Router<AppState> {
    use axum::routing::get;
    Router::new().route(
        "/share",
        get(share_page)
            .post(upload)
            .layer(axum::extract::DefaultBodyLimit::max(
                MAX_BUNDLE_BYTES + 64 * 1024,
            )),
    )
}

fn render(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    from: &str,
    result: Option<&ReceiveSummary>,
    error: Option<String>,
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
    let summary = receive_stix(&st.app(), (&wu.user).into(), &from, bundle).await?;
    render(
        &st,
        &wu,
        receive_status(&summary),
        &from,
        Some(&summary),
        None,
    )
}
