use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use serde::{Deserialize, Deserializer, Serialize};

use crate::arrival::{
    ArrivalProcess, ColdProbe, Constant, Diurnal, Poisson, Ramp, ScheduleRng, Spike, Steps,
};
use crate::load::{LoadSpec, StartInference};
use crate::request::RequestSpec;
use crate::sample::{self, Distance, SampleMethod};
use crate::synthetic::SyntheticInvocations;
use crate::trace::{self, TraceFiles, TraceReader};
use crate::trace_schedule::{PlannedFunction, TraceInvocations, TracePlan};
use crate::{FunctionId, FunctionProfile, ScenarioError, Schedule, WithinMinute, WorkModel};

fn human_duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    humantime::parse_duration(&text).map_err(|err| {
        serde::de::Error::custom(format!(
            "invalid duration `{text}` ({err}): expected e.g. \"30s\", \"5m\" or \"1h 30m\""
        ))
    })
}

fn optional_duration<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    human_duration(deserializer).map(Some)
}

fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    human_duration(deserializer).map(|d| d.as_secs_f64())
}

fn optional_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    seconds(deserializer).map(Some)
}

fn one() -> f64 {
    1.0
}

/// One step of a `steps` arrival process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Arrivals per second during the step.
    pub rate: f64,
    /// How long the step lasts.
    #[serde(rename = "for", deserialize_with = "seconds")]
    pub seconds: f64,
}

/// How invocations arrive in a synthetic scenario, across all functions together. Times are
/// durations such as `"30s"`; rates are invocations per second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "process", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ArrivalSpec {
    /// A Poisson process; each arrival goes to a function drawn at random by weight.
    Poisson { rate: f64 },
    /// Evenly spaced arrivals, interleaved among functions by weight.
    Constant { rate: f64 },
    /// A Poisson process whose rate goes linearly from `from` to `to` over `over` (default: the
    /// whole duration), then stays at `to`.
    Ramp {
        from: f64,
        to: f64,
        #[serde(default, deserialize_with = "optional_seconds")]
        over: Option<f64>,
    },
    /// Poisson rates that change in steps; no arrivals after the last step.
    Steps { steps: Vec<Step> },
    /// Poisson arrivals at `base`, with bursts at `peak` lasting `length` from `at`, repeated
    /// `every` if given.
    Spike {
        base: f64,
        peak: f64,
        #[serde(deserialize_with = "seconds")]
        at: f64,
        #[serde(deserialize_with = "seconds")]
        length: f64,
        #[serde(default, deserialize_with = "optional_seconds")]
        every: Option<f64>,
    },
    /// Poisson arrivals whose rate follows a sine: `mean × (1 + amplitude × sin(2πt/period))`.
    Diurnal {
        mean: f64,
        amplitude: f64,
        #[serde(deserialize_with = "seconds")]
        period: f64,
    },
    /// Every function invoked every `gap` (functions evenly staggered): choose a gap longer
    /// than the platform's keep-alive to meet a cold (or snapshot) start every time.
    ColdProbe {
        #[serde(deserialize_with = "seconds")]
        gap: f64,
        #[serde(default, deserialize_with = "optional_seconds")]
        jitter: Option<f64>,
    },
}

