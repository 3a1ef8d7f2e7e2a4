//! Tocsin's alerts as OASIS Common Alerting Protocol 1.2 messages ([`message`],
//! [`messages`]), and an Atom 1.0 feed of them for alert hubs ([`atom_feed`]). Pure: no I/O;
//! who may read which alert is the application layer's decision, made before this is called.
//!
//! # One alert, a chain of messages
//!
//! Each change of an alert's status is one CAP message, numbered from 0: raised (0,
//! `msgType` `Alert`), acknowledged, action decided, closed (`Update`; `Cancel` when closed as
//! a false alarm or a duplicate). The states come from the alert's timeline (its `opened`,
//! `acknowledged`, `action_decided` and `closed` entries), completed from the alert's own
//! times where the timeline lacks one. Message `n` is fully determined by the alert, its
//! timeline and the context, so serving it again gives the same text:
//!
//! - `identifier` is `urn:uuid:` a UUIDv5 of the alert id and `n` ([`identifier`]): it never
//!   changes once sent and names nothing but the alert;
//! - `sent` is the time of the state change, whole seconds, with the site's offset (UTC is
//!   written `-00:00`, as CAP 1.2 requires);
//! - every later message `references` all earlier ones (`sender,identifier,sent`).
//!
//! # Mapping
//!
//! | Tocsin | CAP |
//! | --- | --- |
//! | `TLP:CLEAR` | `scope` Public |
//! | `TLP:GREEN` | `scope` Restricted, `restriction` naming the label and its rule |
//! | `TLP:AMBER`, `TLP:AMBER+STRICT`, `TLP:RED` | `scope` Private to the context's `addresses`; without addresses, Restricted with the label's rule |
//! | severity low / moderate / high / critical | `severity` Minor / Moderate / Severe / Extreme |
//! | severity (not closed): low / moderate / high, critical | `urgency` Future / Expected / Immediate |
//! | closed | `urgency` Past |
//! | open | `certainty` Possible (raised, not yet taken by a desk) |
//! | acknowledged, action decided, closed acted or nothing possible | `certainty` Likely |
//! | closed as a false alarm | `certainty` Unlikely (`msgType` Cancel) |
//! | closed as a duplicate | `certainty` Unknown (`msgType` Cancel) |
//!
//! Every message has `status` Actual, one `info` with `category` Security, the site's `event`,
//! the alert's title as `headline` (cut to 160 characters), a `description` of its state
//! (severity, status, country; never who acknowledged it or what evidence it rests on), `web`
//! linking to the alert's page, `code` the TLP label, `parameter`s `tocsin:status` and
//! `tocsin:severity`, and an `area` when the alert names a country or the context gives an
//! area: `areaDesc` (country name / first-level area), polygons (closed, `lat,lon` pairs),
//! circles (`lat,lon radius_km`) and the country's ISO 3166-1 alpha-3 code as a `geocode`.
//!
//! All text is written through `quick-xml`, escaped, with characters XML 1.0 cannot carry
//! (control characters but tab and line feed) removed.

use chrono::{DateTime, FixedOffset, SecondsFormat, SubsecRound, Utc};
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use std::io;
use tocsin_domain::{Alert, AlertStatus, CloseReason, Severity, TimelineEntry, TimelineEvent, Tlp};
use uuid::Uuid;

/// The CAP 1.2 XML namespace.
pub const CAP_NAMESPACE: &str = "urn:oasis:names:tc:emergency:cap:1.2";
/// The Atom 1.0 XML namespace.
pub const ATOM_NAMESPACE: &str = "http://www.w3.org/2005/Atom";
/// The media type of a CAP message.
pub const CAP_MEDIA_TYPE: &str = "application/cap+xml";
/// The media type of an Atom feed.
pub const ATOM_MEDIA_TYPE: &str = "application/atom+xml";

/// The UUIDv5 namespace of Tocsin's CAP identifiers (fixed forever: changing it would change
/// every identifier already sent).
const IDENTIFIER_NAMESPACE: Uuid = Uuid::from_u128(0x6c1f_3a52_8e0b_4d47_9a3e_51c2_7f40_d9b8);

/// The longest headline written (CAP recommends 160 characters).
const HEADLINE_CHARS: usize = 160;

/// A value that cannot go into a CAP message, naming its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct CapError {
    /// The field refused.
    pub field: &'static str,
    /// Why.
    pub reason: String,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> CapError {
    CapError {
        field,
        reason: reason.into(),
    }
}

