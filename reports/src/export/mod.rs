//! Exporters: one file format each, written into the run's results directory.
//!
//! Every exporter renders from a [`Report`] alone, the run as read back from its results
//! directory, so `faasbench report` rebuilds exactly what the run wrote.

mod csv;
mod hgrm;
mod json;
mod markdown;

use std::io::{self, Write};

use crate::report::Report;

pub use csv::{FUNCTION_COLUMNS, FunctionsCsv, TRIGGER_COLUMNS, TriggersCsv};
pub use hgrm::{Hgrm, write_distribution};
pub use json::Json;
pub use markdown::Markdown;

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
        Box::new(Markdown),
        Box::new(FunctionsCsv),
        Box::new(TriggersCsv),
    ];
    for hgrm in Hgrm::for_report(report) {
        exporters.push(Box::new(hgrm));
    }
    exporters
}
