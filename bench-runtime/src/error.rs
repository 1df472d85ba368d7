use std::time::Duration;

use crate::Metering;

/// Why a function could not be deployed. Each variant names the function.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("function `{function}`: {message}")]
    InvalidModule { function: String, message: String },
    #[error("function `{function}`: {message}")]
    InvalidGuest { function: String, message: String },
    #[error("function `{function}`: cannot read module {path}: {source}")]
    ReadModule {
        function: String,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("function `{function}`: {field} {message}")]
    InvalidConfig {
        function: String,
        field: &'static str,
        message: String,
    },
}

/// Why an invocation produced no output. Each variant names the function.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("unknown function `{0}`")]
    UnknownFunction(String),
    /// The guest trapped; the instance was discarded.
    #[error("function `{function}` trapped: {message}")]
    Trap {
        function: String,
        message: String,
        /// The work done before the trap, billed like any other invocation.
        metering: Metering,
    },
    /// The invocation ran past the function's timeout; the instance was discarded.
    #[error("function `{function}` timed out after {}", humantime::format_duration(*.timeout))]
    Timeout {
        function: String,
        timeout: Duration,
        metering: Metering,
    },
    /// A new instance could not be started (instantiation or `init` failed).
    #[error("function `{function}` failed to start: {message}")]
    StartFailed { function: String, message: String },
    /// Every instance is busy and the queue is full.
    #[error(
        "function `{function}` is at its limit of {max_instances} instances with {waiting} invocations queued; retry after {retry_after_s} s"
    )]
    QueueFull {
        function: String,
        max_instances: u32,
        waiting: u32,
        retry_after_s: u64,
    },
    /// No memory or instance slot for a new instance, and no idle instance to evict.
    #[error(
        "function `{function}` cannot start an instance of {needed_mb} MiB: {used_mb} of {capacity_mb} MiB and {live} of {slots} instance slots are held by instances that cannot be evicted; retry after {retry_after_s} s"
    )]
    CapacityFull {
        function: String,
        needed_mb: u32,
        used_mb: u64,
        capacity_mb: u64,
        live: u32,
        slots: u32,
        retry_after_s: u64,
    },
}

impl InvokeError {
    /// The metering of an invocation that ran before failing.
    pub fn metering(&self) -> Option<&Metering> {
        match self {
            Self::Trap { metering, .. } | Self::Timeout { metering, .. } => Some(metering),
            _ => None,
        }
    }
}

/// The runtime could not be created with the given configuration.
#[derive(Debug, thiserror::Error)]
#[error("cannot create the runtime: {0}")]
pub struct EngineError(pub String);
