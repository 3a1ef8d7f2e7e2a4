//! The public report form, `/report`: no login, works without JavaScript, takes no phone
//! number. Mounted beside the SMS endpoints (no access log, `Cache-Control: no-store`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Router;
use minijinja::context;
use serde::Deserialize;

use super::{render, set_cookie};
use crate::auth::{random_secret, same};
use crate::AppState;

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

fn report_form(
    st: &AppState,
    status: StatusCode,
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

/// `GET /report`: the public report form (no login, works without JavaScript).
pub async fn report_form_page(State(st): State<AppState>) -> Response {
    report_form(&st, StatusCode::OK, "", "", None)
}

#[derive(Deserialize)]
pub struct ReportForm {
    csrf: String,
    text: String,
    place: Option<String>,
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
    let body = match body {
        Ok(body) => body,
        // Over the body limit: the files are too large.
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return report_form(
                &st,
                StatusCode::PAYLOAD_TOO_LARGE,
                "",
                "",
                Some(&format!(
                    "The files are too large: together they may be at most {}.",
                    tocsin_app::files::human_size(st.evidence.max_report_bytes)
                )),
            );
        }
        // A body that stopped coming (the edge's timeout) or broke off: the client's fault.
        Err(e) => {
            return report_form(
                &st,
                e.status(),
                "",
                "",
                Some("The form did not arrive whole; please send it again."),
            );
        }
    };
    let Some((f, files)) = parse_form(&headers, body).await else {
        return report_form(
            &st,
            StatusCode::BAD_REQUEST,
            "",
            "",
            Some("Please fill in what happened."),
        );
    };
    let (mut parts, _) = axum::http::Request::new(()).into_parts();
    parts.headers = headers;
    let cookie_csrf = crate::auth::cookie(&parts, REPORT_CSRF_COOKIE).unwrap_or("");
    let place = f.place.clone().unwrap_or_default();
    if cookie_csrf.is_empty() || !same(cookie_csrf, &f.csrf) {
        return report_form(
            &st,
            StatusCode::FORBIDDEN,
            &f.text,
            &place,
            Some("The form expired. Please send it again."),
        );
    }
    let text = f.text.trim();
    if text.is_empty() || text.len() > 10_000 {
        return report_form(
            &st,
            StatusCode::UNPROCESSABLE_ENTITY,
            &f.text,
            &place,
            Some("Please describe what happened (at most 10,000 characters)."),
        );
    }
    // Only valid submissions count, so junk and forged posts cannot shut the form for others.
    if !st.limiter.allow(client) {
        return report_form(
            &st,
            StatusCode::TOO_MANY_REQUESTS,
            &f.text,
            &place,
            Some("Too many reports from here just now. Please wait a few minutes and try again."),
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
                &f.text,
                &place,
                Some(&e.to_string()),
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
                reference, ack, lang => parsed.language.code(), code,
                inbound_number => st.sms.inbound_number.clone(), code_hours => FORM_CODE_HOURS,
            },
        ),
        Err(e) if tocsin_app::files::is_too_large(&e) => report_form(
            &st,
            StatusCode::PAYLOAD_TOO_LARGE,
            &f.text,
            &place,
            Some(&refusal(&e)),
        ),
        Err(e @ tocsin_app::AppError::Invalid { .. }) => report_form(
            &st,
            StatusCode::UNPROCESSABLE_ENTITY,
            &f.text,
            &place,
            Some(&refusal(&e)),
        ),
        Err(_) => report_form(
            &st,
            StatusCode::SERVICE_UNAVAILABLE,
            &f.text,
            &place,
            Some("We could not save your report just now. Please try again."),
        ),
    }
}

/// A refused file in a sentence: the application's message without the field's name.
fn refusal(e: &tocsin_app::AppError) -> String {
    match e {
        tocsin_app::AppError::Invalid { message, .. } => {
            let mut m = message.clone();
            if let Some(c) = m.get(..1) {
                m = c.to_uppercase() + &m[1..];
            }
            format!("{m}. Your report was not sent: please try again.")
        }
        other => other.to_string(),
    }
}
