use std::io::{self, Write};

use loadgen::RunResult;

use super::Exporter;
use crate::Summary;

/// `summary.json`: the [`Summary`], pretty-printed.
pub struct Json;

impl Exporter for Json {
    fn file_name(&self) -> &'static str {
        "summary.json"
    }

    fn export(
        &self,
        summary: &Summary,
        _result: &RunResult,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, summary)?;
        out.write_all(b"\n")
    }
}
