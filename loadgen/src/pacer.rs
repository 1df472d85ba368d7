//! The pacer: a dedicated thread that walks the schedule and hands each invocation to a worker
//! at its due time, on an absolute clock (a late invocation never delays the next one).

use std::thread;
use std::time::{Duration, Instant};

use scenarios::{Invocation, Schedule};
use tokio::sync::mpsc::UnboundedSender;

use crate::progress::{LiveProgress, StopSignal};

/// Sleeping is accurate to about a timer slack plus wake-up time; the last stretch before a
/// due time is spun instead.
const SPIN_WINDOW: Duration = Duration::from_micros(100);
/// Longest single sleep, so that a stop is noticed quickly even between sparse invocations.
const MAX_SLEEP: Duration = Duration::from_millis(5);

/// What the pacer did with the schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PacerReport {
    pub(crate) dispatched: u64,
    /// Invocations never sent because the run was stopped first.
    pub(crate) not_sent: u64,
    /// Why the schedule ended before its end, if it did (its trace could not be read).
    pub(crate) failure: Option<String>,
}

/// Dispatches every invocation of `schedule` at `origin + at`, round-robin over `workers`.
pub(crate) fn run(
    mut schedule: Schedule,
    origin: Instant,
    workers: Vec<UnboundedSender<Invocation>>,
    stop: StopSignal,
    progress: &LiveProgress,
) -> PacerReport {
    let mut report = PacerReport::default();
    let mut next_worker = 0;
    while let Some(next) = schedule.next() {
        let invocation = match next {
            Ok(invocation) => invocation,
            Err(err) => {
                report.failure = Some(err.to_string());
                break;
            }
        };
        let due = origin + Duration::from_micros(invocation.at_us);
        if !wait_until(due, &stop) {
            let rest = schedule.by_ref().take_while(Result::is_ok).count();
            report.not_sent = 1 + rest as u64;
            break;
        }
        // Dispatch is a channel push; everything already due goes out back to back.
        if workers[next_worker].send(invocation).is_err() {
            report.not_sent += 1;
            continue;
        }
        next_worker = (next_worker + 1) % workers.len();
        report.dispatched += 1;
        progress.sent();
    }
    report
}

/// Waits for `due`; false if the stop signal came first.
fn wait_until(due: Instant, stop: &StopSignal) -> bool {
    loop {
        if stop.is_stopped() {
            return false;
        }
        let now = Instant::now();
        let Some(remaining) = due.checked_duration_since(now).filter(|r| !r.is_zero()) else {
            return true;
        };
        if remaining > SPIN_WINDOW {
            thread::sleep((remaining - SPIN_WINDOW).min(MAX_SLEEP));
        } else {
            std::hint::spin_loop();
        }
    }
}
