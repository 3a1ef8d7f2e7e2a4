//! Alert rules: conditions over incidents, signals, assessments, forecasts and reports that
//! open an alert when met. Stored in the database and edited by admins.
//!
//! In JSON a rule is flat, its `kind` saying which condition fields follow:
//! `{name, severity, ack_within: "30m", enabled, kind: "incidents", country, admin1?,
//! window: "7d", min_incidents?, min_fatalities?, event_types?, civilian_targeting?}`.
//! This module validates rules; evaluating them is `tocsin-rules`' job.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Country, DomainError, Level, Severity, TextDuration, Tlp};

/// Largest radius of a radius area, in kilometres.
pub const MAX_RADIUS_KM: f64 = 2_000.0;
/// Longest window of an incident threshold.
pub const MAX_WINDOW_SECS: u64 = 366 * 86_400;
/// Largest `top` of a forecast rule.
pub const MAX_FORECAST_TOP: u32 = 200;

/// Where an incident threshold counts. In JSON, one of: `country` (ISO alpha-3) with optional
/// `admin1`; `latitude`, `longitude` and `radius_km`; or `situation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Area {
    /// A country, or one of its first-level areas (matched case-insensitively).
    Country {
        /// ISO alpha-3.
        #[schema(value_type = String)]
        country: Country,
        /// First-level area.
        #[serde(skip_serializing_if = "Option::is_none")]
        admin1: Option<String>,
    },
    /// Within `radius_km` of a point (great-circle distance).
    Radius {
        /// WGS84.
        latitude: f64,
        /// WGS84.
        longitude: f64,
        /// Kilometres, more than 0 and at most [`MAX_RADIUS_KM`].
        radius_km: f64,
    },
    /// The incidents of one situation.
    Situation {
        /// The situation.
        situation: Uuid,
    },
}

/// "At least `min_incidents` incidents (or `min_fatalities` deaths) of these types in this
/// area within `window`". At least one of the minimums is required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IncidentThreshold {
    /// Where.
    #[serde(flatten)]
    pub area: Area,
    /// How far back from the newest incident's date, e.g. `7d`.
    #[schema(value_type = String, example = "7d")]
    pub window: TextDuration,
    /// At least this many incidents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_incidents: Option<u32>,
    /// At least this many deaths (best estimates summed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_fatalities: Option<u32>,
    /// Only these ACLED event types (canonical spelling); empty for all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_types: Vec<String>,
    /// Only incidents that target civilians (true) or that do not (false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub civilian_targeting: Option<bool>,
}

/// "An escalation signal at or above `min_severity`" in a country (and admin1), or anywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignalCondition {
    /// Only this country.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Country>,
    /// Only this first-level area (needs `country`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin1: Option<String>,
    /// `moderate` or `high` (signals have no other severities).
    pub min_severity: Severity,
}

/// "A published assessment puts `factor` (or any factor) at `min_level` or above" for a
/// situation, or any situation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AssessmentCondition {
    /// Only assessments of this situation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub situation: Option<Uuid>,
    /// Risk-factor id of the framework (e.g. `RF1`); any factor when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factor: Option<String>,
    /// The level that fires it (`moderate`, `high` or `severe`).
    pub min_level: Level,
}

/// "A country enters the top `top` of a forecast run" (it was not there in the run before).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ForecastCondition {
    /// Rank threshold, 1–[`MAX_FORECAST_TOP`].
    pub top: u32,
    /// Only this country; any country when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Country>,
}

/// "A report arrives with one of these urgency codes (SMS keyword categories, e.g. `attack`)".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportCondition {
    /// Keyword categories, at least one, lowercase.
    pub categories: Vec<String>,
    /// Only reports about this country.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Country>,
}

/// What a rule watches, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// Incident counts or deaths in an area and window.
    Incidents(IncidentThreshold),
    /// Escalation signals.
    Signal(SignalCondition),
    /// Published assessments.
    Assessment(AssessmentCondition),
    /// Forecast ranks.
    Forecast(ForecastCondition),
    /// SMS reports with an urgency code.
    Report(ReportCondition),
}

impl Condition {
    /// `incidents`, `signal`, `assessment`, `forecast` or `report`.
    pub fn kind(&self) -> &'static str {
        match self {
            Condition::Incidents(_) => "incidents",
            Condition::Signal(_) => "signal",
            Condition::Assessment(_) => "assessment",
            Condition::Forecast(_) => "forecast",
            Condition::Report(_) => "report",
        }
    }
}

