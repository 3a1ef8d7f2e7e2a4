//! Monitored feeds and archives (issue 19): public posts and articles, not reports. Entries of
//! a feed (RSS 0.9x/1.0/2.0, Atom, JSON Feed, read by `feed-rs`) or of an archive (Telegram
//! Desktop's `result.json`, JSONL, CSV, any of them gzip-compressed) become
//! [`MonitoredItem`]s; every item is scanned with the enabled lexicons as it is stored, and its
//! flags are written in the same write ([`Op::StoreItems`]).
//!
//! **Once.** An item's key is the hash of its GUID (a feed entry's id; else its link; else its
//! title and content) or of the archive's message id, unique per origin: re-reading a feed or
//! re-importing an archive stores nothing new, and an edited entry (same GUID, new content)
//! keeps the first version stored.
//!
//! **Constant memory.** Archives are read as a stream: the `messages` array of a Telegram
//! export element by element (a `serde_json` visitor), JSONL line by line, CSV record by
//! record, on a blocking thread that hands batches of [`BATCH`] entries to the writer.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use tocsin_domain::monitor::{cut, item_key, MAX_ITEM_FIELD_BYTES, MAX_ITEM_TEXT_BYTES};
use tocsin_domain::{
    Actor, Country, FeedState, ItemKind, MonitoredItem, Page, PageRequest, Permission, SpeechFlag,
    Tlp, User,
};
use tocsin_store::{Done, ItemFilter, ItemWrite, Op, Store};
use uuid::Uuid;

use crate::{reads, require, visible, Acting, App, AppError, Result};

/// Entries written per store write.
pub const BATCH: usize = 500;
/// The most problems an import summary lists one by one (all are counted).
pub const MAX_LISTED_PROBLEMS: usize = 100;
/// The longest JSONL line read (longer lines are malformed).
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// What a feed's or an archive's items carry from its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDefaults {
    /// The feed's or archive's name.
    pub origin: String,
    /// Feed or archive.
    pub kind: ItemKind,
    /// The country configured.
    pub country: Option<Country>,
    /// The label of its items.
    pub tlp: Tlp,
    /// The language of its items, when configured (an entry's own language wins).
    pub language: Option<String>,
}

/// One entry read from a feed or an archive, before it is an item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// Its GUID, id or message id, as read (hashed into the key).
    pub key: String,
    /// Its address.
    pub url: Option<String>,
    /// Its title.
    pub title: Option<String>,
    /// Its author.
    pub author: Option<String>,
    /// Its text (already plain text).
    pub text: String,
    /// Its language, when the entry says.
    pub language: Option<String>,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
}

fn field(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| cut(s, MAX_ITEM_FIELD_BYTES).to_string())
}

impl Entry {
    /// The item of this entry, with a new random id.
    pub fn item(&self, d: &ItemDefaults, fetched_at: DateTime<Utc>) -> MonitoredItem {
        MonitoredItem {
            id: tocsin_domain::random_id(),
            origin: d.origin.clone(),
            kind: d.kind,
            key: item_key(&self.key),
            url: field(self.url.as_deref()),
            title: field(self.title.as_deref()),
            author: field(self.author.as_deref()),
            text: cut(self.text.trim(), MAX_ITEM_TEXT_BYTES).replace('\0', "\u{FFFD}"),
            language: field(self.language.as_deref()).or_else(|| d.language.clone()),
            country: d.country.clone(),
            published_at: self.published_at,
            fetched_at,
            tlp: d.tlp,
        }
    }
}

