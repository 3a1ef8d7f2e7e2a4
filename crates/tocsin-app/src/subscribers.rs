//! Community-alert subscribers: opting in and out by SMS ([`sms_subscription`], called by the
//! gateway path before a message is taken as a report), staff registering someone
//! ([`App::register_subscriber`]) and the counts per area ([`App::subscriber_counts`]).
//!
//! **A subscription text is not a warning report.** `JOIN <place>`, `STOP` and a number
//! picking an offered place create no report and no source, and read no source: the path never
//! asks whether the number is a warner, so its replies, writes and audit entries are the same
//! for a warner's number and anyone else's (no oracle), and a subscriber list seized with the
//! database cannot be joined to the sources (their phone hashes are keyed apart, see
//! [`tocsin_domain::SubscriberPhone::lookup_hash`]). Audit entries name the subscriber's
//! random id, place and language, never the number or its hash. STOP is honoured in the same
//! write as its confirmation is queued, and its reply is the same whether or not the number
//! was subscribed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tocsin_domain::{
    Actor, AuditEvent, BroadcastArea, ContactKey, Lang, NewSubscriber, OutboundMessage, Permission,
    SourceContact, SubscriberPhone, SubscriberPlace, Tlp, User,
};
use tocsin_sms::SubscriptionCommand;
use tocsin_store::{AreaCount, Op, PlaceOffer, Step, Store, SubscriberStep};
use uuid::Uuid;

use crate::{require, App, AppError, Result};

/// How long the places offered for an ambiguous JOIN wait for the number that picks one.
pub const OFFER_MINUTES: i64 = 15;

/// Where a reply to a subscription text goes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyVia {
    /// The gateway.
    pub gateway: String,
    /// Our number the text was sent to, when the gateway has none configured.
    pub sender: Option<String>,
}

/// A subscription text as the gateway path hands it over.
#[derive(Debug, Clone)]
pub struct SubscriptionSms {
    /// The sender's number (E.164).
    pub phone: SubscriberPhone,
    /// What the text asks.
    pub command: SubscriptionCommand,
    /// The deployment's country (`[sms] country_hint`): places there first, its language for
    /// a STOP whose word several languages share.
    pub country_hint: Option<String>,
    /// How to answer (`None`: the gateway cannot carry replies).
    pub reply: Option<ReplyVia>,
    /// What makes the reply sent once although the gateway retries: a keyed hash of the
    /// gateway's message id (or of the text and a time window when it gave none).
    pub dedupe_key: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
}

/// The audit entry of a subscription change: the subscriber's id, place and language only.
fn audit(actor: &Actor, action: &str, id: Option<Uuid>, detail: serde_json::Value) -> AuditEvent {
    AuditEvent::new(actor, action, "subscriber", id.map(|i| i.to_string())).with_detail(detail)
}

fn place_detail(p: &SubscriberPlace, lang: Lang, via: &str) -> serde_json::Value {
    serde_json::json!({"country": p.country.code(), "admin1": p.admin1, "language": lang.code(), "via": via})
}

fn reply_step(m: &SubscriptionSms, key: &ContactKey, text: String) -> Option<Step> {
    let via = m.reply.as_ref()?;
    let to = SourceContact {
        chat: None,
        phone: Some(m.phone.expose().to_string()),
        name: None,
        email: None,
    };
    let mut msg = OutboundMessage::to_address(
        format!("subscription:{}", m.dedupe_key),
        &via.gateway,
        None,
        &to,
        key,
        text,
        Tlp::Clear,
    );
    msg.sender = via.sender.clone();
    Some(Step::EnqueueOnce(Box::new(msg)))
}

/// Subscribe the phone with `phone_hash` to `place` (an existing subscriber keeps its id).
async fn subscribe_steps<S: Store + ?Sized>(
    store: &S,
    key: &ContactKey,
    phone: &SubscriberPhone,
    place: SubscriberPlace,
    lang: Lang,
) -> Result<(Uuid, Step)> {
    let mut n = NewSubscriber::new(phone, place, lang, key);
    let id = match store.subscriber_by_phone_hash(&n.phone_hash).await? {
        Some(existing) => existing.id,
        None => n.subscriber.id,
    };
    if id != n.subscriber.id {
        // Kept as stored by the upsert; what is sent here is only for a new row.
        n.subscriber.id = id;
        n.contact = phone.seal(key, id);
    }
    Ok((id, Step::Subscriber(SubscriberStep::Subscribe(Box::new(n)))))
}

