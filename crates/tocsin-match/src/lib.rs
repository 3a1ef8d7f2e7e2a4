//! Report matching: which stored incidents and reports a new report may be about, by time,
//! distance and text, each score explained in words a person reads ("3.2 km, 5 h apart,
//! 4 shared terms: bunia, attack, market, 12").
//!
//! The caller (the application layer) fetches candidates near the report in time and space
//! and within the viewer's clearance; this crate only scores them. No I/O: the gazetteer is
//! the embedded one ([`tocsin_geo::Gazetteer`]), passed in.
//!
//! * **Text** ([`text::terms`]): words normalised across case, diacritics and scripts
//!   (Unicode compatibility decomposition, Arabic letter variants, Cyrillic and other scripts
//!   transliterated to Latin letters), spellings folded (`Bounia` = `Bunia`), en/fr/sw/ar
//!   stop words dropped, place names resolved through the gazetteer (`بونيا` = `Bunia`), a
//!   small cross-language vocabulary (`attaque` = `shambulio` = `هجوم` = attack), and typos
//!   forgiven ([`text::same_word`]).
//! * **Time**: hours between the report's claimed time (else its time of receipt) and the
//!   candidate's (an incident's whole day, week or month, by its date precision).
//! * **Distance**: kilometres between the points; a report without a point is placed at the
//!   first place its text names, if the gazetteer knows it.
//!
//! A missing place or time lowers the score (the part counts as half a match) and the
//! explanation says so. **Two reports from the same source never corroborate each other**: a
//! candidate whose every known source is the new report's source is never
//! [`Scored::suggested`], and its explanation says why.

#![warn(missing_docs)]

pub mod synth;
pub mod text;

use chrono::{DateTime, NaiveDate, Utc};
use tocsin_geo::Gazetteer;
use uuid::Uuid;

pub use text::{NamedPlace, Term};

/// When something happened, as far as it is known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum When {
    /// A time the report claims for the event.
    Claimed(DateTime<Utc>),
    /// Only the time the report was received (the event came before it).
    Received(DateTime<Utc>),
    /// An incident's date: the event lies within `days` days from `date` (1 exact day, 7 a
    /// week, 31 a month).
    Day {
        /// First day.
        date: NaiveDate,
        /// How many days.
        days: u32,
    },
    /// Not known.
    Unknown,
}

impl When {
    /// The interval, in seconds since the epoch, that the event lies in.
    fn span(self) -> Option<(i64, i64)> {
        match self {
            When::Claimed(t) | When::Received(t) => Some((t.timestamp(), t.timestamp())),
            When::Day { date, days } => {
                let s = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp();
                Some((s, s + i64::from(days.max(1)) * 86_400 - 1))
            }
            When::Unknown => None,
        }
    }

    /// The date precision of an incident (1 day, 2 week, 3 month) as a [`When::Day`].
    pub fn incident(date: NaiveDate, precision: i16) -> When {
        let days = match precision {
            2 => 7,
            3 => 31,
            _ => 1,
        };
        When::Day { date, days }
    }
}

/// A report or an incident to compare, as the matcher sees it.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    /// The text (a report's message, an incident's description).
    pub text: &'a str,
    /// Its point (latitude, longitude), if any.
    pub point: Option<(f64, f64)>,
    /// Its place name, if one is recorded apart from the text (an incident's location).
    pub place: Option<&'a str>,
    /// When.
    pub when: When,
    /// ISO 3166-1 alpha-3 country, if known (a hint for place names in the text).
    pub country: Option<&'a str>,
    /// Who said it: a report's source, an incident's reports' sources (empty when unknown).
    pub sources: &'a [Uuid],
}

/// An item ready to compare: terms and places extracted once.
#[derive(Debug, Clone)]
pub struct Prepared {
    terms: Vec<Term>,
    point: Option<(f64, f64)>,
    /// The point came from a place name in the text (named here).
    placed_by: Option<String>,
    span: Option<(i64, i64)>,
    claimed: bool,
    sources: Vec<Uuid>,
}

impl Prepared {
    /// The terms compared.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// The point used for distances, and the place name it came from when it was not given.
    pub fn point(&self) -> (Option<(f64, f64)>, Option<&str>) {
        (self.point, self.placed_by.as_deref())
    }
}

/// The weights and scales of a score, and the threshold for suggesting a match. The defaults
/// were tuned on the synthetic streams of seed 1 (`cargo bench -p tocsin-match`), and
/// reported on seed 2.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Hours at which the time part falls to 1/e.
    pub time_scale_h: f64,
    /// Kilometres at which the distance part falls to 1/e.
    pub dist_scale_km: f64,
    /// Weight of the time part.
    pub w_time: f64,
    /// Weight of the distance part.
    pub w_dist: f64,
    /// Weight of the text part.
    pub w_text: f64,
    /// What a missing part counts for (0 nothing, 1 a perfect match).
    pub missing: f64,
    /// Hours a time of receipt may trail the event without counting as apart.
    pub received_slack_h: f64,
    /// Scores at or above this are suggested.
    pub threshold: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            time_scale_h: 12.0,
            dist_scale_km: 12.0,
            w_time: 0.15,
            w_dist: 0.15,
            w_text: 0.7,
            missing: 0.35,
            received_slack_h: 24.0,
            threshold: 0.61,
        }
    }
}

