//! What a replay hands on to the reports.

use std::time::{Duration, SystemTime};

use crate::recorder::Recorder;

/// Everything a run measured, with the facts needed to read it.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The scenario's name.
    pub scenario: String,
    /// The target's URL template.
    pub target: String,
    /// Function names, indexed by [`scenarios::FunctionId`].
    pub functions: Vec<String>,
    /// Wall-clock time of the schedule's time zero.
    pub started_at: SystemTime,
    /// The schedule's duration.
    pub planned: Duration,
    /// From time zero until the last answer arrived.
    pub elapsed: Duration,
    /// Invocations sent.
    pub dispatched: u64,
    /// Invocations never sent because the run was stopped first.
    pub not_sent: u64,
    /// True when the run was stopped before the end of its schedule.
    pub stopped_early: bool,
    pub recorder: Recorder,
    /// Problems that did not stop the run (e.g. the invocation log could not be written).
    pub warnings: Vec<String>,
}

impl RunResult {
    /// Length of the schedule: every invocation in it ended as ok, error or not sent.
    pub fn scheduled(&self) -> u64 {
        self.dispatched + self.not_sent
    }
}
