//! Schedules from a synthetic arrival process: arrival times from the process, the function of
//! each arrival from the weights.

use crate::arrival::{ArrivalProcess, ScheduleRng};
use crate::mix::FunctionMix;
use crate::{FunctionId, FunctionProfile, Invocation, ScheduleError, Trigger};

pub(crate) struct SyntheticInvocations {
    arrivals: Box<dyn ArrivalProcess>,
    mix: FunctionMix,
    rng: ScheduleRng,
    end_seconds: f64,
    /// Trigger and memory of each function.
    functions: Vec<(Trigger, u32)>,
    /// Functions with weight 0 are never picked; these are the picked ones' ids.
    picked: Vec<u32>,
    finished: bool,
}

impl SyntheticInvocations {
    pub(crate) fn new(
        arrivals: Box<dyn ArrivalProcess>,
        mix_random: bool,
        functions: &[FunctionProfile],
        rng: ScheduleRng,
        end_seconds: f64,
    ) -> Self {
        let picked: Vec<u32> = functions
            .iter()
            .enumerate()
            .filter(|(_, f)| f.weight > 0.0)
            .map(|(index, _)| index as u32)
            .collect();
        let weights: Vec<f64> = picked
            .iter()
            .map(|&i| functions[i as usize].weight)
            .collect();
        let mix = if mix_random {
            FunctionMix::random(&weights)
        } else {
            FunctionMix::interleaved(&weights)
        };
        Self {
            arrivals,
            mix,
            rng,
            end_seconds,
            functions: functions.iter().map(|f| (f.trigger, f.memory_mb)).collect(),
            picked,
            finished: false,
        }
    }
}

impl Iterator for SyntheticInvocations {
    type Item = Result<Invocation, ScheduleError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished || self.picked.is_empty() {
            return None;
        }
        let at = self.arrivals.next_arrival(&mut self.rng);
        // An ended process returns infinity; NaN never comes from a process but ends too.
        if at.is_nan() || at >= self.end_seconds {
            self.finished = true;
            return None;
        }
        let function = self.picked[self.mix.next_function(&mut self.rng)];
        let (trigger, memory_mb) = self.functions[function as usize];
        Some(Ok(Invocation {
            at_us: (at * 1e6) as u64,
            function: FunctionId(function),
            trigger,
            duration_us: None,
            memory_mb,
        }))
    }
}
