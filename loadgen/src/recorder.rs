//! The recorder: HdrHistograms and counters of everything a run measured.
//!
//! Each worker owns one recorder; at the end they are merged with [`Recorder::merge`], which
//! adds histograms bucket by bucket (percentiles are never averaged). Run-wide histograms
//! keep [`SIGNIFICANT_DIGITS`]; the breakdowns by function and by trigger keep
//! [`GROUP_SIGNIFICANT_DIGITS`] and are allocated only for the start kinds that occur, so a
//! replay of thousands of functions stays small. Per start kind, the latency is also split
//! into its [`LatencyComponent`]s, with histograms allocated for the components that occur.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use scenarios::Trigger;

use serde::{Deserialize, Serialize};

use crate::billing::Billing;
use crate::composition::{Composition, LatencyComponent};
use crate::outcome::{ErrorKind, Outcome, StartKind};
use crate::sparse::SparseHistogram;

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

/// Records `count` of `value`, growing the histogram as needed.
pub(crate) fn record_n(histogram: &mut Histogram<u64>, value: u64, count: u64) {
    if histogram.record_n(value, count).is_err() {
        histogram.saturating_record_n(value, count);
    }
}

pub(crate) fn add(into: &mut Histogram<u64>, from: &Histogram<u64>) -> Result<(), MergeError> {
    into.add(from).map_err(|err| MergeError(format!("{err:?}")))
}

/// Why two recorders could not be merged.
#[derive(Debug, thiserror::Error)]
#[error("cannot merge recorders: {0}")]
pub struct MergeError(String);

/// What was measured for the invocations of one group and one start kind. Histograms hold
/// successful invocations, µs, with [`GROUP_SIGNIFICANT_DIGITS`], kept sparsely (see
/// [`SparseHistogram`]): a breakdown of thousands of functions stays small.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cell {
    #[serde(with = "crate::sparse::saved")]
    latency: SparseHistogram,
    #[serde(with = "crate::sparse::saved")]
    service: SparseHistogram,
    /// Send lag and the platform's queue, init and exec, indexed like
    /// [`LatencyComponent::ALL`]; empty where not measured. The remainder is kept run-wide
    /// only.
    #[serde(with = "crate::sparse::saved_array")]
    components: [SparseHistogram; 4],
    /// What the platform billed for them.
    billing: Billing,
}

/// The components a [`Cell`] keeps, in [`LatencyComponent::ALL`] order.
const CELL_COMPONENTS: [LatencyComponent; 4] = [
    LatencyComponent::SendLag,
    LatencyComponent::Queue,
    LatencyComponent::Init,
    LatencyComponent::Exec,
];

impl Cell {
    fn record(&mut self, outcome: &Outcome) {
        self.latency.record(outcome.latency_us);
        self.service.record(outcome.service_us);
        for (histogram, component) in self.components.iter_mut().zip(CELL_COMPONENTS) {
            if let Some(value) = component.of(outcome) {
                histogram.record(value);
            }
        }
    }

    fn merge(&mut self, other: &Cell) {
        self.latency.merge(&other.latency);
        self.service.merge(&other.service);
        for (into, from) in self.components.iter_mut().zip(&other.components) {
            into.merge(from);
        }
        self.billing.merge(&other.billing);
    }

    /// Latency from the scheduled send.
    pub fn latency(&self) -> Histogram<u64> {
        self.latency.to_histogram()
    }

    /// Service time, from the actual send.
    pub fn service(&self) -> Histogram<u64> {
        self.service.to_histogram()
    }

    /// One latency component, when it was measured (the remainder is kept run-wide only).
    pub fn component(&self, component: LatencyComponent) -> Option<Histogram<u64>> {
        let at = CELL_COMPONENTS.iter().position(|c| *c == component)?;
        let sparse = &self.components[at];
        (!sparse.is_empty()).then(|| sparse.to_histogram())
    }

    /// Buckets held by its histograms: what it costs in memory, 16 bytes each.
    pub fn buckets(&self) -> usize {
        self.latency.buckets()
            + self.service.buckets()
            + self
                .components
                .iter()
                .map(SparseHistogram::buckets)
                .sum::<usize>()
    }

