//! The interval series of a run: latency and throughput second by second.
//!
//! End-of-run percentiles hide *when* things happened: a warm-up, a burst of cold starts, a
//! platform that stalled for ten seconds. This module keeps one set of histograms per second of
//! the run and writes them to two files:
//!
//! - an **HdrHistogram interval log** (`.hlog`, V2 deflate-compressed histograms), readable by
//!   `HistogramLogAnalyzer`, HdrHistogram's `HistogramLogProcessor` and
//!   [`hdrhistogram::serialization::interval_log::IntervalLogIterator`];
//! - a **CSV** with one row per second, for plotting.
//!
//! # How seconds are completed
//!
//! Every worker records its finished invocations into an [`IntervalPart`] and hands it to the
//! shared [`IntervalLog`] with [`IntervalLog::add`]; parts of the same second are merged bucket
//! by bucket (percentiles are never averaged). Workers run at their own pace, so a second is
//! only written once *every* worker has promised, with [`IntervalLog::advance`], to add nothing
//! more to it. Complete seconds are written in order and forgotten, so memory follows how far
//! the workers are apart, not how long the run is. [`IntervalLog::finish`] writes the rest.
//!
//! A worker that adds to a second already written (it advanced past that second, then added to
//! it) gets [`IntervalLogError::LateSecond`]: those invocations are left out of the series
//! rather than silently folded into a later second, and the log stays usable. Adding to a
//! second that is still pending is always accepted, even from a worker that advanced past it.
//!
//! # The `.hlog` file
//!
//! Values are latencies in microseconds, with 3 significant digits. The log's `StartTime` and
//! `BaseTime` are the run's time zero, so each interval's timestamp is its second of the run and
//! its length is 1 s. Seconds without invocations are skipped. Each second holds up to four
//! histograms, empty ones left out:
//!
//! | tag       | latencies of                                   |
//! |-----------|------------------------------------------------|
//! | (none)    | every finished invocation, successful or not   |
//! | `ok`      | successful invocations                         |
//! | `error`   | failed invocations                             |
//! | `cold`    | cold starts, successful or not                 |
//!
//! The untagged histogram is there because `HistogramLogProcessor` reads only untagged
//! histograms unless given `-tag`; `ok` and `error` split it, `cold` overlaps both. That tool
//! assumes nanoseconds: `-outputValueUnitRatio 1000` makes it print milliseconds.
//!
//! The `Interval_Max` column is divided by [`MAX_VALUE_DIVISOR`] (1000), so it reads in
//! milliseconds. The format leaves that column to humans (the tools recompute the max from the
//! histogram), and the log says so in a `#[MaxValueDivisor: 1000.000]` header line.
//!
//! # The CSV file
//!
//! Columns are [`CSV_COLUMNS`]. There is one row per second from the first second with
//! invocations to the last; seconds in between with none get a row with zero throughput and
//! empty percentiles. `throughput_per_s` counts every finished invocation; the percentiles are
//! those of successful invocations, like the run's final latency figures, and are empty for a
//! second without any.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{
    IntervalLogWriterBuilder, IntervalLogWriterError, Tag,
};
use hdrhistogram::{AdditionError, Histogram};

use crate::recorder::{self, SIGNIFICANT_DIGITS, record};

/// What the `.hlog` max column is divided by: histograms hold µs, the column reads in ms.
pub const MAX_VALUE_DIVISOR: f64 = 1000.0;

/// Column names of the per-second CSV.
pub const CSV_COLUMNS: [&str; 8] = [
    "second",
    "throughput_per_s",
    "ok",
    "errors",
    "cold_starts",
    "p50_ms",
    "p99_ms",
    "max_ms",
];

/// Length of every interval.
const INTERVAL: Duration = Duration::from_secs(1);

/// How many emptied parts are kept for reuse instead of being freed.
const SPARE_PARTS: usize = 4;

/// The column legend HdrHistogram's own log writer puts before the first interval.
const HLOG_LEGEND: &[u8] =
    b"\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n";

/// Interval histograms keep the run-wide precision.
fn histogram() -> Histogram<u64> {
    recorder::histogram(SIGNIFICANT_DIGITS)
}

