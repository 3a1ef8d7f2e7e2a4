//! The public report form, `/report`: no login, works without JavaScript, takes no phone
//! number. Mounted beside the SMS endpoints (no access log, `Cache-Control: no-store`).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Router;
use minijinja::context;
use serde::Deserialize;

use super::{i18n, render, set_cookie};
use crate::auth::{random_secret, same};
use crate::AppState;
use tocsin_domain::Lang;

/// `GET|POST /report`, its body limit fitting a report's files (`[evidence]`).
pub fn router(limits: &tocsin_app::files::EvidenceLimits) -> Router<AppState> {
    use axum::routing::get;
    Router::new().route(
        "/report",
        get(report_form_page)
            .post(submit_report)
            .layer(axum::extract::DefaultBodyLimit::max(
                crate::files::body_limit(limits),
            )),
    )
}

const REPORT_CSRF_COOKIE: &str = "tocsin_report_csrf";

/// The form (again), in `lang`, with what was typed and why it was refused.
fn report_form(
    st: &AppState,
    status: StatusCode,
    lang: Lang,
    text: &str,
    place: &str,
    error: Option<&str>,
) -> Response {
    let csrf = random_secret();
    let mut r = render(
        st,
        status,
        "report_form.html",
        context! {
            form_csrf => csrf.clone(), text, place, error,
            lang => lang.code(), langs => i18n::menu(),
            can_reply => crate::sms::reply_gateway(&st.sms, None).is_some(),
            max_files => st.evidence.max_files,
            max_file => tocsin_app::files::human_size(st.evidence.max_file_bytes),
        },
    );
    r.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(st, REPORT_CSRF_COOKIE, &csrf, 3600),
    );
    r
}

/// The `?lang=` of the form's address.
#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// `GET /report`: the public report form (no login, works without JavaScript), in the
/// visitor's language (see [`i18n::negotiate`]); a language chosen in its menu is kept in a
/// cookie for a year.
pub async fn report_form_page(
    State(st): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, chosen) = page_lang(&headers, q.lang.as_deref());
    let mut r = report_form(&st, StatusCode::OK, lang, "", "", None);
    if chosen {
        r.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&st, i18n::LANG_COOKIE, lang.code(), 365 * 24 * 3600),
        );
    }
    r
}

/// The page's language for these headers and an explicit choice, if any.
fn page_lang(headers: &HeaderMap, asked: Option<&str>) -> (Lang, bool) {
    let (mut parts, _) = axum::http::Request::new(()).into_parts();
    parts.headers = headers.clone();
    i18n::negotiate(&parts, asked)
}

#[derive(Deserialize)]
pub struct ReportForm {
    csrf: String,
    text: String,
    place: Option<String>,
    lang: Option<String>,
}

/// The form as posted: URL-encoded (no files), or multipart with `file` parts (whose names and
/// declared types are never read).
async fn parse_form(headers: &HeaderMap, body: Bytes) -> Option<(ReportForm, Vec<Vec<u8>>)> {
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("multipart/form-data"));
    if !multipart {
        return serde_urlencoded::from_bytes::<ReportForm>(&body)
            .ok()
            .map(|f| (f, Vec::new()));
    }
    let mp = crate::files::read_multipart(headers, body).await.ok()?;
    let f = ReportForm {
        csrf: mp.field("csrf")?.to_string(),
        text: mp.field("text")?.to_string(),
        place: mp.field("place").map(str::to_string),
        lang: mp.field("lang").map(str::to_string),
    };
    Some((f, mp.files))
}

/// How long the one-time code shown after a form report stays valid.
pub const FORM_CODE_HOURS: i64 = 24;

