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
        // A scenario's functions were checked to number at most u32::MAX.
        let picked: Vec<u32> = functions
            .iter()
            .enumerate()
            .filter(|(_, f)| f.weight > 0.0)
            .filter_map(|(index, _)| u32::try_from(index).ok())
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
        // An ended process returns infinity; NaN never comes from a process but ends too, as
        // does a time past the microseconds a schedule counts.
        let at_us = match crate::duration::seconds_to_micros(at) {
            Some(at_us) if at < self.end_seconds => at_us,
            _ => {
                self.finished = true;
                return None;
            }
        };
        let function = self.picked[self.mix.next_function(&mut self.rng)];
        let (trigger, memory_mb) = self.functions[function as usize];
        Some(Ok(Invocation {
            at_us,
            function: FunctionId(function),
            trigger,
            duration_us: None,
            memory_mb,
        }))
    }
}
