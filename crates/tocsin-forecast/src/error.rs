//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while loading data, fitting or scoring.
#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    /// The file could not be opened or read. The underlying error is the `source`, shown by
    /// error reporters that print the chain.
    #[error("cannot read {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The CSV reader failed (malformed quoting, unequal row lengths, …).
    #[error("{path}: malformed CSV")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: csv::Error,
    },
    /// A column the format requires is absent.
    #[error("{path}: no column named {column:?}")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
    },
    /// A cell that must be a number (or `NA`/empty) is not.
    #[error("{path} line {line}, column {column:?}: {value:?} is not a number")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number in the file (the header is line 1).
        line: u64,
        /// The column.
        column: String,
        /// The cell's text.
        value: String,
    },
    /// The report could not be written.
    #[error("cannot write the report")]
    Output(#[source] std::io::Error),
    /// The inputs cannot be fitted or scored as asked.
    #[error("{0}")]
    Invalid(String),
}

/// Short for `Result<T, ForecastError>`.
pub type Result<T> = std::result::Result<T, ForecastError>;
