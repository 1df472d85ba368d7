//! Exporters: one file format each, written into the run's results directory.
//!
//! Every exporter renders from a [`Report`] alone, the run as read back from its results
//! directory, so `faasbench report` rebuilds exactly what the run wrote.

mod comparison;
mod csv;
mod hgrm;
mod html;
mod json;
mod markdown;
mod svg;

use std::io::{self, Write};

use crate::plot::Plot;
use crate::report::Report;

pub use comparison::render_comparison_html;
pub use csv::{FUNCTION_COLUMNS, FunctionsCsv, TRIGGER_COLUMNS, TriggersCsv};
pub use hgrm::{Hgrm, write_distribution};
pub use html::Html;
pub use json::Json;
pub use markdown::Markdown;
pub use svg::Svg;

/// Writes one artifact of a run.
pub trait Exporter {
    /// Path of the file within the results directory, e.g. `report.md` or
    /// `plots/latency-over-time.svg`.
    fn file_name(&self) -> String;

    /// Writes the artifact.
    fn export(&self, report: &Report, out: &mut dyn Write) -> io::Result<()>;
}

/// Every exporter for `report`, in the order files are written.
pub fn all(report: &Report) -> Vec<Box<dyn Exporter>> {
    let mut exporters: Vec<Box<dyn Exporter>> = vec![
        Box::new(Json),
        Box::new(Html),
        Box::new(Markdown),
        Box::new(FunctionsCsv),
        Box::new(TriggersCsv),
    ];
    for hgrm in Hgrm::for_report(report) {
        exporters.push(Box::new(hgrm));
    }
    exporters.extend(
        Plot::ALL
            .into_iter()
            .map(|plot| Box::new(Svg(plot)) as Box<dyn Exporter>),
    );
    exporters
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::recorded_run;

    #[test]
    fn the_page_and_every_plot_are_exported() {
        let names: Vec<String> = all(&recorded_run())
            .iter()
            .map(|exporter| exporter.file_name())
            .collect();
        assert_eq!(
            names,
            [
                "summary.json",
                "report.html",
                "report.md",
                "functions.csv",
                "triggers.csv",
                "latency.hgrm",
                "latency-cold.hgrm",
                "latency-snapshot.hgrm",
                "latency-warm.hgrm",
                "plots/latency-over-time.svg",
                "plots/percentile-spectrum.svg",
                "plots/throughput.svg",
                "plots/composition.svg",
                "plots/cold-starts-by-function.svg",
                "plots/cost-by-function.svg",
            ]
        );
    }

    #[test]
    fn artifacts_land_in_the_results_directory() {
        let report = recorded_run();
        let dir = tempfile::tempdir().unwrap();
        crate::write_artifacts(dir.path(), &report, &all(&report)).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("plots/throughput.svg")).unwrap();
        assert!(svg.starts_with("<svg"));
        let page = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
        assert!(
            page.contains(svg.trim_end()),
            "the page inlines the plot file"
        );
    }
}
