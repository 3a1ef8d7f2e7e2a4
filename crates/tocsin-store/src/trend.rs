//! Daily incident totals for a situation's trend ([`crate::Incidents::incident_days`]).

use chrono::NaiveDate;
use tocsin_domain::{Country, Tlp};
use uuid::Uuid;

/// Which incidents a trend counts: those in `country` or belonging to `situation_id`, with an
/// event date in `from..=to`, never labelled above `max_tlp`.
#[derive(Debug, Clone, PartialEq)]
pub struct DaysQuery {
    /// The situation's country.
    pub country: Country,
    /// The situation: its incidents count wherever they are.
    pub situation_id: Option<Uuid>,
    /// First event day.
    pub from: NaiveDate,
    /// Last event day.
    pub to: NaiveDate,
    /// The viewer's clearance.
    pub max_tlp: Tlp,
}

/// The incidents of one event day in one (country, admin-1 area), split by whether they
/// belong to the queried situation. The caller decides which groups lie in its area.
#[derive(Debug, Clone, PartialEq)]
pub struct DayGroup {
    /// Event day.
    pub date: NaiveDate,
    /// Country.
    pub country: Country,
    /// First-level area as the incidents name it.
    pub admin1: Option<String>,
    /// Whether these incidents belong to the queried situation.
    pub in_situation: bool,
    /// How many.
    pub incidents: u64,
    /// Their fatalities (best estimates).
    pub fatalities: u64,
    /// West, south, east, north of their points.
    pub bounds: [f64; 4],
}
