//! Azure Functions 2019: invocations per function per minute, one row per function and one
//! file per day, with optional execution-time and memory percentiles.
//!
//! The invocation files are function-major (a row holds a function's 1440 minutes) but a
//! schedule is replayed minute by minute. Rather than holding the day's matrix, every row gets
//! a small cursor into the file, refilled with positioned reads: a minute is read by advancing
//! each cursor one field. Memory is a few hundred bytes per function whatever the length of
//! the trace, and the file's pages stay in the page cache, not in the process.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::function_index::FunctionIndex;
use super::rows::{Header, Rows};
use super::{
    Events, Percentiles, TraceError, TraceEvent, TraceFiles, TraceFormat, TraceFunction,
    TraceIndex, TraceReader,
};
use crate::Trigger;

/// Bytes read at a time for one row's cursor.
const CURSOR_BYTES: usize = 256;

/// Duration percentile columns and the percentiles they hold.
const DURATION_COLUMNS: [(&str, f64); 7] = [
    ("percentile_Average_0", 0.0),
    ("percentile_Average_1", 1.0),
    ("percentile_Average_25", 25.0),
    ("percentile_Average_50", 50.0),
    ("percentile_Average_75", 75.0),
    ("percentile_Average_99", 99.0),
    ("percentile_Average_100", 100.0),
];

/// Memory percentile columns and the percentiles they hold.
const MEMORY_COLUMNS: [(&str, f64); 8] = [
    ("AverageAllocatedMb_pct1", 1.0),
    ("AverageAllocatedMb_pct5", 5.0),
    ("AverageAllocatedMb_pct25", 25.0),
    ("AverageAllocatedMb_pct50", 50.0),
    ("AverageAllocatedMb_pct75", 75.0),
    ("AverageAllocatedMb_pct95", 95.0),
    ("AverageAllocatedMb_pct99", 99.0),
    ("AverageAllocatedMb_pct100", 100.0),
];

/// One day file of invocations.
#[derive(Debug)]
struct Day {
    path: PathBuf,
    /// Timeline minute of its first column.
    first_minute: u32,
    minutes: u32,
    /// For each row: the function, and the file offset of its first minute field.
    rows: Vec<(u32, u64)>,
}

pub(crate) struct Azure2019 {
    index: TraceIndex,
    days: Arc<Vec<Day>>,
    files: TraceFiles,
}

/// The identity columns of a file: owner and app optional, function required where given.
struct Identity {
    owner: Option<usize>,
    app: Option<usize>,
    function: Option<usize>,
}

impl Identity {
    fn of(header: &Header) -> Self {
        Self {
            owner: header.position("HashOwner"),
            app: header.position("HashApp"),
            function: header.position("HashFunction"),
        }
    }

    fn app_key(&self, row: &super::rows::Row<'_>, header: &Header) -> Result<String, TraceError> {
        let mut key = String::new();
        for column in [self.owner, self.app].into_iter().flatten() {
            key.push_str(row.field(column, header)?);
            key.push('/');
        }
        Ok(key)
    }

    fn function_key(
        &self,
        row: &super::rows::Row<'_>,
        header: &Header,
    ) -> Result<String, TraceError> {
        let mut key = self.app_key(row, header)?;
        if let Some(column) = self.function {
            key.push_str(row.field(column, header)?);
        }
        Ok(key)
    }
}

/// The minute columns: where they start and how many there are (`1..=n` or `minute_1..`).
fn minute_columns(header: &Header, path: &Path) -> Result<(usize, u32), TraceError> {
    let numbered: Vec<(usize, u32)> = header
        .names
        .iter()
        .enumerate()
        .filter_map(|(index, name)| {
            let number = name
                .strip_prefix("minute_")
                .unwrap_or(name)
                .parse::<u32>()
                .ok()?;
            Some((index, number))
        })
        .collect();
    let Some(&(first, _)) = numbered.first() else {
        return Err(TraceError::Layout {
            path: path.to_owned(),
            message: "no minute columns (`1`, `2`, ... or `minute_1`, `minute_2`, ...)".into(),
        });
    };
    for (offset, &(index, number)) in numbered.iter().enumerate() {
        if index != first + offset || number != offset as u32 + 1 {
            return Err(TraceError::Layout {
                path: path.to_owned(),
                message: format!(
                    "minute columns must be consecutive from 1; column {} is `{}`",
                    index + 1,
                    header.names[index]
                ),
            });
        }
    }
    Ok((first, numbered.len() as u32))
}

