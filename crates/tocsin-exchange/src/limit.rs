//! A reader that refuses lines longer than a limit, so a 2 GB line cannot exhaust memory,
//! and turns Windows (CRLF) and old Mac (CR) line endings into LF, so that every line
//! number the readers report is the file's physical line whatever its line endings.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

/// The longest line accepted (1 MiB). A GeoJSON file is limited per feature instead.
pub const MAX_LINE_BYTES: u64 = 1 << 20;

/// Wraps a reader, counting bytes since the last newline.
pub struct LineLimited<R> {
    inner: BufReader<R>,
    since_newline: u64,
    line: u64,
    /// When false, line lengths are not checked (GeoJSON may be one long line).
    pub check_lines: bool,
    /// Bytes read since the holder of this counter last reset it (GeoJSON: per feature).
    pub chunk: Rc<Cell<u64>>,
    /// The most bytes `chunk` may reach.
    pub chunk_limit: u64,
    /// The last byte handed out was a CR turned into LF: an LF right after it is dropped.
    after_cr: bool,
}

impl<R: Read> LineLimited<R> {
    /// Wrap `inner`.
    pub fn new(inner: R) -> Self {
        LineLimited {
            inner: BufReader::with_capacity(256 * 1024, inner),
            since_newline: 0,
            line: 1,
            check_lines: true,
            chunk: Rc::new(Cell::new(0)),
            chunk_limit: u64::MAX,
            after_cr: false,
        }
    }

    /// The first byte that is not white space, without consuming anything but a UTF-8 BOM.
    pub fn peek_non_ws(&mut self) -> io::Result<Option<u8>> {
        let buf = self.inner.fill_buf()?;
        if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
            self.inner.consume(3);
        }
        let buf = self.inner.fill_buf()?;
        Ok(buf.iter().copied().find(|b| !b.is_ascii_whitespace()))
    }
}

impl<R> LineLimited<R> {
    /// Rewrite CR and CRLF as LF in place; the new length.
    fn normalize_line_ends(&mut self, buf: &mut [u8]) -> usize {
        let mut start = 0;
        if self.after_cr && buf.first() == Some(&b'\n') {
            start = 1;
        }
        self.after_cr = false;
        let Some(first_cr) = memchr::memchr(b'\r', &buf[start..]).map(|i| i + start) else {
            if start == 0 {
                return buf.len();
            }
            buf.copy_within(1.., 0);
            return buf.len() - 1;
        };
        // Bytes before the first CR move down by `start`; then copy byte by byte.
        buf.copy_within(start..first_cr, 0);
        let mut w = first_cr - start;
        let mut r = first_cr;
        while r < buf.len() {
            let b = buf[r];
            if b == b'\r' {
                buf[w] = b'\n';
                w += 1;
                if buf.get(r + 1) == Some(&b'\n') {
                    r += 1;
                } else if r + 1 == buf.len() {
                    self.after_cr = true;
                }
            } else {
                buf[w] = b;
                w += 1;
            }
            r += 1;
        }
        w
    }
}

impl<R: Read> Read for LineLimited<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut n = self.inner.read(out)?;
        if self.check_lines {
            // Line endings as LF; a buffer that was only the LF of a CRLF reads on.
            loop {
                n = self.normalize_line_ends(&mut out[..n]);
                if n > 0 || out.is_empty() {
                    break;
                }
                n = self.inner.read(out)?;
                if n == 0 {
                    break;
                }
            }
        }
        self.chunk.set(self.chunk.get() + n as u64);
        if self.chunk.get() > self.chunk_limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a single record is larger than {} bytes", self.chunk_limit),
            ));
        }
        if self.check_lines {
            let too_long = |line: u64| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("line {line} is longer than {MAX_LINE_BYTES} bytes: not a valid row"),
                )
            };
            let buf = &out[..n];
            let mut start = 0;
            for nl in memchr::memchr_iter(b'\n', buf) {
                if self.since_newline + (nl - start) as u64 > MAX_LINE_BYTES {
                    return Err(too_long(self.line));
                }
                self.since_newline = 0;
                self.line += 1;
                start = nl + 1;
            }
            self.since_newline += (n - start) as u64;
            if self.since_newline > MAX_LINE_BYTES {
                return Err(too_long(self.line));
            }
        }
        Ok(n)
    }
}
