//! How long `faasbench report` takes, and how much memory, to rebuild every artifact of a
//! recorded run of 1,000,000 invocations of 1,000 functions.
//!
//! The run is recorded once into a temporary results directory through the load generator's
//! own recorder and interval log (a Zipf-like popularity over the functions, cold, snapshot and
//! warm starts, errors and dropped invocations, platform metering and stats); then the
//! `faasbench` binary rebuilds it `REPORT_ROUNDS` times (default 5). Each round reports its
//! wall time and the process's peak resident memory (from `wait4`).
//!
//! ```text
//! cargo bench -p harness --bench report
//! ```

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use loadgen::{
    Connections, ErrorKind, IntervalLog, IntervalPart, Outcome, PlatformMetering, Recorder,
    RunResult, StartKind,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reports::{Configuration, Machine, PlatformFunction, PlatformStats, ResultsDir, SavedRun};
use scenarios::{FunctionId, Invocation, LoadSpec, RequestSpec, Trigger};

const FUNCTIONS: usize = 1_000;
const INVOCATIONS: u64 = 1_000_000;
const SECONDS: u64 = 3_600;

fn record(results: &ResultsDir) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // Zipf-like popularity: function i is chosen with weight 1 / (i + 1)^0.9.
    let weights: Vec<f64> = (0..FUNCTIONS)
        .map(|i| 1.0 / ((i + 1) as f64).powf(0.9))
        .collect();
    let total: f64 = weights.iter().sum();
    let mut cumulative = Vec::with_capacity(FUNCTIONS);
    let mut sum = 0.0;
    for w in &weights {
        sum += w / total;
        cumulative.push(sum);
    }
    let memory = [128u64, 256, 512, 1024, 2048];
    let triggers = [
        Trigger::Http,
        Trigger::Queue,
        Trigger::Timer,
        Trigger::Storage,
    ];
    let base_exec: Vec<u64> = (0..FUNCTIONS)
        .map(|_| rng.random_range(300..40_000))
        .collect();
    let mut seen = vec![false; FUNCTIONS];
    let mut recorder = Recorder::new(FUNCTIONS);
    let started_at = SystemTime::now();
    results.create().expect("results directory");
    let log = IntervalLog::create(
        Some(&results.streaming_intervals_hlog()),
        Some(&results.streaming_intervals_csv()),
        started_at,
        1,
    )
    .expect("interval log");
    let mut part = IntervalPart::new();
    let mut second = 0;
    let gap_us = SECONDS * 1_000_000 / INVOCATIONS;
    for i in 0..INVOCATIONS {
        let draw: f64 = rng.random();
        let function = cumulative.partition_point(|c| *c < draw).min(FUNCTIONS - 1);
        let start = if !seen[function] {
            seen[function] = true;
            StartKind::Cold
        } else {
            match rng.random_range(0..1000) {
                0..20 => StartKind::Cold,
                20..30 => StartKind::Snapshot,
                _ => StartKind::Warm,
            }
        };
        let spread: f64 = (0..4).map(|_| rng.random::<f64>()).sum::<f64>() / 2.0;
        let exec_us = (base_exec[function] as f64 * spread.max(0.05)) as u64;
        let init_us = match start {
            StartKind::Cold => rng.random_range(80_000..400_000),
            StartKind::Snapshot => rng.random_range(5_000..20_000),
            _ => 0,
        };
        let queue_us = rng.random_range(5..200);
        let service_us = queue_us + init_us + exec_us + rng.random_range(100..900);
        let send_lag_us = rng.random_range(5..400);
        let result = match rng.random_range(0..10_000) {
            0..10 => Err(ErrorKind::Status(503)),
            10..15 => Err(ErrorKind::Dropped),
            _ => Ok(()),
        };
        let memory_mb = memory[function % memory.len()];
        let at_us = i * gap_us;
        let outcome = Outcome {
            invocation: Invocation {
                at_us,
                function: FunctionId(function as u32),
                trigger: triggers[function % triggers.len()],
                duration_us: None,
                memory_mb: memory_mb as u32,
            },
            latency_us: service_us + send_lag_us,
            service_us,
            send_lag_us: (result != Err(ErrorKind::Dropped)).then_some(send_lag_us),
            result,
            start: if result.is_ok() {
                start
            } else {
                StartKind::Unknown
            },
            inferred: false,
            metering: if result.is_ok() {
                PlatformMetering {
                    init_us: Some(init_us),
                    queue_us: Some(queue_us),
                    exec_us: Some(exec_us),
                    billed_ms: Some((init_us + exec_us).div_ceil(1000).max(1)),
                    memory_mb: Some(memory_mb),
                    instance: Some(function as u64),
                    delayed_by_start: Some(init_us > 0),
                }
            } else {
                PlatformMetering::default()
            },
        };
        recorder.record(&outcome);
        if result == Err(ErrorKind::Dropped) {
            continue;
        }
        let done = (at_us + outcome.latency_us) / 1_000_000;
        if done != second {
            log.add(0, second, &part).expect("interval");
            part.clear();
            // Answers come back out of order, but never more than a second late here.
            log.advance(0, done.saturating_sub(2)).expect("interval");
            second = done;
        }
        part.record(
            outcome.latency_us,
            result.is_ok(),
            outcome.start == StartKind::Cold,
        );
    }
    log.add(0, second, &part).expect("interval");
    log.finish().expect("interval log");
    let (mut cells, mut buckets) = (0usize, 0usize);
    for function in recorder.functions() {
        for kind in StartKind::ALL {
            if let Some(cell) = function.cell(kind) {
                cells += 1;
                buckets += cell.buckets();
            }
        }
    }
    let bytes = buckets * 16;
    println!(
        "per-function histograms: {cells} cells of function × start kind, {:.1} MB of counts",
        bytes as f64 / 1e6
    );
    let names: Vec<String> = (0..FUNCTIONS).map(|i| format!("fn-{i:04}")).collect();
    let platform = PlatformStats {
        policy: "fixed (TTL 10m)".into(),
        capacity_mb: 65_536,
        idle_memory_mb_seconds: 1.0e7,
        functions: names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let f = &recorder.functions()[i];
                let function = PlatformFunction {
                    memory_mb: memory[i % memory.len()],
                    cold_starts: f.starts_of(StartKind::Cold),
                    snapshot_starts: f.starts_of(StartKind::Snapshot),
                    warm_starts: f.starts_of(StartKind::Warm),
                    prewarm_starts: 0,
                    evicted_expired: f.starts_of(StartKind::Cold),
                    evicted_pressure: 0,
                    evicted_other: 0,
                    idle_memory_mb_seconds: 10_000.0 / (i + 1) as f64,
                };
                (name.clone(), function)
            })
            .collect(),
    };
    let run = RunResult {
        scenario: "report-benchmark".into(),
        target: "http://127.0.0.1:8080/invoke/{function}".into(),
        functions: names,
        trace_ids: vec![None; FUNCTIONS],
        triggers: (0..FUNCTIONS)
            .map(|i| triggers[i % triggers.len()])
            .collect(),
        started_at,
        planned: Duration::from_secs(SECONDS),
        elapsed: Duration::from_secs(SECONDS + 1),
        replayed: Duration::from_secs(SECONDS),
        load: LoadSpec::Open {
            max_in_flight: 10_000,
            late_after: Duration::from_millis(10),
            rate_tolerance: 0.01,
        },
        request: RequestSpec::default(),
        start_inference: None,
        not_sent: 0,
        connections: Connections {
            opened: 400,
            peak: 120,
        },
        stopped_early: false,
        schedule_failure: None,
        recorder,
        pacing: None,
        warnings: Vec::new(),
    };
    results
        .save(&SavedRun {
            run,
            platform: Some(platform),
            machine: Machine::detect(),
            configuration: Configuration {
                run_id: "report-benchmark".into(),
                pricing: Some("aws-lambda-x86".into()),
                ..Configuration::default()
            },
            scenario: None,
            pricing: None,
        })
        .expect("save the recorded run");
}

