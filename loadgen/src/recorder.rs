//! The recorder: HdrHistograms and counters of everything a run measured.
//!
//! Each worker owns one recorder; at the end they are merged with [`Recorder::merge`], which
//! adds histograms bucket by bucket (percentiles are never averaged). Run-wide histograms
//! keep [`SIGNIFICANT_DIGITS`]; the breakdowns by function and by trigger keep
//! [`GROUP_SIGNIFICANT_DIGITS`] and are allocated only for the start kinds that occur, so a
//! replay of thousands of functions stays small.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use scenarios::Trigger;

use crate::outcome::{ErrorKind, Outcome, StartKind};

/// Significant digits of the run-wide histograms: values are exact to 0.1%.
pub const SIGNIFICANT_DIGITS: u8 = 3;
/// Significant digits of the per-function and per-trigger histograms: exact to 1%.
pub const GROUP_SIGNIFICANT_DIGITS: u8 = 2;

pub(crate) fn histogram(digits: u8) -> Histogram<u64> {
    // Auto-resizing from 1 µs up, so memory follows the largest value actually seen.
    Histogram::new(digits).expect("2 or 3 significant digits is a valid histogram")
}

/// Records `value`, growing the histogram as needed. `saturating_record` alone would clamp
/// to the current range instead of growing it.
pub(crate) fn record(histogram: &mut Histogram<u64>, value: u64) {
    if histogram.record(value).is_err() {
        histogram.saturating_record(value);
    }
}

fn add(into: &mut Histogram<u64>, from: &Histogram<u64>) -> Result<(), MergeError> {
    into.add(from).map_err(|err| MergeError(format!("{err:?}")))
}

/// Why two recorders could not be merged.
#[derive(Debug, thiserror::Error)]
#[error("cannot merge recorders: {0}")]
pub struct MergeError(String);

/// What was measured for a group of invocations: one function, or one trigger.
#[derive(Debug, Clone, Default)]
pub struct GroupRecord {
    /// Successful invocations.
    pub ok: u64,
    /// Failed invocations, all kinds except dropped.
    pub errors: u64,
    /// Invocations never sent because the in-flight bound was reached.
    pub dropped: u64,
    /// Successful invocations by start kind, indexed like [`StartKind::ALL`].
    pub starts: [u64; 4],
    /// How many of the successful invocations had their start kind inferred.
    pub inferred: u64,
    /// Latency of successful invocations by start kind, µs; `None` where none occurred.
    latency: [Option<Histogram<u64>>; 4],
}

impl GroupRecord {
    fn record(&mut self, outcome: &Outcome) {
        match outcome.result {
            Ok(()) => {
                let kind = outcome.start.index();
                self.ok += 1;
                self.starts[kind] += 1;
                self.inferred += u64::from(outcome.inferred);
                let histogram =
                    self.latency[kind].get_or_insert_with(|| histogram(GROUP_SIGNIFICANT_DIGITS));
                record(histogram, outcome.latency_us);
            }
            Err(ErrorKind::Dropped) => self.dropped += 1,
            Err(_) => self.errors += 1,
        }
    }

    fn merge(&mut self, other: &GroupRecord) -> Result<(), MergeError> {
        self.ok += other.ok;
        self.errors += other.errors;
        self.dropped += other.dropped;
        self.inferred += other.inferred;
        for (a, b) in self.starts.iter_mut().zip(other.starts) {
            *a += b;
        }
        for (into, from) in self.latency.iter_mut().zip(&other.latency) {
            match (into.as_mut(), from) {
                (_, None) => {}
                (Some(into), Some(from)) => add(into, from)?,
                (None, Some(from)) => *into = Some(from.clone()),
            }
        }
        Ok(())
    }

    /// Successful invocations that started as `kind`.
    pub fn starts_of(&self, kind: StartKind) -> u64 {
        self.starts[kind.index()]
    }

    /// Latency of the successful invocations that started as `kind`, if there were any.
    pub fn latency_of(&self, kind: StartKind) -> Option<&Histogram<u64>> {
        self.latency[kind.index()].as_ref()
    }

