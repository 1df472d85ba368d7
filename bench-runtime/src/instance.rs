//! One live instance of a function: its store, its exports, and the start paths that make it.

use std::time::Instant;

use bytes::Bytes;
use wasmtime::{
    Engine, Instance, InstancePre, Linker, Module, Store, TypedFunc, UpdateDeadline, WasmBacktrace,
};

use crate::abi::{HostState, InstanceLimits};
use crate::snapshot::{self, Captured, Instrumented};

/// Why guest code did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GuestFailure {
    /// It trapped (or a host call failed); the message says why and where.
    Trap(String),
    /// It ran past its deadline.
    Timeout,
}

/// An instantiated function, ready to handle invocations one at a time.
pub(crate) struct FunctionInstance {
    id: u64,
    store: Store<HostState>,
    handle: TypedFunc<(), ()>,
}

fn new_store(engine: &Engine, limits: InstanceLimits) -> Store<HostState> {
    let mut store = Store::new(engine, HostState::new(limits));
    store.limiter(|state| state as &mut dyn wasmtime::ResourceLimiter);
    // At every epoch tick: end the call if its deadline passed, otherwise yield to the async
    // executor so that a computing guest never holds a thread for long.
    store.epoch_deadline_callback(|mut context| {
        let state = context.data_mut();
        if state
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            state.timed_out = true;
            return Ok(UpdateDeadline::Interrupt);
        }
        Ok(UpdateDeadline::Yield(1))
    });
    store
}

/// Classifies the error of a guest call.
fn failure(store: &Store<HostState>, err: &wasmtime::Error) -> GuestFailure {
    if store.data().timed_out {
        GuestFailure::Timeout
    } else {
        GuestFailure::Trap(failure_message(err))
    }
}

impl FunctionInstance {
    /// The `cold` start path after compilation: instantiate the freshly compiled `module`,
    /// run `init` before `deadline`. With `capture`, `module` is that instrumented module and
    /// the post-`init` state is captured for a snapshot.
    pub(crate) async fn cold(
        engine: &Engine,
        linker: &Linker<HostState>,
        module: &Module,
        limits: InstanceLimits,
        id: u64,
        deadline: Instant,
        capture: Option<&Instrumented>,
    ) -> Result<(Self, Option<Result<Captured, String>>), GuestFailure> {
        let mut store = new_store(engine, limits);
        store.data_mut().deadline = Some(deadline);
        store.set_epoch_deadline(1);
        let instance = linker
            .instantiate_async(&mut store, module)
            .await
            .map_err(|err| failure(&store, &err))?;
        let handle = Self::exports(&mut store, &instance)?;
        if let Some(init) = instance.get_func(&mut store, "init") {
            let init = init
                .typed::<(), ()>(&store)
                .map_err(|err| GuestFailure::Trap(format!("{err:#}")))?;
            init.call_async(&mut store, ())
                .await
                .map_err(|err| failure(&store, &err))?;
        }
        let captured =
            capture.map(|instrumented| snapshot::capture(&mut store, &instance, instrumented));
        store.data_mut().deadline = None;
        Ok((Self { id, store, handle }, captured))
    }

    /// The `snapshot` start path: instantiate the pre-linked snapshot module, whose memory and
    /// globals already hold the post-`init` state; `init` is not run.
    pub(crate) async fn restore(
        engine: &Engine,
        snapshot: &InstancePre<HostState>,
        limits: InstanceLimits,
        id: u64,
    ) -> Result<Self, GuestFailure> {
        let mut store = new_store(engine, limits);
        let instance = snapshot
            .instantiate_async(&mut store)
            .await
            .map_err(|err| failure(&store, &err))?;
        let handle = Self::exports(&mut store, &instance)?;
        Ok(Self { id, store, handle })
    }

    fn exports(
        store: &mut Store<HostState>,
        instance: &Instance,
    ) -> Result<TypedFunc<(), ()>, GuestFailure> {
        let memory = instance.get_memory(&mut *store, "memory").ok_or_else(|| {
            GuestFailure::Trap("the module exports no memory named `memory`".into())
        })?;
        store.data_mut().memory = Some(memory);
        instance
            .get_typed_func::<(), ()>(&mut *store, "handle")
            .map_err(|err| GuestFailure::Trap(format!("{err:#}")))
    }

    /// Runtime-wide unique id of this instance.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Runs `handle` on `input` until `deadline`, at chain nesting `depth`; returns what the
    /// guest wrote.
    pub(crate) async fn handle(
        &mut self,
        input: Bytes,
        deadline: Instant,
        depth: u32,
    ) -> Result<Vec<u8>, GuestFailure> {
        let state = self.store.data_mut();
        state.input = input;
        state.output.clear();
        state.deadline = Some(deadline);
        state.timed_out = false;
        state.depth = depth;
        self.store.set_epoch_deadline(1);
        let result = self.handle.call_async(&mut self.store, ()).await;
        let outcome = match result {
            Ok(()) => Ok(std::mem::take(&mut self.store.data_mut().output)),
            Err(err) => Err(failure(&self.store, &err)),
        };
        let state = self.store.data_mut();
        state.input = Bytes::new();
        state.deadline = None;
        outcome
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
