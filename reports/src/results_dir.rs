//! The results directory of a run, `results/<run-id>/`: the one place that names its files,
//! writes them and reads them back.
//!
//! A run saves what every artifact is rendered from ([`SavedRun`]): the measurements with
//! their merged histograms (`run.json`), the interval series (`intervals.hlog`,
//! `intervals.csv`, streamed by the load generator while the run goes on), the platform's final
//! stats (`platform.json`), the machine (`machine.json`), the configuration
//! (`configuration.json`), the scenario file as run (`scenario.toml`) and any price list added
//! to the catalog (`pricing.toml`). [`ResultsDir::load`] reads those back into a [`Report`],
//! and the artifacts (`summary.json`, `report.html`, …) are rendered from it alone, so
//! `faasbench report` rebuilds them byte for byte. Every file is written under a temporary
//! name and renamed, so a reader never sees half a file.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use loadgen::RunResult;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Summary;
use crate::export::Exporter;
use crate::pricing::{Catalog, DEFAULT_ENTRY, Pricing, PricingError};
use crate::report::{Configuration, IntervalRow, Machine, PlatformStats, Report};

/// The measurements of the run, histograms included.
pub const RUN: &str = "run.json";
/// Where the run ran.
pub const MACHINE: &str = "machine.json";
/// The platform's own figures at the end of the run, when it reports them.
pub const PLATFORM: &str = "platform.json";
/// How the run was configured.
pub const CONFIGURATION: &str = "configuration.json";
/// The scenario file as run.
pub const SCENARIO: &str = "scenario.toml";
/// Price-list entries added to the built-in catalog for this run.
pub const PRICING: &str = "pricing.toml";
/// The interval series as an HdrHistogram interval log.
pub const INTERVALS_HLOG: &str = "intervals.hlog";
/// The interval series as CSV, one row per second.
pub const INTERVALS_CSV: &str = "intervals.csv";
/// One row per invocation, when asked for.
pub const INVOCATIONS_CSV: &str = "invocations.csv";

/// The page of a run, or of the comparison of its configurations.
pub const REPORT_HTML: &str = "report.html";

/// Files the load generator writes while the run goes on: streamed to a temporary name, then
/// renamed by [`ResultsDir::save`].
const STREAMED: [&str; 3] = [INTERVALS_HLOG, INTERVALS_CSV, INVOCATIONS_CSV];

/// A results directory could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{dir} is not a results directory of a run: {missing} is missing")]
    NotResults { dir: PathBuf, missing: &'static str },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error(transparent)]
    Pricing(#[from] PricingError),
}

/// Everything a run saves so that its artifacts can be rebuilt.
#[derive(Debug, Clone)]
pub struct SavedRun {
    pub run: RunResult,
    pub platform: Option<PlatformStats>,
    pub machine: Machine,
    pub configuration: Configuration,
    /// The text of the scenario file the run replayed.
    pub scenario: Option<String>,
    /// The text of the price list added to the catalog, if one was.
    pub pricing: Option<String>,
}

/// A run's results directory.
#[derive(Debug, Clone)]
pub struct ResultsDir {
    path: PathBuf,
}

/// A run id: the scenario name made safe for a path, then the UTC start time, e.g.
/// `quickstart-20261121T101500Z`.
pub fn run_id(scenario: &str, started: SystemTime) -> String {
    let name: String = scenario
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let stamp: String = humantime::format_rfc3339_seconds(started)
        .to_string()
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    format!("{name}-{stamp}")
}

/// The temporary name a file is written under before it is renamed to `path`.
fn partial(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.partial"))
}

/// Writes `path` under a temporary name with `write`, then renames it.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), ReportError> {
    let fail = |source| ReportError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(fail)?;
    }
    let temporary = partial(path);
    let file = File::create(&temporary).map_err(fail)?;
    let mut out = BufWriter::new(file);
    let written = write(&mut out).and_then(|()| out.flush());
    drop(out);
    if let Err(source) = written {
        let _ = fs::remove_file(&temporary);
        return Err(fail(source));
    }
    fs::rename(&temporary, path).map_err(fail)
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<(), ReportError> {
    write_atomically(path, |out| {
        serde_json::to_writer_pretty(&mut *out, value)?;
        out.write_all(b"\n")
    })
}

impl ResultsDir {
    /// The results directory at `path` (not created until something is written).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where a file of this directory is.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Creates the directory, and any missing parents.
    pub fn create(&self) -> Result<(), ReportError> {
        fs::create_dir_all(&self.path).map_err(|source| ReportError::Write {
            path: self.path.clone(),
            source,
        })
    }