/// Act on a subscription text (see the module): subscribe, offer places, stop, and queue the
/// reply, in one write. `Ok(false)` when the text is not one after all (a bare number with no
/// places on offer): the caller then takes it as an ordinary message.
pub async fn sms_subscription<S: Store + ?Sized>(
    store: &S,
    key: &ContactKey,
    actor: &Actor,
    m: SubscriptionSms,
) -> Result<bool> {
    let hint = m.country_hint.as_deref();
    let hash = m.phone.lookup_hash(key);
    let label = |p: &SubscriberPlace| tocsin_sms::place_label(p, hint);
    let (mut steps, event) = match &m.command {
        SubscriptionCommand::Stop { lang } => {
            let lang = lang.unwrap_or_else(|| tocsin_sms::default_for_country(hint));
            let id = store.subscriber_by_phone_hash(&hash).await?.map(|s| s.id);
            let steps = vec![Step::Subscriber(SubscriberStep::Stop {
                phone_hash: hash.clone(),
                at: m.received_at,
            })];
            let text = tocsin_sms::stopped_text(lang);
            (
                steps
                    .into_iter()
                    .chain(reply_step(&m, key, text))
                    .collect::<Vec<_>>(),
                audit(
                    actor,
                    "subscriber.stop",
                    id,
                    serde_json::json!({"via": "sms"}),
                ),
            )
        }
        SubscriptionCommand::Join { lang, place } => {
            let places = tocsin_sms::resolve_subscriber_place(place, hint);
            match places.len() {
                0 => (
                    reply_step(&m, key, tocsin_sms::unknown_place_text(*lang, place))
                        .into_iter()
                        .collect(),
                    audit(
                        actor,
                        "subscriber.unknown_place",
                        None,
                        serde_json::json!({"via": "sms", "language": lang.code()}),
                    ),
                ),
                1 => {
                    let p = places.into_iter().next().expect("one place");
                    let text = tocsin_sms::joined_text(*lang, &label(&p));
                    let detail = place_detail(&p, *lang, "sms");
                    let (id, step) = subscribe_steps(store, key, &m.phone, p, *lang).await?;
                    let steps = vec![
                        step,
                        Step::Subscriber(SubscriberStep::ClearOffer(hash.clone())),
                    ];
                    (
                        steps.into_iter().chain(reply_step(&m, key, text)).collect(),
                        audit(actor, "subscriber.join", Some(id), detail),
                    )
                }
                n => {
                    let labels: Vec<String> = places.iter().map(label).collect();
                    let offer = PlaceOffer {
                        phone_hash: hash.clone(),
                        language: *lang,
                        places,
                        expires_at: m.received_at + chrono::Duration::minutes(OFFER_MINUTES),
                    };
                    let steps = vec![Step::Subscriber(SubscriberStep::Offer(Box::new(offer)))];
                    (
                        steps
                            .into_iter()
                            .chain(reply_step(&m, key, tocsin_sms::choose_text(*lang, &labels)))
                            .collect(),
                        audit(
                            actor,
                            "subscriber.offer",
                            None,
                            serde_json::json!({"via": "sms", "choices": n, "language": lang.code()}),
                        ),
                    )
                }
            }
        }
        SubscriptionCommand::Choice(n) => {
            let Some(offer) = store.place_offer(&hash, m.received_at).await? else {
                return Ok(false);
            };
            let lang = offer.language;
            match offer.places.get(n - 1).cloned() {
                Some(p) => {
                    let text = tocsin_sms::joined_text(lang, &label(&p));
                    let detail = place_detail(&p, lang, "sms");
                    let (id, step) = subscribe_steps(store, key, &m.phone, p, lang).await?;
                    let steps = vec![
                        step,
                        Step::Subscriber(SubscriberStep::ClearOffer(hash.clone())),
                    ];
                    (
                        steps.into_iter().chain(reply_step(&m, key, text)).collect(),
                        audit(actor, "subscriber.join", Some(id), detail),
                    )
                }
                None => {
                    let labels: Vec<String> = offer.places.iter().map(label).collect();
                    (
                        reply_step(&m, key, tocsin_sms::choose_text(lang, &labels))
                            .into_iter()
                            .collect(),
                        audit(
                            actor,
                            "subscriber.offer",
                            None,
                            serde_json::json!({"via": "sms", "choices": labels.len(), "language": lang.code()}),
                        ),
                    )
                }
            }
        }
    };
    if steps.is_empty() {
        store.write(actor, Op::Audit(event)).await?;
    } else {
        steps.shrink_to_fit();
        store
            .write(
                actor,
                Op::All {
                    steps,
                    audit: Box::new(event),
                },
            )
            .await?;
    }
    Ok(true)
}

/// A subscriber registered by staff (`POST /api/v1/subscribers`, the Subscribers page).
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterSubscriber {
    /// Their phone number, international or in the configured region's national form. Never
    /// shown again: it is sealed at once.
    #[schema(example = "+236 72 00 00 01")]
    pub phone: String,
    /// The town, district or province they live in, as the gazetteer knows it.
    #[schema(example = "Bambari")]
    pub place: String,
    /// The country, when the place name alone is ambiguous (ISO 3166-1 alpha-3).
    #[serde(default)]
    pub country: Option<String>,
    /// The first-level area, when the place name alone is ambiguous.
    #[serde(default)]
    pub admin1: Option<String>,
    /// The language of their alerts: `en`, `fr`, `sw` or `ar`.
    #[schema(example = "fr")]
    pub language: String,
}

