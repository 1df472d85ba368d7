use std::path::PathBuf;

/// Why a scenario could not be loaded. Every variant names the file it came from.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The TOML is malformed or does not match the scenario format. The message from the
    /// parser carries the line, column and offending key.
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// The scenario's trace cannot be read.
    #[error("{path}: `trace`: {source}")]
    Trace {
        path: PathBuf,
        #[source]
        source: crate::trace::TraceError,
    },
    /// The file parsed but a value is out of range or inconsistent.
    #[error("{path}: `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
}