/// Why the interval series could not be kept or written.
#[derive(Debug, thiserror::Error)]
pub enum IntervalLogError {
    #[error("cannot create the interval log {path}: {source}")]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write the interval log {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot encode second {second} for the interval log {path}: {source}")]
    Encode {
        path: PathBuf,
        second: u64,
        #[source]
        source: hdrhistogram::serialization::V2DeflateSerializeError,
    },
    /// A file is no longer written after its first write error, so that a half-written line
    /// is never followed by more data.
    #[error("the interval log {path} was abandoned after an earlier write error: {reason}")]
    Abandoned { path: PathBuf, reason: String },
    #[error("cannot add up the latencies of second {second}: {source}")]
    Histogram {
        second: u64,
        #[source]
        source: AdditionError,
    },
    #[error("worker {worker} is unknown: the interval log was created for {workers} workers")]
    UnknownWorker { worker: usize, workers: usize },
    /// The invocations are left out of the series; the log goes on.
    #[error(
        "worker {worker} added {invocations} invocations to second {second}, which was already \
         written because every worker had advanced past it; they are left out of the interval log"
    )]
    LateSecond {
        worker: usize,
        second: u64,
        invocations: u64,
    },
}

/// One worker's figures for one second of the run. Latencies in µs.
///
/// Successful and failed invocations are kept apart; cold starts are kept as well, whatever
/// their outcome.
#[derive(Debug, Clone)]
pub struct IntervalPart {
    ok: Histogram<u64>,
    error: Histogram<u64>,
    cold: Histogram<u64>,
}

impl Default for IntervalPart {
    fn default() -> Self {
        Self::new()
    }
}

impl IntervalPart {
    /// An empty part.
    pub fn new() -> Self {
        Self {
            ok: histogram(),
            error: histogram(),
            cold: histogram(),
        }
    }

    /// One finished invocation: its latency, whether it succeeded, whether it was a cold start.
    pub fn record(&mut self, latency_us: u64, ok: bool, cold: bool) {
        record(if ok { &mut self.ok } else { &mut self.error }, latency_us);
        if cold {
            record(&mut self.cold, latency_us);
        }
    }

    /// Whether no invocation was recorded.
    pub fn is_empty(&self) -> bool {
        self.ok.is_empty() && self.error.is_empty()
    }

    /// Forgets every invocation, keeping the histograms' memory for reuse.
    pub fn clear(&mut self) {
        self.ok.reset();
        self.error.reset();
        self.cold.reset();
    }

    fn invocations(&self) -> u64 {
        self.ok.len() + self.error.len()
    }

    fn merge(&mut self, other: &IntervalPart) -> Result<(), AdditionError> {
        self.ok.add(&other.ok)?;
        self.error.add(&other.error)?;
        self.cold.add(&other.cold)
    }

    fn figures(&self, second: u64) -> IntervalFigures {
        let ok = &self.ok;
        let (p50_us, p99_us, max_us) = if ok.is_empty() {
            (0, 0, 0)
        } else {
            (
                ok.value_at_quantile(0.5),
                ok.value_at_quantile(0.99),
                ok.max(),
            )
        };
        IntervalFigures {
            second,
            ok: ok.len(),
            errors: self.error.len(),
            cold: self.cold.len(),
            p50_us,
            p99_us,
            max_us,
        }
    }
}

/// The figures of one complete second, for progress displays.
///
/// Percentiles are those of successful invocations, 0 when there were none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalFigures {
    /// Seconds since the run's time zero.
    pub second: u64,
    /// Successful invocations that finished in this second.
    pub ok: u64,
    /// Failed invocations that finished in this second.
    pub errors: u64,
    /// Cold starts among them, successful or not.
    pub cold: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl IntervalFigures {
    fn empty(second: u64) -> Self {
        Self {
            second,
            ok: 0,
            errors: 0,
            cold: 0,
            p50_us: 0,
            p99_us: 0,
            max_us: 0,
        }
    }
}

/// The interval series of a run, shared by its workers.
///
/// See the [module documentation](self) for what is written and when.
pub struct IntervalLog {
    state: Mutex<State>,
}

struct State {
    /// Per worker: the first second it may still add to.
    passed: Vec<u64>,
    /// Every second before this one is complete and written.
    complete: u64,
    /// Seconds not complete yet that have invocations.
    pending: BTreeMap<u64, IntervalPart>,
    /// Emptied parts, reused for the next pending seconds.
    spare: Vec<IntervalPart>,
    /// The last complete second that had invocations.
    latest: Option<IntervalFigures>,
    hlog: Option<HlogFile>,
    csv: Option<CsvFile>,
}

