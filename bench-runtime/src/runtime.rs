//! The runtime: the engine, deployed functions, and the invocation path through start kinds.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Instant;

use bytes::Bytes;
use wasmtime::{
    Engine, ExternType, FuncType, InstanceAllocationStrategy, Linker, Module,
    PoolingAllocationConfig,
};

use crate::abi::{self, HostState};
use crate::instance::{FunctionInstance, InstanceLimits, failure_message};
use crate::metering::{self, Metering, StartKind, micros};
use crate::{DeployError, EngineError, FunctionConfig, InvokeError, ModuleSource, RuntimeConfig};

/// What an invocation returned, with its measurements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationOutput {
    pub output: Vec<u8>,
    pub metering: Metering,
}

struct Deployed {
    config: FunctionConfig,
    wasm: Vec<u8>,
    pool: crate::pool::WarmPool,
}

/// The reference FaaS runtime: deploys functions and invokes them on wasmtime instances.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use bench_runtime::{FunctionConfig, ModuleSource, Runtime, RuntimeConfig, StartKind};
///
/// let runtime = Runtime::new(RuntimeConfig::default().with_instance_slots(8)).unwrap();
/// runtime.deploy(FunctionConfig::new("echo", ModuleSource::Builtin("echo".into()))).unwrap();
/// let first = runtime.invoke("echo", "hi".into()).await.unwrap();
/// let second = runtime.invoke("echo", "hi".into()).await.unwrap();
/// assert_eq!(first.output, b"hi");
/// assert_eq!(first.metering.start, StartKind::Cold);
/// assert_eq!(second.metering.start, StartKind::Warm);
/// # });
/// ```
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    config: RuntimeConfig,
    functions: RwLock<HashMap<String, Arc<Deployed>>>,
    next_instance: AtomicU64,
}

impl Runtime {
    /// Creates the engine with a pooling allocator sized by `config`.
    pub fn new(config: RuntimeConfig) -> Result<Self, EngineError> {
        if config.max_function_memory_mb == 0 || config.max_function_memory_mb > 4096 {
            return Err(EngineError(format!(
                "max_function_memory_mb must be within 1..=4096, found {}",
                config.max_function_memory_mb
            )));
        }
        let mut pooling = PoolingAllocationConfig::new();
        pooling
            .total_core_instances(config.instance_slots)
            .total_memories(config.instance_slots)
            .total_tables(config.instance_slots)
            .max_memory_size((config.max_function_memory_mb as usize) << 20);
        let mut wasm = wasmtime::Config::new();
        wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
        let engine = Engine::new(&wasm).map_err(|err| EngineError(format!("{err:#}")))?;
        let linker = abi::linker(&engine).map_err(|err| EngineError(format!("{err:#}")))?;
        Ok(Self {
            engine,
            linker,
            config,
            functions: RwLock::new(HashMap::new()),
            next_instance: AtomicU64::new(1),
        })
    }

    /// The configuration the runtime was created with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// Checks and deploys a function, replacing any function of the same name. The module is
    /// validated and compiled once here so that a broken module is refused at once.
    pub fn deploy(&self, function: FunctionConfig) -> Result<(), DeployError> {
        let invalid = |message: String| DeployError::InvalidModule {
            function: function.name.clone(),
            message,
        };
        if function.memory_mb == 0 || function.memory_mb > self.config.max_function_memory_mb {
            return Err(DeployError::InvalidConfig {
                function: function.name.clone(),
                field: "memory_mb",
                message: format!(
                    "must be within 1..={}, found {}",
                    self.config.max_function_memory_mb, function.memory_mb
                ),
            });
        }
        if function.max_instances == 0 {
            return Err(DeployError::InvalidConfig {
                function: function.name.clone(),
                field: "max_instances",
                message: "must be at least 1".into(),
            });
        }
        let wasm = match &function.module {
            ModuleSource::Builtin(guest) => {
                let wat =
                    crate::guests::source(guest).ok_or_else(|| DeployError::UnknownGuest {
                        function: function.name.clone(),
                        guest: guest.clone(),
                        known: crate::guests::names().collect::<Vec<_>>().join(", "),
                    })?;
                wat::parse_str(wat).map_err(|err| invalid(err.to_string()))?
            }
            ModuleSource::Wat(text) => {
                wat::parse_str(text).map_err(|err| invalid(err.to_string()))?
            }
            ModuleSource::Wasm(bytes) => bytes.clone(),
            ModuleSource::Path(path) => {
                let bytes = std::fs::read(path).map_err(|source| DeployError::ReadModule {
                    function: function.name.clone(),
                    path: path.clone(),
                    source,
                })?;
                wat::parse_bytes(&bytes)
                    .map_err(|err| invalid(format!("{}: {err}", path.display())))?
                    .into_owned()
            }
        };
        let module = Module::new(&self.engine, &wasm).map_err(|err| invalid(format!("{err:#}")))?;
        self.check_abi(&module, function.memory_mb)
            .map_err(invalid)?;

        let deployed = Arc::new(Deployed {
            pool: crate::pool::WarmPool::new(function.max_instances),
            config: function,
            wasm,
        });
        let previous = self
            .functions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(deployed.config.name.clone(), deployed);
        if let Some(previous) = previous {
            previous.pool.close();
        }
        Ok(())
    }

