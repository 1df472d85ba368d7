//! A fixed recorded run for the exporters' golden-file tests: three functions on three
//! triggers, every start kind, errors, timeouts and dropped invocations, platform metering
//! and platform stats. Deterministic: built from a fixed sequence, no clock, no randomness.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use loadgen::{
    Connections, ErrorKind, Outcome, Pacing, PlatformMetering, Recorder, RunResult, StartKind,
};
use scenarios::{FunctionId, Invocation, LoadSpec, RequestSpec, Trigger};

use crate::report::{Configuration, IntervalRow, Machine, PlatformFunction, PlatformStats, Report};
use crate::{Pricing, Summary};

const FUNCTIONS: [(&str, Trigger, u64); 3] = [
    ("thumbnail", Trigger::Http, 128),
    ("resize", Trigger::Queue, 512),
    ("nightly-report", Trigger::Timer, 1024),
];

/// The `i`-th invocation of the fixed run: ~60 per second for 10 s.
fn outcome(i: u64) -> Outcome {
    let function = (i % 7 % 3) as u32;
    let (_, trigger, memory_mb) = FUNCTIONS[function as usize];
    let at_us = i * 16_667;
    // Start kinds: the first invocation of each function is cold, a few later ones restore a
    // snapshot, the rest are warm.
    let start = if i < 3 {
        StartKind::Cold
    } else if i % 97 == 5 {
        StartKind::Snapshot
    } else {
        StartKind::Warm
    };
    let exec_us = 800 + (i * 7919 % 23) * 350 + u64::from(function) * 4_000;
    let init_us = match start {
        StartKind::Cold => 180_000 + u64::from(function) * 40_000,
        StartKind::Snapshot => 9_000,
        _ => 0,
    };
    let queue_us = if i.is_multiple_of(41) { 3_000 } else { 40 };
    let service_us = queue_us + init_us + exec_us + 250;
    let send_lag_us = 20 + i % 13;
    let result = match i {
        _ if i % 151 == 77 => Err(ErrorKind::Status(503)),
        _ if i % 233 == 100 => Err(ErrorKind::Timeout),
        _ if i % 307 == 200 => Err(ErrorKind::Dropped),
        _ => Ok(()),
    };
    let reported = result.is_ok();
    Outcome {
        invocation: Invocation {
            at_us,
            function: FunctionId(function),
            trigger,
            duration_us: None,
            memory_mb: memory_mb as u32,
        },
        latency_us: service_us + send_lag_us,
        service_us,
        send_lag_us: (result != Err(ErrorKind::Dropped)).then_some(send_lag_us),
        result,
        start: if reported { start } else { StartKind::Unknown },
        inferred: false,
        metering: if reported {
            PlatformMetering {
                init_us: Some(init_us),
                queue_us: Some(queue_us),
                exec_us: Some(exec_us),
                billed_ms: Some((init_us + exec_us).div_ceil(1000).max(1)),
                memory_mb: Some(memory_mb),
                instance: Some(u64::from(function)),
                delayed_by_start: Some(init_us > 0),
            }
        } else {
            PlatformMetering::default()
        },
    }
}

const INVOCATIONS: u64 = 600;