/// Whether `s` is a valid CAP "identifier"-like token: not empty, no whitespace, no comma, no
/// `<` or `&` (CAP 1.2 § 3.3.2).
fn cap_token(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, ',' | '<' | '&'))
}

/// The sending Tocsin: who signs the messages and where its pages are.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    sender: String,
    sender_name: Option<String>,
    base_url: String,
    cap_path: String,
    language: String,
    offset: FixedOffset,
    event: String,
}

impl Site {
    /// A site sending as `sender` (unique to the organisation, e.g. `alerts@example.org`; no
    /// spaces, commas, `<` or `&`) whose pages are under `base_url` (`https://…`).
    pub fn new(sender: &str, base_url: &str) -> Result<Site, CapError> {
        if !cap_token(sender) {
            return Err(invalid(
                "sender",
                format!("{sender:?}: must be non-empty, without spaces, commas, < or &"),
            ));
        }
        let base = base_url.trim().trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://"))
            || base.chars().any(|c| c.is_whitespace() || c.is_control())
            || base.len() <= "https://".len()
        {
            return Err(invalid(
                "base_url",
                format!("{base_url:?}: expected an absolute http(s) URL"),
            ));
        }
        Ok(Site {
            sender: sender.to_string(),
            sender_name: None,
            base_url: base.to_string(),
            cap_path: "/api/v1/alerts/{id}/cap".into(),
            language: "en".into(),
            offset: FixedOffset::east_opt(0).expect("zero offset"),
            event: "Risk of mass atrocities".into(),
        })
    }

    /// The organisation's name, shown as `senderName` and the feed's author.
    pub fn with_sender_name(mut self, name: &str) -> Site {
        let name = clean(name.trim());
        self.sender_name = (!name.is_empty()).then_some(name);
        self
    }

    /// The offset `sent` is written in (whole minutes; default UTC).
    pub fn with_offset(mut self, offset: FixedOffset) -> Result<Site, CapError> {
        if offset.local_minus_utc() % 60 != 0 {
            return Err(invalid("offset", "must be a whole number of minutes"));
        }
        self.offset = offset;
        Ok(self)
    }

    /// The `language` of the messages (RFC 3066, e.g. `en`, `fr-CA`; default `en`).
    pub fn with_language(mut self, language: &str) -> Result<Site, CapError> {
        let ok = !language.is_empty()
            && language.split('-').all(|p| {
                (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric())
            });
        if !ok {
            return Err(invalid(
                "language",
                format!("{language:?}: expected a language tag such as en or fr-CA"),
            ));
        }
        self.language = language.to_string();
        Ok(self)
    }

    /// The `event` of every message (default `Risk of mass atrocities`).
    pub fn with_event(mut self, event: &str) -> Site {
        let event = clean(event.trim());
        if !event.is_empty() {
            self.event = event;
        }
        self
    }

    /// Where a message is served, below the base URL, `{id}` standing for the alert's id
    /// (default `/api/v1/alerts/{id}/cap`).
    pub fn with_cap_path(mut self, path: &str) -> Result<Site, CapError> {
        if !path.starts_with('/') || !path.contains("{id}") || path.contains(char::is_whitespace) {
            return Err(invalid(
                "cap_path",
                format!("{path:?}: expected a path starting with / and holding {{id}}"),
            ));
        }
        self.cap_path = path.to_string();
        Ok(self)
    }

    /// The `sender` of every message.
    pub fn sender(&self) -> &str {
        &self.sender
    }

    /// The alert's page.
    pub fn alert_url(&self, alert_id: Uuid) -> String {
        format!("{}/alerts/{alert_id}", self.base_url)
    }

    /// The alert's CAP message.
    pub fn cap_url(&self, alert_id: Uuid) -> String {
        format!(
            "{}{}",
            self.base_url,
            self.cap_path.replace("{id}", &alert_id.to_string())
        )
    }
}

/// A WGS 84 point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    lat: f64,
    lon: f64,
}

impl Point {
    /// A point: latitude −90…90, longitude −180…180.
    pub fn new(lat: f64, lon: f64) -> Result<Point, CapError> {
        if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
            return Err(invalid("latitude", format!("{lat}: expected -90 to 90")));
        }
        if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
            return Err(invalid("longitude", format!("{lon}: expected -180 to 180")));
        }
        Ok(Point { lat, lon })
    }

    /// Latitude.
    pub fn lat(&self) -> f64 {
        self.lat
    }

    /// Longitude.
    pub fn lon(&self) -> f64 {
        self.lon
    }

    /// `lat,lon`, as CAP writes a pair.
    fn cap(&self) -> String {
        format!("{},{}", self.lat, self.lon)
    }
}