    /// Checks the guest ABI: imports the runtime provides, `memory` and `handle` exported, an
    /// optional `init`, and an initial memory that fits the function's memory size.
    fn check_abi(&self, module: &Module, memory_mb: u32) -> Result<(), String> {
        self.linker
            .instantiate_pre(module)
            .map_err(|err| format!("{err:#}"))?;
        let unit = FuncType::new(&self.engine, [], []);
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

    /// Names of the deployed functions, sorted.
    pub fn functions(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .functions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    /// Number of idle instances of `function`, or `None` if it is not deployed.
    pub fn idle_instances(&self, function: &str) -> Option<usize> {
        self.lookup(function).ok().map(|f| f.pool.idle_count())
    }

    fn lookup(&self, name: &str) -> Result<Arc<Deployed>, InvokeError> {
        self.functions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
            .ok_or_else(|| InvokeError::UnknownFunction(name.to_owned()))
    }

    /// Invokes `name` with `input`: takes an idle instance (`warm`) or starts one (`cold`),
    /// waiting for a slot when the function already runs `max_instances` instances.
    pub async fn invoke(&self, name: &str, input: Bytes) -> Result<InvocationOutput, InvokeError> {
        let function = self.lookup(name)?;
        let queued = Instant::now();
        let _slot = function
            .pool
            .acquire()
            .await
            .map_err(|_| InvokeError::UnknownFunction(name.to_owned()))?;
        let queue_us = micros(queued.elapsed());

        let (mut instance, start, init_us) = match function.pool.take_idle() {
            Some(instance) => (instance, StartKind::Warm, 0),
            None => {
                let begun = Instant::now();
                let limits = InstanceLimits {
                    memory_bytes: (function.config.memory_mb as usize) << 20,
                    max_output_bytes: self.config.max_output_bytes,
                };
                let id = self.next_instance.fetch_add(1, Ordering::Relaxed);
                let instance = FunctionInstance::cold_start(
                    &self.engine,
                    &self.linker,
                    &function.wasm,
                    limits,
                    id,
                )
                .map_err(|err| InvokeError::StartFailed {
                    function: name.to_owned(),
                    message: failure_message(&err),
                })?;
                (instance, StartKind::Cold, micros(begun.elapsed()))
            }
        };

        let began = Instant::now();
        let result = instance.handle(input);
        let exec_us = micros(began.elapsed());
        let metering = Metering {
            start,
            init_us,
            queue_us,
            exec_us,
            billed_ms: metering::billed_ms(init_us, exec_us),
            memory_mb: function.config.memory_mb,
            instance: instance.id(),
        };
        match result {
            Ok(output) => {
                // Back in the pool before the slot is released, so a waiter finds it warm.
                function.pool.put_idle(instance);
                Ok(InvocationOutput { output, metering })
            }
            Err(trap) => Err(InvokeError::Trap {
                function: name.to_owned(),
                message: failure_message(&trap),
                metering,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> Runtime {
        Runtime::new(RuntimeConfig::default().with_instance_slots(16)).unwrap()
    }

    fn builtin(name: &str, guest: &str) -> FunctionConfig {
        FunctionConfig::new(name, ModuleSource::Builtin(guest.into()))
    }

    /// A guest that traps when its input is exactly "boom" and echoes a counter otherwise, so
    /// a test can tell a fresh instance (counter 1) from a reused one.
    const COUNTER_OR_TRAP: &str = r#"
        (module
          (import "faas" "input_len" (func $input_len (result i32)))
          (import "faas" "input_read" (func $input_read (param i32 i32) (result i32)))
          (import "faas" "output_write" (func $output_write (param i32 i32)))
          (memory (export "memory") 1)
          (global $calls (mut i32) (i32.const 0))
          (func (export "init") (global.set $calls (i32.const 0)))
          (func (export "handle")
            (if (i32.eq (call $input_len) (i32.const 4))
              (then
                (drop (call $input_read (i32.const 0) (i32.const 4)))
                (if (i32.eq (i32.load (i32.const 0)) (i32.const 0x6d6f6f62)) ;; "boom"
                  (then unreachable))))
            (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
            (i32.store8 (i32.const 100) (i32.add (global.get $calls) (i32.const 48)))
            (call $output_write (i32.const 100) (i32.const 1))))
    "#;

    #[tokio::test]
    async fn first_invocation_is_cold_later_ones_reuse_the_warm_instance() {
        let runtime = runtime();
        runtime.deploy(builtin("hello", "noop")).unwrap();
        let cold = runtime
            .invoke("hello", Bytes::new())
            .await
            .unwrap()
            .metering;
        assert_eq!(cold.start, StartKind::Cold);
        assert!(cold.init_us > 0, "a cold start compiles and instantiates");
        for _ in 0..3 {
            let warm = runtime
                .invoke("hello", Bytes::new())
                .await
                .unwrap()
                .metering;
            assert_eq!(warm.start, StartKind::Warm);
            assert_eq!(warm.init_us, 0);
            assert_eq!(warm.instance, cold.instance);
        }
        assert_eq!(runtime.idle_instances("hello"), Some(1));
    }

    #[tokio::test]
    async fn cpu_guest_computes_for_the_requested_time() {
        let runtime = runtime();
        runtime
            .deploy(builtin("work", "cpu").with_memory_mb(256))
            .unwrap();
        let done = runtime
            .invoke("work", Bytes::from_static(b"3000"))
            .await
            .unwrap();
        assert!(
            done.metering.exec_us >= 3000,
            "exec {} µs",
            done.metering.exec_us
        );
        assert!(done.metering.billed_ms >= 3);
        assert_eq!(done.metering.memory_mb, 256);
        assert_eq!(done.output.len(), 16);
        assert!(done.output.iter().all(u8::is_ascii_hexdigit));
    }

    #[tokio::test]
    async fn a_trap_is_reported_and_its_instance_discarded() {
        let runtime = runtime();
        runtime
            .deploy(FunctionConfig::new(
                "fragile",
                ModuleSource::Wat(COUNTER_OR_TRAP.into()),
            ))
            .unwrap();
        let first = runtime.invoke("fragile", "ok".into()).await.unwrap();
        assert_eq!(first.output, b"1");
        let second = runtime.invoke("fragile", "ok".into()).await.unwrap();
        assert_eq!(
            (second.output.as_slice(), second.metering.start),
            (&b"2"[..], StartKind::Warm)
        );

        let err = runtime.invoke("fragile", "boom".into()).await.unwrap_err();
        let InvokeError::Trap {
            function,
            message,
            metering,
        } = err
        else {
            panic!("expected a trap, got {err:?}");
        };
        assert_eq!(function, "fragile");
        assert!(message.contains("unreachable"), "{message}");
        assert_eq!(metering.start, StartKind::Warm);

        // The trapped instance is gone: the next invocation starts a fresh one.
        let after = runtime.invoke("fragile", "ok".into()).await.unwrap();
        assert_eq!(after.metering.start, StartKind::Cold);
        assert_eq!(after.output, b"1");
        assert_ne!(after.metering.instance, first.metering.instance);
    }

    #[tokio::test]
    async fn growing_memory_past_the_function_size_traps() {
        let runtime = runtime();
        runtime
            .deploy(builtin("small", "echo").with_memory_mb(1))
            .unwrap();
        let fits = vec![b'x'; 512 << 10];
        assert_eq!(
            runtime
                .invoke("small", fits.clone().into())
                .await
                .unwrap()
                .output,
            fits
        );
        let err = runtime
            .invoke("small", vec![b'x'; 2 << 20].into())
            .await
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("memory limit of 1 MiB"), "{message}");
        // Other functions and later invocations are unaffected.
        assert_eq!(
            runtime.invoke("small", "hi".into()).await.unwrap().output,
            b"hi"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn invocations_beyond_max_instances_wait_for_the_one_instance() {
        let runtime = Arc::new(runtime());
        runtime
            .deploy(builtin("single", "cpu").with_max_instances(1))
            .unwrap();
        let calls: Vec<_> = (0..4)
            .map(|_| {
                let runtime = runtime.clone();
                tokio::spawn(async move { runtime.invoke("single", "5000".into()).await })
            })
            .collect();
        let mut meterings = Vec::new();
        for call in calls {
            meterings.push(call.await.unwrap().unwrap().metering);
        }
        let cold = meterings
            .iter()
            .filter(|m| m.start == StartKind::Cold)
            .count();
        assert_eq!(cold, 1, "{meterings:?}");
        assert!(
            meterings
                .iter()
                .all(|m| m.instance == meterings[0].instance)
        );
        assert_eq!(runtime.idle_instances("single"), Some(1));
    }

    #[tokio::test]
    async fn unknown_function_is_named() {
        let err = runtime().invoke("ghost", Bytes::new()).await.unwrap_err();
        assert_eq!(err.to_string(), "unknown function `ghost`");
    }

    #[test]
    fn broken_modules_are_refused_at_deploy_with_the_reason() {
        let runtime = runtime();
        let cases = [
            ("(module (func (export \"handle\")", "expected `)`"),
            (
                "(module (memory (export \"memory\") 1) (func (export \"handle\") (result i32) (i64.const 1)))",
                "type mismatch",
            ),
            (
                "(module (memory (export \"memory\") 1))",
                "export a function `handle`",
            ),
            ("(module (func (export \"handle\")))", "export its memory"),
            (
                "(module (import \"faas\" \"open_socket\" (func)) (memory (export \"memory\") 1) (func (export \"handle\")))",
                "open_socket",
            ),
            (
                "(module (memory (export \"memory\") 1) (func (export \"handle\") (param i32)))",
                "[] -> []",
            ),
            (
                "(module (memory (export \"memory\") 4096) (func (export \"handle\")))",
                "exceeds the function's memory size",
            ),
        ];
        for (wat, expected) in cases {
            let err = runtime
                .deploy(FunctionConfig::new("broken", ModuleSource::Wat(wat.into())))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("function `broken`: "), "{err}");
            assert!(err.contains(expected), "expected `{expected}` in: {err}");
        }
        let bytes = runtime
            .deploy(FunctionConfig::new(
                "junk",
                ModuleSource::Wasm(b"\0asm\x01\0\0\0\x7f".to_vec()),
            ))
            .unwrap_err()
            .to_string();
        assert!(bytes.starts_with("function `junk`: "), "{bytes}");
        assert!(
            runtime.functions().is_empty(),
            "nothing broken was deployed"
        );
    }

    #[test]
    fn unknown_builtin_guest_lists_the_library() {
        let err = runtime()
            .deploy(builtin("f", "nope"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`nope`") && err.contains("noop, echo, cpu"),
            "{err}"
        );
    }

    #[test]
    fn limits_are_checked_at_deploy() {
        let runtime = runtime();
        let zero = runtime
            .deploy(builtin("f", "noop").with_max_instances(0))
            .unwrap_err();
        assert!(zero.to_string().contains("max_instances"), "{zero}");
        let huge = runtime
            .deploy(builtin("f", "noop").with_memory_mb(8192))
            .unwrap_err();
        assert!(huge.to_string().contains("memory_mb"), "{huge}");
    }
}
