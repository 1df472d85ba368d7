//! Host side of the guest ABI: the `faas` imports and the per-instance state they work on.

use std::ops::Range;
use std::sync::OnceLock;
use std::time::Instant;

use bytes::Bytes;
use wasmtime::{Caller, Engine, Linker, Memory, ResourceLimiter};

/// The import module every host function lives in.
pub(crate) const IMPORT_MODULE: &str = "faas";

/// What a store carries besides the instance: the current request and the instance's limits.
pub(crate) struct HostState {
    pub(crate) input: Bytes,
    pub(crate) output: Vec<u8>,
    /// The guest's exported memory, looked up once after instantiation.
    pub(crate) memory: Option<Memory>,
    memory_limit_bytes: usize,
    max_output_bytes: usize,
}

impl HostState {
    pub(crate) fn new(memory_limit_bytes: usize, max_output_bytes: usize) -> Self {
        Self {
            input: Bytes::new(),
            output: Vec::new(),
            memory: None,
            memory_limit_bytes,
            max_output_bytes,
        }
    }
}

/// Enforces the function's memory size: growing past it traps with a message saying so, and
/// a module whose initial memory is larger fails to instantiate.
impl ResourceLimiter for HostState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit_bytes {
            return Err(wasmtime::Error::msg(format!(
                "memory limit of {} MiB exceeded: the guest asked for {desired} bytes",
                self.memory_limit_bytes >> 20
            )));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

/// Microseconds on a monotonic clock shared by all instances.
fn now_us() -> i64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_micros() as i64
}

fn guest_memory(caller: &Caller<'_, HostState>, call: &str) -> wasmtime::Result<Memory> {
    caller
        .data()
        .memory
        .ok_or_else(|| wasmtime::Error::msg(format!("{call}: the guest exports no memory")))
}

/// The byte range `ptr..ptr+len` of guest memory, or a trap naming the call that asked for it.
fn guest_range(
    call: &str,
    ptr: i32,
    len: i32,
    memory_len: usize,
) -> wasmtime::Result<Range<usize>> {
    let start = ptr as u32 as usize;
    let len = usize::try_from(len)
        .map_err(|_| wasmtime::Error::msg(format!("{call}: negative length {len}")))?;
    start
        .checked_add(len)
        .filter(|&end| end <= memory_len)
        .map(|end| start..end)
        .ok_or_else(|| {
            wasmtime::Error::msg(format!(
                "{call}: bytes {start}..{} lie outside guest memory of {memory_len} bytes",
                start as u64 + len as u64
            ))
        })
}

/// A linker that provides every `faas` import.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    linker.func_wrap(
        IMPORT_MODULE,
        "input_len",
        |caller: Caller<'_, HostState>| caller.data().input.len() as i32,
    )?;
    linker.func_wrap(
        IMPORT_MODULE,
        "input_read",
        |mut caller: Caller<'_, HostState>, ptr: i32, len: i32| -> wasmtime::Result<i32> {
            let memory = guest_memory(&caller, "input_read")?;
            let (data, state) = memory.data_and_store_mut(&mut caller);
            let wanted = usize::try_from(len).unwrap_or(0).min(state.input.len());
            let range = guest_range("input_read", ptr, wanted as i32, data.len())?;
            data[range].copy_from_slice(&state.input[..wanted]);
            Ok(wanted as i32)
        },
    )?;
    linker.func_wrap(
        IMPORT_MODULE,
        "output_write",
        |mut caller: Caller<'_, HostState>, ptr: i32, len: i32| -> wasmtime::Result<()> {
            let memory = guest_memory(&caller, "output_write")?;
            let (data, state) = memory.data_and_store_mut(&mut caller);
            let range = guest_range("output_write", ptr, len, data.len())?;
            if state.output.len() + range.len() > state.max_output_bytes {
                return Err(wasmtime::Error::msg(format!(
                    "output_write: output exceeds the limit of {} bytes",
                    state.max_output_bytes
                )));
            }
            state.output.extend_from_slice(&data[range]);
            Ok(())
        },
    )?;
    linker.func_wrap(IMPORT_MODULE, "now_us", |_: Caller<'_, HostState>| now_us())?;
    Ok(linker)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_range_refuses_reads_past_the_end_and_negative_lengths() {
        assert_eq!(guest_range("t", 10, 6, 16).unwrap(), 10..16);
        let past = guest_range("t", 10, 7, 16).unwrap_err().to_string();
        assert!(
            past.contains("10..17") && past.contains("16 bytes"),
            "{past}"
        );
        assert!(
            guest_range("t", 0, -1, 16)
                .unwrap_err()
                .to_string()
                .contains("negative")
        );
        // A pointer above 2 GiB is an unsigned address, not a negative one.
        assert!(guest_range("t", -1, 1, 16).is_err());
    }
}
