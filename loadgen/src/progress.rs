//! Counters that a progress display reads while a run goes on, and the signal that stops it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::interval_log::{IntervalFigures, IntervalLog};

/// Live counts of a run, updated by the pacer and the workers.
#[derive(Default)]
pub struct LiveProgress {
    due: AtomicU64,
    dispatched: AtomicU64,
    dropped: AtomicU64,
    ok: AtomicU64,
    errors: AtomicU64,
    intervals: OnceLock<Arc<IntervalLog>>,
}

impl std::fmt::Debug for LiveProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveProgress")
            .field("snapshot", &self.snapshot())
            .finish()
    }
}

/// A consistent-enough reading of [`LiveProgress`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProgressSnapshot {
    /// Invocations whose scheduled time has come (open loop): what was requested so far.
    pub due: u64,
    /// Invocations sent so far.
    pub sent: u64,
    /// Invocations dropped because the in-flight bound was reached.
    pub dropped: u64,
    pub ok: u64,
    pub errors: u64,
    /// The figures of the last complete second of the run, once there is one.
    pub last_second: Option<IntervalFigures>,
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
            due: self.due.load(Ordering::Relaxed),
            sent: self.dispatched.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            ok: self.ok.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            last_second: self.intervals.get().and_then(|log| log.latest()),
        }
    }

    /// Invocations sent and not yet finished.
    pub(crate) fn in_flight(&self) -> u64 {
        let finished = self.ok.load(Ordering::Relaxed) + self.errors.load(Ordering::Relaxed);
        self.dispatched
            .load(Ordering::Relaxed)
            .saturating_sub(finished)
    }

    pub(crate) fn watch_intervals(&self, log: Arc<IntervalLog>) {
        let _ = self.intervals.set(log);
    }

    pub(crate) fn due(&self) {
        self.due.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn dispatched(&self) {
        self.dispatched.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn finished(&self, ok: bool) {
        self.finished_many(u64::from(ok), u64::from(!ok), false);
    }

    /// Finished invocations counted in a batch. In a closed loop (`unscheduled`) each one
    /// was also due and sent just then.
    pub(crate) fn finished_many(&self, ok: u64, errors: u64, unscheduled: bool) {
        if ok + errors == 0 {
            return;
        }
        if unscheduled {
            self.due.fetch_add(ok + errors, Ordering::Relaxed);
            self.dispatched.fetch_add(ok + errors, Ordering::Relaxed);
        }
        if ok > 0 {
            self.ok.fetch_add(ok, Ordering::Relaxed);
        }
        if errors > 0 {
            self.errors.fetch_add(errors, Ordering::Relaxed);
        }
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