    /// What the platform billed, successful and failed invocations alike.
    pub fn billing(&self) -> &Billing {
        &self.billing
    }
}

/// What was measured for a group of invocations: one function, or one trigger.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
    /// Successful invocations delayed by an instance start: their own (cold or snapshot), or
    /// one they waited for in the queue. See [`Outcome::delayed_by_start`].
    pub delayed_by_start: u64,
    /// Successful invocations of which it is not known whether a start delayed them: the
    /// platform did not say and they were not cold or snapshot starts themselves.
    pub delayed_by_start_unknown: u64,
    /// By start kind; `None` where no invocation of that kind was recorded.
    cells: [Option<Box<Cell>>; 4],
}

impl GroupRecord {
    fn record(&mut self, outcome: &Outcome) {
        if let (Some(billed_ms), Some(memory_mb)) =
            (outcome.metering.billed_ms, outcome.metering.memory_mb)
        {
            let metering = &outcome.metering;
            self.cell_mut(outcome.start).billing.add(
                billed_ms,
                memory_mb,
                outcome.service_us,
                metering.init_us,
                metering.exec_us,
            );
        }
        match outcome.result {
            Ok(()) => {
                let kind = outcome.start.index();
                self.ok += 1;
                self.starts[kind] += 1;
                self.inferred += u64::from(outcome.inferred);
                match outcome.delayed_by_start() {
                    Some(true) => self.delayed_by_start += 1,
                    Some(false) => {}
                    None => self.delayed_by_start_unknown += 1,
                }
                self.cell_mut(outcome.start).record(outcome);
            }
            Err(ErrorKind::Dropped) => self.dropped += 1,
            Err(_) => self.errors += 1,
        }
    }

    fn cell_mut(&mut self, kind: StartKind) -> &mut Cell {
        self.cells[kind.index()].get_or_insert_with(Box::default)
    }

    fn merge(&mut self, other: &GroupRecord) -> Result<(), MergeError> {
        self.ok += other.ok;
        self.errors += other.errors;
        self.dropped += other.dropped;
        self.inferred += other.inferred;
        self.delayed_by_start += other.delayed_by_start;
        self.delayed_by_start_unknown += other.delayed_by_start_unknown;
        for (a, b) in self.starts.iter_mut().zip(other.starts) {
            *a += b;
        }
        for (into, from) in self.cells.iter_mut().zip(&other.cells) {
            match (into.as_mut(), from) {
                (_, None) => {}
                (Some(into), Some(from)) => into.merge(from),
                (None, Some(from)) => *into = Some(from.clone()),
            }
        }
        Ok(())
    }

    /// Successful invocations that started as `kind`.
    pub fn starts_of(&self, kind: StartKind) -> u64 {
        self.starts[kind.index()]
    }

    /// What was measured for the invocations that started as `kind`, if any were recorded.
    pub fn cell(&self, kind: StartKind) -> Option<&Cell> {
        self.cells[kind.index()].as_deref()
    }

    /// Latency of the successful invocations that started as `kind`, if there were any.
    pub fn latency_of(&self, kind: StartKind) -> Option<Histogram<u64>> {
        self.cell(kind)
            .filter(|cell| !cell.latency.is_empty())
            .map(Cell::latency)
    }

    /// Latency of all successful invocations, every start kind added together.
    pub fn latency(&self) -> Histogram<u64> {
        let mut all = SparseHistogram::default();
        for cell in self.cells.iter().flatten() {
            all.merge(&cell.latency);
        }
        all.to_histogram()
    }

    /// What the platform billed for this group's invocations, every start kind together.
    pub fn billing(&self) -> Billing {
        let mut all = Billing::default();
        for cell in self.cells.iter().flatten() {
            all.merge(&cell.billing);
        }
        all
    }
}