/// A closed polygon: its first point is its last, at least four pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon(Vec<Point>);

impl Polygon {
    /// A polygon through `points` (at least three distinct), closed here if it is not.
    pub fn new(mut points: Vec<Point>) -> Result<Polygon, CapError> {
        if points.first() != points.last() {
            let first = points[0];
            points.push(first);
        }
        let mut distinct: Vec<Point> = Vec::new();
        for p in &points {
            if !distinct.contains(p) {
                distinct.push(*p);
            }
        }
        if distinct.len() < 3 || points.len() < 4 {
            return Err(invalid(
                "polygon",
                "needs at least three distinct points (four pairs once closed)",
            ));
        }
        Ok(Polygon(points))
    }

    /// Its points, the first repeated last.
    pub fn points(&self) -> &[Point] {
        &self.0
    }

    /// CAP's form: `lat,lon` pairs separated by spaces.
    fn cap(&self) -> String {
        self.0.iter().map(Point::cap).collect::<Vec<_>>().join(" ")
    }
}

/// A circle: a centre and a radius in kilometres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Circle {
    center: Point,
    radius_km: f64,
}

impl Circle {
    /// A circle of `radius_km` (0 or more) around `center`.
    pub fn new(center: Point, radius_km: f64) -> Result<Circle, CapError> {
        if !(radius_km.is_finite() && radius_km >= 0.0) {
            return Err(invalid(
                "radius_km",
                format!("{radius_km}: expected 0 or more"),
            ));
        }
        Ok(Circle { center, radius_km })
    }

    /// CAP's form: `lat,lon radius`.
    fn cap(&self) -> String {
        format!("{} {}", self.center.cap(), self.radius_km)
    }
}

/// Where an alert applies, beyond its country.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Area {
    /// The first-level area (province, region), if known.
    pub admin1: Option<String>,
    /// A description replacing the one made of the country and first-level area.
    pub description: Option<String>,
    /// Polygons.
    pub polygons: Vec<Polygon>,
    /// Circles.
    pub circles: Vec<Circle>,
}

impl Area {
    /// The area of an alert rule's condition: its first-level area, or its circle.
    pub fn of_rule(area: &tocsin_domain::rule::Area) -> Area {
        use tocsin_domain::rule::Area as R;
        match area {
            R::Country { admin1, .. } => Area {
                admin1: admin1.clone(),
                ..Area::default()
            },
            R::Radius {
                latitude,
                longitude,
                radius_km,
            } => Area {
                circles: Point::new(*latitude, *longitude)
                    .and_then(|p| Circle::new(p, *radius_km))
                    .into_iter()
                    .collect(),
                ..Area::default()
            },
            R::Situation { .. } => Area::default(),
        }
    }
}

/// What a message needs beside the alert: the site, the alert's area, and for labels above
/// `TLP:GREEN` the addresses of its recipients.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The sending site.
    pub site: &'a Site,
    /// Where the alert applies.
    pub area: Area,
    /// For a `Private` message: its recipients (CAP `addresses`); each is written quoted if it
    /// holds a space, double quotes removed.
    pub addresses: Vec<String>,
    /// Write each `sent` to the hour (the start of the hour it falls in): for a message that
    /// leaves the organisation, so the second an alert was raised from a warner's message is
    /// not carried along.
    pub to_the_hour: bool,
}

impl<'a> Context<'a> {
    /// A context with no area beyond the alert's country and no addresses.
    pub fn new(site: &'a Site) -> Context<'a> {
        Context {
            site,
            area: Area::default(),
            addresses: Vec::new(),
            to_the_hour: false,
        }
    }
}

/// `t` to the start of its hour (UTC).
pub fn hour_of(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::DurationRound;
    t.duration_trunc(chrono::Duration::hours(1)).unwrap_or(t)
}

/// A CAP message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgType {
    /// The first message of an alert.
    Alert,
    /// A later state.
    Update,
    /// The alert was closed as a false alarm or a duplicate.
    Cancel,
}

impl MsgType {
    /// As CAP writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            MsgType::Alert => "Alert",
            MsgType::Update => "Update",
            MsgType::Cancel => "Cancel",
        }
    }
}

