use std::time::Duration;

use crate::policy::KeepAliveConfig;

/// Most compilations at once: tokio's blocking pool holds 512 threads, shared with the rest of
/// the process.
const MAX_COMPILE_THREADS: usize = 256;
/// Longest connection timeout accepted: beyond a day a timeout is a typo, not a setting.
const MAX_CONNECTION_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// Settings of a [`Runtime`](crate::Runtime), with documented defaults.
///
/// ```
/// use bench_runtime::RuntimeConfig;
/// use bench_runtime::policy::KeepAliveConfig;
///
/// let config = RuntimeConfig::default()
///     .with_keep_alive(KeepAliveConfig::FaasCache {})
///     .with_capacity_mb(2048)
///     .with_time_scale(60.0);
/// assert!(config.snapshots);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeConfig {
    /// The keep-alive policy. Default `fixed` with a 10-minute TTL.
    pub keep_alive: KeepAliveConfig,
    /// Start new instances from a post-`init` snapshot once one exists. Default true.
    pub snapshots: bool,
    /// Memory available to instances, MiB: the sum of the memory sizes of all live instances
    /// never exceeds it. Default 16384.
    pub capacity_mb: u64,
    /// How much faster than real time the policy clock runs: a scenario that compresses time
    /// k× sets k, so a 10-minute keep-alive stays 10 trace-minutes. Default 1.
    pub time_scale: f64,
    /// Instance slots the pooling allocator reserves, across all functions. Default 1000.
    pub instance_slots: u32,
    /// Largest memory size a function may be deployed with, MiB (at most 4096). Default 4096.
    pub max_function_memory_mb: u32,
    /// Memory of a freed instance slot kept resident (reset by copying instead of unmapping),
    /// MiB. Instances that reuse the slot find those pages present: no page faults. Default 32.
    pub keep_resident_mb: u32,
    /// Largest request body accepted, bytes; larger ones get 413. Default 6 MiB, the
    /// synchronous payload limit of AWS Lambda.
    pub max_body_bytes: usize,
    /// Largest output a guest may write, bytes; writing more traps. Default 6 MiB.
    pub max_output_bytes: usize,
    /// Deepest nesting of `invoke` calls (function chains). Default 8.
    pub max_chain_depth: u32,
    /// Compilations (cold starts, snapshot builds) running at once, each on a blocking thread
    /// of its own, never on the threads that serve HTTP. Default: the number of cores.
    pub compile_threads: usize,
    /// Longest an HTTP/1.1 request head may take to arrive, from its first byte to its end;
    /// a connection trickling a head slower is closed. Default 10 s.
    pub header_timeout: Duration,
    /// Longest a connection may stay idle (no request in flight and none begun, since it
    /// opened or since its last answer) before it is closed; for HTTP/2, idle means without
    /// open streams. A request in flight is never cut by it. Default 60 s.
    pub idle_timeout: Duration,
    /// Connections the kernel queues for the server before they are accepted; the kernel caps
    /// it at `net.core.somaxconn`. Default 4096.
    pub listen_backlog: u32,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            keep_alive: KeepAliveConfig::default(),
            snapshots: true,
            capacity_mb: 16384,
            time_scale: 1.0,
            instance_slots: 1000,
            max_function_memory_mb: 4096,
            keep_resident_mb: 32,
            max_body_bytes: 6 << 20,
            max_output_bytes: 6 << 20,
            max_chain_depth: 8,
            compile_threads: std::thread::available_parallelism().map_or(2, usize::from),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            listen_backlog: 4096,
        }
    }
}

impl RuntimeConfig {
    /// Sets [`RuntimeConfig::keep_alive`].
    pub fn with_keep_alive(mut self, keep_alive: KeepAliveConfig) -> Self {
        self.keep_alive = keep_alive;
        self
    }

    /// Sets [`RuntimeConfig::snapshots`].
    pub fn with_snapshots(mut self, snapshots: bool) -> Self {
        self.snapshots = snapshots;
        self
    }

    /// Sets [`RuntimeConfig::capacity_mb`].
    pub fn with_capacity_mb(mut self, capacity_mb: u64) -> Self {
        self.capacity_mb = capacity_mb;
        self
    }

    /// Sets [`RuntimeConfig::time_scale`].
    pub fn with_time_scale(mut self, time_scale: f64) -> Self {
        self.time_scale = time_scale;
        self
    }

    /// Sets [`RuntimeConfig::instance_slots`].
    pub fn with_instance_slots(mut self, slots: u32) -> Self {
        self.instance_slots = slots;
        self
    }

    /// Sets [`RuntimeConfig::max_body_bytes`].
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Sets [`RuntimeConfig::compile_threads`].
    pub fn with_compile_threads(mut self, threads: usize) -> Self {
        self.compile_threads = threads;
        self
    }

    /// Sets [`RuntimeConfig::header_timeout`].
    pub fn with_header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// Sets [`RuntimeConfig::idle_timeout`].
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`RuntimeConfig::listen_backlog`].
    pub fn with_listen_backlog(mut self, backlog: u32) -> Self {
        self.listen_backlog = backlog;
        self
    }

    /// Checks the settings; returns the offending field and why.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        if self.max_function_memory_mb == 0 || self.max_function_memory_mb > 4096 {
            return Err((
                "max_function_memory_mb",
                format!(
                    "must be within 1..=4096, found {}",
                    self.max_function_memory_mb
                ),
            ));
        }
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err((
                "time_scale",
                format!("must be a positive number, found {}", self.time_scale),
            ));
        }
        if self.instance_slots == 0 {
            return Err(("instance_slots", "must be at least 1".into()));
        }
        if self.capacity_mb == 0 {
            return Err(("capacity_mb", "must be at least 1".into()));
        }
        if !(1..=MAX_COMPILE_THREADS).contains(&self.compile_threads) {
            return Err((
                "compile_threads",
                format!(
                    "must be within 1..={MAX_COMPILE_THREADS}, found {}",
                    self.compile_threads
                ),
            ));
        }
        for (field, timeout) in [
            ("header_timeout", self.header_timeout),
            ("idle_timeout", self.idle_timeout),
        ] {
            if timeout.is_zero() || timeout > MAX_CONNECTION_TIMEOUT {
                return Err((
                    field,
                    format!(
                        "must be longer than zero and at most {}, found {}",
                        humantime::format_duration(MAX_CONNECTION_TIMEOUT),
                        humantime::format_duration(timeout)
                    ),
                ));
            }
        }
        if !(1..=65535).contains(&self.listen_backlog) {
            return Err((
                "listen_backlog",
                format!("must be within 1..=65535, found {}", self.listen_backlog),
            ));
        }
        if let KeepAliveConfig::HybridHistogram(hybrid) = &self.keep_alive {
            hybrid
                .validate()
                .map_err(|err| ("keep_alive", err.to_string()))?;
        }
        Ok(())
    }
}
