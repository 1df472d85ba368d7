//! The scenario file's layout, as serde reads it, and the checks that turn it into a
//! [`Scenario`]. The layout mirrors the TOML; everything that must hold across keys, or that
//! serde cannot express, is checked here and named by its key path.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::{Configuration, RuntimeSettings, SampleSpec, Scenario, Target, Thresholds, TraceSpec};
use crate::duration::{self, optional_duration};
use crate::load::{LoadSpec, StartInference};
use crate::request::RequestSpec;
use crate::trace::TraceFiles;
use crate::{ArrivalSpec, FunctionProfile, ScenarioError, WithinMinute, WorkModel};

fn one() -> f64 {
    1.0
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
        duration::time_compression(file.time_compression)
            .map_err(|message| invalid("time_compression", message))?;
        if let Some(length) = file.duration {
            duration::run_length(length).map_err(|message| invalid("duration", message))?;
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
        file.thresholds
            .check()
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
                    .check(duration.as_secs_f64(), scenario.invoked_functions())
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
        if u32::try_from(self.functions.len()).is_err() {
            return Err(invalid(
                "functions".into(),
                format!("at most {} functions are allowed", u32::MAX),
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
        if self.functions.iter().all(|f| f.weight == 0.0) {
            return Err(invalid(
                "functions".into(),
                "at least one function needs a weight above 0".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::tests::{QUICK, parse};
    use super::*;
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
}