/// A candidate's score and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// 0 (nothing in common) to 1.
    pub score: f64,
    /// At or above the threshold and not from the same source: suggested as the same event.
    pub suggested: bool,
    /// Every known source of the candidate is the new report's source: never corroboration.
    pub same_source: bool,
    /// Kilometres between the two, when both have a place.
    pub distance_km: Option<f64>,
    /// Hours between the two, when both have a time (0 inside an incident's day).
    pub hours_apart: Option<f64>,
    /// The terms the two share, as shown to a person.
    pub shared_terms: Vec<String>,
    /// The explanation: "3.2 km, 5 h apart, 4 shared terms: bunia, attack, market, 12".
    pub explanation: String,
}

/// Scores candidates against a report.
#[derive(Debug, Clone, Copy)]
pub struct Matcher<'g> {
    gaz: Option<&'g Gazetteer>,
    /// Weights, scales and threshold.
    pub params: Params,
}

/// What text without a shared term counts for.
const TEXT_FLOOR: f64 = 0.1;

/// Mean Earth radius (IUGG), km.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance in km (haversine).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let dp = p2 - p1;
    let dl = (b.1 - a.1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

impl<'g> Matcher<'g> {
    /// A matcher resolving place names with `gaz` (without one, names are compared as words
    /// only and a report without a point has no place) and the default [`Params`].
    pub fn new(gaz: Option<&'g Gazetteer>) -> Matcher<'g> {
        Matcher {
            gaz,
            params: Params::default(),
        }
    }

    /// The same matcher with other weights, scales or threshold.
    pub fn with_params(self, params: Params) -> Matcher<'g> {
        Matcher { params, ..self }
    }

    /// Extract what is compared from an item.
    pub fn prepare(&self, it: &Item<'_>) -> Prepared {
        let (mut terms, places) = text::terms(self.gaz, it.text, it.country);
        if let Some(p) = it.place.map(str::trim).filter(|p| !p.is_empty()) {
            let t = match self
                .gaz
                .and_then(|g| g.lookup(p, it.country).into_iter().next())
            {
                Some(c) => text::place_term(c.ascii_name, c.name),
                None => text::place_term(p, p),
            };
            if !terms.iter().any(|x| x.key == t.key) {
                terms.insert(0, t);
            }
        }
        let (point, placed_by) = match it.point {
            Some(p) if p.0.is_finite() && p.1.is_finite() => (Some(p), None),
            _ => match places.iter().find(|p| !p.near).or(places.first()) {
                Some(p) => (Some((p.lat, p.lon)), Some(p.name.clone())),
                None => (None, None),
            },
        };
        let mut sources = it.sources.to_vec();
        sources.sort_unstable();
        sources.dedup();
        Prepared {
            terms,
            point,
            placed_by,
            span: it.when.span(),
            claimed: !matches!(it.when, When::Received(_)),
            sources,
        }
    }

    /// Score one prepared candidate against a prepared report, every term of the report
    /// weighing the same (see [`Matcher::score_all`] for weights from a pool of candidates).
    pub fn score(&self, report: &Prepared, cand: &Prepared) -> Scored {
        let matched = self.matched(report, cand);
        let weights = vec![1.0; report.terms.len()];
        self.score_with(report, cand, &matched, &weights)
    }

    /// Which of the report's terms the candidate shares.
    fn matched(&self, report: &Prepared, cand: &Prepared) -> Vec<bool> {
        report
            .terms
            .iter()
            .map(|t| cand.terms.iter().any(|c| text::same_term(t, c)))
            .collect()
    }

    /// Score a pool of candidates against a report, in candidate order. A shared term weighs
    /// by how rare it is in the pool (inverse document frequency): the town's name, which
    /// every candidate near it shares, says less than the attackers' name or the death toll
    /// that only the same event's reports share.
    pub fn score_all(&self, report: &Prepared, cands: &[Prepared]) -> Vec<Scored> {
        let matched: Vec<Vec<bool>> = cands.iter().map(|c| self.matched(report, c)).collect();
        let n = cands.len() as f64;
        let weights: Vec<f64> = (0..report.terms.len())
            .map(|t| {
                let df = matched.iter().filter(|m| m[t]).count() as f64;
                ((n + 1.0) / (df + 0.5)).ln().max(0.1)
            })
            .collect();
        cands
            .iter()
            .zip(&matched)
            .map(|(c, m)| self.score_with(report, c, m, &weights))
            .collect()
    }

    fn score_with(
        &self,
        report: &Prepared,
        cand: &Prepared,
        matched: &[bool],
        weights: &[f64],
    ) -> Scored {
        let p = &self.params;
        let mut parts: Vec<String> = Vec::new();
        // Distance.
        let distance_km = match (report.point, cand.point) {
            (Some(a), Some(b)) => Some(distance_km(a, b)),
            _ => None,
        };
        let s_dist = match distance_km {
            Some(d) => {
                let mut s = format!("{} km", one_decimal(d));
                if let Some(n) = report.placed_by.as_deref().or(cand.placed_by.as_deref()) {
                    s.push_str(&format!(" (placed by name: {n})"));
                }
                parts.push(s);
                (-d / p.dist_scale_km).exp()
            }
            None => {
                parts.push("no place given".into());
                p.missing
            }
        };
        // Time.
        let hours_apart = match (report.span, cand.span) {
            (Some((a0, a1)), Some((b0, b1))) => {
                let gap = if a1 < b0 {
                    b0 - a1
                } else if b1 < a0 {
                    a0 - b1
                } else {
                    0
                };
                Some(gap as f64 / 3600.0)
            }
            _ => None,
        };
        let s_time = match hours_apart {
            Some(h) => {
                let mut s = if h < 1.0 {
                    if cand.span.is_some_and(|(a, b)| b > a) {
                        "on the incident's date".to_string()
                    } else {
                        "under an hour apart".to_string()
                    }
                } else if h < 72.0 {
                    format!("{} h apart", h.round())
                } else {
                    format!("{} days apart", (h / 24.0).round())
                };
                if !report.claimed || !cand.claimed {
                    if !report.claimed && !cand.claimed {
                        s.push_str(" (times received, no time claimed)");
                    } else if !report.claimed {
                        s.push_str(" (report's time received, no time claimed)");
                    }
                }
                parts.push(s);
                let h = if report.claimed && cand.claimed {
                    h
                } else {
                    // A time of receipt only bounds the event: allow for the delay.
                    (h - p.received_slack_h).max(0.0)
                };
                (-h / p.time_scale_h).exp()
            }
            None => {
                parts.push("no time given".into());
                p.missing
            }
        };
        // Text.
        let shared: Vec<String> = report
            .terms
            .iter()
            .zip(matched)
            .filter(|(_, m)| **m)
            .map(|(t, _)| t.shown.clone())
            .collect();
        let n = shared.len();
        let s_text = if report.terms.is_empty() || cand.terms.is_empty() {
            0.0
        } else {
            // The report's weighted share of terms found in the candidate, times the
            // candidate's share found in the report (damped for very short texts).
            let total: f64 = weights.iter().sum();
            let got: f64 = weights
                .iter()
                .zip(matched)
                .filter(|(_, m)| **m)
                .map(|(w, _)| w)
                .sum();
            let of_report = got / total.max(1e-9);
            let of_cand = n as f64 / (cand.terms.len().max(3) as f64);
            (of_report * of_cand.min(1.0)).sqrt()
        };
        parts.push(match n {
            0 => "no shared terms".to_string(),
            1 => format!("1 shared term: {}", shared[0]),
            _ => format!("{n} shared terms: {}", shared.join(", ")),
        });
        // A weighted geometric mean: one part far off (150 km, a week) sinks the score however
        // well the others agree. Text without a shared term still counts a little, since two
        // witnesses may share no word (Swahili and Arabic, say).
        let s_text = TEXT_FLOOR + (1.0 - TEXT_FLOOR) * s_text;
        let wsum = p.w_time + p.w_dist + p.w_text;
        let score = ((p.w_time * s_time.max(1e-9).ln()
            + p.w_dist * s_dist.max(1e-9).ln()
            + p.w_text * s_text.ln())
            / wsum)
            .exp()
            .clamp(0.0, 1.0);
        let same_source = !report.sources.is_empty()
            && !cand.sources.is_empty()
            && cand.sources.iter().all(|s| report.sources.contains(s));
        if same_source {
            parts.push("same source: not independent corroboration".into());
        }
        Scored {
            score,
            suggested: !same_source && score >= p.threshold,
            same_source,
            distance_km,
            hours_apart,
            shared_terms: shared,
            explanation: parts.join(", "),
        }
    }

    /// Score every candidate against `report` as one pool ([`Matcher::score_all`]); answers
    /// (candidate index, score), best first (ties in candidate order).
    pub fn rank(&self, report: &Item<'_>, candidates: &[Item<'_>]) -> Vec<(usize, Scored)> {
        let r = self.prepare(report);
        let cands: Vec<Prepared> = candidates.iter().map(|c| self.prepare(c)).collect();
        let mut out: Vec<(usize, Scored)> =
            self.score_all(&r, &cands).into_iter().enumerate().collect();
        out.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(a.0.cmp(&b.0)));
        out
    }
}

fn one_decimal(x: f64) -> String {
    if x < 10.0 {
        format!("{x:.1}")
    } else {
        format!("{}", x.round())
    }
}

#[cfg(test)]
mod tests;
