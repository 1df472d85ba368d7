//! Counters that a progress display reads while a run goes on, and the signal that stops it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Live counts of a run, updated by the pacer and the workers.
#[derive(Debug, Default)]
pub struct LiveProgress {
    sent: AtomicU64,
    ok: AtomicU64,
    errors: AtomicU64,
}

/// A consistent-enough reading of [`LiveProgress`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProgressSnapshot {
    /// Invocations handed to the workers so far.
    pub sent: u64,
    pub ok: u64,
    pub errors: u64,
}

impl ProgressSnapshot {
    /// Invocations sent and not yet finished.
    pub fn in_flight(&self) -> u64 {
        self.sent.saturating_sub(self.ok + self.errors)
    }
}

impl LiveProgress {
    /// Reads the counters.
    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            sent: self.sent.load(Ordering::Relaxed),
            ok: self.ok.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn sent(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn finished(&self, ok: bool) {
        let counter = if ok { &self.ok } else { &self.errors };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Asks a running replay to stop sending; what was sent still finishes and is recorded.
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<AtomicBool>);

impl StopSignal {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops the replay: no invocation is sent after this.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
