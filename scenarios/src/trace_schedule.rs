//! Schedules replayed from a trace: the trace's events, one minute at a time, turned into
//! invocations in time order.
//!
//! Each function's invocations in a minute are placed within the minute by the
//! [`WithinMinute`] mode (exactly the trace's count, unless the rate is scaled), then the
//! minute's invocations are sorted and handed out. Copies added to a per-invocation trace by
//! rate scaling may fall into the next minute; they wait for it and are sorted in with it.
//! Every random choice for a function in a minute comes from a generator seeded by the
//! scenario's seed, the function and the minute, so a function's arrivals do not change when
//! other functions are sampled in or out. Time is compressed by dividing trace time by the
//! compression factor.

use std::sync::Arc;

use rand::{RngExt, SeedableRng};

use crate::arrival::ScheduleRng;
use crate::trace::{Events, Percentiles, TraceEvent};
use crate::{FunctionId, Invocation, ScheduleError, Trigger, WithinMinute, WorkModel};

const MINUTE_US: f64 = 60e6;

/// How one trace function is replayed.
#[derive(Debug, Clone)]
pub(crate) struct PlannedFunction {
    pub(crate) id: FunctionId,
    pub(crate) trigger: Trigger,
    /// Execution time distribution, ms, for traces that give percentiles rather than each
    /// invocation's duration.
    pub(crate) duration_ms: Option<Percentiles>,
    pub(crate) memory_mb: Option<Percentiles>,
    /// The function's memory size, used when the trace has no memory distribution.
    pub(crate) size_mb: u32,
}

/// Everything that turns a trace's events into a schedule.
#[derive(Debug, Clone)]
pub(crate) struct TracePlan {
    pub(crate) seed: u64,
    pub(crate) start_minute: u32,
    /// First trace minute not replayed.
    pub(crate) end_minute: u32,
    pub(crate) compression: f64,
    pub(crate) rate_scale: f64,
    pub(crate) within: WithinMinute,
    /// Invocations due at or after this are not replayed, µs of run time.
    pub(crate) end_us: u64,
    pub(crate) work: WorkModel,
    /// Indexed by trace function; `None` for functions not replayed.
    pub(crate) functions: Vec<Option<PlannedFunction>>,
}

/// The generator of one trace function's choices in one minute.
fn rng_for(seed: u64, function: u32, minute: u32) -> ScheduleRng {
    let key =
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (u64::from(function) << 32 | u64::from(minute));
    ScheduleRng::seed_from_u64(key)
}

/// `count` scaled by `scale`: the whole part, plus one more with the probability of the
/// fraction. Exactly `count` when `scale` is 1.
fn scaled(count: u32, scale: f64, rng: &mut ScheduleRng) -> u32 {
    if scale == 1.0 {
        return count;
    }
    let expected = f64::from(count) * scale;
    let whole = expected.floor();
    let extra = u32::from(rng.random::<f64>() < expected - whole);
    // A count the scale (at most 1000) takes past u32 stays at u32::MAX, as a trace count would.
    let whole = if whole < f64::from(u32::MAX) {
        whole as u32
    } else {
        u32::MAX
    };
    whole.saturating_add(extra)
}

/// Microseconds of run time at `trace_us` of trace time. A time past what a `u64` holds is
/// past the end of every run, and stays there.
fn run_us(plan: &TracePlan, trace_us: f64) -> u64 {
    let relative = trace_us - f64::from(plan.start_minute) * MINUTE_US;
    crate::duration::whole_micros(relative / plan.compression).unwrap_or(u64::MAX)
}

pub(crate) struct TraceInvocations {
    plan: Arc<TracePlan>,
    events: Events,
    scenario: String,
    /// An event read ahead that belongs to the next minute.
    ahead: Option<TraceEvent>,
    minute: Vec<Invocation>,
    /// Invocations due after the minute last handed out: copies jittered past its end.
    carried: Vec<Invocation>,
    /// No more events to read.
    exhausted: bool,
    position: usize,
    offsets: Vec<f64>,
    finished: bool,
}

impl TraceInvocations {
    pub(crate) fn new(plan: Arc<TracePlan>, events: Events, scenario: String) -> Self {
        Self {
            plan,
            events,
            scenario,
            ahead: None,
            minute: Vec::new(),
            carried: Vec::new(),
            exhausted: false,
            position: 0,
            offsets: Vec::new(),
            finished: false,
        }
    }

    fn invocation(
        &self,
        trace_us: f64,
        planned: &PlannedFunction,
        duration_us: Option<u32>,
        memory_mb: u32,
    ) -> Invocation {
        Invocation {
            at_us: run_us(&self.plan, trace_us),
            function: planned.id,
            trigger: planned.trigger,
            duration_us,
            memory_mb,
        }
    }

    /// The drawn duration and memory of one invocation.
    fn draw(
        &self,
        planned: &PlannedFunction,
        trace_duration_us: Option<u64>,
        rng: &mut ScheduleRng,
    ) -> (Option<u32>, u32) {
        let duration = match trace_duration_us {
            Some(us) => Some(self.plan.work.replayed_us(us as f64)),
            None => planned
                .duration_ms
                .as_ref()
                .map(|d| self.plan.work.replayed_us(d.draw(rng) * 1000.0)),
        };
        let memory = planned.memory_mb.as_ref().map_or(planned.size_mb, |m| {
            m.draw(rng).ceil().clamp(1.0, f64::from(u32::MAX)) as u32
        });
        (duration, memory)
    }

