//! Huawei public cloud 2023: requests per minute, one row per minute and one column per
//! function (`day,time,<function id>...`, `time` in seconds), one file per day. Empty cells mean
//! no requests; counts may be written as floats (`2.0`). The files are time-major, so a
//! schedule streams them row by row.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use std::io::Write;

use super::function_index::FunctionIndex;
use super::rows::{Header, Rows};
use super::{Events, TraceError, TraceEvent, TraceFormat, TraceIndex, TraceReader};
use crate::Trigger;

pub(crate) struct Huawei2023 {
    index: TraceIndex,
    files: Vec<PathBuf>,
    /// `time` of the first row: the timeline's origin, seconds.
    origin: u64,
}

/// The function columns of a file: column index and function.
fn function_columns(
    header: &Header,
    path: &Path,
    index: &mut FunctionIndex,
) -> Result<(usize, Vec<(usize, u32)>), TraceError> {
    let time = header.position("time").ok_or_else(|| TraceError::Layout {
        path: path.to_owned(),
        message: "no `time` column".into(),
    })?;
    let mut columns = Vec::new();
    for (column, name) in header.names.iter().enumerate() {
        if column == time || name == "day" {
            continue;
        }
        let function = index.intern(
            name,
            || Ok(([name.clone(), String::new()], None, Trigger::Unknown)),
            |message| TraceError::Layout {
                path: path.to_owned(),
                message,
            },
        )?;
        columns.push((column, function));
    }
    Ok((time, columns))
}

/// The minute of the timeline a row's `time` falls in.
fn minute_of(
    row: &super::rows::Row<'_>,
    header: &Header,
    time: usize,
    origin: u64,
) -> Result<u32, TraceError> {
    let seconds = row.count(time, header, true)?;
    let minutes = seconds.checked_sub(origin).ok_or_else(|| {
        row.error(
            time,
            header,
            format!("{seconds} s is before the trace's first row ({origin} s)"),
        )
    })? / 60;
    u32::try_from(minutes)
        .ok()
        .filter(|&minute| minute < super::MAX_TIMELINE_MINUTES)
        .ok_or_else(|| {
            row.error(
                time,
                header,
                format!(
                    "{seconds} s is more than the {} minutes (four years) a trace may span from its first row",
                    super::MAX_TIMELINE_MINUTES
                ),
            )
        })
}

impl Huawei2023 {
    pub(crate) fn open(paths: &[PathBuf]) -> Result<Self, TraceError> {
        let mut index = FunctionIndex::default();
        let mut per_minute: Vec<u64> = Vec::new();
        let mut origin = None;
        let mut previous: Option<u32> = None;
        for path in paths {
            let mut rows = Rows::open(path)?;
            let header = rows.header()?;
            let (time, columns) = function_columns(&header, path, &mut index)?;
            while let Some(row) = rows.next_row()? {
                let origin = *origin.get_or_insert(row.count(time, &header, true)?);
                let minute = minute_of(&row, &header, time, origin)?;
                if previous.is_some_and(|previous| minute <= previous) {
                    return Err(row.error(
                        time,
                        &header,
                        "rows must follow each other in time, a minute apart or more".into(),
                    ));
                }
                previous = Some(minute);
                if per_minute.len() <= minute as usize {
                    per_minute.resize(minute as usize + 1, 0);
                }
                for &(column, function) in &columns {
                    let count = row.count(column, &header, true)?;
                    if count > super::MAX_COUNT_PER_MINUTE {
                        return Err(row.error(
                            column,
                            &header,
                            format!(
                                "{count} requests in a minute; at most {} per function and minute are replayed",
                                super::MAX_COUNT_PER_MINUTE
                            ),
                        ));
                    }
                    index.count(function, count, |message| {
                        row.error(column, &header, message)
                    })?;
                    let cell = &mut per_minute[minute as usize];
                    *cell = cell.checked_add(count).ok_or_else(|| {
                        row.error(column, &header, "too many invocations in one minute".into())
                    })?;
                }
            }
        }
        let (functions, _) = index.finish();
        Ok(Self {
            index: TraceIndex {
                format: TraceFormat::Huawei2023,
                files: paths.to_vec(),
                functions,
                per_minute,
            },
            files: paths.to_vec(),
            origin: origin.unwrap_or(0),
        })
    }
}

/// An open day file: its rows, header, `time` column and function columns.
type OpenFile = (Rows, Header, usize, Vec<(usize, u32)>);

