//! A scenario as faasbench runs it, and its expansion into a [`Schedule`].
//!
//! Reading the file is in `file.rs`, opening and planning its trace in `trace_plan.rs`; the
//! arrival processes and their `[arrivals]` spec live in [`crate::arrival`].

mod file;
mod trace_plan;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::SeedableRng;
use serde::{Deserialize, Serialize};

pub use trace_plan::{LoadedTrace, SampleSpec, TraceSpec};

use crate::arrival::ScheduleRng;
use crate::duration;
use crate::load::{LoadSpec, StartInference};
use crate::request::RequestSpec;
use crate::synthetic::SyntheticInvocations;
use crate::trace_schedule::TraceInvocations;
use crate::{ArrivalSpec, FunctionProfile, ScenarioError, Schedule, WorkModel};

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

impl Thresholds {
    /// Checks the values; on error, the key (under `thresholds.`) and why.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        let thresholds = self;
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

    /// The same scenario running for `duration` instead: above zero and at most 366 days, and
    /// within what its arrivals allow.
    pub fn with_duration(mut self, duration: Duration) -> Result<Self, ScenarioError> {
        let duration =
            duration::run_length(duration).map_err(|message| self.invalid("duration", message))?;
        if let Some(arrivals) = &self.arrivals {
            arrivals
                .check(duration.as_secs_f64(), self.invoked_functions())
                .map_err(|message| self.invalid("arrivals", message))?;
        }
        let end_us = duration::micros(duration)
            .ok_or_else(|| self.invalid("duration", "must be at most 366 days".into()))?;
        self.duration = duration;
        if let Some(trace) = &mut self.trace {
            trace.ending_at(end_us);
        }
        Ok(self)
    }

    /// How many functions the arrivals are shared among: those of weight above 0.
    fn invoked_functions(&self) -> usize {
        self.functions.iter().filter(|f| f.weight > 0.0).count()
    }

    /// An error about `key` of this scenario's file.
    fn invalid(&self, key: &str, message: String) -> ScenarioError {
        ScenarioError::Invalid {
            path: self.source.clone(),
            key: key.to_owned(),
            message,
        }
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
                // Checked when the scenario was loaded, or when its duration was changed.
                match arrivals.build(duration, self.invoked_functions()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const QUICK: &str = r#"
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

    pub(super) fn parse(text: &str) -> Result<Scenario, ScenarioError> {
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
        let scenario = parse(QUICK)
            .unwrap()
            .with_duration(Duration::from_secs(1))
            .unwrap();
        assert!(times(&scenario).iter().all(|i| i.0 < 1_000_000));
    }

    #[test]
    fn a_duration_override_is_checked_as_the_file_s_duration_is() {
        let key = |duration: Duration, text: &str| {
            let err = parse(text).unwrap().with_duration(duration).unwrap_err();
            match err {
                ScenarioError::Invalid { key, message, .. } => format!("{key}: {message}"),
                other => panic!("{other}"),
            }
        };
        let zero = key(Duration::ZERO, QUICK);
        assert!(
            zero.starts_with("duration: ") && zero.contains("zero"),
            "{zero}"
        );
        let long = key(Duration::from_secs(18_000_000_000_000_000_000), QUICK);
        assert!(
            long.starts_with("duration: ") && long.contains("366 days"),
            "{long}"
        );
        // 100/s for 300 years fits neither; 10,000,000/s for 2000 s expects 2·10¹⁰.
        let fast = QUICK.replace("rate = 100.0", "rate = 1e7");
        let many = key(Duration::from_secs(2000), &fast);
        assert!(
            many.starts_with("arrivals: ") && many.contains("1e10"),
            "{many}"
        );
    }

    #[test]
    fn functions_weighted_near_the_largest_number_share_the_arrivals() {
        for process in ["poisson", "constant"] {
            let text = QUICK
                .replace("\"poisson\"", &format!("\"{process}\""))
                .replace("guest = \"noop\"", "guest = \"noop\"\nweight = 1.7e308")
                .replace("weight = 3", "weight = 1.7e308");
            let schedule = times(&parse(&text).unwrap());
            let first = schedule.iter().filter(|i| i.1 == 0).count();
            let share = first as f64 / schedule.len() as f64;
            // About 1000 arrivals: a binomial share has a standard deviation below 0.016.
            assert!(
                (0.42..0.58).contains(&share),
                "{process}: share of a {share}"
            );
        }
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
    fn cold_probe_spaces_only_the_functions_it_invokes() {
        let text = "name = \"t\"\nduration = \"60s\"\n[arrivals]\nprocess = \"cold-probe\"\ngap = \"10s\"\n[[functions]]\nname = \"a\"\nguest = \"noop\"\n[[functions]]\nname = \"chained\"\nguest = \"noop\"\nweight = 0\n[[functions]]\nname = \"b\"\nguest = \"noop\"\n";
        let schedule = times(&parse(text).unwrap());
        for function in [0, 2] {
            let at: Vec<u64> = schedule
                .iter()
                .filter(|i| i.1 == function)
                .map(|i| i.0)
                .collect();
            assert_eq!(at.len(), 6, "{at:?}");
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
    fn missing_file_is_named() {
        let err = Scenario::load("/nonexistent/scenario.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/scenario.toml"), "{err}");
    }
}
