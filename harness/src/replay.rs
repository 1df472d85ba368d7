//! `faasbench replay`: replay a scenario against any platform reached over HTTP.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;
use loadgen::Target;
use scenarios::Scenario;

use crate::measure::{
    INTERRUPTED, MeasureArgs, RunContext, configuration, measure, print_what_runs,
};
use crate::progress::Spinner;

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// URL template of the platform, with `{function}` where the function name goes, e.g.
    /// http://127.0.0.1:8080/function/{function} [default: the scenario's [target] url].
    #[arg(long)]
    pub target: Option<String>,
    #[command(flatten)]
    pub measure: MeasureArgs,
}

pub fn replay(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let spinner = Spinner::start(format!("loading {}", args.scenario.display()));
    let scenario = args.measure.apply(Scenario::load(&args.scenario)?)?;
    drop(spinner);
    let pricing = args.measure.pricing_text()?;
    let template = match (&args.target, &scenario.target) {
        (Some(url), _) => url.clone(),
        (None, scenarios::Target::Url(url)) => url.clone(),
        (None, scenarios::Target::Embedded(_)) => anyhow::bail!(
            "{}: no platform to replay against: give --target http://host:port/path/{{function}} or [target] url in the scenario (`faasbench run` uses the embedded runtime)",
            scenario.source.display()
        ),
    };
    let target = Target::new(template).context("--target")?;
    target
        .check_functions(scenario.functions.len())
        .context("--target")?;
    if !scenario.configurations.is_empty() {
        eprintln!(
            "note: the scenario's runtime configurations apply to the embedded runtime; replaying once against {}",
            target.template()
        );
    }
    let run_id = args
        .measure
        .run_id
        .clone()
        .unwrap_or_else(|| reports::run_id(&scenario.name, SystemTime::now()));
    let dir = args.measure.results_dir.join(&run_id);
    print_what_runs(&scenario);
    eprintln!(
        "replaying {} for {} against {}",
        scenario.name,
        humantime::format_duration(scenario.duration),
        target.template()
    );
    let results = reports::ResultsDir::new(&dir);
    let options = args.measure.options(&scenario, &results);
    let platform = [("target".to_owned(), target.template().to_owned())].into();
    let configuration = configuration(&scenario, &run_id, &args.measure, platform);
    // Another platform's own figures are not known here.
    let unknown = || None;
    let summary = measure(
        &scenario,
        &target,
        &options,
        &results,
        RunContext {
            configuration,
            platform_stats: &unknown,
            pricing,
        },
    )?;
    Ok(if summary.partial {
        ExitCode::from(INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
}