/// HTML reduced to text: tags dropped (`<br>`, `<p>`, `<div>`, `<li>` and headings become line
/// breaks), `<script>` and `<style>` dropped with their content, character references
/// decoded, runs of blank space within a line made one space.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..lt]));
        let after = &rest[lt..];
        // A comment.
        if after.starts_with("<!--") {
            rest = after.find("-->").map_or("", |e| &after[e + 3..]);
            continue;
        }
        let Some(gt) = after.find('>') else {
            // A lone `<`: text.
            out.push_str(&decode_entities(after));
            rest = "";
            break;
        };
        let tag = after[1..gt].trim_start_matches('/').to_ascii_lowercase();
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        rest = &after[gt + 1..];
        if name.is_empty() && !after[1..].starts_with('/') {
            // `a < b`: not a tag.
            if !after[1..gt].starts_with('!') && !after[1..gt].starts_with('?') {
                out.push('<');
                rest = &after[1..];
            }
            continue;
        }
        if (name == "script" || name == "style") && !after[1..].starts_with('/') {
            let close = format!("</{name}");
            let lower = rest.to_ascii_lowercase();
            rest = match lower.find(&close) {
                Some(i) => {
                    let r = &rest[i..];
                    r.find('>').map_or("", |g| &r[g + 1..])
                }
                None => "",
            };
            continue;
        }
        if matches!(
            name.as_str(),
            "br" | "p"
                | "div"
                | "li"
                | "tr"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "blockquote"
                | "ul"
                | "ol"
                | "table"
                | "hr"
        ) {
            out.push('\n');
        }
    }
    out.push_str(&decode_entities(rest));
    // Tidy the blank space: one space within a line, no blank lines in a row.
    let mut tidy = String::with_capacity(out.len());
    for line in out.lines() {
        let l = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if l.is_empty() {
            if !tidy.is_empty() && !tidy.ends_with("\n\n") {
                tidy.push('\n');
            }
            continue;
        }
        if !tidy.is_empty() && !tidy.ends_with('\n') {
            tidy.push('\n');
        }
        tidy.push_str(&l);
    }
    tidy.trim().to_string()
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let end = after[1..]
            .char_indices()
            .take(12)
            .find(|(_, c)| *c == ';')
            .map(|(i, _)| i + 1);
        let decoded = end.and_then(|e| {
            let name = &after[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
                    .ok()
                    .and_then(char::from_u32),
                n if n.starts_with('#') => n[1..].parse::<u32>().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &after[len..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A feed's entries, parsed from its body (RSS 0.9x/1.0/2.0, Atom or JSON Feed), in the
/// feed's order, with the count of entries left out (no text and no title). An entry's key
/// is its GUID or id; else its link; else a hash of its title and content. Err when the body
/// is no feed.
pub fn parse_feed(body: &[u8]) -> std::result::Result<(Vec<Entry>, u64), String> {
    let parser = feed_rs::parser::Builder::new()
        // No generated ids: the fallback (link, then title and content) is chosen below.
        .id_generator(|_, _, _| String::new())
        .build();
    let feed = parser.parse(body).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(feed.entries.len());
    let mut left_out = 0;
    let feed_language = feed.language.clone();
    for e in feed.entries {
        let title = e.title.as_ref().map(|t| plain(&t.content));
        let body = e
            .content
            .as_ref()
            .and_then(|c| c.body.clone())
            .or_else(|| e.summary.as_ref().map(|s| s.content.clone()))
            .map(|b| html_to_text(&b))
            .unwrap_or_default();
        let title = title.filter(|t| !t.trim().is_empty());
        if body.trim().is_empty() && title.is_none() {
            left_out += 1;
            continue;
        }
        let link = e.links.first().map(|l| l.href.clone());
        let key = if !e.id.trim().is_empty() {
            format!("id:{}", e.id.trim())
        } else if let Some(l) = link.as_ref().filter(|l| !l.trim().is_empty()) {
            format!("link:{}", l.trim())
        } else {
            format!(
                "hash:{}",
                item_key(&format!("{}\u{1f}{body}", title.as_deref().unwrap_or("")))
            )
        };
        let text = match &title {
            Some(t) if !body.starts_with(t.as_str()) && !body.is_empty() => {
                format!("{t}\n\n{body}")
            }
            Some(t) if body.is_empty() => t.clone(),
            _ => body,
        };
        out.push(Entry {
            key,
            url: link,
            title,
            author: e.authors.first().and_then(|p| p.name.clone()),
            text,
            language: e.language.clone().or_else(|| feed_language.clone()),
            published_at: e.published.or(e.updated),
        });
    }
    Ok((out, left_out))
}

fn plain(s: &str) -> String {
    if s.contains('<') {
        html_to_text(s)
    } else {
        s.trim().to_string()
    }
}

/// What storing a batch of entries did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Stored {
    /// Entries offered.
    pub offered: u64,
    /// New items stored.
    pub stored: u64,
    /// Entries whose key was already stored (or repeated in the batch).
    pub duplicates: u64,
    /// New items stored with at least one flag.
    pub flagged: u64,
}

/// Store entries as items of `d`, each scanned with the enabled lexicons, its flags in the
/// same write; an entry whose key is repeated in `entries` or already stored is skipped.
/// `feed`, when given, is the feed's poll state, kept in the same write.
pub async fn store_entries<S: Store + ?Sized>(
    store: &S,
    actor: &Actor,
    d: &ItemDefaults,
    entries: &[Entry],
    feed: Option<FeedState>,
) -> Result<Stored> {
    let compiled = crate::flags::compiled(store).await?;
    let now = tocsin_domain::time::now();
    let mut seen = HashSet::new();
    let mut items = Vec::with_capacity(entries.len());
    for e in entries {
        let item = e.item(d, now);
        if !seen.insert(item.key.clone()) {
            continue;
        }
        // Offsets are in the item's text (a feed entry's title is its first line).
        let flags: Vec<SpeechFlag> = compiled
            .flags(item.id, item.tlp, &item.text, now)
            .into_iter()
            .map(|mut f| {
                f.report_id = None;
                f.item_id = Some(item.id);
                f
            })
            .collect();
        items.push(ItemWrite { item, flags });
    }
    let offered = entries.len() as u64;
    let done = store
        .write(
            actor,
            Op::StoreItems {
                items,
                feed: feed.map(Box::new),
            },
        )
        .await?;
    let (stored, flagged) = match done {
        Done::Items { stored, flagged } => (stored, flagged),
        _ => (0, 0),
    };
    Ok(Stored {
        offered,
        stored,
        duplicates: offered - stored,
        flagged,
    })
}

/// An archive's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveFormat {
    /// Telegram Desktop's `result.json` (one chat's export).
    Telegram,
    /// One JSON object per line.
    Jsonl,
    /// A header row, then one post per row (`,` or `;`).
    Csv,
}

impl ArchiveFormat {
    /// Parse `telegram`, `jsonl` or `csv`.
    pub fn parse(s: &str) -> Result<ArchiveFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "telegram" => Ok(ArchiveFormat::Telegram),
            "jsonl" | "ndjson" => Ok(ArchiveFormat::Jsonl),
            "csv" => Ok(ArchiveFormat::Csv),
            _ => Err(AppError::invalid(
                "format",
                "expected telegram, jsonl or csv",
            )),
        }
    }
}

