//! Alerts as CAP 1.2 messages and the public Atom feed of `TLP:CLEAR` alerts
//! ([`tocsin_cap`] writes them; who may read which alert is decided here).
//!
//! - [`App::alert_cap`]: the current CAP message of one alert within the reader's clearance
//!   (above it: `NotFound`), referencing every earlier message of its chain (one per state so
//!   far: raised, acknowledged, action decided, closed). Scope follows the label
//!   (`TLP:CLEAR` Public, `TLP:GREEN` Restricted, higher Private addressed to the alert's
//!   desk).
//! - [`App::public_cap_feed`]: no login; only alerts labelled `TLP:CLEAR`, newest first, at
//!   most [`FEED_ENTRIES`]. The store is asked for `TLP:CLEAR` alerts only, so nothing of any
//!   other alert (not its id, not how many there are) reaches the feed.
//!
//! The area: the alert's country (its name and ISO code), and when a rule opened it, the
//! rule's first-level area or its circle (a radius rule).

use chrono::{DateTime, Utc};
use tocsin_domain::rule::Condition;
use tocsin_domain::{Alert, AlertOrigin, PageRequest, Permission, Tlp, User};
use tocsin_store::{AlertFilter, StoreError};
use uuid::Uuid;

pub use tocsin_cap::{identifier, Site, ATOM_MEDIA_TYPE, CAP_MEDIA_TYPE};

use crate::{require, visible, App, Result};

/// The most alerts the public feed lists.
pub const FEED_ENTRIES: u32 = 50;

impl App<'_> {
    /// Where `alert` applies beyond its country: its rule's first-level area or circle.
    async fn cap_area(&self, alert: &Alert) -> Result<tocsin_cap::Area> {
        let AlertOrigin::Rule(rule) = &alert.origin else {
            return Ok(tocsin_cap::Area::default());
        };
        match self.store.get_rule(*rule).await {
            Ok(r) => Ok(match &r.condition {
                Condition::Incidents(t) => tocsin_cap::Area::of_rule(&t.area),
                _ => tocsin_cap::Area::default(),
            }),
            Err(StoreError::NotFound) => Ok(tocsin_cap::Area::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// The CAP 1.2 message of the alert's current state (XML), within the reader's clearance.
    pub async fn alert_cap(&self, u: &User, id: Uuid, site: &Site) -> Result<String> {
        require(u, Permission::AlertRead)?;
        let alert = self.store.get_alert(id).await?;
        visible(u, alert.tlp)?;
        self.cap_message(&alert, site, false).await
    }

    /// The CAP 1.2 message of `alert`'s current state (whoever may read it is decided by the
    /// caller); `to_the_hour`: its times to the hour, for a message that leaves the
    /// organisation.
    pub(crate) async fn cap_message(
        &self,
        alert: &Alert,
        site: &Site,
        to_the_hour: bool,
    ) -> Result<String> {
        let timeline = self.store.alert_timeline(alert.id).await?;
        let mut ctx = tocsin_cap::Context::new(site);
        ctx.to_the_hour = to_the_hour;
        ctx.area = self.cap_area(alert).await?;
        if alert.tlp > Tlp::Green {
            match self.store.get_desk(alert.desk_id).await {
                Ok(d) => ctx.addresses = vec![d.name],
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(tocsin_cap::message(alert, &timeline, &ctx))
    }

    /// The public Atom feed (no login) of the newest [`FEED_ENTRIES`] alerts labelled
    /// `TLP:CLEAR`; `self_url` is the feed's own address.
    pub async fn public_cap_feed(
        &self,
        site: &Site,
        self_url: &str,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let f = AlertFilter {
            status: None,
            severity: None,
            desk: None,
            situation: None,
            max_tlp: Tlp::Clear,
        };
        let page = self
            .store
            .list_alerts(&f, PageRequest::first(FEED_ENTRIES))
            .await?;
        let mut alerts = Vec::new();
        for a in page.items.into_iter().filter(|a| a.tlp == Tlp::Clear) {
            let timeline = self.store.alert_timeline(a.id).await?;
            let area = self.cap_area(&a).await?;
            alerts.push((a, timeline, area));
        }
        let entries: Vec<tocsin_cap::FeedEntry<'_>> = alerts
            .iter()
            .map(|(alert, timeline, area)| tocsin_cap::FeedEntry {
                alert,
                timeline,
                area: area.clone(),
            })
            .collect();
        let ctx = tocsin_cap::FeedContext {
            site,
            title: "Tocsin: public alerts (TLP:CLEAR)".into(),
            self_url: self_url.to_string(),
            now,
        };
        Ok(tocsin_cap::atom_feed(&entries, &ctx))
    }
}
