//! How new instances come to be: restored from the function's snapshot when it is ready,
//! otherwise started cold — compiled on the compile pool, instantiated, `init` run — where
//! the function's first cold start captures the state its snapshot is built from. Pre-warmed
//! and provisioned instances take the same paths in the background.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use wasmtime::Module;

use crate::abi::{InstanceLimits, Invoker};
use crate::deploy::{Deployed, SnapshotState};
use crate::instance::{FunctionInstance, GuestFailure};
use crate::metering::StartKind;
use crate::pool::PrewarmStart;
use crate::runtime::Shared;
use crate::snapshot::{self, Captured, Instrumented};

/// `timeout` after `start`. Timeouts are checked at deploy (at most an hour), so this cannot
/// overflow; it saturates rather than panic all the same.
pub(crate) fn deadline_after(start: Instant, timeout: Duration) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 60 * 60);
    start
        .checked_add(timeout)
        .or_else(|| start.checked_add(YEAR))
        .unwrap_or(start)
}

/// The module a function's cold starts compile, owned for the compile pool.
struct ColdModule(Arc<Deployed>);

impl AsRef<[u8]> for ColdModule {
    fn as_ref(&self) -> &[u8] {
        self.0.cold_module()
    }
}

/// The function's module as deployed, owned for the compile pool.
pub(crate) struct OriginalModule(pub(crate) Arc<Deployed>);

impl AsRef<[u8]> for OriginalModule {
    fn as_ref(&self) -> &[u8] {
        &self.0.original
    }
}

/// The right to capture a function's snapshot, held by its first cold start. If that start
/// does not get as far as the capture (it failed, or its caller left), the next cold start
/// gets the right.
struct CaptureTurn {
    function: Arc<Deployed>,
    captured: bool,
}

impl CaptureTurn {
    /// The turn, when snapshots are possible for `function` and none was captured yet.
    fn take(function: &Arc<Deployed>) -> Option<Self> {
        function.instrumented.as_ref()?;
        let mut state = function.snapshot();
        if !matches!(*state, SnapshotState::Pending) {
            return None;
        }
        *state = SnapshotState::Capturing;
        Some(Self {
            function: function.clone(),
            captured: false,
        })
    }

    fn instrumented(&self) -> Option<&Instrumented> {
        self.function.instrumented.as_ref()
    }

    /// The capture happened: the snapshot build takes it from here.
    fn done(mut self) {
        self.captured = true;
    }
}

impl Drop for CaptureTurn {
    fn drop(&mut self) {
        if self.captured {
            return;
        }
        let mut state = self.function.snapshot();
        if matches!(*state, SnapshotState::Capturing) {
            *state = SnapshotState::Pending;
        }
    }
}

impl Shared {
    pub(crate) fn limits(&self, function: &Deployed) -> InstanceLimits {
        let invoker: Weak<dyn Invoker> = self.this.clone();
        InstanceLimits {
            memory_bytes: (function.config.memory_mb as usize) << 20,
            max_output_bytes: self.config.max_output_bytes,
            max_chain_depth: self.config.max_chain_depth,
            invoker: Some(invoker),
        }
    }

    /// Starts pre-warmed or provisioned instances in the background.
    pub(crate) fn start_prewarms(&self, starts: Vec<PrewarmStart>) {
        let Some(this) = self.this.upgrade() else {
            return;
        };
        for start in starts {
            self.tokio.spawn(this.clone().prewarm(start));
        }
    }

    async fn prewarm(self: Arc<Self>, start: PrewarmStart) {
        let deployed = self
            .lookup(&start.function)
            .ok()
            .filter(|deployed| deployed.generation == start.generation);
        let started = match &deployed {
            Some(deployed) => {
                let deadline = deadline_after(Instant::now(), deployed.config.timeout);
                self.start_new(deployed, deadline).await.ok()
            }
            None => None,
        };
        let (kind, instance) = match started {
            Some((instance, kind, _)) => (kind, Some(instance)),
            None => (StartKind::Cold, None),
        };
        let (unloaded, wake) = self.pools().prewarmed(&start, kind, instance, self.now());
        self.discard(unloaded);
        self.wake_keeper(wake);
    }

    /// A new instance: from the snapshot when it is ready, otherwise a cold start (which, the
    /// first time, captures the snapshot). Returns the instance, its start kind and its cost.
    pub(crate) async fn start_new(
        &self,
        function: &Arc<Deployed>,
        deadline: Instant,
    ) -> Result<(FunctionInstance, StartKind, Duration), GuestFailure> {
        let id = self.next_instance.fetch_add(1, Ordering::Relaxed);
        let limits = self.limits(function);
        let begun = Instant::now();
        let ready = match &*function.snapshot() {
            SnapshotState::Ready(pre) => Some(pre.clone()),
            _ => None,
        };
        if let Some(pre) = ready {
            let instance = FunctionInstance::restore(&self.engine, &pre, limits, id).await?;
            return Ok((instance, StartKind::Snapshot, begun.elapsed()));
        }
        // The first cold start of a function captures its snapshot; later ones run the same
        // instrumented module without capturing.
        let turn = CaptureTurn::take(function);
        let module = self
            .compiler
            .compile(&self.engine, ColdModule(function.clone()))
            .await
            .map_err(GuestFailure::Trap)?;
        let (instance, captured) = FunctionInstance::cold(
            &self.engine,
            &self.linker,
            &module,
            limits,
            id,
            deadline,
            turn.as_ref().and_then(CaptureTurn::instrumented),
        )
        .await?;
        let cost = begun.elapsed();
        if let (Some(turn), Some(captured)) = (turn, captured) {
            turn.done();
            self.build_snapshot(function.clone(), captured);
        }
        Ok((instance, StartKind::Cold, cost))
    }

    /// Builds and compiles the snapshot module on the compile pool, copy-on-write image
    /// included, so that the first snapshot start does not build it.
    fn build_snapshot(&self, function: Arc<Deployed>, captured: Result<Captured, String>) {
        let engine = self.engine.clone();
        let linker = self.linker.clone();
        let compiler = self.compiler.clone();
        self.tokio.spawn(async move {
            let source = function.clone();
            let built = compiler
                .run(move || {
                    let captured = captured?;
                    // Captures come only from instances of the instrumented module.
                    let instrumented = source.instrumented.as_ref().ok_or_else(|| {
                        "the function has no instrumented module to build from".to_owned()
                    })?;
                    let wasm = snapshot::build(instrumented, &captured)?;
                    let module = Module::new(&engine, &wasm).map_err(|err| format!("{err:#}"))?;
                    module
                        .initialize_copy_on_write_image()
                        .map_err(|err| format!("{err:#}"))?;
                    let pre = linker
                        .instantiate_pre(&module)
                        .map_err(|err| format!("{err:#}"))?;
                    tracing::debug!(
                        function = %source.name,
                        bytes = captured.data_bytes(),
                        "snapshot ready"
                    );
                    Ok(pre)
                })
                .await
                .and_then(|built| built);
            *function.snapshot() = match built {
                Ok(pre) => SnapshotState::Ready(Arc::new(pre)),
                Err(reason) => {
                    tracing::warn!(function = %function.name, "snapshot failed: {reason}");
                    SnapshotState::Failed(reason)
                }
            };
        });
    }
}
