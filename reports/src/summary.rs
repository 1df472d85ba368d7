//! The run summary: the figures of a run in one versioned, serialisable structure. Every
//! artifact (`summary.json`, the terminal table) is rendered from it.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use loadgen::{RunResult, StartKind};
use serde::{Deserialize, Serialize};

use crate::pricing::{Cost, PricingModel};

/// Version of the `summary.json` layout; raised on every incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

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

/// How the scheduled invocations ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Length of the schedule; equals `ok + errors + not_sent`.
    pub scheduled: u64,
    pub ok: u64,
    pub errors: u64,
    /// Never sent because the run was stopped early.
    pub not_sent: u64,
    /// Errors by kind: `http_<status>`, `connect`, `connection`, `timeout`.
    pub errors_by_kind: BTreeMap<String, u64>,
}

/// Cold starts among successful invocations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ColdStarts {
    pub count: u64,
    /// `count` divided by successful invocations.
    pub rate: f64,
}

/// Figures of one function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionSummary {
    pub name: String,
    pub ok: u64,
    pub errors: u64,
    /// Successful invocations by start kind (`cold`, `snapshot`, `warm`, `unknown`).
    pub starts: BTreeMap<StartKind, u64>,
    /// Latency of successful invocations, µs.
    pub latency_us: Option<Percentiles>,
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
    pub elapsed_seconds: f64,
    /// True when the run was stopped before the end of its schedule.
    pub partial: bool,
    pub invocations: Counts,
    /// Finished invocations per second of elapsed time.
    pub throughput_per_second: f64,
    /// Latency of successful invocations from their scheduled send time, by start kind and
    /// `all`, µs. Kinds with no invocations are left out.
    pub latency_us: BTreeMap<String, Percentiles>,
    /// Service time (from the actual send) of successful invocations, by start kind and `all`.
    pub service_time_us: BTreeMap<String, Percentiles>,
    /// How late invocations were sent: the load generator's own pacing error, µs.
    pub send_lag_us: Option<Percentiles>,
    pub cold_starts: ColdStarts,
    /// Cost under the pricing model, when the platform reported billed durations.
    pub cost: Option<Cost>,
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
    /// Summarises `result`, pricing it with `pricing`.
    pub fn from_run(result: &RunResult, run_id: &str, pricing: &PricingModel) -> Self {
        let recorder = &result.recorder;
        let ok = recorder.ok();
        let errors = recorder.error_count();
        let cold = recorder.latency(StartKind::Cold).len();
        let elapsed = result.elapsed.as_secs_f64();
        let functions = result
            .functions
            .iter()
            .zip(recorder.functions())
            .map(|(name, record)| FunctionSummary {
                name: name.clone(),
                ok: record.ok,
                errors: record.errors,
                starts: StartKind::ALL
                    .into_iter()
                    .map(|kind| (kind, record.starts_of(kind)))
                    .filter(|(_, count)| *count > 0)
                    .collect(),
                latency_us: Percentiles::of(&record.latency),
            })
            .collect();
        Self {
            schema_version: SCHEMA_VERSION,
            run_id: run_id.to_owned(),
            scenario: result.scenario.clone(),
            target: result.target.clone(),
            started_at: humantime::format_rfc3339_millis(result.started_at).to_string(),
            planned_seconds: result.planned.as_secs_f64(),
            elapsed_seconds: elapsed,
            partial: result.stopped_early,
            invocations: Counts {
                scheduled: result.scheduled(),
                ok,
                errors,
                not_sent: result.not_sent,
                errors_by_kind: recorder
                    .errors()
                    .iter()
                    .map(|(kind, count)| (kind.to_string(), *count))
                    .collect(),
            },
            throughput_per_second: if elapsed > 0.0 {
                (ok + errors) as f64 / elapsed
            } else {
                0.0
            },
            latency_us: by_start_kind(|kind| recorder.latency(kind).clone()),
            service_time_us: by_start_kind(|kind| recorder.service(kind).clone()),
            send_lag_us: Percentiles::of(recorder.send_lag()),
            cold_starts: ColdStarts {
                count: cold,
                rate: if ok > 0 { cold as f64 / ok as f64 } else { 0.0 },
            },
            cost: pricing.cost(recorder.billing()),
            functions,
            warnings: result.warnings.clone(),
        }
    }
}
