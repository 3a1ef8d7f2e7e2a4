//! Measuring a lexicon on a labelled sample: precision and recall of "the text has a hit",
//! with Wilson score intervals, overall and per language.
//!
//! A sample file is CSV with a header: `text,label` (label `1`: the text is dangerous speech,
//! `0`: it is not), and optionally `language` to break the figures down.

use crate::read::{csv_error, csv_reader, header, read_text, Lines, ReadError};
use crate::scan::{ScanBuffer, Scanner};
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

/// One labelled text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled {
    /// The text.
    pub text: String,
    /// It is dangerous speech.
    pub label: bool,
    /// Its language, when the sample says.
    pub language: Option<String>,
}

/// Read a labelled sample (`text,label[,language]`).
pub fn read_sample(input: impl Read) -> Result<Vec<Labelled>, ReadError> {
    let (text, _) = read_text(input)?;
    let mut rdr = csv_reader(&text);
    let cols = header(&mut rdr, &text)?;
    let pos = |c: &str| cols.iter().position(|h| h == c);
    let (Some(ti), Some(li)) = (pos("text"), pos("label")) else {
        return Err(ReadError::File(
            "a sample needs the columns text,label (and optionally language)".into(),
        ));
    };
    let gi = pos("language");
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    let mut lines = Lines::default();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(e, &text)),
        }
        let line = lines.line(&text, rec.position().map_or(0, |p| p.byte()));
        if rec.iter().all(str::is_empty) {
            continue;
        }
        let label = match rec.get(li).unwrap_or("") {
            "1" => true,
            "0" => false,
            other => {
                return Err(ReadError::line(
                    line,
                    format!("label: {other:?}: expected 1 (dangerous speech) or 0"),
                ))
            }
        };
        out.push(Labelled {
            text: rec.get(ti).unwrap_or("").to_string(),
            label,
            language: gi
                .and_then(|g| rec.get(g))
                .filter(|l| !l.is_empty())
                .map(str::to_lowercase),
        });
    }
    if out.is_empty() {
        return Err(ReadError::File("the sample has no rows".into()));
    }
    Ok(out)
}

/// A 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// The Wilson score interval (95 %) for `successes` out of `n`; `None` when `n` is 0.
pub fn wilson(successes: u64, n: u64) -> Option<Interval> {
    if n == 0 {
        return None;
    }
    const Z: f64 = 1.959_963_984_540_054;
    let n = n as f64;
    let p = successes as f64 / n;
    let z2 = Z * Z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    // At 0 and at n the bound is exactly 0 or 1 (rounding would leave 1 − ε).
    Some(Interval {
        low: if successes == 0 {
            0.0
        } else {
            (centre - half).max(0.0)
        },
        high: if p == 1.0 {
            1.0
        } else {
            (centre + half).min(1.0)
        },
    })
}

/// The confusion counts of one set of texts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Flagged and labelled 1.
    pub true_positives: u64,
    /// Flagged and labelled 0.
    pub false_positives: u64,
    /// Not flagged and labelled 1.
    pub false_negatives: u64,
    /// Not flagged and labelled 0.
    pub true_negatives: u64,
}

impl Counts {
    /// Flagged texts that are dangerous speech, of all flagged; `None` when none was flagged.
    pub fn precision(&self) -> Option<f64> {
        let n = self.true_positives + self.false_positives;
        (n > 0).then(|| self.true_positives as f64 / n as f64)
    }

    /// Dangerous-speech texts flagged, of all of them; `None` when the sample has none.
    pub fn recall(&self) -> Option<f64> {
        let n = self.true_positives + self.false_negatives;
        (n > 0).then(|| self.true_positives as f64 / n as f64)
    }

    /// Wilson interval of the precision.
    pub fn precision_interval(&self) -> Option<Interval> {
        wilson(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// Wilson interval of the recall.
    pub fn recall_interval(&self) -> Option<Interval> {
        wilson(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    /// How many texts.
    pub fn total(&self) -> u64 {
        self.true_positives + self.false_positives + self.false_negatives + self.true_negatives
    }

    fn add(&mut self, flagged: bool, label: bool) {
        match (flagged, label) {
            (true, true) => self.true_positives += 1,
            (true, false) => self.false_positives += 1,
            (false, true) => self.false_negatives += 1,
            (false, false) => self.true_negatives += 1,
        }
    }
}

/// The figures of one lexicon on one sample.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evaluation {
    /// Over the whole sample.
    pub overall: Counts,
    /// Per language of the sample's `language` column (rows without one are only counted
    /// overall).
    pub by_language: BTreeMap<String, Counts>,
}

/// Scan each text of `sample` with `scanner`: a text with at least one hit is flagged.
pub fn evaluate(scanner: &Scanner, sample: &[Labelled]) -> Evaluation {
    let mut ev = Evaluation::default();
    let mut buf = ScanBuffer::default();
    let mut hits = Vec::new();
    for row in sample {
        scanner.scan_with(&row.text, &mut buf, &mut hits);
        let flagged = !hits.is_empty();
        ev.overall.add(flagged, row.label);
        if let Some(l) = &row.language {
            ev.by_language
                .entry(l.clone())
                .or_default()
                .add(flagged, row.label);
        }
    }
    ev
}

fn figure(v: Option<f64>, i: Option<Interval>) -> String {
    match (v, i) {
        (Some(v), Some(i)) => format!("{v:.3} [{:.3}, {:.3}]", i.low, i.high),
        _ => "n/a".to_string(),
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "precision {}, recall {} (n={}: {} true positives, {} false positives, {} missed)",
            figure(self.precision(), self.precision_interval()),
            figure(self.recall(), self.recall_interval()),
            self.total(),
            self.true_positives,
            self.false_positives,
            self.false_negatives
        )
    }
}

impl fmt::Display for Evaluation {
    /// One line overall, then one per language; intervals are Wilson 95 %.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "all: {}", self.overall)?;
        for (l, c) in &self.by_language {
            writeln!(f, "{l}: {c}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_published_values() {
        // Wilson (1927) / Newcombe (1998) example: 81 of 263 → 0.2553 to 0.3662.
        let i = wilson(81, 263).unwrap();
        assert!(
            (i.low - 0.2553).abs() < 5e-4 && (i.high - 0.3662).abs() < 5e-4,
            "{i:?}"
        );
        // All successes: the upper bound is 1, the lower well below.
        let i = wilson(10, 10).unwrap();
        assert_eq!(i.high, 1.0);
        assert!((i.low - 0.7225).abs() < 5e-4, "{i:?}");
        let i = wilson(0, 10).unwrap();
        assert_eq!(i.low, 0.0);
        assert!(wilson(0, 0).is_none());
    }

    #[test]
    fn sample_labels_are_checked_with_their_line() {
        let e = read_sample("text,label\nhello,0\nkill them,yes\n".as_bytes())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "line 3: label: \"yes\": expected 1 (dangerous speech) or 0"
        );
        let e = read_sample("text,score\nhello,0\n".as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains("text,label"), "{e}");
        assert!(read_sample("text,label\n".as_bytes()).is_err());
    }
}
