use std::io::{self, Write};

use super::Exporter;
use crate::report::Report;

/// `summary.json`: the [`crate::Summary`], pretty-printed.
pub struct Json;

impl Exporter for Json {
    fn file_name(&self) -> String {
        "summary.json".into()
    }

    fn export(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &report.summary)?;
        out.write_all(b"\n")
    }
}