/// A stored alert rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertRule {
    /// Its id.
    pub id: Uuid,
    /// e.g. `Mass-casualty attacks in Ituri`.
    pub name: String,
    /// Severity of the alerts it opens.
    pub severity: Severity,
    /// Acknowledgement deadline of its alerts, e.g. `30m`.
    #[schema(value_type = String, example = "30m")]
    pub ack_within: TextDuration,
    /// Whether it is evaluated.
    pub enabled: bool,
    /// The desk its alerts go to; when absent, the desk answering for the alert's situation,
    /// else for its country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desk: Option<Uuid>,
    /// Label of the alerts it opens (default `amber`).
    pub tlp: Tlp,
    /// What it watches.
    #[serde(flatten)]
    pub condition: Condition,
    /// Optimistic-concurrency version: 1 when created.
    pub version: i64,
}

/// A rule as the API receives it (flat, see the module docs); unknown fields are refused.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAlertRule {
    /// Name, 1–200 bytes.
    pub name: String,
    /// `low`, `moderate`, `high` or `critical`.
    pub severity: String,
    /// e.g. `30m`.
    pub ack_within: String,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Desk id.
    #[serde(default)]
    pub desk: Option<Uuid>,
    /// Label (default `amber`).
    #[serde(default)]
    pub tlp: Option<String>,
    /// `incidents`, `signal`, `assessment`, `forecast` or `report`.
    pub kind: String,
    /// incidents, signal, report, forecast: ISO alpha-3.
    #[serde(default)]
    pub country: Option<String>,
    /// incidents, signal: first-level area.
    #[serde(default)]
    pub admin1: Option<String>,
    /// incidents (radius area).
    #[serde(default)]
    pub latitude: Option<f64>,
    /// incidents (radius area).
    #[serde(default)]
    pub longitude: Option<f64>,
    /// incidents (radius area).
    #[serde(default)]
    pub radius_km: Option<f64>,
    /// incidents (situation area), assessment.
    #[serde(default)]
    pub situation: Option<Uuid>,
    /// incidents: e.g. `7d`.
    #[serde(default)]
    pub window: Option<String>,
    /// incidents.
    #[serde(default)]
    pub min_incidents: Option<u32>,
    /// incidents.
    #[serde(default)]
    pub min_fatalities: Option<u32>,
    /// incidents.
    #[serde(default)]
    pub event_types: Option<Vec<String>>,
    /// incidents.
    #[serde(default)]
    pub civilian_targeting: Option<bool>,
    /// signal.
    #[serde(default)]
    pub min_severity: Option<String>,
    /// assessment.
    #[serde(default)]
    pub factor: Option<String>,
    /// assessment.
    #[serde(default)]
    pub min_level: Option<String>,
    /// forecast.
    #[serde(default)]
    pub top: Option<u32>,
    /// report.
    #[serde(default)]
    pub categories: Option<Vec<String>>,
}

/// The condition fields each kind takes (besides `name`, `severity`, `ack_within`, `enabled`,
/// `desk`, `tlp` and `kind`).
fn fields_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "incidents" => &[
            "country",
            "admin1",
            "latitude",
            "longitude",
            "radius_km",
            "situation",
            "window",
            "min_incidents",
            "min_fatalities",
            "event_types",
            "civilian_targeting",
        ],
        "signal" => &["country", "admin1", "min_severity"],
        "assessment" => &["situation", "factor", "min_level"],
        "forecast" => &["country", "top"],
        "report" => &["country", "categories"],
        _ => &[],
    }
}

/// Refuse, naming it, a condition field given that `kind` does not take.
fn refuse_extra(n: &NewAlertRule, kind: &str) -> Result<(), DomainError> {
    let given = [
        ("country", n.country.is_some()),
        ("admin1", n.admin1.is_some()),
        ("latitude", n.latitude.is_some()),
        ("longitude", n.longitude.is_some()),
        ("radius_km", n.radius_km.is_some()),
        ("situation", n.situation.is_some()),
        ("window", n.window.is_some()),
        ("min_incidents", n.min_incidents.is_some()),
        ("min_fatalities", n.min_fatalities.is_some()),
        ("event_types", n.event_types.is_some()),
        ("civilian_targeting", n.civilian_targeting.is_some()),
        ("min_severity", n.min_severity.is_some()),
        ("factor", n.factor.is_some()),
        ("min_level", n.min_level.is_some()),
        ("top", n.top.is_some()),
        ("categories", n.categories.is_some()),
    ];
    let allowed = fields_of(kind);
    match given
        .iter()
        .find(|(field, is_set)| *is_set && !allowed.contains(field))
    {
        Some((field, _)) => Err(DomainError::invalid(
            *field,
            format!("is not a field of a {kind:?} rule"),
        )),
        None => Ok(()),
    }
}

