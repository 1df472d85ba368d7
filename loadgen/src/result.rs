//! What a replay hands on to the reports.

use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use scenarios::{LoadSpec, RequestSpec, StartInference, Trigger};
use serde::{Deserialize, Serialize};

use crate::recorder::Recorder;

/// How precisely the pacer kept to the schedule (open loop only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pacing {
    /// How late each invocation was handed to a worker, µs: the pacer's own error.
    #[serde(with = "crate::saved::histogram")]
    pub dispatch_lag: Histogram<u64>,
    /// CPU time the pacer thread used, where the platform tells.
    pub cpu: Option<Duration>,
    /// How long the pacer thread ran.
    pub wall: Duration,
    /// True when it ran with real-time priority.
    pub realtime: bool,
}

impl Pacing {
    /// The pacer's CPU use as a share of one core.
    pub fn cpu_share(&self) -> Option<f64> {
        let wall = self.wall.as_secs_f64();
        self.cpu
            .filter(|_| wall > 0.0)
            .map(|cpu| cpu.as_secs_f64() / wall)
    }
}

/// The connections the load generator opened to the platform.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connections {
    /// Opened over the whole run.
    pub opened: u64,
    /// Open at once, at most (the sum of each worker's peak).
    pub peak: usize,
}

/// Everything a run measured, with the facts needed to read it. It serialises completely
/// (histograms bucket by bucket), so every report can be rebuilt from a saved copy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    /// The scenario's name.
    pub scenario: String,
    /// The target's URL template.
    pub target: String,
    /// Function names, indexed by [`scenarios::FunctionId`].
    pub functions: Vec<String>,
    /// The trace's own name of each function taken from a trace, indexed likewise.
    pub trace_ids: Vec<Option<String>>,
    /// What triggers each function, indexed likewise.
    pub triggers: Vec<Trigger>,
    /// Wall-clock time of the schedule's time zero.
    pub started_at: SystemTime,
    /// The schedule's duration.
    pub planned: Duration,
    /// From time zero until the last answer arrived.
    pub elapsed: Duration,
    /// The part of the schedule actually replayed: its duration, or less when the run was
    /// stopped or its schedule failed. Rates are over this time.
    pub replayed: Duration,
    /// Open or closed loop, with its settings.
    pub load: LoadSpec,
    /// How requests were made.
    pub request: RequestSpec,
    /// How start kinds the platform did not report were inferred, if they were.
    pub start_inference: Option<StartInference>,
    /// Invocations never sent because the run was stopped first.
    pub not_sent: u64,
    pub connections: Connections,
    /// True when the run ended before the end of its schedule: stopped, or its trace failed.
    pub stopped_early: bool,
    /// Why the schedule could not be read to its end (a trace that changed or broke while
    /// the run read it); the run stopped there.
    pub schedule_failure: Option<String>,
    pub recorder: Recorder,
    /// The pacer's accuracy and cost (open loop).
    pub pacing: Option<Pacing>,
    /// Problems that did not stop the run (e.g. the invocation log could not be written).
    pub warnings: Vec<String>,
}

impl RunResult {
    /// Every invocation the run accounted for: ok, errors, dropped and not sent. In open loop
    /// this is the schedule's length (or, when the schedule failed, the part read).
    pub fn scheduled(&self) -> u64 {
        self.recorder.finished() + self.not_sent
    }

    /// Invocations sent.
    pub fn sent(&self) -> u64 {
        self.recorder.ok() + self.recorder.error_count()
    }

    /// Invocations sent later than the open loop's `late_after`.
    pub fn late(&self) -> u64 {
        match self.load {
            LoadSpec::Open { late_after, .. } => self
                .recorder
                .late(u64::try_from(late_after.as_micros()).unwrap_or(u64::MAX)),
            _ => 0,
        }
    }

    /// Open loop: whether the requested rate was held, i.e. dropped and late invocations
    /// stayed within the tolerated share of those due. `None` in a closed loop.
    pub fn rate_held(&self) -> Option<bool> {
        let LoadSpec::Open { rate_tolerance, .. } = self.load else {
            return None;
        };
        let due = self.scheduled() - self.not_sent;
        if due == 0 {
            return Some(true);
        }
        let behind = self.recorder.dropped() + self.late();
        Some(behind as f64 <= rate_tolerance * due as f64)
    }
}
