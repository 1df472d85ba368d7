//! The pacer: a dedicated thread that walks the schedule and hands each invocation to a worker
//! at its due time, on an absolute clock (a late invocation never delays the next one).
//!
//! It sleeps until shortly before each due time, with the thread's timer slack lowered to
//! 1 ns, and spins the rest of the way. How early it wakes (the spin window) follows the
//! 75th percentile of its recent oversleeps: long enough that a wake-up is seldom late, and
//! then by little, short enough that spinning costs a fraction of a core. Everything already due is
//! dispatched back to back. An invocation due while the in-flight bound is reached is
//! dropped and recorded as such, never delayed.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use scenarios::{Invocation, Schedule};
use tokio::sync::mpsc::UnboundedSender;

use crate::invocation_log::InvocationLog;
use crate::outcome::{ErrorKind, Outcome, PlatformMetering, StartKind};
use crate::progress::{LiveProgress, StopSignal};
use crate::recorder::{self, Recorder, SIGNIFICANT_DIGITS};

/// Longest single sleep, so that a stop is noticed quickly even between sparse invocations.
const MAX_SLEEP: Duration = Duration::from_millis(5);
/// Bounds and start of the adaptive spin window, µs.
const SPIN_MIN_US: f64 = 2.0;
const SPIN_MAX_US: f64 = 500.0;
const SPIN_START_US: f64 = 50.0;
/// Which quantile of oversleeps the spin window follows. Oversleeps are tightly bunched
/// (with 1 ns slack: p50 ≈ 20 µs, p99 ≈ 36 µs on a 2-core VM), so waking late by a few µs a
/// quarter of the time costs little accuracy and saves spinning.
const SPIN_QUANTILE: f64 = 0.75;

/// How the pacer runs.
pub(crate) struct PacerSettings {
    /// The instant the schedule's time zero stands for.
    pub(crate) origin: Instant,
    /// The end of the run (the schedule's end plus the request timeout): invocations reached
    /// later are dropped, so a schedule this machine cannot issue in time never prolongs the
    /// run.
    pub(crate) deadline: Instant,
    /// Invocations in flight at most; beyond, due invocations are dropped.
    pub(crate) max_in_flight: u64,
    /// Ask for SCHED_FIFO priority for the pacer thread.
    pub(crate) realtime: bool,
}

/// What the pacer did with the schedule.
#[derive(Debug, Clone)]
pub(crate) struct PacerReport {
    pub(crate) dispatched: u64,
    /// Invocations never sent because the run was stopped first.
    pub(crate) not_sent: u64,
    /// Why the schedule ended before its end, if it did (its trace could not be read).
    pub(crate) failure: Option<String>,
    /// Schedule time at which dispatching stopped early (a stop, a failure), if it did.
    pub(crate) stopped_after: Option<Duration>,
    /// Dropped invocations, recorded as outcomes.
    pub(crate) dropped: Recorder,
    /// How late each invocation was handed to a worker, µs.
    pub(crate) dispatch_lag: Histogram<u64>,
    /// CPU time the pacer thread used.
    pub(crate) cpu: Option<Duration>,
    /// Wall time the pacer thread ran.
    pub(crate) wall: Duration,
    /// Whether real-time priority was asked for and granted; the reason when refused.
    pub(crate) realtime: Option<Result<(), String>>,
}

/// Dispatches every invocation of `schedule` at `origin + at`, round-robin over `workers`.
pub(crate) fn run(
    mut schedule: Schedule,
    settings: &PacerSettings,
    workers: Vec<UnboundedSender<Invocation>>,
    stop: StopSignal,
    progress: &LiveProgress,
    log: Option<Arc<InvocationLog>>,
) -> PacerReport {
    let began = Instant::now();
    let cpu_at_start = thread_cpu_time();
    lower_timer_slack();
    let mut report = PacerReport {
        dispatched: 0,
        not_sent: 0,
        failure: None,
        stopped_after: None,
        dropped: Recorder::new(schedule.functions().len()),
        dispatch_lag: recorder::histogram(SIGNIFICANT_DIGITS),
        cpu: None,
        wall: Duration::ZERO,
        realtime: settings.realtime.then(request_realtime),
    };
    let mut clock = Clock::new();
    let mut next_worker = 0;
    while let Some(next) = schedule.next() {
        let invocation = match next {
            Ok(invocation) => invocation,
            Err(err) => {
                report.failure = Some(err.to_string());
                report.stopped_after =
                    Some(Instant::now().saturating_duration_since(settings.origin));
                break;
            }
        };
        let due = settings.origin + Duration::from_micros(invocation.at_us);
        if !clock.wait_until(due, &stop) {
            report.stopped_after = Some(Instant::now().saturating_duration_since(settings.origin));
            let rest = schedule.by_ref().take_while(Result::is_ok).count();
            report.not_sent = 1 + rest as u64;
            break;
        }
        // The pacer's own error: how late it reached the due time. Handing the invocation
        // to a worker comes after; its cost shows in the send lag.
        let reached = Instant::now();
        recorder::record(
            &mut report.dispatch_lag,
            micros(reached.saturating_duration_since(due)),
        );
        progress.due();
        if progress.in_flight() >= settings.max_in_flight || reached >= settings.deadline {
            let dropped = dropped_outcome(invocation);
            report.dropped.record(&dropped);
            if let Some(log) = &log {
                log.write(&dropped, None);
            }
            progress.dropped();
            continue;
        }
        progress.dispatched();
        if workers[next_worker].send(invocation).is_err() {
            // Workers only go away when the runtime shuts down under the run.
            progress.finished(false);
            report.not_sent += 1;
            continue;
        }
        next_worker = (next_worker + 1) % workers.len();
        report.dispatched += 1;
    }
    report.wall = began.elapsed();
    report.cpu = thread_cpu_time()
        .zip(cpu_at_start)
        .map(|(end, start)| end.saturating_sub(start));
    report
}

