//! The recorder: HdrHistograms and counters of everything a run measured.
//!
//! Each worker owns one recorder; at the end they are merged with [`Recorder::merge`], which
//! adds histograms bucket by bucket (percentiles are never averaged).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::outcome::{ErrorKind, Outcome, StartKind};

/// Significant digits kept by every histogram: values are exact to 0.1%.
pub const SIGNIFICANT_DIGITS: u8 = 3;

fn histogram() -> Histogram<u64> {
    // Auto-resizing from 1 µs up, so memory follows the largest value actually seen.
    Histogram::new(SIGNIFICANT_DIGITS).expect("3 significant digits is a valid histogram")
}

/// Records `value`, growing the histogram as needed. `saturating_record` alone would clamp
/// to the current range instead of growing it.
fn record(histogram: &mut Histogram<u64>, value: u64) {
    if histogram.record(value).is_err() {
        histogram.saturating_record(value);
    }
}

/// Why two recorders could not be merged.
#[derive(Debug, thiserror::Error)]
#[error("cannot merge recorders: {0}")]
pub struct MergeError(String);

/// What was measured for one function.
#[derive(Debug, Clone)]
pub struct FunctionRecord {
    /// Successful invocations.
    pub ok: u64,
    /// Failed invocations, all kinds.
    pub errors: u64,
    /// Successful invocations by start kind, indexed like [`StartKind::ALL`].
    pub starts: [u64; 4],
    /// Latency of successful invocations, µs.
    pub latency: Histogram<u64>,
}

impl FunctionRecord {
    fn new() -> Self {
        Self {
            ok: 0,
            errors: 0,
            starts: [0; 4],
            latency: histogram(),
        }
    }

    /// Successful invocations that started as `kind`.
    pub fn starts_of(&self, kind: StartKind) -> u64 {
        self.starts[kind.index()]
    }
}

/// Billing figures reported by the platform (`x-faas-billed-ms`, `x-faas-memory-mb`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Billing {
    /// Invocations that reported both billed time and memory.
    pub invocations: u64,
    /// Sum over those invocations of billed milliseconds × MiB.
    pub mb_ms: u128,
}

impl Billing {
    /// Billed GB-seconds (GiB of memory × seconds), the unit FaaS prices use.
    pub fn gb_seconds(&self) -> f64 {
        self.mb_ms as f64 / 1024.0 / 1000.0
    }
}

/// Histograms and counters of a run, all times in microseconds.
///
/// Latency and service-time histograms hold successful invocations; failures are counted by
/// [`ErrorKind`]. The send-lag histogram holds every invocation that was sent.
#[derive(Debug, Clone)]
pub struct Recorder {
    latency: [Histogram<u64>; 4],
    service: [Histogram<u64>; 4],
    send_lag: Histogram<u64>,
    errors: BTreeMap<ErrorKind, u64>,
    functions: Vec<FunctionRecord>,
    billing: Billing,
}

impl Recorder {
    /// A recorder for a schedule of `functions` functions.
    pub fn new(functions: usize) -> Self {
        Self {
            latency: std::array::from_fn(|_| histogram()),
            service: std::array::from_fn(|_| histogram()),
            send_lag: histogram(),
            errors: BTreeMap::new(),
            functions: (0..functions).map(|_| FunctionRecord::new()).collect(),
            billing: Billing::default(),
        }
    }

    /// Adds one outcome.
    pub fn record(&mut self, outcome: &Outcome) {
        record(&mut self.send_lag, outcome.send_lag_us);
        if let (Some(billed_ms), Some(memory_mb)) =
            (outcome.metering.billed_ms, outcome.metering.memory_mb)
        {
            self.billing.invocations += 1;
            self.billing.mb_ms += u128::from(billed_ms) * u128::from(memory_mb);
        }
        let function = self.functions.get_mut(outcome.invocation.function.index());
        match outcome.result {
            Ok(()) => {
                let kind = outcome.start.index();
                record(&mut self.latency[kind], outcome.latency_us);
                record(&mut self.service[kind], outcome.service_us);
                if let Some(function) = function {
                    function.ok += 1;
                    function.starts[kind] += 1;
                    record(&mut function.latency, outcome.latency_us);
                }
            }
            Err(kind) => {
                *self.errors.entry(kind).or_default() += 1;
                if let Some(function) = function {
                    function.errors += 1;
                }
            }
        }
    }

