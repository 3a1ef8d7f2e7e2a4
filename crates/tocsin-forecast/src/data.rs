//! Loading the Early Warning Project's country-year file into a dense matrix.
//!
//! # Which columns are predictors
//!
//! Every column except the identifiers and the outcomes, plus `year`:
//!
//! * identifiers, never predictors: `ewp_name`, `ccode` (and an unnamed row-number column if
//!   present);
//! * outcomes, never predictors: `mk_onset` (onset in the row's year), `mk_onset_1`,
//!   `mk_onset_2` (onset one and two years later) and `mk_onset_1or2` (either), i.e.
//!   [`OUTCOME_COLUMNS`];
//! * `year` is both the row's identifier and a predictor.
//!
//! On `prepared2024predictors-2025-09-03.csv` that gives the 39 predictors of the Project's
//! 2025 model (its `predictornames.fullest`): the 38 columns between `year` and
//! `mk_onset_1or2`, and `year`. The Project fits a quadratic time trend, `year` and `year_sq`;
//! leaving `year` out would keep only half of it. The list includes `countryage.new.log2`,
//! and the lagged outcome summaries `mk_onset_prev_year`, `mk_ongoing_count_log2`, `mk_ever`
//! and `mean_mk_onset_interaction`, which only use years up to the row's own year, so they are
//! legitimate predictors. Choosing by name rather than by position means a file with
//! reordered columns loads the same way; a file that lacks one of the identifier or outcome
//! columns is rejected. [`PREDICTORS_2025`] lists the Project's 39 names, and a test checks
//! that the loader finds exactly those.
//!
//! # Missing values
//!
//! `NA`, `NaN` and empty cells are missing. Missing predictors are stored as `NaN`; the
//! protocol only ever trains on and forecasts from rows whose predictors are all present
//! ([`Dataset::complete`]). Missing outcomes are `None`.

use crate::error::{ForecastError, Result};
use std::collections::HashMap;
use std::path::Path;

/// Columns that identify a row and are never predictors.
pub const ID_COLUMNS: [&str; 2] = ["ewp_name", "ccode"];
/// The year column: an identifier that is also a predictor.
pub const YEAR_COLUMN: &str = "year";
/// The predictors of the Project's 2025 model, in its order.
pub const PREDICTORS_2025: [&str; 39] = [
    "widetargeting",
    "narrowtargeting",
    "v2csgender_binary",
    "v2mecenefm_binary",
    "partyban.new.0",
    "partyban.new.1",
    "partyban.new.2",
    "minorityrule",
    "judicialreform",
    "religiousfreedom",
    "pol_killing_approved",
    "freediscussion",
    "social_inequality",
    "even_civilrights",
    "repress_civilsoc",
    "social_power_dist",
    "ses_power_dist",
    "popsize.log2",
    "gdppcgrowth",
    "un_imr_sqrt",
    "efindex",
    "discrimpop",
    "reg.na",
    "reg.eap",
    "reg.sca",
    "reg.mna",
    "reg.eur",
    "ios.iccpr1",
    "battledeaths.log2",
    "coup.try.5yr",
    "mk_ongoing_count_log2",
    "mean_mk_onset_interaction",
    "mk_onset_prev_year",
    "newcountry",
    "mk_ever",
    "year_sq",
    "year",
    "countryage.new.log2",
    "includesnonstate",
];
/// Outcome columns, never predictors.
pub const OUTCOME_COLUMNS: [&str; 4] = ["mk_onset_1or2", "mk_onset", "mk_onset_1", "mk_onset_2"];

