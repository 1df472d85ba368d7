//! `faasbench run`: replay a scenario against the embedded reference runtime — once, or once
//! per runtime configuration the scenario lists, with a side-by-side comparison.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;
use bench_runtime::RuntimeConfig;
use loadgen::Target;
use reports::{ResultsDir, Summary};
use scenarios::{RuntimeSettings, Scenario};

use crate::embedded::EmbeddedRuntime;
use crate::measure::{INTERRUPTED, MeasureArgs, RunContext, measure, print_what_runs};
use crate::progress::Spinner;
use crate::runtime_settings::runtime_config;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario file (TOML), e.g. scenarios/catalog/quickstart.toml.
    pub scenario: PathBuf,
    #[command(flatten)]
    pub measure: MeasureArgs,
}

/// One run: a name (for configurations) and the runtime it runs on.
struct Plan {
    name: Option<String>,
    settings: RuntimeSettings,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let spinner = Spinner::start(format!("loading {}", args.scenario.display()));
    let scenario = args.measure.apply(Scenario::load(&args.scenario)?)?;
    drop(spinner);
    let pricing = args.measure.pricing_text()?;
    let settings = match &scenario.target {
        scenarios::Target::Embedded(settings) => settings.clone(),
        scenarios::Target::Url(url) => anyhow::bail!(
            "{}: [target] names the platform at {url}; replay against it with `faasbench replay {}`, or remove [target] url to run on the embedded runtime",
            scenario.source.display(),
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
        .measure
        .run_id
        .clone()
        .unwrap_or_else(|| reports::run_id(&scenario.name, SystemTime::now()));
    let root = args.measure.results_dir.join(&run_id);
    print_what_runs(&scenario);
    let mut summaries = Vec::new();
    for (plan, config) in plans.iter().zip(configs) {
        let dir = plan
            .name
            .as_ref()
            .map_or(root.clone(), |name| root.join(name));
        let summary = run_once(
            &scenario,
            config,
            &dir,
            &args,
            plan.name.as_deref(),
            pricing.clone(),
        )?;
        let partial = summary.partial;
        summaries.push((plan.name.clone().unwrap_or_default(), summary));
        if partial {
            break;
        }
    }
    if summaries.len() > 1 {
        let top = ResultsDir::new(&root);
        let configurations = top.configurations()?;
        let spinner = Spinner::start("writing the comparison of the configurations");
        let page = top.write_comparison(&crate::report::load_all(&configurations)?)?;
        drop(spinner);
        print!("\n{}", reports::terminal::render_comparison(&summaries));
        println!("report       {}", page.display());
    }
    let interrupted = summaries.iter().any(|(_, summary)| summary.partial);
    Ok(if interrupted {
        ExitCode::from(INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs the scenario once on a fresh embedded runtime configured by `config`, writes its
/// results into `dir` and prints its summary.
fn run_once(
    scenario: &Scenario,
    config: RuntimeConfig,
    dir: &Path,
    args: &RunArgs,
    configuration_name: Option<&str>,
    pricing: Option<String>,
) -> anyhow::Result<Summary> {
    let policy = config.keep_alive.to_string();
    let snapshots = if config.snapshots { "on" } else { "off" };
    let settings: BTreeMap<String, String> = [
        ("keep_alive", policy.clone()),
        ("snapshots", snapshots.to_owned()),
        ("capacity_mb", config.capacity_mb.to_string()),
        ("instance_slots", config.instance_slots.to_string()),
        ("time_scale", config.time_scale.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let scenario_dir = scenario.source.parent().unwrap_or(Path::new("."));
    let platform =
        EmbeddedRuntime::start(&scenario.functions, scenario_dir, config).with_context(|| {
            format!(
                "cannot start the embedded runtime for {}",
                scenario.source.display()
            )
        })?;
    let target = Target::runtime_at(platform.addr());
    eprintln!(
        "running {}{} for {} against the embedded runtime at {} (keep-alive {policy}, snapshots {snapshots})",
        scenario.name,
        configuration_name.map_or(String::new(), |name| format!(" [{name}]")),
        humantime::format_duration(scenario.duration),
        platform.addr()
    );
    let results = ResultsDir::new(dir);
    let options = args.measure.options(scenario, &results);
    let run_id = dir.file_name().map_or_else(
        || scenario.name.clone(),
        |name| name.to_string_lossy().into_owned(),
    );
    let mut configuration =
        crate::measure::configuration(scenario, &run_id, &args.measure, settings);
    configuration.name = configuration_name.map(str::to_owned);
    let stats = || Some(platform.platform_stats());
    let summary = measure(
        scenario,
        &target,
        &options,
        &results,
        RunContext {
            configuration,
            platform_stats: &stats,
            pricing,
        },
    );
    platform.shutdown();
    summary
}
