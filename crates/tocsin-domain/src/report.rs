//! Reports: raw inbound messages, stored exactly as received and never edited.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::page::{check_point, BBox};
use crate::{Country, DomainError, Reliability, Tlp};

/// The longest report text accepted, in bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// How a report reached Tocsin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// A text message through an SMS gateway.
    Sms,
    /// The public web form or the UI.
    Web,
    /// The HTTP API.
    Api,
    /// E-mail.
    Email,
    /// A file import.
    Import,
    /// A message to the organisation's Telegram bot.
    Telegram,
    /// A WhatsApp message (WhatsApp Business Cloud API).
    Whatsapp,
}

impl Channel {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Web => "web",
            Channel::Api => "api",
            Channel::Email => "email",
            Channel::Import => "import",
            Channel::Telegram => "telegram",
            Channel::Whatsapp => "whatsapp",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Result<Channel, DomainError> {
        Ok(match s {
            "sms" => Channel::Sms,
            "web" => Channel::Web,
            "api" => Channel::Api,
            "email" => Channel::Email,
            "import" => Channel::Import,
            "telegram" => Channel::Telegram,
            "whatsapp" => Channel::Whatsapp,
            _ => {
                return Err(DomainError::invalid(
                    "channel",
                    format!("unknown channel {s:?}"),
                ))
            }
        })
    }
}

/// A report as the API receives it (`POST /api/v1/reports`). Unknown fields are refused.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// The message, exactly as received.
    pub text: String,
    /// Its label; `TLP:AMBER` when absent.
    pub tlp: Option<Tlp>,
    /// Claimed place, WGS84.
    pub latitude: Option<f64>,
    /// Claimed place, WGS84.
    pub longitude: Option<f64>,
    /// Claimed time of the event, RFC 3339.
    pub occurred_at: Option<String>,
    /// ISO 3166-1 alpha-3 country the report is about, if known.
    pub country: Option<String>,
    /// Handle of a known source (e.g. `M-0423`) that sent it.
    pub source: Option<String>,
}

/// What Tocsin made of a report's text (SMS parsing): all optional, never the text itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportMeta {
    /// Language of the message: `en`, `fr`, `sw`, `ar`.
    pub language: Option<String>,
    /// Category from the keyword code, e.g. `attack`.
    pub category: Option<String>,
    /// The place name the message was resolved to.
    pub place_name: Option<String>,
    /// ACLED-style precision of the resolved place (1 exact … 3 region).
    pub geo_precision: Option<i16>,
    /// The message seemed to name a place the gazetteer does not know.
    #[serde(default)]
    pub place_unresolved: bool,
}

/// A validated report, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    /// Its id (random: it must not tell when the report arrived).
    pub id: Uuid,
    /// How it arrived.
    pub channel: Channel,
    /// A keyed hash of the gateway's own message id, when it gave one (for recognising a
    /// gateway's retry). The id itself is never stored: matched against the gateway's
    /// records it would name the sender.
    pub provider_key: Option<String>,
    /// Who sent it (a source id), when known.
    pub source_id: Option<Uuid>,
    /// The text, byte-exact.
    pub text: String,
    /// Its label.
    pub tlp: Tlp,
    /// Claimed place.
    pub latitude: Option<f64>,
    /// Claimed place.
    pub longitude: Option<f64>,
    /// Country it is about.
    pub country: Option<Country>,
    /// Claimed event time.
    pub occurred_at: Option<DateTime<Utc>>,
    /// When Tocsin received it.
    pub received_at: DateTime<Utc>,
    /// What parsing found.
    pub meta: ReportMeta,
}

