//! Host side of the guest ABI: the `faas` imports and the per-instance state they work on.

use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::{OnceLock, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use wasmtime::{Caller, Engine, Linker, Memory, ResourceLimiter};

/// The import module every host function lives in.
pub(crate) const IMPORT_MODULE: &str = "faas";

/// Runs a nested invocation for the `invoke` import (function chains).
pub(crate) trait Invoker: Send + Sync {
    /// Invokes `function` with `input` at nesting `depth`; the output, or why it failed.
    fn invoke_nested(
        &self,
        function: String,
        input: Bytes,
        depth: u32,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send + '_>>;
}

/// Fixed properties of an instance, from its function's deployment and the runtime.
#[derive(Clone)]
pub(crate) struct InstanceLimits {
    pub(crate) memory_bytes: usize,
    pub(crate) max_output_bytes: usize,
    pub(crate) max_chain_depth: u32,
    pub(crate) invoker: Option<Weak<dyn Invoker>>,
}

/// What a store carries besides the instance: the current request and the instance's limits.
pub(crate) struct HostState {
    pub(crate) input: Bytes,
    pub(crate) output: Vec<u8>,
    /// The guest's exported memory, looked up once after instantiation.
    pub(crate) memory: Option<Memory>,
    /// When the current call must end; checked at every epoch tick and in host waits.
    pub(crate) deadline: Option<Instant>,
    /// Set when the deadline cut the current call short.
    pub(crate) timed_out: bool,
    /// Nesting depth of the current invocation (0 for one that came over HTTP).
    pub(crate) depth: u32,
    /// Output of the last `invoke`, read with `invoke_result_read`.
    invoke_result: Vec<u8>,
    limits: InstanceLimits,
}

impl HostState {
    pub(crate) fn new(limits: InstanceLimits) -> Self {
        Self {
            input: Bytes::new(),
            output: Vec::new(),
            memory: None,
            deadline: None,
            timed_out: false,
            depth: 0,
            invoke_result: Vec::new(),
            limits,
        }
    }

    /// Time left before the deadline, or `None` when there is none.
    fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }

    /// Marks the call as timed out and returns the trap that ends it.
    fn time_out(&mut self, call: &str) -> wasmtime::Error {
        self.timed_out = true;
        wasmtime::Error::msg(format!("{call}: the invocation's timeout expired"))
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
        if desired > self.limits.memory_bytes {
            return Err(wasmtime::Error::msg(format!(
                "memory limit of {} MiB exceeded: the guest asked for {desired} bytes",
                self.limits.memory_bytes >> 20
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

/// Copies up to `len` bytes of what `source` picks from the host state to `ptr` in guest
/// memory; returns how many were copied.
fn copy_to_guest(
    caller: &mut Caller<'_, HostState>,
    call: &str,
    ptr: i32,
    len: i32,
    source: impl Fn(&HostState) -> &[u8],
) -> wasmtime::Result<i32> {
    let memory = guest_memory(caller, call)?;
    let (data, state) = memory.data_and_store_mut(caller);
    let bytes = source(state);
    let wanted = usize::try_from(len).unwrap_or(0).min(bytes.len());
    let range = guest_range(call, ptr, wanted as i32, data.len())?;
    data[range].copy_from_slice(&bytes[..wanted]);
    Ok(wanted as i32)
}

/// Copies `len` bytes at `ptr` out of guest memory.
fn read_guest(
    caller: &mut Caller<'_, HostState>,
    call: &str,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<Vec<u8>> {
    let memory = guest_memory(caller, call)?;
    let data = memory.data(&caller);
    let range = guest_range(call, ptr, len, data.len())?;
    Ok(data[range].to_vec())
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
        |mut caller: Caller<'_, HostState>, ptr: i32, len: i32| {
            copy_to_guest(&mut caller, "input_read", ptr, len, |state| &state.input)
        },
    )?;
    linker.func_wrap(
        IMPORT_MODULE,
        "output_write",
        |mut caller: Caller<'_, HostState>, ptr: i32, len: i32| -> wasmtime::Result<()> {
            let memory = guest_memory(&caller, "output_write")?;
            let (data, state) = memory.data_and_store_mut(&mut caller);
            let range = guest_range("output_write", ptr, len, data.len())?;
            if state.output.len() + range.len() > state.limits.max_output_bytes {
                return Err(wasmtime::Error::msg(format!(
                    "output_write: output exceeds the limit of {} bytes",
                    state.limits.max_output_bytes
                )));
            }
            state.output.extend_from_slice(&data[range]);
            Ok(())
        },
    )?;
    linker.func_wrap(IMPORT_MODULE, "now_us", |_: Caller<'_, HostState>| now_us())?;
    linker.func_wrap_async(
        IMPORT_MODULE,
        "sleep_ms",
        |mut caller: Caller<'_, HostState>, (ms,): (i32,)| {
            Box::new(async move {
                let wanted = Duration::from_millis(u64::try_from(ms).unwrap_or(0));
                match caller.data().remaining() {
                    Some(left) if left < wanted => {
                        tokio::time::sleep(left).await;
                        Err(caller.data_mut().time_out("sleep_ms"))
                    }
                    _ => {
                        tokio::time::sleep(wanted).await;
                        Ok(())
                    }
                }
            })
        },
    )?;
    linker.func_wrap_async(
        IMPORT_MODULE,
        "invoke",
        |mut caller: Caller<'_, HostState>,
         (name_ptr, name_len, input_ptr, input_len): (i32, i32, i32, i32)| {
            Box::new(async move {
                let name = read_guest(&mut caller, "invoke", name_ptr, name_len)?;
                let name = String::from_utf8(name)
                    .map_err(|_| wasmtime::Error::msg("invoke: the function name is not UTF-8"))?;
                let input = read_guest(&mut caller, "invoke", input_ptr, input_len)?;
                let state = caller.data();
                let depth = state.depth + 1;
                if depth > state.limits.max_chain_depth {
                    return Err(wasmtime::Error::msg(format!(
                        "invoke `{name}`: chains may nest at most {} deep",
                        state.limits.max_chain_depth
                    )));
                }
                let invoker = state
                    .limits
                    .invoker
                    .as_ref()
                    .and_then(Weak::upgrade)
                    .ok_or_else(|| wasmtime::Error::msg("invoke: the runtime is shutting down"))?;
                let remaining = state.remaining();
                let call = invoker.invoke_nested(name.clone(), Bytes::from(input), depth);
                let output = match remaining {
                    Some(left) => match tokio::time::timeout(left, call).await {
                        Ok(output) => output,
                        Err(_) => return Err(caller.data_mut().time_out("invoke")),
                    },
                    None => call.await,
                }
                .map_err(|message| wasmtime::Error::msg(format!("invoke `{name}`: {message}")))?;
                let len = i32::try_from(output.len())
                    .map_err(|_| wasmtime::Error::msg("invoke: the output is too large"))?;
                caller.data_mut().invoke_result = output;
                Ok(len)
            })
        },
    )?;
    linker.func_wrap(
        IMPORT_MODULE,
        "invoke_result_read",
        |mut caller: Caller<'_, HostState>, ptr: i32, len: i32| {
            copy_to_guest(&mut caller, "invoke_result_read", ptr, len, |state| {
                &state.invoke_result
            })
        },
    )?;
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