impl IntervalLog {
    /// Creates `hlog` and `csv` (either may be `None` to skip that file) for `workers` workers,
    /// numbered from 0. `start` is the wall-clock time of the run's time zero.
    pub fn create(
        hlog: Option<&Path>,
        csv: Option<&Path>,
        start: SystemTime,
        workers: usize,
    ) -> Result<Self, IntervalLogError> {
        let hlog = hlog.map(|path| HlogFile::create(path, start)).transpose()?;
        let csv = csv.map(CsvFile::create).transpose()?;
        Ok(Self {
            state: Mutex::new(State {
                passed: vec![0; workers],
                complete: 0,
                pending: BTreeMap::new(),
                spare: Vec::new(),
                latest: None,
                hlog,
                csv,
            }),
        })
    }

    /// Worker `worker` adds its part of second `second` (seconds since time zero). Parts of the
    /// same second are merged, whichever worker they come from.
    ///
    /// A part for a second already written is refused with [`IntervalLogError::LateSecond`]
    /// and changes nothing.
    pub fn add(
        &self,
        worker: usize,
        second: u64,
        part: &IntervalPart,
    ) -> Result<(), IntervalLogError> {
        let mut state = self.lock();
        state.check_worker(worker)?;
        if part.is_empty() {
            return Ok(());
        }
        if second < state.complete {
            return Err(IntervalLogError::LateSecond {
                worker,
                second,
                invocations: part.invocations(),
            });
        }
        let state = &mut *state;
        let pending = state
            .pending
            .entry(second)
            .or_insert_with(|| state.spare.pop().unwrap_or_default());
        pending
            .merge(part)
            .map_err(|source| IntervalLogError::Histogram { second, source })
    }

    /// Worker `worker` will add nothing for seconds before `second`. Once every worker has
    /// passed a second, that second is written.
    ///
    /// A worker never goes back: advancing to an earlier second than before changes nothing.
    pub fn advance(&self, worker: usize, second: u64) -> Result<(), IntervalLogError> {
        let mut state = self.lock();
        state.check_worker(worker)?;
        let passed = &mut state.passed[worker];
        *passed = (*passed).max(second);
        let Some(slowest) = state.passed.iter().copied().min() else {
            return Ok(());
        };
        if slowest > state.complete {
            state.write_until(slowest)
        } else {
            Ok(())
        }
    }

    /// Writes every remaining second and flushes the files, whether or not the workers
    /// advanced past them.
    pub fn finish(&self) -> Result<(), IntervalLogError> {
        let mut state = self.lock();
        let end = match state.pending.last_key_value() {
            Some((&last, _)) => last.saturating_add(1),
            None => state.complete,
        };
        state.write_until(end)
    }

    /// The latest complete second, if any: the figures of the last second every worker has
    /// passed (all zero if it had no invocations).
    pub fn latest(&self) -> Option<IntervalFigures> {
        let state = self.lock();
        let second = state.complete.checked_sub(1)?;
        Some(match state.latest {
            Some(figures) if figures.second == second => figures,
            _ => IntervalFigures::empty(second),
        })
    }

    /// Seconds held in memory, waiting for slower workers.
    #[cfg(test)]
    fn pending_seconds(&self) -> usize {
        self.lock().pending.len()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while the lock is held, and a poisoned lock would still hold figures
        // worth writing.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn check_worker(&self, worker: usize) -> Result<(), IntervalLogError> {
        if worker < self.passed.len() {
            Ok(())
        } else {
            Err(IntervalLogError::UnknownWorker {
                worker,
                workers: self.passed.len(),
            })
        }
    }

    /// Writes, in order, every pending second before `end`, then flushes. Every second is
    /// handed to every file even if one fails; the first error is returned.
    fn write_until(&mut self, end: u64) -> Result<(), IntervalLogError> {
        let mut first_error = None;
        while let Some(entry) = self.pending.first_entry()
            && *entry.key() < end
        {
            let (second, mut part) = entry.remove_entry();
            let figures = part.figures(second);
            self.latest = Some(figures);
            if let Some(hlog) = &mut self.hlog
                && let Err(err) = hlog.write_second(second, &part)
            {
                first_error.get_or_insert(err);
            }
            if let Some(csv) = &mut self.csv
                && let Err(err) = csv.write_second(&figures)
            {
                first_error.get_or_insert(err);
            }
            if self.spare.len() < SPARE_PARTS {
                part.clear();
                self.spare.push(part);
            }
        }
        self.complete = self.complete.max(end);
        // Flushed once per batch so the files can be followed while the run goes on.
        if let Err(err) = self.flush() {
            first_error.get_or_insert(err);
        }
        first_error.map_or(Ok(()), Err)
    }

