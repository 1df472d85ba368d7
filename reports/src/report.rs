//! What every artifact of a results directory is rendered from: the run's measurements as
//! saved, the summary computed from them, and the facts around the run.

use std::collections::BTreeMap;

use loadgen::RunResult;
use serde::{Deserialize, Serialize};

use crate::Summary;

/// One run, read back from its results directory (or just measured): everything an exporter
/// may draw on. Exporters render from this alone, so a report rebuilt from saved files is the
/// report the run wrote.
#[derive(Debug, Clone)]
pub struct Report {
    /// Figures computed from `run`.
    pub summary: Summary,
    /// The run's measurements: merged histograms by function × start kind, by trigger, run-wide.
    pub run: RunResult,
    /// Second by second, from the start of the run.
    pub intervals: Vec<IntervalRow>,
    /// The platform's own figures at the end of the run, when it reports them.
    pub platform: Option<PlatformStats>,
    /// Where the run ran.
    pub machine: Machine,
    /// How the run was configured: scenario file, seed, runtime settings, overrides.
    pub configuration: Configuration,
}

/// One second of a run. Latencies are those of successful invocations, µs; `None` in a second
/// without any.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IntervalRow {
    /// Seconds since the run's time zero.
    pub second: u64,
    /// Successful invocations that finished in this second.
    pub ok: u64,
    /// Failed invocations that finished in this second (errors and timeouts).
    pub errors: u64,
    /// Invocations due in this second that were never sent.
    pub dropped: u64,
    /// Cold starts among the finished invocations, successful or not.
    pub cold_starts: u64,
    pub p50_us: Option<u64>,
    pub p99_us: Option<u64>,
    pub max_us: Option<u64>,
}

impl IntervalRow {
    /// A second in which nothing finished and nothing was dropped.
    pub fn empty(second: u64) -> Self {
        Self {
            second,
            ok: 0,
            errors: 0,
            dropped: 0,
            cold_starts: 0,
            p50_us: None,
            p99_us: None,
            max_us: None,
        }
    }
}

/// Where a run ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// Logical CPUs available to the process.
    pub cores: usize,
    /// CPU model, where the OS tells.
    pub cpu: Option<String>,
    /// Total memory, MiB, where the OS tells.
    pub memory_mb: Option<u64>,
    /// Operating system, e.g. `Debian GNU/Linux 13 (trixie)`.
    pub os: String,
    /// Kernel release, where the OS tells.
    pub kernel: Option<String>,
    /// The faasbench version that ran.
    pub faasbench_version: String,
    /// `release` or `debug`.
    pub build_profile: String,
}

/// How the run was configured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Configuration {
    /// The run's id: the name of its results directory when it ran.
    pub run_id: String,
    /// The scenario file the run replayed.
    pub scenario_file: Option<String>,
    /// Name of the configuration, for one of several `[[configurations]]`.
    pub name: Option<String>,
    /// Seed of the schedule's random choices.
    pub seed: Option<u64>,
    /// Settings of the platform: keep-alive policy, snapshots, capacity, … as `key → value`.
    pub platform: BTreeMap<String, String>,
    /// Command-line overrides of the scenario, as `flag → value`.
    pub overrides: BTreeMap<String, String>,
    /// The price-list entry costs are shown under first.
    pub pricing: Option<String>,
}

/// The platform's own figures at the end of a run (the reference runtime's stats). Counters
/// run for the life of the platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformStats {
    /// The keep-alive policy's name.
    pub policy: String,
    /// Memory the platform may hold in instances, MiB.
    pub capacity_mb: u64,
    /// Memory held by idle warm instances over time, MiB × s, every function together: what
    /// keeping instances warm cost the provider.
    pub idle_memory_mb_seconds: f64,
    /// By function name.
    pub functions: BTreeMap<String, PlatformFunction>,
}

/// The platform's figures for one function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformFunction {
    pub memory_mb: u64,
    /// Instances started on demand, by start path.
    pub cold_starts: u64,
    pub snapshot_starts: u64,
    /// Invocations served by a warm instance.
    pub warm_starts: u64,
    /// Instances started ahead of demand.
    pub prewarm_starts: u64,
    /// Instances removed: by the keep-alive policy, under memory pressure, and otherwise.
    pub evicted_expired: u64,
    pub evicted_pressure: u64,
    pub evicted_other: u64,
    /// Memory held by the function's idle warm instances over time, MiB × s.
    pub idle_memory_mb_seconds: f64,
}