impl Azure2019 {
    pub(crate) fn open(files: &TraceFiles) -> Result<Self, TraceError> {
        let mut index = FunctionIndex::default();
        let mut per_minute: Vec<u64> = Vec::new();
        let mut days = Vec::new();

        for path in &files.invocations {
            let mut rows = Rows::open(path)?;
            let header = rows.header()?;
            let identity = Identity::of(&header);
            let Some(function_column) = identity.function else {
                return Err(TraceError::Layout {
                    path: path.clone(),
                    message: "no `HashFunction` column".into(),
                });
            };
            let trigger_column = header.position("Trigger");
            let (first_column, minutes) = minute_columns(&header, path)?;
            let first_minute = per_minute.len() as u32;
            if first_minute.saturating_add(minutes) > super::MAX_TIMELINE_MINUTES {
                return Err(TraceError::Layout {
                    path: path.clone(),
                    message: format!(
                        "this day would take the timeline past the {} minutes (four years) a trace may span",
                        super::MAX_TIMELINE_MINUTES
                    ),
                });
            }
            per_minute.resize(per_minute.len() + minutes as usize, 0);
            let mut day = Day {
                path: path.clone(),
                first_minute,
                minutes,
                rows: Vec::new(),
            };
            let mut seen_today = vec![false; index.len()];
            while let Some(row) = rows.next_row()? {
                if row.len() != header.names.len() {
                    return Err(row.error(
                        row.len().min(header.names.len()),
                        &header,
                        format!(
                            "the line has {} fields; the header has {}",
                            row.len(),
                            header.names.len()
                        ),
                    ));
                }
                let key = identity.function_key(&row, &header)?;
                let function = index.intern(
                    &key,
                    || {
                        let trigger = match trigger_column {
                            Some(column) => row
                                .field(column, &header)?
                                .parse::<Trigger>()
                                .map_err(|message| row.error(column, &header, message))?,
                            None => Trigger::Unknown,
                        };
                        let app = identity
                            .app
                            .map(|column| row.field(column, &header).map(str::to_owned))
                            .transpose()?;
                        let parts = [
                            row.field(function_column, &header)?.to_owned(),
                            app.clone().unwrap_or_default(),
                        ];
                        Ok((parts, app, trigger))
                    },
                    |message| row.error(function_column, &header, message),
                )?;
                if seen_today.len() < index.len() {
                    seen_today.push(false);
                }
                if std::mem::replace(&mut seen_today[function as usize], true) {
                    return Err(row.error(
                        function_column,
                        &header,
                        "this function already has a row in this file".into(),
                    ));
                }
                let mut total = 0u64;
                for minute in 0..minutes {
                    let count = row.count(first_column + minute as usize, &header, false)?;
                    if count > super::MAX_COUNT_PER_MINUTE {
                        return Err(row.error(
                            first_column + minute as usize,
                            &header,
                            format!(
                                "{count} invocations in a minute; at most {} per function and minute are replayed",
                                super::MAX_COUNT_PER_MINUTE
                            ),
                        ));
                    }
                    per_minute[(first_minute + minute) as usize] += count;
                    // Bounded counts, and a line holds at most 16 MiB of them: no overflow.
                    total += count;
                }
                index.count(function, total, |message| {
                    row.error(first_column, &header, message)
                })?;
                let offset = row.field_offset(first_column).unwrap_or(row.offset);
                day.rows.push((function, offset));
            }
            days.push(day);
        }

        let (mut functions, by_key) = index.finish();
        for path in &files.durations {
            read_durations(path, &by_key, &mut functions)?;
        }
        for path in &files.memory {
            read_memory(path, &by_key, &mut functions)?;
        }
        let mut all_files = files.invocations.clone();
        all_files.extend(files.durations.iter().cloned());
        all_files.extend(files.memory.iter().cloned());
        Ok(Self {
            index: TraceIndex {
                format: TraceFormat::Azure2019,
                files: all_files,
                functions,
                per_minute,
            },
            days: Arc::new(days),
            files: files.clone(),
        })
    }
}

/// Percentiles from the given columns of a row.
fn percentiles(
    row: &super::rows::Row<'_>,
    header: &Header,
    columns: &[(&str, f64)],
    path: &Path,
    scale: f64,
) -> Result<Percentiles, TraceError> {
    let mut points = Vec::new();
    for &(name, percentile) in columns {
        if let Some(column) = header.position(name) {
            points.push((percentile, row.number(column, header)? * scale));
        }
    }
    Percentiles::from_percentiles(&points).map_err(|message| TraceError::Malformed {
        path: path.to_owned(),
        line: row.number,
        column: 1,
        message,
    })
}

