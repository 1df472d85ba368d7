//! The generic layout: one row per invocation, `timestamp_ms,function`, optionally
//! `duration_ms`, `memory_mb` and `trigger`, in any column order. For traces exported from
//! other platforms or written by hand.

use std::path::Path;

use super::TraceError;
use super::TraceFormat;
use super::per_invocation::{InvocationLayout, Parsed, non_negative, require};
use super::rows::{Header, Row};
use crate::Trigger;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Generic {
    timestamp: usize,
    function: usize,
    duration: Option<usize>,
    memory: Option<usize>,
    trigger: Option<usize>,
}

impl InvocationLayout for Generic {
    const FORMAT: TraceFormat = TraceFormat::Generic;

    fn of(header: &Header, path: &Path) -> Result<Self, TraceError> {
        Ok(Self {
            timestamp: require(header, path, "timestamp_ms")?,
            function: require(header, path, "function")?,
            duration: header.position("duration_ms"),
            memory: header.position("memory_mb"),
            trigger: header.position("trigger"),
        })
    }

    fn parse<'a>(&self, row: &Row<'a>, header: &Header) -> Result<Parsed<'a>, TraceError> {
        Ok(Parsed {
            identity: [row.field(self.function, header)?, ""],
            start_us: (non_negative(row, header, self.timestamp)? * 1e3).round() as i64,
            duration_us: self
                .duration
                .map(|index| non_negative(row, header, index).map(|ms| (ms * 1e3).round() as u64))
                .transpose()?,
            memory_mb: self
                .memory
                .map(|index| non_negative(row, header, index))
                .transpose()?,
            trigger: self
                .trigger
                .map(|index| {
                    row.field(index, header)?
                        .parse::<Trigger>()
                        .map_err(|message| row.error(index, header, message))
                })
                .transpose()?,
        })
    }
}
