//! CSV plumbing shared by the readers: header lookup, UTF-8 checks, row errors.

use csv::{ByteRecord, Reader, ReaderBuilder};
use std::collections::HashMap;
use std::io::Read;

use crate::ImportError;

/// A CSV reader over our line-limited input.
pub fn reader<R: Read>(input: R, delimiter: u8, has_headers: bool) -> Reader<R> {
    ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(has_headers)
        .flexible(true)
        .quoting(delimiter != b'\t')
        .from_reader(input)
}

/// Column positions by name.
pub struct Columns {
    pos: HashMap<String, usize, foldhash::fast::RandomState>,
    /// How many columns the header has.
    pub width: usize,
}

impl Columns {
    /// Whether the header has a column.
    pub fn has(&self, name: &str) -> bool {
        self.pos.contains_key(name)
    }

    /// The header's names, lower case.
    pub fn from_names(header: &ByteRecord) -> Columns {
        let names = Self::names(header);
        Columns {
            pos: names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i))
                .collect(),
            width: names.len(),
        }
    }

    fn names(header: &ByteRecord) -> Vec<String> {
        header
            .iter()
            .map(|f| {
                String::from_utf8_lossy(f)
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .to_ascii_lowercase()
            })
            .collect()
    }

    /// From a header record, checking that `required` are all present.
    pub fn from_header(
        header: &ByteRecord,
        required: &[&str],
        what: &str,
    ) -> Result<Columns, ImportError> {
        let names = Self::names(header);
        let pos: HashMap<String, usize, _> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|c| !pos.contains_key(*c))
            .collect();
        if !missing.is_empty() {
            let hint = if names.len() == 1 {
                " (the header has a single column: is the file separated by something other than commas?)"
            } else {
                ""
            };
            return Err(ImportError::Format(format!(
                "not {what}: missing columns {}{hint}",
                missing.join(", ")
            )));
        }
        Ok(Columns {
            pos,
            width: names.len(),
        })
    }
}

/// One record with its line number, read as UTF-8 by column name.
pub struct Rec<'a> {
    /// The raw record.
    pub rec: &'a ByteRecord,
    /// The header.
    pub cols: &'a Columns,
}

impl Rec<'_> {
    /// A column's text ("" when the column is absent).
    pub fn get(&self, name: &str) -> Result<&str, String> {
        match self.cols.pos.get(name) {
            Some(&i) => self.at(i, name),
            None => Ok(""),
        }
    }

    /// A column by position.
    pub fn at(&self, i: usize, name: &str) -> Result<&str, String> {
        let b = self.rec.get(i).unwrap_or(b"");
        std::str::from_utf8(b).map_err(|_| format!("{name}: invalid UTF-8"))
    }
}

/// Read records one by one, rejecting rows of the wrong width (e.g. a truncated last line)
/// and turning CSV errors into rejections or fatal errors.
pub fn for_each_record<R: Read>(
    rdr: &mut Reader<R>,
    width: Option<usize>,
    mut f: impl FnMut(u64, &ByteRecord) -> Result<(), ImportError>,
    mut reject: impl FnMut(u64, String) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let mut rec = ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = rec.position().map(|p| p.line()).unwrap_or(0);
                if rec.len() == 1
                    && rec
                        .get(0)
                        .is_some_and(|f| f.iter().all(|b| b.is_ascii_whitespace()))
                {
                    continue; // blank line
                }
                match width {
                    Some(w) if rec.len() != w => reject(
                        line,
                        format!(
                            "expected {w} columns, found {} (truncated or malformed row)",
                            rec.len()
                        ),
                    )?,
                    _ => f(line, &rec)?,
                }
            }
            Err(e) => match e.kind() {
                csv::ErrorKind::Io(_) => {
                    return Err(match e.into_kind() {
                        csv::ErrorKind::Io(io) => ImportError::Io(io),
                        _ => unreachable!("matched Io above"),
                    })
                }
                _ => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    reject(line, format!("malformed CSV: {e}"))?
                }
            },
        }
    }
}

/// Read a comma-separated file with a header naming `required` columns, turning each record
/// into an incident with `draft` (HXL tag rows, as HDX adds under the header, are skipped).
pub fn read_headed<R: Read>(
    input: R,
    required: &[&str],
    what: &str,
    opts: &crate::ImportOptions,
    geo: &dyn crate::Geo,
    sink: &mut dyn FnMut(crate::Row) -> Result<(), String>,
    draft: impl Fn(&Rec) -> Result<crate::Draft, String>,
) -> Result<(), ImportError> {
    read_headed_with(
        input,
        |header| Columns::from_header(header, required, what).map(|c| (c, ())),
        opts,
        geo,
        sink,
        |r, ()| draft(r),
    )
}

/// As [`read_headed`], with `layout` deciding from the header how rows are read; answers
/// what `layout` chose.
pub fn read_headed_with<R: Read, L>(
    input: R,
    layout: impl FnOnce(&ByteRecord) -> Result<(Columns, L), ImportError>,
    opts: &crate::ImportOptions,
    geo: &dyn crate::Geo,
    sink: &mut dyn FnMut(crate::Row) -> Result<(), String>,
    draft: impl Fn(&Rec, &L) -> Result<crate::Draft, String>,
) -> Result<L, ImportError> {
    use crate::Row;
    let mut rdr = reader(input, b',', true);
    let header = rdr
        .byte_headers()
        .map_err(|e| ImportError::Format(format!("cannot read the header: {e}")))?
        .clone();
    let (cols, layout) = layout(&header)?;
    let sink = std::cell::RefCell::new(sink);
    let send = |row: Row| (sink.borrow_mut())(row).map_err(ImportError::Sink);
    for_each_record(
        &mut rdr,
        Some(cols.width),
        |line, rec| {
            if crate::hxl::is_tag_row(rec) {
                return Ok(());
            }
            let row =
                match draft(&Rec { rec, cols: &cols }, &layout).and_then(|d| d.finish(opts, geo)) {
                    Ok(i) => Row::Incident(Box::new(i)),
                    Err(reason) => Row::Rejected { line, reason },
                };
            send(row)
        },
        |line, reason| send(Row::Rejected { line, reason }),
    )?;
    Ok(layout)
}
