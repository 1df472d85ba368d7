//! The run summary: the figures of a run in one versioned, serialisable structure. Every
//! artifact (`summary.json`, the terminal table) is rendered from it.
//!
//! Besides percentiles by start kind it says where the time went ([`CompositionSummary`]) and
//! how many invocations waited for an instance start ([`DelayedByStart`]): a start kind says
//! how the serving instance was started, not whether the invocation waited for a start.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use loadgen::{GroupRecord, LatencyComponent, Recorder, RunResult, StartKind};
use scenarios::{LoadSpec, StartInference};
use serde::{Deserialize, Serialize};

use crate::pricing::{Cost, Pricing, PricingSummary};
use crate::report::PlatformStats;

/// Version of the `summary.json` layout; raised on every incompatible change.
pub const SCHEMA_VERSION: u32 = 5;

/// Percentiles of a histogram, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p99_9: u64,
    pub max: u64,
}

impl Percentiles {
    /// The percentiles of `histogram`, or `None` when it is empty.
    pub fn of(histogram: &Histogram<u64>) -> Option<Self> {
        if histogram.is_empty() {
            return None;
        }
        Some(Self {
            count: histogram.len(),
            min: histogram.min(),
            mean: histogram.mean(),
            p50: histogram.value_at_quantile(0.5),
            p90: histogram.value_at_quantile(0.9),
            p99: histogram.value_at_quantile(0.99),
            p99_9: histogram.value_at_quantile(0.999),
            max: histogram.max(),
        })
    }
}

/// Latency over every invocation that was due, not only the successful ones: each failed,
/// timed-out or dropped invocation counts as slower than any success. A percentile that falls
/// among those is `None` (read "beyond the timeout"): when more than 1 % of the due
/// invocations failed, p99 says so instead of describing the lucky ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AllScheduled {
    /// Invocations due: successes, errors and dropped ones (not those never sent after a stop).
    pub count: u64,
    /// Errors, timeouts and dropped invocations among them.
    pub failed: u64,
    /// The request timeout, ms: a failure is at least this slow or never answered.
    pub timeout_ms: f64,
    pub p50: Option<u64>,
    pub p90: Option<u64>,
    pub p99: Option<u64>,
    pub p99_9: Option<u64>,
    pub max: Option<u64>,
}

impl AllScheduled {
    /// `successes` holds the latencies of the successful invocations; `failed` more were due.
    pub fn of(successes: &Histogram<u64>, failed: u64, timeout_ms: f64) -> Option<Self> {
        let ok = successes.len();
        let count = ok.checked_add(failed)?;
        if count == 0 {
            return None;
        }
        // Successes sort first, failures after every one of them.
        let at = |quantile: f64| {
            let rank = ((quantile * count as f64).ceil() as u64).clamp(1, count);
            (rank <= ok).then(|| successes.value_at_quantile(rank as f64 / ok as f64))
        };
        Some(Self {
            count,
            failed,
            timeout_ms,
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            p99_9: at(0.999),
            max: (failed == 0).then(|| successes.max()),
        })
    }
}

/// How the scheduled invocations ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Length of the schedule; equals `ok + errors + dropped + not_sent`.
    pub scheduled: u64,
    pub ok: u64,
    /// Sent and failed: by status, connection failure or timeout.
    pub errors: u64,
    /// Never sent: the in-flight bound was reached when they were due.
    pub dropped: u64,
    /// Never sent because the run was stopped early.
    pub not_sent: u64,
    /// Errors by kind: `http_<status>`, `refused`, `connect_timeout`, `connect`, `reset`,
    /// `timeout`.
    pub errors_by_kind: BTreeMap<String, u64>,
}

/// How the load was applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadSummary {
    /// `open`, `closed` or `max-throughput`.
    pub mode: String,
    /// `http1` or `h2c`.
    pub protocol: String,
    /// The connection setting, when one was given.
    pub connections: Option<usize>,
    /// Connections opened over the run.
    pub connections_opened: u64,
    /// Connections open at once, at most.
    pub connections_peak: usize,
    /// Open loop: the in-flight bound.
    pub max_in_flight: Option<usize>,
    /// Closed loop: users; max throughput: requests kept in flight.
    pub users: Option<usize>,
    /// Closed loop: think time between a user's invocations, ms.
    pub think_time_ms: Option<f64>,
}

