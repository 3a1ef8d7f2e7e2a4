//! Flow metrics: how fast a warning becomes an alert, is taken, and is acted on, per desk and
//! per situation (the warning–response gap, measured).
//!
//! The caller (the application layer) gives one [`AlertTimes`] per alert the viewer may see,
//! with the times of its earliest evidence record and its first recorded action taken only
//! from records the viewer may see too, so no figure comes from above their clearance.
//! [`FlowReport::compute`] is pure: the same input and `now` give the same report.
//!
//! Definitions:
//!
//! - **first evidence → alert**: `opened_at - first_evidence_at`, where the first evidence is
//!   the earliest incident or report behind the alert (when it was recorded; the caller
//!   chooses which time and keeps to it);
//! - **alert → acknowledgement**: `acknowledged_at - opened_at`;
//! - **acknowledgement → first action**: `first_action_at - acknowledged_at`, the first
//!   action recorded for the alert;
//!
//! An interval is measured only when both its times are known and the end is not before the
//! start (evidence joined by hand after the alert was raised, or an action recorded before
//! the acknowledgement, says nothing about delay); the others are counted as `not_measured`.
//! The median and the 90th percentile interpolate linearly between the closest ranks (the
//! usual "type 7" definition: position `(n - 1) * p` in the sorted values), rounded to the
//! nearest second, halves up.
//!
//! **Response within 72 hours**: an alert has a documented response when a first action or a
//! decided action was recorded, the earlier of the two being its response; it responded in
//! time when that is at most [`RESPONSE_WINDOW_HOURS`] after opening. It counts in the
//! denominator once its outcome is known: it responded in time, or the 72 hours have passed
//! (an alert still open then counts, as a miss), or it was closed (a closed alert without a
//! response in time is a miss). Alerts opened less than 72 hours ago that are still waiting
//! are left out, so a fresh alert neither helps nor hurts.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::Alert;

/// The response window of [`ResponseShare`], in hours.
pub const RESPONSE_WINDOW_HOURS: i64 = 72;

/// One alert's times, as the flow metrics read them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertTimes {
    /// The alert.
    pub alert_id: Uuid,
    /// The desk that must act on it.
    pub desk_id: Uuid,
    /// The situation it concerns, if any.
    pub situation_id: Option<Uuid>,
    /// Raised.
    pub opened_at: DateTime<Utc>,
    /// Acknowledged, if it was.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The desk decided what to do, if it did.
    pub action_decided_at: Option<DateTime<Utc>>,
    /// Closed, if it was.
    pub closed_at: Option<DateTime<Utc>>,
    /// When the earliest incident or report behind it was recorded, if it has one.
    pub first_evidence_at: Option<DateTime<Utc>>,
    /// When the first action for it was recorded, if one was.
    pub first_action_at: Option<DateTime<Utc>>,
}

impl AlertTimes {
    /// The times of `alert`, with those of its earliest evidence record and first action.
    pub fn of(
        alert: &Alert,
        first_evidence_at: Option<DateTime<Utc>>,
        first_action_at: Option<DateTime<Utc>>,
    ) -> AlertTimes {
        AlertTimes {
            alert_id: alert.id,
            desk_id: alert.desk_id,
            situation_id: alert.situation_id,
            opened_at: alert.opened_at,
            acknowledged_at: alert.acknowledged_at,
            action_decided_at: alert.action_decided_at,
            closed_at: alert.closed_at,
            first_evidence_at,
            first_action_at,
        }
    }

