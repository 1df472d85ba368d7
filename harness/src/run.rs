//! `faasbench run`: replay a scenario against the embedded reference runtime — once, or once
//! per runtime configuration the scenario lists, with a side-by-side comparison.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use bench_runtime::RuntimeConfig;
use loadgen::{LiveProgress, ReplayOptions, StopSignal, Target};
use reports::{PricingModel, Summary};
use scenarios::{RuntimeSettings, Scenario};

use crate::embedded::EmbeddedRuntime;
use crate::progress::{ProgressDisplay, Spinner};
use crate::runtime_settings::runtime_config;

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

/// One run: a name (for configurations) and the runtime it runs on.
struct Plan {
    name: Option<String>,
    settings: RuntimeSettings,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let spinner = Spinner::start(format!("loading {}", args.scenario.display()));
    let mut scenario = Scenario::load(&args.scenario)?;
    drop(spinner);
    if let Some(duration) = args.duration {
        scenario = scenario.with_duration(duration);
    }
    let settings = match &scenario.target {
        scenarios::Target::Embedded(settings) => settings.clone(),
        scenarios::Target::Url(url) => anyhow::bail!(
            "{}: [target] names the platform at {url}; `faasbench run` replays against the embedded runtime — remove [target] url to run there",
            scenario.source.display()
        ),
    };
    let plans: Vec<Plan> = if scenario.configurations.is_empty() {
        vec![Plan {
            name: None,
            settings,
        }]
    } else {
        scenario
            .configurations
            .iter()
            .map(|configuration| Plan {
                name: Some(configuration.name.clone()),
                settings: configuration.runtime.clone(),
            })
            .collect()
    };
    // Check every configuration before running any.
    let configs = plans
        .iter()
        .map(|plan| {
            let place = plan
                .name
                .as_ref()
                .map_or("target.runtime".to_owned(), |name| {
                    format!("configuration `{name}`")
                });
            runtime_config(&plan.settings, &scenario, &place)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;

    let run_id = args
        .run_id
        .clone()
        .unwrap_or_else(|| reports::run_id(&scenario.name, SystemTime::now()));
    let root = args.results_dir.join(&run_id);
    print_what_runs(&scenario);
    let mut summaries = Vec::new();
    for (plan, config) in plans.iter().zip(configs) {
        let dir = plan
            .name
            .as_ref()
            .map_or(root.clone(), |name| root.join(name));
        let summary = run_once(&scenario, config, &dir, &args, plan.name.as_deref())?;
        let partial = summary.partial;
        summaries.push((plan.name.clone().unwrap_or_default(), summary));
        if partial {
            break;
        }
    }
    if summaries.len() > 1 {
        print!("\n{}", reports::terminal::render_comparison(&summaries));
        println!("results      {}", root.display());
    }
    let interrupted = summaries.iter().any(|(_, summary)| summary.partial);
    Ok(if interrupted {
        ExitCode::from(INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_what_runs(scenario: &Scenario) {
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
}

/// Runs the scenario once on a fresh embedded runtime configured by `config`, writes its
/// results into `dir` and prints its summary.
fn run_once(
    scenario: &Scenario,
    config: RuntimeConfig,
    dir: &Path,
    args: &RunArgs,
    configuration: Option<&str>,
) -> anyhow::Result<Summary> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the results directory {}", dir.display()))?;
    let policy = config.keep_alive.to_string();
    let snapshots = if config.snapshots { "on" } else { "off" };
    let scenario_dir = scenario.source.parent().unwrap_or(Path::new("."));
    let platform =
        EmbeddedRuntime::start(&scenario.functions, scenario_dir, config).with_context(|| {
            format!(
                "cannot start the embedded runtime for {}",
                scenario.source.display()
            )
        })?;
    let target = Target::runtime_at(platform.addr());
    let options = ReplayOptions {
        request_timeout: args.timeout,
        invocation_log: args.invocations_csv.then(|| dir.join("invocations.csv")),
        ..ReplayOptions::default()
    };
    eprintln!(
        "running {}{} for {} against the embedded runtime at {} (keep-alive {policy}, snapshots {snapshots})",
        scenario.name,
        configuration.map_or(String::new(), |name| format!(" [{name}]")),
        humantime::format_duration(scenario.duration),
        platform.addr()
    );
    let outcome = replay(scenario, &target, &options);
    platform.shutdown();
    let result = outcome?;
    let run_id = dir.file_name().map_or_else(
        || scenario.name.clone(),
        |name| name.to_string_lossy().into_owned(),
    );
    let summary = Summary::from_run(&result, &run_id, &PricingModel::aws_lambda_x86());
    reports::write_artifacts(dir, &summary, &result, &reports::export::all())?;
    print!("{}", reports::terminal::render(&summary));
    println!("results      {}", dir.display());
    Ok(summary)
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
