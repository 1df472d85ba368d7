//! `faasbench report`: rebuild every artifact of a results directory from what the run saved.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use reports::ResultsDir;

use crate::progress::Spinner;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A run's results directory, e.g. results/quickstart-20261203T101500Z; for a run of
    /// several configurations, its top directory.
    pub results: PathBuf,
}

pub fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let top = ResultsDir::new(&args.results);
    let runs = if top.holds_a_run() {
        vec![top.clone()]
    } else {
        configurations(&top)?
    };
    let mut summaries = Vec::new();
    for results in &runs {
        let spinner = Spinner::start(format!("reading {}", results.path().display()));
        let report = results.load().with_context(|| {
            format!("cannot rebuild the report of {}", results.path().display())
        })?;
        let written = results.write_artifacts(&report, &reports::export::all(&report))?;
        drop(spinner);
        if runs.len() == 1 {
            print!("{}", reports::terminal::render(&report.summary));
        }
        println!(
            "rebuilt      {} files in {}",
            written.len(),
            results.path().display()
        );
        let name = report.configuration.name.clone().unwrap_or_default();
        summaries.push((name, report.summary));
    }
    if summaries.len() > 1 {
        print!("\n{}", reports::terminal::render_comparison(&summaries));
    }
    Ok(ExitCode::SUCCESS)
}

/// The results directories of the configurations of a run, in name order.
fn configurations(top: &ResultsDir) -> anyhow::Result<Vec<ResultsDir>> {
    let entries = std::fs::read_dir(top.path())
        .with_context(|| format!("cannot read {}", top.path().display()))?;
    let mut runs = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", top.path().display()))?;
        let dir = ResultsDir::new(entry.path());
        if dir.holds_a_run() {
            runs.push(dir);
        }
    }
    runs.sort_by(|a, b| a.path().cmp(b.path()));
    anyhow::ensure!(
        !runs.is_empty(),
        "{} is not a results directory: it holds no {} and no configuration with one",
        top.path().display(),
        reports::RUN
    );
    Ok(runs)
}