/// The fixed recorded run.
pub(crate) fn recorded_run() -> Report {
    let mut recorder = Recorder::new(FUNCTIONS.len());
    let mut seconds: BTreeMap<u64, (IntervalRow, Vec<u64>)> = BTreeMap::new();
    let mut dispatch_lag = hdrhistogram::Histogram::new(3).unwrap();
    for i in 0..INVOCATIONS {
        let outcome = outcome(i);
        recorder.record(&outcome);
        dispatch_lag.record(5 + i % 11).unwrap();
        let second = (outcome.invocation.at_us + outcome.latency_us) / 1_000_000;
        let (row, latencies) = seconds
            .entry(second)
            .or_insert_with(|| (IntervalRow::empty(second), Vec::new()));
        match outcome.result {
            Ok(()) => {
                row.ok += 1;
                latencies.push(outcome.latency_us);
            }
            Err(ErrorKind::Dropped) => row.dropped += 1,
            Err(_) => row.errors += 1,
        }
        row.cold_starts += u64::from(outcome.start == StartKind::Cold);
    }
    let intervals = seconds
        .into_values()
        .map(|(mut row, mut latencies)| {
            latencies.sort_unstable();
            let at = |q: f64| {
                let rank = ((q * latencies.len() as f64).ceil() as usize).max(1);
                latencies.get(rank - 1).copied()
            };
            row.p50_us = at(0.5);
            row.p99_us = at(0.99);
            row.max_us = latencies.last().copied();
            row
        })
        .collect();
    let run = RunResult {
        scenario: "fixture".into(),
        target: "http://127.0.0.1:8080/invoke/{function}".into(),
        functions: FUNCTIONS.iter().map(|(n, _, _)| (*n).to_owned()).collect(),
        trace_ids: vec![None, Some("b1f0c3".into()), None],
        triggers: FUNCTIONS.iter().map(|(_, trigger, _)| *trigger).collect(),
        started_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000),
        planned: Duration::from_secs(10),
        elapsed: Duration::from_millis(10_412),
        replayed: Duration::from_secs(10),
        load: LoadSpec::Open {
            max_in_flight: 1024,
            late_after: Duration::from_millis(10),
            rate_tolerance: 0.01,
        },
        request: RequestSpec::default(),
        start_inference: None,
        not_sent: 0,
        connections: Connections {
            opened: 12,
            peak: 9,
        },
        stopped_early: false,
        schedule_failure: None,
        recorder,
        pacing: Some(Pacing {
            dispatch_lag,
            cpu: Some(Duration::from_millis(412)),
            wall: Duration::from_secs(10),
            realtime: false,
        }),
        warnings: Vec::new(),
    };
    let platform = PlatformStats {
        policy: "fixed(10m)".into(),
        capacity_mb: 4096,
        idle_memory_mb_seconds: 21_504.0,
        functions: FUNCTIONS
            .iter()
            .enumerate()
            .map(|(index, (name, _, memory_mb))| {
                (
                    (*name).to_owned(),
                    PlatformFunction {
                        memory_mb: *memory_mb,
                        cold_starts: 1,
                        snapshot_starts: 1 + index as u64,
                        warm_starts: 190,
                        prewarm_starts: 0,
                        evicted_expired: index as u64,
                        evicted_pressure: 0,
                        evicted_other: 0,
                        idle_memory_mb_seconds: *memory_mb as f64 * 8.0,
                    },
                )
            })
            .collect(),
    };
    let summary = Summary::from_run(
        &run,
        "fixture-20261118T110640Z",
        &Pricing::default(),
        Some(&platform),
    );
    Report {
        summary,
        run,
        intervals,
        platform: Some(platform),
        machine: Machine {
            cores: 2,
            cpu: Some("Fixture CPU @ 2.0GHz".into()),
            memory_mb: Some(24_576),
            os: "Debian GNU/Linux 13 (trixie)".into(),
            kernel: Some("6.12.0".into()),
            faasbench_version: "0.1.0".into(),
            build_profile: "release".into(),
        },
        configuration: Configuration {
            run_id: "fixture-20261118T110640Z".into(),
            scenario_file: Some("scenarios/catalog/fixture.toml".into()),
            name: None,
            seed: Some(42),
            platform: [
                ("keep_alive".to_owned(), "fixed(10m)".to_owned()),
                ("snapshots".to_owned(), "on".to_owned()),
            ]
            .into(),
            overrides: BTreeMap::new(),
            pricing: Some("aws-lambda-x86".into()),
        },
    }
}

/// Compares `bytes` with the checked-in golden file `reports/tests/golden/<name>`; with
/// `FAASBENCH_UPDATE_GOLDEN=1` in the environment, writes it instead.
#[allow(dead_code, reason = "for the exporters' golden-file tests")]
pub(crate) fn assert_golden(name: &str, bytes: &[u8]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("FAASBENCH_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|err| {
        panic!(
            "cannot read the golden file {}: {err}; FAASBENCH_UPDATE_GOLDEN=1 writes it",
            path.display()
        )
    });
    if expected != bytes {
        let actual = path.with_extension(format!(
            "{}.actual",
            path.extension().and_then(|e| e.to_str()).unwrap_or("")
        ));
        let _ = std::fs::write(&actual, bytes);
        panic!(
            "{} differs from the golden file {} (the output is in {}); FAASBENCH_UPDATE_GOLDEN=1 rewrites it",
            name,
            path.display(),
            actual.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_has_every_start_kind_errors_and_drops() {
        let report = recorded_run();
        let counts = &report.summary.invocations;
        assert_eq!(counts.scheduled, INVOCATIONS);
        assert!(counts.errors > 0 && counts.dropped > 0, "{counts:?}");
        for kind in ["cold", "snapshot", "warm"] {
            assert!(report.summary.latency_us.contains_key(kind), "{kind}");
        }
        assert_eq!(report.summary.triggers.len(), 3);
        let rows: u64 = report
            .intervals
            .iter()
            .map(|r| r.ok + r.errors + r.dropped)
            .sum();
        assert_eq!(rows, INVOCATIONS);
    }
}