/// One CAP message of an alert's chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Its place in the chain, from 0.
    pub sequence: u32,
    /// Its `identifier`.
    pub identifier: String,
    /// Its `sent`, as written.
    pub sent: String,
    /// When its state began.
    pub at: DateTime<Utc>,
    /// Its `msgType`.
    pub msg_type: MsgType,
    /// The XML document.
    pub xml: String,
}

/// The `identifier` of message `sequence` of an alert: `urn:uuid:` a UUIDv5 of both, the same
/// every time.
pub fn identifier(alert_id: Uuid, sequence: u32) -> String {
    let name = format!("{alert_id}/{sequence}");
    format!(
        "urn:uuid:{}",
        Uuid::new_v5(&IDENTIFIER_NAMESPACE, name.as_bytes())
    )
}

/// The CAP message of the alert's current state.
pub fn message(alert: &Alert, timeline: &[TimelineEntry], ctx: &Context<'_>) -> String {
    messages(alert, timeline, ctx)
        .pop()
        .expect("an alert has at least its first message")
        .xml
}

/// Every CAP message of the alert's chain, the first (`Alert`) first, its current state last.
pub fn messages(alert: &Alert, timeline: &[TimelineEntry], ctx: &Context<'_>) -> Vec<Message> {
    let states = states(alert, timeline);
    let mut out: Vec<Message> = Vec::with_capacity(states.len());
    for (i, (state, at)) in states.iter().enumerate() {
        let sequence = i as u32;
        let msg_type = match state {
            _ if i == 0 => MsgType::Alert,
            State::Closed(CloseReason::FalseAlarm | CloseReason::Duplicate) => MsgType::Cancel,
            _ => MsgType::Update,
        };
        let identifier = identifier(alert.id, sequence);
        let shown = if ctx.to_the_hour { hour_of(*at) } else { *at };
        let sent = cap_time(shown, ctx.site.offset);
        let references: Vec<String> = out
            .iter()
            .map(|m| format!("{},{},{}", ctx.site.sender, m.identifier, m.sent))
            .collect();
        let xml = write_alert(
            alert,
            *state,
            &identifier,
            &sent,
            msg_type,
            &references,
            ctx,
        );
        out.push(Message {
            sequence,
            identifier,
            sent,
            at: *at,
            msg_type,
            xml,
        });
    }
    out
}

/// An alert's state as far as CAP is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Acknowledged,
    ActionDecided,
    Closed(CloseReason),
}

impl State {
    fn rank(self) -> u8 {
        match self {
            State::Open => 0,
            State::Acknowledged => 1,
            State::ActionDecided => 2,
            State::Closed(_) => 3,
        }
    }
}

/// The chain of states: the timeline's status entries in order (each status once), completed
/// from the alert's own times where the timeline lacks one, the first always `Open`.
fn states(alert: &Alert, timeline: &[TimelineEntry]) -> Vec<(State, DateTime<Utc>)> {
    let mut from_timeline: Vec<(State, DateTime<Utc>)> = Vec::new();
    for e in timeline {
        let s = match e.event {
            TimelineEvent::Opened => State::Open,
            TimelineEvent::Acknowledged => State::Acknowledged,
            TimelineEvent::ActionDecided => State::ActionDecided,
            TimelineEvent::Closed { reason } => State::Closed(reason),
            _ => continue,
        };
        if !from_timeline.iter().any(|(t, _)| t.rank() == s.rank()) {
            from_timeline.push((s, e.at));
        }
    }
    let from_alert = [
        Some((State::Open, alert.opened_at)),
        alert.acknowledged_at.map(|t| (State::Acknowledged, t)),
        alert.action_decided_at.map(|t| (State::ActionDecided, t)),
        match (alert.status, alert.close_reason, alert.closed_at) {
            (AlertStatus::Closed, Some(r), Some(t)) => Some((State::Closed(r), t)),
            _ => None,
        },
    ];
    let mut all = from_timeline;
    for (s, t) in from_alert.into_iter().flatten() {
        if !all.iter().any(|(x, _)| x.rank() == s.rank()) {
            all.push((s, t));
        }
    }
    // The workflow only moves forward: order by status (then time), so a timeline listed out
    // of order still gives the same chain.
    all.sort_by_key(|(s, t)| (s.rank(), *t));
    all
}

