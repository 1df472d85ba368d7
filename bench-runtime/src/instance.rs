//! One live instance of a function: its store, its exports, and the cold start that makes it.

use bytes::Bytes;
use wasmtime::{Engine, Linker, Module, Store, TypedFunc, WasmBacktrace};

use crate::abi::HostState;

/// Per-instance limits taken from the function's deployment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InstanceLimits {
    pub(crate) memory_bytes: usize,
    pub(crate) max_output_bytes: usize,
}

/// An instantiated function, ready to handle invocations one at a time.
pub(crate) struct FunctionInstance {
    id: u64,
    store: Store<HostState>,
    handle: TypedFunc<(), ()>,
}

impl FunctionInstance {
    /// The `cold` start path: compile the module with Cranelift, instantiate it, run `init`.
    pub(crate) fn cold_start(
        engine: &Engine,
        linker: &Linker<HostState>,
        wasm: &[u8],
        limits: InstanceLimits,
        id: u64,
    ) -> wasmtime::Result<Self> {
        let module = Module::new(engine, wasm)?;
        let state = HostState::new(limits.memory_bytes, limits.max_output_bytes);
        let mut store = Store::new(engine, state);
        store.limiter(|state| state as &mut dyn wasmtime::ResourceLimiter);
        let instance = linker.instantiate(&mut store, &module)?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| wasmtime::Error::msg("the module exports no memory named `memory`"))?;
        store.data_mut().memory = Some(memory);
        let handle = instance.get_typed_func::<(), ()>(&mut store, "handle")?;
        if let Some(init) = instance.get_func(&mut store, "init") {
            init.typed::<(), ()>(&store)?.call(&mut store, ())?;
        }
        Ok(Self { id, store, handle })
    }

    /// Runtime-wide unique id of this instance.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Runs `handle` on `input` and returns what the guest wrote.
    pub(crate) fn handle(&mut self, input: Bytes) -> wasmtime::Result<Vec<u8>> {
        let state = self.store.data_mut();
        state.input = input;
        state.output.clear();
        self.handle.call(&mut self.store, ())?;
        let state = self.store.data_mut();
        state.input = Bytes::new();
        Ok(std::mem::take(&mut state.output))
    }
}

/// One line saying why guest code failed: the root cause, then where in the guest it happened
/// (`… in wasm function 3 at offset 0x98`), for a response body or a log line.
pub(crate) fn failure_message(err: &wasmtime::Error) -> String {
    let mut message = err.root_cause().to_string();
    if let Some(frame) = err
        .downcast_ref::<WasmBacktrace>()
        .and_then(|trace| trace.frames().first())
    {
        match frame.func_name() {
            Some(name) => message.push_str(&format!(" in `{name}`")),
            None => message.push_str(&format!(" in wasm function {}", frame.func_index())),
        }
        if let Some(offset) = frame.module_offset() {
            message.push_str(&format!(" at offset {offset:#x}"));
        }
    }
    message
}
