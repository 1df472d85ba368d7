use std::time::Duration;

use crate::trace::TraceError;
use crate::{FunctionProfile, Trigger};

/// Index of a function in its schedule's [`Schedule::functions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FunctionId(pub u32);

impl FunctionId {
    /// The position of this function in [`Schedule::functions`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One scheduled call of a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invocation {
    /// When it is due, in microseconds from the start of the run.
    pub at_us: u64,
    /// Which function it calls.
    pub function: FunctionId,
    /// What triggered it.
    pub trigger: Trigger,
    /// How long it should run, for invocations replayed from a trace, µs.
    pub duration_us: Option<u32>,
    /// Memory it uses, MB: drawn from the trace's memory distribution, or the function's size.
    pub memory_mb: u32,
}

/// A schedule could not be produced to the end: its trace could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the schedule of `{scenario}` stopped: {source}")]
pub struct ScheduleError {
    pub scenario: String,
    #[source]
    pub source: TraceError,
}

/// The invocations of a schedule, in time order.
pub(crate) type InvocationStream =
    Box<dyn Iterator<Item = Result<Invocation, ScheduleError>> + Send>;

/// The invocations a run replays, in time order, produced lazily.
///
/// Iterating yields each [`Invocation`] once; the same scenario and seed always yield the same
/// sequence. A schedule replayed from a trace reads the trace as it goes; if that fails, the
/// error is the last item.
pub struct Schedule {
    name: String,
    duration: Duration,
    functions: Vec<FunctionProfile>,
    invocations: InvocationStream,
}

impl Schedule {
    pub(crate) fn new(
        name: String,
        duration: Duration,
        functions: Vec<FunctionProfile>,
        invocations: InvocationStream,
    ) -> Self {
        Self {
            name,
            duration,
            functions,
            invocations,
        }
    }

    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How long the schedule lasts: every invocation is due before this.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// The functions invocations refer to, indexed by [`FunctionId`].
    pub fn functions(&self) -> &[FunctionProfile] {
        &self.functions
    }
}

impl Iterator for Schedule {
    type Item = Result<Invocation, ScheduleError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.invocations.next()
    }
}

impl std::fmt::Debug for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schedule")
            .field("name", &self.name)
            .field("duration", &self.duration)
            .field("functions", &self.functions.len())
            .finish_non_exhaustive()
    }
}
