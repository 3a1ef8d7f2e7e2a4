//! What the inbound channels have taken, for admins: `GET /api/v1/channels` and the page
//! `/admin/channels`, and the counting behind them.
//!
//! Every way in counts into one database row per channel (an upsert, so several processes
//! count together and the counts survive restarts): messages stored and duplicates recognised
//! are counted in the very write that stores or recognises the message
//! ([`tocsin_domain::InboundSms::count_as`], a [`tocsin_store::Step::CountChannel`]), so they
//! stay exact across crashes and retries and cost no write of their own; calls refused for a
//! bad secret or signature (counted by [`count_refusals`] on the inbound routes, with the
//! time; nothing about the caller) and the last storage error are counted on their own
//! ([`tocsin_store::Jobs::count_channel`]). A new channel (e-mail, feeds) reports by going
//! through the apps' intake or calling [`count`] with its name, and listing itself in
//! [`configured`]. Nothing here identifies a sender.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use minijinja::context;
use tocsin_app::channel_status::{ChannelStatus, ConfiguredChannel};
use tocsin_store::ChannelCount;

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::web::{page, WebResult, WebUser};
use crate::AppState;

/// Add to channel `name`'s counters; a failure to count is logged, never in the way of the
/// message itself.
pub async fn count(st: &AppState, name: &str, c: ChannelCount) {
    if let Err(e) = st.store.count_channel(name, &c).await {
        tracing::warn!(channel = name, error = %e, "could not count an inbound call");
    }
}

/// A message that could not be stored (the error's text, no message, no sender).
pub async fn failed(st: &AppState, name: &str, error: &str) {
    let c = ChannelCount {
        error: Some(error.chars().take(300).collect()),
        ..Default::default()
    };
    count(st, name, c).await
}

/// The channel an inbound path belongs to: `/sms/<gateway>[/…]` and `/channels/<name>[/…]`.
fn channel_of(path: &str) -> Option<&str> {
    let rest = path
        .strip_prefix("/sms/")
        .or_else(|| path.strip_prefix("/channels/"))?;
    let name = rest.split('/').next()?;
    (!name.is_empty() && name.len() <= 40 && name.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(name)
}

/// Middleware on the inbound routes: a call answered 401 or 403 (a missing or wrong secret,
/// a bad signature, a network not allowed) is counted as refused for its channel.
pub async fn count_refusals(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let name = channel_of(req.uri().path()).map(str::to_string);
    let res = next.run(req).await;
    if let Some(name) = name {
        if matches!(
            res.status(),
            StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED
        ) {
            let c = ChannelCount {
                refused: 1,
                ..Default::default()
            };
            count(&st, &name, c).await;
        }
    }
    res
}

/// The inbound channels this server is configured with.
pub fn configured(st: &AppState) -> Vec<ConfiguredChannel> {
    let mut out = Vec::new();
    let sms = |name: &str, mode: &str| ConfiguredChannel {
        name: name.into(),
        kind: "sms".into(),
        mode: Some(mode.into()),
        ..Default::default()
    };
    if st.sms.kannel.is_some() {
        out.push(sms("kannel", "webhook"));
    }
    if st.sms.twilio.is_some() {
        out.push(sms("twilio", "webhook"));
    }
    if st.sms.africastalking.is_some() {
        out.push(sms("africastalking", "webhook"));
    }
    if st.sms.frontlinesms.is_some() {
        out.push(sms("frontlinesms", "webhook"));
    }
    if st.sms.smssync.is_some() {
        out.push(sms("smssync", "webhook"));
    }
    if let Some(t) = &st.telegram {
        let poll = t.config().mode == tocsin_delivery::telegram::TelegramMode::Poll;
        out.push(ConfiguredChannel {
            name: crate::channels::TELEGRAM.into(),
            kind: "app".into(),
            mode: Some(if poll { "poll" } else { "webhook" }.into()),
            cursor: Some(crate::channels::TELEGRAM.into()),
            job: poll.then(|| crate::channels::TELEGRAM.into()),
        });
    }
    if st.whatsapp.is_some() {
        out.push(ConfiguredChannel {
            name: "whatsapp".into(),
            kind: "app".into(),
            mode: Some("webhook".into()),
            ..Default::default()
        });
    }
    if st.imap_mailbox.is_some() {
        // Messages are counted under their channel, `email`; the job is `imap`.
        out.push(ConfiguredChannel {
            name: tocsin_domain::Channel::Email.as_str().into(),
            kind: "email".into(),
            mode: Some("idle".into()),
            job: Some("imap".into()),
            ..Default::default()
        });
    }
    out
}

/// The routes: `GET /api/v1/channels` (nested under `/api/v1` by the caller).
pub fn api_routes() -> Router<AppState> {
    Router::new().route("/channels", get(list))
}

/// The page `/admin/channels`.
pub fn web_router() -> Router<AppState> {
    Router::new().route("/admin/channels", get(show))
}

/// `GET /api/v1/channels`: each configured inbound channel (and any counted one no longer
/// configured) with its counters; admins only (403 otherwise).
#[utoipa::path(get, path = "/api/v1/channels", tag = "channels",
    responses((status = 200, body = Vec<ChannelStatus>), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn list(
    State(st): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<serde_json::Value>> {
    let items = st.app().channel_status(&user.0, &configured(&st)).await?;
    Ok(Json(serde_json::json!({ "items": items })))
}

/// `/admin/channels`.
async fn show(State(st): State<AppState>, wu: WebUser) -> WebResult {
    let items = st.app().channel_status(&wu.user, &configured(&st)).await?;
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "channels.html",
        context! { channels => items },
    ))
}

/// The channels' status in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list), components(schemas(ChannelStatus)))]
pub struct ChannelStatusDoc;

#[cfg(test)]
mod tests {
    use super::channel_of;

    #[test]
    fn inbound_paths_name_their_channel() {
        assert_eq!(channel_of("/sms/kannel"), Some("kannel"));
        assert_eq!(channel_of("/sms/kannel/dlr"), Some("kannel"));
        assert_eq!(channel_of("/channels/telegram"), Some("telegram"));
        assert_eq!(channel_of("/channels/whatsapp"), Some("whatsapp"));
        assert_eq!(channel_of("/report"), None);
        assert_eq!(channel_of("/sms/"), None);
    }
}