/// Histograms and counters of a run, all times in microseconds.
///
/// Latency, service-time and latency-component histograms hold successful invocations;
/// failures are counted by [`ErrorKind`], dropped invocations on their own. The send-lag
/// histogram holds every invocation sent on a schedule (open loop).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recorder {
    #[serde(with = "crate::saved::histograms")]
    latency: [Histogram<u64>; 4],
    #[serde(with = "crate::saved::histograms")]
    service: [Histogram<u64>; 4],
    /// Indexed like [`StartKind::ALL`].
    composition: [Composition; 4],
    #[serde(with = "crate::saved::histogram")]
    send_lag: Histogram<u64>,
    #[serde(with = "crate::saved::error_counts")]
    errors: BTreeMap<ErrorKind, u64>,
    dropped: u64,
    /// Dropped invocations by the second of the run they were due in.
    dropped_by_second: BTreeMap<u64, u64>,
    inferred: u64,
    functions: Vec<GroupRecord>,
    /// Indexed like [`Trigger::ALL`]; `None` for triggers that did not occur.
    triggers: [Option<GroupRecord>; Trigger::ALL.len()],
}

impl Recorder {
    /// A recorder for a schedule of `functions` functions.
    pub fn new(functions: usize) -> Self {
        Self {
            latency: std::array::from_fn(|_| histogram(SIGNIFICANT_DIGITS)),
            service: std::array::from_fn(|_| histogram(SIGNIFICANT_DIGITS)),
            composition: Default::default(),
            send_lag: histogram(SIGNIFICANT_DIGITS),
            errors: BTreeMap::new(),
            dropped: 0,
            dropped_by_second: BTreeMap::new(),
            inferred: 0,
            functions: vec![GroupRecord::default(); functions],
            triggers: Default::default(),
        }
    }

