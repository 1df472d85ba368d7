//! The reaper: a thread that drops unloaded instances, off the response path and off the
//! async workers. Dropping an instance resets its memory slot (up to
//! [`RuntimeConfig::keep_resident_mb`](crate::RuntimeConfig::keep_resident_mb) is zeroed in
//! place, the rest unmapped) and, for a cold-started one, unmaps its compiled code: milliseconds
//! for large states, which an invocation whose instance is discarded (keep-alive `none`, a
//! trap) would otherwise wait for before its answer leaves.
//!
//! The queue is bounded: when the reaper is behind by [`Reaper::CAPACITY`] instances, the
//! caller drops the next one itself. So at most that many instances (plus the one being
//! dropped) hold an allocator slot after their memory was given back to the capacity, and
//! the engine reserves that many slots on top of the runtime's own.

use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::JoinHandle;

/// See the module docs.
pub(crate) struct Reaper<T: Send + 'static> {
    queue: Option<SyncSender<T>>,
    thread: Option<JoinHandle<()>>,
}

impl<T: Send + 'static> Reaper<T> {
    /// Instances waiting to be dropped, at most.
    pub(crate) const CAPACITY: usize = 32;

    /// Allocator slots the reaper may hold beyond the runtime's own.
    pub(crate) const SLOTS: u32 = Self::CAPACITY as u32 + 1;

    pub(crate) fn start() -> std::io::Result<Self> {
        let (queue, instances) = mpsc::sync_channel::<T>(Self::CAPACITY);
        let thread = std::thread::Builder::new()
            .name("faasbench-reaper".into())
            .spawn(move || {
                for instance in instances {
                    drop(instance);
                }
            })?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Hands `instances` to the reaper; drops them here when it is behind.
    pub(crate) fn discard(&self, instances: impl IntoIterator<Item = T>) {
        for instance in instances {
            match self.queue.as_ref().map(|queue| queue.try_send(instance)) {
                None | Some(Ok(())) => {}
                Some(Err(TrySendError::Full(instance) | TrySendError::Disconnected(instance))) => {
                    drop(instance)
                }
            }
        }
    }
}

impl<T: Send + 'static> Drop for Reaper<T> {
    fn drop(&mut self) {
        // Closing the queue ends the thread once it has dropped what was queued.
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts its drops and on which thread they happened.
    struct Counted(Arc<AtomicUsize>, Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            let on_reaper = std::thread::current().name() == Some("faasbench-reaper");
            let counter = if on_reaper { &self.0 } else { &self.1 };
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn every_instance_is_dropped_once_and_the_queue_never_grows_past_its_bound() {
        let (reaped, inline) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let reaper = Reaper::start().unwrap();
        let total = 10 * Reaper::<Counted>::CAPACITY;
        reaper.discard((0..total).map(|_| Counted(reaped.clone(), inline.clone())));
        drop(reaper);
        let (reaped, inline) = (reaped.load(Ordering::SeqCst), inline.load(Ordering::SeqCst));
        assert_eq!(reaped + inline, total, "each dropped exactly once");
        assert!(reaped >= 1, "the reaper thread dropped some");
    }
}
