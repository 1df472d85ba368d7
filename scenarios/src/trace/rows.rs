//! Reading trace files line by line, with the position of every field for error messages.
//!
//! Trace files are plain CSV without quoted commas, so a line is split on `,`; surrounding
//! quotes and a trailing `\r` are removed. Only one line is held at a time.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::TraceError;
use crate::output_file::OutputFile;

/// The column names of a trace file.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub(crate) names: Vec<String>,
}

impl Header {
    /// Index of the column called `name`.
    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|column| column == name)
    }
}

/// A trace file being read, one line at a time.
pub(crate) struct Rows {
    path: PathBuf,
    reader: BufReader<File>,
    /// The current line's bytes as read, checked to be UTF-8 before they become `line`.
    bytes: Vec<u8>,
    line: String,
    fields: Vec<Range<usize>>,
    number: u64,
    offset: u64,
    next_offset: u64,
}

/// One line of a trace file.
pub(crate) struct Row<'a> {
    text: &'a str,
    fields: &'a [Range<usize>],
    /// Line number, from 1 (the header).
    pub(crate) number: u64,
    /// Byte offset of the line's first character in the file.
    pub(crate) offset: u64,
    path: &'a Path,
}

impl<'a> Row<'a> {
    /// The whole line, without its line ending.
    pub(crate) fn text(&self) -> &'a str {
        self.text.trim_end_matches(['\n', '\r'])
    }

    pub(crate) fn len(&self) -> usize {
        self.fields.len()
    }

    /// Field `index` (from 0), or an error naming the line and the missing column.
    pub(crate) fn field(&self, index: usize, header: &Header) -> Result<&'a str, TraceError> {
        self.fields
            .get(index)
            .map(|range| &self.text[range.clone()])
            .ok_or_else(|| {
                self.error(
                    index,
                    header,
                    format!(
                        "the line has {} fields; the header has {}",
                        self.fields.len(),
                        header.names.len()
                    ),
                )
            })
    }

    /// Byte offset in the file of field `index`'s first character.
    pub(crate) fn field_offset(&self, index: usize) -> Option<u64> {
        self.fields
            .get(index)
            .map(|range| self.offset + range.start as u64)
    }

    /// An error at field `index` (from 0) of this line.
    pub(crate) fn error(&self, index: usize, header: &Header, message: String) -> TraceError {
        let column = header
            .names
            .get(index)
            .map_or_else(String::new, |name| format!("`{name}`: "));
        TraceError::Malformed {
            path: self.path.to_owned(),
            line: self.number,
            column: index + 1,
            message: format!("{column}{message}"),
        }
    }

    /// Field `index` as a whole number ≥ 0. `empty_is_zero` accepts empty cells (and a whole
    /// number written as a float, `2.0`, as some traces do).
    pub(crate) fn count(
        &self,
        index: usize,
        header: &Header,
        lenient: bool,
    ) -> Result<u64, TraceError> {
        let text = self.field(index, header)?;
        parse_count(text, lenient).ok_or_else(|| {
            self.error(
                index,
                header,
                format!("expected a whole number ≥ 0, found `{text}`"),
            )
        })
    }

    /// Field `index` as a finite number.
    pub(crate) fn number(&self, index: usize, header: &Header) -> Result<f64, TraceError> {
        let text = self.field(index, header)?;
        text.parse::<f64>()
            .ok()
            .filter(|value| value.is_finite())
            .ok_or_else(|| self.error(index, header, format!("expected a number, found `{text}`")))
    }
}

/// A whole number; with `lenient`, an empty cell, `NaN` (as pandas writes an empty cell) or a
/// float with no fraction also count.
pub(crate) fn parse_count(text: &str, lenient: bool) -> Option<u64> {
    if let Ok(value) = text.parse::<u64>() {
        return Some(value);
    }
    if !lenient {
        return None;
    }
    if text.is_empty() || text.eq_ignore_ascii_case("nan") {
        return Some(0);
    }
    let value: f64 = text.parse().ok()?;
    (value >= 0.0 && value.fract() == 0.0 && value < 2f64.powi(53)).then_some(value as u64)
}

/// Longest line read: an Azure 2019 line of 1,440 minutes is about 10 KB, so anything near
/// this is not a trace, and reading it whole would hold it all in memory.
const MAX_LINE_BYTES: u64 = 16 << 20;

const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

