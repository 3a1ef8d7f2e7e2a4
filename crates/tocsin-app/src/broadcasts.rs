//! Community broadcasts: analysts and monitor coordinators write them (`BroadcastCompose`),
//! a second person approves them (`BroadcastApprove`; never the author, whatever their role,
//! admins included), the sender job sends them paced per gateway, admins hold a global stop
//! switch (`BroadcastStop`), and a sent broadcast can be corrected to the same recipients.
//!
//! Approval fixes the recipients once, in the transaction that approves: live, the active
//! subscribers inside the area (a correction: the recipients of the broadcast it corrects);
//! test, only the configured staff test phones, each sealed on its row. Reads show counts,
//! never who: no number, no subscriber id leaves this module.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tocsin_domain::area::BroadcastArea;
use tocsin_domain::broadcast::{seal_test_phone, SmsLength, SENDER};
use tocsin_domain::{
    Actor, AuditEvent, Broadcast, BroadcastAnswers, BroadcastError, BroadcastMode, BroadcastState,
    NewBroadcast, Permission, RecipientCounts, RecipientState, StopSwitch, User,
};
use tocsin_store::{BroadcastRecipient, BroadcastStep, Op, Step};
use uuid::Uuid;

use crate::{require, App, AppError, Result};

/// Broadcasts a list shows at most.
pub const LIST_LIMIT: u32 = 200;

/// The default pace of a gateway, in messages per second.
pub const DEFAULT_RATE: f64 = 10.0;

/// `[broadcasts]` in the configuration.
#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BroadcastSettings {
    /// The staff phones a test broadcast goes to, and only they (E.164).
    pub test_phones: Vec<String>,
    /// The gateway broadcasts leave through (default: the SMS reply gateway).
    pub gateway: Option<String>,
    /// The sender number or name broadcasts go out from, for a gateway that has none
    /// configured (Kannel without `from`).
    pub sender: Option<String>,
    /// Messages per second per gateway (`kannel = 20`); [`DEFAULT_RATE`] for one not named.
    pub rates: BTreeMap<String, f64>,
}

impl std::fmt::Debug for BroadcastSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BroadcastSettings")
            .field("test_phones", &self.test_phones.len())
            .field("gateway", &self.gateway)
            .field("sender", &self.sender)
            .field("rates", &self.rates)
            .finish()
    }
}

impl BroadcastSettings {
    /// The pace of `gateway` in messages per second.
    pub fn rate(&self, gateway: &str) -> f64 {
        self.rates
            .get(gateway)
            .copied()
            .filter(|r| *r > 0.0)
            .unwrap_or(DEFAULT_RATE)
    }

    /// Every rate positive and finite, every test phone a number; errors name the setting,
    /// never a number.
    pub fn validate(&self) -> std::result::Result<(), String> {
        for (g, r) in &self.rates {
            if !(r.is_finite() && *r > 0.0 && *r <= 10_000.0) {
                return Err(format!(
                    "broadcasts.rates.{g}: expected messages per second, above 0 and at most 10000"
                ));
            }
        }
        for (i, p) in self.test_phones.iter().enumerate() {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            if !p.starts_with('+') || !(7..=15).contains(&digits) {
                return Err(format!(
                    "broadcasts.test_phones[{i}]: expected a number in E.164 form (+ and 7–15 digits)"
                ));
            }
        }
        Ok(())
    }
}

/// The settings where none are configured: no test phone, every gateway at the default pace.
pub static DEFAULT_SETTINGS: std::sync::LazyLock<BroadcastSettings> =
    std::sync::LazyLock::new(BroadcastSettings::default);

/// A broadcast as written (`POST /api/v1/broadcasts`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BroadcastInput {
    /// `test` or `live`.
    pub mode: String,
    /// Text per language: `{"en": "...", "fr": "..."}`.
    pub texts: BTreeMap<String, String>,
    /// `{"countries": [..]}`, `{"admin1": [{country, name}]}`, `{"circle": {lat, lon,
    /// radius_km}}` or `{"polygon": GeoJSON}`.
    #[schema(value_type = Object)]
    pub area: serde_json::Value,
    /// Send no earlier than this (RFC 3339); immediately once approved when absent.
    #[serde(default)]
    pub send_at: Option<DateTime<Utc>>,
    /// What it answers: `{"rumour": id}` or `{"risk_factor": 7}` (a number of the default
    /// framework).
    #[serde(default)]
    pub answers: Option<BroadcastAnswers>,
}

