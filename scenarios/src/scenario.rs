use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::SeedableRng;
use serde::{Deserialize, Deserializer, Serialize};

use crate::arrival::{ArrivalProcess, Constant, Poisson, ScheduleRng};
use crate::mix::FunctionMix;
use crate::{FunctionProfile, ScenarioError, Schedule};

/// How invocations arrive, across all functions together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "process", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ArrivalSpec {
    /// A Poisson process of `rate` invocations per second; each arrival goes to a function
    /// drawn at random by weight.
    Poisson { rate: f64 },
    /// Evenly spaced arrivals at `rate` per second, interleaved among functions by weight.
    Constant { rate: f64 },
}

impl ArrivalSpec {
    fn rate(&self) -> f64 {
        match self {
            Self::Poisson { rate } | Self::Constant { rate } => *rate,
        }
    }
}

/// A parsed scenario file: what to run, how invocations arrive, and for how long.
///
/// The file format is documented in `scenarios/README.md`. Unknown keys are refused so that a
/// typo never silently falls back to a default.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Short name, used in run ids and reports.
    pub name: String,
    /// One line for humans.
    pub description: Option<String>,
    /// Seed of every random choice in the schedule.
    pub seed: u64,
    /// How long invocations keep arriving.
    pub duration: Duration,
    /// The arrival process.
    pub arrivals: ArrivalSpec,
    /// The functions under test, in file order.
    pub functions: Vec<FunctionProfile>,
    /// The file this scenario was read from (or the origin given to [`Scenario::from_toml_str`]).
    pub source: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    seed: u64,
    #[serde(deserialize_with = "human_duration")]
    duration: Duration,
    arrivals: ArrivalSpec,
    functions: Vec<FunctionProfile>,
}

fn human_duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    humantime::parse_duration(&text).map_err(|err| {
        serde::de::Error::custom(format!(
            "invalid duration `{text}` ({err}): expected e.g. \"30s\", \"5m\" or \"1h 30m\""
        ))
    })
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ScenarioError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text, path)
    }

    /// Parses and checks scenario text; `origin` names it in errors.
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
        let scenario = Self {
            name: file.name,
            description: file.description,
            seed: file.seed,
            duration: file.duration,
            arrivals: file.arrivals,
            functions: file.functions,
            source: path,
        };
        scenario.check()?;
        Ok(scenario)
    }

    fn check(&self) -> Result<(), ScenarioError> {
        let invalid = |key: String, message: String| ScenarioError::Invalid {
            path: self.source.clone(),
            key,
            message,
        };
        if self.name.trim().is_empty() {
            return Err(invalid("name".into(), "must not be empty".into()));
        }
        if self.duration.is_zero() {
            return Err(invalid(
                "duration".into(),
                "must be longer than zero".into(),
            ));
        }
        let rate = self.arrivals.rate();
        if !(rate.is_finite() && rate > 0.0) {
            return Err(invalid(
                "arrivals.rate".into(),
                format!("expected a positive number of invocations per second, found {rate}"),
            ));
        }
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
        Ok(())
    }

    /// The same scenario running for `duration` instead.
    pub fn with_duration(mut self, duration: Duration) -> Self {
        self.duration = duration;
        self
    }

    /// Expands the scenario into its schedule. Cheap: invocations are produced as they are read.
    pub fn schedule(&self) -> Schedule {
        let weights: Vec<f64> = self.functions.iter().map(|f| f.weight).collect();
        let (arrivals, mix): (Box<dyn ArrivalProcess>, FunctionMix) = match self.arrivals {
            ArrivalSpec::Poisson { rate } => {
                (Box::new(Poisson::new(rate)), FunctionMix::random(&weights))
            }
            ArrivalSpec::Constant { rate } => (
                Box::new(Constant::new(rate)),
                FunctionMix::interleaved(&weights),
            ),
        };
        Schedule::new(
            self.name.clone(),
            self.duration,
            self.functions.clone(),
            arrivals,
            mix,
            ScheduleRng::seed_from_u64(self.seed),
        )
    }
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
        Scenario::from_toml_str(text, "test.toml")
    }

    #[test]
    fn defaults_fill_what_the_file_leaves_out() {
        let scenario = parse(QUICK).unwrap();
        assert_eq!(scenario.duration, Duration::from_secs(10));
        assert_eq!(
            scenario.functions[0].memory_mb,
            FunctionProfile::DEFAULT_MEMORY_MB
        );
        assert_eq!(scenario.functions[1].weight, 3.0);
        assert_eq!(scenario.functions[1].input, "hi");
    }

    #[test]
    fn same_seed_gives_the_same_schedule_and_another_seed_does_not() {
        let scenario = parse(QUICK).unwrap();
        let first: Vec<_> = scenario.schedule().collect();
        let second: Vec<_> = scenario.schedule().collect();
        assert_eq!(first, second);
        let mut reseeded = scenario.clone();
        reseeded.seed = 4;
        let third: Vec<_> = reseeded.schedule().collect();
        assert_ne!(first, third);
    }

    #[test]
    fn schedule_is_sorted_bounded_and_near_the_rate() {
        let scenario = parse(QUICK).unwrap();
        let schedule: Vec<_> = scenario.schedule().collect();
        assert!(schedule.windows(2).all(|w| w[0].at_us <= w[1].at_us));
        assert!(schedule.iter().all(|i| i.at_us < 10_000_000));
        // 1000 expected; a Poisson count has a standard deviation of about 32.
        assert!(
            (850..1150).contains(&schedule.len()),
            "{} invocations",
            schedule.len()
        );
        let to_b = schedule.iter().filter(|i| i.function.0 == 1).count();
        let share = to_b as f64 / schedule.len() as f64;
        assert!((0.68..0.82).contains(&share), "share of b {share}");
    }

    #[test]
    fn duration_override_shortens_the_schedule() {
        let scenario = parse(QUICK).unwrap().with_duration(Duration::from_secs(1));
        assert!(scenario.schedule().all(|i| i.at_us < 1_000_000));
    }

    #[test]
    fn unknown_key_is_named_with_its_path_and_line() {
        let text = QUICK.replace("input = \"hi\"", "input = \"hi\"\nmemroy_mb = 256");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("test.toml"), "{err}");
        assert!(err.contains("memroy_mb"), "{err}");
        assert!(err.contains("functions[1]"), "{err}");
        assert!(err.contains("line 16"), "{err}");
    }

    #[test]
    fn unknown_arrival_process_lists_the_known_ones() {
        let err = parse(&QUICK.replace("\"poisson\"", "\"poison\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("poison") && err.contains("constant"), "{err}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            (
                QUICK.replace("rate = 100.0", "rate = -1.0"),
                "arrivals.rate",
            ),
            (QUICK.replace("\"10s\"", "\"0s\""), "duration"),
            (
                QUICK.replace("name = \"b\"", "name = \"a\""),
                "functions[1].name",
            ),
            (
                QUICK.replace("name = \"b\"", "name = \"b/c\""),
                "functions[1].name",
            ),
            (
                QUICK.replace("weight = 3", "weight = 0"),
                "functions[1].weight",
            ),
        ];
        for (text, key) in cases {
            let err = parse(&text).unwrap_err().to_string();
            assert!(
                err.contains(&format!("`{key}`")),
                "expected {key} in: {err}"
            );
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