    /// Adds everything `other` recorded into this recorder.
    pub fn merge(&mut self, other: &Recorder) -> Result<(), MergeError> {
        if self.functions.len() != other.functions.len() {
            return Err(MergeError(format!(
                "{} functions here, {} in the other recorder",
                self.functions.len(),
                other.functions.len()
            )));
        }
        let add = |into: &mut Histogram<u64>, from: &Histogram<u64>| {
            into.add(from).map_err(|err| MergeError(format!("{err:?}")))
        };
        for (into, from) in self.latency.iter_mut().zip(&other.latency) {
            add(into, from)?;
        }
        for (into, from) in self.service.iter_mut().zip(&other.service) {
            add(into, from)?;
        }
        add(&mut self.send_lag, &other.send_lag)?;
        for (kind, count) in &other.errors {
            *self.errors.entry(*kind).or_default() += count;
        }
        for (into, from) in self.functions.iter_mut().zip(&other.functions) {
            into.ok += from.ok;
            into.errors += from.errors;
            for (a, b) in into.starts.iter_mut().zip(from.starts) {
                *a += b;
            }
            add(&mut into.latency, &from.latency)?;
        }
        self.billing.invocations += other.billing.invocations;
        self.billing.mb_ms += other.billing.mb_ms;
        Ok(())
    }

    /// Successful invocations.
    pub fn ok(&self) -> u64 {
        self.functions.iter().map(|f| f.ok).sum()
    }

    /// Failed invocations by kind.
    pub fn errors(&self) -> &BTreeMap<ErrorKind, u64> {
        &self.errors
    }

    /// Failed invocations, all kinds.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Latency of successful invocations that started as `kind`.
    pub fn latency(&self, kind: StartKind) -> &Histogram<u64> {
        &self.latency[kind.index()]
    }

    /// Service time (from the actual send) of successful invocations that started as `kind`.
    pub fn service(&self, kind: StartKind) -> &Histogram<u64> {
        &self.service[kind.index()]
    }

    /// How late each invocation was sent.
    pub fn send_lag(&self) -> &Histogram<u64> {
        &self.send_lag
    }

    /// Per-function figures, indexed by [`scenarios::FunctionId`].
    pub fn functions(&self) -> &[FunctionRecord] {
        &self.functions
    }

    /// Billing figures reported by the platform.
    pub fn billing(&self) -> Billing {
        self.billing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::PlatformMetering;
    use scenarios::{FunctionId, Invocation, Trigger};

    fn outcome(
        function: u32,
        latency_us: u64,
        result: Result<(), ErrorKind>,
        start: StartKind,
    ) -> Outcome {
        Outcome {
            invocation: Invocation {
                at_us: 0,
                function: FunctionId(function),
                trigger: Trigger::Http,
                duration_us: None,
                memory_mb: 128,
            },
            latency_us,
            service_us: latency_us / 2,
            send_lag_us: 10,
            result,
            start,
            metering: PlatformMetering {
                billed_ms: Some(3),
                memory_mb: Some(128),
                ..PlatformMetering::default()
            },
        }
    }

    #[test]
    fn merged_histograms_hold_every_value_of_both_workers() {
        let mut first = Recorder::new(2);
        let mut second = Recorder::new(2);
        for v in 1..=500 {
            first.record(&outcome(0, v * 10, Ok(()), StartKind::Warm));
        }
        for v in 501..=1000 {
            second.record(&outcome(1, v * 10, Ok(()), StartKind::Warm));
        }
        first.record(&outcome(0, 50_000, Ok(()), StartKind::Cold));
        second.record(&outcome(1, 1, Err(ErrorKind::Status(500)), StartKind::Warm));
        second.record(&outcome(1, 1, Err(ErrorKind::Timeout), StartKind::Unknown));
        first.merge(&second).unwrap();

        let warm = first.latency(StartKind::Warm);
        assert_eq!(warm.len(), 1000);
        // The median of 10..=10000 in steps of 10 is 5000: only a merge of the buckets gives
        // that; averaging the two workers' medians (2500 and 7500) would too, but not p90.
        assert!(warm.equivalent(warm.value_at_quantile(0.5), 5000));
        assert!(warm.equivalent(warm.value_at_quantile(0.9), 9000));
        assert_eq!(first.latency(StartKind::Cold).len(), 1);
        assert_eq!(first.ok(), 1001);
        assert_eq!(first.error_count(), 2);
        assert_eq!(first.errors()[&ErrorKind::Status(500)], 1);
        assert_eq!(first.functions()[0].starts_of(StartKind::Cold), 1);
        assert_eq!(first.functions()[1].errors, 2);
        assert_eq!(first.send_lag().len(), 1003);
        assert_eq!(first.billing().invocations, 1003);
        assert_eq!(first.billing().mb_ms, 1003 * 3 * 128);
    }

    #[test]
    fn merging_recorders_of_different_schedules_is_refused() {
        let err = Recorder::new(1).merge(&Recorder::new(2)).unwrap_err();
        assert!(err.to_string().contains("functions"), "{err}");
    }
}
