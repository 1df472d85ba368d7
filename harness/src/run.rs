//! `faasbench run`: replay a scenario against the embedded reference runtime.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use bench_runtime::RuntimeConfig;
use loadgen::{LiveProgress, ReplayOptions, StopSignal, Target};
use reports::{PricingModel, Summary};
use scenarios::Scenario;

use crate::embedded::EmbeddedRuntime;
use crate::progress::ProgressDisplay;

/// Exit status of a run stopped by Ctrl-C, after its partial results were written.
const INTERRUPTED: u8 = 130;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario file (TOML), e.g. scenarios/catalog/quickstart.toml.
    pub scenario: PathBuf,
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
    /// Time allowed for each answer; later ones count as timeouts.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut scenario = Scenario::load(&args.scenario)?;
    if let Some(duration) = args.duration {
        scenario = scenario.with_duration(duration);
    }
    let run_id = args
        .run_id
        .clone()
        .unwrap_or_else(|| reports::run_id(&scenario.name, SystemTime::now()));
    let dir = args.results_dir.join(&run_id);
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the results directory {}", dir.display()))?;

    let scenario_dir = args.scenario.parent().unwrap_or(Path::new("."));
    let platform =
        EmbeddedRuntime::start(&scenario.functions, scenario_dir, RuntimeConfig::default())
            .with_context(|| {
                format!(
                    "cannot start the embedded runtime for {}",
                    args.scenario.display()
                )
            })?;
    let target = Target::runtime_at(platform.addr());
    let options = ReplayOptions {
        request_timeout: args.timeout,
        invocation_log: args.invocations_csv.then(|| dir.join("invocations.csv")),
        ..ReplayOptions::default()
    };

    eprintln!(
        "running {} for {} against the embedded runtime at {}",
        scenario.name,
        humantime::format_duration(scenario.duration),
        platform.addr()
    );
    let outcome = replay(&scenario, &target, &options);
    platform.shutdown();
    let result = outcome?;

    let summary = Summary::from_run(&result, &run_id, &PricingModel::aws_lambda_x86());
    reports::write_artifacts(&dir, &summary, &result, &reports::export::all())?;
    print!("{}", reports::terminal::render(&summary));
    println!("results      {}", dir.display());
    Ok(if summary.partial {
        ExitCode::from(INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Replays on the load generator's own threads; the first Ctrl-C stops sending and lets
/// in-flight invocations finish, a second one exits at once.
fn replay(
    scenario: &Scenario,
    target: &Target,
    options: &ReplayOptions,
) -> anyhow::Result<loadgen::RunResult> {
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
    let result = threads.block_on(loadgen::replay(
        scenario.schedule(),
        target,
        options,
        stop,
        progress,
    ));
    display.finish();
    Ok(result?)
}