impl NewReport {
    /// Validate API input. `source_id` is resolved by the caller from `input.source`.
    pub fn parse(
        input: ReportInput,
        channel: Channel,
        source_id: Option<Uuid>,
    ) -> Result<NewReport, DomainError> {
        if input.text.trim().is_empty() {
            return Err(DomainError::invalid("text", "must not be empty"));
        }
        if input.text.len() > MAX_TEXT_BYTES {
            return Err(DomainError::invalid(
                "text",
                format!("longer than {MAX_TEXT_BYTES} bytes"),
            ));
        }
        if input.text.contains('\0') {
            return Err(DomainError::invalid(
                "text",
                "must not contain NUL characters",
            ));
        }
        match (input.latitude, input.longitude) {
            (Some(lat), Some(lon)) => check_point(lat, lon)?,
            (None, None) => {}
            (Some(_), None) => {
                return Err(DomainError::invalid("longitude", "required with latitude"))
            }
            (None, Some(_)) => {
                return Err(DomainError::invalid("latitude", "required with longitude"))
            }
        }
        let occurred_at = input
            .occurred_at
            .as_deref()
            .map(|s| {
                crate::time::parse(s).map_err(|_| {
                    DomainError::invalid("occurred_at", "expected an RFC 3339 timestamp")
                })
            })
            .transpose()?;
        let country = input.country.as_deref().map(Country::parse).transpose()?;
        Ok(NewReport {
            id: crate::random_id(),
            channel,
            provider_key: None,
            source_id,
            text: input.text,
            tlp: input.tlp.unwrap_or(Tlp::Amber),
            latitude: input.latitude,
            longitude: input.longitude,
            country,
            occurred_at,
            received_at: crate::time::now(),
            meta: ReportMeta::default(),
        })
    }
}

/// A stored report.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// Its id.
    pub id: Uuid,
    /// How it arrived.
    pub channel: Channel,
    /// The public handle of its source (never the contact details).
    pub source: Option<String>,
    /// The text, byte-exact.
    pub text: String,
    /// Its label.
    pub tlp: Tlp,
    /// Claimed place.
    pub latitude: Option<f64>,
    /// Claimed place.
    pub longitude: Option<f64>,
    /// Country it is about.
    #[schema(value_type = Option<String>)]
    pub country: Option<Country>,
    /// Claimed event time.
    pub occurred_at: Option<DateTime<Utc>>,
    /// When Tocsin received it.
    pub received_at: DateTime<Utc>,
    /// What parsing found.
    #[serde(flatten)]
    pub meta: ReportMeta,
    /// Admiralty information credibility, 1 (confirmed) to 6 (cannot be judged, until an
    /// analyst grades the report).
    pub credibility: i16,
    /// Its source's Admiralty reliability when the reader may see the source; `F` (cannot be
    /// judged) otherwise, or when it has none.
    pub reliability: Reliability,
    /// `reliability` and `credibility` together, e.g. `B2`.
    pub grading: String,
}

impl Report {
    /// Set the grading shown with this report.
    pub fn set_grading(&mut self, reliability: Reliability, credibility: i16) {
        self.reliability = reliability;
        self.credibility = credibility;
        self.grading = crate::verification::grading(reliability, credibility);
    }
}

/// Which reports to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportFilter {
    /// Only reports about this country.
    pub country: Option<Country>,
    /// Received at or after.
    pub from: Option<DateTime<Utc>>,
    /// Received before.
    pub to: Option<DateTime<Utc>>,
    /// Only reports with a point inside.
    pub bbox: Option<BBox>,
    /// Only reports with exactly this label.
    pub tlp: Option<Tlp>,
    /// The caller's clearance: nothing above it is ever returned.
    pub max_tlp: Tlp,
    /// Only reports from this channel.
    pub channel: Option<Channel>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(text: &str) -> ReportInput {
        ReportInput {
            text: text.into(),
            tlp: None,
            latitude: None,
            longitude: None,
            occurred_at: None,
            country: None,
            source: None,
        }
    }

    #[test]
    fn validates_fields() {
        let r = NewReport::parse(input("armed men near the river"), Channel::Api, None).unwrap();
        assert_eq!(r.tlp, Tlp::Amber);
        let e = NewReport::parse(input("  "), Channel::Api, None).unwrap_err();
        assert_eq!(e.field(), Some("text"));
        let mut i = input("x");
        i.latitude = Some(91.0);
        i.longitude = Some(0.0);
        assert_eq!(
            NewReport::parse(i, Channel::Api, None).unwrap_err().field(),
            Some("latitude")
        );
        let mut i = input("x");
        i.occurred_at = Some("yesterday".into());
        assert_eq!(
            NewReport::parse(i, Channel::Api, None).unwrap_err().field(),
            Some("occurred_at")
        );
        let mut i = input("x");
        i.latitude = Some(1.0);
        assert_eq!(
            NewReport::parse(i, Channel::Api, None).unwrap_err().field(),
            Some("longitude")
        );
    }

    #[test]
    fn text_kept_byte_exact() {
        let t = "Hommes armés à Bria 🚨 — مسلحون";
        assert_eq!(
            NewReport::parse(input(t), Channel::Api, None).unwrap().text,
            t
        );
    }
}
