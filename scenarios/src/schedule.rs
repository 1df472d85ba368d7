use std::time::Duration;

use crate::FunctionProfile;
use crate::arrival::{ArrivalProcess, ScheduleRng};
use crate::mix::FunctionMix;

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
}

/// The invocations a run replays, in time order, produced lazily.
///
/// Iterating yields each [`Invocation`] once; the same scenario and seed always yield the same
/// sequence.
pub struct Schedule {
    name: String,
    duration: Duration,
    functions: Vec<FunctionProfile>,
    arrivals: Box<dyn ArrivalProcess>,
    mix: FunctionMix,
    rng: ScheduleRng,
    finished: bool,
}

impl Schedule {
    pub(crate) fn new(
        name: String,
        duration: Duration,
        functions: Vec<FunctionProfile>,
        arrivals: Box<dyn ArrivalProcess>,
        mix: FunctionMix,
        rng: ScheduleRng,
    ) -> Self {
        Self {
            name,
            duration,
            functions,
            arrivals,
            mix,
            rng,
            finished: false,
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
    type Item = Invocation;

    fn next(&mut self) -> Option<Invocation> {
        if self.finished {
            return None;
        }
        let at = self.arrivals.next_arrival(&mut self.rng);
        if at >= self.duration.as_secs_f64() {
            self.finished = true;
            return None;
        }
        let function = self.mix.next_function(&mut self.rng);
        Some(Invocation {
            at_us: (at * 1e6) as u64,
            function: FunctionId(function as u32),
        })
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