    /// Adds one outcome.
    pub fn record(&mut self, outcome: &Outcome) {
        if let Some(lag) = outcome.send_lag_us {
            record(&mut self.send_lag, lag);
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
                self.composition[kind].record(outcome);
                self.inferred += u64::from(outcome.inferred);
            }
            Err(ErrorKind::Dropped) => {
                self.dropped += 1;
                *self
                    .dropped_by_second
                    .entry(outcome.invocation.at_us / 1_000_000)
                    .or_default() += 1;
            }
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
        for (into, from) in self.composition.iter_mut().zip(&other.composition) {
            into.merge(from)?;
        }
        add(&mut self.send_lag, &other.send_lag)?;
        for (kind, count) in &other.errors {
            *self.errors.entry(*kind).or_default() += count;
        }
        self.dropped += other.dropped;
        for (second, count) in &other.dropped_by_second {
            *self.dropped_by_second.entry(*second).or_default() += count;
        }
        self.inferred += other.inferred;
        for (into, from) in self.functions.iter_mut().zip(&other.functions) {
            into.merge(from)?;
        }
        for (into, from) in self.triggers.iter_mut().zip(&other.triggers) {
            if let Some(from) = from {
                into.get_or_insert_with(GroupRecord::default).merge(from)?;
            }
        }
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

    /// Dropped invocations by the second of the run they were due in (seconds without any
    /// are left out).
    pub fn dropped_by_second(&self) -> &BTreeMap<u64, u64> {
        &self.dropped_by_second
    }

    /// Successful invocations whose start kind was inferred rather than reported.
    pub fn inferred(&self) -> u64 {
        self.inferred
    }

    /// Successful invocations delayed by an instance start, their own or one they waited
    /// for (see [`Outcome::delayed_by_start`]).
    pub fn delayed_by_start(&self) -> u64 {
        self.functions.iter().map(|f| f.delayed_by_start).sum()
    }

    /// Successful invocations of which it is not known whether a start delayed them.
    pub fn delayed_by_start_unknown(&self) -> u64 {
        self.functions
            .iter()
            .map(|f| f.delayed_by_start_unknown)
            .sum()
    }

    /// Every invocation that ended in a bucket: ok, errors and dropped.
    pub fn finished(&self) -> u64 {
        self.ok() + self.error_count() + self.dropped
    }

    /// Latency of successful invocations that started as `kind`.
    pub fn latency(&self, kind: StartKind) -> &Histogram<u64> {
        &self.latency[kind.index()]
    }

    /// Latency of all successful invocations, every start kind added together.
    pub fn all_latency(&self) -> Histogram<u64> {
        let mut all = histogram(SIGNIFICANT_DIGITS);
        for h in &self.latency {
            // Same settings everywhere: adding cannot fail.
            let _ = all.add(h);
        }
        all
    }

    /// Service time (from the actual send) of successful invocations that started as `kind`.
    pub fn service(&self, kind: StartKind) -> &Histogram<u64> {
        &self.service[kind.index()]
    }

    /// One latency component of the successful invocations that started as `kind`, or
    /// `None` when none of them had it measured.
    ///
    /// ```
    /// use loadgen::{LatencyComponent, Recorder, StartKind};
    ///
    /// let recorder = Recorder::new(1);
    /// assert!(recorder.component(StartKind::Warm, LatencyComponent::Queue).is_none());
    /// ```
    pub fn component(
        &self,
        kind: StartKind,
        component: LatencyComponent,
    ) -> Option<&Histogram<u64>> {
        self.composition[kind.index()].component(component)
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

    /// Billing figures reported by the platform, every function together.
    pub fn billing(&self) -> Billing {
        let mut all = Billing::default();
        for function in &self.functions {
            all.merge(&function.billing());
        }
        all
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
        assert_eq!(first.billing().mb_ms(), 1003 * 3 * 128);
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

    /// A successful invocation of `function` with the platform's queue, init and exec
    /// figures and a service time of `service_us`.
    fn measured(
        function: u32,
        start: StartKind,
        service_us: u64,
        (queue, init, exec): (Option<u64>, Option<u64>, Option<u64>),
    ) -> Outcome {
        let mut o = outcome(function, service_us + 10, Ok(()), start);
        o.service_us = service_us;
        o.metering.queue_us = queue;
        o.metering.init_us = init;
        o.metering.exec_us = exec;
        o
    }

    /// Asserts that `component` of `kind` holds `expected` alone (to 3 significant digits).
    fn assert_only(
        recorder: &Recorder,
        kind: StartKind,
        component: LatencyComponent,
        expected: u64,
    ) {
        let h = recorder
            .component(kind, component)
            .unwrap_or_else(|| panic!("no {component:?} of {kind:?}"));
        assert_eq!(h.len(), 1, "{component:?} of {kind:?}");
        assert!(
            h.equivalent(h.max(), expected),
            "{component:?} of {kind:?}: {} instead of {expected}",
            h.max()
        );
    }

    #[test]
    fn latency_components_hold_the_reported_values_per_start_kind() {
        let mut recorder = Recorder::new(1);
        // Queued 150 ms behind another instance's start, then served warm.
        recorder.record(&measured(
            0,
            StartKind::Warm,
            160_000,
            (Some(150_000), Some(0), Some(3_000)),
        ));
        recorder.record(&measured(
            0,
            StartKind::Cold,
            205_000,
            (Some(10), Some(200_000), Some(2_000)),
        ));
        use LatencyComponent::*;
        let warm = |c, v| assert_only(&recorder, StartKind::Warm, c, v);
        warm(Queue, 150_000);
        warm(Init, 0);
        warm(Exec, 3_000);
        warm(Remainder, 7_000);
        warm(SendLag, 10);
        let cold = |c, v| assert_only(&recorder, StartKind::Cold, c, v);
        cold(Queue, 10);
        cold(Init, 200_000);
        cold(Exec, 2_000);
        cold(Remainder, 2_990);
        assert!(recorder.component(StartKind::Snapshot, Queue).is_none());
    }

    #[test]
    fn remainder_needs_every_platform_figure_and_saturates_at_zero() {
        let mut recorder = Recorder::new(1);
        // The platform's figures exceed the service time measured here.
        recorder.record(&measured(
            0,
            StartKind::Warm,
            1_000,
            (Some(600), Some(0), Some(900)),
        ));
        // No init figure: no remainder, but the reported parts still count.
        recorder.record(&measured(
            0,
            StartKind::Cold,
            50_000,
            (Some(100), None, Some(2_000)),
        ));
        // Failures are not split.
        let mut failed = measured(0, StartKind::Snapshot, 9_000, (Some(1), Some(1), Some(1)));
        failed.result = Err(ErrorKind::Status(500));
        recorder.record(&failed);

        assert_only(&recorder, StartKind::Warm, LatencyComponent::Remainder, 0);
        assert!(
            recorder
                .component(StartKind::Cold, LatencyComponent::Remainder)
                .is_none()
        );
        assert!(
            recorder
                .component(StartKind::Cold, LatencyComponent::Init)
                .is_none()
        );
        assert_only(&recorder, StartKind::Cold, LatencyComponent::Queue, 100);
        assert!(
            LatencyComponent::ALL
                .iter()
                .all(|&c| recorder.component(StartKind::Snapshot, c).is_none())
        );
    }

    #[test]
    fn merge_adds_the_latency_components() {
        let mut first = Recorder::new(1);
        let mut second = Recorder::new(1);
        let parts = (Some(1_000), Some(0), Some(500));
        first.record(&measured(0, StartKind::Warm, 2_000, parts));
        second.record(&measured(0, StartKind::Warm, 4_000, parts));
        second.record(&measured(0, StartKind::Warm, 6_000, parts));
        // Only the second recorder saw a snapshot start.
        second.record(&measured(
            0,
            StartKind::Snapshot,
            3_000,
            (Some(0), Some(80), Some(500)),
        ));
        first.merge(&second).unwrap();

        let remainder = first
            .component(StartKind::Warm, LatencyComponent::Remainder)
            .unwrap();
        assert_eq!(remainder.len(), 3);
        // 500, 2500 and 4500 µs: a merge of the buckets, not of summaries.
        assert!(remainder.equivalent(remainder.value_at_quantile(0.5), 2_500));
        assert!(remainder.equivalent(remainder.mean().round() as u64, 2_500));
        assert_eq!(
            first
                .component(StartKind::Warm, LatencyComponent::Queue)
                .map(Histogram::len),
            Some(3)
        );
        assert_only(&first, StartKind::Snapshot, LatencyComponent::Init, 80);
    }

    #[test]
    fn delayed_by_start_counts_the_header_and_own_starts_but_not_warm_without_it() {
        let with = |function, start, delayed| {
            let mut o = outcome(function, 1_000, Ok(()), start);
            o.metering.delayed_by_start = delayed;
            o
        };
        let mut first = Recorder::new(2);
        let mut second = Recorder::new(2);
        // Warm, but waited in the queue for another instance's start.
        first.record(&with(0, StartKind::Warm, Some(true)));
        // Warm and not delayed, as the platform says by leaving the header out.
        first.record(&with(0, StartKind::Warm, Some(false)));
        // Own starts count even from platforms that never send the header.
        first.record(&with(0, StartKind::Cold, None));
        second.record(&with(1, StartKind::Snapshot, None));
        // Warm from a platform that does not say: unknown, not counted.
        second.record(&with(1, StartKind::Warm, None));
        second.record(&with(1, StartKind::Unknown, None));
        // Only successful invocations count.
        let mut failed = with(1, StartKind::Cold, Some(true));
        failed.result = Err(ErrorKind::Timeout);
        second.record(&failed);
        first.merge(&second).unwrap();

        assert_eq!(first.delayed_by_start(), 3);
        assert_eq!(first.delayed_by_start_unknown(), 2);
        let functions = first.functions();
        assert_eq!(
            (
                functions[0].delayed_by_start,
                functions[0].delayed_by_start_unknown
            ),
            (2, 0)
        );
        assert_eq!(
            (
                functions[1].delayed_by_start,
                functions[1].delayed_by_start_unknown
            ),
            (1, 2)
        );
        // Function 0 is called over HTTP, function 1 from a queue.
        let triggers: BTreeMap<Trigger, &GroupRecord> = first.triggers().collect();
        assert_eq!(triggers[&Trigger::Http].delayed_by_start, 2);
        assert_eq!(triggers[&Trigger::Queue].delayed_by_start, 1);
        assert_eq!(triggers[&Trigger::Queue].delayed_by_start_unknown, 2);
    }

    #[test]
    fn merging_recorders_of_different_schedules_is_refused() {
        let err = Recorder::new(1).merge(&Recorder::new(2)).unwrap_err();
        assert!(err.to_string().contains("functions"), "{err}");
    }
}