    /// Adds the invocations of one event to the current minute.
    fn add(&mut self, event: TraceEvent) {
        let plan = self.plan.clone();
        match event {
            TraceEvent::Count {
                minute,
                function,
                count,
            } => {
                let Some(Some(planned)) = plan.functions.get(function as usize) else {
                    return;
                };
                let mut rng = rng_for(plan.seed, function, minute);
                let count = scaled(count, plan.rate_scale, &mut rng);
                let mut offsets = std::mem::take(&mut self.offsets);
                plan.within.place(count, MINUTE_US, &mut rng, &mut offsets);
                for &offset in &offsets {
                    let (duration, memory) = self.draw(planned, None, &mut rng);
                    let at = f64::from(minute) * MINUTE_US + offset;
                    let invocation = self.invocation(at, planned, duration, memory);
                    self.minute.push(invocation);
                }
                self.offsets = offsets;
            }
            TraceEvent::Invocation {
                at_us,
                function,
                duration_us,
            } => {
                let Some(Some(planned)) = plan.functions.get(function as usize) else {
                    return;
                };
                // Most per-invocation traces need no random choice: the time and the duration
                // are the trace's. Seeding a generator for every row would cost more than the
                // rest of the work.
                let needs_rng = plan.rate_scale != 1.0
                    || planned.memory_mb.is_some()
                    || (duration_us.is_none() && planned.duration_ms.is_some());
                if !needs_rng {
                    let duration = duration_us.map(|us| plan.work.replayed_us(us as f64));
                    let invocation =
                        self.invocation(at_us as f64, planned, duration, planned.size_mb);
                    self.minute.push(invocation);
                    return;
                }
                // Only a seed: the low bits of the minute and of the time are enough.
                let minute = (at_us / MINUTE_US as u64) as u32;
                let mut rng = rng_for(plan.seed, function, minute ^ (at_us as u32).rotate_left(16));
                let copies = scaled(1, plan.rate_scale, &mut rng);
                for copy in 0..copies {
                    // Copies beyond the first are spread over the following second.
                    let jitter = if copy == 0 {
                        0.0
                    } else {
                        rng.random::<f64>() * 1e6
                    };
                    let (duration, memory) = self.draw(planned, duration_us, &mut rng);
                    let invocation =
                        self.invocation(at_us as f64 + jitter, planned, duration, memory);
                    self.minute.push(invocation);
                }
            }
        }
    }

    /// Reads the next trace minute that has invocations; false at the end.
    fn fill(&mut self) -> Result<bool, ScheduleError> {
        self.minute.clear();
        self.position = 0;
        loop {
            self.minute.append(&mut self.carried);
            let Some(minute) = self.read_minute()? else {
                // The end: what was carried is the last of the schedule.
                self.sort();
                return Ok(!self.minute.is_empty());
            };
            self.sort();
            // Jittered copies may lie past the minute's end, where the next minute's first
            // invocations may come before them: they wait for that minute.
            let boundary = run_us(&self.plan, f64::from(minute) * MINUTE_US + MINUTE_US);
            let keep = self.minute.partition_point(|i| i.at_us < boundary);
            self.carried.extend(self.minute.drain(keep..));
            if !self.minute.is_empty() {
                return Ok(true);
            }
        }
    }

    fn sort(&mut self) {
        self.minute
            .sort_by_key(|invocation| (invocation.at_us, invocation.function));
    }

    /// Adds the events of the next trace minute to the current one; its number, or `None` at
    /// the end of the events or of the slice.
    fn read_minute(&mut self) -> Result<Option<u32>, ScheduleError> {
        if self.exhausted {
            return Ok(None);
        }
        let first = match self.ahead.take() {
            Some(event) => event,
            None => match self.events.next() {
                Some(event) => event.map_err(|source| self.error(source))?,
                None => {
                    self.exhausted = true;
                    return Ok(None);
                }
            },
        };
        let minute = first.minute();
        if minute >= self.plan.end_minute {
            self.exhausted = true;
            return Ok(None);
        }
        self.add(first);
        loop {
            match self.events.next() {
                Some(Ok(event)) if event.minute() == minute => self.add(event),
                Some(Ok(event)) => {
                    self.ahead = Some(event);
                    break;
                }
                Some(Err(source)) => return Err(self.error(source)),
                None => {
                    self.exhausted = true;
                    break;
                }
            }
        }
        Ok(Some(minute))
    }

    fn error(&self, source: crate::trace::TraceError) -> ScheduleError {
        ScheduleError {
            scenario: self.scenario.clone(),
            source,
        }
    }
}

impl Iterator for TraceInvocations {
    type Item = Result<Invocation, ScheduleError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(&invocation) = self.minute.get(self.position) {
                self.position += 1;
                if invocation.at_us >= self.plan.end_us {
                    self.finished = true;
                    self.minute.clear();
                    return None;
                }
                return Some(Ok(invocation));
            }
            if self.finished {
                return None;
            }
            match self.fill() {
                Ok(true) => {}
                Ok(false) => {
                    self.finished = true;
                    return None;
                }
                Err(err) => {
                    self.finished = true;
                    return Some(Err(err));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_keeps_the_count_at_one_and_the_expectation_otherwise() {
        let mut rng = ScheduleRng::seed_from_u64(1);
        assert_eq!(scaled(7, 1.0, &mut rng), 7);
        let total: u32 = (0..10_000).map(|_| scaled(3, 0.5, &mut rng)).sum();
        assert!((total as f64 / 10_000.0 - 1.5).abs() < 0.02, "{total}");
        assert!((0..100).all(|_| (1..=2).contains(&scaled(3, 0.5, &mut rng))));
    }
}