/// Whether an open-loop run issued what its schedule asked for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateSummary {
    /// Invocations due per second of the schedule.
    pub requested_per_second: f64,
    /// Invocations sent per second of the schedule.
    pub issued_per_second: f64,
    /// Sent more than `late_after_ms` after their scheduled time.
    pub late: u64,
    pub late_after_ms: f64,
    /// Dropped and late invocations over those due.
    pub behind_share: f64,
    /// The share tolerated before the run is flagged.
    pub tolerance: f64,
    /// False when the run fell behind by more than the tolerance: its latencies describe a
    /// lighter load than requested.
    pub held: bool,
}

/// The pacer's own error and cost.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PacingSummary {
    /// How late invocations were handed to workers, µs.
    pub dispatch_lag_us: Option<Percentiles>,
    /// CPU used by the pacer thread, as a share of one core.
    pub cpu_share: Option<f64>,
    /// Whether the pacer ran with real-time priority.
    pub realtime: bool,
}

/// Where start kinds came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartKindSource {
    /// Successful invocations whose start kind the platform reported (`x-faas-start`).
    pub reported: u64,
    /// Successful invocations whose start kind was inferred.
    pub inferred: u64,
    /// Successful invocations whose start kind is unknown.
    pub unknown: u64,
    /// The inference rule, when one was set.
    pub rule: Option<String>,
}

/// Figures of a group of invocations: one trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub ok: u64,
    pub errors: u64,
    pub dropped: u64,
    /// Successful invocations by start kind.
    pub starts: BTreeMap<StartKind, u64>,
    /// Successful invocations served by a new instance, cold or restored.
    pub cold_starts: ColdStarts,
    /// Latency of successful invocations by start kind and `all`, µs (2 significant digits).
    pub latency_us: BTreeMap<String, Percentiles>,
    /// Successful invocations delayed by an instance start, their own or one they waited for.
    pub delayed_by_start: DelayedByStart,
}

impl GroupSummary {
    fn of(record: &GroupRecord) -> Self {
        Self {
            ok: record.ok,
            errors: record.errors,
            dropped: record.dropped,
            starts: starts(record),
            cold_starts: ColdStarts::of(
                record.starts_of(StartKind::Cold),
                record.starts_of(StartKind::Snapshot),
                record.ok,
            ),
            latency_us: group_latency(record),
            delayed_by_start: DelayedByStart::of(
                record.delayed_by_start,
                record.delayed_by_start_unknown,
                record.ok,
            ),
        }
    }
}

fn starts(record: &GroupRecord) -> BTreeMap<StartKind, u64> {
    StartKind::ALL
        .into_iter()
        .map(|kind| (kind, record.starts_of(kind)))
        .filter(|(_, count)| *count > 0)
        .collect()
}

fn group_latency(record: &GroupRecord) -> BTreeMap<String, Percentiles> {
    let mut map: BTreeMap<String, Percentiles> = StartKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let p = Percentiles::of(&record.latency_of(kind)?)?;
            Some((kind.as_str().to_owned(), p))
        })
        .collect();
    if let Some(all) = Percentiles::of(&record.latency()) {
        map.insert(ALL.to_owned(), all);
    }
    map
}

/// Cold starts among successful invocations, counted as platform users count them: every
/// invocation served by a new instance, whether started from scratch (`cold`) or restored from
/// a snapshot (`snapshot`) — a restore is a cold start made cheaper, as AWS Lambda SnapStart
/// counts restores. The split is always given next to the total.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ColdStarts {
    /// `cold + snapshot`.
    pub count: u64,
    /// `count` divided by successful invocations.
    pub rate: f64,
    /// New instances started from scratch: compile, instantiate, `init`.
    pub cold: u64,
    /// New instances restored from a snapshot.
    pub snapshot: u64,
}

impl ColdStarts {
    fn of(cold: u64, snapshot: u64, ok: u64) -> Self {
        let count = cold.saturating_add(snapshot);
        Self {
            count,
            rate: share(count, ok),
            cold,
            snapshot,
        }
    }
}

/// Successful invocations that waited for an instance start: their own (cold or snapshot),
/// or, while queued, the start of another instance of the same function. The second kind
/// is served warm, so only this count shows how many invocations a start delayed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DelayedByStart {
    pub count: u64,
    /// `count` divided by successful invocations.
    pub rate: f64,
    /// Successful invocations of which the platform did not say whether they waited (no
    /// `x-faas-delayed-by-start` protocol) and that were no cold or snapshot starts
    /// themselves. When above 0, `count` is a lower bound.
    pub unknown: u64,
}

impl DelayedByStart {
    fn of(count: u64, unknown: u64, ok: u64) -> Self {
        Self {
            count,
            rate: share(count, ok),
            unknown,
        }
    }
}

