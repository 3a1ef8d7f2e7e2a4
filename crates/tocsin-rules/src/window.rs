//! The windowed state of one incident-threshold rule.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use tocsin_domain::Tlp;
use uuid::Uuid;

/// What one incident contributes to a rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Entry {
    pub date: NaiveDate,
    pub fatalities: i64,
    pub tlp: Tlp,
}

/// The incidents matching a rule's static filter whose event date lies within the window
/// ending at the newest such date, keyed by incident id, with their sums.
#[derive(Debug, Default)]
pub(crate) struct Window {
    /// Window length in days: `7d` holds the newest date and the six before it.
    pub days: i64,
    /// Newest event date ever matched (a high-water mark: it never moves back).
    pub newest: Option<NaiveDate>,
    pub by_id: HashMap<Uuid, Entry>,
    order: BTreeSet<(NaiveDate, Uuid)>,
    pub count: u64,
    pub fatalities: i64,
}

impl Window {
    pub fn new(days: i64) -> Window {
        Window {
            days: days.max(1),
            ..Default::default()
        }
    }

    /// The first date inside the window, if any incident was matched yet.
    pub fn start(&self) -> Option<NaiveDate> {
        self.newest
            .and_then(|n| n.checked_sub_days(chrono::Days::new((self.days - 1) as u64)))
    }

    /// Remove `id`'s contribution; returns it.
    pub fn remove(&mut self, id: Uuid) -> Option<Entry> {
        let e = self.by_id.remove(&id)?;
        self.order.remove(&(e.date, id));
        self.count -= 1;
        self.fatalities -= e.fatalities;
        Some(e)
    }

    /// Count `id` (after its old contribution was removed): advances the newest date and
    /// pushes out, into `evicted`, the incidents that fell out of the window. Returns whether
    /// `id` is inside the window.
    pub fn insert(&mut self, id: Uuid, e: Entry, evicted: &mut Vec<Uuid>) -> bool {
        if self.newest.is_none_or(|n| e.date > n) {
            self.newest = Some(e.date);
            let start = self.start().unwrap_or(NaiveDate::MIN);
            while let Some(&(d, old)) = self.order.first() {
                if d >= start {
                    break;
                }
                self.remove(old);
                evicted.push(old);
            }
        }
        if self.start().is_some_and(|s| e.date < s) {
            return false;
        }
        self.order.insert((e.date, id));
        self.by_id.insert(id, e);
        self.count += 1;
        self.fatalities += e.fatalities;
        true
    }

    /// The incidents in the window, oldest first, and the highest label among them.
    pub fn evidence(&self) -> (Vec<Uuid>, Tlp) {
        let mut tlp = Tlp::Clear;
        let ids = self
            .order
            .iter()
            .map(|(_, id)| {
                tlp = tlp.max(self.by_id[id].tlp);
                *id
            })
            .collect();
        (ids, tlp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(d: &str, f: i64) -> Entry {
        Entry {
            date: d.parse().unwrap(),
            fatalities: f,
            tlp: Tlp::Green,
        }
    }

    #[test]
    fn the_window_slides_with_the_newest_date() {
        let mut w = Window::new(7);
        let mut ev = Vec::new();
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        assert!(w.insert(a, e("2025-03-01", 2), &mut ev));
        assert!(w.insert(b, e("2025-03-07", 3), &mut ev));
        assert_eq!((w.count, w.fatalities), (2, 5));
        // 2025-03-08 starts a window at 03-02: the first incident falls out.
        assert!(w.insert(c, e("2025-03-08", 1), &mut ev));
        assert_eq!(ev, vec![a]);
        assert_eq!((w.count, w.fatalities), (2, 4));
        // Too old for the window now.
        assert!(!w.insert(Uuid::from_u128(4), e("2025-03-01", 9), &mut ev));
        assert_eq!(w.count, 2);
        assert_eq!(w.remove(b).unwrap().fatalities, 3);
        assert_eq!((w.count, w.fatalities), (1, 1));
    }
}
