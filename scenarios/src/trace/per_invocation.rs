//! The reader of traces with one row per invocation, whatever their layout
//! ([`InvocationLayout`]: Azure Functions 2021, the generic layout).
//!
//! Rows need not be in start order (Azure 2021 rows are written when an invocation ends). The
//! opening pass measures how far they stray — the largest lateness of a row's start behind the
//! latest start before it — and the event stream holds exactly that window in a heap, so memory
//! follows the disorder of the file, not its length.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::{Path, PathBuf};

use super::function_index::FunctionIndex;
use super::rows::{Header, Row, Rows, copy_rows};
use super::{Events, Percentiles, TraceError, TraceEvent, TraceFormat, TraceIndex, TraceReader};
use crate::Trigger;

/// One row of a per-invocation trace, read.
pub(crate) struct Parsed<'a> {
    /// Identity parts, most specific first.
    pub(crate) identity: [&'a str; 2],
    pub(crate) start_us: i64,
    pub(crate) duration_us: Option<u64>,
    pub(crate) memory_mb: Option<f64>,
    pub(crate) trigger: Option<Trigger>,
}

/// A per-invocation layout: where its columns are, and how a row reads.
pub(crate) trait InvocationLayout: Copy + Send + Sync + 'static {
    const FORMAT: TraceFormat;

    /// The layout's columns in a file with `header`.
    fn of(header: &Header, path: &Path) -> Result<Self, TraceError>;

    /// One row.
    fn parse<'a>(&self, row: &Row<'a>, header: &Header) -> Result<Parsed<'a>, TraceError>;
}

/// The column called `name`, or an error naming it.
pub(crate) fn require(header: &Header, path: &Path, name: &str) -> Result<usize, TraceError> {
    header.position(name).ok_or_else(|| TraceError::Layout {
        path: path.to_owned(),
        message: format!("no `{name}` column"),
    })
}

/// Field `index` as a number ≥ 0.
pub(crate) fn non_negative(
    row: &Row<'_>,
    header: &Header,
    index: usize,
) -> Result<f64, TraceError> {
    let value = row.number(index, header)?;
    if value < 0.0 {
        return Err(row.error(
            index,
            header,
            format!("expected a number ≥ 0, found {value}"),
        ));
    }
    Ok(value)
}