/// What an archive import is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// The archive's name (its items' origin; re-importing under the same name stores
    /// nothing new).
    pub name: String,
    /// Its format.
    pub format: ArchiveFormat,
    /// The country of its posts (ISO 3166 alpha-3).
    pub country: Option<String>,
    /// The label of its items (default TLP:GREEN).
    pub tlp: Option<String>,
}

/// How an import went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportSummary {
    /// Posts read (messages, lines or rows with a post in them, malformed ones included).
    pub read: u64,
    /// New items stored.
    pub stored: u64,
    /// Posts already stored (or repeated in the file).
    pub duplicates: u64,
    /// Posts that could not be read.
    pub malformed: u64,
    /// Posts left out on purpose (service messages, posts without text, blank lines).
    pub skipped: u64,
    /// New items stored with at least one flag.
    pub flagged: u64,
    /// The first problems, each with its place (`line 3: ...`, `message 12: ...`).
    pub problems: Vec<String>,
}

/// One post read from an archive, or where and why it could not be.
enum Read1 {
    Post(Entry),
    Skipped,
    Malformed(String),
}

/// Reads `input` (gzip when it starts with gzip's magic bytes) in `format`, handing what it
/// reads to `sink` one post at a time; `sink` answers false to stop. Err when the whole file
/// cannot be read (not a Telegram export at all, an I/O error).
fn read_archive(
    input: impl Read,
    format: ArchiveFormat,
    sink: &mut dyn FnMut(Read1) -> bool,
) -> std::result::Result<(), String> {
    let mut buffered = BufReader::with_capacity(64 * 1024, input);
    let gz = {
        let head = buffered.fill_buf().map_err(|e| e.to_string())?;
        head.starts_with(&[0x1f, 0x8b])
    };
    if gz {
        let d = BufReader::with_capacity(64 * 1024, flate2::bufread::MultiGzDecoder::new(buffered));
        read_plain(d, format, sink)
    } else {
        read_plain(buffered, format, sink)
    }
}