pub(crate) fn dropped_outcome(invocation: Invocation) -> Outcome {
    Outcome {
        invocation,
        latency_us: 0,
        service_us: 0,
        send_lag_us: None,
        result: Err(ErrorKind::Dropped),
        start: StartKind::Unknown,
        inferred: false,
        metering: PlatformMetering::default(),
    }
}

/// Sleeps and spins to due times, learning how long sleeps overshoot.
struct Clock {
    spin_window_us: f64,
}

impl Clock {
    fn new() -> Self {
        Self {
            spin_window_us: SPIN_START_US,
        }
    }

    /// Waits for `due`; false if the stop signal came first.
    fn wait_until(&mut self, due: Instant, stop: &StopSignal) -> bool {
        loop {
            if stop.is_stopped() {
                return false;
            }
            let now = Instant::now();
            let Some(remaining) = due.checked_duration_since(now).filter(|r| !r.is_zero()) else {
                return true;
            };
            let window = Duration::from_secs_f64(self.spin_window_us / 1e6);
            if remaining > window {
                let nap = (remaining - window).min(MAX_SLEEP);
                thread::sleep(nap);
                let oversleep = now.elapsed().saturating_sub(nap).as_secs_f64() * 1e6;
                self.learn(oversleep);
            } else {
                std::hint::spin_loop();
            }
        }
    }

    fn learn(&mut self, oversleep_us: f64) {
        // Up by q after a longer oversleep, down by 1 − q otherwise: the window settles where
        // a share 1 − q of oversleeps exceed it.
        let step = if oversleep_us > self.spin_window_us {
            SPIN_QUANTILE
        } else {
            -(1.0 - SPIN_QUANTILE)
        };
        self.spin_window_us = (self.spin_window_us + step).clamp(SPIN_MIN_US, SPIN_MAX_US);
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// Sleeps of this thread end within a nanosecond of their time instead of the default 50 µs
/// slack. Best effort: without it, the spin window grows to cover the slack.
fn lower_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes a plain integer and only affects the calling thread.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}

/// Asks for SCHED_FIFO at the lowest real-time priority for this thread.
fn request_realtime() -> Result<(), String> {
    let param = libc::sched_param { sched_priority: 1 };
    // SAFETY: `param` is a valid sched_param for the duration of the call; pid 0 is this thread.
    let status = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
    if status == 0 {
        Ok(())
    } else {
        Err(format!(
            "real-time priority refused ({}); it needs CAP_SYS_NICE or an rtprio limit",
            std::io::Error::last_os_error()
        ))
    }
}

/// CPU time this thread has used so far.
fn thread_cpu_time() -> Option<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write into.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    (status == 0).then(|| Duration::new(now.tv_sec as u64, now.tv_nsec as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spin_window_settles_at_the_75th_percentile_of_oversleeps() {
        let mut clock = Clock::new();
        // Oversleeps spread evenly over 0..100 µs: the 75th percentile is 75 µs.
        for i in 0..200_000u64 {
            clock.learn(((i * 37) % 100) as f64);
        }
        assert!(
            (70.0..=80.0).contains(&clock.spin_window_us),
            "{}",
            clock.spin_window_us
        );
        // And it follows when sleeps get more precise.
        for i in 0..200_000u64 {
            clock.learn(((i * 37) % 10) as f64);
        }
        assert!(clock.spin_window_us < 10.0, "{}", clock.spin_window_us);
    }
}