/// Runs `faasbench report dir`; its wall time and peak resident memory (KiB).
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which also reports its peak memory"
)]
fn rebuild(dir: &std::path::Path) -> (Duration, u64) {
    let began = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_faasbench"))
        .arg("report")
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start faasbench report");
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, with valid pointers.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let took = began.elapsed();
    assert!(pid > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    (took, usage.ru_maxrss as u64)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("REPORT_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let root = tempfile::tempdir().expect("temporary directory");
    let results = ResultsDir::new(root.path().join("run"));
    let began = Instant::now();
    record(&results);
    let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
    for entry in std::fs::read_dir(results.path()).expect("results") {
        let entry = entry.expect("entry");
        sizes.insert(
            entry.file_name().to_string_lossy().into_owned(),
            entry.metadata().map_or(0, |m| m.len()),
        );
    }
    println!(
        "recorded {INVOCATIONS} invocations of {FUNCTIONS} functions in {:.1} s; saved: {}",
        began.elapsed().as_secs_f64(),
        sizes
            .iter()
            .map(|(name, size)| format!("{name} {} kB", size / 1000))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let (mut times, mut rss) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let (took, max_rss_kib) = rebuild(results.path());
        println!(
            "round {round}: faasbench report {:.3} s, peak RSS {:.1} MB",
            took.as_secs_f64(),
            max_rss_kib as f64 / 1024.0
        );
        times.push(took.as_secs_f64());
        rss.push(max_rss_kib as f64 / 1024.0);
    }
    let (lo_t, hi_t) = (
        times.iter().copied().fold(f64::MAX, f64::min),
        times.iter().copied().fold(0.0, f64::max),
    );
    let (lo_m, hi_m) = (
        rss.iter().copied().fold(f64::MAX, f64::min),
        rss.iter().copied().fold(0.0, f64::max),
    );
    println!(
        "faasbench report, {rounds} rounds: median {:.3} s ({lo_t:.3}–{hi_t:.3}), peak RSS median {:.1} MB ({lo_m:.1}–{hi_m:.1}); targets ≤ 2 s, ≤ 200 MB",
        median(&mut times),
        median(&mut rss)
    );
    let mut artifacts: Vec<(String, u64)> = Vec::new();
    for name in ["report.html", "summary.json", "functions.csv"] {
        if let Ok(meta) = std::fs::metadata(results.file(name)) {
            artifacts.push((name.to_owned(), meta.len()));
        }
    }
    println!(
        "artifacts: {}",
        artifacts
            .iter()
            .map(|(name, size)| format!("{name} {} kB", size / 1000))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