    fn flush(&mut self) -> Result<(), IntervalLogError> {
        let hlog = self.hlog.as_mut().map_or(Ok(()), |f| f.file.flush());
        let csv = self.csv.as_mut().map_or(Ok(()), |f| f.file.flush());
        hlog.and(csv)
    }
}

/// One output file. After its first write error it is abandoned.
struct OutputFile {
    path: PathBuf,
    out: BufWriter<File>,
    failure: Option<String>,
}

impl OutputFile {
    fn create(path: &Path) -> Result<Self, IntervalLogError> {
        let file = File::create(path).map_err(|source| IntervalLogError::Create {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self {
            path: path.to_owned(),
            out: BufWriter::new(file),
            failure: None,
        })
    }

    fn check(&self) -> Result<(), IntervalLogError> {
        match &self.failure {
            None => Ok(()),
            Some(reason) => Err(IntervalLogError::Abandoned {
                path: self.path.clone(),
                reason: reason.clone(),
            }),
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), IntervalLogError> {
        self.check()?;
        let written = self.out.write_all(bytes);
        self.fail_on(written)
    }

    fn flush(&mut self) -> Result<(), IntervalLogError> {
        self.check()?;
        let flushed = self.out.flush();
        self.fail_on(flushed)
    }

    fn fail_on(&mut self, result: io::Result<()>) -> Result<(), IntervalLogError> {
        result.map_err(|source| {
            self.failure = Some(source.to_string());
            IntervalLogError::Write {
                path: self.path.clone(),
                source,
            }
        })
    }
}

/// The `.hlog` file.
struct HlogFile {
    file: OutputFile,
    serializer: V2DeflateSerializer,
    /// One second's lines, encoded before they go to the file.
    lines: Vec<u8>,
    /// What [`IntervalLogWriterBuilder`] writes before any interval when given the max value
    /// divisor. Its writer borrows the file, so it cannot outlive one call; a fresh writer per
    /// second repeats this note, which the file's header already holds, and is cut off.
    divisor_note: Vec<u8>,
    /// Every invocation of one second, for the untagged histogram.
    all: Histogram<u64>,
}

impl HlogFile {
    fn create(path: &Path, start: SystemTime) -> Result<Self, IntervalLogError> {
        let mut file = OutputFile::create(path)?;
        let mut serializer = V2DeflateSerializer::new();
        let in_memory = |source| IntervalLogError::Write {
            path: path.to_owned(),
            source,
        };
        let mut header = Vec::new();
        IntervalLogWriterBuilder::new()
            .add_comment("faasbench interval log")
            .add_comment("Latencies in microseconds; Interval_Max in milliseconds.")
            .add_comment(
                "Untagged: every invocation; Tag=ok: successful; Tag=error: failed; \
                 Tag=cold: cold starts, successful or not.",
            )
            .with_start_time(start)
            .with_base_time(start)
            .with_max_value_divisor(MAX_VALUE_DIVISOR)
            .begin_log_with(&mut header, &mut serializer)
            .map_err(in_memory)?;
        header.extend_from_slice(HLOG_LEGEND);
        file.write(&header)?;
        let mut divisor_note = Vec::new();
        Self::second_writer()
            .begin_log_with(&mut divisor_note, &mut serializer)
            .map_err(in_memory)?;
        Ok(Self {
            file,
            serializer,
            lines: Vec::new(),
            divisor_note,
            all: histogram(),
        })
    }

    fn second_writer() -> IntervalLogWriterBuilder {
        let mut builder = IntervalLogWriterBuilder::new();
        builder.with_max_value_divisor(MAX_VALUE_DIVISOR);
        builder
    }

    fn write_second(&mut self, second: u64, part: &IntervalPart) -> Result<(), IntervalLogError> {
        self.file.check()?;
        self.all.reset();
        self.all
            .add(&part.ok)
            .and_then(|()| self.all.add(&part.error))
            .map_err(|source| IntervalLogError::Histogram { second, source })?;

        self.lines.clear();
        let path = &self.file.path;
        let mut writer = Self::second_writer()
            .begin_log_with(&mut self.lines, &mut self.serializer)
            .map_err(|source| IntervalLogError::Write {
                path: path.clone(),
                source,
            })?;
        let start = Duration::from_secs(second);
        for (histogram, tag) in [
            (&self.all, None),
            (&part.ok, Tag::new("ok")),
            (&part.error, Tag::new("error")),
            (&part.cold, Tag::new("cold")),
        ] {
            if histogram.is_empty() {
                continue;
            }
            writer
                .write_histogram(histogram, start, INTERVAL, tag)
                .map_err(|err| match err {
                    IntervalLogWriterError::IoError(source) => IntervalLogError::Write {
                        path: path.clone(),
                        source,
                    },
                    IntervalLogWriterError::SerializeError(source) => IntervalLogError::Encode {
                        path: path.clone(),
                        second,
                        source,
                    },
                })?;
        }
        drop(writer);
        let lines = self
            .lines
            .strip_prefix(self.divisor_note.as_slice())
            .unwrap_or(&self.lines);
        self.file.write(lines)
    }
}

/// The per-second CSV.
struct CsvFile {
    file: OutputFile,
    row: String,
    /// The last second written, to fill the gap up to the next one.
    last_second: Option<u64>,
}

impl CsvFile {
    fn create(path: &Path) -> Result<Self, IntervalLogError> {
        let mut file = OutputFile::create(path)?;
        let header = CSV_COLUMNS.join(",") + "\n";
        file.write(header.as_bytes())?;
        Ok(Self {
            file,
            row: String::new(),
            last_second: None,
        })
    }

    fn write_second(&mut self, figures: &IntervalFigures) -> Result<(), IntervalLogError> {
        self.file.check()?;
        let gap = self.last_second.map_or(figures.second, |last| last + 1);
        for second in gap..figures.second {
            self.write_row(&IntervalFigures::empty(second))?;
        }
        self.write_row(figures)?;
        self.last_second = Some(figures.second);
        Ok(())
    }

    fn write_row(&mut self, f: &IntervalFigures) -> Result<(), IntervalLogError> {
        let row = &mut self.row;
        row.clear();
        let throughput = f.ok + f.errors;
        let _ = write!(
            row,
            "{},{throughput},{},{},{},",
            f.second, f.ok, f.errors, f.cold
        );
        if f.ok > 0 {
            for (i, us) in [f.p50_us, f.p99_us, f.max_us].into_iter().enumerate() {
                let separator = if i == 0 { "" } else { "," };
                let _ = write!(row, "{separator}{}.{:03}", us / 1000, us % 1000);
            }
        } else {
            row.push_str(",,");
        }
        row.push('\n');
        self.file.write(self.row.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use hdrhistogram::serialization::Deserializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    fn part(ok: &[u64], failed: &[u64], cold: &[u64]) -> IntervalPart {
        let mut part = IntervalPart::new();
        for &v in ok {
            part.record(v, true, cold.contains(&v));
        }
        for &v in failed {
            part.record(v, false, cold.contains(&v));
        }
        part
    }

    /// The exact value at `quantile`, ranked the way HdrHistogram ranks it.
    fn exact_quantile(values: &[u64], quantile: f64) -> u64 {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let rank = (quantile * sorted.len() as f64).ceil().max(1.0) as usize;
        sorted[rank - 1]
    }

    fn base64_decode(text: &str) -> Vec<u8> {
        let sextet = |c: u8| -> u32 {
            match c {
                b'A'..=b'Z' => u32::from(c - b'A'),
                b'a'..=b'z' => u32::from(c - b'a') + 26,
                b'0'..=b'9' => u32::from(c - b'0') + 52,
                b'+' => 62,
                b'/' => 63,
                _ => panic!("not base64: {:?}", c as char),
            }
        };
        let mut bytes = Vec::new();
        let (mut acc, mut bits) = (0u32, 0);
        for c in text.bytes().filter(|&c| c != b'=') {
            acc = (acc << 6) | sextet(c);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                bytes.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        bytes
    }

    struct ReadInterval {
        second: u64,
        length: Duration,
        tag: Option<String>,
        max: f64,
        histogram: Histogram<u64>,
    }

    struct ReadLog {
        start_time: Option<Duration>,
        base_time: Option<Duration>,
        intervals: Vec<ReadInterval>,
    }

    impl ReadLog {
        fn of(&self, second: u64, tag: Option<&str>) -> Option<&Histogram<u64>> {
            self.intervals
                .iter()
                .find(|i| i.second == second && i.tag.as_deref() == tag)
                .map(|i| &i.histogram)
        }

        fn seconds(&self) -> Vec<u64> {
            let mut seconds: Vec<u64> = self.intervals.iter().map(|i| i.second).collect();
            seconds.dedup();
            seconds
        }
    }

    fn read_hlog(path: &Path) -> ReadLog {
        let bytes = std::fs::read(path).unwrap();
        let mut log = ReadLog {
            start_time: None,
            base_time: None,
            intervals: Vec::new(),
        };
        let mut deserializer = Deserializer::new();
        for entry in IntervalLogIterator::new(&bytes) {
            match entry.expect("every line of the log parses") {
                LogEntry::StartTime(t) => log.start_time = Some(t),
                LogEntry::BaseTime(t) => log.base_time = Some(t),
                LogEntry::Interval(interval) => {
                    let encoded = base64_decode(interval.encoded_histogram());
                    let histogram = deserializer.deserialize(&mut encoded.as_slice()).unwrap();
                    let timestamp = interval.start_timestamp();
                    assert_eq!(timestamp.subsec_nanos(), 0, "interval starts on a second");
                    log.intervals.push(ReadInterval {
                        second: timestamp.as_secs(),
                        length: interval.duration(),
                        tag: interval.tag().map(|t| t.as_str().to_owned()),
                        max: interval.max(),
                        histogram,
                    });
                }
            }
        }
        log
    }

    fn read_csv(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn start() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_250)
    }

    #[test]
    fn parts_of_all_workers_are_merged_per_second_and_tag() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.hlog");
        let log = IntervalLog::create(Some(&path), None, start(), 2).unwrap();

        // Second 0: worker 0 is fast, worker 1 slow, so merged percentiles differ from any
        // average of the workers' own. Worker 0 hands its second in two parts.
        let fast: Vec<u64> = (1..=300).map(|v| v * 7).collect();
        let slow: Vec<u64> = (1..=100).map(|v| 20_000 + v * 311).collect();
        let failed = [30_000_000, 45];
        log.add(0, 0, &part(&fast[..150], &[], &[7, 14])).unwrap();
        log.add(0, 0, &part(&fast[150..], &failed[..1], &failed[..1]))
            .unwrap();
        log.add(1, 0, &part(&slow, &failed[1..], &[slow[99]]))
            .unwrap();
        // Second 2 has only worker 1; second 1 has nothing and is skipped.
        log.add(1, 2, &part(&[900, 1100], &[], &[])).unwrap();
        log.advance(0, 3).unwrap();
        log.advance(1, 3).unwrap();
        log.finish().unwrap();

        let read = read_hlog(&path);
        let zero = Duration::from_millis(1_700_000_000_250);
        assert_eq!(read.start_time, Some(zero));
        assert_eq!(read.base_time, Some(zero));
        assert_eq!(read.seconds(), [0, 2]);
        assert!(read.intervals.iter().all(|i| i.length == INTERVAL));

        let ok_values: Vec<u64> = fast.iter().chain(&slow).copied().collect();
        let ok = read.of(0, Some("ok")).unwrap();
        assert_eq!(ok.len(), 400);
        for quantile in [0.5, 0.9, 0.99] {
            let exact = exact_quantile(&ok_values, quantile);
            let merged = ok.value_at_quantile(quantile);
            assert!(
                ok.equivalent(merged, exact),
                "q{quantile}: {merged} vs {exact}"
            );
        }
        let error = read.of(0, Some("error")).unwrap();
        assert_eq!(error.len(), 2);
        assert!(error.equivalent(error.max(), 30_000_000));
        assert!(error.equivalent(error.min(), 45));
        let cold = read.of(0, Some("cold")).unwrap();
        assert_eq!(cold.len(), 4);
        assert!(cold.equivalent(cold.max(), 30_000_000));
        let all = read.of(0, None).unwrap();
        assert_eq!(all.len(), 402);

        // Only non-empty histograms are written.
        assert_eq!(read.of(2, Some("ok")).unwrap().len(), 2);
        assert!(read.of(2, Some("error")).is_none());
        assert!(read.of(2, Some("cold")).is_none());

        // The max column reads in milliseconds.
        let all_second_0 = read
            .intervals
            .iter()
            .find(|i| i.second == 0 && i.tag.is_none())
            .unwrap();
        assert!((all_second_0.max - all.max() as f64 / 1000.0).abs() < 1e-3);
        assert!((29_990.0..30_040.0).contains(&all_second_0.max));
    }

    #[test]
    fn hlog_names_its_writer_and_unit_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.hlog");
        let log = IntervalLog::create(Some(&path), None, start(), 1).unwrap();
        for second in 0..3 {
            log.add(0, second, &part(&[1000], &[], &[])).unwrap();
        }
        log.finish().unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        let comments: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
        assert!(comments.contains(&"#faasbench interval log"), "{text}");
        assert!(
            comments.iter().any(|c| c.contains("microseconds")),
            "{text}"
        );
        assert_eq!(
            text.matches("#[MaxValueDivisor: 1000.000]").count(),
            1,
            "{text}"
        );
        assert_eq!(text.matches("\"StartTimestamp\"").count(), 1, "{text}");
        assert_eq!(read_hlog(&path).seconds(), [0, 1, 2]);
    }

    #[test]
    fn seconds_wait_for_the_slowest_worker() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.hlog");
        let log = IntervalLog::create(Some(&path), None, start(), 2).unwrap();

        for second in 0..5 {
            log.add(0, second, &part(&[100], &[], &[])).unwrap();
        }
        log.advance(0, 5).unwrap();
        assert!(
            read_hlog(&path).intervals.is_empty(),
            "worker 1 has passed nothing"
        );
        assert_eq!(log.latest(), None);

        log.add(1, 0, &part(&[200], &[], &[])).unwrap();
        log.add(1, 1, &part(&[300], &[], &[])).unwrap();
        log.advance(1, 1).unwrap();
        let read = read_hlog(&path);
        assert_eq!(read.seconds(), [0]);
        assert_eq!(read.of(0, Some("ok")).unwrap().len(), 2);
        assert_eq!(log.latest().map(|f| f.second), Some(0));

        // Worker 1 still holds second 1 back, though worker 0 passed it long ago.
        log.advance(1, 2).unwrap();
        let read = read_hlog(&path);
        assert_eq!(read.seconds(), [0, 1]);
        assert_eq!(read.of(1, Some("ok")).unwrap().len(), 2);

        log.finish().unwrap();
        assert_eq!(read_hlog(&path).seconds(), [0, 1, 2, 3, 4]);
        assert_eq!(log.latest().map(|f| f.second), Some(4));
    }

    #[test]
    fn csv_has_a_row_for_every_second_between_the_first_and_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.csv");
        let log = IntervalLog::create(None, Some(&path), start(), 2).unwrap();

        // Values below 2048 µs are exact at 3 significant digits.
        log.add(0, 2, &part(&[1000, 1500], &[40], &[1500])).unwrap();
        log.add(1, 2, &part(&[2000], &[], &[])).unwrap();
        log.add(1, 3, &part(&[], &[500, 600], &[600])).unwrap();
        log.add(0, 6, &part(&[250], &[], &[])).unwrap();
        log.advance(0, 10).unwrap();
        log.advance(1, 10).unwrap();
        log.finish().unwrap();

        assert_eq!(
            read_csv(&path),
            [
                "second,throughput_per_s,ok,errors,cold_starts,p50_ms,p99_ms,max_ms",
                "2,4,3,1,1,1.500,2.000,2.000",
                "3,2,0,2,1,,,",
                "4,0,0,0,0,,,",
                "5,0,0,0,0,,,",
                "6,1,1,0,0,0.250,0.250,0.250",
            ]
        );
    }

