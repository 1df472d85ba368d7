//! The compile pool: Cranelift compiles modules for every cold start and every snapshot, which
//! takes milliseconds to seconds of CPU. It runs on tokio's blocking threads, at most
//! [`RuntimeConfig::compile_threads`](crate::RuntimeConfig::compile_threads) at once, so that
//! the async workers keep serving HTTP — health checks, warm invocations, other functions —
//! while a storm of cold starts compiles.

use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::Semaphore;
use wasmtime::{Engine, Module};

/// See the module docs. Cheap to clone: clones share the pool.
#[derive(Clone)]
pub(crate) struct CompilePool {
    places: Arc<Semaphore>,
    tokio: Handle,
}

impl CompilePool {
    pub(crate) fn new(threads: usize, tokio: Handle) -> Self {
        Self {
            places: Arc::new(Semaphore::new(threads.max(1))),
            tokio,
        }
    }

    /// Runs `build` on a blocking thread once a place in the pool is free. A caller that
    /// stops waiting (a dropped future) does not stop the build: it holds its place until it
    /// ends, and its result is dropped.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        build: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        let place = self
            .places
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| "the compile pool is closed".to_owned())?;
        self.tokio
            .spawn_blocking(move || {
                let _place = place;
                build()
            })
            .await
            .map_err(|err| format!("compilation did not finish: {err}"))
    }

    /// Compiles `wasm`, with its copy-on-write memory image built too, so that instantiating
    /// the module does not build it on an async worker.
    pub(crate) async fn compile(
        &self,
        engine: &Engine,
        wasm: impl AsRef<[u8]> + Send + 'static,
    ) -> Result<Module, String> {
        let engine = engine.clone();
        self.run(move || {
            let module = Module::new(&engine, wasm.as_ref()).map_err(|err| format!("{err:#}"))?;
            module
                .initialize_copy_on_write_image()
                .map_err(|err| format!("{err:#}"))?;
            Ok(module)
        })
        .await?
    }
}
