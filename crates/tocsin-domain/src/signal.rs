//! Stored escalation signals and forecast runs: what the detectors and models produced, kept
//! so situations can show them. The detectors live in `tocsin-signals` and `tocsin-forecast`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Country, Tlp};

/// An escalation signal as stored: an area's week that stood out against its baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignalRecord {
    /// Its id.
    pub id: Uuid,
    /// ISO alpha-3.
    #[schema(value_type = String)]
    pub country: Country,
    /// First-level area, or none for the whole country.
    pub admin1: Option<String>,
    /// `incidents` or `fatalities`.
    pub metric: String,
    /// Monday of the week.
    pub week_start: NaiveDate,
    /// What was counted.
    pub observed: f64,
    /// What the baseline expected.
    pub expected: f64,
    /// The detector's statistic.
    pub score: f64,
    /// Its alarm threshold.
    pub threshold: f64,
    /// `moderate` or `high`.
    pub severity: String,
    /// In words, e.g. "14 incidents in the week of 2024-03-04 against 2.3 expected".
    pub explanation: String,
    /// When the detector found it.
    pub created_at: DateTime<Utc>,
    /// The clearance it was computed at: only from incidents labelled at most this, and shown
    /// only to callers of exactly this clearance.
    pub tlp: Tlp,
}

/// One country's score in a forecast run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ForecastScore {
    /// ISO alpha-3.
    #[schema(value_type = String)]
    pub country: Country,
    /// 1 = highest risk.
    pub rank: u32,
    /// Estimated probability of a mass-killing onset.
    pub probability: f64,
    /// The largest contributions (predictor, effect on the log-odds), largest first.
    pub contributions: Vec<(String, f64)>,
}

/// A stored forecast run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ForecastRun {
    /// Its id.
    pub id: Uuid,
    /// The data year forecast from.
    pub year: i32,
    /// The model, e.g. `tocsin`.
    pub model: String,
    /// The data file's name.
    pub data: String,
    /// How many countries were ranked.
    pub countries: u32,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Every country's score, by rank.
    pub scores: Vec<ForecastScore>,
}

/// One point of a country's forecast history: its rank in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ForecastPoint {
    /// The run.
    pub run_id: Uuid,
    /// The data year.
    pub year: i32,
    /// The model.
    pub model: String,
    /// Rank in that run.
    pub rank: u32,
    /// Of how many.
    pub countries: u32,
    /// Probability.
    pub probability: f64,
    /// When the run was made.
    pub created_at: DateTime<Utc>,
}