/// A dense column-major matrix of `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Matrix {
    /// A matrix from column-major data.
    pub fn from_col_major(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self> {
        if data.len() != rows * cols {
            return Err(ForecastError::Invalid(format!(
                "matrix of {rows}×{cols} needs {} values, got {}",
                rows * cols,
                data.len()
            )));
        }
        Ok(Self { rows, cols, data })
    }

    /// A matrix from a list of rows, each of the same length.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self> {
        let n = rows.len();
        let p = rows.first().map_or(0, Vec::len);
        let mut data = vec![0.0; n * p];
        for (i, r) in rows.iter().enumerate() {
            if r.len() != p {
                return Err(ForecastError::Invalid(format!(
                    "row {i} has {} values, expected {p}",
                    r.len()
                )));
            }
            for (j, v) in r.iter().enumerate() {
                data[j * n + i] = *v;
            }
        }
        Ok(Self {
            rows: n,
            cols: p,
            data,
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Column `j`, contiguous.
    pub fn col(&self, j: usize) -> &[f64] {
        &self.data[j * self.rows..(j + 1) * self.rows]
    }

    /// The value at row `i`, column `j`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[j * self.rows + i]
    }

    /// Row `i`, copied.
    pub fn row(&self, i: usize) -> Vec<f64> {
        (0..self.cols).map(|j| self.get(i, j)).collect()
    }

    /// The sub-matrix of the given rows, in that order.
    pub fn select_rows(&self, idx: &[usize]) -> Matrix {
        let n = idx.len();
        let mut data = Vec::with_capacity(n * self.cols);
        for j in 0..self.cols {
            let c = self.col(j);
            data.extend(idx.iter().map(|&i| c[i]));
        }
        Matrix {
            rows: n,
            cols: self.cols,
            data,
        }
    }
}

/// The country-year file, loaded.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Predictor names, in file order.
    pub predictors: Vec<String>,
    /// `ewp_name` per row.
    pub country: Vec<String>,
    /// `ccode` per row (missing as `None`).
    pub ccode: Vec<Option<i64>>,
    /// `year` per row.
    pub year: Vec<i32>,
    /// Predictors, one row per country-year; missing values are `NaN`.
    pub x: Matrix,
    /// `mk_onset`: an onset of mass killing began in the row's year.
    pub mk_onset: Vec<Option<bool>>,
    /// `mk_onset_1or2`: an onset in the next year or the one after. The training outcome.
    pub mk_onset_1or2: Vec<Option<bool>>,
    /// `mk_onset_1`: an onset in the next year (missing where not yet observed).
    pub mk_onset_1: Vec<Option<bool>>,
    /// `mk_onset_2`: an onset two years later (missing where not yet observed).
    pub mk_onset_2: Vec<Option<bool>>,
}

fn is_missing(s: &str) -> bool {
    let s = s.trim();
    s.is_empty() || s == "NA" || s == "NaN" || s == "nan"
}

/// Parse a number cell; missing cells are `None`.
pub(crate) fn parse_cell(s: &str, path: &Path, line: u64, column: &str) -> Result<Option<f64>> {
    if is_missing(s) {
        return Ok(None);
    }
    s.trim()
        .parse::<f64>()
        .map(Some)
        .map_err(|_| ForecastError::Parse {
            path: path.to_path_buf(),
            line,
            column: column.to_string(),
            value: s.to_string(),
        })
}

pub(crate) fn open_csv(path: &Path) -> Result<csv::Reader<std::fs::File>> {
    let f = std::fs::File::open(path).map_err(|source| ForecastError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(csv::ReaderBuilder::new().has_headers(true).from_reader(f))
}

pub(crate) fn column_index(
    headers: &csv::StringRecord,
    path: &Path,
) -> impl Fn(&str) -> Result<usize> {
    let map: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.to_string(), i))
        .collect();
    let path = path.to_path_buf();
    move |name: &str| {
        map.get(name)
            .copied()
            .ok_or_else(|| ForecastError::MissingColumn {
                path: path.clone(),
                column: name.to_string(),
            })
    }
}

fn as_flag(v: Option<f64>) -> Option<bool> {
    v.map(|v| v != 0.0)
}

impl Dataset {
    /// Load the file. See the module documentation for the column rules.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let mut rdr = open_csv(path)?;
        let csv_err = |source| ForecastError::Csv {
            path: path.to_path_buf(),
            source,
        };
        let headers = rdr.headers().map_err(csv_err)?.clone();
        let idx = column_index(&headers, path);
        let i_name = idx("ewp_name")?;
        let i_year = idx(YEAR_COLUMN)?;
        let i_ccode = idx("ccode")?;
        let outcome_idx: Vec<usize> = OUTCOME_COLUMNS
            .iter()
            .map(|c| idx(c))
            .collect::<Result<_>>()?;
        let pred_idx: Vec<usize> = headers
            .iter()
            .enumerate()
            .filter(|(_, h)| {
                !h.is_empty() && !ID_COLUMNS.contains(h) && !OUTCOME_COLUMNS.contains(h)
            })
            .map(|(i, _)| i)
            .collect();
        if pred_idx.is_empty() {
            return Err(ForecastError::Invalid(format!(
                "{}: no predictor columns",
                path.display()
            )));
        }
        let predictors: Vec<String> = pred_idx.iter().map(|&i| headers[i].to_string()).collect();

