//! One measured replay, whatever the platform: the load generator on its own threads, the
//! progress line, Ctrl-C, and the results written and printed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use loadgen::{LiveProgress, ReplayOptions, RunResult, StopSignal, Target};
use reports::{
    Catalog, Configuration, Machine, PlatformStats, Pricing, ResultsDir, SavedRun, Summary,
};
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
    /// Add price-list entries to the built-in catalog, or replace entries with the same id,
    /// from this TOML file (the layout of reports/pricing/catalog.toml).
    #[arg(long, value_name = "FILE")]
    pub pricing: Option<PathBuf>,
    /// The price-list entry costs are shown under first (the terminal also shows the
    /// cheapest; the summary and report show every entry).
    #[arg(long, value_name = "ID", default_value = reports::DEFAULT_ENTRY)]
    pub price: String,
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

    /// The text of the `--pricing` file, checked together with `--price` before anything
    /// runs.
    pub fn pricing_text(&self) -> anyhow::Result<Option<String>> {
        let mut catalog = Catalog::builtin();
        let text = match &self.pricing {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read --pricing {}", path.display()))?;
                catalog = catalog.with_overrides(&text, &path.display().to_string())?;
                Some(text)
            }
            None => None,
        };
        Pricing::new(catalog, &self.price).context("--price")?;
        Ok(text)
    }

    /// The command-line settings that change the scenario, as a report names them.
    pub fn overrides(&self) -> BTreeMap<String, String> {
        let duration = |d: Duration| humantime::format_duration(d).to_string();
        [
            ("--duration", self.duration.map(duration)),
            ("--timeout", self.timeout.map(duration)),
            ("--workers", self.workers.map(|w| w.to_string())),
            ("--realtime", self.realtime.then(|| "on".to_owned())),
            ("--cold-above", self.cold_above.map(duration)),
            ("--instance-header", self.instance_header.clone()),
        ]
        .into_iter()
        .filter_map(|(flag, value)| Some((flag.to_owned(), value?)))
        .collect()
    }

    /// Replay options for a run of `scenario` writing into `results`.
    pub fn options(&self, scenario: &Scenario, results: &ResultsDir) -> ReplayOptions {
        let defaults = ReplayOptions::default();
        ReplayOptions {
            workers: self.workers.unwrap_or(defaults.workers).max(1),
            load: scenario.load.clone(),
            request: scenario.request.clone(),
            start_inference: scenario.start_kind.clone(),
            invocation_log: self
                .invocations_csv
                .then(|| results.streaming_invocations_csv()),
            interval_hlog: Some(results.streaming_intervals_hlog()),
            interval_csv: Some(results.streaming_intervals_csv()),
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

/// What a measured run saves besides its measurements.
pub struct RunContext<'a> {
    /// How the run is configured.
    pub configuration: Configuration,
    /// The platform's own figures at the end of the run, where it reports them.
    pub platform_stats: &'a dyn Fn() -> Option<PlatformStats>,
    /// The price-list entries added to the catalog ([`MeasureArgs::pricing_text`]).
    pub pricing: Option<String>,
}

/// The configuration of a run of `scenario` named `run_id`, as its report shows it.
pub fn configuration(
    scenario: &Scenario,
    run_id: &str,
    args: &MeasureArgs,
    platform: BTreeMap<String, String>,
) -> Configuration {
    Configuration {
        run_id: run_id.to_owned(),
        scenario_file: Some(scenario.source.display().to_string()),
        name: None,
        seed: Some(scenario.seed),
        platform,
        overrides: args.overrides(),
        pricing: Some(args.price.clone()),
    }
}

/// Replays `scenario` against `target`, saves the results into `results` (created if
/// missing), renders every artifact from what was saved, and prints the summary. Results are
/// written also when the run was stopped early.
pub fn measure(
    scenario: &Scenario,
    target: &Target,
    options: &ReplayOptions,
    results: &ResultsDir,
    context: RunContext<'_>,
) -> anyhow::Result<Summary> {
    results.create()?;
    let scenario_text = std::fs::read_to_string(&scenario.source).ok();
    let result = replay(scenario, target, options)?;
    let schedule_failure = result.schedule_failure.clone();
    let saved = SavedRun {
        run: result,
        platform: (context.platform_stats)(),
        machine: Machine::detect(),
        configuration: context.configuration,
        scenario: scenario_text,
        pricing: context.pricing,
    };
    results.save(&saved)?;
    drop(saved);
    let report = results.load()?;
    results.write_artifacts(&report, &reports::export::all(&report))?;
    print!("{}", reports::terminal::render(&report.summary));
    println!("results      {}", results.path().display());
    if let Some(failure) = &schedule_failure {
        anyhow::bail!(
            "the run stopped early: {failure}; the partial results are in {}",
            results.path().display()
        );
    }
    Ok(report.summary)
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