    /// Latency of all successful invocations, every start kind added together.
    pub fn latency(&self) -> Histogram<u64> {
        let mut all = histogram(GROUP_SIGNIFICANT_DIGITS);
        for h in self.latency.iter().flatten() {
            // Same settings everywhere: adding cannot fail.
            let _ = all.add(h);
        }
        all
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
/// [`ErrorKind`], dropped invocations on their own. The send-lag histogram holds every
/// invocation sent on a schedule (open loop).
#[derive(Debug, Clone)]
pub struct Recorder {
    latency: [Histogram<u64>; 4],
    service: [Histogram<u64>; 4],
    send_lag: Histogram<u64>,
    errors: BTreeMap<ErrorKind, u64>,
    dropped: u64,
    inferred: u64,
    functions: Vec<GroupRecord>,
    /// Indexed like [`Trigger::ALL`]; `None` for triggers that did not occur.
    triggers: [Option<GroupRecord>; Trigger::ALL.len()],
    billing: Billing,
}

impl Recorder {
    /// A recorder for a schedule of `functions` functions.
    pub fn new(functions: usize) -> Self {
        Self {
            latency: std::array::from_fn(|_| histogram(SIGNIFICANT_DIGITS)),
            service: std::array::from_fn(|_| histogram(SIGNIFICANT_DIGITS)),
            send_lag: histogram(SIGNIFICANT_DIGITS),
            errors: BTreeMap::new(),
            dropped: 0,
            inferred: 0,
            functions: vec![GroupRecord::default(); functions],
            triggers: Default::default(),
            billing: Billing::default(),
        }
    }

    /// Adds one outcome.
    pub fn record(&mut self, outcome: &Outcome) {
        if let Some(lag) = outcome.send_lag_us {
            record(&mut self.send_lag, lag);
        }
        if let (Some(billed_ms), Some(memory_mb)) =
            (outcome.metering.billed_ms, outcome.metering.memory_mb)
        {
            self.billing.invocations += 1;
            self.billing.mb_ms += u128::from(billed_ms) * u128::from(memory_mb);
        }
        if let Some(function) = self.functions.get_mut(outcome.invocation.function.index()) {
            function.record(outcome);
        }
        self.triggers[outcome.invocation.trigger.index()]
            .get_or_insert_with(GroupRecord::default)
            .record(outcome);
        match outcome.result {
            Ok(()) => {
                let kind = outcome.start.index();
                record(&mut self.latency[kind], outcome.latency_us);
                record(&mut self.service[kind], outcome.service_us);
                self.inferred += u64::from(outcome.inferred);
            }
            Err(ErrorKind::Dropped) => self.dropped += 1,
            Err(kind) => *self.errors.entry(kind).or_default() += 1,
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
        self.dropped += other.dropped;
        self.inferred += other.inferred;
        for (into, from) in self.functions.iter_mut().zip(&other.functions) {
            into.merge(from)?;
        }
        for (into, from) in self.triggers.iter_mut().zip(&other.triggers) {
            if let Some(from) = from {
                into.get_or_insert_with(GroupRecord::default).merge(from)?;
            }
        }
        self.billing.invocations += other.billing.invocations;
        self.billing.mb_ms += other.billing.mb_ms;
        Ok(())
    }

    /// Successful invocations.
    pub fn ok(&self) -> u64 {
        self.functions.iter().map(|f| f.ok).sum()
    }

    /// Failed invocations by kind (dropped ones are counted by [`Self::dropped`]).
    pub fn errors(&self) -> &BTreeMap<ErrorKind, u64> {
        &self.errors
    }

    /// Failed invocations, all kinds except dropped.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Invocations never sent because the in-flight bound was reached when they were due.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Successful invocations whose start kind was inferred rather than reported.
    pub fn inferred(&self) -> u64 {
        self.inferred
    }

    /// Every invocation that ended in a bucket: ok, errors and dropped.
    pub fn finished(&self) -> u64 {
        self.ok() + self.error_count() + self.dropped
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

    /// Invocations sent later than `threshold_us` after their scheduled time.
    pub fn late(&self, threshold_us: u64) -> u64 {
        let lag = &self.send_lag;
        if lag.is_empty() || lag.max() <= threshold_us {
            return 0;
        }
        lag.len() - lag.count_between(0, threshold_us)
    }

    /// Per-function figures, indexed by [`scenarios::FunctionId`].
    pub fn functions(&self) -> &[GroupRecord] {
        &self.functions
    }

    /// Per-trigger figures, for the triggers that occurred.
    pub fn triggers(&self) -> impl Iterator<Item = (Trigger, &GroupRecord)> {
        Trigger::ALL
            .into_iter()
            .zip(&self.triggers)
            .filter_map(|(trigger, record)| Some((trigger, record.as_ref()?)))
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
    use scenarios::{FunctionId, Invocation};

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
                trigger: if function == 0 {
                    Trigger::Http
                } else {
                    Trigger::Queue
                },
                duration_us: None,
                memory_mb: 128,
            },
            latency_us,
            service_us: latency_us / 2,
            send_lag_us: (result != Err(ErrorKind::Dropped)).then_some(10),
            result,
            start,
            inferred: false,
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
    fn functions_and_triggers_are_broken_down_by_start_kind() {
        let mut first = Recorder::new(2);
        let mut second = Recorder::new(2);
        first.record(&outcome(0, 900, Ok(()), StartKind::Cold));
        first.record(&outcome(0, 100, Ok(()), StartKind::Warm));
        second.record(&outcome(0, 120, Ok(()), StartKind::Warm));
        second.record(&outcome(1, 300, Ok(()), StartKind::Snapshot));
        first.merge(&second).unwrap();

        let f0 = &first.functions()[0];
        let cold = f0.latency_of(StartKind::Cold).unwrap();
        // Two significant digits: 900 is kept as its bucket, exact to 1%.
        assert!(cold.equivalent(cold.max(), 900));
        assert!(cold.max().abs_diff(900) <= 9);
        assert_eq!(f0.latency_of(StartKind::Warm).unwrap().len(), 2);
        assert!(f0.latency_of(StartKind::Snapshot).is_none());
        assert_eq!(f0.latency().len(), 3);
        let triggers: BTreeMap<Trigger, &GroupRecord> = first.triggers().collect();
        assert_eq!(triggers[&Trigger::Queue].starts_of(StartKind::Snapshot), 1);
        assert_eq!(triggers[&Trigger::Http].ok, 3);
        assert_eq!(triggers.len(), 2);
    }

    #[test]
    fn dropped_invocations_are_their_own_bucket_and_late_ones_are_counted() {
        let mut recorder = Recorder::new(1);
        recorder.record(&outcome(0, 5, Ok(()), StartKind::Warm));
        recorder.record(&outcome(0, 0, Err(ErrorKind::Dropped), StartKind::Unknown));
        recorder.record(&outcome(0, 0, Err(ErrorKind::Refused), StartKind::Unknown));
        let mut late = outcome(0, 50_000, Ok(()), StartKind::Warm);
        late.send_lag_us = Some(40_000);
        recorder.record(&late);
        assert_eq!(recorder.dropped(), 1);
        assert_eq!(recorder.error_count(), 1);
        assert!(!recorder.errors().contains_key(&ErrorKind::Dropped));
        assert_eq!(recorder.finished(), 4);
        assert_eq!(recorder.functions()[0].dropped, 1);
        // Dropped invocations were never sent: no send lag.
        assert_eq!(recorder.send_lag().len(), 3);
        assert_eq!(recorder.late(10_000), 1);
        assert_eq!(recorder.late(50_000), 0);
    }

    #[test]
    fn merging_recorders_of_different_schedules_is_refused() {
        let err = Recorder::new(1).merge(&Recorder::new(2)).unwrap_err();
        assert!(err.to_string().contains("functions"), "{err}");
    }
}