/// What a composer is shown before writing: the area, how many it reaches, how long it takes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BroadcastEstimate {
    /// Recipients (counts only): the test phones for a test broadcast, else the active
    /// subscribers in the area.
    pub recipients: u64,
    /// Active subscribers in the area, whatever the mode (what the live broadcast would
    /// reach; counts only).
    pub subscribers_in_area: u64,
    /// The area as it would be stored: first-level areas by the gazetteer's names, a drawn
    /// polygon simplified (a GeoJSON MultiPolygon).
    #[schema(value_type = Object)]
    pub area: serde_json::Value,
    /// Corners the drawn polygon keeps once simplified (0 for other kinds of area).
    pub corners: usize,
    /// The area covered, in km² (none for whole countries or admin areas).
    pub area_km2: Option<f64>,
    /// The gateway it would leave through.
    pub gateway: Option<String>,
    /// Its pace, messages per second.
    pub rate_per_second: f64,
    /// Seconds to send to everyone at that pace.
    pub send_secs: u64,
    /// The time to send at each gateway with a configured pace (and the one it leaves
    /// through), that one first.
    pub gateways: Vec<GatewayTime>,
    /// Each text measured as SMS.
    pub lengths: BTreeMap<String, SmsLength>,
}

/// How long sending takes at one gateway's pace.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GatewayTime {
    /// The gateway (`kannel`, `twilio`…).
    pub gateway: String,
    /// Its pace, messages per second.
    pub rate_per_second: f64,
    /// Seconds to send to every recipient at that pace.
    pub send_secs: u64,
    /// Broadcasts leave through this one.
    pub used: bool,
}

/// A broadcast as its readers see it: the record, counts per state, the estimate.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BroadcastView {
    /// The broadcast.
    #[serde(flatten)]
    pub broadcast: Broadcast,
    /// Recipients per state (counts only).
    pub counts: RecipientCounts,
    /// Each text measured as SMS.
    pub lengths: BTreeMap<String, SmsLength>,
    /// Seconds to send to everyone at the gateway's pace.
    pub send_secs: u64,
    /// Whether the global stop switch holds it.
    pub stopped: bool,
}

/// The answer to writing a broadcast: its id and how many it will reach.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Created {
    /// The new broadcast.
    pub id: Uuid,
    /// Recipients (an estimate until approved).
    pub recipients: u64,
}

impl From<BroadcastError> for AppError {
    fn from(e: BroadcastError) -> Self {
        match e {
            BroadcastError::Invalid(d) => d.into(),
            BroadcastError::Illegal { .. } => AppError::Conflict(e.to_string()),
            BroadcastError::OwnApproval => AppError::refused(e.to_string()),
        }
    }
}

fn audit(u: &Actor, action: &str, b: &Broadcast, detail: serde_json::Value) -> Box<AuditEvent> {
    Box::new(AuditEvent::new(u, action, "broadcast", Some(b.id.to_string())).with_detail(detail))
}