/// `sent`: whole seconds, the site's offset, UTC written `-00:00` (CAP 1.2 § 3.3.2).
fn cap_time(t: DateTime<Utc>, offset: FixedOffset) -> String {
    let local = t.trunc_subsecs(0).with_timezone(&offset);
    if offset.local_minus_utc() == 0 {
        local.format("%Y-%m-%dT%H:%M:%S-00:00").to_string()
    } else {
        local.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }
}

/// An Atom date: whole seconds, the site's offset (`Z` for UTC).
fn atom_time(t: DateTime<Utc>, offset: FixedOffset) -> String {
    t.trunc_subsecs(0)
        .with_timezone(&offset)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Text without the characters XML 1.0 cannot carry (controls other than tab and line feed;
/// carriage returns would be read back as line feeds, so they go too), and U+FFFE/U+FFFF.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| match c {
            '\t' | '\n' => true,
            '\u{FFFE}' | '\u{FFFF}' => false,
            c => !c.is_control(),
        })
        .collect()
}

type Xml = Writer<Vec<u8>>;

/// `<name>text</name>`, escaped.
fn text(w: &mut Xml, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(&clean(value)))?;
    Ok(())
}

fn finish(w: Xml) -> String {
    String::from_utf8(w.into_inner()).expect("quick-xml writes the UTF-8 it is given")
}

fn scope(tlp: Tlp, addresses: &[String]) -> (&'static str, Option<String>, Option<String>) {
    let rule = match tlp {
        Tlp::Clear => return ("Public", None, None),
        Tlp::Green => "TLP:GREEN: limited disclosure; recipients may share it within their community, not publicly",
        Tlp::Amber => "TLP:AMBER: limited disclosure; recipients may share it only within their organisation and its clients, on a need-to-know basis",
        Tlp::AmberStrict => "TLP:AMBER+STRICT: limited disclosure; recipients may share it only within their organisation, on a need-to-know basis",
        Tlp::Red => "TLP:RED: for the eyes and ears of the named recipients only; no further disclosure",
    };
    let addresses: Vec<String> = addresses
        .iter()
        .map(|a| clean(a.trim()).replace('"', ""))
        .filter(|a| !a.is_empty())
        .map(|a| {
            if a.contains(char::is_whitespace) {
                format!("\"{a}\"")
            } else {
                a
            }
        })
        .collect();
    if tlp > Tlp::Green && !addresses.is_empty() {
        ("Private", None, Some(addresses.join(" ")))
    } else {
        ("Restricted", Some(rule.to_string()), None)
    }
}

fn cap_severity(s: Severity) -> &'static str {
    match s {
        Severity::Low => "Minor",
        Severity::Moderate => "Moderate",
        Severity::High => "Severe",
        Severity::Critical => "Extreme",
    }
}

fn urgency(s: Severity, state: State) -> &'static str {
    match (state, s) {
        (State::Closed(_), _) => "Past",
        (_, Severity::Critical | Severity::High) => "Immediate",
        (_, Severity::Moderate) => "Expected",
        (_, Severity::Low) => "Future",
    }
}

fn certainty(state: State) -> &'static str {
    match state {
        State::Open => "Possible",
        State::Acknowledged | State::ActionDecided => "Likely",
        State::Closed(CloseReason::Acted | CloseReason::NothingPossible) => "Likely",
        State::Closed(CloseReason::FalseAlarm) => "Unlikely",
        State::Closed(CloseReason::Duplicate) => "Unknown",
    }
}

fn status_name(state: State) -> &'static str {
    match state {
        State::Open => AlertStatus::Open.as_str(),
        State::Acknowledged => AlertStatus::Acknowledged.as_str(),
        State::ActionDecided => AlertStatus::ActionDecided.as_str(),
        State::Closed(_) => AlertStatus::Closed.as_str(),
    }
}

fn status_sentence(state: State) -> &'static str {
    match state {
        State::Open => "Raised; waiting for the responsible desk to take it.",
        State::Acknowledged => "Taken by the responsible desk.",
        State::ActionDecided => "The responsible desk has decided what to do.",
        State::Closed(CloseReason::Acted) => "Closed: action was taken.",
        State::Closed(CloseReason::NothingPossible) => "Closed: nothing could be done.",
        State::Closed(CloseReason::FalseAlarm) => "Closed: the warning was a false alarm.",
        State::Closed(CloseReason::Duplicate) => "Closed: another alert covers it.",
    }
}

