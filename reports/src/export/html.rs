use std::io::{self, Write};

use super::Exporter;
use crate::report::Report;

/// `report.html`.
pub struct Html;

impl Exporter for Html {
    fn file_name(&self) -> String {
        "report.html".into()
    }

    fn export(&self, _report: &Report, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

pub fn render_comparison_html(_runs: &[(String, Report)], _out: &mut dyn Write) -> io::Result<()> {
    Ok(())
}