    /// Where the load generator writes the interval log while the run goes on.
    pub fn streaming_intervals_hlog(&self) -> PathBuf {
        partial(&self.file(INTERVALS_HLOG))
    }

    /// Where the load generator writes the interval CSV while the run goes on.
    pub fn streaming_intervals_csv(&self) -> PathBuf {
        partial(&self.file(INTERVALS_CSV))
    }

    /// Where the load generator writes the invocation log while the run goes on.
    pub fn streaming_invocations_csv(&self) -> PathBuf {
        partial(&self.file(INVOCATIONS_CSV))
    }

    /// Saves what the artifacts are rendered from, and gives the streamed files their names.
    pub fn save(&self, saved: &SavedRun) -> Result<(), ReportError> {
        self.create()?;
        write_json(&self.file(RUN), &saved.run)?;
        write_json(&self.file(MACHINE), &saved.machine)?;
        write_json(&self.file(CONFIGURATION), &saved.configuration)?;
        match &saved.platform {
            Some(platform) => write_json(&self.file(PLATFORM), platform)?,
            None => self.remove(PLATFORM)?,
        }
        for (name, text) in [(SCENARIO, &saved.scenario), (PRICING, &saved.pricing)] {
            match text {
                Some(text) => {
                    write_atomically(&self.file(name), |out| out.write_all(text.as_bytes()))?
                }
                None => self.remove(name)?,
            }
        }
        for name in STREAMED {
            let path = self.file(name);
            let streamed = partial(&path);
            if streamed.exists() {
                fs::rename(&streamed, &path).map_err(|source| ReportError::Write {
                    path: path.clone(),
                    source,
                })?;
            }
        }
        Ok(())
    }

    fn remove(&self, name: &str) -> Result<(), ReportError> {
        let path = self.file(name);
        match fs::remove_file(&path) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => {
                Err(ReportError::Write { path, source: err })
            }
            _ => Ok(()),
        }
    }

    fn read_text(&self, name: &'static str) -> Result<Option<String>, ReportError> {
        let path = self.file(name);
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ReportError::Read { path, source }),
        }
    }

    fn read_json<T: DeserializeOwned>(&self, name: &'static str) -> Result<Option<T>, ReportError> {
        let Some(text) = self.read_text(name)? else {
            return Ok(None);
        };
        let path = self.file(name);
        let mut deserializer = serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(&mut deserializer)
            .map(Some)
            .map_err(|err| ReportError::Invalid {
                path,
                message: format!("at `{}`: {}", err.path(), err.inner()),
            })
    }

    fn require<T: DeserializeOwned>(&self, name: &'static str) -> Result<T, ReportError> {
        self.read_json(name)?
            .ok_or_else(|| ReportError::NotResults {
                dir: self.path.clone(),
                missing: name,
            })
    }

    /// Whether a run saved its measurements here.
    pub fn holds_a_run(&self) -> bool {
        self.file(RUN).is_file()
    }

    /// Reads back what the run saved and computes the report from it alone.
    pub fn load(&self) -> Result<Report, ReportError> {
        let run: RunResult = self.require(RUN)?;
        let functions = run.recorder.functions().len();
        let names = run.functions.len();
        if functions != names || run.trace_ids.len() != names || run.triggers.len() != names {
            return Err(ReportError::Invalid {
                path: self.file(RUN),
                message: format!(
                    "{names} function names, {} trace ids and {} triggers for {functions} functions measured",
                    run.trace_ids.len(),
                    run.triggers.len()
                ),
            });
        }
        let machine: Machine = self.require(MACHINE)?;
        let configuration: Configuration = self.require(CONFIGURATION)?;
        let platform: Option<PlatformStats> = self.read_json(PLATFORM)?;
        let intervals = match self.read_text(INTERVALS_CSV)? {
            Some(text) => read_intervals(&self.file(INTERVALS_CSV), &text)?,
            None => Vec::new(),
        };
        let intervals = with_dropped(intervals, &run);
        let pricing = self.pricing(&configuration)?;
        let summary = Summary::from_run(&run, &configuration.run_id, &pricing, platform.as_ref());
        Ok(Report {
            summary,
            run,
            intervals,
            platform,
            machine,
            configuration,
        })
    }

    /// The prices the run was shown under: the built-in catalog with the entries the run
    /// added (`pricing.toml`), and the entry it chose.
    fn pricing(&self, configuration: &Configuration) -> Result<Pricing, ReportError> {
        let mut catalog = Catalog::builtin();
        if let Some(text) = self.read_text(PRICING)? {
            catalog = catalog.with_overrides(&text, &self.file(PRICING).display().to_string())?;
        }
        let chosen = configuration.pricing.as_deref().unwrap_or(DEFAULT_ENTRY);
        Ok(Pricing::new(catalog, chosen)?)
    }

    /// Writes every exporter's file. Returns the paths written.
    pub fn write_artifacts(
        &self,
        report: &Report,
        exporters: &[Box<dyn Exporter>],
    ) -> Result<Vec<PathBuf>, ReportError> {
        self.create()?;
        let mut written = Vec::new();
        for exporter in exporters {
            let path = self.file(&exporter.file_name());
            write_atomically(&path, |out| exporter.export(report, out))?;
            written.push(path);
        }
        Ok(written)
    }
}