impl Rows {
    pub(crate) fn open(path: &Path) -> Result<Self, TraceError> {
        let file = File::open(path).map_err(|source| TraceError::Io {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self {
            path: path.to_owned(),
            reader: BufReader::with_capacity(1 << 16, file),
            bytes: Vec::new(),
            line: String::new(),
            fields: Vec::new(),
            number: 0,
            offset: 0,
            next_offset: 0,
        })
    }

    /// Reads the header line.
    pub(crate) fn header(&mut self) -> Result<Header, TraceError> {
        let Some(row) = self.next_row()? else {
            return Err(TraceError::Layout {
                path: self.path.clone(),
                message: "the file is empty".into(),
            });
        };
        let names = (0..row.len())
            .map(|index| row.fields[index].clone())
            .map(|range| row.text[range].trim().to_owned())
            .collect();
        Ok(Header { names })
    }

    /// The next non-empty line, or `None` at the end of the file.
    pub(crate) fn next_row(&mut self) -> Result<Option<Row<'_>>, TraceError> {
        loop {
            self.offset = self.next_offset;
            self.bytes.clear();
            let read = (&mut self.reader)
                .take(MAX_LINE_BYTES + 1)
                .read_until(b'\n', &mut self.bytes)
                .map_err(|source| TraceError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            if read == 0 {
                return Ok(None);
            }
            self.number += 1;
            if self.bytes.len() as u64 > MAX_LINE_BYTES {
                return Err(TraceError::Malformed {
                    path: self.path.clone(),
                    line: self.number,
                    column: 1,
                    message: format!(
                        "the line is longer than {} MiB; trace lines are far shorter",
                        MAX_LINE_BYTES >> 20
                    ),
                });
            }
            self.next_offset += read as u64;
            // A UTF-8 byte-order mark, as Excel writes before the header, is not part of it.
            let start = if self.number == 1 && self.bytes.starts_with(BYTE_ORDER_MARK) {
                self.offset += BYTE_ORDER_MARK.len() as u64;
                BYTE_ORDER_MARK.len()
            } else {
                0
            };
            let text = std::str::from_utf8(&self.bytes[start..]).map_err(|err| {
                let valid = &self.bytes[start..start + err.valid_up_to()];
                let field = valid.iter().filter(|&&b| b == b',').count() + 1;
                TraceError::Malformed {
                    path: self.path.clone(),
                    line: self.number,
                    column: field,
                    message: format!(
                        "not valid UTF-8 (byte {} of the line, field {field})",
                        err.valid_up_to() + 1
                    ),
                }
            })?;
            self.line.clear();
            self.line.push_str(text);
            let trimmed = self.line.trim_end_matches(['\n', '\r']).len();
            if trimmed == 0 {
                continue;
            }
            self.fields.clear();
            let mut start = 0;
            let text = &self.line[..trimmed];
            for (index, byte) in text.bytes().enumerate() {
                if byte == b',' {
                    self.fields.push(unquote(text, start..index));
                    start = index + 1;
                }
            }
            self.fields.push(unquote(text, start..trimmed));
            return Ok(Some(Row {
                text: &self.line,
                fields: &self.fields,
                number: self.number,
                offset: self.offset,
                path: &self.path,
            }));
        }
    }
}

/// Copies the header and the rows `keep` accepts from `path` into a file of the same name in
/// `dir`.
pub(crate) fn copy_rows(
    path: &Path,
    dir: &Path,
    mut keep: impl FnMut(&Row<'_>, &Header) -> Result<bool, TraceError>,
) -> Result<PathBuf, TraceError> {
    let name = path.file_name().ok_or_else(|| TraceError::Layout {
        path: path.to_owned(),
        message: "not a file name".into(),
    })?;
    let target = dir.join(name);
    let io = |source| TraceError::Io {
        path: target.clone(),
        source,
    };
    let mut out = OutputFile::create(&target, &[path.to_owned()])?;
    let mut rows = Rows::open(path)?;
    let header = rows.header()?;
    writeln!(out, "{}", header.names.join(",")).map_err(io)?;
    while let Some(row) = rows.next_row()? {
        if keep(&row, &header)? {
            writeln!(out, "{}", row.text()).map_err(io)?;
        }
    }
    out.commit()?;
    Ok(target)
}

fn unquote(text: &str, range: Range<usize>) -> Range<usize> {
    let field = &text[range.clone()];
    if field.len() >= 2 && field.starts_with('"') && field.ends_with('"') {
        range.start + 1..range.end - 1
    } else {
        range
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_into_fields_with_positions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "a,b,c\r\n1,\"x\",3\n\n4,5\n").unwrap();
        let mut rows = Rows::open(&path).unwrap();
        let header = rows.header().unwrap();
        assert_eq!(header.names, ["a", "b", "c"]);
        let row = rows.next_row().unwrap().unwrap();
        assert_eq!((row.number, row.offset), (2, 7));
        assert_eq!(row.field(1, &header).unwrap(), "x");
        assert_eq!(row.field_offset(2), Some(13));
        let short = rows.next_row().unwrap().unwrap();
        assert_eq!(short.number, 4, "blank lines are skipped but counted");
        let err = short.field(2, &header).unwrap_err().to_string();
        assert!(
            err.ends_with("t.csv:4:3: `c`: the line has 2 fields; the header has 3"),
            "{err}"
        );
        assert!(rows.next_row().unwrap().is_none());
    }

    #[test]
    fn counts_are_strict_unless_lenient() {
        assert_eq!(parse_count("12", false), Some(12));
        assert_eq!(parse_count("", false), None);
        assert_eq!(parse_count("2.0", false), None);
        assert_eq!(parse_count("2.0", true), Some(2));
        assert_eq!(parse_count("", true), Some(0));
        assert_eq!(parse_count("NaN", true), Some(0));
        assert_eq!(parse_count("2.5", true), None);
        assert_eq!(parse_count("-1", true), None);
    }
}
