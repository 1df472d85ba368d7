//! The embedded platform: the reference runtime serving a scenario's functions on an ephemeral
//! loopback port, on tokio threads of its own so that it and the load generator do not share
//! a scheduler.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use bench_runtime::{
    FunctionConfig, ModuleSource, Runtime, RuntimeConfig, RuntimeServer, RuntimeStats,
};
use reports::{PlatformFunction, PlatformStats};
use scenarios::FunctionProfile;

/// A running reference runtime; [`EmbeddedRuntime::shutdown`] stops it.
pub struct EmbeddedRuntime {
    runtime: Arc<Runtime>,
    server: RuntimeServer,
    threads: tokio::runtime::Runtime,
}

/// The module of a profile: a built-in guest spec (`cpu`, `init-heavy(init_ms=50)`), or a
/// `.wat`/`.wasm` file relative to the scenario file.
fn module_source(guest: &str, scenario_dir: &Path) -> ModuleSource {
    let is_file = guest.contains('/') || guest.ends_with(".wat") || guest.ends_with(".wasm");
    if is_file {
        ModuleSource::Path(scenario_dir.join(guest))
    } else {
        ModuleSource::Builtin(guest.to_owned())
    }
}

impl EmbeddedRuntime {
    /// Deploys `functions` on a runtime configured by `config` and starts serving on
    /// `127.0.0.1` at a free port.
    pub fn start(
        functions: &[FunctionProfile],
        scenario_dir: &Path,
        config: RuntimeConfig,
    ) -> anyhow::Result<Self> {
        let threads = tokio::runtime::Builder::new_multi_thread()
            .thread_name("faasbench-runtime")
            .enable_all()
            .build()
            .context("cannot start the runtime's threads")?;
        let (runtime, server) = threads.block_on(async {
            let runtime = Arc::new(Runtime::new(config)?);
            for profile in functions {
                let function =
                    FunctionConfig::new(&profile.name, module_source(&profile.guest, scenario_dir))
                        .with_memory_mb(profile.memory_mb)
                        .with_max_instances(profile.max_instances);
                runtime.deploy(function)?;
            }
            let server = RuntimeServer::bind(runtime.clone(), ([127, 0, 0, 1], 0).into())
                .await
                .context("cannot listen on a loopback port")?;
            anyhow::Ok((runtime, server))
        })?;
        Ok(Self {
            runtime,
            server,
            threads,
        })
    }

    /// Where the runtime listens.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.local_addr()
    }

    /// Stops serving once open requests have finished.
    /// The runtime's own figures, as a report shows them.
    pub fn platform_stats(&self) -> PlatformStats {
        platform_stats(&self.runtime.stats())
    }

    pub fn shutdown(self) {
        self.threads.block_on(self.server.shutdown());
    }
}

/// The runtime's stats in the report's terms.
fn platform_stats(stats: &RuntimeStats) -> PlatformStats {
    PlatformStats {
        policy: stats.policy.clone(),
        capacity_mb: stats.capacity_mb,
        idle_memory_mb_seconds: stats.idle_memory_mb_seconds,
        functions: stats
            .functions
            .iter()
            .map(|f| {
                let evicted = &f.evictions;
                let prewarm = &f.prewarm_starts;
                let function = PlatformFunction {
                    memory_mb: u64::from(f.memory_mb),
                    cold_starts: f.starts.cold,
                    snapshot_starts: f.starts.snapshot,
                    warm_starts: f.starts.warm,
                    prewarm_starts: prewarm
                        .cold
                        .saturating_add(prewarm.snapshot)
                        .saturating_add(prewarm.warm),
                    evicted_expired: evicted.expired,
                    evicted_pressure: evicted.pressure,
                    evicted_other: [
                        evicted.discarded,
                        evicted.failed,
                        evicted.cancelled,
                        evicted.replaced,
                    ]
                    .into_iter()
                    .fold(0, u64::saturating_add),
                    idle_memory_mb_seconds: f.idle_memory_mb_seconds,
                };
                (f.name.clone(), function)
            })
            .collect(),
    }
}
