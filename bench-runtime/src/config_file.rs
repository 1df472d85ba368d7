//! The runtime configuration file (`runtime.toml`): the runtime's settings and the functions
//! to deploy at start, as `faasbench serve --config` reads them.
//!
//! ```toml
//! listen = "127.0.0.1:8080"   # default 127.0.0.1:8080
//! snapshots = true            # start new instances from post-init snapshots (default true)
//! capacity_mb = 16384         # memory for all instances together (default 16384)
//! time_scale = 1.0            # policy clock speed-up (default 1)
//! instance_slots = 1000
//! max_function_memory_mb = 4096
//! keep_resident_mb = 32
//! max_body_bytes = 6291456
//! max_output_bytes = 6291456
//! max_chain_depth = 8
//! compile_threads = 2         # compilations at once (default: the number of cores)
//! header_timeout = "10s"      # longest an HTTP/1.1 request head may take to arrive
//! idle_timeout = "60s"        # idle connections are closed after this long
//! listen_backlog = 4096       # connections queued before accept (capped by the kernel)
//!
//! [keep_alive]
//! policy = "fixed"            # none | fixed | hybrid-histogram | faascache
//! ttl = "10m"                 # fixed only
//!
//! [[functions]]
//! name = "resize"
//! guest = "cpu"               # a built-in guest spec, or:
//! # module = "resize.wasm"    # a .wasm or .wat file, relative to this file
//! memory_mb = 256             # default 128
//! timeout = "30s"             # default 30s
//! max_instances = 16          # default 16
//! max_queue = 100             # default 100
//! prewarm = 0                 # provisioned instances, default 0
//! keep_alive = "5m"           # this function's keep-alive override
//! ```
//!
//! Every key is optional except a function's `name` and its `guest` or `module`. Unknown keys
//! are refused; errors name the file, the key and the line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::policy::KeepAliveConfig;
use crate::{FunctionConfig, ModuleSource, RuntimeConfig};

/// A parsed `runtime.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeFile {
    /// Where the server listens.
    pub listen: SocketAddr,
    pub config: RuntimeConfig,
    /// Functions to deploy at start, in file order.
    pub functions: Vec<FunctionConfig>,
    /// Whether the file set `time_scale` (a scenario's time compression applies otherwise).
    pub time_scale_given: bool,
}