        let mut rows: Vec<Vec<f64>> = Vec::new();
        let (mut country, mut ccode, mut year) = (Vec::new(), Vec::new(), Vec::new());
        let mut outcomes: [Vec<Option<bool>>; 4] = Default::default();
        let mut rec = csv::StringRecord::new();
        while rdr.read_record(&mut rec).map_err(csv_err)? {
            let line = rec.position().map_or(0, |p| p.line());
            let cell = |i: usize| rec.get(i).unwrap_or("");
            let num = |i: usize| parse_cell(cell(i), path, line, &headers[i]);
            let y = num(i_year)?.ok_or_else(|| ForecastError::Parse {
                path: path.to_path_buf(),
                line,
                column: "year".into(),
                value: cell(i_year).into(),
            })?;
            year.push(y as i32);
            country.push(cell(i_name).to_string());
            ccode.push(num(i_ccode)?.map(|v| v as i64));
            for (k, &i) in outcome_idx.iter().enumerate() {
                outcomes[k].push(as_flag(num(i)?));
            }
            let mut r = Vec::with_capacity(pred_idx.len());
            for &i in &pred_idx {
                r.push(num(i)?.unwrap_or(f64::NAN));
            }
            rows.push(r);
        }
        if rows.is_empty() {
            return Err(ForecastError::Invalid(format!(
                "{}: no data rows",
                path.display()
            )));
        }
        let [mk_onset_1or2, mk_onset, mk_onset_1, mk_onset_2] = outcomes;
        Ok(Self {
            x: Matrix::from_rows(&rows)?,
            predictors,
            country,
            ccode,
            year,
            mk_onset,
            mk_onset_1or2,
            mk_onset_1,
            mk_onset_2,
        })
    }

    /// The same rows with only the named predictors, in the order given.
    pub fn with_predictors(&self, names: &[&str]) -> Result<Dataset> {
        let idx: Vec<usize> = names
            .iter()
            .map(|n| {
                self.predictors
                    .iter()
                    .position(|p| p == n)
                    .ok_or_else(|| ForecastError::Invalid(format!("no predictor named {n:?}")))
            })
            .collect::<Result<_>>()?;
        let n = self.len();
        let mut data = Vec::with_capacity(n * idx.len());
        for &j in &idx {
            data.extend_from_slice(self.x.col(j));
        }
        Ok(Dataset {
            predictors: names.iter().map(|s| s.to_string()).collect(),
            x: Matrix::from_col_major(n, idx.len(), data)?,
            ..self.clone()
        })
    }

    /// Number of country-year rows.
    pub fn len(&self) -> usize {
        self.year.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.year.is_empty()
    }

    /// Whether row `i` has every predictor.
    pub fn complete(&self, i: usize) -> bool {
        (0..self.x.cols()).all(|j| !self.x.get(i, j).is_nan())
    }

    /// Rows for which `keep(year)` holds, with complete predictors and every outcome column
    /// present. Requiring all four outcomes, not only `mk_onset_1or2`, mirrors the Project's
    /// `complete.cases` filter: it drops a country's last one or two years before it ceased to
    /// exist, where `mk_onset_1or2` is recorded as 0 but was never observed.
    pub fn training_rows(&self, keep: impl Fn(i32) -> bool) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| {
                keep(self.year[i])
                    && self.mk_onset_1or2[i].is_some()
                    && self.mk_onset[i].is_some()
                    && self.mk_onset_1[i].is_some()
                    && self.mk_onset_2[i].is_some()
                    && self.complete(i)
            })
            .collect()
    }

    /// Rows of `year` with complete predictors (the rows a forecast is made from).
    pub fn forecast_rows(&self, year: i32) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| self.year[i] == year && self.complete(i))
            .collect()
    }

    /// The training outcome (`mk_onset_1or2`) of the given rows as 0/1.
    pub fn target(&self, idx: &[usize]) -> Vec<f64> {
        idx.iter()
            .map(|&i| f64::from(u8::from(self.mk_onset_1or2[i].unwrap_or(false))))
            .collect()
    }

    /// A small integer per country (by `ewp_name`) for the given rows, for grouped folds.
    pub fn groups(&self, idx: &[usize]) -> Vec<u32> {
        let mut ids: HashMap<&str, u32> = HashMap::new();
        idx.iter()
            .map(|&i| {
                let next = ids.len() as u32;
                *ids.entry(self.country[i].as_str()).or_insert(next)
            })
            .collect()
    }

    /// The first and last year in the file.
    pub fn year_range(&self) -> (i32, i32) {
        let lo = self.year.iter().copied().min().unwrap_or(0);
        let hi = self.year.iter().copied().max().unwrap_or(0);
        (lo, hi)
    }
}