/// The area's description: the given one, else country name / first-level area.
fn area_desc(alert: &Alert, area: &Area) -> Option<String> {
    if let Some(d) = area
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        return Some(d.to_string());
    }
    let country = alert.country.as_ref().map(|c| match c.name() {
        "" => c.code().to_string(),
        n => n.to_string(),
    });
    let admin1 = area
        .admin1
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    match (country, admin1) {
        (Some(c), Some(a)) => Some(format!("{c} / {a}")),
        (Some(c), None) => Some(c),
        (None, Some(a)) => Some(a.to_string()),
        (None, None) if !area.polygons.is_empty() || !area.circles.is_empty() => {
            Some("The area of the alert".into())
        }
        (None, None) => None,
    }
}

fn description(alert: &Alert, state: State, area: Option<&str>) -> String {
    let mut d = format!(
        "{}\nSeverity: {}. {}",
        alert.title,
        alert.severity.as_str(),
        status_sentence(state)
    );
    if let Some(a) = area {
        d.push_str(&format!("\nArea: {a}."));
    }
    d.push_str(&format!("\nLabel: {}.", alert.tlp.as_str()));
    d
}

fn headline(title: &str) -> String {
    clean(title).chars().take(HEADLINE_CHARS).collect()
}

#[allow(clippy::too_many_arguments)]
fn write_alert(
    alert: &Alert,
    state: State,
    identifier: &str,
    sent: &str,
    msg_type: MsgType,
    references: &[String],
    ctx: &Context<'_>,
) -> String {
    let site = ctx.site;
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let (scope, restriction, addresses) = scope(alert.tlp, &ctx.addresses);
    let area = area_desc(alert, &ctx.area);
    let r: io::Result<()> = (|| {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("alert")
            .with_attribute(("xmlns", CAP_NAMESPACE))
            .write_inner_content(|w| {
                text(w, "identifier", identifier)?;
                text(w, "sender", &site.sender)?;
                text(w, "sent", sent)?;
                text(w, "status", "Actual")?;
                text(w, "msgType", msg_type.as_str())?;
                text(w, "scope", scope)?;
                if let Some(r) = &restriction {
                    text(w, "restriction", r)?;
                }
                if let Some(a) = &addresses {
                    text(w, "addresses", a)?;
                }
                text(w, "code", alert.tlp.as_str())?;
                if msg_type == MsgType::Cancel {
                    text(w, "note", status_sentence(state))?;
                }
                if !references.is_empty() {
                    text(w, "references", &references.join(" "))?;
                }
                w.create_element("info").write_inner_content(|w| {
                    text(w, "language", &site.language)?;
                    text(w, "category", "Security")?;
                    text(w, "event", &site.event)?;
                    text(w, "urgency", urgency(alert.severity, state))?;
                    text(w, "severity", cap_severity(alert.severity))?;
                    text(w, "certainty", certainty(state))?;
                    if let Some(n) = &site.sender_name {
                        text(w, "senderName", n)?;
                    }
                    text(w, "headline", &headline(&alert.title))?;
                    text(
                        w,
                        "description",
                        &description(alert, state, area.as_deref()),
                    )?;
                    text(w, "web", &site.alert_url(alert.id))?;
                    for (name, value) in [
                        ("tocsin:status", status_name(state)),
                        ("tocsin:severity", alert.severity.as_str()),
                    ] {
                        w.create_element("parameter").write_inner_content(|w| {
                            text(w, "valueName", name)?;
                            text(w, "value", value)
                        })?;
                    }
                    if let Some(desc) = &area {
                        w.create_element("area").write_inner_content(|w| {
                            text(w, "areaDesc", desc)?;
                            for p in &ctx.area.polygons {
                                text(w, "polygon", &p.cap())?;
                            }
                            for c in &ctx.area.circles {
                                text(w, "circle", &c.cap())?;
                            }
                            if let Some(c) = &alert.country {
                                w.create_element("geocode").write_inner_content(|w| {
                                    text(w, "valueName", "ISO 3166-1 alpha-3")?;
                                    text(w, "value", c.code())
                                })?;
                            }
                            Ok(())
                        })?;
                    }
                    Ok(())
                })?;
                Ok(())
            })?;
        Ok(())
    })();
    r.expect("writing XML to memory cannot fail");
    finish(w)
}

