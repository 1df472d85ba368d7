//! The runtime: deployed functions, the invocation path, and the
//! public in-process API.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::Notify;
use wasmtime::{Engine, Linker};

use crate::abi::{self, HostState, Invoker};
use crate::claim::Claim;
use crate::compile::CompilePool;
use crate::deploy::{self, Deployed, SnapshotState};
use crate::engine::{self, EpochTicker};
use crate::instance::{FunctionInstance, GuestFailure};
use crate::metering::{self, Metering, StartKind, micros};
use crate::policy::{Clock, FunctionTraits, ScaledClock};
use crate::pool::{Finished, Pools};
use crate::reaper::Reaper;
use crate::start::{OriginalModule, deadline_after};
use crate::stats::{FunctionStats, RuntimeStats};
use crate::{DeployError, EngineError, FunctionConfig, InvokeError, RuntimeConfig};

/// What an invocation returned, with its measurements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationOutput {
    pub output: Vec<u8>,
    pub metering: Metering,
}

/// The state shared by the runtime's handle, its HTTP server, its background tasks and the
/// `invoke` import of running guests.
pub(crate) struct Shared {
    // Shared with the start paths in `start`.
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<HostState>,
    pub(crate) config: RuntimeConfig,
    pub(crate) clock: ScaledClock,
    functions: RwLock<HashMap<String, Arc<Deployed>>>,
    pools: Mutex<Pools<FunctionInstance>>,
    pub(crate) next_instance: AtomicU64,
    next_generation: AtomicU64,
    /// Wakes the keeper when keep-alive deadlines or pre-warms change.
    pub(crate) keeper_wake: Arc<Notify>,
    pub(crate) tokio: tokio::runtime::Handle,
    pub(crate) compiler: CompilePool,
    reaper: Reaper<FunctionInstance>,
    pub(crate) this: Weak<Shared>,
    _ticker: EpochTicker,
}

/// The reference FaaS runtime: deploys functions and invokes them on wasmtime instances.
///
/// Create it inside a tokio runtime: its background tasks (keep-alive expiry, pre-warming)
/// run there.
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
    shared: Arc<Shared>,
}

impl Runtime {
    /// Creates the engine and starts the background tasks on the current tokio runtime.
    pub fn new(config: RuntimeConfig) -> Result<Self, EngineError> {
        config
            .check()
            .map_err(|(field, message)| EngineError(format!("{field} {message}")))?;
        let tokio = tokio::runtime::Handle::try_current().map_err(|_| {
            EngineError(
                "create the runtime inside a tokio runtime: its background tasks run there".into(),
            )
        })?;
        let engine = engine::engine(&config, Reaper::<FunctionInstance>::SLOTS)
            .map_err(|err| EngineError(format!("{err:#}")))?;
        let linker = abi::linker(&engine).map_err(|err| EngineError(format!("{err:#}")))?;
        let ticker = EpochTicker::start(engine.clone())
            .map_err(|err| EngineError(format!("cannot start the epoch thread: {err}")))?;
        let reaper = Reaper::start()
            .map_err(|err| EngineError(format!("cannot start the reaper thread: {err}")))?;
        let compiler = CompilePool::new(config.compile_threads, tokio.clone());
        let pools = Pools::new(
            config.keep_alive.build(),
            config.capacity_mb,
            config.instance_slots,
        );
        let shared = Arc::new_cyclic(|this| Shared {
            engine,
            linker,
            clock: ScaledClock::new(config.time_scale),
            config,
            functions: RwLock::new(HashMap::new()),
            pools: Mutex::new(pools),
            next_instance: AtomicU64::new(1),
            next_generation: AtomicU64::new(1),
            keeper_wake: Arc::new(Notify::new()),
            tokio,
            compiler,
            reaper,
            this: this.clone(),
            _ticker: ticker,
        });
        shared.tokio.spawn(crate::keeper::run(
            Arc::downgrade(&shared),
            shared.keeper_wake.clone(),
        ));
        Ok(Self { shared })
    }