impl ArrivalSpec {
    /// The process, and whether functions are drawn at random (else interleaved).
    fn build(
        &self,
        duration: f64,
        functions: usize,
    ) -> Result<(Box<dyn ArrivalProcess>, bool), String> {
        let rate = |name: &str, rate: f64| {
            if rate.is_finite() && rate > 0.0 {
                Ok(rate)
            } else {
                Err(format!(
                    "`{name}` must be a positive number of invocations per second, found {rate}"
                ))
            }
        };
        Ok(match *self {
            Self::Poisson { rate: r } => (Box::new(Poisson::new(rate("rate", r)?)), true),
            Self::Constant { rate: r } => (Box::new(Constant::new(rate("rate", r)?)), false),
            Self::Ramp { from, to, over } => (
                Box::new(Ramp::new(from, to, over.unwrap_or(duration))?),
                true,
            ),
            Self::Steps { ref steps } => {
                let steps: Vec<(f64, f64)> = steps.iter().map(|s| (s.rate, s.seconds)).collect();
                (Box::new(Steps::new(&steps)?), true)
            }
            Self::Spike {
                base,
                peak,
                at,
                length,
                every,
            } => (Box::new(Spike::new(base, peak, at, length, every)?), true),
            Self::Diurnal {
                mean,
                amplitude,
                period,
            } => (Box::new(Diurnal::new(mean, amplitude, period, 0.0)?), true),
            Self::ColdProbe { gap, jitter } => {
                // Checked as written, then spread: round-robin gives each function `gap`.
                ColdProbe::new(gap, 0.0, jitter.unwrap_or(0.0))?;
                let spacing = gap / functions.max(1) as f64;
                let jitter = jitter.unwrap_or(0.0) / functions.max(1) as f64;
                (Box::new(ColdProbe::new(spacing, 0.0, jitter)?), false)
            }
        })
    }
}

/// The settings of an embedded reference runtime, read by the harness.
#[derive(Debug, Clone, PartialEq)]
pub enum RuntimeSettings {
    /// The runtime's defaults.
    Defaults,
    /// A table of the runtime configuration's keys, inline in the scenario.
    Inline(toml::Table),
    /// A runtime configuration file (its `listen` and `functions` are ignored).
    File(PathBuf),
}

/// What a scenario runs against.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The embedded reference runtime.
    Embedded(RuntimeSettings),
    /// Any platform, through a URL template with `{function}`.
    Url(String),
}

/// A runtime configuration to compare against the others of the scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Configuration {
    pub name: String,
    pub runtime: RuntimeSettings,
}

/// Limits a run must stay within, for the regression gate. Latencies in milliseconds, rates
/// as fractions of 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p99_9_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// Failed invocations over all invocations.
    pub error_rate: Option<f64>,
    /// Cold starts over successful invocations.
    pub cold_start_rate: Option<f64>,
    /// The load generator's own p99 send lag.
    pub send_lag_p99_ms: Option<f64>,
    /// Cost of one million invocations, USD.
    pub cost_per_million_usd: Option<f64>,
    /// Finished invocations per second, at least.
    pub min_throughput: Option<f64>,
}

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
    /// Factor applied to every function's invocation count.
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
    plan: Arc<TracePlan>,
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