/// Where the latency of the successful invocations of one start kind went, µs. For every
/// invocation `latency = send_lag + queue + init + exec + remainder`, so the components'
/// means add up to the latency's mean (where every component was measured); their
/// percentiles do not add up. Components that were not measured are left out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CompositionSummary {
    /// From the scheduled send to the last byte of the answer.
    pub latency: Percentiles,
    /// Scheduled to actual send. Open loop only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_lag: Option<Percentiles>,
    /// Waiting in the function's queue for an instance, as the platform reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<Percentiles>,
    /// Starting the serving instance, as the platform reports it; 0 when warm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<Percentiles>,
    /// Running in the guest, as the platform reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<Percentiles>,
    /// Service time less queue, init and exec: network and platform overhead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remainder: Option<Percentiles>,
}

impl CompositionSummary {
    fn of(recorder: &Recorder, kind: StartKind) -> Option<Self> {
        let part = |component| {
            recorder
                .component(kind, component)
                .and_then(Percentiles::of)
        };
        Some(Self {
            latency: Percentiles::of(recorder.latency(kind))?,
            send_lag: part(LatencyComponent::SendLag),
            queue: part(LatencyComponent::Queue),
            init: part(LatencyComponent::Init),
            exec: part(LatencyComponent::Exec),
            remainder: part(LatencyComponent::Remainder),
        })
    }

    /// The figures of one component, if it was measured.
    pub fn component(&self, component: LatencyComponent) -> Option<&Percentiles> {
        match component {
            LatencyComponent::SendLag => self.send_lag.as_ref(),
            LatencyComponent::Queue => self.queue.as_ref(),
            LatencyComponent::Init => self.init.as_ref(),
            LatencyComponent::Exec => self.exec.as_ref(),
            LatencyComponent::Remainder => self.remainder.as_ref(),
        }
    }
}

fn share(count: u64, of: u64) -> f64 {
    if of > 0 {
        count as f64 / of as f64
    } else {
        0.0
    }
}

/// Figures of one function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionSummary {
    pub name: String,
    /// The trace's own name of the function, for functions taken from a trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// What triggers it (`http`, `queue`, …).
    pub trigger: String,
    #[serde(flatten)]
    pub figures: GroupSummary,
    /// Cost per one million invocations like this function's under the chosen price,
    /// USD; `None` when the platform reported no billed durations for it.
    pub usd_per_million: Option<f64>,
    /// Memory its idle warm instances held over time, MiB × s, as the platform reports it;
    /// `None` when the platform does not.
    pub idle_memory_mb_seconds: Option<f64>,
}

/// What the platform itself reported at the end of the run: the provider's side of the cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformSummary {
    /// The keep-alive policy it ran.
    pub policy: String,
    /// Memory held by idle warm instances over time, MiB × s, every function together: the
    /// "wasted memory time" of Shahrad et al. (ATC 2020). Seconds of the keep-alive clock,
    /// which runs as fast as the scenario compresses time: trace seconds.
    pub idle_memory_mb_seconds: f64,
}

/// The figures of a run. Serialised as `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub schema_version: u32,
    pub run_id: String,
    pub scenario: String,
    pub target: String,
    /// Wall-clock time of the schedule's time zero, RFC 3339.
    pub started_at: String,
    pub planned_seconds: f64,
    /// The part of the schedule replayed: `planned_seconds`, or less after a stop. Rates are
    /// over this time.
    pub replayed_seconds: f64,
    pub elapsed_seconds: f64,
    /// True when the run was stopped before the end of its schedule.
    pub partial: bool,
    pub load: LoadSummary,
    pub invocations: Counts,
    /// Open loop: whether the requested rate was held.
    pub rate: Option<RateSummary>,
    /// Finished invocations per second of elapsed time.
    pub throughput_per_second: f64,
    /// Latency of successful invocations from their scheduled send time, by start kind and
    /// `all`, µs. Kinds with no invocations are left out.
    pub latency_us: BTreeMap<String, Percentiles>,
    /// Latency of every invocation that was due, failures counted as slower than any success.
    pub latency_all_scheduled_us: Option<AllScheduled>,
    /// Service time (from the actual send) of successful invocations, by start kind and `all`.
    pub service_time_us: BTreeMap<String, Percentiles>,
    /// How late invocations were sent (actual send minus scheduled time, including any wait
    /// for a connection), µs. Open loop only.
    pub send_lag_us: Option<Percentiles>,
    /// Where the time went, by start kind: latency next to its components. Kinds with no
    /// successful invocations are left out.
    pub composition_us: BTreeMap<String, CompositionSummary>,
    /// The pacer's dispatch error and CPU use. Open loop only.
    pub pacing: Option<PacingSummary>,
    pub start_kinds: StartKindSource,
    pub cold_starts: ColdStarts,
    /// Invocations delayed by an instance start, their own or one they waited for.
    pub delayed_by_start: DelayedByStart,
    /// The platform's own figures; `None` for a platform that reports none (then the
    /// provider-side cost is unknown).
    pub platform: Option<PlatformSummary>,
    /// Cost under every entry of the price catalog, in catalog order; empty when the platform
    /// reported no billed durations.
    pub costs: Vec<Cost>,
    /// The catalog and the entry the costs are shown under.
    pub pricing: PricingSummary,
    /// By trigger (`http`, `queue`, …), for the triggers that occurred.
    pub triggers: BTreeMap<String, GroupSummary>,
    pub functions: Vec<FunctionSummary>,
    pub warnings: Vec<String>,
}