/// The stream of counts, row by row.
struct RowStream {
    files: Vec<PathBuf>,
    file: usize,
    rows: Option<OpenFile>,
    by_name: HashMap<String, u32>,
    origin: u64,
    start_minute: u32,
    pending: VecDeque<TraceEvent>,
}

impl RowStream {
    /// Reads rows until one yields events; false at the end of the trace.
    fn fill(&mut self) -> Result<bool, TraceError> {
        loop {
            if self.rows.is_none() {
                let Some(path) = self.files.get(self.file) else {
                    return Ok(false);
                };
                let mut rows = Rows::open(path)?;
                let header = rows.header()?;
                let changed = || TraceError::Layout {
                    path: path.clone(),
                    message: "the file changed since it was opened".into(),
                };
                let time = header.position("time").ok_or_else(changed)?;
                let mut columns = Vec::new();
                for (column, name) in header.names.iter().enumerate() {
                    if column == time || name == "day" {
                        continue;
                    }
                    let &function = self.by_name.get(name).ok_or_else(changed)?;
                    columns.push((column, function));
                }
                self.rows = Some((rows, header, time, columns));
            }
            let Some((rows, header, time, columns)) = &mut self.rows else {
                continue;
            };
            let Some(row) = rows.next_row()? else {
                self.rows = None;
                self.file += 1;
                continue;
            };
            let minute = minute_of(&row, header, *time, self.origin)?;
            if minute < self.start_minute {
                continue;
            }
            for &(column, function) in columns.iter() {
                let count = row.count(column, header, true)?;
                if count > 0 {
                    // Counts were bounded when the trace was opened; a larger one means the
                    // file changed since.
                    let count = u32::try_from(count)
                        .ok()
                        .filter(|&c| u64::from(c) <= super::MAX_COUNT_PER_MINUTE)
                        .ok_or_else(|| {
                            row.error(
                                column,
                                header,
                                "the file changed since it was opened".into(),
                            )
                        })?;
                    self.pending.push_back(TraceEvent::Count {
                        minute,
                        function,
                        count,
                    });
                }
            }
            if !self.pending.is_empty() {
                return Ok(true);
            }
        }
    }
}

impl Iterator for RowStream {
    type Item = Result<TraceEvent, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pending.is_empty() {
            match self.fill() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(err) => {
                    self.file = self.files.len();
                    self.rows = None;
                    return Some(Err(err));
                }
            }
        }
        self.pending.pop_front().map(Ok)
    }
}

impl TraceReader for Huawei2023 {
    fn index(&self) -> &TraceIndex {
        &self.index
    }

    fn events(&self, start_minute: u32) -> Result<Events, TraceError> {
        let by_name = self
            .index
            .functions
            .iter()
            .enumerate()
            .map(|(index, function)| (function.id.clone(), index as u32))
            .collect();
        Ok(Box::new(RowStream {
            files: self.files.clone(),
            file: 0,
            rows: None,
            by_name,
            origin: self.origin,
            start_minute,
            pending: VecDeque::new(),
        }))
    }

    fn write_subset(&self, functions: &[usize], dir: &Path) -> Result<Vec<PathBuf>, TraceError> {
        let chosen = self.index.ids(functions);
        let mut written = Vec::new();
        for path in &self.files {
            // Keep `day`, `time` and the chosen functions' columns.
            let target = dir.join(path.file_name().ok_or_else(|| TraceError::Layout {
                path: path.clone(),
                message: "not a file name".into(),
            })?);
            let mut rows = Rows::open(path)?;
            let header = rows.header()?;
            let keep: Vec<usize> = header
                .names
                .iter()
                .enumerate()
                .filter(|(_, name)| {
                    *name == "day" || *name == "time" || chosen.contains(name.as_str())
                })
                .map(|(index, _)| index)
                .collect();
            let io = |source| TraceError::Io {
                path: target.clone(),
                source,
            };
            let mut out = crate::output_file::OutputFile::create(&target, &self.files)?;
            let names: Vec<&str> = keep.iter().map(|&i| header.names[i].as_str()).collect();
            writeln!(out, "{}", names.join(",")).map_err(io)?;
            while let Some(row) = rows.next_row()? {
                let fields = keep
                    .iter()
                    .map(|&i| row.field(i, &header))
                    .collect::<Result<Vec<_>, _>>()?;
                writeln!(out, "{}", fields.join(",")).map_err(io)?;
            }
            out.commit()?;
            written.push(target);
        }
        Ok(written)
    }
}
