/// Settings of a [`Runtime`](crate::Runtime), with documented defaults.
///
/// ```
/// let config = bench_runtime::RuntimeConfig::default().with_instance_slots(64);
/// assert_eq!(config.instance_slots, 64);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Instances the pooling allocator reserves slots for, across all functions. Starting an
    /// instance when every slot is taken fails. Default 1000.
    pub instance_slots: u32,
    /// Largest memory size a function may be deployed with, in MiB. Default 4096 (all of a
    /// 32-bit WebAssembly address space).
    pub max_function_memory_mb: u32,
    /// Largest request body accepted, in bytes; larger ones get 413. Default 6 MiB, the
    /// synchronous payload limit of AWS Lambda.
    pub max_body_bytes: usize,
    /// Largest output a guest may write, in bytes; writing more traps. Default 6 MiB.
    pub max_output_bytes: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            instance_slots: 1000,
            max_function_memory_mb: 4096,
            max_body_bytes: 6 << 20,
            max_output_bytes: 6 << 20,
        }
    }
}

impl RuntimeConfig {
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
}