/// Key of the all-kinds entry in the latency maps.
pub const ALL: &str = "all";

fn by_start_kind(histogram: impl Fn(StartKind) -> Histogram<u64>) -> BTreeMap<String, Percentiles> {
    let mut all: Option<Histogram<u64>> = None;
    let mut map = BTreeMap::new();
    for kind in StartKind::ALL {
        let h = histogram(kind);
        if let Some(p) = Percentiles::of(&h) {
            map.insert(kind.as_str().to_owned(), p);
        }
        match &mut all {
            None => all = Some(h),
            Some(all) => {
                // Histograms from one recorder share their settings, so adding cannot fail.
                let _ = all.add(&h);
            }
        }
    }
    if let Some(p) = all.as_ref().and_then(Percentiles::of) {
        map.insert(ALL.to_owned(), p);
    }
    map
}

impl Summary {
    /// Summarises `result`, pricing it under every entry of `pricing`'s catalog; `platform` holds the platform's own
    /// figures at the end of the run, when it reports them.
    pub fn from_run(
        result: &RunResult,
        run_id: &str,
        pricing: &Pricing,
        platform: Option<&PlatformStats>,
    ) -> Self {
        let recorder = &result.recorder;
        let ok = recorder.ok();
        let errors = recorder.error_count();
        let cold = recorder.latency(StartKind::Cold).len();
        let snapshot = recorder.latency(StartKind::Snapshot).len();
        let unknown = recorder.latency(StartKind::Unknown).len();
        let elapsed = result.elapsed.as_secs_f64();
        let functions = result
            .functions
            .iter()
            .zip(recorder.functions())
            .enumerate()
            .map(|(index, (name, record))| FunctionSummary {
                name: name.clone(),
                trace_id: result.trace_ids.get(index).cloned().flatten(),
                trigger: result
                    .triggers
                    .get(index)
                    .map_or("unknown", |t| t.as_str())
                    .to_owned(),
                figures: GroupSummary::of(record),
                usd_per_million: pricing.usd_per_million(&record.billing()),
                idle_memory_mb_seconds: platform
                    .and_then(|p| p.functions.get(name))
                    .map(|f| f.idle_memory_mb_seconds),
            })
            .collect();
        Self {
            schema_version: SCHEMA_VERSION,
            run_id: run_id.to_owned(),
            scenario: result.scenario.clone(),
            target: result.target.clone(),
            started_at: humantime::format_rfc3339_millis(result.started_at).to_string(),
            planned_seconds: result.planned.as_secs_f64(),
            replayed_seconds: result.replayed.as_secs_f64(),
            elapsed_seconds: elapsed,
            partial: result.stopped_early,
            load: load_summary(result),
            invocations: Counts {
                scheduled: result.scheduled(),
                ok,
                errors,
                dropped: recorder.dropped(),
                not_sent: result.not_sent,
                errors_by_kind: recorder
                    .errors()
                    .iter()
                    .map(|(kind, count)| (kind.to_string(), *count))
                    .collect(),
            },
            rate: rate_summary(result),
            throughput_per_second: if elapsed > 0.0 {
                (ok + errors) as f64 / elapsed
            } else {
                0.0
            },
            latency_us: by_start_kind(|kind| recorder.latency(kind).clone()),
            latency_all_scheduled_us: AllScheduled::of(
                &recorder.all_latency(),
                errors.saturating_add(recorder.dropped()),
                result.request.timeout.as_secs_f64() * 1000.0,
            ),
            service_time_us: by_start_kind(|kind| recorder.service(kind).clone()),
            send_lag_us: Percentiles::of(recorder.send_lag()),
            composition_us: StartKind::ALL
                .into_iter()
                .filter_map(|kind| {
                    let composition = CompositionSummary::of(recorder, kind)?;
                    Some((kind.as_str().to_owned(), composition))
                })
                .collect(),
            pacing: result.pacing.as_ref().map(|pacing| PacingSummary {
                dispatch_lag_us: Percentiles::of(&pacing.dispatch_lag),
                cpu_share: pacing.cpu_share(),
                realtime: pacing.realtime,
            }),
            start_kinds: StartKindSource {
                reported: ok - recorder.inferred() - unknown,
                inferred: recorder.inferred(),
                unknown,
                rule: result
                    .start_inference
                    .as_ref()
                    .map(StartInference::describe),
            },
            cold_starts: ColdStarts::of(cold, snapshot, ok),
            delayed_by_start: DelayedByStart::of(
                recorder.delayed_by_start(),
                recorder.delayed_by_start_unknown(),
                ok,
            ),
            platform: platform.map(|p| PlatformSummary {
                policy: p.policy.clone(),
                idle_memory_mb_seconds: p.idle_memory_mb_seconds,
            }),
            costs: pricing.costs_of_run(recorder),
            pricing: pricing.summary(),
            triggers: recorder
                .triggers()
                .map(|(trigger, record)| (trigger.as_str().to_owned(), GroupSummary::of(record)))
                .collect(),
            functions,
            warnings: warnings(result),
        }
    }
}