fn read_durations(
    path: &Path,
    by_key: &HashMap<String, u32>,
    functions: &mut [TraceFunction],
) -> Result<(), TraceError> {
    let mut rows = Rows::open(path)?;
    let header = rows.header()?;
    let identity = Identity::of(&header);
    if identity.function.is_none() || header.position("percentile_Average_50").is_none() {
        return Err(TraceError::Layout {
            path: path.to_owned(),
            message: "expected the durations layout (HashOwner,HashApp,HashFunction,Average,...,percentile_Average_0..100)".into(),
        });
    }
    let average = header.position("Average");
    while let Some(row) = rows.next_row()? {
        let Some(&function) = by_key.get(&identity.function_key(&row, &header)?) else {
            continue;
        };
        let function = &mut functions[function as usize];
        if function.duration_ms.is_some() {
            continue;
        }
        function.duration_ms = Some(percentiles(&row, &header, &DURATION_COLUMNS, path, 1.0)?);
        function.mean_duration_ms = average
            .map(|column| row.number(column, &header))
            .transpose()?;
    }
    Ok(())
}

/// Memory per function, or per app split evenly over the app's functions in the trace.
fn read_memory(
    path: &Path,
    by_key: &HashMap<String, u32>,
    functions: &mut [TraceFunction],
) -> Result<(), TraceError> {
    let mut rows = Rows::open(path)?;
    let header = rows.header()?;
    let identity = Identity::of(&header);
    if header.position("AverageAllocatedMb_pct50").is_none() {
        return Err(TraceError::Layout {
            path: path.to_owned(),
            message: "expected the memory layout (HashOwner,HashApp[,HashFunction],SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1..100)".into(),
        });
    }
    let mut by_app: HashMap<String, Vec<u32>> = HashMap::new();
    if identity.function.is_none() {
        for (key, &function) in by_key {
            let app = key.rsplit_once('/').map_or("", |(app, _)| app);
            by_app.entry(format!("{app}/")).or_default().push(function);
        }
    }
    while let Some(row) = rows.next_row()? {
        let targets: Vec<u32> = if identity.function.is_some() {
            by_key
                .get(&identity.function_key(&row, &header)?)
                .copied()
                .into_iter()
                .collect()
        } else {
            by_app
                .get(&identity.app_key(&row, &header)?)
                .cloned()
                .unwrap_or_default()
        };
        if targets.is_empty() {
            continue;
        }
        let share = 1.0 / targets.len() as f64;
        let memory = percentiles(&row, &header, &MEMORY_COLUMNS, path, share)?;
        for function in targets {
            let function = &mut functions[function as usize];
            if function.memory_mb.is_none() {
                function.memory_mb = Some(memory.clone());
            }
        }
    }
    Ok(())
}

/// A row's position in its day file, read a little at a time.
struct Cursor {
    /// File offset of `buffer[start]`.
    position: u64,
    start: usize,
    end: usize,
}

/// The day-by-day, minute-by-minute stream of counts.
struct CountStream {
    days: Arc<Vec<Day>>,
    day: usize,
    file: Option<File>,
    cursors: Vec<Cursor>,
    buffers: Vec<u8>,
    minute: u32,
    row: usize,
    /// Minutes of the first day to skip.
    skip: u32,
}

/// Why a cursor could not read its next field.
enum CursorError {
    /// The bytes are not what the opening pass checked: the file changed.
    Changed,
    Io(std::io::Error),
}

/// Reads the next field of a row as a count, refilling the row's buffer from `file` when the
/// field runs past it.
fn next_count(file: &File, buffer: &mut [u8], cursor: &mut Cursor) -> Result<u32, CursorError> {
    let mut refilled = false;
    loop {
        let mut value: u64 = 0;
        let mut digits = 0;
        for (index, &byte) in buffer
            .iter()
            .enumerate()
            .take(cursor.end)
            .skip(cursor.start)
        {
            match byte {
                byte @ b'0'..=b'9' => {
                    value = value * 10 + u64::from(byte - b'0');
                    digits += 1;
                }
                b',' | b'\n' | b'\r' if digits > 0 => {
                    cursor.position += (index + 1 - cursor.start) as u64;
                    cursor.start = index + 1;
                    return u32::try_from(value).map_err(|_| CursorError::Changed);
                }
                _ => return Err(CursorError::Changed),
            }
        }
        if refilled && cursor.end < buffer.len() {
            // The read stopped at the end of the file, right after the last field.
            if digits == 0 {
                return Err(CursorError::Changed);
            }
            cursor.position += (cursor.end - cursor.start) as u64;
            cursor.start = cursor.end;
            return u32::try_from(value).map_err(|_| CursorError::Changed);
        }
        // The field runs past what was read: read again from its start.
        let read = file
            .read_at(buffer, cursor.position)
            .map_err(CursorError::Io)?;
        if read == 0 {
            return Err(CursorError::Changed);
        }
        cursor.start = 0;
        cursor.end = read;
        refilled = true;
    }
}

