//! The progress line of a run: elapsed against planned time, and live counts. Drawn on stderr
//! only when it is a terminal.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use loadgen::{LiveProgress, ProgressSnapshot};

const REFRESH: Duration = Duration::from_millis(100);

pub struct ProgressDisplay {
    done: Arc<AtomicBool>,
    painter: Option<JoinHandle<()>>,
}

impl ProgressDisplay {
    /// Starts drawing, if stderr is a terminal.
    pub fn start(progress: Arc<LiveProgress>, planned: Duration) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Self {
                done,
                painter: None,
            };
        }
        let bar = ProgressBar::with_draw_target(
            Some(planned.as_millis() as u64),
            ProgressDrawTarget::stderr(),
        );
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {elapsed:>4} [{bar:24}] {percent:>3}%  {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        let painter = {
            let done = done.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                while !done.load(Ordering::Relaxed) {
                    let seen = progress.snapshot();
                    let elapsed = started.elapsed();
                    bar.set_position(elapsed.as_millis() as u64);
                    bar.set_message(status_line(&seen, elapsed));
                    std::thread::sleep(REFRESH);
                }
                bar.finish_and_clear();
            })
        };
        Self {
            done,
            painter: Some(painter),
        }
    }

    /// Removes the progress line.
    pub fn finish(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(painter) = self.painter.take() {
            let _ = painter.join();
        }
    }
}

/// The live figures: issued against requested, the last second's rate and p99, errors.
fn status_line(seen: &ProgressSnapshot, elapsed: Duration) -> String {
    let mut line = format!(
        "issued {}/{} ({:.0}/s)",
        seen.sent,
        seen.due,
        seen.sent as f64 / elapsed.as_secs_f64().max(1e-3)
    );
    if let Some(second) = &seen.last_second {
        line += &format!(
            " · last s: {} done, p99 {:.1} ms",
            second.ok + second.errors,
            second.p99_us as f64 / 1000.0
        );
    }
    line += &format!(
        " · ok {} · errors {} · in flight {}",
        seen.ok,
        seen.errors,
        seen.in_flight()
    );
    if seen.dropped > 0 {
        line += &format!(" · DROPPED {}", seen.dropped);
    }
    line
}

/// A spinner with a message for a step whose length is unknown (opening a large trace, say).
/// Drawn only when stderr is a terminal.
pub struct Spinner(Option<ProgressBar>);

impl Spinner {
    pub fn start(message: impl Into<String>) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        spinner.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>4}  {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        spinner.set_message(message.into());
        spinner.enable_steady_tick(REFRESH);
        Self(Some(spinner))
    }

    /// Replaces the message.
    pub fn message(&self, message: impl Into<String>) {
        if let Some(spinner) = &self.0 {
            spinner.set_message(message.into());
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(spinner) = self.0.take() {
            spinner.finish_and_clear();
        }
    }
}