/// Counts of values in buckets a quarter-octave wide, for percentiles without keeping values.
#[derive(Debug, Clone)]
struct LogHistogram {
    buckets: Vec<u64>,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl LogHistogram {
    const PER_OCTAVE: f64 = 4.0;

    fn new() -> Self {
        Self {
            buckets: Vec::new(),
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: 0.0,
        }
    }

    fn record(&mut self, value: f64) {
        let bucket = ((value + 1.0).log2() * Self::PER_OCTAVE) as usize;
        if self.buckets.len() <= bucket {
            self.buckets.resize(bucket + 1, 0);
        }
        self.buckets[bucket] += 1;
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    /// The value at `q`: the middle of its bucket, within the extremes seen.
    fn quantile(&self, q: f64) -> f64 {
        let rank = (q * self.count as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (bucket, &count) in self.buckets.iter().enumerate() {
            seen += count;
            if seen >= rank {
                let middle = 2f64.powf((bucket as f64 + 0.5) / Self::PER_OCTAVE) - 1.0;
                return middle.clamp(self.min, self.max);
            }
        }
        self.max
    }

    fn percentiles(&self, unit: f64) -> Option<Percentiles> {
        if self.count == 0 {
            return None;
        }
        let points: Vec<(f64, f64)> = [0.0, 1.0, 25.0, 50.0, 75.0, 99.0, 100.0]
            .into_iter()
            .map(|p| {
                let value = match p {
                    0.0 => self.min,
                    100.0 => self.max,
                    _ => self.quantile(p / 100.0),
                };
                (p, value * unit)
            })
            .collect();
        // Quantiles of rounded buckets can dip below the exact minimum's neighbour: keep order.
        let mut rising = points.clone();
        for i in 1..rising.len() {
            rising[i].1 = rising[i].1.max(rising[i - 1].1);
        }
        Percentiles::from_percentiles(&rising).ok()
    }

    fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }
}

pub(crate) struct PerInvocation<L> {
    index: TraceIndex,
    layout: std::marker::PhantomData<L>,
    files: Vec<PathBuf>,
    by_key: HashMap<String, u32>,
    /// Start of minute 0 of the timeline, µs on the trace's clock.
    origin_us: i64,
    /// How far behind the latest start seen a row's start may be, µs.
    disorder_us: i64,
}

fn key_of(identity: &[&str; 2]) -> String {
    let mut key = String::new();
    write_key(identity, &mut key);
    key
}

/// Writes the identity's key into `key`, reusing its allocation.
fn write_key(identity: &[&str; 2], key: &mut String) {
    key.clear();
    key.push_str(identity[1]);
    key.push('/');
    key.push_str(identity[0]);
}

impl<L: InvocationLayout> PerInvocation<L> {
    pub(crate) fn open(paths: &[PathBuf]) -> Result<Self, TraceError> {
        let mut index = FunctionIndex::default();
        let mut durations: Vec<LogHistogram> = Vec::new();
        let mut memories: Vec<LogHistogram> = Vec::new();
        let mut per_minute: HashMap<i64, u64> = HashMap::new();
        let mut latest = i64::MIN;
        let (mut first_seen, mut last_seen) = (i64::MAX, i64::MIN);
        let mut disorder_us = 0i64;
        let mut key = String::new();
        for path in paths {
            let mut rows = Rows::open(path)?;
            let header = rows.header()?;
            let columns = L::of(&header, path)?;
            while let Some(row) = rows.next_row()? {
                let parsed = columns.parse(&row, &header)?;
                write_key(&parsed.identity, &mut key);
                let function = index.intern(
                    &key,
                    || {
                        let app =
                            (!parsed.identity[1].is_empty()).then(|| parsed.identity[1].to_owned());
                        let parts = parsed.identity.map(str::to_owned);
                        Ok((parts, app, parsed.trigger.unwrap_or(Trigger::Unknown)))
                    },
                    |message| TraceError::Malformed {
                        path: path.clone(),
                        line: row.number,
                        column: 1,
                        message,
                    },
                )?;
                if durations.len() < index.len() {
                    durations.push(LogHistogram::new());
                    memories.push(LogHistogram::new());
                }
                index.count(function, 1, |message| TraceError::Malformed {
                    path: path.clone(),
                    line: row.number,
                    column: 1,
                    message,
                })?;
                let function = function as usize;
                if let Some(us) = parsed.duration_us {
                    durations[function].record(us as f64);
                }
                if let Some(mb) = parsed.memory_mb {
                    memories[function].record(mb);
                }
                let minute = parsed.start_us.div_euclid(60_000_000);
                first_seen = first_seen.min(minute);
                last_seen = last_seen.max(minute);
                if last_seen - first_seen >= i64::from(super::MAX_TIMELINE_MINUTES) {
                    return Err(TraceError::Malformed {
                        path: path.clone(),
                        line: row.number,
                        column: 1,
                        message: format!(
                            "this invocation starts in minute {minute}, which makes the trace span more than {} minutes (four years) from minute {}",
                            super::MAX_TIMELINE_MINUTES,
                            if minute == last_seen {
                                first_seen
                            } else {
                                last_seen
                            }
                        ),
                    });
                }
                *per_minute.entry(minute).or_default() += 1;
                disorder_us = disorder_us.max(latest.saturating_sub(parsed.start_us));
                latest = latest.max(parsed.start_us);
            }
        }
        let first_minute = per_minute.keys().min().copied().unwrap_or(0);
        let last_minute = per_minute.keys().max().copied().unwrap_or(-1);
        let mut minutes = vec![0u64; (last_minute - first_minute + 1).max(0) as usize];
        for (minute, count) in per_minute {
            minutes[(minute - first_minute) as usize] = count;
        }
        // The minute of the earliest start can lie below the earliest time µs can express.
        let origin_us = first_minute
            .checked_mul(60_000_000)
            .ok_or_else(|| TraceError::Layout {
                path: paths.first().cloned().unwrap_or_default(),
                message: format!("minute {first_minute} of the earliest start is out of range"),
            })?;
        let (mut functions, by_key) = index.finish();
        for (index, function) in functions.iter_mut().enumerate() {
            function.duration_ms = durations[index].percentiles(1e-3);
            function.mean_duration_ms = durations[index].mean().map(|us| us / 1e3);
            function.memory_mb = memories[index].percentiles(1.0);
        }
        Ok(Self {
            index: TraceIndex {
                format: L::FORMAT,
                files: paths.to_vec(),
                functions,
                per_minute: minutes,
            },
            layout: std::marker::PhantomData,
            files: paths.to_vec(),
            by_key,
            origin_us,
            disorder_us,
        })
    }
}

/// A row waiting in the reorder heap: start, then the order read, for a stable order.
type Waiting = Reverse<(i64, u64, u32, Option<u64>)>;

struct InvocationStream<L> {
    files: Vec<PathBuf>,
    file: usize,
    rows: Option<(Rows, Header, L)>,
    by_key: HashMap<String, u32>,
    origin_us: i64,
    disorder_us: i64,
    start_us: i64,
    heap: BinaryHeap<Waiting>,
    latest: i64,
    read: u64,
    finished: bool,
    /// Reused for each row's key.
    key: String,
}

impl<L: InvocationLayout> InvocationStream<L> {
    /// The next row in start order, or `None` at the end.
    fn next_in_order(&mut self) -> Result<Option<Waiting>, TraceError> {
        loop {
            // Everything still to come starts at or after `latest - disorder`.
            if let Some(Reverse((start, ..))) = self.heap.peek() {
                if self.finished || *start <= self.latest - self.disorder_us {
                    return Ok(self.heap.pop());
                }
            } else if self.finished {
                return Ok(None);
            }
            if self.rows.is_none() {
                let Some(path) = self.files.get(self.file) else {
                    self.finished = true;
                    continue;
                };
                let mut rows = Rows::open(path)?;
                let header = rows.header()?;
                let columns = L::of(&header, path)?;
                self.rows = Some((rows, header, columns));
            }
            let Some((rows, header, columns)) = &mut self.rows else {
                continue;
            };
            let Some(row) = rows.next_row()? else {
                self.rows = None;
                self.file += 1;
                continue;
            };
            let parsed = columns.parse(&row, header)?;
            write_key(&parsed.identity, &mut self.key);
            let function =
                self.by_key
                    .get(self.key.as_str())
                    .copied()
                    .ok_or_else(|| TraceError::Layout {
                        path: self.files[self.file].clone(),
                        message: "the file changed since it was opened".into(),
                    })?;
            self.latest = self.latest.max(parsed.start_us);
            self.read += 1;
            self.heap.push(Reverse((
                parsed.start_us,
                self.read,
                function,
                parsed.duration_us,
            )));
        }
    }
}

impl<L: InvocationLayout> Iterator for InvocationStream<L> {
    type Item = Result<TraceEvent, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.next_in_order() {
                Ok(Some(Reverse((start, _, function, duration_us)))) => {
                    if start < self.start_us {
                        continue;
                    }
                    return Some(Ok(TraceEvent::Invocation {
                        at_us: (start - self.origin_us) as u64,
                        function,
                        duration_us,
                    }));
                }
                Ok(None) => return None,
                Err(err) => {
                    self.finished = true;
                    self.heap.clear();
                    return Some(Err(err));
                }
            }
        }
    }
}