/// `POST /report`: a report from the public form. Valid submissions are rate limited per client
/// (the address through trusted proxies, [`crate::net::client_ip`]) without recording who the
/// client is (see [`crate::ratelimit`]).
///
/// The report is stored with channel `web` and no source. A phone number typed into a form
/// proves nothing (anyone could type a warner's number to learn whether it is one, pin
/// invented reports on them, or make Tocsin text them), so the form takes none. When a gateway
/// can reply, the page shows a one-time code instead: texted from a phone, it links the
/// report to that phone's source and only then is an acknowledgement sent.
pub async fn submit_report(
    State(st): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let client = crate::net::client_ip(&headers, peer.ip(), &st.trusted_proxies);
    // Until the form is read (its `lang` field), the cookie's or the browser's language.
    let (lang, _) = page_lang(&headers, None);
    let tr = |key: &str, args: &[(&str, String)]| i18n::text(lang, key, args);
    let body = match body {
        Ok(body) => body,
        // Over the body limit: the files are too large.
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return report_form(
                &st,
                StatusCode::PAYLOAD_TOO_LARGE,
                lang,
                "",
                "",
                Some(&tr(
                    "form.err_too_large",
                    &[(
                        "size",
                        tocsin_app::files::human_size(st.evidence.max_report_bytes),
                    )],
                )),
            );
        }
        // A body that stopped coming (the edge's timeout) or broke off: the client's fault.
        Err(e) => {
            return report_form(
                &st,
                e.status(),
                lang,
                "",
                "",
                Some(&tr("form.err_broken", &[])),
            );
        }
    };
    let Some((f, files)) = parse_form(&headers, body).await else {
        return report_form(
            &st,
            StatusCode::BAD_REQUEST,
            lang,
            "",
            "",
            Some(&tr("form.err_empty", &[])),
        );
    };
    // The language the page was shown in, as the form carries it.
    let lang = f.lang.as_deref().and_then(Lang::parse).unwrap_or(lang);
    let tr = |key: &str, args: &[(&str, String)]| i18n::text(lang, key, args);
    let (mut parts, _) = axum::http::Request::new(()).into_parts();
    parts.headers = headers;
    let cookie_csrf = crate::auth::cookie(&parts, REPORT_CSRF_COOKIE).unwrap_or("");
    let place = f.place.clone().unwrap_or_default();
    if cookie_csrf.is_empty() || !same(cookie_csrf, &f.csrf) {
        return report_form(
            &st,
            StatusCode::FORBIDDEN,
            lang,
            &f.text,
            &place,
            Some(&tr("form.err_expired", &[])),
        );
    }
    let text = f.text.trim();
    if text.is_empty() || text.len() > 10_000 {
        return report_form(
            &st,
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            &f.text,
            &place,
            Some(&tr("form.err_length", &[])),
        );
    }
    // Only valid submissions count, so junk and forged posts cannot shut the form for others.
    if !st.limiter.allow(client) {
        return report_form(
            &st,
            StatusCode::TOO_MANY_REQUESTS,
            lang,
            &f.text,
            &place,
            Some(&tr("form.err_busy", &[])),
        );
    }
    let full = if place.trim().is_empty() {
        text.to_string()
    } else {
        format!("{text}\n[place] {}", place.trim())
    };
    let parsed = tocsin_sms::parse(&full, st.sms.country_hint.as_deref());
    let mut r = match tocsin_domain::NewReport::parse(
        tocsin_domain::ReportInput {
            text: full,
            tlp: Some(tocsin_domain::Tlp::AmberStrict),
            latitude: parsed.place.as_ref().map(|p| p.latitude),
            longitude: parsed.place.as_ref().map(|p| p.longitude),
            occurred_at: None,
            country: parsed.place.as_ref().map(|p| p.country.clone()),
            source: None,
        },
        tocsin_domain::Channel::Web,
        None,
    ) {
        Ok(r) => r,
        Err(e) => {
            return report_form(
                &st,
                StatusCode::UNPROCESSABLE_ENTITY,
                lang,
                &f.text,
                &place,
                Some(&i18n::reason(lang, &e.to_string())),
            )
        }
    };
    r.meta = crate::sms::report_meta(&parsed);
    let reference = tocsin_sms::reference_code(&r.id);
    let ack = tocsin_sms::ack_text(parsed.language, &reference);
    // A code only when some gateway can carry the reply it unlocks.
    let code = crate::sms::reply_gateway(&st.sms, None).map(|_| tocsin_sms::new_form_code());
    let claim = code.as_ref().map(|c| tocsin_domain::FormClaim {
        code_hash: crate::sms::form_code_hash(&st, &c.replace('-', "")),
        report_id: r.id,
        ack_text: ack.clone(),
        expires_at: tocsin_domain::time::now() + chrono::Duration::hours(FORM_CODE_HOURS),
    });
    let actor = tocsin_domain::Actor::system("web-form");
    let stored = if files.is_empty() {
        tocsin_app::sms::submit_form_report(&*st.store, &actor, r, claim).await
    } else {
        tocsin_app::files::submit_form_report_with_files(
            &*st.store,
            &st.contact_key,
            &actor,
            r,
            claim,
            &files,
            &st.evidence,
        )
        .await
    };
    match stored {
        Ok(_) => render(
            &st,
            StatusCode::OK,
            "report_form.html",
            context! {
                reference, ack, code,
                lang => lang.code(), langs => i18n::menu(),
                text_lang => parsed.language.code(), text_dir => i18n::dir(parsed.language),
                inbound_number => st.sms.inbound_number.clone(), code_hours => FORM_CODE_HOURS,
            },
        ),
        Err(e) if tocsin_app::files::is_too_large(&e) => report_form(
            &st,
            StatusCode::PAYLOAD_TOO_LARGE,
            lang,
            &f.text,
            &place,
            Some(&refusal(lang, &e, &tr("form.err_not_sent", &[]))),
        ),
        Err(e @ tocsin_app::AppError::Invalid { .. }) => report_form(
            &st,
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            &f.text,
            &place,
            Some(&refusal(lang, &e, &tr("form.err_not_sent", &[]))),
        ),
        Err(_) => report_form(
            &st,
            StatusCode::SERVICE_UNAVAILABLE,
            lang,
            &f.text,
            &place,
            Some(&tr("form.err_unavailable", &[])),
        ),
    }
}

/// A refused file in a sentence: the application's message without the field's name, in the
/// page's language (see [`i18n::reason`]), then `not_sent`.
fn refusal(lang: Lang, e: &tocsin_app::AppError, not_sent: &str) -> String {
    match e {
        tocsin_app::AppError::Invalid { message, .. } => {
            let mut m = i18n::reason(lang, message);
            if let Some(c) = m.chars().next() {
                m = c.to_uppercase().chain(m.chars().skip(1)).collect();
            }
            format!("{m}. {not_sent}")
        }
        other => i18n::reason(lang, &other.to_string()),
    }
}