    /// The documented response: the earlier of the first action and the decided action.
    pub fn response_at(&self) -> Option<DateTime<Utc>> {
        match (self.first_action_at, self.action_decided_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn evidence_to_alert(&self) -> Option<i64> {
        interval(self.first_evidence_at, Some(self.opened_at))
    }

    fn alert_to_ack(&self) -> Option<i64> {
        interval(Some(self.opened_at), self.acknowledged_at)
    }

    fn ack_to_first_action(&self) -> Option<i64> {
        interval(self.acknowledged_at, self.first_action_at)
    }
}

/// Whole seconds from `start` to `end`, when both are known and `end` is not before `start`.
fn interval(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> Option<i64> {
    let d = end? - start?;
    (d >= Duration::zero()).then(|| d.num_seconds())
}

/// One interval over a group of alerts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IntervalStats {
    /// Alerts for which it was measured.
    pub count: u32,
    /// Alerts of the group for which it was not (a time not recorded, or the end before the
    /// start).
    pub not_measured: u32,
    /// Median, in seconds (`None` when nothing was measured).
    pub median_secs: Option<i64>,
    /// 90th percentile, in seconds (`None` when nothing was measured).
    pub p90_secs: Option<i64>,
}

impl IntervalStats {
    fn of(samples: &[Option<i64>]) -> IntervalStats {
        let mut v: Vec<i64> = samples.iter().flatten().copied().collect();
        v.sort_unstable();
        IntervalStats {
            count: v.len() as u32,
            not_measured: (samples.len() - v.len()) as u32,
            median_secs: percentile(&v, 5, 10),
            p90_secs: percentile(&v, 9, 10),
        }
    }
}

/// The `num/den` quantile of sorted non-negative `v`: linear interpolation between the closest
/// ranks at position `(n - 1) * num / den`, rounded to the nearest whole value, halves up.
/// Integer arithmetic, so hand-computed values match exactly.
fn percentile(v: &[i64], num: i64, den: i64) -> Option<i64> {
    let n = v.len() as i64;
    if n == 0 {
        return None;
    }
    let pos = (n - 1) * num;
    let (lo, rem) = ((pos / den) as usize, pos % den);
    let hi = (lo + 1).min(v.len() - 1);
    let scaled = i128::from(v[lo]) * i128::from(den) + i128::from(v[hi] - v[lo]) * i128::from(rem);
    let den = i128::from(den);
    Some(((scaled * 2 + den).div_euclid(den * 2)) as i64)
}

/// The share of alerts with a documented response within [`RESPONSE_WINDOW_HOURS`] of opening
/// (see the module's definition of which alerts count).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResponseShare {
    /// Alerts that responded in time.
    pub responded: u32,
    /// Alerts whose outcome is known (the denominator).
    pub counted: u32,
    /// Alerts left out: opened less than 72 hours ago, still waiting.
    pub pending: u32,
    /// `responded / counted`, from 0 to 1 (`None` when nothing is counted).
    pub share: Option<f64>,
}

/// The flow metrics of one group of alerts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FlowStats {
    /// Alerts in the group.
    pub alerts: u32,
    /// First evidence → alert.
    pub evidence_to_alert: IntervalStats,
    /// Alert → acknowledgement.
    pub alert_to_acknowledgement: IntervalStats,
    /// Acknowledgement → first action.
    pub acknowledgement_to_first_action: IntervalStats,
    /// Documented response within 72 hours.
    pub response_within_72h: ResponseShare,
}

impl FlowStats {
    /// The metrics of `alerts` at `now`.
    pub fn compute(alerts: &[&AlertTimes], now: DateTime<Utc>) -> FlowStats {
        let window = Duration::hours(RESPONSE_WINDOW_HOURS);
        let mut share = ResponseShare::default();
        for a in alerts {
            let in_time = a.response_at().is_some_and(|r| r - a.opened_at <= window);
            if in_time {
                share.responded += 1;
                share.counted += 1;
            } else if now - a.opened_at >= window || a.closed_at.is_some() {
                share.counted += 1;
            } else {
                share.pending += 1;
            }
        }
        share.share =
            (share.counted > 0).then(|| f64::from(share.responded) / f64::from(share.counted));
        let each = |f: fn(&AlertTimes) -> Option<i64>| {
            IntervalStats::of(&alerts.iter().map(|a| f(a)).collect::<Vec<_>>())
        };
        FlowStats {
            alerts: alerts.len() as u32,
            evidence_to_alert: each(AlertTimes::evidence_to_alert),
            alert_to_acknowledgement: each(AlertTimes::alert_to_ack),
            acknowledgement_to_first_action: each(AlertTimes::ack_to_first_action),
            response_within_72h: share,
        }
    }
}

/// One desk's flow metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeskFlow {
    /// The desk.
    pub desk_id: Uuid,
    /// Its metrics.
    #[serde(flatten)]
    pub stats: FlowStats,
}

/// One situation's flow metrics; `situation_id` `None` gathers the alerts tied to no
/// situation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SituationFlow {
    /// The situation (`None`: alerts tied to none).
    pub situation_id: Option<Uuid>,
    /// Its metrics.
    #[serde(flatten)]
    pub stats: FlowStats,
}

