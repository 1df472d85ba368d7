//! Trace planning: opening a scenario's trace, sampling its functions and fixing everything
//! the replay needs. Nothing here grows with the length of the trace's timeline: the plan holds
//! one entry per trace function, and the trace itself is read as the schedule is consumed.

use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::Scenario;
use crate::arrival::ScheduleRng;
use crate::duration;
use crate::sample::{self, Distance, SampleMethod};
use crate::trace::{self, TraceFiles, TraceReader};
use crate::trace_schedule::{PlannedFunction, TracePlan};
use crate::{FunctionId, FunctionProfile, ScenarioError, WithinMinute};

/// The largest `trace.rate_scale`. A minute's invocations are placed together, so the factor
/// bounds the memory a minute takes; a thousand times a real trace is past what any platform
/// or load generator serves.
pub(crate) const MAX_RATE_SCALE: f64 = 1000.0;

/// How to pick the functions of a trace to replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleSpec {
    pub method: SampleMethod,
    /// How many functions.
    pub functions: usize,
}

/// What part of which trace to replay, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSpec {
    pub files: TraceFiles,
    /// First trace minute replayed.
    pub start_minute: u32,
    /// Trace minutes replayed; `None` to the end of the trace.
    pub minutes: Option<u32>,
    /// Factor applied to every function's invocation count, above 0 and at most 1000.
    pub rate_scale: f64,
    pub within_minute: WithinMinute,
    pub sample: Option<SampleSpec>,
    /// `max_instances` of every function deployed from the trace.
    pub max_instances: u32,
}

/// A trace opened for a scenario, with its sample.
#[derive(Clone)]
pub struct LoadedTrace {
    pub spec: TraceSpec,
    pub reader: Arc<dyn TraceReader>,
    /// Indices into the trace's functions of those replayed, in schedule order.
    pub chosen: Vec<usize>,
    /// How close the sample is to the whole trace, when sampled.
    pub distance: Option<Distance>,
    pub(super) plan: Arc<TracePlan>,
}

impl std::fmt::Debug for LoadedTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedTrace")
            .field("spec", &self.spec)
            .field("functions", &self.chosen.len())
            .field("distance", &self.distance)
            .finish_non_exhaustive()
    }
}

impl LoadedTrace {
    /// The same replay, cut at `end_us` of run time.
    pub(super) fn ending_at(&mut self, end_us: u64) {
        let mut plan = (*self.plan).clone();
        plan.end_us = end_us;
        self.plan = Arc::new(plan);
    }
}

impl Scenario {
    /// Opens the trace, samples its functions and plans the replay.
    pub(super) fn load_trace(
        &mut self,
        spec: TraceSpec,
        duration: Option<Duration>,
    ) -> Result<(), ScenarioError> {
        let invalid = |key: &str, message: String| ScenarioError::Invalid {
            path: self.source.clone(),
            key: key.to_owned(),
            message,
        };
        if !(spec.rate_scale > 0.0 && spec.rate_scale <= MAX_RATE_SCALE) {
            return Err(invalid(
                "trace.rate_scale",
                format!(
                    "must be a number above 0 and at most 1000, found {}",
                    spec.rate_scale
                ),
            ));
        }
        if spec.max_instances == 0 {
            return Err(invalid("trace.max_instances", "must be at least 1".into()));
        }
        let reader: Arc<dyn TraceReader> = Arc::from(trace::open(&spec.files).map_err(
            |source| ScenarioError::Trace {
                path: self.source.clone(),
                source,
            },
        )?);
        let index = reader.index();
        let length = index.minutes();
        if spec.start_minute >= length {
            return Err(invalid(
                "trace.start_minute",
                format!(
                    "the trace has {length} minutes; minute {} is past its end",
                    spec.start_minute
                ),
            ));
        }
        let end_minute = match spec.minutes {
            Some(0) => return Err(invalid("trace.minutes", "must be at least 1".into())),
            Some(minutes) => spec.start_minute.saturating_add(minutes).min(length),
            None => length,
        };

        let (chosen, distance) = match spec.sample {
            None => ((0..index.functions.len()).collect(), None),
            Some(sample_spec) => {
                let slice = sample::Slice {
                    start_minute: spec.start_minute,
                    minutes: end_minute - spec.start_minute,
                };
                let mut rng = ScheduleRng::seed_from_u64(self.seed);
                let sampled = sample::sample_trace(
                    reader.as_ref(),
                    slice,
                    sample_spec.functions,
                    sample_spec.method,
                    &mut rng,
                )
                .map_err(|error| match error {
                    sample::SampleError::Trace(source) => ScenarioError::Trace {
                        path: self.source.clone(),
                        source,
                    },
                    sample::SampleError::Request(message) => {
                        invalid("trace.sample.functions", message)
                    }
                })?;
                (sampled.chosen, Some(sampled.distance))
            }
        };

        let mut planned = vec![None; index.functions.len()];
        let mut functions = Vec::with_capacity(chosen.len());
        for (position, &trace_index) in chosen.iter().enumerate() {
            let function = &index.functions[trace_index];
            let size_mb = function
                .memory_mb
                .as_ref()
                .map_or(FunctionProfile::DEFAULT_MEMORY_MB, |m| {
                    m.max().ceil().clamp(1.0, 4096.0) as u32
                });
            let id = u32::try_from(position).map_err(|_| {
                invalid(
                    "trace",
                    format!("at most {} functions can be replayed", u32::MAX),
                )
            })?;
            planned[trace_index] = Some(PlannedFunction {
                id: FunctionId(id),
                trigger: function.trigger,
                duration_ms: function.duration_ms.clone(),
                memory_mb: function.memory_mb.clone(),
                size_mb,
            });
            functions.push(FunctionProfile {
                name: function.name.clone(),
                guest: self.work.guest.clone(),
                memory_mb: size_mb,
                max_instances: spec.max_instances,
                weight: 1.0,
                input: String::new(),
                trigger: function.trigger,
                cpu_share: Some(self.work.cpu_share),
                trace_id: Some(function.id.clone()),
            });
        }
        self.duration = match duration {
            Some(duration) => duration,
            None => {
                let minutes = end_minute - spec.start_minute;
                let seconds = f64::from(minutes) * 60.0 / self.time_compression;
                Duration::try_from_secs_f64(seconds)
                    .map_err(|_| ())
                    .and_then(|slice| duration::run_length(slice).map_err(|_| ()))
                    .map_err(|()| {
                        invalid(
                            "time_compression",
                            format!(
                                "{minutes} trace minutes at time_compression {} would last \
                                 {seconds:.0} s, and a run lasts at most 366 days: raise \
                                 time_compression, replay fewer `trace.minutes`, or give a \
                                 `duration`",
                                self.time_compression
                            ),
                        )
                    })?
            }
        };
        let end_us = duration::micros(self.duration)
            .ok_or_else(|| invalid("duration", "must be at most 366 days".into()))?;
        let plan = TracePlan {
            seed: self.seed,
            start_minute: spec.start_minute,
            end_minute,
            compression: self.time_compression,
            rate_scale: spec.rate_scale,
            within: spec.within_minute,
            end_us,
            work: self.work.clone(),
            functions: planned,
        };
        self.functions = functions;
        self.trace = Some(LoadedTrace {
            spec,
            reader,
            chosen,
            distance,
            plan: Arc::new(plan),
        });
        Ok(())
    }
}