    #[test]
    fn pending_seconds_stay_few_over_a_long_run() {
        let log = IntervalLog::create(None, None, start(), 3).unwrap();
        let tiny = part(&[1200], &[], &[]);
        // Worker 2 trails the others by three seconds, all run long.
        let seconds = 10_000;
        for second in 0..seconds {
            for worker in 0..2 {
                log.add(worker, second, &tiny).unwrap();
                log.advance(worker, second + 1).unwrap();
            }
            if let Some(trailing) = second.checked_sub(3) {
                log.add(2, trailing, &tiny).unwrap();
                log.advance(2, trailing + 1).unwrap();
            }
            assert!(
                log.pending_seconds() <= 4,
                "{} pending",
                log.pending_seconds()
            );
        }
        log.finish().unwrap();
        assert_eq!(log.pending_seconds(), 0);
        assert!(log.lock().spare.len() <= SPARE_PARTS);
        let last = log.latest().unwrap();
        assert_eq!((last.second, last.ok), (seconds - 1, 2));
    }

    #[test]
    fn latest_is_the_last_second_every_worker_passed() {
        let log = IntervalLog::create(None, None, start(), 2).unwrap();
        assert_eq!(log.latest(), None);

        log.add(0, 0, &part(&[1000, 1010, 1990], &[5], &[1990]))
            .unwrap();
        log.add(1, 0, &part(&[1500], &[], &[])).unwrap();
        log.add(1, 1, &part(&[700], &[], &[])).unwrap();
        log.advance(0, 2).unwrap();
        log.advance(1, 1).unwrap();
        assert_eq!(
            log.latest(),
            Some(IntervalFigures {
                second: 0,
                ok: 4,
                errors: 1,
                cold: 1,
                p50_us: 1010,
                p99_us: 1990,
                max_us: 1990,
            })
        );

        log.advance(0, 4).unwrap();
        log.advance(1, 4).unwrap();
        let quiet = log.latest().unwrap();
        assert_eq!((quiet.second, quiet.ok, quiet.errors), (3, 0, 0));
    }

