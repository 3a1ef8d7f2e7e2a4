//! The monitored items' pages: `/monitor` (each feed's poll state, then the items, filters
//! origin and flagged) and `/monitor/items/{id}` (the item's text with the hits of its flags
//! marked, as a flag's page marks a report's). Who may see what is the application layer's
//! ([`tocsin_app::monitor`]).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Router;
use minijinja::context;
use std::collections::HashMap;
use tocsin_app::flags::highlight;
use uuid::Uuid;

use super::{next_url, page, path_id, WebResult, WebUser};
use crate::input::parse_query;
use crate::monitor::ItemListQuery;
use crate::AppState;

/// `/monitor` and `/monitor/items/{id}`.
pub fn router() -> Router<AppState> {
    use axum::routing::get;
    Router::new()
        .route("/monitor", get(monitor_page))
        .route("/monitor/items/{id}", get(item_page))
}

/// `GET /monitor`
pub async fn monitor_page(
    State(st): State<AppState>,
    wu: WebUser,
    RawQuery(q): RawQuery,
) -> WebResult {
    let q: ItemListQuery = parse_query(q.as_deref())?;
    let (iq, p) = q.to_query()?;
    let app = st.app();
    let (states, origins) = app.monitor_status(&wu.user).await?;
    let listed = app.list_items(&wu.user, iq, p).await?;
    let ids: Vec<Uuid> = listed.items.iter().map(|i| i.id).collect();
    let mut flagged: HashMap<Uuid, usize> = HashMap::new();
    for f in app.flags_of_items(&wu.user, &ids).await? {
        if let Some(i) = f.item_id {
            *flagged.entry(i).or_default() += 1;
        }
    }
    // Configured feeds first (with what was kept of their polls), by name.
    let feeds: Vec<_> = st
        .feeds
        .iter()
        .map(|f| {
            let s = states.iter().find(|s| s.name == f.name);
            context! { name => f.name, url => f.url, interval => f.interval.as_secs(), s }
        })
        .collect();
    let items: Vec<_> = listed
        .items
        .iter()
        .map(|i| {
            let excerpt: String = i.text.chars().take(160).collect();
            context! { i, excerpt, flags => flagged.get(&i.id).copied().unwrap_or(0) }
        })
        .collect();
    let next = next_url("/monitor", &q, &listed.next_cursor);
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "monitor.html",
        context! { feeds, items, q, origins, next_url => next },
    ))
}

/// `GET /monitor/items/{id}`
pub async fn item_page(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> WebResult {
    let (item, flags) = st.app().get_item(&wu.user, path_id(&id)?).await?;
    let pieces = highlight(
        &item.text,
        flags
            .iter()
            .flat_map(|f| f.terms.iter().map(|t| (t.start, t.end))),
    );
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "monitor_item.html",
        context! { item, flags, pieces },
    ))
}
