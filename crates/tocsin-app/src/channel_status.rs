//! The inbound channels' status, for admins: each configured way in (SMS gateways, the
//! messaging apps, and any other channel that counts what it takes, such as e-mail or feeds)
//! with its counters from the database (messages taken, duplicates recognised, refused calls)
//! and, for a polled channel, where it has read up to and how its last poll went. Counts and
//! times only: nothing here identifies a sender.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tocsin_domain::{Permission, User};

use crate::{require, App, Result};

/// A channel the server is configured with, as the caller (the server) knows it.
#[derive(Debug, Clone, Default)]
pub struct ConfiguredChannel {
    /// The name its counters are kept under (`kannel`, `telegram`, `whatsapp`, `imap`, …).
    pub name: String,
    /// `sms`, `app`, `email` or `feed`.
    pub kind: String,
    /// How it receives (`webhook`, `poll`, `idle`), if it has a choice.
    pub mode: Option<String>,
    /// The cursor it keeps in the database ([`tocsin_store::Jobs::channel_cursor`]), if any.
    pub cursor: Option<String>,
    /// The job that polls it, whose recorded outcome is its last poll, if any.
    pub job: Option<String>,
}

/// One inbound channel's status (`GET /api/v1/channels`).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ChannelStatus {
    /// The channel, e.g. `telegram`.
    pub name: String,
    /// `sms`, `app`, `email`, `feed` (empty for a channel counted but no longer configured).
    pub kind: String,
    /// Whether the server is configured with it now.
    pub configured: bool,
    /// How it receives (`webhook`, `poll`), if it has a choice.
    pub mode: Option<String>,
    /// Where a polled channel has read up to (Telegram: the next `getUpdates` offset).
    pub cursor: Option<i64>,
    /// When its poll last succeeded.
    pub last_poll: Option<DateTime<Utc>>,
    /// Its poll's last failure, and when.
    pub poll_error: Option<String>,
    /// When the poll last failed.
    pub poll_error_at: Option<DateTime<Utc>>,
    /// Messages stored as new.
    pub taken: i64,
    /// Messages recognised as already stored (retries, re-polls, edits).
    pub duplicates: i64,
    /// Calls refused for a bad secret or signature.
    pub refused: i64,
    /// When a message was last stored.
    pub last_taken_at: Option<DateTime<Utc>>,
    /// When a call was last refused.
    pub last_refused_at: Option<DateTime<Utc>>,
    /// The last error recorded while taking a message.
    pub last_error: Option<String>,
    /// When.
    pub last_error_at: Option<DateTime<Utc>>,
}

impl App<'_> {
    /// The status of every configured inbound channel, then of any counted channel no longer
    /// configured; for admins (those who manage users).
    pub async fn channel_status(
        &self,
        u: &User,
        configured: &[ConfiguredChannel],
    ) -> Result<Vec<ChannelStatus>> {
        require(u, Permission::UserManage)?;
        let mut counters = self.store.channel_counters().await?;
        let jobs = self.store.job_records().await?;
        let mut out = Vec::new();
        for c in configured {
            let mut s = ChannelStatus {
                name: c.name.clone(),
                kind: c.kind.clone(),
                configured: true,
                mode: c.mode.clone(),
                ..Default::default()
            };
            if let Some(cursor) = &c.cursor {
                s.cursor = self.store.channel_cursor(cursor).await?;
            }
            if let Some(j) = c
                .job
                .as_ref()
                .and_then(|j| jobs.iter().find(|r| &r.name == j))
            {
                s.last_poll = j.last_ok;
                s.poll_error = j.last_error.clone();
                s.poll_error_at = j.last_error_at;
            }
            if let Some(i) = counters.iter().position(|k| k.name == c.name) {
                fill(&mut s, counters.remove(i));
            }
            out.push(s);
        }
        for k in counters {
            let mut s = ChannelStatus {
                name: k.name.clone(),
                ..Default::default()
            };
            fill(&mut s, k);
            out.push(s);
        }
        Ok(out)
    }
}

fn fill(s: &mut ChannelStatus, k: tocsin_store::ChannelCounters) {
    s.taken = k.taken;
    s.duplicates = k.duplicates;
    s.refused = k.refused;
    s.last_taken_at = k.last_taken_at;
    s.last_refused_at = k.last_refused_at;
    s.last_error = k.last_error;
    s.last_error_at = k.last_error_at;
}
