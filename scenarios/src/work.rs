//! The work model: how an invocation's duration from a trace becomes work for a guest.
//!
//! A trace says how long each invocation ran, not what it did. The work model splits that time
//! between computing (`cpu_share`) and waiting asynchronously (the rest, as for I/O), scales and
//! caps it, and sends it to the guest in the request body as `"<cpu µs> <io ms>"`, the input of
//! the runtime's `work` guest.

use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// How trace durations become guest work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkModel {
    /// The built-in guest (or module file) that runs trace functions. Default `work`.
    #[serde(default = "WorkModel::default_guest")]
    pub guest: String,
    /// Share of each duration spent computing; the rest is an asynchronous wait. Default 1.
    #[serde(default = "WorkModel::default_cpu_share")]
    pub cpu_share: f64,
    /// Factor applied to every duration, e.g. 0.1 to replay a trace ten times lighter.
    /// Default 1.
    #[serde(default = "WorkModel::default_duration_scale")]
    pub duration_scale: f64,
    /// Longest duration replayed; longer ones are cut to it. Default none.
    #[serde(default, with = "humantime_serde")]
    pub max_duration: Option<Duration>,
}

impl Default for WorkModel {
    fn default() -> Self {
        Self {
            guest: Self::default_guest(),
            cpu_share: Self::default_cpu_share(),
            duration_scale: Self::default_duration_scale(),
            max_duration: None,
        }
    }
}

impl WorkModel {
    fn default_guest() -> String {
        "work".into()
    }

    fn default_cpu_share() -> f64 {
        1.0
    }

    fn default_duration_scale() -> f64 {
        1.0
    }

    /// Checks the values; returns the offending field and why.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        if !(0.0..=1.0).contains(&self.cpu_share) {
            return Err((
                "cpu_share",
                format!("must be within 0..=1, found {}", self.cpu_share),
            ));
        }
        if !(self.duration_scale.is_finite() && self.duration_scale > 0.0) {
            return Err((
                "duration_scale",
                format!("must be a positive number, found {}", self.duration_scale),
            ));
        }
        if self.guest.is_empty() {
            return Err(("guest", "must name a guest".into()));
        }
        Ok(())
    }

    /// A trace duration as replayed: scaled, then capped.
    pub(crate) fn replayed_us(&self, trace_us: f64) -> u32 {
        let scaled = trace_us * self.duration_scale;
        let capped = match self.max_duration {
            Some(cap) => scaled.min(cap.as_micros() as f64),
            None => scaled,
        };
        capped.round().clamp(0.0, f64::from(u32::MAX)) as u32
    }
}

/// The request body of an invocation that should take `duration_us`, `cpu_share` of it
/// computing: `"<cpu µs> <io ms>"`.
pub fn work_body(duration_us: u32, cpu_share: f64) -> Bytes {
    let cpu_us = (f64::from(duration_us) * cpu_share).round() as u64;
    let io_ms = ((f64::from(duration_us) - cpu_us as f64) / 1000.0).round() as u64;
    Bytes::from(format!("{cpu_us} {io_ms}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_split_into_compute_and_wait() {
        assert_eq!(work_body(250_000, 1.0), "250000 0");
        assert_eq!(work_body(250_000, 0.2), "50000 200");
        assert_eq!(work_body(1_500, 0.0), "0 2");
    }

    #[test]
    fn durations_are_scaled_then_capped() {
        let model = WorkModel {
            duration_scale: 0.5,
            max_duration: Some(Duration::from_millis(100)),
            ..WorkModel::default()
        };
        assert_eq!(model.replayed_us(50_000.0), 25_000);
        assert_eq!(model.replayed_us(1_000_000.0), 100_000);
    }
}