/// One alert of a feed, with its timeline and area.
#[derive(Debug, Clone)]
pub struct FeedEntry<'a> {
    /// The alert (only `TLP:CLEAR` alerts are written; others are left out).
    pub alert: &'a Alert,
    /// Its timeline.
    pub timeline: &'a [TimelineEntry],
    /// Where it applies.
    pub area: Area,
}

/// What a feed needs beside its entries.
#[derive(Debug, Clone)]
pub struct FeedContext<'a> {
    /// The sending site.
    pub site: &'a Site,
    /// The feed's title.
    pub title: String,
    /// The feed's own URL (its `self` link and its id).
    pub self_url: String,
    /// The feed's `updated` when it has no entry.
    pub now: DateTime<Utc>,
}

/// An Atom 1.0 feed of the current CAP message of each `TLP:CLEAR` alert among `entries`
/// (alerts labelled higher are left out, whatever the caller passed), newest first.
///
/// Each entry's `id` is its message's CAP identifier (so an alert's entry changes id when its
/// state changes, as a new CAP message should, and keeps it otherwise); `updated` is the
/// message's `sent`, `published` the alert's first message's; it links to the CAP message
/// (`alternate`, `application/cap+xml`) and the alert's page (`related`). The feed's
/// `updated` is its newest entry's, or `now` when it has none.
pub fn atom_feed(entries: &[FeedEntry<'_>], ctx: &FeedContext<'_>) -> String {
    let site = ctx.site;
    let mut items: Vec<(&FeedEntry<'_>, Vec<Message>)> = entries
        .iter()
        .filter(|e| e.alert.tlp == Tlp::Clear)
        .map(|e| {
            let c = Context {
                site,
                area: e.area.clone(),
                addresses: Vec::new(),
                to_the_hour: false,
            };
            (e, messages(e.alert, e.timeline, &c))
        })
        .collect();
    items.sort_by(|(_, a), (_, b)| {
        let (a, b) = (
            a.last().expect("one message"),
            b.last().expect("one message"),
        );
        b.at.trunc_subsecs(0)
            .cmp(&a.at.trunc_subsecs(0))
            .then_with(|| a.identifier.cmp(&b.identifier))
    });
    let updated = items
        .iter()
        .map(|(_, m)| m.last().expect("one message").at)
        .max()
        .unwrap_or(ctx.now);
    let author = site
        .sender_name
        .clone()
        .unwrap_or_else(|| site.sender.clone());
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let r: io::Result<()> = (|| {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("feed")
            .with_attribute(("xmlns", ATOM_NAMESPACE))
            .write_inner_content(|w| {
                text(w, "id", &ctx.self_url)?;
                text(w, "title", &ctx.title)?;
                text(w, "updated", &atom_time(updated, site.offset))?;
                w.create_element("author")
                    .write_inner_content(|w| text(w, "name", &author))?;
                w.create_element("link")
                    .with_attributes([
                        ("rel", "self"),
                        ("type", ATOM_MEDIA_TYPE),
                        ("href", clean(&ctx.self_url).as_str()),
                    ])
                    .write_empty()?;
                text(w, "generator", "Tocsin")?;
                for (e, msgs) in &items {
                    let first = msgs.first().expect("one message");
                    let last = msgs.last().expect("one message");
                    let state = states(e.alert, e.timeline)
                        .last()
                        .map(|(s, _)| *s)
                        .unwrap_or(State::Open);
                    w.create_element("entry").write_inner_content(|w| {
                        text(w, "id", &last.identifier)?;
                        text(w, "title", &headline(&e.alert.title))?;
                        text(w, "updated", &atom_time(last.at, site.offset))?;
                        text(w, "published", &atom_time(first.at, site.offset))?;
                        w.create_element("link")
                            .with_attributes([
                                ("rel", "alternate"),
                                ("type", CAP_MEDIA_TYPE),
                                ("href", site.cap_url(e.alert.id).as_str()),
                            ])
                            .write_empty()?;
                        w.create_element("link")
                            .with_attributes([
                                ("rel", "related"),
                                ("type", "text/html"),
                                ("href", site.alert_url(e.alert.id).as_str()),
                            ])
                            .write_empty()?;
                        w.create_element("category")
                            .with_attribute(("term", "Security"))
                            .write_empty()?;
                        let area = area_desc(e.alert, &e.area);
                        text(w, "summary", &description(e.alert, state, area.as_deref()))
                    })?;
                }
                Ok(())
            })?;
        Ok(())
    })();
    r.expect("writing XML to memory cannot fail");
    finish(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sent_has_an_offset_and_no_fraction() {
        let t = DateTime::parse_from_rfc3339("2026-12-06T08:00:05.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            cap_time(t, FixedOffset::east_opt(0).unwrap()),
            "2026-12-06T08:00:05-00:00"
        );
        assert_eq!(
            cap_time(t, FixedOffset::east_opt(3600).unwrap()),
            "2026-12-06T09:00:05+01:00"
        );
        assert_eq!(
            cap_time(t, FixedOffset::west_opt(5 * 3600 + 1800).unwrap()),
            "2026-12-06T02:30:05-05:30"
        );
        assert_eq!(
            atom_time(t, FixedOffset::east_opt(0).unwrap()),
            "2026-12-06T08:00:05Z"
        );
    }

    #[test]
    fn polygons_close_and_refuse_too_few_points() {
        let p = |a, b| Point::new(a, b).unwrap();
        let open = Polygon::new(vec![p(1.0, 2.0), p(3.0, 4.0), p(5.0, 2.0)]).unwrap();
        assert_eq!(open.points().len(), 4);
        assert_eq!(open.points()[0], open.points()[3]);
        assert_eq!(open.cap(), "1,2 3,4 5,2 1,2");
        let closed =
            Polygon::new(vec![p(1.0, 2.0), p(3.0, 4.0), p(5.0, 2.0), p(1.0, 2.0)]).unwrap();
        assert_eq!(closed, open);
        let e = Polygon::new(vec![p(1.0, 2.0), p(3.0, 4.0)]).unwrap_err();
        assert_eq!(e.field, "polygon");
        assert!(Polygon::new(vec![p(1.0, 2.0), p(3.0, 4.0), p(1.0, 2.0), p(3.0, 4.0)]).is_err());
        assert_eq!(Point::new(91.0, 0.0).unwrap_err().field, "latitude");
        assert_eq!(Point::new(0.0, f64::NAN).unwrap_err().field, "longitude");
        assert_eq!(
            Circle::new(p(0.0, 0.0), -1.0).unwrap_err().field,
            "radius_km"
        );
    }

    #[test]
    fn the_site_refuses_what_cap_cannot_carry() {
        assert_eq!(
            Site::new("a b", "https://x.org").unwrap_err().field,
            "sender"
        );
        assert_eq!(
            Site::new("a,b", "https://x.org").unwrap_err().field,
            "sender"
        );
        assert_eq!(
            Site::new("a&b", "https://x.org").unwrap_err().field,
            "sender"
        );
        assert_eq!(Site::new("ok", "ftp://x").unwrap_err().field, "base_url");
        let s = Site::new("alerts@x.org", "https://x.org/tocsin/").unwrap();
        assert_eq!(
            s.cap_url(Uuid::nil()),
            "https://x.org/tocsin/api/v1/alerts/00000000-0000-0000-0000-000000000000/cap"
        );
        assert!(s.clone().with_language("fr-CA").is_ok());
        assert_eq!(
            s.clone().with_language("fr CA").unwrap_err().field,
            "language"
        );
        assert_eq!(
            s.clone()
                .with_offset(FixedOffset::east_opt(30).unwrap())
                .unwrap_err()
                .field,
            "offset"
        );
        assert_eq!(s.with_cap_path("/cap").unwrap_err().field, "cap_path");
    }

    #[test]
    fn identifiers_are_fixed_forever() {
        // Pinned: an identifier already sent must never change with a new release.
        assert_eq!(
            identifier(Uuid::nil(), 0),
            identifier(Uuid::nil(), 0),
            "deterministic"
        );
        assert_ne!(identifier(Uuid::nil(), 0), identifier(Uuid::nil(), 1));
        let id = identifier(Uuid::from_u128(1), 0);
        assert!(id.starts_with("urn:uuid:") && cap_token(&id), "{id}");
        assert_eq!(id, PINNED_ID_1_0, "the identifier scheme changed");
    }

    /// Checked independently: Python's `uuid.uuid5(NAMESPACE, "<alert id>/0")`.
    const PINNED_ID_1_0: &str = "urn:uuid:65fb004d-0d7d-5245-808e-33424bb97e74";

    #[test]
    fn clean_drops_what_xml_cannot_carry() {
        assert_eq!(clean("a\u{0}b\u{1b}c\td\ne\r\u{7f}\u{fffe}"), "abc\td\ne");
    }
}
