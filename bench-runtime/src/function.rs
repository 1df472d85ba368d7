use std::path::PathBuf;
use std::time::Duration;

/// Shortest timeout: one epoch tick, the resolution at which timeouts are noticed.
const MIN_TIMEOUT: Duration = Duration::from_millis(1);
/// Longest timeout. Deadlines are computed from it, so it is bounded well below what a clock
/// can hold; an hour is what the longest-running FaaS offerings allow for a synchronous call.
const MAX_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// Longest keep-alive override.
const MAX_KEEP_ALIVE: Duration = Duration::from_secs(365 * 24 * 60 * 60);
/// Most instances of one function at once.
const MAX_INSTANCES: u32 = 100_000;
/// Most invocations of one function waiting at once.
const MAX_QUEUE: u32 = 1_000_000;

/// Where a function's code comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleSource {
    /// A built-in guest by spec, e.g. `cpu` or `init-heavy(init_ms=50, state_mib=16)` (see
    /// [`crate::guests`]).
    Builtin(String),
    /// WebAssembly text.
    Wat(String),
    /// A WebAssembly binary.
    Wasm(Vec<u8>),
    /// A `.wat` or `.wasm` file on disk.
    Path(PathBuf),
}

/// A function to deploy: its name, code and limits. Defaults are those of [`FunctionConfig::new`].
///
/// ```
/// use std::time::Duration;
/// use bench_runtime::{FunctionConfig, ModuleSource};
///
/// let resize = FunctionConfig::new("resize", ModuleSource::Builtin("cpu".into()))
///     .with_memory_mb(256)
///     .with_timeout(Duration::from_secs(5))
///     .with_prewarm(2);
/// assert_eq!(resize.max_instances, 16);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionConfig {
    /// Name used in `/invoke/{name}`: letters, digits, `-`, `_` and `.`.
    pub name: String,
    /// The module implementing the guest ABI.
    pub module: ModuleSource,
    /// Memory limit of each instance in MiB, the size held against the runtime's capacity and
    /// the size billed per GB-second. Default 128.
    pub memory_mb: u32,
    /// Longest an invocation (and an instance's `init`) may run; beyond it the invocation
    /// fails with 504 and the instance is discarded. Default 30 s; 1 ms to 1 h.
    pub timeout: Duration,
    /// Most invocations running at once; further ones wait in the queue. Default 16; at most
    /// 100 000.
    pub max_instances: u32,
    /// Most invocations waiting for an instance; beyond it requests get 429. Default 100; at
    /// most 1 000 000.
    pub max_queue: u32,
    /// Instances started at deploy and kept loaded whatever the keep-alive policy decides
    /// (provisioned concurrency). Default 0.
    pub prewarm: u32,
    /// Keep-alive override for this function: the TTL of the `fixed` policy and the fallback
    /// keep-alive of `hybrid-histogram`. Default none; at most 365 days.
    pub keep_alive: Option<Duration>,
}

impl FunctionConfig {
    /// A function with default limits.
    pub fn new(name: impl Into<String>, module: ModuleSource) -> Self {
        Self {
            name: name.into(),
            module,
            memory_mb: 128,
            timeout: Duration::from_secs(30),
            max_instances: 16,
            max_queue: 100,
            prewarm: 0,
            keep_alive: None,
        }
    }

    /// Sets [`FunctionConfig::memory_mb`].
    pub fn with_memory_mb(mut self, memory_mb: u32) -> Self {
        self.memory_mb = memory_mb;
        self
    }

    /// Sets [`FunctionConfig::timeout`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`FunctionConfig::max_instances`].
    pub fn with_max_instances(mut self, max_instances: u32) -> Self {
        self.max_instances = max_instances;
        self
    }

    /// Sets [`FunctionConfig::max_queue`].
    pub fn with_max_queue(mut self, max_queue: u32) -> Self {
        self.max_queue = max_queue;
        self
    }

    /// Sets [`FunctionConfig::prewarm`].
    pub fn with_prewarm(mut self, prewarm: u32) -> Self {
        self.prewarm = prewarm;
        self
    }

    /// Sets [`FunctionConfig::keep_alive`].
    pub fn with_keep_alive(mut self, keep_alive: Duration) -> Self {
        self.keep_alive = Some(keep_alive);
        self
    }

    /// Checks the limits; returns the offending field and why.
    pub(crate) fn check(&self, max_memory_mb: u32) -> Result<(), (&'static str, String)> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 128
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !name_ok {
            return Err((
                "name",
                "must be 1 to 128 letters, digits, `-`, `_` or `.`".into(),
            ));
        }
        if self.memory_mb == 0 || self.memory_mb > max_memory_mb {
            return Err((
                "memory_mb",
                format!(
                    "must be within 1..={max_memory_mb}, found {}",
                    self.memory_mb
                ),
            ));
        }
        if !(MIN_TIMEOUT..=MAX_TIMEOUT).contains(&self.timeout) {
            return Err((
                "timeout",
                format!(
                    "must be within 1ms..=1h, found {}",
                    humantime::format_duration(self.timeout)
                ),
            ));
        }
        if let Some(keep_alive) = self.keep_alive.filter(|&k| k > MAX_KEEP_ALIVE) {
            return Err((
                "keep_alive",
                format!(
                    "must be at most 365days, found {}",
                    humantime::format_duration(keep_alive)
                ),
            ));
        }
        if !(1..=MAX_INSTANCES).contains(&self.max_instances) {
            return Err((
                "max_instances",
                format!(
                    "must be within 1..={MAX_INSTANCES}, found {}",
                    self.max_instances
                ),
            ));
        }
        if self.max_queue > MAX_QUEUE {
            return Err((
                "max_queue",
                format!("must be within 0..={MAX_QUEUE}, found {}", self.max_queue),
            ));
        }
        if self.prewarm > self.max_instances {
            return Err((
                "prewarm",
                format!(
                    "{} exceeds max_instances ({})",
                    self.prewarm, self.max_instances
                ),
            ));
        }
        Ok(())
    }
}