    /// The configuration the runtime was created with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.shared.config
    }

    /// Checks and deploys a function, replacing any function of the same name (whose idle
    /// instances are dropped; busy ones finish with the old code). Returns whether one was
    /// replaced. The module is validated and compiled here, so a broken module is refused at
    /// once with wasmtime's message; `prewarm` instances start in the background.
    pub fn deploy(&self, function: FunctionConfig) -> Result<bool, DeployError> {
        self.shared.deploy(function)
    }

    /// Removes a function. Invocations waiting for it fail; running ones finish. Returns
    /// whether it existed.
    pub fn remove(&self, function: &str) -> bool {
        self.shared.remove(function)
    }

    /// Names of the deployed functions, sorted.
    pub fn functions(&self) -> Vec<String> {
        let mut names: Vec<String> = self.shared.functions().keys().cloned().collect();
        names.sort();
        names
    }

    /// The deployment of `function`, if it exists.
    pub fn function_config(&self, function: &str) -> Option<FunctionConfig> {
        self.shared.lookup(function).ok().map(|f| f.config.clone())
    }

    /// Invokes `function` with `input`: an idle instance if there is one (`warm`), else a new
    /// one from the snapshot (`snapshot`) or from scratch (`cold`). When the function already
    /// runs `max_instances` invocations, waits in its queue.
    pub async fn invoke(
        &self,
        function: &str,
        input: Bytes,
    ) -> Result<InvocationOutput, InvokeError> {
        self.shared.invoke(function, input, 0).await
    }

    /// The runtime's figures now.
    pub fn stats(&self) -> RuntimeStats {
        self.shared.stats()
    }

    /// Time on the policy clock.
    pub fn policy_time(&self) -> Duration {
        self.shared.clock.now()
    }

    /// Starts an instance of `function` by the given path, outside the pools: no queue, no
    /// keep-alive, no capacity accounting. For benchmarks and tools that measure start paths.
    /// `Snapshot` needs a ready snapshot (see [`Runtime::wait_for_snapshot`]); `Warm` is not a
    /// start path and is refused.
    pub async fn start_instance(
        &self,
        function: &str,
        kind: StartKind,
    ) -> Result<StartedInstance, InvokeError> {
        let deployed = self.shared.lookup(function)?;
        let limits = self.shared.limits(&deployed);
        let id = self.shared.next_instance.fetch_add(1, Ordering::Relaxed);
        let started = match kind {
            StartKind::Cold => {
                let begun = Instant::now();
                let module = self
                    .shared
                    .compiler
                    .compile(&self.shared.engine, OriginalModule(deployed.clone()))
                    .await
                    .map_err(|message| InvokeError::StartFailed {
                        function: function.to_owned(),
                        message,
                    })?;
                FunctionInstance::cold(
                    &self.shared.engine,
                    &self.shared.linker,
                    &module,
                    limits,
                    id,
                    deadline_after(begun, deployed.config.timeout),
                    None,
                )
                .await
                .map(|(instance, _)| instance)
            }
            StartKind::Snapshot => {
                let ready = match &*deployed.snapshot() {
                    SnapshotState::Ready(pre) => pre.clone(),
                    other => {
                        return Err(InvokeError::StartFailed {
                            function: function.to_owned(),
                            message: format!("no snapshot to start from ({})", other.describe()),
                        });
                    }
                };
                FunctionInstance::restore(&self.shared.engine, &ready, limits, id).await
            }
            StartKind::Warm => {
                return Err(InvokeError::StartFailed {
                    function: function.to_owned(),
                    message: "a warm start reuses an instance; it is not a start path".into(),
                });
            }
        };
        let instance = started.map_err(|failure| InvokeError::StartFailed {
            function: function.to_owned(),
            message: describe(&failure, deployed.config.timeout),
        })?;
        Ok(StartedInstance {
            function: deployed.name.clone(),
            kind,
            timeout: deployed.config.timeout,
            memory_mb: deployed.config.memory_mb,
            instance,
        })
    }

    /// Waits until `function`'s snapshot is ready, at most `limit`. Snapshots are taken after
    /// the first `init`, so invoke the function once first.
    pub async fn wait_for_snapshot(&self, function: &str, limit: Duration) -> Result<(), String> {
        let give_up = Instant::now() + limit;
        loop {
            let deployed = self
                .shared
                .lookup(function)
                .map_err(|err| err.to_string())?;
            let settled = match &*deployed.snapshot() {
                SnapshotState::Ready(_) => Some(Ok(())),
                SnapshotState::Pending | SnapshotState::Capturing if Instant::now() < give_up => {
                    None
                }
                other => Some(Err(format!(
                    "function `{function}`: snapshot {}",
                    other.describe()
                ))),
            };
            if let Some(settled) = settled {
                return settled;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// An instance started with [`Runtime::start_instance`], invoked directly.
pub struct StartedInstance {
    function: Arc<str>,
    kind: StartKind,
    timeout: Duration,
    memory_mb: u32,
    instance: FunctionInstance,
}

impl StartedInstance {
    /// Runs the instance's `handle` on `input`. A failed instance should be dropped.
    pub async fn invoke(&mut self, input: Bytes) -> Result<Vec<u8>, InvokeError> {
        let began = Instant::now();
        let result = self
            .instance
            .handle(input, deadline_after(began, self.timeout), 0)
            .await;
        let metering = meter(
            self.kind,
            0,
            0,
            micros(began.elapsed()),
            self.memory_mb,
            self.id(),
            false,
        );
        result.map_err(|failure| match failure {
            GuestFailure::Timeout => InvokeError::Timeout {
                function: self.function.to_string(),
                timeout: self.timeout,
                metering,
            },
            GuestFailure::Trap(message) => InvokeError::Trap {
                function: self.function.to_string(),
                message,
                metering,
            },
        })
    }

    /// How the instance was started.
    pub fn kind(&self) -> StartKind {
        self.kind
    }

    /// Runtime-wide unique id of the instance.
    pub fn id(&self) -> u64 {
        self.instance.id()
    }
}

fn describe(failure: &GuestFailure, timeout: Duration) -> String {
    match failure {
        GuestFailure::Trap(message) => message.clone(),
        GuestFailure::Timeout => format!(
            "ran past the timeout of {}",
            humantime::format_duration(timeout)
        ),
    }
}

impl Shared {
    fn functions(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Deployed>>> {
        self.functions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn pools(&self) -> MutexGuard<'_, Pools<FunctionInstance>> {
        self.pools.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn now(&self) -> Duration {
        self.clock.now()
    }

    pub(crate) fn real_duration(&self, policy: Duration) -> Duration {
        self.clock.real_duration(policy)
    }

    /// Hands unloaded instances to the reaper, which drops them off the response path.
    pub(crate) fn discard(&self, instances: Vec<FunctionInstance>) {
        if !instances.is_empty() {
            self.reaper.discard(instances);
        }
    }

    /// Wakes the keeper when the pools said a deadline moved earlier.
    pub(crate) fn wake_keeper(&self, wake: bool) {
        if wake {
            self.keeper_wake.notify_one();
        }
    }

    pub(crate) fn lookup(&self, name: &str) -> Result<Arc<Deployed>, InvokeError> {
        self.functions()
            .get(name)
            .cloned()
            .ok_or_else(|| InvokeError::UnknownFunction(name.to_owned()))
    }

    fn deploy(&self, function: FunctionConfig) -> Result<bool, DeployError> {
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let deployed = Arc::new(deploy::prepare(
            function,
            generation,
            &self.engine,
            &self.linker,
            &self.config,
        )?);
        let name = deployed.name.clone();
        let traits = FunctionTraits {
            memory_mb: deployed.config.memory_mb,
            keep_alive: deployed.config.keep_alive,
        };
        let (max_instances, prewarm) = (deployed.config.max_instances, deployed.config.prewarm);
        let previous = self
            .functions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_string(), deployed);
        if let Some(previous) = &previous {
            previous.permits.close();
        }
        let now = self.clock.now();
        let (unloaded, provisioned) = {
            let mut pools = self.pools();
            let unloaded = pools.deploy(
                name.clone(),
                generation,
                traits,
                max_instances,
                prewarm,
                now,
            );
            (unloaded, pools.provision(&name))
        };
        self.discard(unloaded);
        self.start_prewarms(provisioned);
        Ok(previous.is_some())
    }

    fn remove(&self, name: &str) -> bool {
        let removed = self
            .functions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
        let Some(removed) = removed else {
            return false;
        };
        removed.permits.close();
        let unloaded = self.pools().remove(name, self.clock.now());
        self.discard(unloaded);
        true
    }

    async fn invoke(
        &self,
        name: &str,
        input: Bytes,
        depth: u32,
    ) -> Result<InvocationOutput, InvokeError> {
        let function = self.lookup(name)?;
        let arrived = Instant::now();
        // From here on the claim owns everything the invocation holds and gives it back on
        // every path, also when this future is dropped.
        let mut claim = Claim::admit(self, function.clone()).await?;
        let queue_us = micros(arrived.elapsed());
        let memory_mb = function.config.memory_mb;
        let timeout = function.config.timeout;
        let (start, init_us) = if claim.acquire(self.clock.at(arrived))? {
            match self
                .start_new(&function, deadline_after(Instant::now(), timeout))
                .await
            {
                Ok((instance, kind, cost)) => {
                    claim.started(instance, kind, cost);
                    (kind, micros(cost))
                }
                Err(failure) => {
                    let init_us = micros(arrived.elapsed()).saturating_sub(queue_us);
                    claim.start_failed();
                    return Err(match failure {
                        GuestFailure::Timeout => InvokeError::Timeout {
                            function: name.to_owned(),
                            timeout,
                            metering: meter(
                                StartKind::Cold,
                                init_us,
                                queue_us,
                                0,
                                memory_mb,
                                0,
                                true,
                            ),
                        },
                        GuestFailure::Trap(message) => InvokeError::StartFailed {
                            function: name.to_owned(),
                            message,
                        },
                    });
                }
            }
        } else {
            (StartKind::Warm, 0)
        };
        let delayed_by_start = start != StartKind::Warm || claim.waited_for_start();
        let instance = claim.instance().ok_or_else(|| InvokeError::StartFailed {
            function: name.to_owned(),
            message: "the instance went away before the invocation ran".into(),
        })?;

        let began = Instant::now();
        let result = instance
            .handle(input, deadline_after(began, timeout), depth)
            .await;
        let ended = Instant::now();
        let exec_us = micros(ended - began);
        let metering = meter(
            start,
            init_us,
            queue_us,
            exec_us,
            memory_mb,
            instance.id(),
            delayed_by_start,
        );
        let (finished, outcome) = match result {
            Ok(output) => (Finished::Ok, Ok(InvocationOutput { output, metering })),
            Err(GuestFailure::Timeout) => (
                Finished::TimedOut,
                Err(InvokeError::Timeout {
                    function: name.to_owned(),
                    timeout,
                    metering,
                }),
            ),
            Err(GuestFailure::Trap(message)) => (
                Finished::Trapped,
                Err(InvokeError::Trap {
                    function: name.to_owned(),
                    message,
                    metering,
                }),
            ),
        };
        claim.finish(finished, exec_us, self.clock.at(ended));
        outcome
    }

    pub(crate) fn reject_queue(&self, function: &Deployed, waiting: u32) -> InvokeError {
        let mean_exec_us = self.pools().rejected_queue(&function.name);
        // Time for the queue ahead to drain through all instances, at least a second.
        let drain_us = mean_exec_us.saturating_mul(u64::from(waiting).saturating_add(1))
            / u64::from(function.config.max_instances.max(1));
        InvokeError::QueueFull {
            function: function.name.to_string(),
            max_instances: function.config.max_instances,
            waiting,
            retry_after_s: drain_us.div_ceil(1_000_000).max(1),
        }
    }

    fn stats(&self) -> RuntimeStats {
        let now = self.clock.now();
        let (readings, policy, used, capacity, removed) = {
            let mut pools = self.pools();
            (
                pools.snapshot(now),
                pools.policy_name(),
                pools.used_mb(),
                pools.capacity_mb(),
                pools.idle_mb_seconds_removed(),
            )
        };
        let functions = self.functions();
        let mut stats: Vec<FunctionStats> = readings
            .into_iter()
            .filter_map(|reading| {
                let deployed = functions.get(&*reading.function)?;
                let queued = deployed.waiting.load(Ordering::Relaxed);
                let snapshot = deployed.snapshot().describe();
                Some(FunctionStats::new(reading, queued, snapshot))
            })
            .collect();
        stats.sort_by(|a, b| a.name.cmp(&b.name));
        let idle_total = removed + stats.iter().map(|f| f.idle_memory_mb_seconds).sum::<f64>();
        RuntimeStats {
            policy: policy.to_owned(),
            policy_time_seconds: now.as_secs_f64(),
            time_scale: self.config.time_scale,
            memory_used_mb: used,
            capacity_mb: capacity,
            idle_memory_mb_seconds: idle_total,
            functions: stats,
        }
    }
}

fn meter(
    start: StartKind,
    init_us: u64,
    queue_us: u64,
    exec_us: u64,
    memory_mb: u32,
    instance: u64,
    delayed_by_start: bool,
) -> Metering {
    Metering {
        start,
        init_us,
        queue_us,
        exec_us,
        billed_ms: metering::billed_ms(init_us, exec_us),
        memory_mb,
        instance,
        delayed_by_start,
    }
}

impl Invoker for Shared {
    fn invoke_nested(
        &self,
        function: String,
        input: Bytes,
        depth: u32,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send + '_>> {
        Box::pin(async move {
            self.invoke(&function, input, depth)
                .await
                .map(|done| done.output)
                .map_err(|err| err.to_string())
        })
    }
}
