use std::path::PathBuf;

/// Where a function's code comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleSource {
    /// One of the runtime's built-in guests, by name (see [`crate::guests`]).
    Builtin(String),
    /// WebAssembly text.
    Wat(String),
    /// A WebAssembly binary.
    Wasm(Vec<u8>),
    /// A `.wat` or `.wasm` file on disk.
    Path(PathBuf),
}

/// A function to deploy: its name, code and limits.
///
/// ```
/// use bench_runtime::{FunctionConfig, ModuleSource};
///
/// let hello = FunctionConfig::new("hello", ModuleSource::Builtin("noop".into()))
///     .with_memory_mb(256)
///     .with_max_instances(4);
/// assert_eq!(hello.memory_mb, 256);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionConfig {
    /// Name used in `/invoke/{name}`.
    pub name: String,
    /// The module implementing the guest ABI.
    pub module: ModuleSource,
    /// Memory limit of each instance in MiB, and the size billed per GB-second. Default 128.
    pub memory_mb: u32,
    /// Most instances of this function alive at once; further invocations wait. Default 16.
    pub max_instances: u32,
}

impl FunctionConfig {
    /// A function with default limits.
    pub fn new(name: impl Into<String>, module: ModuleSource) -> Self {
        Self {
            name: name.into(),
            module,
            memory_mb: 128,
            max_instances: 16,
        }
    }

    /// Sets [`FunctionConfig::memory_mb`].
    pub fn with_memory_mb(mut self, memory_mb: u32) -> Self {
        self.memory_mb = memory_mb;
        self
    }

    /// Sets [`FunctionConfig::max_instances`].
    pub fn with_max_instances(mut self, max_instances: u32) -> Self {
        self.max_instances = max_instances;
        self
    }
}