/// `Debug` without the number.
impl std::fmt::Debug for RegisterSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterSubscriber")
            .field("phone", &"<redacted>")
            .field("place", &self.place)
            .field("country", &self.country)
            .field("admin1", &self.admin1)
            .field("language", &self.language)
            .finish()
    }
}

/// What a registration answers: the new (or existing) subscriber's id, never the number.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Registered {
    /// The subscriber's id.
    pub id: Uuid,
}

/// Subscribers per area: counts only, never who.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubscriberCounts {
    /// Active subscribers in the whole area asked (or everywhere).
    pub total: u64,
    /// Per country and first-level area.
    pub areas: Vec<AreaCount>,
    /// The area covered, in km² (circles and polygons).
    pub area_km2: Option<f64>,
}

impl App<'_> {
    /// Register a subscriber on someone's behalf (admins and monitor coordinators): the place
    /// resolved by the gazetteer (`country` and `admin1` narrow an ambiguous name; still
    /// ambiguous: refused naming `place` with the choices), the number sealed. An existing
    /// subscriber with that number is moved and made active. When an SMS gateway is
    /// configured for staff texts, the person is told by SMS, in their language, with how to
    /// stop. Audited as `subscriber.register` with place and language only.
    pub async fn register_subscriber(
        &self,
        u: &User,
        r: RegisterSubscriber,
        country_hint: Option<&str>,
    ) -> Result<Registered> {
        require(u, Permission::SubscriberRegister)?;
        let key = self.contact_key.ok_or_else(|| {
            AppError::Unavailable("no contact key is loaded to seal the number".into())
        })?;
        let e164 = tocsin_sms::normalize_phone(&r.phone, self.channels.default_region.as_deref())
            .map_err(|_| {
            AppError::invalid(
                "phone",
                "not a phone number: international (+236…) or in the configured region's form",
            )
        })?;
        let phone = SubscriberPhone::new(e164);
        let language = Lang::parse(&r.language)
            .ok_or_else(|| AppError::invalid("language", "one of en, fr, sw, ar"))?;
        let country = match r
            .country
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(c) => Some(
                tocsin_domain::Country::parse(c)
                    .or_else(|e| {
                        tocsin_geo::country_code(c)
                            .ok_or(e)
                            .and_then(tocsin_domain::Country::parse)
                    })
                    .map_err(|_| AppError::invalid("country", "an ISO 3166-1 alpha-3 code"))?,
            ),
            None => None,
        };
        let hint = country.as_ref().map(|c| c.code()).or(country_hint);
        let admin1 = r.admin1.as_deref().map(str::trim).filter(|a| !a.is_empty());
        let mut places = tocsin_sms::resolve_subscriber_place(&r.place, hint);
        places.retain(|p| {
            country.as_ref().is_none_or(|c| &p.country == c)
                && admin1.is_none_or(|a| {
                    p.admin1
                        .as_deref()
                        .is_some_and(|pa| tocsin_geo::normalize(pa) == tocsin_geo::normalize(a))
                })
        });
        let place = match places.len() {
            0 => {
                return Err(AppError::invalid(
                    "place",
                    "no place of that name is known (with that country and area)",
                ))
            }
            1 => places.remove(0),
            _ => {
                let labels: Vec<String> = places
                    .iter()
                    .map(|p| tocsin_sms::place_label(p, None))
                    .collect();
                return Err(AppError::invalid(
                    "place",
                    format!(
                        "ambiguous: {}; give the country or area too",
                        labels.join("; ")
                    ),
                ));
            }
        };
        let text = tocsin_sms::joined_text(language, &tocsin_sms::place_label(&place, hint));
        let detail = place_detail(&place, language, "staff");
        let (id, step) = subscribe_steps(&**self.store, key, &phone, place, language).await?;
        let mut steps = vec![step];
        if let Some(g) = &self.channels.sms_gateway {
            let to = SourceContact {
                chat: None,
                phone: Some(phone.expose().to_string()),
                name: None,
                email: None,
            };
            steps.push(Step::Enqueue(Box::new(OutboundMessage::to_address(
                format!("subscriber-register:{}", tocsin_domain::random_id()),
                g,
                None,
                &to,
                key,
                text,
                Tlp::Clear,
            ))));
        }
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps,
                    audit: Box::new(audit(&u.actor(), "subscriber.register", Some(id), detail)),
                },
            )
            .await?;
        Ok(Registered { id })
    }

    /// How many active subscribers live in each first-level area of `area` (or everywhere),
    /// and in all: counts only (admins, analysts, monitor coordinators).
    pub async fn subscriber_counts(
        &self,
        u: &User,
        area: Option<&BroadcastArea>,
    ) -> Result<SubscriberCounts> {
        require(u, Permission::SubscriberCount)?;
        let area = area
            .cloned()
            .map(crate::broadcasts::canonical_area)
            .transpose()?;
        let area = area.as_ref();
        let areas = self.store.subscriber_counts(area).await?;
        Ok(SubscriberCounts {
            total: areas.iter().map(|a| a.count).sum(),
            areas,
            area_km2: area.and_then(BroadcastArea::area_km2),
        })
    }
}