/// Flow metrics per desk and per situation, and over all the alerts given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FlowReport {
    /// The time the report was computed for (pending alerts are judged against it).
    pub as_of: DateTime<Utc>,
    /// The response window, in hours (72).
    pub response_window_hours: i64,
    /// Over every alert given.
    pub overall: FlowStats,
    /// Per desk, by desk id: every desk with an alert, and every desk named to `compute`
    /// (with zero counts when it had none).
    pub desks: Vec<DeskFlow>,
    /// Per situation, by situation id, alerts tied to no situation first (when there are any),
    /// and every situation named to `compute`.
    pub situations: Vec<SituationFlow>,
}

impl FlowReport {
    /// The flow metrics of `alerts` at `now`. `desks` and `situations` name groups to show even
    /// when they have no alert (a page listing every desk); groups of the alerts are added.
    pub fn compute(
        alerts: &[AlertTimes],
        now: DateTime<Utc>,
        desks: &[Uuid],
        situations: &[Uuid],
    ) -> FlowReport {
        let mut by_desk: BTreeMap<Uuid, Vec<&AlertTimes>> =
            desks.iter().map(|d| (*d, Vec::new())).collect();
        let mut by_situation: BTreeMap<Option<Uuid>, Vec<&AlertTimes>> =
            situations.iter().map(|s| (Some(*s), Vec::new())).collect();
        for a in alerts {
            by_desk.entry(a.desk_id).or_default().push(a);
            by_situation.entry(a.situation_id).or_default().push(a);
        }
        FlowReport {
            as_of: now,
            response_window_hours: RESPONSE_WINDOW_HOURS,
            overall: FlowStats::compute(&alerts.iter().collect::<Vec<_>>(), now),
            desks: by_desk
                .into_iter()
                .map(|(desk_id, v)| DeskFlow {
                    desk_id,
                    stats: FlowStats::compute(&v, now),
                })
                .collect(),
            situations: by_situation
                .into_iter()
                .map(|(situation_id, v)| SituationFlow {
                    situation_id,
                    stats: FlowStats::compute(&v, now),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// Monday 2026-11-02 00:00 UTC plus `h` hours.
    fn h(h: f64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap() + Duration::seconds((h * 3600.0) as i64)
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn alert(n: u128, desk: u128, situation: Option<u128>, opened: f64) -> AlertTimes {
        AlertTimes {
            alert_id: id(1000 + n),
            desk_id: id(desk),
            situation_id: situation.map(id),
            opened_at: h(opened),
            acknowledged_at: None,
            action_decided_at: None,
            closed_at: None,
            first_evidence_at: None,
            first_action_at: None,
        }
    }

    #[test]
    fn percentiles_interpolate_between_ranks_and_round_halves_up() {
        assert_eq!(percentile(&[], 5, 10), None);
        assert_eq!(percentile(&[7], 5, 10), Some(7));
        assert_eq!(percentile(&[7], 9, 10), Some(7));
        // Two values: median (1 * 0.5 = 0.5) halfway: 15; p90 at 0.9: 10 + 0.9 * 10 = 19.
        assert_eq!(percentile(&[10, 20], 5, 10), Some(15));
        assert_eq!(percentile(&[10, 20], 9, 10), Some(19));
        // Halves round up: (1 + 2) / 2 = 1.5 → 2.
        assert_eq!(percentile(&[1, 2], 5, 10), Some(2));
        // 1..=10 (×60): median at 4.5 → 5.5 min = 330 s; p90 at 8.1 → 9.1 min = 546 s.
        let v: Vec<i64> = (1..=10).map(|m| m * 60).collect();
        assert_eq!(percentile(&v, 5, 10), Some(330));
        assert_eq!(percentile(&v, 9, 10), Some(546));
    }

    #[test]
    fn an_empty_input_and_named_groups_without_alerts_show_zero_counts() {
        let r = FlowReport::compute(&[], h(0.0), &[id(1)], &[id(7)]);
        assert_eq!(r.overall, FlowStats::default());
        assert_eq!(r.response_window_hours, 72);
        assert_eq!(r.desks.len(), 1);
        assert_eq!(r.desks[0].desk_id, id(1));
        assert_eq!(r.desks[0].stats.alerts, 0);
        assert_eq!(r.desks[0].stats.alert_to_acknowledgement.median_secs, None);
        assert_eq!(r.desks[0].stats.response_within_72h.share, None);
        assert_eq!(r.situations.len(), 1);
        assert_eq!(r.situations[0].situation_id, Some(id(7)));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json["desks"][0]["alerts"], 0,
            "stats flatten into the group"
        );
        assert!(json["desks"][0]["evidence_to_alert"]["median_secs"].is_null());
    }

    /// Desk 1, situation 7: four alerts with hand-computed intervals; desk 2, no situation:
    /// one alert with no times but its opening.
    fn scenario() -> Vec<AlertTimes> {
        // A: evidence 2 h before; acknowledged after 30 min; action 1 h later; closed.
        let mut a = alert(1, 1, Some(7), 0.0);
        a.first_evidence_at = Some(h(-2.0));
        a.acknowledged_at = Some(h(0.5));
        a.first_action_at = Some(h(1.5));
        a.action_decided_at = Some(h(2.0));
        a.closed_at = Some(h(10.0));
        // B: evidence 6 h before; acknowledged after 1 h; decided after 80 h (late), no
        // recorded action.
        let mut b = alert(2, 1, Some(7), 0.0);
        b.first_evidence_at = Some(h(-6.0));
        b.acknowledged_at = Some(h(1.0));
        b.action_decided_at = Some(h(80.0));
        // C: evidence joined by hand after it was raised (not measured); acknowledged after
        // 3 h; an action recorded before the acknowledgement (not measured) but within 72 h.
        let mut c = alert(3, 1, Some(7), 10.0);
        c.first_evidence_at = Some(h(11.0));
        c.acknowledged_at = Some(h(13.0));
        c.first_action_at = Some(h(12.0));
        // D: still open, raised 20 h before `now` (100 h): pending for the 72 h share.
        let mut d = alert(4, 1, Some(7), 80.0);
        d.first_evidence_at = Some(h(79.0));
        // E: desk 2, no situation, never acknowledged, opened 90 h before now: a miss.
        let e = alert(5, 2, None, 10.0);
        vec![a, b, c, d, e]
    }

    #[test]
    fn hand_computed_intervals_per_desk_and_situation() {
        let r = FlowReport::compute(&scenario(), h(100.0), &[], &[]);
        let desk1 = &r.desks[0];
        assert_eq!((desk1.desk_id, desk1.stats.alerts), (id(1), 4));
        // Evidence → alert: A 7200, B 21600, D 3600 (C not measured).
        // Sorted 3600, 7200, 21600: median 7200; p90 at 1.8 → 7200 + 0.8 × 14400 = 18720.
        assert_eq!(
            desk1.stats.evidence_to_alert,
            IntervalStats {
                count: 3,
                not_measured: 1,
                median_secs: Some(7200),
                p90_secs: Some(18720),
            }
        );
        // Alert → acknowledgement: A 1800, B 3600, C 10800 (D never acknowledged).
        // Median 3600; p90 at 1.8 → 3600 + 0.8 × 7200 = 9360.
        assert_eq!(
            desk1.stats.alert_to_acknowledgement,
            IntervalStats {
                count: 3,
                not_measured: 1,
                median_secs: Some(3600),
                p90_secs: Some(9360),
            }
        );
        // Acknowledgement → first action: A only, 3600 (B none recorded, C before the ack,
        // D not acknowledged).
        assert_eq!(
            desk1.stats.acknowledgement_to_first_action,
            IntervalStats {
                count: 1,
                not_measured: 3,
                median_secs: Some(3600),
                p90_secs: Some(3600),
            }
        );
        // 72 h: A in time (action at 1.5 h), C in time (action at 2 h after opening), B late
        // (decided after 80 h, counted as its window passed), D pending (20 h old, open).
        assert_eq!(
            desk1.stats.response_within_72h,
            ResponseShare {
                responded: 2,
                counted: 3,
                pending: 1,
                share: Some(2.0 / 3.0),
            }
        );
        // Desk 2: one alert, nothing measured but its 72 h passed without a response.
        let desk2 = &r.desks[1];
        assert_eq!((desk2.desk_id, desk2.stats.alerts), (id(2), 1));
        assert_eq!(desk2.stats.evidence_to_alert.count, 0);
        assert_eq!(desk2.stats.evidence_to_alert.not_measured, 1);
        assert_eq!(desk2.stats.alert_to_acknowledgement.median_secs, None);
        assert_eq!(
            desk2.stats.response_within_72h,
            ResponseShare {
                responded: 0,
                counted: 1,
                pending: 0,
                share: Some(0.0),
            }
        );
        // Situations: the alerts tied to none first, then situation 7 (same as desk 1).
        assert_eq!(r.situations.len(), 2);
        assert_eq!(r.situations[0].situation_id, None);
        assert_eq!(r.situations[0].stats, desk2.stats);
        assert_eq!(r.situations[1].situation_id, Some(id(7)));
        assert_eq!(r.situations[1].stats, desk1.stats);
        // Overall: 2 of 4 counted responded in time; acknowledgements 1800, 3600, 10800.
        assert_eq!(r.overall.alerts, 5);
        assert_eq!(r.overall.response_within_72h.responded, 2);
        assert_eq!(r.overall.response_within_72h.counted, 4);
        assert_eq!(r.overall.response_within_72h.share, Some(0.5));
        assert_eq!(r.overall.alert_to_acknowledgement.median_secs, Some(3600));
        assert_eq!(r.overall.alert_to_acknowledgement.not_measured, 2);
    }

    #[test]
    fn an_open_alert_counts_once_its_72_hours_have_passed() {
        let d = alert(1, 1, None, 0.0);
        let at = |hours: f64| FlowReport::compute(std::slice::from_ref(&d), h(hours), &[], &[]);
        let s = at(71.9).overall.response_within_72h;
        assert_eq!(
            (s.responded, s.counted, s.pending, s.share),
            (0, 0, 1, None)
        );
        let s = at(72.0).overall.response_within_72h;
        assert_eq!(
            (s.responded, s.counted, s.pending, s.share),
            (0, 1, 0, Some(0.0))
        );
        // Exactly 72 h after opening is still in time.
        let mut r = alert(2, 1, None, 0.0);
        r.action_decided_at = Some(h(72.0));
        let s = FlowReport::compute(&[r], h(200.0), &[], &[])
            .overall
            .response_within_72h;
        assert_eq!((s.responded, s.counted), (1, 1));
    }

    #[test]
    fn a_closed_alert_without_a_response_is_a_miss_and_a_fresh_response_counts_at_once() {
        // Closed after 5 h with no action: counted, missed, even before 72 h passed.
        let mut closed = alert(1, 1, None, 0.0);
        closed.acknowledged_at = Some(h(1.0));
        closed.closed_at = Some(h(5.0));
        // Responded after 3 h, 10 h ago: known, counted at once.
        let mut quick = alert(2, 1, None, 0.0);
        quick.first_action_at = Some(h(3.0));
        let s = FlowReport::compute(&[closed, quick], h(10.0), &[], &[])
            .overall
            .response_within_72h;
        assert_eq!(
            s,
            ResponseShare {
                responded: 1,
                counted: 2,
                pending: 0,
                share: Some(0.5),
            }
        );
    }

    #[test]
    fn the_response_is_the_earlier_of_a_first_action_and_a_decision() {
        let mut a = alert(1, 1, None, 0.0);
        assert_eq!(a.response_at(), None);
        a.action_decided_at = Some(h(5.0));
        assert_eq!(a.response_at(), Some(h(5.0)));
        a.first_action_at = Some(h(4.0));
        assert_eq!(a.response_at(), Some(h(4.0)));
        a.action_decided_at = None;
        assert_eq!(a.response_at(), Some(h(4.0)));
    }

    #[test]
    fn times_come_from_the_alert() {
        let (mut alert, _) = Alert::open(
            "Attacks near Bria",
            crate::Severity::High,
            crate::Tlp::Amber,
            id(3),
            crate::AlertOrigin::ByHand("alice".into()),
            vec![],
            crate::TextDuration::parse("ack_within", "30m").unwrap(),
            h(0.0),
            "alice",
        )
        .unwrap();
        alert.situation_id = Some(id(9));
        alert.acknowledge("bob", h(0.25)).unwrap();
        let t = AlertTimes::of(&alert, Some(h(-1.0)), None);
        assert_eq!((t.alert_id, t.desk_id), (alert.id, id(3)));
        assert_eq!(t.situation_id, Some(id(9)));
        assert_eq!(t.acknowledged_at, Some(h(0.25)));
        let r = FlowReport::compute(&[t], h(1.0), &[], &[]);
        assert_eq!(r.overall.evidence_to_alert.median_secs, Some(3600));
        assert_eq!(r.overall.alert_to_acknowledgement.median_secs, Some(900));
    }
}
