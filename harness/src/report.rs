//! `faasbench report`: rebuild every artifact of a results directory from what the run saved.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use reports::{Report, ResultsDir};

use crate::progress::Spinner;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A run's results directory, e.g. results/quickstart-20261203T101500Z; for a run of
    /// several configurations, its top directory.
    pub results: PathBuf,
}

pub fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let top = ResultsDir::new(&args.results);
    if top.holds_a_run() {
        let report = rebuild(&top)?;
        print!("{}", reports::terminal::render(&report.summary));
        println!("report       {}", top.file(reports::REPORT_HTML).display());
        return Ok(ExitCode::SUCCESS);
    }
    let configurations = top
        .configurations()
        .with_context(|| format!("cannot read {}", top.path().display()))?;
    anyhow::ensure!(
        !configurations.is_empty(),
        "{} is not a results directory: it holds no {} and no configuration with one",
        top.path().display(),
        reports::RUN
    );
    let runs = compare(&top, &configurations)?;
    let summaries: Vec<_> = runs
        .into_iter()
        .map(|(name, report)| (name, report.summary))
        .collect();
    print!("\n{}", reports::terminal::render_comparison(&summaries));
    println!("report       {}", top.file(reports::REPORT_HTML).display());
    Ok(ExitCode::SUCCESS)
}

/// Rebuilds every artifact of one run's results directory.
fn rebuild(results: &ResultsDir) -> anyhow::Result<Report> {
    let spinner = Spinner::start(format!("rebuilding {}", results.path().display()));
    let report = results
        .load()
        .with_context(|| format!("cannot rebuild the report of {}", results.path().display()))?;
    let written = results.write_artifacts(&report, &reports::export::all(&report))?;
    drop(spinner);
    println!(
        "rebuilt      {} files in {}",
        written.len(),
        results.path().display()
    );
    Ok(report)
}

/// Rebuilds each configuration of a run and the page comparing them, in the top directory.
fn compare(
    top: &ResultsDir,
    configurations: &[ResultsDir],
) -> anyhow::Result<Vec<(String, Report)>> {
    let mut runs = Vec::new();
    for results in configurations {
        let report = rebuild(results)?;
        runs.push((name_of(results, &report), report));
    }
    top.write_comparison(&runs)?;
    Ok(runs)
}

/// Reads back each configuration's report, named by its configuration.
pub fn load_all(configurations: &[ResultsDir]) -> anyhow::Result<Vec<(String, Report)>> {
    configurations
        .iter()
        .map(|results| {
            let report = results.load()?;
            Ok((name_of(results, &report), report))
        })
        .collect()
}

fn name_of(results: &ResultsDir, report: &Report) -> String {
    report.configuration.name.clone().unwrap_or_else(|| {
        results
            .path()
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    })
}