impl<L: InvocationLayout> TraceReader for PerInvocation<L> {
    fn index(&self) -> &TraceIndex {
        &self.index
    }

    fn events(&self, start_minute: u32) -> Result<Events, TraceError> {
        Ok(Box::new(InvocationStream::<L> {
            files: self.files.clone(),
            file: 0,
            rows: None,
            by_key: self.by_key.clone(),
            origin_us: self.origin_us,
            disorder_us: self.disorder_us,
            start_us: self.origin_us + i64::from(start_minute) * 60_000_000,
            heap: BinaryHeap::new(),
            latest: i64::MIN / 2,
            read: 0,
            finished: false,
            key: String::new(),
        }))
    }

    fn write_subset(&self, functions: &[usize], dir: &Path) -> Result<Vec<PathBuf>, TraceError> {
        let chosen = self.index.ids(functions);
        self.files
            .iter()
            .map(|path| {
                let mut columns = None;
                copy_rows(path, dir, |row, header| {
                    let columns = match columns {
                        Some(columns) => columns,
                        None => *columns.insert(L::of(header, path)?),
                    };
                    let parsed = columns.parse(row, header)?;
                    Ok(chosen.contains(key_of(&parsed.identity).as_str()))
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_histogram_percentiles_are_within_a_quarter_octave() {
        let mut histogram = LogHistogram::new();
        for value in 1..=10_000 {
            histogram.record(value as f64);
        }
        let median = histogram.quantile(0.5);
        assert!((median / 5000.0 - 1.0).abs() < 0.1, "{median}");
        let p = histogram.percentiles(1.0).unwrap();
        assert_eq!((p.quantile(0.0), p.max()), (1.0, 10_000.0));
        assert_eq!(histogram.mean(), Some(5000.5));
    }
}