fn read_plain(
    input: impl BufRead,
    format: ArchiveFormat,
    sink: &mut dyn FnMut(Read1) -> bool,
) -> std::result::Result<(), String> {
    match format {
        ArchiveFormat::Telegram => read_telegram(input, sink),
        ArchiveFormat::Jsonl => read_jsonl(input, sink),
        ArchiveFormat::Csv => read_csv(input, sink),
    }
}

/// The text of a Telegram message: a string, or an array of strings and `{type, text}`
/// entities, joined.
fn telegram_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(parts) => {
            let mut s = String::new();
            for p in parts {
                match p {
                    serde_json::Value::String(t) => s.push_str(t),
                    serde_json::Value::Object(o) => s.push_str(o.get("text")?.as_str()?),
                    _ => return None,
                }
            }
            Some(s)
        }
        _ => None,
    }
}

fn json_id(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A time as archives write it: RFC 3339, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DDTHH:MM:SS`
/// (taken as UTC), or Unix seconds.
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    if let Ok(secs) = s.parse::<i64>() {
        return DateTime::from_timestamp(secs, 0);
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    None
}

fn telegram_message(n: u64, m: serde_json::Value) -> Read1 {
    let Some(o) = m.as_object() else {
        return Read1::Malformed(format!("message {n}: not an object"));
    };
    if o.get("type").and_then(|t| t.as_str()) == Some("service") {
        return Read1::Skipped;
    }
    let Some(id) = json_id(o.get("id")) else {
        return Read1::Malformed(format!("message {n}: no id"));
    };
    let Some(text) = o.get("text").map_or(Some(String::new()), telegram_text) else {
        return Read1::Malformed(format!("message {n} (id {id}): unreadable text"));
    };
    if text.trim().is_empty() {
        return Read1::Skipped;
    }
    let published_at = o
        .get("date_unixtime")
        .and_then(|d| d.as_str())
        .and_then(parse_time)
        .or_else(|| o.get("date").and_then(|d| d.as_str()).and_then(parse_time));
    Read1::Post(Entry {
        key: id,
        url: None,
        title: None,
        author: o.get("from").and_then(|f| f.as_str()).map(str::to_string),
        text,
        language: None,
        published_at,
    })
}

fn read_telegram(
    input: impl BufRead,
    sink: &mut dyn FnMut(Read1) -> bool,
) -> std::result::Result<(), String> {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use std::fmt;

    struct Top<'s>(&'s mut dyn FnMut(Read1) -> bool);
    struct Messages<'s>(&'s mut dyn FnMut(Read1) -> bool);

    impl<'de> Visitor<'de> for Top<'_> {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a Telegram export (an object with a messages array)")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<bool, A::Error> {
            let mut found = false;
            while let Some(k) = map.next_key::<String>()? {
                if k == "messages" && !found {
                    map.next_value_seed(Messages(&mut *self.0))?;
                    found = true;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }

    impl<'de> DeserializeSeed<'de> for Messages<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }

    impl<'de> Visitor<'de> for Messages<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an array of messages")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
            let mut n = 0u64;
            while let Some(m) = seq.next_element::<serde_json::Value>()? {
                n += 1;
                if !(self.0)(telegram_message(n, m)) {
                    return Err(serde::de::Error::custom("stopped"));
                }
            }
            Ok(())
        }
    }

    let mut de = serde_json::Deserializer::from_reader(input);
    let found = de
        .deserialize_map(Top(sink))
        .map_err(|e| format!("not a Telegram export: {e}"))?;
    if !found {
        return Err("not a Telegram export: no messages array".into());
    }
    Ok(())
}

const TEXT_NAMES: [&str; 5] = ["text", "message", "content", "body", "full_text"];
const ID_NAMES: [&str; 5] = ["id", "message_id", "guid", "post_id", "uuid"];
const DATE_NAMES: [&str; 5] = [
    "date",
    "created_at",
    "published",
    "published_at",
    "timestamp",
];
const AUTHOR_NAMES: [&str; 5] = ["author", "username", "from", "user", "screen_name"];
const URL_NAMES: [&str; 3] = ["url", "link", "permalink"];

/// A post from named fields (JSONL objects, CSV rows): `get` answers a field's value.
fn post_from(at: &str, get: &dyn Fn(&str) -> Option<String>) -> Read1 {
    let first = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| get(n))
            .filter(|v| !v.trim().is_empty())
    };
    let Some(text) = first(&TEXT_NAMES) else {
        return Read1::Malformed(format!("{at}: no text (text, message, content or body)"));
    };
    let date = first(&DATE_NAMES);
    let author = first(&AUTHOR_NAMES);
    let key = match first(&ID_NAMES) {
        Some(id) => id.trim().to_string(),
        None => format!(
            "hash:{}",
            item_key(&format!(
                "{}\u{1f}{}\u{1f}{text}",
                author.as_deref().unwrap_or(""),
                date.as_deref().unwrap_or("")
            ))
        ),
    };
    Read1::Post(Entry {
        key,
        url: first(&URL_NAMES),
        title: get("title"),
        author,
        published_at: date.as_deref().and_then(parse_time),
        language: get("language").or_else(|| get("lang")),
        text: if text.contains('<') && text.contains('>') {
            html_to_text(&text)
        } else {
            text
        },
    })
}

fn json_field(o: &serde_json::Map<String, serde_json::Value>, name: &str) -> Option<String> {
    match o.get(name)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        // A nested author (`{"username": ...}`) or a Telegram-style text array.
        v @ serde_json::Value::Array(_) => telegram_text(v),
        serde_json::Value::Object(inner) => ["username", "name", "screen_name"]
            .iter()
            .find_map(|k| inner.get(*k)?.as_str().map(str::to_string)),
        _ => None,
    }
}

fn read_jsonl(
    mut input: impl BufRead,
    sink: &mut dyn FnMut(Read1) -> bool,
) -> std::result::Result<(), String> {
    let mut line = Vec::new();
    let mut n = 0u64;
    loop {
        line.clear();
        let got = (&mut input)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| e.to_string())?;
        if got == 0 {
            return Ok(());
        }
        n += 1;
        let r = if line.len() > MAX_LINE_BYTES && !line.ends_with(b"\n") {
            // Skip the rest of the over-long line.
            loop {
                let buf = input.fill_buf().map_err(|e| e.to_string())?;
                if buf.is_empty() {
                    break;
                }
                match buf.iter().position(|b| *b == b'\n') {
                    Some(i) => {
                        input.consume(i + 1);
                        break;
                    }
                    None => {
                        let l = buf.len();
                        input.consume(l);
                    }
                }
            }
            Read1::Malformed(format!("line {n}: longer than {MAX_LINE_BYTES} bytes"))
        } else {
            let s = String::from_utf8_lossy(&line);
            let s = s.trim_start_matches('\u{feff}').trim();
            if s.is_empty() {
                Read1::Skipped
            } else {
                match serde_json::from_str::<serde_json::Value>(s) {
                    Ok(serde_json::Value::Object(o)) => {
                        post_from(&format!("line {n}"), &|k| json_field(&o, k))
                    }
                    Ok(_) => Read1::Malformed(format!("line {n}: not a JSON object")),
                    Err(e) => Read1::Malformed(format!("line {n}: not JSON ({e})")),
                }
            }
        };
        if !sink(r) {
            return Ok(());
        }
    }
}

fn read_csv(
    mut input: impl BufRead,
    sink: &mut dyn FnMut(Read1) -> bool,
) -> std::result::Result<(), String> {
    // The delimiter: `;` when the header row has more of them than commas (spreadsheets in
    // locales writing decimal commas).
    let delimiter = {
        let head = input.fill_buf().map_err(|e| e.to_string())?;
        let first = head.split(|b| *b == b'\n').next().unwrap_or(&[]);
        let semis = first.iter().filter(|b| **b == b';').count();
        let commas = first.iter().filter(|b| **b == b',').count();
        if semis > commas {
            b';'
        } else {
            b','
        }
    };
    // A BOM is taken off here: the parser would skip it too, but leave it out of its byte
    // offsets, which then would not match the line count.
    if input
        .fill_buf()
        .map_err(|e| e.to_string())?
        .starts_with(b"\xEF\xBB\xBF")
    {
        input.consume(3);
    }
    let lines = Lines::default();
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(false)
        .from_reader(CountLines {
            inner: input,
            at: 0,
            lines: lines.clone(),
        });
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| format!("no header row: {e}"))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
        .collect();
    if !headers.iter().any(|h| TEXT_NAMES.contains(&h.as_str())) {
        return Err(format!(
            "no text column in the header row (one of {})",
            TEXT_NAMES.join(", ")
        ));
    }
    let mut rec = csv::StringRecord::new();
    loop {
        let read = r.read_record(&mut rec);
        let out = match read {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = rec.position().map_or(0, |p| lines.line_at(p.byte()));
                if rec.iter().all(|f| f.trim().is_empty()) {
                    Read1::Skipped
                } else {
                    post_from(&format!("line {line}"), &|k| {
                        let i = headers.iter().position(|h| h == k)?;
                        rec.get(i).map(str::to_string)
                    })
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
                match e.kind() {
                    csv::ErrorKind::Io(_) => return Err(e.to_string()),
                    csv::ErrorKind::UnequalLengths { .. } => {
                        Read1::Malformed(format!("line {line}: wrong number of fields"))
                    }
                    _ => Read1::Malformed(format!("line {line}: {e}")),
                }
            }
        };
        if !sink(out) {
            return Ok(());
        }
    }
}

/// The byte offsets of the newlines read and not yet asked about, shared between the reader
/// the CSV parser reads through and the loop asking which line a record starts on (the
/// parser's own count leaves out newlines inside quoted fields). Holds about a buffer's worth.
#[derive(Clone, Default)]
struct Lines(std::rc::Rc<std::cell::RefCell<(u64, std::collections::VecDeque<u64>)>>);

impl Lines {
    /// The line (from 1) a record starting at byte `offset` is on; offsets asked must not go
    /// back.
    fn line_at(&self, offset: u64) -> u64 {
        let mut l = self.0.borrow_mut();
        // `<=`: after a CRLF the parser starts the next record at the LF.
        while l.1.front().is_some_and(|n| *n <= offset) {
            l.1.pop_front();
            l.0 += 1;
        }
        l.0 + 1
    }
}

struct CountLines<R> {
    inner: R,
    at: u64,
    lines: Lines,
}

impl<R: Read> Read for CountLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut l = self.lines.0.borrow_mut();
        for (i, b) in buf[..n].iter().enumerate() {
            if *b == b'\n' {
                l.1.push_back(self.at + i as u64);
            }
        }
        self.at += n as u64;
        Ok(n)
    }
}

/// What a list of items is asked for, as a client wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemQuery {
    /// A feed's or archive's name.
    pub origin: Option<String>,
    /// `yes`/`true` (flagged only) or `no`/`false` (not flagged only).
    pub flagged: Option<String>,
}

impl ItemQuery {
    /// The store's filter at `clearance`.
    pub fn filter(self, clearance: Tlp) -> Result<ItemFilter> {
        let flagged = match self
            .flagged
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some("yes" | "true" | "1") => Some(true),
            Some("no" | "false" | "0") => Some(false),
            Some(_) => return Err(AppError::invalid("flagged", "expected yes or no")),
        };
        Ok(ItemFilter {
            max_tlp: clearance,
            origin: self
                .origin
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            flagged,
        })
    }
}

/// A configured feed (`[[feeds]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedConfig {
    /// Its name (its items' origin).
    pub name: String,
    /// Its address (http or https).
    pub url: String,
    /// How often it is polled.
    pub interval: std::time::Duration,
    /// The country of its posts.
    pub country: Option<Country>,
    /// The label of its items.
    pub tlp: Tlp,
    /// The language of its items, unless an entry says.
    pub language: Option<String>,
    /// The largest body read; a larger one is refused and nothing of it stored.
    pub max_bytes: u64,
}

impl FeedConfig {
    /// What its items carry.
    pub fn defaults(&self) -> ItemDefaults {
        ItemDefaults {
            origin: self.name.clone(),
            kind: ItemKind::Feed,
            country: self.country.clone(),
            tlp: self.tlp,
            language: self.language.clone(),
        }
    }
}

impl App<'_> {
    /// Import an archive of posts (admins and analysts: [`Permission::LexiconManage`]), read
    /// as a stream in constant memory; each post stored once per archive name, scanned and
    /// flagged as it is stored. Malformed posts are counted and listed with their place.
    pub async fn import_archive(
        &self,
        by: Acting<'_>,
        input: impl Read + Send + 'static,
        opts: ImportOptions,
    ) -> Result<ImportSummary> {
        by.require(Permission::LexiconManage)?;
        let name = tocsin_domain::monitor::check_origin("name", &opts.name)?;
        let country = match opts.country.as_deref().map(str::trim) {
            Some(c) if !c.is_empty() => Some(Country::parse(c)?),
            _ => None,
        };
        let tlp = match opts.tlp.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => t
                .parse::<Tlp>()
                .map_err(|_| AppError::invalid("tlp", "expected a TLP label, e.g. TLP:GREEN"))?,
            _ => Tlp::Green,
        };
        if matches!(by, Acting::User(u) if !u.may_see(tlp)) {
            return Err(AppError::invalid(
                "tlp",
                "above your clearance: you could not read what you import",
            ));
        }
        let d = ItemDefaults {
            origin: name,
            kind: ItemKind::Archive,
            country,
            tlp,
            language: None,
        };
        let format = opts.format;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Read1>>(2);
        let reader = tokio::task::spawn_blocking(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let mut sink = |r: Read1| {
                batch.push(r);
                if batch.len() >= BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    return tx.blocking_send(full).is_ok();
                }
                true
            };
            let r = read_archive(input, format, &mut sink);
            if !batch.is_empty() {
                let _ = tx.blocking_send(batch);
            }
            r
        });
        let actor = by.actor();
        let mut sum = ImportSummary::default();
        let mut failed = None;
        while let Some(batch) = rx.recv().await {
            let mut entries = Vec::with_capacity(batch.len());
            for r in batch {
                match r {
                    Read1::Post(e) => {
                        sum.read += 1;
                        entries.push(e);
                    }
                    Read1::Skipped => sum.skipped += 1,
                    Read1::Malformed(why) => {
                        sum.read += 1;
                        sum.malformed += 1;
                        if sum.problems.len() < MAX_LISTED_PROBLEMS {
                            sum.problems.push(why);
                        }
                    }
                }
            }
            if entries.is_empty() {
                continue;
            }
            match store_entries(&**self.store, &actor, &d, &entries, None).await {
                Ok(s) => {
                    sum.stored += s.stored;
                    sum.duplicates += s.duplicates;
                    sum.flagged += s.flagged;
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        drop(rx);
        let read = reader
            .await
            .map_err(|e| AppError::Internal(format!("reading the archive failed: {e}")))?;
        if let Some(e) = failed {
            return Err(e);
        }
        if let Err(e) = read {
            if sum.read == 0 && sum.skipped == 0 {
                return Err(AppError::invalid("file", e));
            }
            sum.malformed += 1;
            sum.problems.push(format!("the rest of the file: {e}"));
        }
        Ok(sum)
    }

    /// One page of the monitored items `u` may see (readers of speech flags), newest first.
    pub async fn list_items(
        &self,
        u: &User,
        q: ItemQuery,
        page: PageRequest,
    ) -> Result<Page<MonitoredItem>> {
        require(u, Permission::ReportRead)?;
        let f = q.filter(u.clearance)?;
        let page = self.store.list_items(&f, page).await?;
        reads::list(
            self.store,
            u,
            "monitored_item",
            page.items.iter().map(|x| (x.id, x.tlp)),
        )
        .await?;
        Ok(page)
    }

    /// One monitored item `u` may see, with its flags.
    pub async fn get_item(&self, u: &User, id: Uuid) -> Result<(MonitoredItem, Vec<SpeechFlag>)> {
        require(u, Permission::ReportRead)?;
        let i = self.store.get_item(id).await?;
        visible(u, i.tlp)?;
        reads::one(self.store, u, "monitored_item", i.id, i.tlp).await?;
        let flags = self
            .store
            .flags_of_items(&[i.id])
            .await?
            .into_iter()
            .filter(|f| u.may_see(f.tlp))
            .collect();
        Ok((i, flags))
    }

    /// The flags of these items `u` may see.
    pub async fn flags_of_items(&self, u: &User, items: &[Uuid]) -> Result<Vec<SpeechFlag>> {
        if !u.can(Permission::ReportRead) || items.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .store
            .flags_of_items(items)
            .await?
            .into_iter()
            .filter(|f| u.may_see(f.tlp))
            .collect())
    }

    /// Every feed's poll state and the items of each origin (readers of speech flags).
    pub async fn monitor_status(&self, u: &User) -> Result<(Vec<FeedState>, Vec<(String, u64)>)> {
        require(u, Permission::ReportRead)?;
        Ok((
            self.store.feed_states().await?,
            self.store.item_origins().await?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_text() {
        let t = html_to_text(
            "<p>Hello&nbsp;<b>world</b> &amp; all</p><script>var x = '<p>';</script>\
             <ul><li>one</li><li>two &#x263A; &#9731;</li></ul>a &lt; b, 3 < 4<!-- gone -->",
        );
        assert_eq!(t, "Hello world & all\n\none\ntwo ☺ ☃\na < b, 3 < 4");
        assert_eq!(html_to_text("plain text"), "plain text");
        assert_eq!(html_to_text("AT&T &bogus; <br/>x"), "AT&T &bogus;\nx");
    }

    fn collect(bytes: &[u8], f: ArchiveFormat) -> (Vec<Entry>, Vec<String>, u64) {
        let (mut posts, mut bad, mut skipped) = (Vec::new(), Vec::new(), 0);
        read_archive(bytes, f, &mut |r| {
            match r {
                Read1::Post(e) => posts.push(e),
                Read1::Malformed(w) => bad.push(w),
                Read1::Skipped => skipped += 1,
            }
            true
        })
        .unwrap();
        (posts, bad, skipped)
    }

    #[test]
    fn telegram_texts_are_strings_or_arrays() {
        let j = br#"{"name":"Chan","type":"public_channel","id":1,"messages":[
            {"id":1,"type":"service","action":"create_channel","date":"2024-01-01T00:00:00"},
            {"id":2,"type":"message","date":"2024-01-02T10:00:00","date_unixtime":"1704189600","from":"Chan","text":"plain"},
            {"id":3,"type":"message","from":"Chan","text":["a ",{"type":"bold","text":"bold"}," b"]},
            {"id":4,"type":"message","text":""},
            {"type":"message","text":"no id"}
        ],"extra":{"x":[1,2]}}"#;
        let (p, bad, skipped) = collect(j, ArchiveFormat::Telegram);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].text, "plain");
        assert_eq!(p[0].published_at.unwrap().timestamp(), 1704189600);
        assert_eq!(p[1].text, "a bold b");
        assert_eq!(skipped, 2);
        assert_eq!(bad, ["message 5: no id"]);
    }

    #[test]
    fn csv_with_bom_and_semicolons() {
        let c = "\u{feff}id;Date;Author;Text\n1;2024-03-01 10:00;ana;\"two\nlines\"\n2;x\n;;;\n";
        let (p, bad, skipped) = collect(c.as_bytes(), ArchiveFormat::Csv);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].text, "two\nlines");
        assert_eq!(p[0].author.as_deref(), Some("ana"));
        assert_eq!(bad, ["line 4: wrong number of fields"]);
        assert_eq!(skipped, 1);
    }
}