/// A parsed scenario: what to run, against what, how invocations arrive, and for how long.
///
/// The file format is documented in `scenarios/README.md`. Unknown keys are refused so that a
/// typo never silently falls back to a default. A trace is opened and checked when the
/// scenario is loaded.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Short name, used in run ids and reports.
    pub name: String,
    /// One line for humans.
    pub description: Option<String>,
    /// Seed of every random choice in the schedule.
    pub seed: u64,
    /// How long invocations keep arriving, in run time.
    pub duration: Duration,
    /// How much faster than the trace time runs: 60 replays a trace minute per second.
    pub time_compression: f64,
    pub target: Target,
    /// The synthetic arrival process, when there is no trace.
    pub arrivals: Option<ArrivalSpec>,
    /// The trace replayed, if any.
    pub trace: Option<LoadedTrace>,
    /// The functions, in schedule order: from the file, or taken from the trace.
    pub functions: Vec<FunctionProfile>,
    pub work: WorkModel,
    pub configurations: Vec<Configuration>,
    pub thresholds: Thresholds,
    /// How each invocation is sent.
    pub request: RequestSpec,
    /// Open loop on the schedule's clock, or users for capacity tests.
    pub load: LoadSpec,
    /// How to tell start kinds when the platform sends no `x-faas-start`.
    pub start_kind: Option<StartInference>,
    /// The file this scenario was read from (or the origin given to [`Scenario::from_toml_str`]).
    pub source: PathBuf,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RuntimeValue {
    File(PathBuf),
    Inline(toml::Table),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(PathBuf),
    Many(Vec<PathBuf>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<PathBuf> {
        match self {
            Self::One(path) => vec![path],
            Self::Many(paths) => paths,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetLayout {
    url: Option<String>,
    runtime: Option<RuntimeValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TraceLayout {
    invocations: OneOrMany,
    durations: Option<OneOrMany>,
    memory: Option<OneOrMany>,
    #[serde(default)]
    start_minute: u32,
    minutes: Option<u32>,
    #[serde(default = "one")]
    rate_scale: f64,
    #[serde(default)]
    within_minute: WithinMinute,
    sample: Option<SampleSpec>,
    #[serde(default = "default_max_instances")]
    max_instances: u32,
}

fn default_max_instances() -> u32 {
    FunctionProfile::DEFAULT_MAX_INSTANCES
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigurationLayout {
    name: String,
    runtime: RuntimeValue,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    seed: u64,
    #[serde(default, deserialize_with = "optional_duration")]
    duration: Option<Duration>,
    #[serde(default = "one")]
    time_compression: f64,
    target: Option<TargetLayout>,
    arrivals: Option<ArrivalSpec>,
    trace: Option<TraceLayout>,
    #[serde(default)]
    work: WorkModel,
    #[serde(default)]
    functions: Vec<FunctionProfile>,
    #[serde(default)]
    configurations: Vec<ConfigurationLayout>,
    #[serde(default)]
    thresholds: Thresholds,
    #[serde(default)]
    request: RequestSpec,
    #[serde(default)]
    load: LoadSpec,
    start_kind: Option<StartInference>,
}

impl Scenario {
    /// Reads and checks a scenario file, opening its trace if it has one.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ScenarioError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text, path)
    }

    /// Parses and checks scenario text; `origin` names it in errors and anchors relative paths.
    pub fn from_toml_str(text: &str, origin: impl AsRef<Path>) -> Result<Self, ScenarioError> {
        let path = origin.as_ref().to_owned();
        let parse_error = |message: String| ScenarioError::Parse {
            path: path.clone(),
            message,
        };
        let deserializer =
            toml::Deserializer::parse(text).map_err(|err| parse_error(err.to_string()))?;
        let file: ScenarioFile = serde_path_to_error::deserialize(deserializer).map_err(|err| {
            let key = err.path().to_string();
            let mut inner = err.into_inner();
            inner.set_input(Some(text));
            let message = inner.to_string();
            if key == "." {
                parse_error(message)
            } else {
                parse_error(format!("at `{key}`: {message}"))
            }
        })?;
        let invalid = |key: &str, message: String| ScenarioError::Invalid {
            path: path.clone(),
            key: key.to_owned(),
            message,
        };
        let base = path.parent().unwrap_or(Path::new(".")).to_owned();
        let resolve = |relative: PathBuf| base.join(relative);
        let runtime_settings = |value: Option<RuntimeValue>| match value {
            None => RuntimeSettings::Defaults,
            Some(RuntimeValue::File(file)) => RuntimeSettings::File(resolve(file)),
            Some(RuntimeValue::Inline(table)) => RuntimeSettings::Inline(table),
        };

        if file.name.trim().is_empty() {
            return Err(invalid("name", "must not be empty".into()));
        }
        if !(file.time_compression.is_finite() && file.time_compression > 0.0) {
            return Err(invalid(
                "time_compression",
                format!("must be a positive number, found {}", file.time_compression),
            ));
        }
        if file.duration.is_some_and(|d| d.is_zero()) {
            return Err(invalid("duration", "must be longer than zero".into()));
        }
        file.work
            .check()
            .map_err(|(field, message)| invalid(&format!("work.{field}"), message))?;

        let target = match file.target {
            None => Target::Embedded(RuntimeSettings::Defaults),
            Some(TargetLayout {
                url: Some(_),
                runtime: Some(_),
            }) => {
                return Err(invalid(
                    "target",
                    "give either `url` (an external platform) or `runtime` (the embedded runtime's settings), not both".into(),
                ));
            }
            Some(TargetLayout {
                url: Some(url),
                runtime: None,
            }) => Target::Url(url),
            Some(TargetLayout { url: None, runtime }) => {
                Target::Embedded(runtime_settings(runtime))
            }
        };

        let mut configurations = Vec::new();
        for (index, configuration) in file.configurations.into_iter().enumerate() {
            let key = format!("configurations[{index}].name");
            let name_ok = !configuration.name.is_empty()
                && configuration
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !name_ok {
                return Err(invalid(
                    &key,
                    "must be letters, digits, `-`, `_` or `.`".into(),
                ));
            }
            if configurations
                .iter()
                .any(|c: &Configuration| c.name == configuration.name)
            {
                return Err(invalid(
                    &key,
                    format!("`{}` is used twice", configuration.name),
                ));
            }
            configurations.push(Configuration {
                name: configuration.name,
                runtime: runtime_settings(Some(configuration.runtime)),
            });
        }
        if !configurations.is_empty() && matches!(target, Target::Url(_)) {
            return Err(invalid(
                "configurations",
                "runtime configurations apply to the embedded runtime; this scenario targets a URL"
                    .into(),
            ));
        }
        check_thresholds(&file.thresholds)
            .map_err(|(field, message)| invalid(&format!("thresholds.{field}"), message))?;
        file.request
            .check()
            .map_err(|(field, message)| invalid(&format!("request.{field}"), message))?;
        file.load
            .check()
            .map_err(|(field, message)| invalid(&format!("load.{field}"), message))?;
        if let Some(inference) = &file.start_kind {
            inference
                .check()
                .map_err(|(field, message)| invalid(&format!("start_kind.{field}"), message))?;
        }

        let mut scenario = Self {
            name: file.name,
            description: file.description,
            seed: file.seed,
            duration: Duration::ZERO,
            time_compression: file.time_compression,
            target,
            arrivals: None,
            trace: None,
            functions: Vec::new(),
            work: file.work,
            configurations,
            thresholds: file.thresholds,
            request: file.request,
            load: file.load,
            start_kind: file.start_kind,
            source: path.clone(),
        };

        match (file.trace, file.arrivals) {
            (Some(_), Some(_)) => {
                return Err(invalid("arrivals", "a trace-based scenario takes its arrivals from the trace; remove [arrivals] or [trace]".into()));
            }
            (None, None) => {
                return Err(invalid(
                    "arrivals",
                    "a scenario needs [arrivals] (synthetic) or [trace]".into(),
                ));
            }
            (Some(_), None) if !file.functions.is_empty() => {
                return Err(invalid("functions", "a trace-based scenario takes its functions from the trace; remove [[functions]]".into()));
            }
            (Some(layout), None) => {
                let spec = TraceSpec {
                    files: TraceFiles {
                        invocations: layout
                            .invocations
                            .into_vec()
                            .into_iter()
                            .map(resolve)
                            .collect(),
                        durations: layout
                            .durations
                            .map(OneOrMany::into_vec)
                            .unwrap_or_default()
                            .into_iter()
                            .map(resolve)
                            .collect(),
                        memory: layout
                            .memory
                            .map(OneOrMany::into_vec)
                            .unwrap_or_default()
                            .into_iter()
                            .map(resolve)
                            .collect(),
                    },
                    start_minute: layout.start_minute,
                    minutes: layout.minutes,
                    rate_scale: layout.rate_scale,
                    within_minute: layout.within_minute,
                    sample: layout.sample,
                    max_instances: layout.max_instances,
                };
                scenario.load_trace(spec, file.duration)?;
            }
            (None, Some(arrivals)) => {
                let Some(duration) = file.duration else {
                    return Err(invalid(
                        "duration",
                        "a synthetic scenario needs a duration, e.g. \"30s\"".into(),
                    ));
                };
                scenario.duration = duration;
                scenario.functions = file.functions;
                scenario.check_functions()?;
                arrivals
                    .build(duration.as_secs_f64(), scenario.functions.len())
                    .map_err(|message| invalid("arrivals", message))?;
                scenario.arrivals = Some(arrivals);
            }
        }
        Ok(scenario)
    }

    fn check_functions(&self) -> Result<(), ScenarioError> {
        let invalid = |key: String, message: String| ScenarioError::Invalid {
            path: self.source.clone(),
            key,
            message,
        };
        if self.functions.is_empty() {
            return Err(invalid(
                "functions".into(),
                "at least one [[functions]] entry is required".into(),
            ));
        }
        for (index, function) in self.functions.iter().enumerate() {
            function.check().map_err(|(field, message)| {
                invalid(format!("functions[{index}].{field}"), message)
            })?;
            if let Some(first) = self.functions[..index]
                .iter()
                .position(|other| other.name == function.name)
            {
                return Err(invalid(
                    format!("functions[{index}].name"),
                    format!(
                        "`{}` is already the name of functions[{first}]",
                        function.name
                    ),
                ));
            }
        }
        if self.functions.iter().all(|f| f.weight == 0.0) {
            return Err(invalid(
                "functions".into(),
                "at least one function needs a weight above 0".into(),
            ));
        }
        Ok(())
    }

    /// Opens the trace, samples its functions and plans the replay.
    fn load_trace(
        &mut self,
        spec: TraceSpec,
        duration: Option<Duration>,
    ) -> Result<(), ScenarioError> {
        let invalid = |key: &str, message: String| ScenarioError::Invalid {
            path: self.source.clone(),
            key: key.to_owned(),
            message,
        };
        if !(spec.rate_scale.is_finite() && spec.rate_scale > 0.0) {
            return Err(invalid(
                "trace.rate_scale",
                format!("must be a positive number, found {}", spec.rate_scale),
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
            planned[trace_index] = Some(PlannedFunction {
                id: FunctionId(position as u32),
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
        let slice = Duration::from_secs_f64(
            f64::from(end_minute - spec.start_minute) * 60.0 / self.time_compression,
        );
        self.duration = duration.unwrap_or(slice);
        let plan = TracePlan {
            seed: self.seed,
            start_minute: spec.start_minute,
            end_minute,
            compression: self.time_compression,
            rate_scale: spec.rate_scale,
            within: spec.within_minute,
            end_us: duration_us(self.duration),
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

    /// The same scenario running for `duration` instead.
    pub fn with_duration(mut self, duration: Duration) -> Self {
        self.duration = duration;
        if let Some(trace) = &mut self.trace {
            let mut plan = (*trace.plan).clone();
            plan.end_us = duration_us(duration);
            trace.plan = Arc::new(plan);
        }
        self
    }

    /// Expands the scenario into its schedule. Cheap: invocations are produced as they are read.
    pub fn schedule(&self) -> Schedule {
        let invocations: crate::schedule::InvocationStream = match (&self.trace, &self.arrivals) {
            (Some(trace), _) => match trace.reader.events(trace.plan.start_minute) {
                Ok(events) => Box::new(TraceInvocations::new(
                    trace.plan.clone(),
                    events,
                    self.name.clone(),
                )),
                Err(source) => Box::new(std::iter::once(Err(crate::ScheduleError {
                    scenario: self.name.clone(),
                    source,
                }))),
            },
            (None, Some(arrivals)) => {
                let duration = self.duration.as_secs_f64();
                // Checked when the scenario was loaded.
                match arrivals.build(duration, self.functions.len()) {
                    Ok((process, random)) => Box::new(SyntheticInvocations::new(
                        process,
                        random,
                        &self.functions,
                        ScheduleRng::seed_from_u64(self.seed),
                        duration,
                    )),
                    Err(_) => Box::new(std::iter::empty()),
                }
            }
            (None, None) => Box::new(std::iter::empty()),
        };
        Schedule::new(
            self.name.clone(),
            self.duration,
            self.functions.clone(),
            invocations,
        )
    }
}

fn duration_us(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

fn check_thresholds(thresholds: &Thresholds) -> Result<(), (&'static str, String)> {
    let values = [
        ("p50_ms", thresholds.p50_ms),
        ("p90_ms", thresholds.p90_ms),
        ("p99_ms", thresholds.p99_ms),
        ("p99_9_ms", thresholds.p99_9_ms),
        ("max_ms", thresholds.max_ms),
        ("error_rate", thresholds.error_rate),
        ("cold_start_rate", thresholds.cold_start_rate),
        ("send_lag_p99_ms", thresholds.send_lag_p99_ms),
        ("cost_per_million_usd", thresholds.cost_per_million_usd),
        ("min_throughput", thresholds.min_throughput),
    ];
    for (name, value) in values {
        if let Some(value) = value
            && !(value.is_finite() && value >= 0.0)
        {
            return Err((name, format!("must be a number ≥ 0, found {value}")));
        }
    }
    for (name, value) in [
        ("error_rate", thresholds.error_rate),
        ("cold_start_rate", thresholds.cold_start_rate),
    ] {
        if value.is_some_and(|v| v > 1.0) {
            return Err((name, "is a fraction: at most 1".into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUICK: &str = r#"
        name = "t"
        seed = 3
        duration = "10s"
        [arrivals]
        process = "poisson"
        rate = 100.0
        [[functions]]
        name = "a"
        guest = "noop"
        [[functions]]
        name = "b"
        guest = "echo"
        weight = 3
        input = "hi"
    "#;

    fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::from_toml_str(text, "/scenarios/test.toml")
    }

    fn times(scenario: &Scenario) -> Vec<(u64, u32)> {
        scenario
            .schedule()
            .map(|i| i.map(|i| (i.at_us, i.function.0)))
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn with_arrivals(arrivals: &str, duration: &str) -> Scenario {
        parse(&format!(
            "name = \"t\"\nduration = \"{duration}\"\n[arrivals]\n{arrivals}\n[[functions]]\nname = \"a\"\nguest = \"noop\"\n[[functions]]\nname = \"b\"\nguest = \"noop\"\n"
        ))
        .unwrap()
    }

    #[test]
    fn defaults_fill_what_the_file_leaves_out() {
        let scenario = parse(QUICK).unwrap();
        assert_eq!(scenario.duration, Duration::from_secs(10));
        assert_eq!(scenario.time_compression, 1.0);
        assert_eq!(scenario.target, Target::Embedded(RuntimeSettings::Defaults));
        assert_eq!(
            scenario.functions[0].memory_mb,
            FunctionProfile::DEFAULT_MEMORY_MB
        );
        assert_eq!(scenario.functions[1].weight, 3.0);
        assert_eq!(scenario.functions[1].input, "hi");
        assert_eq!(scenario.functions[0].trigger, crate::Trigger::Http);
        assert_eq!(scenario.thresholds, Thresholds::default());
    }

    #[test]
    fn same_seed_gives_the_same_schedule_and_another_seed_does_not() {
        let scenario = parse(QUICK).unwrap();
        assert_eq!(times(&scenario), times(&scenario));
        let reseeded = parse(&QUICK.replace("seed = 3", "seed = 4")).unwrap();
        assert_ne!(times(&scenario), times(&reseeded));
    }

    #[test]
    fn a_poisson_schedule_is_sorted_bounded_near_the_rate_and_weighted() {
        let schedule = times(&parse(QUICK).unwrap());
        assert!(schedule.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(schedule.iter().all(|i| i.0 < 10_000_000));
        // 1000 expected; a Poisson count has a standard deviation of about 32.
        assert!(
            (850..1150).contains(&schedule.len()),
            "{} invocations",
            schedule.len()
        );
        let share = schedule.iter().filter(|i| i.1 == 1).count() as f64 / schedule.len() as f64;
        assert!((0.68..0.82).contains(&share), "share of b {share}");
    }

    #[test]
    fn duration_override_shortens_the_schedule() {
        let scenario = parse(QUICK).unwrap().with_duration(Duration::from_secs(1));
        assert!(times(&scenario).iter().all(|i| i.0 < 1_000_000));
    }

    #[test]
    fn cold_probe_invokes_each_function_once_per_gap() {
        let scenario = with_arrivals("process = \"cold-probe\"\ngap = \"10s\"", "60s");
        let schedule = times(&scenario);
        for function in [0, 1] {
            let at: Vec<u64> = schedule
                .iter()
                .filter(|i| i.1 == function)
                .map(|i| i.0)
                .collect();
            assert_eq!(at.len(), 6);
            assert!(at.windows(2).all(|w| w[1] - w[0] == 10_000_000), "{at:?}");
        }
    }

    #[test]
    fn steps_ramps_spikes_and_diurnal_follow_their_rates() {
        let steps = times(&with_arrivals(
            "process = \"steps\"\nsteps = [{ rate = 100.0, for = \"10s\" }, { rate = 0.0, for = \"10s\" }, { rate = 400.0, for = \"10s\" }]",
            "60s",
        ));
        let in_range =
            |from: u64, to: u64| steps.iter().filter(|i| (from..to).contains(&i.0)).count();
        assert!((850..1150).contains(&in_range(0, 10_000_000)));
        assert_eq!(in_range(10_000_000, 20_000_000), 0);
        assert!((3700..4300).contains(&in_range(20_000_000, 30_000_000)));
        assert_eq!(
            in_range(30_000_000, 60_000_000),
            0,
            "nothing after the last step"
        );

        let ramp = times(&with_arrivals(
            "process = \"ramp\"\nfrom = 0.0\nto = 200.0",
            "20s",
        ));
        let first = ramp.iter().filter(|i| i.0 < 10_000_000).count();
        let second = ramp.len() - first;
        // ∫ of the rate: 500 in the first half, 1500 in the second.
        assert!(
            (400..600).contains(&first) && (1350..1650).contains(&second),
            "{first} then {second}"
        );

        let spike = times(&with_arrivals(
            "process = \"spike\"\nbase = 10.0\npeak = 500.0\nat = \"5s\"\nlength = \"2s\"",
            "10s",
        ));
        let burst = spike
            .iter()
            .filter(|i| (5_000_000..7_000_000).contains(&i.0))
            .count();
        assert!((850..1150).contains(&burst), "{burst} in the burst");

        let diurnal = times(&with_arrivals(
            "process = \"diurnal\"\nmean = 100.0\namplitude = 0.8\nperiod = \"20s\"",
            "20s",
        ));
        let (peak, trough) = diurnal.iter().fold((0, 0), |(p, t), i| {
            if i.0 < 10_000_000 {
                (p + 1, t)
            } else {
                (p, t + 1)
            }
        });
        assert!(peak > trough * 3, "peak half {peak}, trough half {trough}");
    }

    #[test]
    fn a_weight_of_zero_deploys_a_function_without_invoking_it() {
        let scenario = parse(&QUICK.replace("weight = 3", "weight = 0")).unwrap();
        assert!(times(&scenario).iter().all(|i| i.1 == 0));
        let err = parse(
            &QUICK
                .replace("weight = 3", "weight = 0")
                .replace("guest = \"noop\"", "guest = \"noop\"\nweight = 0"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("weight above 0"), "{err}");
    }

    #[test]
    fn targets_configurations_and_thresholds_are_read() {
        let text = QUICK.to_owned()
            + "[target.runtime]\nsnapshots = false\n[target.runtime.keep_alive]\npolicy = \"none\"\n"
            + "[[configurations]]\nname = \"ttl-1m\"\nruntime = { keep_alive = { policy = \"fixed\", ttl = \"1m\" } }\n"
            + "[[configurations]]\nname = \"from-file\"\nruntime = \"runtimes/hybrid.toml\"\n"
            + "[thresholds]\np99_ms = 50.0\nerror_rate = 0.01\n";
        let scenario = parse(&text).unwrap();
        let Target::Embedded(RuntimeSettings::Inline(table)) = &scenario.target else {
            panic!("{:?}", scenario.target);
        };
        assert_eq!(table["snapshots"].as_bool(), Some(false));
        assert_eq!(scenario.configurations.len(), 2);
        assert_eq!(
            scenario.configurations[1].runtime,
            RuntimeSettings::File("/scenarios/runtimes/hybrid.toml".into())
        );
        assert_eq!(scenario.thresholds.p99_ms, Some(50.0));
        let url =
            parse(&(QUICK.to_owned() + "[target]\nurl = \"http://127.0.0.1:8080/f/{function}\"\n"))
                .unwrap();
        assert_eq!(
            url.target,
            Target::Url("http://127.0.0.1:8080/f/{function}".into())
        );
    }

    #[test]
    fn unknown_key_is_named_with_its_path_and_line() {
        let text = QUICK.replace("input = \"hi\"", "input = \"hi\"\nmemroy_mb = 256");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("test.toml"), "{err}");
        assert!(err.contains("at `functions[1].memroy_mb`"), "{err}");
        assert!(err.contains("line 16"), "{err}");
    }

    #[test]
    fn unknown_arrival_process_lists_the_known_ones() {
        let err = parse(&QUICK.replace("\"poisson\"", "\"poison\""))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("poison") && err.contains("cold-probe"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            (QUICK.replace("rate = 100.0", "rate = -1.0"), "`arrivals`"),
            (QUICK.replace("\"10s\"", "\"0s\""), "`duration`"),
            (QUICK.replace("duration = \"10s\"", ""), "`duration`"),
            (
                QUICK.replace("name = \"b\"", "name = \"a\""),
                "`functions[1].name`",
            ),
            (
                QUICK.replace("name = \"b\"", "name = \"b/c\""),
                "`functions[1].name`",
            ),
            (
                QUICK.replace("weight = 3", "weight = -1"),
                "`functions[1].weight`",
            ),
            (
                QUICK.replace("seed = 3", "seed = 3\ntime_compression = 0.0"),
                "`time_compression`",
            ),
            (
                QUICK.to_owned() + "[work]\ncpu_share = 1.5\n",
                "`work.cpu_share`",
            ),
            (
                QUICK.to_owned() + "[thresholds]\nerror_rate = 2.0\n",
                "`thresholds.error_rate`",
            ),
            (
                QUICK.to_owned() + "[thresholds]\np99 = 2.0\n",
                "at `thresholds.p99`",
            ),
            (
                QUICK.to_owned()
                    + "[target]\nurl = \"http://x/{function}\"\nruntime = \"r.toml\"\n",
                "`target`",
            ),
            (
                QUICK.to_owned()
                    + "[[configurations]]\nname = \"a\"\nruntime = {}\n[[configurations]]\nname = \"a\"\nruntime = {}\n",
                "`configurations[1].name`",
            ),
            (
                QUICK.replace("[arrivals]", "[trace]\ninvocations = \"x.csv\"\n[arrivals]"),
                "`arrivals`",
            ),
            (
                QUICK.replace(
                    "process = \"poisson\"\n        rate = 100.0",
                    "process = \"cold-probe\"\ngap = \"1s\"\njitter = \"1s\"",
                ),
                "`jitter`",
            ),
        ];
        for (text, key) in cases {
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains(key), "expected {key} in: {err}");
        }
    }

    #[test]
    fn malformed_duration_explains_the_expected_form() {
        let err = parse(&QUICK.replace("\"10s\"", "\"ten seconds\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("duration") && err.contains("30s"), "{err}");
    }

    #[test]
    fn missing_file_is_named() {
        let err = Scenario::load("/nonexistent/scenario.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/scenario.toml"), "{err}");
    }
}
