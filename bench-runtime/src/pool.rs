//! The warm pool of one function: its idle instances and the bound on instances alive at once.

use std::sync::{Mutex, PoisonError};

use tokio::sync::{AcquireError, Semaphore, SemaphorePermit};

use crate::instance::FunctionInstance;

/// Idle instances of one function, and one permit per instance that may be busy at once.
///
/// Holding a permit guarantees either an idle instance to take or room to start one: busy and
/// idle instances together never exceed the function's `max_instances`.
pub(crate) struct WarmPool {
    idle: Mutex<Vec<FunctionInstance>>,
    permits: Semaphore,
}

impl WarmPool {
    pub(crate) fn new(max_instances: u32) -> Self {
        Self {
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(max_instances as usize),
        }
    }

    /// Waits until this invocation may use an instance. Fails only once the pool is closed.
    pub(crate) async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.permits.acquire().await
    }

    /// The most recently used idle instance: its caches are the warmest.
    pub(crate) fn take_idle(&self) -> Option<FunctionInstance> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    /// Returns an instance after a successful invocation.
    pub(crate) fn put_idle(&self, instance: FunctionInstance) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(instance);
    }

    /// Number of idle instances.
    pub(crate) fn idle_count(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Refuses every waiting and future invocation and drops the idle instances.
    pub(crate) fn close(&self) {
        self.permits.close();
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
