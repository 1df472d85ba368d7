//! Deployment: turning a [`FunctionConfig`] into a checked, ready-to-start function.
//!
//! The module is resolved (built-in guest, text, binary or file), validated and compiled once
//! so that a broken module is refused at deploy time with wasmtime's own message, checked
//! against the guest ABI, and — when snapshots are on — instrumented for snapshot capture.

use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Semaphore;

use crate::claim::StartTracker;
use wasmtime::{Engine, ExternType, FuncType, InstancePre, Linker, Module};

use crate::abi::HostState;
use crate::guests::GuestSpec;
use crate::snapshot::{self, Instrumented};
use crate::{DeployError, FunctionConfig, ModuleSource, RuntimeConfig};

/// Whether a function can start from a snapshot.
pub(crate) enum SnapshotState {
    /// Snapshots are off, or the module cannot be snapshotted (the reason says which).
    Off(String),
    /// No instance has run `init` yet.
    Pending,
    /// The first `init` ran; the snapshot module is being built.
    Capturing,
    Ready(Arc<InstancePre<HostState>>),
    Failed(String),
}

impl SnapshotState {
    /// `off: <why>`, `pending`, `capturing`, `ready` or `failed: <why>`.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Off(reason) => format!("off: {reason}"),
            Self::Pending => "pending".into(),
            Self::Capturing => "capturing".into(),
            Self::Ready(_) => "ready".into(),
            Self::Failed(reason) => format!("failed: {reason}"),
        }
    }
}

/// A deployed function.
pub(crate) struct Deployed {
    pub(crate) name: Arc<str>,
    pub(crate) config: FunctionConfig,
    /// Distinguishes this deployment from earlier ones of the same name.
    pub(crate) generation: u64,
    pub(crate) original: Vec<u8>,
    /// Set when snapshots are possible: cold starts then run this instrumented module.
    pub(crate) instrumented: Option<Instrumented>,
    snapshot: Mutex<SnapshotState>,
    /// One permit per invocation that may run at once.
    pub(crate) permits: Arc<Semaphore>,
    /// Invocations waiting for a permit.
    pub(crate) waiting: AtomicU32,
    /// Starts of new instances for invocations, for telling queued invocations whether they
    /// waited behind one.
    pub(crate) starts: StartTracker,
}

impl Deployed {
    pub(crate) fn snapshot(&self) -> MutexGuard<'_, SnapshotState> {
        self.snapshot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The module cold starts compile: the instrumented one when snapshots are possible.
    pub(crate) fn cold_module(&self) -> &[u8] {
        self.instrumented
            .as_ref()
            .map_or(&self.original[..], |instrumented| &instrumented.wasm[..])
    }
}

/// Checks `function` and prepares it for starting.
pub(crate) fn prepare(
    function: FunctionConfig,
    generation: u64,
    engine: &Engine,
    linker: &Linker<HostState>,
    config: &RuntimeConfig,
) -> Result<Deployed, DeployError> {
    function
        .check(config.max_function_memory_mb)
        .map_err(|(field, message)| DeployError::InvalidConfig {
            function: function.name.clone(),
            field,
            message,
        })?;
    if u64::from(function.memory_mb) > config.capacity_mb {
        return Err(DeployError::InvalidConfig {
            function: function.name.clone(),
            field: "memory_mb",
            message: format!(
                "{} exceeds the runtime's whole capacity of {} MiB",
                function.memory_mb, config.capacity_mb
            ),
        });
    }
    let original = resolve(&function)?;
    let invalid = |message: String| DeployError::InvalidModule {
        function: function.name.clone(),
        message,
    };
    let module = Module::new(engine, &original).map_err(|err| invalid(format!("{err:#}")))?;
    check_abi(engine, linker, &module, function.memory_mb).map_err(invalid)?;

    let (instrumented, snapshot) = if !config.snapshots {
        (
            None,
            SnapshotState::Off("disabled in the runtime configuration".into()),
        )
    } else {
        match snapshot::instrument(&original) {
            Ok(instrumented) => (Some(instrumented), SnapshotState::Pending),
            Err(reason) => (None, SnapshotState::Off(reason)),
        }
    };
    Ok(Deployed {
        name: Arc::from(function.name.as_str()),
        permits: Arc::new(Semaphore::new(function.max_instances as usize)),
        waiting: AtomicU32::new(0),
        starts: StartTracker::default(),
        config: function,
        generation,
        original,
        instrumented,
        snapshot: Mutex::new(snapshot),
    })
}

/// The module's WebAssembly binary.
fn resolve(function: &FunctionConfig) -> Result<Vec<u8>, DeployError> {
    let invalid = |message: String| DeployError::InvalidModule {
        function: function.name.clone(),
        message,
    };
    match &function.module {
        ModuleSource::Builtin(spec) => {
            let wat = GuestSpec::parse(spec)
                .and_then(|guest| guest.wat())
                .map_err(|message| DeployError::InvalidGuest {
                    function: function.name.clone(),
                    message,
                })?;
            wat::parse_str(wat).map_err(|err| invalid(err.to_string()))
        }
        ModuleSource::Wat(text) => wat::parse_str(text).map_err(|err| invalid(err.to_string())),
        ModuleSource::Wasm(bytes) => Ok(bytes.clone()),
        ModuleSource::Path(path) => {
            let bytes = std::fs::read(path).map_err(|source| DeployError::ReadModule {
                function: function.name.clone(),
                path: path.clone(),
                source,
            })?;
            wat::parse_bytes(&bytes)
                .map(|wasm| wasm.into_owned())
                .map_err(|err| invalid(format!("{}: {err}", path.display())))
        }
    }
}

/// Checks the guest ABI: imports the runtime provides, `memory` and `handle` exported, an
/// optional `init`, and an initial memory that fits the function's memory size.
fn check_abi(
    engine: &Engine,
    linker: &Linker<HostState>,
    module: &Module,
    memory_mb: u32,
) -> Result<(), String> {
    linker
        .instantiate_pre(module)
        .map_err(|err| format!("{err:#}"))?;
    let unit = FuncType::new(engine, [], []);
    let mut memory_found = false;
    let mut handle_found = false;
    for export in module.exports() {
        match (export.name(), export.ty()) {
            ("memory", ExternType::Memory(memory)) => {
                memory_found = true;
                let initial_bytes = memory.minimum().saturating_mul(memory.page_size());
                if initial_bytes > u64::from(memory_mb) << 20 {
                    return Err(format!(
                        "the initial memory of {initial_bytes} bytes exceeds the function's memory size of {memory_mb} MiB"
                    ));
                }
            }
            (name @ ("handle" | "init"), ExternType::Func(func)) => {
                if !FuncType::eq(&func, &unit) {
                    return Err(format!(
                        "export `{name}` must have type [] -> [], found {func}"
                    ));
                }
                handle_found |= name == "handle";
            }
            (name @ ("memory" | "handle" | "init"), other) => {
                return Err(format!("export `{name}` has the wrong kind: {other:?}"));
            }
            _ => {}
        }
    }
    if !memory_found {
        return Err("the module must export its memory as `memory`".into());
    }
    if !handle_found {
        return Err("the module must export a function `handle`".into());
    }
    Ok(())
}