/// A runtime configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error("cannot read runtime configuration {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLayout {
    #[serde(default = "default_listen")]
    listen: SocketAddr,
    snapshots: Option<bool>,
    capacity_mb: Option<u64>,
    time_scale: Option<f64>,
    instance_slots: Option<u32>,
    max_function_memory_mb: Option<u32>,
    keep_resident_mb: Option<u32>,
    max_body_bytes: Option<usize>,
    max_output_bytes: Option<usize>,
    max_chain_depth: Option<u32>,
    compile_threads: Option<usize>,
    #[serde(default, with = "humantime_serde")]
    header_timeout: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    idle_timeout: Option<Duration>,
    listen_backlog: Option<u32>,
    #[serde(default)]
    keep_alive: KeepAliveConfig,
    #[serde(default)]
    functions: Vec<FunctionLayout>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FunctionLayout {
    name: String,
    guest: Option<String>,
    module: Option<PathBuf>,
    memory_mb: Option<u32>,
    #[serde(default, with = "humantime_serde")]
    timeout: Option<Duration>,
    max_instances: Option<u32>,
    max_queue: Option<u32>,
    prewarm: Option<u32>,
    #[serde(default, with = "humantime_serde")]
    keep_alive: Option<Duration>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

impl RuntimeFile {
    /// Reads and checks a configuration file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigFileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text, path)
    }

    /// Parses configuration text; `origin` names it in errors and anchors relative module
    /// paths.
    pub fn from_toml_str(text: &str, origin: impl AsRef<Path>) -> Result<Self, ConfigFileError> {
        let origin = origin.as_ref();
        let invalid = |message: String| ConfigFileError::Invalid {
            path: origin.to_owned(),
            message,
        };
        let deserializer =
            toml::Deserializer::parse(text).map_err(|err| invalid(err.to_string()))?;
        let layout: FileLayout = serde_path_to_error::deserialize(deserializer).map_err(|err| {
            let key = err.path().to_string();
            let mut inner = err.into_inner();
            inner.set_input(Some(text));
            invalid(format!("at `{key}`: {inner}"))
        })?;

        Self::from_layout(layout, origin)
    }

    /// Runtime settings given inline as a table, e.g. a scenario's `[target.runtime]`:
    /// the keys of this file except `listen` and `functions`. `origin` names it in errors.
    pub fn settings_from_table(
        table: toml::Table,
        origin: &str,
    ) -> Result<(RuntimeConfig, bool), ConfigFileError> {
        let invalid = |message: String| ConfigFileError::Invalid {
            path: PathBuf::from(origin),
            message,
        };
        for key in ["listen", "functions"] {
            if table.contains_key(key) {
                return Err(invalid(format!(
                    "at `{key}`: belongs in a runtime configuration file, not in runtime settings"
                )));
            }
        }
        let layout: FileLayout = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|err| {
                let key = err.path().to_string();
                invalid(format!("at `{key}`: {}", err.into_inner()))
            })?;
        let file = Self::from_layout(layout, Path::new(origin))?;
        Ok((file.config, file.time_scale_given))
    }

    fn from_layout(layout: FileLayout, origin: &Path) -> Result<Self, ConfigFileError> {
        let invalid = |message: String| ConfigFileError::Invalid {
            path: origin.to_owned(),
            message,
        };
        let defaults = RuntimeConfig::default();
        let time_scale_given = layout.time_scale.is_some();
        let config = RuntimeConfig {
            keep_alive: layout.keep_alive,
            snapshots: layout.snapshots.unwrap_or(defaults.snapshots),
            capacity_mb: layout.capacity_mb.unwrap_or(defaults.capacity_mb),
            time_scale: layout.time_scale.unwrap_or(defaults.time_scale),
            instance_slots: layout.instance_slots.unwrap_or(defaults.instance_slots),
            max_function_memory_mb: layout
                .max_function_memory_mb
                .unwrap_or(defaults.max_function_memory_mb),
            keep_resident_mb: layout.keep_resident_mb.unwrap_or(defaults.keep_resident_mb),
            max_body_bytes: layout.max_body_bytes.unwrap_or(defaults.max_body_bytes),
            max_output_bytes: layout.max_output_bytes.unwrap_or(defaults.max_output_bytes),
            max_chain_depth: layout.max_chain_depth.unwrap_or(defaults.max_chain_depth),
            compile_threads: layout.compile_threads.unwrap_or(defaults.compile_threads),
            header_timeout: layout.header_timeout.unwrap_or(defaults.header_timeout),
            idle_timeout: layout.idle_timeout.unwrap_or(defaults.idle_timeout),
            listen_backlog: layout.listen_backlog.unwrap_or(defaults.listen_backlog),
        };
        config
            .check()
            .map_err(|(field, message)| invalid(format!("`{field}`: {message}")))?;

        let base = origin.parent().unwrap_or(Path::new("."));
        let functions = layout
            .functions
            .into_iter()
            .enumerate()
            .map(|(index, function)| {
                let at = |field: &str| format!("`functions[{index}].{field}`");
                let module = match (function.guest, function.module) {
                    (Some(spec), None) => ModuleSource::Builtin(spec),
                    (None, Some(path)) => ModuleSource::Path(base.join(path)),
                    (Some(_), Some(_)) => {
                        return Err(invalid(format!(
                            "{}: give either `guest` or `module`, not both",
                            at("guest")
                        )));
                    }
                    (None, None) => {
                        return Err(invalid(format!(
                            "{}: a built-in `guest` or a `module` file is required",
                            at("guest")
                        )));
                    }
                };
                let mut config = FunctionConfig::new(function.name, module);
                config.memory_mb = function.memory_mb.unwrap_or(config.memory_mb);
                config.timeout = function.timeout.unwrap_or(config.timeout);
                config.max_instances = function.max_instances.unwrap_or(config.max_instances);
                config.max_queue = function.max_queue.unwrap_or(config.max_queue);
                config.prewarm = function.prewarm.unwrap_or(config.prewarm);
                config.keep_alive = function.keep_alive;
                Ok(config)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            listen: layout.listen,
            config,
            functions,
            time_scale_given,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
listen = "127.0.0.1:9000"
snapshots = false
capacity_mb = 2048
time_scale = 60.0

[keep_alive]
policy = "hybrid-histogram"

[[functions]]
name = "resize"
guest = "init-heavy(init_ms=5, state_mib=1)"
memory_mb = 256
timeout = "2s"
prewarm = 1
keep_alive = "5m"

[[functions]]
name = "custom"
module = "guests/custom.wat"
"#;

    #[test]
    fn every_setting_is_read_and_defaults_fill_the_rest() {
        let file = RuntimeFile::from_toml_str(FULL, "/etc/faasbench/runtime.toml").unwrap();
        assert_eq!(file.listen, "127.0.0.1:9000".parse().unwrap());
        assert!(!file.config.snapshots);
        assert_eq!(
            (file.config.capacity_mb, file.config.time_scale),
            (2048, 60.0)
        );
        assert!(matches!(
            file.config.keep_alive,
            KeepAliveConfig::HybridHistogram(_)
        ));
        assert_eq!(
            file.config.instance_slots,
            RuntimeConfig::default().instance_slots
        );
        let resize = &file.functions[0];
        assert_eq!(resize.memory_mb, 256);
        assert_eq!(resize.timeout, Duration::from_secs(2));
        assert_eq!(
            (resize.prewarm, resize.keep_alive),
            (1, Some(Duration::from_secs(300)))
        );
        assert_eq!(
            file.functions[1].module,
            ModuleSource::Path("/etc/faasbench/guests/custom.wat".into())
        );
        let empty = RuntimeFile::from_toml_str("", "runtime.toml").unwrap();
        assert_eq!(empty.listen, default_listen());
        assert_eq!(empty.config, RuntimeConfig::default());
    }

    #[test]
    fn the_shipped_example_is_valid_and_documents_the_defaults() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/runtime.example.toml");
        let file = RuntimeFile::load(path).unwrap();
        assert_eq!(file.config, RuntimeConfig::default());
        assert_eq!(file.listen, default_listen());
        let names: Vec<&str> = file.functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["hello", "resize", "boot", "pipeline"]);
    }

    #[test]
    fn settings_from_a_table_name_the_key_and_refuse_file_only_keys() {
        let table: toml::Table =
            toml::from_str("capacity_mb = 512\n[keep_alive]\npolicy = \"none\"").unwrap();
        let (config, time_scale_given) =
            RuntimeFile::settings_from_table(table, "s.toml [target.runtime]").unwrap();
        assert_eq!(config.capacity_mb, 512);
        assert_eq!(config.keep_alive, KeepAliveConfig::None {});
        assert!(!time_scale_given);
        let typo: toml::Table = toml::from_str("snapshot = false").unwrap();
        let err = RuntimeFile::settings_from_table(typo, "s.toml [target.runtime]")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("s.toml [target.runtime]: at `snapshot`"),
            "{err}"
        );
        let listen: toml::Table = toml::from_str("listen = \"127.0.0.1:1\"").unwrap();
        let err = RuntimeFile::settings_from_table(listen, "here")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`listen`: belongs in a runtime configuration file"),
            "{err}"
        );
    }

    #[test]
    fn connection_settings_are_read_and_checked() {
        let text = "header_timeout = \"2s\"\nidle_timeout = \"90s\"\nlisten_backlog = 128\n";
        let file = RuntimeFile::from_toml_str(text, "runtime.toml").unwrap();
        assert_eq!(file.config.header_timeout, Duration::from_secs(2));
        assert_eq!(file.config.idle_timeout, Duration::from_secs(90));
        assert_eq!(file.config.listen_backlog, 128);
        for (text, field) in [
            ("idle_timeout = \"0s\"", "`idle_timeout`"),
            ("header_timeout = \"2days\"", "`header_timeout`"),
            ("listen_backlog = 0", "`listen_backlog`"),
            ("listen_backlog = 70000", "`listen_backlog`"),
        ] {
            let err = RuntimeFile::from_toml_str(text, "runtime.toml")
                .unwrap_err()
                .to_string();
            assert!(err.contains(field), "expected {field} in: {err}");
        }
    }

    #[test]
    fn mistakes_name_the_file_the_key_and_the_line() {
        let cases = [
            (
                FULL.replace("capacity_mb", "capacity_gb"),
                "at `capacity_gb`",
                "line 4",
            ),
            (
                FULL.replace("prewarm = 1", "prewarm = 1\nwarm = 2"),
                "at `functions[0].warm`",
                "line 16",
            ),
            (
                FULL.replace("\"2s\"", "\"two seconds\""),
                "at `functions[0].timeout`",
                "line 14",
            ),
            (
                FULL.replace("hybrid-histogram", "lru"),
                "at `keep_alive.policy`",
                "line 8",
            ),
            (
                FULL.replace("127.0.0.1:9000", "localhost"),
                "at `listen`",
                "line 2",
            ),
        ];
        for (text, key, line) in cases {
            let err = RuntimeFile::from_toml_str(&text, "runtime.toml")
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("runtime.toml: "), "{err}");
            assert!(
                err.contains(key) && err.contains(line),
                "expected {key}, {line} in: {err}"
            );
        }
        let both = FULL.replace(
            "module = \"guests/custom.wat\"",
            "module = \"x.wat\"\nguest = \"noop\"",
        );
        let err = RuntimeFile::from_toml_str(&both, "runtime.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`functions[1].guest`: give either"), "{err}");
        let scale = FULL.replace("60.0", "0.0");
        let err = RuntimeFile::from_toml_str(&scale, "runtime.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`time_scale`"), "{err}");
    }
}
