//! One measured replay, whatever the platform: the load generator on its own threads, the
//! progress line, Ctrl-C, and the results written and printed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use loadgen::{LiveProgress, ReplayOptions, RunResult, StopSignal, Target};
use reports::{Catalog, Pricing, Summary};
use scenarios::{Scenario, StartInference};

use crate::progress::ProgressDisplay;

/// Exit status of a run stopped by Ctrl-C, after its partial results were written.
pub const INTERRUPTED: u8 = 130;

/// Options of a measured run, shared by `faasbench run` and `faasbench replay`.
#[derive(Debug, clap::Args)]
pub struct MeasureArgs {
    /// Run for this long instead of the scenario's duration (e.g. 10s, 2m).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Directory that receives results/<run-id>/.
    #[arg(long, default_value = "results")]
    pub results_dir: PathBuf,
    /// Name of this run's results directory [default: <scenario>-<UTC time>].
    #[arg(long)]
    pub run_id: Option<String>,
    /// Also write invocations.csv, one row per invocation.
    #[arg(long)]
    pub invocations_csv: bool,
    /// Time allowed for each answer, instead of the scenario's [request] timeout.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub timeout: Option<Duration>,
    /// Threads sending requests, each with its own event loop [default: the number of CPUs].
    #[arg(long)]
    pub workers: Option<usize>,
    /// Run the pacer with real-time priority (SCHED_FIFO) where permitted; steadier pacing
    /// when the machine is fully loaded.
    #[arg(long)]
    pub realtime: bool,
    /// Infer cold starts the platform does not report: an answer taking at least this long
    /// (e.g. 200ms) was a cold start. Overrides the scenario's [start_kind].
    #[arg(long, value_parser = humantime::parse_duration, conflicts_with = "instance_header")]
    pub cold_above: Option<Duration>,
    /// Infer cold starts the platform does not report: this response header names the
    /// instance, and its first answer was a cold start. Overrides the scenario's [start_kind].
    #[arg(long)]
    pub instance_header: Option<String>,
}

impl MeasureArgs {
    /// The scenario as this run replays it.
    pub fn apply(&self, mut scenario: Scenario) -> anyhow::Result<Scenario> {
        if let Some(duration) = self.duration {
            scenario = scenario.with_duration(duration).context("--duration")?;
        }
        if let Some(timeout) = self.timeout {
            scenarios::check_wait(timeout)
                .map_err(|message| anyhow::anyhow!("--timeout {message}"))?;
            scenario.request.timeout = timeout;
        }
        if let Some(cold_above) = self.cold_above {
            anyhow::ensure!(
                !cold_above.is_zero(),
                "--cold-above must be longer than zero"
            );
            scenario.start_kind = Some(StartInference::Latency { cold_above });
        }
        if let Some(header) = &self.instance_header {
            scenario.start_kind = Some(StartInference::InstanceHeader {
                header: header.clone(),
            });
        }
        Ok(scenario)
    }

    /// Replay options for a run of `scenario` writing into `dir`.
    pub fn options(&self, scenario: &Scenario, dir: &Path) -> ReplayOptions {
        let defaults = ReplayOptions::default();
        ReplayOptions {
            workers: self.workers.unwrap_or(defaults.workers).max(1),
            load: scenario.load.clone(),
            request: scenario.request.clone(),
            start_inference: scenario.start_kind.clone(),
            invocation_log: self.invocations_csv.then(|| dir.join("invocations.csv")),
            interval_dir: Some(dir.to_owned()),
            realtime: self.realtime,
            ..defaults
        }
    }
}

/// Says which part of which trace is replayed, and how closely a sample follows it.
pub fn print_what_runs(scenario: &Scenario) {
    if let Some(trace) = &scenario.trace {
        let index = trace.reader.index();
        let slice_end = trace.spec.minutes.map_or(index.minutes(), |m| {
            (trace.spec.start_minute + m).min(index.minutes())
        });
        // A shorter duration replays fewer trace minutes.
        let replayed =
            (scenario.duration.as_secs_f64() * scenario.time_compression / 60.0).ceil() as u32;
        let end = slice_end.min(trace.spec.start_minute.saturating_add(replayed));
        let mut line = format!(
            "replaying {} of {} functions of the {} trace, minutes {}–{}, {}× faster",
            scenario.functions.len(),
            index.functions.len(),
            index.format,
            trace.spec.start_minute,
            end,
            scenario.time_compression
        );
        if let (Some(sample), Some(distance)) = (trace.spec.sample, &trace.distance) {
            line.push_str(&format!(
                "; {} sample, Wasserstein distance {:.4} (invocations) {}",
                sample.method,
                distance.invocations,
                distance
                    .durations
                    .map_or(String::new(), |d| format!("{d:.4} (durations)"))
            ));
        }
        eprintln!("{line}");
    }
    if let Some(warning) = scenario
        .peak_rate()
        .and_then(|peak| loadgen::capacity::warning(peak, loadgen::capacity::load()))
    {
        eprintln!("warning: {warning}");
    }
}

/// Replays `scenario` against `target`, writes the results into `dir` (created if missing)
/// and prints the summary. Results are written also when the run was stopped early.
pub fn measure(
    scenario: &Scenario,
    target: &Target,
    options: &ReplayOptions,
    dir: &Path,
) -> anyhow::Result<Summary> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the results directory {}", dir.display()))?;
    let result = replay(scenario, target, options)?;
    let run_id = dir.file_name().map_or_else(
        || scenario.name.clone(),
        |name| name.to_string_lossy().into_owned(),
    );
    let pricing = Pricing::new(Catalog::builtin(), reports::DEFAULT_ENTRY)?;
    let summary = Summary::from_run(&result, &run_id, &pricing);
    let report = reports::Report {
        summary: summary.clone(),
        run: result,
        intervals: Vec::new(),
        platform: None,
        machine: reports::Machine::detect(),
        configuration: reports::Configuration::default(),
    };
    reports::write_artifacts(dir, &report, &reports::export::all(&report))?;
    let result = report.run;
    print!("{}", reports::terminal::render(&summary));
    println!("results      {}", dir.display());
    if let Some(failure) = &result.schedule_failure {
        anyhow::bail!(
            "the run stopped early: {failure}; the partial results are in {}",
            dir.display()
        );
    }
    Ok(summary)
}

/// Replays on the load generator's own threads; the first Ctrl-C stops sending and lets
/// in-flight invocations finish, a second one exits at once.
fn replay(
    scenario: &Scenario,
    target: &Target,
    options: &ReplayOptions,
) -> anyhow::Result<RunResult> {
    let threads = tokio::runtime::Builder::new_multi_thread()
        .thread_name("faasbench-loadgen")
        .enable_all()
        .build()
        .context("cannot start the load generator's threads")?;
    let stop = StopSignal::new();
    let progress = Arc::new(LiveProgress::default());
    threads.spawn({
        let stop = stop.clone();
        let progress = progress.clone();
        async move {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            stop.stop();
            eprintln!(
                "\nstopping: waiting for {} in-flight invocations, then writing partial results (Ctrl-C again to quit now)",
                progress.snapshot().in_flight()
            );
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(i32::from(INTERRUPTED));
            }
        }
    });
    let display = ProgressDisplay::start(progress.clone(), scenario.duration);
    let replayed = scenario.clone();
    let result = threads.block_on(loadgen::replay(
        Box::new(move || replayed.schedule()),
        target,
        options,
        stop,
        progress,
    ));
    display.finish();
    Ok(result?)
}