impl ResultsDir {
    /// The results directories of the configurations of a run of several
    /// `[[configurations]]` under this one, in name order; empty when there are none.
    pub fn configurations(&self) -> Result<Vec<ResultsDir>, ReportError> {
        let read_failed = |source| ReportError::Read {
            path: self.path.clone(),
            source,
        };
        let mut runs = Vec::new();
        for entry in fs::read_dir(&self.path).map_err(read_failed)? {
            let dir = ResultsDir::new(entry.map_err(read_failed)?.path());
            if dir.holds_a_run() {
                runs.push(dir);
            }
        }
        runs.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(runs)
    }

    /// Writes the page comparing the configurations of a run (`report.html` of the top
    /// directory), each named by its configuration.
    pub fn write_comparison(&self, runs: &[(String, Report)]) -> Result<PathBuf, ReportError> {
        let path = self.file(REPORT_HTML);
        write_atomically(&path, |out| {
            crate::export::render_comparison_html(runs, out)
        })?;
        Ok(path)
    }
}

/// Writes every exporter's file into `dir` (created if missing).
pub fn write_artifacts(
    dir: &Path,
    report: &Report,
    exporters: &[Box<dyn Exporter>],
) -> Result<Vec<PathBuf>, ReportError> {
    ResultsDir::new(dir).write_artifacts(report, exporters)
}

/// Microseconds from a `ms` column written with three decimals (`12.345`), exactly.
fn micros(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let fraction: u64 = format!("{fraction:0<3}").parse().ok()?;
    whole
        .parse::<u64>()
        .ok()?
        .checked_mul(1000)?
        .checked_add(fraction)
}

/// The rows of `intervals.csv` ([`loadgen::INTERVAL_CSV_COLUMNS`]).
fn read_intervals(path: &Path, text: &str) -> Result<Vec<IntervalRow>, ReportError> {
    let invalid = |line: usize, message: String| ReportError::Invalid {
        path: path.to_owned(),
        message: format!("line {line}: {message}"),
    };
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, l)| l).unwrap_or_default();
    let expected = loadgen::INTERVAL_CSV_COLUMNS.join(",");
    if header != expected {
        return Err(invalid(
            1,
            format!("the header is `{header}`, not `{expected}`"),
        ));
    }
    let mut rows = Vec::new();
    for (index, line) in lines {
        let line_number = index + 1;
        let fields: Vec<&str> = line.split(',').collect();
        let [second, throughput, ok, errors, cold, p50, p99, max] = fields[..] else {
            return Err(invalid(
                line_number,
                format!(
                    "{} fields, not {}",
                    fields.len(),
                    expected.split(',').count()
                ),
            ));
        };
        let count = |name: &str, value: &str| {
            value
                .parse::<u64>()
                .map_err(|_| invalid(line_number, format!("{name} `{value}` is not a count")))
        };
        let latency = |name: &str, value: &str| {
            if value.is_empty() {
                return Ok(None);
            }
            micros(value)
                .map(Some)
                .ok_or_else(|| invalid(line_number, format!("{name} `{value}` is not in ms")))
        };
        let (ok, errors) = (count("ok", ok)?, count("errors", errors)?);
        if Some(count("throughput_per_s", throughput)?) != ok.checked_add(errors) {
            return Err(invalid(
                line_number,
                format!("throughput_per_s `{throughput}` is not ok + errors"),
            ));
        }
        rows.push(IntervalRow {
            second: count("second", second)?,
            ok,
            errors,
            dropped: 0,
            cold_starts: count("cold_starts", cold)?,
            p50_us: latency("p50_ms", p50)?,
            p99_us: latency("p99_ms", p99)?,
            max_us: latency("max_ms", max)?,
        });
    }
    Ok(rows)
}

