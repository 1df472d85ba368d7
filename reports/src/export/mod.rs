//! Exporters: one file format each, written into the run's results directory.

mod json;

use std::io::{self, Write};

use loadgen::RunResult;

use crate::Summary;

pub use json::Json;

/// Writes one artifact of a run.
pub trait Exporter {
    /// Name of the file within the results directory.
    fn file_name(&self) -> &'static str;

    /// Writes the artifact.
    fn export(&self, summary: &Summary, result: &RunResult, out: &mut dyn Write) -> io::Result<()>;
}

/// Every exporter, in the order files are written.
pub fn all() -> Vec<Box<dyn Exporter>> {
    vec![Box::new(Json)]
}
