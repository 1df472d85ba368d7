//! Azure Functions 2021: one row per invocation, `app,func,end_timestamp,duration`, times in
//! seconds. The trace records when an invocation ended; it started `duration` before. `func` is
//! unique only within its `app`.

use std::path::Path;

use super::TraceError;
use super::TraceFormat;
use super::per_invocation::{InvocationLayout, Parsed, non_negative, require};
use super::rows::{Header, Row};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Azure2021 {
    app: usize,
    function: usize,
    end: usize,
    duration: usize,
}

impl InvocationLayout for Azure2021 {
    const FORMAT: TraceFormat = TraceFormat::Azure2021;

    fn of(header: &Header, path: &Path) -> Result<Self, TraceError> {
        Ok(Self {
            app: require(header, path, "app")?,
            function: require(header, path, "func")?,
            end: require(header, path, "end_timestamp")?,
            duration: require(header, path, "duration")?,
        })
    }

    fn parse<'a>(&self, row: &Row<'a>, header: &Header) -> Result<Parsed<'a>, TraceError> {
        let end_s = non_negative(row, header, self.end)?;
        let duration_s = non_negative(row, header, self.duration)?;
        Ok(Parsed {
            identity: [
                row.field(self.function, header)?,
                row.field(self.app, header)?,
            ],
            start_us: ((end_s - duration_s) * 1e6).round() as i64,
            duration_us: Some((duration_s * 1e6).round() as u64),
            memory_mb: None,
            trigger: None,
        })
    }
}