impl CountStream {
    /// Opens the current day and places the cursors at its first minute field.
    fn open_day(&mut self) -> Result<(), TraceError> {
        let day = &self.days[self.day];
        let file = File::open(&day.path).map_err(|source| TraceError::Io {
            path: day.path.clone(),
            source,
        })?;
        self.cursors = day
            .rows
            .iter()
            .map(|&(_, offset)| Cursor {
                position: offset,
                start: 0,
                end: 0,
            })
            .collect();
        self.buffers.resize(day.rows.len() * CURSOR_BYTES, 0);
        self.file = Some(file);
        self.minute = 0;
        self.row = 0;
        Ok(())
    }

    /// The next field of row `row` of the current day as a count.
    fn next_count(&mut self, row: usize) -> Result<u32, TraceError> {
        let path = || self.days[self.day].path.clone();
        let (Some(file), Some(cursor)) = (&self.file, self.cursors.get_mut(row)) else {
            return Err(TraceError::Layout {
                path: path(),
                message: "read past the day's rows".into(),
            });
        };
        let buffer = &mut self.buffers[row * CURSOR_BYTES..(row + 1) * CURSOR_BYTES];
        next_count(file, buffer, cursor).map_err(|err| match err {
            CursorError::Changed => TraceError::Layout {
                path: path(),
                message: "the file changed since it was opened".into(),
            },
            CursorError::Io(source) => TraceError::Io {
                path: path(),
                source,
            },
        })
    }
}

impl Iterator for CountStream {
    type Item = Result<TraceEvent, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.day >= self.days.len() {
                return None;
            }
            if self.file.is_none() {
                if let Err(err) = self.open_day() {
                    self.day = self.days.len();
                    return Some(Err(err));
                }
                // Skip the minutes before the start, reading them as the others.
                let skip = std::mem::take(&mut self.skip).min(self.days[self.day].minutes);
                for _ in 0..skip {
                    for row in 0..self.cursors.len() {
                        if let Err(err) = self.next_count(row) {
                            self.day = self.days.len();
                            return Some(Err(err));
                        }
                    }
                }
                self.minute = skip;
            }
            let day = &self.days[self.day];
            if self.minute >= day.minutes {
                self.day += 1;
                self.file = None;
                continue;
            }
            if self.row >= day.rows.len() {
                self.row = 0;
                self.minute += 1;
                continue;
            }
            let row = self.row;
            self.row += 1;
            let (function, _) = day.rows[row];
            let minute = day.first_minute + self.minute;
            match self.next_count(row) {
                Ok(0) => continue,
                Ok(count) => {
                    return Some(Ok(TraceEvent::Count {
                        minute,
                        function,
                        count,
                    }));
                }
                Err(err) => {
                    self.day = self.days.len();
                    return Some(Err(err));
                }
            }
        }
    }
}

impl TraceReader for Azure2019 {
    fn index(&self) -> &TraceIndex {
        &self.index
    }

    fn events(&self, start_minute: u32) -> Result<Events, TraceError> {
        let day = self
            .days
            .iter()
            .position(|day| start_minute < day.first_minute + day.minutes)
            .unwrap_or(self.days.len());
        let skip = self
            .days
            .get(day)
            .map_or(0, |day| start_minute.saturating_sub(day.first_minute));
        Ok(Box::new(CountStream {
            days: self.days.clone(),
            day,
            file: None,
            cursors: Vec::new(),
            buffers: Vec::new(),
            minute: 0,
            row: 0,
            skip,
        }))
    }

    fn write_subset(&self, functions: &[usize], dir: &Path) -> Result<Vec<PathBuf>, TraceError> {
        let chosen = self.index.ids(functions);
        let chosen_apps: std::collections::HashSet<String> = chosen
            .iter()
            .map(|key| format!("{}/", key.rsplit_once('/').map_or("", |(app, _)| app)))
            .collect();
        let mut written = Vec::new();
        let groups = [
            &self.files.invocations,
            &self.files.durations,
            &self.files.memory,
        ];
        for path in groups.into_iter().flatten() {
            written.push(super::rows::copy_rows(path, dir, |row, header| {
                let identity = Identity::of(header);
                if identity.function.is_some() {
                    Ok(chosen.contains(identity.function_key(row, header)?.as_str()))
                } else {
                    Ok(chosen_apps.contains(&identity.app_key(row, header)?))
                }
            })?);
        }
        Ok(written)
    }
}