impl App<'_> {
    /// The gateway broadcasts leave through: the configured one, else the SMS reply gateway.
    pub fn broadcast_gateway(&self) -> Option<String> {
        self.broadcasting
            .gateway
            .clone()
            .or_else(|| self.channels.sms_gateway.clone())
    }

    fn send_secs(&self, recipients: u64) -> (f64, u64) {
        let rate = self
            .broadcast_gateway()
            .map_or(DEFAULT_RATE, |g| self.broadcasting.rate(&g));
        (rate, (recipients as f64 / rate).ceil() as u64)
    }

    /// A broadcast area as written by a person: parsed, and its first-level areas named as
    /// the gazetteer names them (see [`canonical_area`]).
    fn parse_area(&self, v: &serde_json::Value) -> Result<BroadcastArea> {
        canonical_area(BroadcastArea::parse(v)?)
    }

    async fn count_for(&self, mode: BroadcastMode, area: &BroadcastArea) -> Result<u64> {
        Ok(match mode {
            BroadcastMode::Test => self.broadcasting.test_phones.len() as u64,
            BroadcastMode::Live => self.store.count_in_area(area).await?,
        })
    }

    /// What a broadcast would reach and how long it would take (the composer's figures):
    /// counts only. Needs `BroadcastCompose`.
    pub async fn estimate_broadcast(
        &self,
        u: &User,
        mode: &str,
        area: &serde_json::Value,
        texts: &BTreeMap<String, String>,
    ) -> Result<BroadcastEstimate> {
        require(u, Permission::BroadcastCompose)?;
        let mode = BroadcastMode::parse(mode)?;
        let area = self.parse_area(area)?;
        let subscribers_in_area = self.store.count_in_area(&area).await?;
        let recipients = match mode {
            BroadcastMode::Test => self.broadcasting.test_phones.len() as u64,
            BroadcastMode::Live => subscribers_in_area,
        };
        let (rate, send_secs) = self.send_secs(recipients);
        let used = self.broadcast_gateway();
        let mut names: Vec<&String> = used.iter().collect();
        names.extend(
            self.broadcasting
                .rates
                .keys()
                .filter(|g| Some(*g) != used.as_ref()),
        );
        let gateways = names
            .into_iter()
            .map(|g| {
                let r = self.broadcasting.rate(g);
                GatewayTime {
                    gateway: g.clone(),
                    rate_per_second: r,
                    send_secs: (recipients as f64 / r).ceil() as u64,
                    used: Some(g) == used.as_ref(),
                }
            })
            .collect();
        Ok(BroadcastEstimate {
            recipients,
            subscribers_in_area,
            area: area.to_json(),
            corners: area.vertex_count(),
            area_km2: area.area_km2(),
            gateway: used.clone(),
            rate_per_second: rate,
            send_secs,
            gateways,
            lengths: texts
                .iter()
                .map(|(l, t)| (l.clone(), SmsLength::of(t)))
                .collect(),
        })
    }

    /// Write a broadcast, pending a second person's approval (analysts, monitor
    /// coordinators). A counter-message names the rumour it answers (one the author may see),
    /// a risk factor of the framework, or a dangerous-speech flag the author may see and that
    /// was confirmed (an open or dismissed flag is no speech to answer).
    pub async fn compose_broadcast(&self, u: &User, input: BroadcastInput) -> Result<Created> {
        require(u, Permission::BroadcastCompose)?;
        let mode = BroadcastMode::parse(&input.mode)?;
        let area = self.parse_area(&input.area)?;
        match &input.answers {
            Some(BroadcastAnswers::Rumour(id)) => {
                let r = self.store.get_rumour(*id).await.map_err(|e| match e {
                    tocsin_store::StoreError::NotFound => {
                        AppError::invalid("answers.rumour", "no such rumour")
                    }
                    e => e.into(),
                })?;
                if !u.may_see(r.tlp) {
                    return Err(AppError::invalid("answers.rumour", "no such rumour"));
                }
            }
            Some(BroadcastAnswers::RiskFactor(n)) => {
                let known = self
                    .frameworks
                    .default_framework()
                    .risk_factors
                    .iter()
                    .any(|f| f.number == *n);
                if !known {
                    return Err(AppError::invalid(
                        "answers.risk_factor",
                        "not a risk factor of the framework",
                    ));
                }
            }
            Some(BroadcastAnswers::SpeechFlag(id)) => {
                let unknown = || AppError::invalid("answers.speech_flag", "no such flag");
                let f = self.store.get_flag(*id).await.map_err(|e| match e {
                    tocsin_store::StoreError::NotFound => unknown(),
                    e => e.into(),
                })?;
                if !u.may_see(f.tlp) {
                    return Err(unknown());
                }
                if f.state != tocsin_domain::FlagState::Confirmed {
                    return Err(AppError::invalid(
                        "answers.speech_flag",
                        "is not confirmed: review the flag first",
                    ));
                }
            }
            None => {}
        }
        self.write_new(
            u,
            mode,
            area,
            input.texts,
            input.send_at,
            input.answers,
            None,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_new(
        &self,
        u: &User,
        mode: BroadcastMode,
        area: BroadcastArea,
        texts: BTreeMap<String, String>,
        send_at: Option<DateTime<Utc>>,
        answers: Option<BroadcastAnswers>,
        correction_of: Option<&Broadcast>,
    ) -> Result<Created> {
        let recipients = match correction_of {
            Some(orig) if mode == BroadcastMode::Live => {
                self.store.broadcast_subscribers(orig.id).await?.len() as u64
            }
            _ => self.count_for(mode, &area).await?,
        };
        let b = Broadcast::new(
            NewBroadcast {
                mode,
                texts,
                area: area.to_json(),
                send_at,
                answers,
                correction_of: correction_of.map(|o| o.id),
            },
            u.id,
            &u.username,
            recipients,
            tocsin_domain::time::now(),
        )?;
        let detail = serde_json::json!({
            "mode": b.mode.as_str(),
            "languages": b.texts.keys().collect::<Vec<_>>(),
            "recipients": recipients,
            "correction_of": b.correction_of,
            "answers": b.answers,
        });
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps: vec![Step::Broadcast(BroadcastStep::Create(Box::new(b.clone())))],
                    audit: audit(&u.actor(), "broadcast.create", &b, detail),
                },
            )
            .await?;
        Ok(Created {
            id: b.id,
            recipients,
        })
    }

    /// Approve a broadcast someone else wrote and fix its recipients, in one write: one row
    /// per recipient. Nobody approves their own, whatever their role. Approving twice is a
    /// conflict and queues nothing more.
    pub async fn approve_broadcast(&self, u: &User, id: Uuid) -> Result<BroadcastView> {
        require(u, Permission::BroadcastApprove)?;
        let b = self.store.get_broadcast(id).await?;
        if b.author == u.id {
            return Err(BroadcastError::OwnApproval.into());
        }
        if !b.state.may_become(BroadcastState::Approved) {
            return Err(BroadcastError::Illegal {
                from: b.state,
                to: BroadcastState::Approved,
            }
            .into());
        }
        let rows = self.resolve_recipients(&b).await?;
        let approved = b.approve(
            u.id,
            &u.username,
            rows.len() as u64,
            tocsin_domain::time::now(),
        )?;
        let detail = serde_json::json!({
            "mode": approved.mode.as_str(),
            "recipients": rows.len(),
        });
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps: vec![
                        Step::Broadcast(BroadcastStep::Update(Box::new(approved.clone()))),
                        Step::Broadcast(BroadcastStep::AddRecipients {
                            broadcast_id: id,
                            recipients: rows,
                        }),
                    ],
                    audit: audit(&u.actor(), "broadcast.approve", &approved, detail),
                },
            )
            .await?;
        self.broadcast_view(approved).await
    }

    /// The rows a broadcast is queued to: the test phones (test), the recipients of the
    /// broadcast it corrects, or the active subscribers inside its area (live).
    async fn resolve_recipients(&self, b: &Broadcast) -> Result<Vec<BroadcastRecipient>> {
        let row = |subscriber_id, address, language: String| BroadcastRecipient {
            id: tocsin_domain::random_id(),
            broadcast_id: b.id,
            subscriber_id,
            address,
            language,
            state: RecipientState::Queued,
            attempts: 0,
        };
        match b.mode {
            BroadcastMode::Test => {
                let key = self.contact_key.ok_or_else(|| {
                    AppError::Internal("no contact key to seal the test phones with".into())
                })?;
                let lang = b.texts.keys().next().cloned().unwrap_or_default();
                Ok(self
                    .broadcasting
                    .test_phones
                    .iter()
                    .map(|p| {
                        let mut r = row(None, None, lang.clone());
                        r.address = Some(seal_test_phone(key, r.id, p));
                        r
                    })
                    .collect())
            }
            BroadcastMode::Live => match b.correction_of {
                Some(orig) => Ok(self
                    .store
                    .broadcast_subscribers(orig)
                    .await?
                    .into_iter()
                    .map(|(s, l)| row(Some(s), None, l))
                    .collect()),
                None => {
                    let area = BroadcastArea::parse(&b.area)?;
                    Ok(self
                        .store
                        .recipients_in_area(&area)
                        .await?
                        .into_iter()
                        .map(|r| row(Some(r.id), None, r.language.code().to_string()))
                        .collect())
                }
            },
        }
    }

    /// Cancel a broadcast before it is sent, also while it is being sent: no message leaves
    /// after this write (the sender checks before each). Its author or an approver may.
    pub async fn cancel_broadcast(
        &self,
        u: &User,
        id: Uuid,
        reason: Option<String>,
    ) -> Result<BroadcastView> {
        if !(u.can(Permission::BroadcastApprove) || u.can(Permission::BroadcastCompose)) {
            return Err(AppError::forbidden(Permission::BroadcastApprove));
        }
        let reason = reason
            .map(|r| r.trim().chars().take(500).collect::<String>())
            .filter(|r| !r.is_empty());
        let b = self.store.get_broadcast(id).await?;
        let c = b.cancel(
            u.id,
            &u.username,
            reason.clone(),
            tocsin_domain::time::now(),
        )?;
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps: vec![
                        Step::Broadcast(BroadcastStep::Update(Box::new(c.clone()))),
                        Step::Broadcast(BroadcastStep::SkipQueued(id)),
                    ],
                    audit: audit(
                        &u.actor(),
                        "broadcast.cancel",
                        &c,
                        serde_json::json!({"was": b.state.as_str(), "reason": reason}),
                    ),
                },
            )
            .await?;
        self.broadcast_view(c).await
    }

    /// From a broadcast that went out (sent, or cancelled while sending), prepare a
    /// correction or cancellation to the same recipients (those it was sent to; a test
    /// broadcast's: the test phones): the texts given, else each text
    /// prefixed "CORRECTION:"; pending the same second approval, sent at once when approved.
    pub async fn correct_broadcast(
        &self,
        u: &User,
        id: Uuid,
        texts: Option<BTreeMap<String, String>>,
    ) -> Result<Created> {
        require(u, Permission::BroadcastCompose)?;
        let orig = self.store.get_broadcast(id).await?;
        let went_out = orig.state == BroadcastState::Sent
            || (orig.state == BroadcastState::Cancelled
                && orig.at(BroadcastState::Sending).is_some());
        if !went_out {
            return Err(AppError::Conflict(format!(
                "state: only a broadcast that went out can be corrected; this one is {}",
                orig.state
            )));
        }
        let texts = texts.filter(|t| !t.is_empty()).unwrap_or_else(|| {
            orig.texts
                .iter()
                .map(|(l, t)| (l.clone(), correction_text(l, t)))
                .collect()
        });
        let area = BroadcastArea::parse(&orig.area)?;
        self.write_new(
            u,
            orig.mode,
            area,
            texts,
            None,
            orig.answers.clone(),
            Some(&orig),
        )
        .await
    }

    /// One broadcast with its counts (every reader of broadcasts).
    pub async fn get_broadcast(&self, u: &User, id: Uuid) -> Result<BroadcastView> {
        require(u, Permission::BroadcastRead)?;
        let b = self.store.get_broadcast(id).await?;
        self.broadcast_view(b).await
    }

    async fn broadcast_view(&self, b: Broadcast) -> Result<BroadcastView> {
        let counts = self.store.recipient_counts(b.id).await?;
        let stopped = self.store.stop_switch().await?.is_some_and(|s| s.on);
        let (_, send_secs) = self.send_secs(b.recipients);
        Ok(BroadcastView {
            lengths: b.lengths(),
            broadcast: b,
            counts,
            send_secs,
            stopped,
        })
    }

    /// The newest [`LIST_LIMIT`] broadcasts, each with its counts.
    pub async fn list_broadcasts(&self, u: &User) -> Result<Vec<BroadcastView>> {
        let page = tocsin_domain::PageRequest {
            after: None,
            limit: LIST_LIMIT,
        };
        Ok(self.list_broadcasts_page(u, page).await?.0.items)
    }

    /// One page of the broadcasts, newest written first, each with its counts, and how many
    /// there are in all.
    pub async fn list_broadcasts_page(
        &self,
        u: &User,
        page: tocsin_domain::PageRequest,
    ) -> Result<(tocsin_domain::Page<BroadcastView>, u64)> {
        require(u, Permission::BroadcastRead)?;
        let total = self.store.count_broadcasts().await?;
        let p = self.store.list_broadcasts(page).await?;
        let mut items = Vec::with_capacity(p.items.len());
        for b in p.items {
            items.push(self.broadcast_view(b).await?);
        }
        Ok((
            tocsin_domain::Page {
                items,
                next_cursor: p.next_cursor,
            },
            total,
        ))
    }

    /// The global stop switch as it stands (every reader of broadcasts).
    pub async fn stop_switch(&self, u: &User) -> Result<Option<StopSwitch>> {
        require(u, Permission::BroadcastRead)?;
        Ok(self.store.stop_switch().await?)
    }

    /// Turn the global stop switch on (no broadcast message leaves, at once) or off
    /// (admins; audited `broadcast.stop` / `broadcast.resume`).
    pub async fn set_stop_switch(
        &self,
        u: &User,
        on: bool,
        reason: Option<String>,
    ) -> Result<StopSwitch> {
        require(u, Permission::BroadcastStop)?;
        let s = StopSwitch {
            on,
            by_name: u.username.clone(),
            at: tocsin_domain::time::now(),
            reason: reason
                .map(|r| r.trim().chars().take(500).collect::<String>())
                .filter(|r| !r.is_empty()),
        };
        let action = if on {
            "broadcast.stop"
        } else {
            "broadcast.resume"
        };
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps: vec![Step::Broadcast(BroadcastStep::SetStop(s.clone()))],
                    audit: Box::new(
                        AuditEvent::new(&u.actor(), action, "broadcast", None)
                            .with_detail(serde_json::json!({"reason": s.reason})),
                    ),
                },
            )
            .await?;
        Ok(s)
    }

    /// The sender's moves (the `broadcasts` job): approved broadcasts whose time came start
    /// sending; sending ones with no recipient left waiting are sent. Returns the broadcasts
    /// now sending, oldest first. Each move is guarded by the broadcast's version (another
    /// server making it first is a conflict, skipped).
    pub async fn advance_broadcasts(&self, now: DateTime<Utc>) -> Result<Vec<Broadcast>> {
        let actor = Actor::system(SENDER.trim_start_matches("system:"));
        let mut sending = Vec::new();
        for b in self.store.active_broadcasts().await? {
            let next = if b.is_due(now) {
                Some((b.start(now)?, "broadcast.start"))
            } else if b.state == BroadcastState::Sending {
                let c = self.store.recipient_counts(b.id).await?;
                if c.done() {
                    Some((b.finish(now)?, "broadcast.sent"))
                } else {
                    sending.push(b);
                    None
                }
            } else {
                None
            };
            let Some((next, action)) = next else { continue };
            let counts = self.store.recipient_counts(next.id).await?;
            let op = Op::All {
                steps: vec![Step::Broadcast(BroadcastStep::Update(Box::new(
                    next.clone(),
                )))],
                audit: audit(
                    &actor,
                    action,
                    &next,
                    serde_json::to_value(counts).unwrap_or_default(),
                ),
            };
            match self.store.write(&actor, op).await {
                Ok(_) if next.state == BroadcastState::Sending => sending.push(next),
                Ok(_) | Err(tocsin_store::StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(sending)
    }
}

/// An area with its first-level areas named as the gazetteer names them (case, diacritics,
/// words such as "Province", compass words in the four languages: see
/// [`tocsin_geo::Gazetteer::admin1_named`]), since every subscriber's place carries the
/// gazetteer's name; a name it does not know, or that fits two areas, is refused naming the
/// entry (`area.admin1[2].name`) with what it may mean, never left to reach nobody. Other
/// kinds of area are returned as they are.
pub fn canonical_area(area: BroadcastArea) -> Result<BroadcastArea> {
    let BroadcastArea::Admin1(refs) = &area else {
        return Ok(area);
    };
    let g = tocsin_geo::Gazetteer::global();
    let mut out = Vec::with_capacity(refs.len());
    for (i, r) in refs.iter().enumerate() {
        match g.admin1_named(r.country.code(), &r.name) {
            tocsin_geo::Admin1Match::Found(name) => out.push(serde_json::json!({
                "country": r.country.code(), "name": name
            })),
            tocsin_geo::Admin1Match::Unknown { suggestions } => {
                let hint = if suggestions.is_empty() {
                    String::new()
                } else {
                    format!("; did you mean {}?", suggestions.join(", "))
                };
                return Err(AppError::invalid(
                    format!("area.admin1[{i}].name"),
                    format!(
                        "no first-level area {:?} is known in {}{hint}",
                        r.name,
                        r.country.code()
                    ),
                ));
            }
        }
    }
    Ok(BroadcastArea::parse(&serde_json::json!({ "admin1": out }))?)
}

/// The prefilled text of a correction, in the broadcast's language.
pub fn correction_text(lang: &str, text: &str) -> String {
    let prefix = match lang {
        "fr" => "RECTIFICATIF :",
        "sw" => "MAREKEBISHO:",
        "ar" => "تصحيح:",
        _ => "CORRECTION:",
    };
    format!("{prefix} {text}")
}
