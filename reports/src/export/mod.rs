//! Exporters: one file format each, written into the run's results directory.
//!
//! Every exporter renders from a [`Report`] alone, the run as read back from its results
//! directory, so `faasbench report` rebuilds exactly what the run wrote.

mod html;
mod json;
mod svg;

use std::io::{self, Write};

use crate::plot::Plot;
use crate::report::Report;

pub use html::{Html, render_comparison_html};
pub use json::Json;
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
pub fn all(_report: &Report) -> Vec<Box<dyn Exporter>> {
    let mut exporters: Vec<Box<dyn Exporter>> = vec![Box::new(Json), Box::new(Html)];
    exporters.extend(
        Plot::ALL
            .into_iter()
            .map(|plot| Box::new(Svg(plot)) as Box<dyn Exporter>),
    );
    exporters
}