/// Adds the dropped invocations of each second, with rows for seconds that had only those.
fn with_dropped(rows: Vec<IntervalRow>, run: &RunResult) -> Vec<IntervalRow> {
    let mut by_second: std::collections::BTreeMap<u64, IntervalRow> =
        rows.into_iter().map(|row| (row.second, row)).collect();
    for (second, dropped) in run.recorder.dropped_by_second() {
        by_second
            .entry(*second)
            .or_insert(IntervalRow::empty(*second))
            .dropped = *dropped;
    }
    by_second.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn run_id_is_path_safe_and_sorts_by_time() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let id = run_id("my scenario/v2", t);
        assert_eq!(id, "my-scenario-v2-20261118T110640Z");
        let later = run_id("my scenario/v2", t + Duration::from_secs(1));
        assert!(later > id);
    }

    #[test]
    fn milliseconds_with_three_decimals_read_back_exactly() {
        assert_eq!(micros("12.345"), Some(12_345));
        assert_eq!(micros("0.001"), Some(1));
        assert_eq!(micros("7"), Some(7_000));
        assert_eq!(micros("1.5"), Some(1_500));
        assert_eq!(micros("1.2345"), None);
        assert_eq!(micros("-1.000"), None);
        assert_eq!(micros("18446744073709551615.000"), None);
    }

    #[test]
    fn a_broken_interval_csv_is_named_with_its_line() {
        let header = loadgen::INTERVAL_CSV_COLUMNS.join(",");
        let path = Path::new("results/x/intervals.csv");
        let rows = read_intervals(
            path,
            &format!("{header}\n0,3,3,0,1,1.000,2.500,3.000\n1,0,0,0,0,,,\n"),
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].p99_us, Some(2_500));
        assert_eq!(rows[1].p50_us, None);
        let err = read_intervals(
            path,
            &format!("{header}\n0,3,3,0,1,1.000,2.500,3.000\n1,x,0,0,0,,,\n"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("intervals.csv: line 3"), "{err}");
        let err = read_intervals(path, "second,ok\n").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    fn saved(report: &Report) -> SavedRun {
        SavedRun {
            run: report.run.clone(),
            platform: report.platform.clone(),
            machine: report.machine.clone(),
            configuration: report.configuration.clone(),
            scenario: Some("name = \"fixture\"\n".into()),
            pricing: None,
        }
    }

    #[test]
    fn a_saved_run_reads_back_to_the_same_figures_and_artifacts() {
        let fixture = crate::fixture::recorded_run();
        let dir = tempfile::tempdir().unwrap();
        let results = ResultsDir::new(dir.path().join("fixture"));
        results.save(&saved(&fixture)).unwrap();
        let loaded = results.load().unwrap();
        assert_eq!(loaded.summary, fixture.summary);
        assert_eq!(loaded.platform, fixture.platform);
        assert_eq!(loaded.machine, fixture.machine);
        assert_eq!(loaded.configuration, fixture.configuration);
        // Histograms come back bucket by bucket, not only their percentiles.
        let kind = loadgen::StartKind::Warm;
        let (before, after) = (
            fixture.run.recorder.latency(kind),
            loaded.run.recorder.latency(kind),
        );
        assert_eq!(before.len(), after.len());
        assert!(before.iter_recorded().eq(after.iter_recorded()));
        let cell = |report: &Report| {
            report.run.recorder.functions()[1]
                .cell(kind)
                .unwrap()
                .component(loadgen::LatencyComponent::Exec)
                .unwrap()
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect::<Vec<_>>()
        };
        assert_eq!(cell(&loaded), cell(&fixture));
        // Rendering twice from the saved files gives the same bytes.
        let exporters = crate::export::all(&loaded);
        let first = results.write_artifacts(&loaded, &exporters).unwrap();
        let bytes: Vec<Vec<u8>> = first.iter().map(|p| fs::read(p).unwrap()).collect();
        let again = results.load().unwrap();
        results
            .write_artifacts(&again, &crate::export::all(&again))
            .unwrap();
        for (path, before) in first.iter().zip(&bytes) {
            assert_eq!(&fs::read(path).unwrap(), before, "{}", path.display());
        }
        let leftovers: Vec<_> = fs::read_dir(results.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".partial"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_directory_without_a_run_or_with_a_broken_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = ResultsDir::new(dir.path()).load().unwrap_err().to_string();
        assert!(err.contains("run.json is missing"), "{err}");

        let fixture = crate::fixture::recorded_run();
        let results = ResultsDir::new(dir.path());
        results.save(&saved(&fixture)).unwrap();
        let run = results.file(RUN);
        let text = fs::read_to_string(&run).unwrap();
        // A histogram that is not one.
        let broken = text.replacen("\"latency\": [\n      \"", "\"latency\": [\n      \"!!", 1);
        assert_ne!(broken, text);
        fs::write(&run, broken).unwrap();
        let err = results.load().unwrap_err().to_string();
        assert!(
            err.contains("run.json") && err.contains("recorder.latency"),
            "{err}"
        );
    }
}