impl Summary {
    /// The cost under the chosen price entry, when anything was billed.
    pub fn chosen_cost(&self) -> Option<&Cost> {
        self.costs
            .iter()
            .find(|cost| cost.entry == self.pricing.chosen)
    }

    /// The entry under which the run costs least per one million invocations.
    pub fn cheapest_cost(&self) -> Option<&Cost> {
        self.costs
            .iter()
            .min_by(|a, b| a.usd_per_million.total_cmp(&b.usd_per_million))
    }
}

/// The run's own warnings, and those the figures call for.
fn warnings(result: &RunResult) -> Vec<String> {
    let mut warnings = result.warnings.clone();
    let recorder = &result.recorder;
    if recorder.dropped() > 0 {
        warnings.push(format!(
            "{} invocations were dropped, never sent: they were due while the in-flight bound was reached or the load generator could not issue them in time; the platform saw less load than scheduled",
            recorder.dropped()
        ));
    }
    let implausible = recorder.billing().implausible;
    if implausible > 0 {
        warnings.push(format!(
            "{implausible} answers carried implausible billing headers (billed longer than the invocation took plus {} ms, or more than {} MiB); they are left out of the cost",
            loadgen::Billing::ALLOWANCE_MS,
            loadgen::Billing::MAX_MEMORY_MB
        ));
    }
    warnings
}

fn load_summary(result: &RunResult) -> LoadSummary {
    let (max_in_flight, users, think_time_ms) = match &result.load {
        LoadSpec::Open { max_in_flight, .. } => (Some(*max_in_flight), None, None),
        LoadSpec::Closed { users, think_time } => {
            (None, Some(*users), Some(think_time.as_secs_f64() * 1000.0))
        }
        LoadSpec::MaxThroughput { concurrency } => (None, Some(*concurrency), None),
    };
    LoadSummary {
        mode: result.load.mode().to_owned(),
        protocol: result.request.protocol.as_str().to_owned(),
        connections: result.request.connections,
        connections_opened: result.connections.opened,
        connections_peak: result.connections.peak,
        max_in_flight,
        users,
        think_time_ms,
    }
}

fn rate_summary(result: &RunResult) -> Option<RateSummary> {
    let LoadSpec::Open {
        late_after,
        rate_tolerance,
        ..
    } = &result.load
    else {
        return None;
    };
    let held = result.rate_held()?;
    let due = result.scheduled() - result.not_sent;
    let late = result.late();
    // A stopped run asked only for what was due until it stopped.
    let window = result.replayed.as_secs_f64().max(1e-9);
    Some(RateSummary {
        requested_per_second: due as f64 / window,
        issued_per_second: result.sent() as f64 / window,
        late,
        late_after_ms: late_after.as_secs_f64() * 1000.0,
        behind_share: if due > 0 {
            (result.recorder.dropped() + late) as f64 / due as f64
        } else {
            0.0
        },
        tolerance: *rate_tolerance,
        held,
    })
}