fn country(field: &str, s: &str) -> Result<Country, DomainError> {
    Country::parse(s).map_err(|e| match e {
        DomainError::Invalid { message, .. } => DomainError::invalid(field, message),
        e => e,
    })
}

fn admin1(s: Option<String>) -> Result<Option<String>, DomainError> {
    match s.map(|a| a.trim().to_string()) {
        None => Ok(None),
        Some(a) if a.is_empty() || a.len() > 200 || a.chars().any(char::is_control) => Err(
            DomainError::invalid("admin1", "1-200 bytes without control characters"),
        ),
        Some(a) => Ok(Some(a)),
    }
}

impl AlertRule {
    /// Validate a new rule (its id from [`crate::new_id`], version 1). Errors name the field.
    pub fn parse(n: NewAlertRule) -> Result<AlertRule, DomainError> {
        let name = n.name.trim();
        if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "name",
                "1-200 bytes without control characters",
            ));
        }
        let severity = Severity::parse(n.severity.trim())?;
        let ack_within = TextDuration::parse_positive("ack_within", &n.ack_within)?;
        let tlp = match &n.tlp {
            Some(t) => t.parse::<Tlp>().map_err(|_| {
                DomainError::invalid("tlp", "expected clear, green, amber, amber+strict or red")
            })?,
            None => Tlp::Amber,
        };
        let kind = n.kind.trim().to_ascii_lowercase();
        let condition = match kind.as_str() {
            "incidents" => {
                refuse_extra(&n, "incidents")?;
                let point = n.latitude.is_some() || n.longitude.is_some() || n.radius_km.is_some();
                let areas = [n.country.is_some(), point, n.situation.is_some()]
                    .iter()
                    .filter(|b| **b)
                    .count();
                if areas != 1 {
                    return Err(DomainError::invalid(
                        "country",
                        "give exactly one area: country (with optional admin1), latitude+longitude+radius_km, or situation",
                    ));
                }
                let area = if let Some(c) = &n.country {
                    Area::Country {
                        country: country("country", c)?,
                        admin1: admin1(n.admin1)?,
                    }
                } else if point {
                    if n.admin1.is_some() {
                        return Err(DomainError::invalid("admin1", "needs country"));
                    }
                    let (Some(latitude), Some(longitude), Some(radius_km)) =
                        (n.latitude, n.longitude, n.radius_km)
                    else {
                        return Err(DomainError::invalid(
                            "radius_km",
                            "a radius area needs latitude, longitude and radius_km",
                        ));
                    };
                    if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
                        return Err(DomainError::invalid("latitude", "between -90 and 90"));
                    }
                    if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
                        return Err(DomainError::invalid("longitude", "between -180 and 180"));
                    }
                    if !radius_km.is_finite() || radius_km <= 0.0 || radius_km > MAX_RADIUS_KM {
                        return Err(DomainError::invalid(
                            "radius_km",
                            format!("more than 0 and at most {MAX_RADIUS_KM}"),
                        ));
                    }
                    Area::Radius {
                        latitude,
                        longitude,
                        radius_km,
                    }
                } else {
                    if n.admin1.is_some() {
                        return Err(DomainError::invalid("admin1", "needs country"));
                    }
                    Area::Situation {
                        situation: n.situation.expect("counted above"),
                    }
                };
                let window = TextDuration::parse_positive(
                    "window",
                    n.window
                        .as_deref()
                        .ok_or_else(|| DomainError::invalid("window", "required, e.g. 7d"))?,
                )?;
                if window.as_secs() > MAX_WINDOW_SECS {
                    return Err(DomainError::invalid("window", "at most 366d"));
                }
                if n.min_incidents.is_none() && n.min_fatalities.is_none() {
                    return Err(DomainError::invalid(
                        "min_incidents",
                        "give min_incidents, min_fatalities or both",
                    ));
                }
                if n.min_incidents == Some(0) {
                    return Err(DomainError::invalid("min_incidents", "at least 1"));
                }
                let mut event_types: Vec<String> = Vec::new();
                for t in n.event_types.unwrap_or_default() {
                    let t = crate::incident::EventType::parse_type(&t)
                        .map_err(|e| match e {
                            DomainError::Invalid { message, .. } => {
                                DomainError::invalid("event_types", message)
                            }
                            e => e,
                        })?
                        .to_string();
                    if !event_types.contains(&t) {
                        event_types.push(t);
                    }
                }
                Condition::Incidents(IncidentThreshold {
                    area,
                    window,
                    min_incidents: n.min_incidents,
                    min_fatalities: n.min_fatalities,
                    event_types,
                    civilian_targeting: n.civilian_targeting,
                })
            }
            "signal" => {
                refuse_extra(&n, "signal")?;
                let c = n
                    .country
                    .as_deref()
                    .map(|c| country("country", c))
                    .transpose()?;
                if n.admin1.is_some() && c.is_none() {
                    return Err(DomainError::invalid("admin1", "needs country"));
                }
                let min_severity = match n.min_severity.as_deref().map(str::trim) {
                    Some("moderate") => Severity::Moderate,
                    Some("high") => Severity::High,
                    _ => {
                        return Err(DomainError::invalid(
                            "min_severity",
                            "required: moderate or high (the severities signals have)",
                        ))
                    }
                };
                Condition::Signal(SignalCondition {
                    country: c,
                    admin1: admin1(n.admin1)?,
                    min_severity,
                })
            }
            "assessment" => {
                refuse_extra(&n, "assessment")?;
                let min_level = Level::parse(
                    n.min_level
                        .as_deref()
                        .ok_or_else(|| DomainError::invalid("min_level", "required"))?,
                )
                .map_err(|_| DomainError::invalid("min_level", "moderate, high or severe"))?;
                if min_level < Level::Moderate {
                    return Err(DomainError::invalid(
                        "min_level",
                        "moderate, high or severe",
                    ));
                }
                let factor = match n.factor.map(|f| f.trim().to_string()) {
                    Some(f) if f.is_empty() || f.len() > 40 => {
                        return Err(DomainError::invalid("factor", "a risk-factor id, e.g. RF1"))
                    }
                    f => f,
                };
                Condition::Assessment(AssessmentCondition {
                    situation: n.situation,
                    factor,
                    min_level,
                })
            }
            "forecast" => {
                refuse_extra(&n, "forecast")?;
                let top = n
                    .top
                    .ok_or_else(|| DomainError::invalid("top", "required, e.g. 10"))?;
                if top == 0 || top > MAX_FORECAST_TOP {
                    return Err(DomainError::invalid("top", format!("1-{MAX_FORECAST_TOP}")));
                }
                Condition::Forecast(ForecastCondition {
                    top,
                    country: n
                        .country
                        .as_deref()
                        .map(|c| country("country", c))
                        .transpose()?,
                })
            }
            "report" => {
                refuse_extra(&n, "report")?;
                let mut categories: Vec<String> = Vec::new();
                for c in n.categories.unwrap_or_default() {
                    let c = c.trim().to_lowercase();
                    if c.is_empty() || c.len() > 40 || c.chars().any(char::is_control) {
                        return Err(DomainError::invalid(
                            "categories",
                            "keyword categories, e.g. attack",
                        ));
                    }
                    if !categories.contains(&c) {
                        categories.push(c);
                    }
                }
                if categories.is_empty() {
                    return Err(DomainError::invalid(
                        "categories",
                        "at least one keyword category, e.g. attack",
                    ));
                }
                Condition::Report(ReportCondition {
                    categories,
                    country: n
                        .country
                        .as_deref()
                        .map(|c| country("country", c))
                        .transpose()?,
                })
            }
            other => {
                return Err(DomainError::invalid(
                    "kind",
                    format!(
                        "{other:?}: expected incidents, signal, assessment, forecast or report"
                    ),
                ))
            }
        };
        Ok(AlertRule {
            id: crate::new_id(),
            name: name.to_string(),
            severity,
            ack_within,
            enabled: n.enabled.unwrap_or(true),
            desk: n.desk,
            tlp,
            condition,
            version: 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: serde_json::Value) -> Result<AlertRule, DomainError> {
        AlertRule::parse(serde_json::from_value(json).expect("shape"))
    }

    fn field(e: DomainError) -> String {
        match e {
            DomainError::Invalid { field, .. } => field.to_string(),
            e => panic!("not a field error: {e}"),
        }
    }

    #[test]
    fn an_incident_threshold_reads_as_the_api_writes_it_and_back() {
        let r = rule(serde_json::json!({
            "name": "Ituri attacks", "severity": "high", "ack_within": "30m",
            "kind": "incidents", "country": "cod", "admin1": "Ituri", "window": "7d",
            "min_incidents": 3, "event_types": ["violence against civilians"],
            "civilian_targeting": true
        }))
        .unwrap();
        assert!(r.enabled);
        assert_eq!(r.tlp, Tlp::Amber);
        let Condition::Incidents(t) = &r.condition else {
            panic!("kind")
        };
        assert_eq!(
            t.event_types,
            vec!["Violence against civilians".to_string()]
        );
        assert_eq!(t.window.as_secs(), 7 * 86_400);
        let out = serde_json::to_value(&r).unwrap();
        assert_eq!(out["kind"], "incidents");
        assert_eq!(out["country"], "COD");
        assert_eq!(out["admin1"], "Ituri");
        assert_eq!(out["window"], "7d");
        assert_eq!(out["ack_within"], "30m");
        let back: AlertRule = serde_json::from_value(out).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn errors_name_the_field_a_person_must_fix() {
        let base = serde_json::json!({"name": "x", "severity": "high", "ack_within": "30m",
            "kind": "incidents", "country": "COD", "window": "7d", "min_incidents": 1});
        let with = |k: &str, v: serde_json::Value| {
            let mut j = base.clone();
            j[k] = v;
            j
        };
        assert_eq!(
            field(rule(with("severity", "grave".into())).unwrap_err()),
            "severity"
        );
        assert_eq!(
            field(rule(with("ack_within", "0s".into())).unwrap_err()),
            "ack_within"
        );
        assert_eq!(
            field(rule(with("window", "soon".into())).unwrap_err()),
            "window"
        );
        assert_eq!(
            field(rule(with("country", "XXX".into())).unwrap_err()),
            "country"
        );
        assert_eq!(field(rule(with("top", 3.into())).unwrap_err()), "top");
        assert_eq!(
            field(rule(with("kind", "weather".into())).unwrap_err()),
            "kind"
        );
        assert_eq!(
            field(rule(with("event_types", serde_json::json!(["Parade"]))).unwrap_err()),
            "event_types"
        );
        let mut no_min = base.clone();
        no_min.as_object_mut().unwrap().remove("min_incidents");
        assert_eq!(field(rule(no_min).unwrap_err()), "min_incidents");
        let mut two_areas = base.clone();
        two_areas["situation"] = serde_json::json!(Uuid::nil());
        assert_eq!(field(rule(two_areas).unwrap_err()), "country");
        let mut radius = base;
        radius.as_object_mut().unwrap().remove("country");
        radius["latitude"] = 1.5.into();
        radius["longitude"] = 29.0.into();
        assert_eq!(field(rule(radius.clone()).unwrap_err()), "radius_km");
        radius["radius_km"] = 50.0.into();
        assert!(matches!(
            rule(radius).unwrap().condition,
            Condition::Incidents(IncidentThreshold {
                area: Area::Radius { .. },
                ..
            })
        ));
    }

    #[test]
    fn the_other_kinds_take_their_own_fields_only() {
        let s = rule(
            serde_json::json!({"name": "s", "severity": "moderate", "ack_within": "4h",
            "kind": "signal", "country": "SDN", "min_severity": "high"}),
        )
        .unwrap();
        assert_eq!(s.condition.kind(), "signal");
        let e = rule(
            serde_json::json!({"name": "s", "severity": "moderate", "ack_within": "4h",
            "kind": "signal", "min_severity": "low"}),
        )
        .unwrap_err();
        assert_eq!(field(e), "min_severity");
        let a = rule(
            serde_json::json!({"name": "a", "severity": "high", "ack_within": "1d",
            "kind": "assessment", "factor": "RF1", "min_level": "high"}),
        )
        .unwrap();
        assert_eq!(serde_json::to_value(&a).unwrap()["min_level"], "high");
        let e = rule(
            serde_json::json!({"name": "a", "severity": "high", "ack_within": "1d",
            "kind": "assessment", "min_level": "high", "window": "7d"}),
        )
        .unwrap_err();
        assert_eq!(field(e), "window");
        let f = rule(
            serde_json::json!({"name": "f", "severity": "low", "ack_within": "2d",
            "kind": "forecast", "top": 10}),
        )
        .unwrap();
        assert_eq!(serde_json::to_value(&f).unwrap()["top"], 10);
        let r = rule(
            serde_json::json!({"name": "r", "severity": "critical", "ack_within": "15m",
            "kind": "report", "categories": ["Attack", "attack"]}),
        )
        .unwrap();
        let Condition::Report(c) = r.condition else {
            panic!("kind")
        };
        assert_eq!(c.categories, vec!["attack".to_string()]);
        assert!(
            serde_json::from_value::<NewAlertRule>(serde_json::json!({"name": "r",
            "severity": "low", "ack_within": "1h", "kind": "report", "colour": "red"}))
            .is_err()
        );
    }
}
