//! The wasmtime engine: a pooling allocator sized by the runtime's configuration, and the
//! epoch ticker that bounds how long guest code runs between yields and past its deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::RuntimeConfig;

/// How often the epoch advances: a computing guest yields to the executor this often, and a
/// timeout is noticed within this much.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(1);

/// An engine for `config`: pooled instance slots with copy-on-write memory images, memory kept
/// resident in freed slots, async support and epoch interruption. The allocator has
/// `extra_slots` beyond the runtime's own, for instances unloaded but not dropped yet.
pub(crate) fn engine(config: &RuntimeConfig, extra_slots: u32) -> wasmtime::Result<Engine> {
    let max_memory = u64::from(config.max_function_memory_mb) << 20;
    let slots = config.instance_slots.saturating_add(extra_slots);
    let mut pooling = PoolingAllocationConfig::new();
    pooling
        .total_core_instances(slots)
        .total_memories(slots)
        .total_tables(slots)
        .total_stacks(slots)
        .max_memory_size(max_memory as usize)
        .linear_memory_keep_resident((config.keep_resident_mb as usize) << 20);
    let mut wasm = wasmtime::Config::new();
    wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling))
        .epoch_interruption(true)
        // Snapshot images are as large as the state they hold; map them whatever their size.
        .memory_guaranteed_dense_image_size(max_memory);
    Engine::new(&wasm)
}

/// A thread advancing the engine's epoch every [`EPOCH_TICK`] until dropped.
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub(crate) fn start(engine: Engine) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new()
            .name("faasbench-epoch".into())
            .spawn({
                let stop = stop.clone();
                move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
