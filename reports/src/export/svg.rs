use std::io::{self, Write};

use super::Exporter;
use crate::plot::Plot;
use crate::report::Report;

/// `plots/<name>.svg`: one [`Plot`] of the run.
pub struct Svg(pub Plot);

impl Exporter for Svg {
    fn file_name(&self) -> String {
        self.0.file_name()
    }

    fn export(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let figure = self.0.render(&[("", report)])?;
        out.write_all(figure.svg.as_bytes())
    }
}