    #[test]
    fn a_part_for_a_written_second_is_refused_and_the_log_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.hlog");
        let log = IntervalLog::create(Some(&path), None, start(), 1).unwrap();
        log.add(0, 0, &part(&[100], &[], &[])).unwrap();
        log.advance(0, 1).unwrap();

        let err = log.add(0, 0, &part(&[100, 200], &[9], &[])).unwrap_err();
        assert!(
            matches!(
                err,
                IntervalLogError::LateSecond {
                    worker: 0,
                    second: 0,
                    invocations: 3
                }
            ),
            "{err}"
        );
        let err = log.advance(7, 1).unwrap_err();
        assert!(err.to_string().contains("worker 7"), "{err}");

        log.add(0, 1, &part(&[300], &[], &[])).unwrap();
        log.finish().unwrap();
        let read = read_hlog(&path);
        assert_eq!(read.of(0, Some("ok")).unwrap().len(), 1);
        assert_eq!(read.of(1, Some("ok")).unwrap().len(), 1);
    }

    #[test]
    fn creating_in_a_missing_directory_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let hlog = dir.path().join("missing").join("run.hlog");
        let csv = dir.path().join("missing").join("run.csv");

        let err = IntervalLog::create(Some(&hlog), None, start(), 1)
            .err()
            .unwrap();
        assert!(err.to_string().contains(&*hlog.to_string_lossy()), "{err}");
        let err = IntervalLog::create(None, Some(&csv), start(), 1)
            .err()
            .unwrap();
        assert!(err.to_string().contains(&*csv.to_string_lossy()), "{err}");
    }

    #[test]
    fn a_file_that_cannot_be_written_is_reported_and_the_other_goes_on() {
        // Every write to /dev/full fails with "no space left on device".
        let full = Path::new("/dev/full");
        if !full.exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("run.csv");
        let log = IntervalLog::create(Some(full), Some(&csv), start(), 1).unwrap();

        log.add(0, 0, &part(&[100], &[], &[])).unwrap();
        let err = log.advance(0, 1).unwrap_err();
        assert!(matches!(err, IntervalLogError::Write { .. }), "{err}");
        assert!(err.to_string().contains("/dev/full"), "{err}");

        log.add(0, 1, &part(&[200], &[], &[])).unwrap();
        let err = log.finish().unwrap_err();
        assert!(matches!(err, IntervalLogError::Abandoned { .. }), "{err}");
        assert_eq!(read_csv(&csv).len(), 3, "the CSV holds both seconds");
    }

    #[test]
    fn a_cleared_part_is_empty_and_records_again() {
        let mut part = part(&[100], &[200], &[200]);
        assert!(!part.is_empty());
        part.clear();
        assert!(part.is_empty());
        part.record(50, false, false);
        assert!(!part.is_empty());
        assert_eq!(part.figures(0).errors, 1);
        assert_eq!(part.figures(0).cold, 0);
    }

    #[test]
    fn the_log_is_shared_by_worker_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<IntervalLog>();
    }
}
