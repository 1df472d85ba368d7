//! Summaries, files and the terminal table, from a recorder filled with known outcomes.

use std::time::{Duration, SystemTime};

use loadgen::{ErrorKind, Outcome, PlatformMetering, Recorder, RunResult, StartKind};
use reports::{PricingModel, Summary, export, terminal, write_artifacts};
use scenarios::{FunctionId, Invocation, Trigger};

fn outcome(
    function: u32,
    latency_us: u64,
    start: StartKind,
    result: Result<(), ErrorKind>,
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
        service_us: latency_us - 10,
        send_lag_us: 10,
        result,
        start,
        metering: PlatformMetering {
            billed_ms: Some(latency_us.div_ceil(1000)),
            memory_mb: Some(1024),
            ..PlatformMetering::default()
        },
    }
}

/// Two functions: `api` with one cold start of 20 ms and 99 warm ones of 1..=99 ms, `batch`
/// with 2 warm successes and a 500.
fn run() -> RunResult {
    let mut recorder = Recorder::new(2);
    recorder.record(&outcome(0, 20_000, StartKind::Cold, Ok(())));
    for ms in 1..=99 {
        recorder.record(&outcome(0, ms * 1000, StartKind::Warm, Ok(())));
    }
    recorder.record(&outcome(1, 5_000, StartKind::Warm, Ok(())));
    recorder.record(&outcome(1, 5_000, StartKind::Warm, Ok(())));
    recorder.record(&outcome(
        1,
        7_000,
        StartKind::Warm,
        Err(ErrorKind::Status(500)),
    ));
    RunResult {
        scenario: "unit".into(),
        target: "http://127.0.0.1:1/invoke/{function}".into(),
        functions: vec!["api".into(), "batch".into()],
        started_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        planned: Duration::from_secs(10),
        elapsed: Duration::from_secs(10),
        dispatched: 103,
        not_sent: 2,
        stopped_early: true,
        recorder,
        warnings: vec![],
    }
}

#[test]
fn summary_counts_add_up_and_percentiles_are_per_start_kind() {
    let summary = Summary::from_run(&run(), "unit-1", &PricingModel::aws_lambda_x86());
    let counts = &summary.invocations;
    assert_eq!(
        (counts.scheduled, counts.ok, counts.errors, counts.not_sent),
        (105, 102, 1, 2)
    );
    assert_eq!(
        counts.ok + counts.errors + counts.not_sent,
        counts.scheduled
    );
    assert_eq!(counts.errors_by_kind["http_500"], 1);
    assert!(summary.partial);

    let cold = summary.latency_us["cold"];
    assert_eq!((cold.count, cold.max), (1, 20_015)); // 20 ms to 3 significant digits: its bucket ends at 20 015
    let warm = summary.latency_us["warm"];
    assert_eq!(warm.count, 101);
    assert!(warm.p50 <= warm.p90 && warm.p90 <= warm.p99 && warm.p99 <= warm.max);
    let all = summary.latency_us["all"];
    assert_eq!(all.count, 102);
    assert!(
        !summary.latency_us.contains_key("snapshot"),
        "empty kinds are left out"
    );

    assert_eq!(summary.cold_starts.count, 1);
    assert!((summary.cold_starts.rate - 1.0 / 102.0).abs() < 1e-12);
    assert!((summary.throughput_per_second - 10.3).abs() < 1e-9);

    let api = &summary.functions[0];
    assert_eq!((api.name.as_str(), api.ok, api.errors), ("api", 100, 0));
    assert_eq!(api.starts[&StartKind::Cold], 1);
    assert_eq!(api.starts[&StartKind::Warm], 99);
}

#[test]
fn cost_follows_the_billed_durations() {
    let summary = Summary::from_run(&run(), "unit-1", &PricingModel::aws_lambda_x86());
    let cost = summary.cost.expect("billing headers were reported");
    // 20 + (1 + … + 99) + 5 + 5 + 7 billed ms at 1 GiB.
    let billed_ms = 20 + 99 * 100 / 2 + 17;
    assert_eq!(cost.billed_invocations, 103);
    assert!((cost.gb_seconds - billed_ms as f64 / 1000.0).abs() < 1e-9);
    let expected = 0.20 + cost.gb_seconds / 103.0 * 0.000_016_666_7 * 1e6;
    assert!((cost.usd_per_million - expected).abs() < 1e-9);
}

#[test]
fn summary_json_round_trips_and_carries_its_schema_version() {
    let result = run();
    let summary = Summary::from_run(&result, "unit-1", &PricingModel::aws_lambda_x86());
    let dir = tempfile::tempdir().unwrap();
    let written = write_artifacts(dir.path(), &summary, &result, &export::all()).unwrap();
    assert_eq!(written, vec![dir.path().join("summary.json")]);
    let text = std::fs::read_to_string(&written[0]).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["schema_version"], 1);
    assert_eq!(value["started_at"], "2027-01-15T08:00:00.000Z");
    assert_eq!(value["functions"][0]["starts"]["cold"], 1);
    let back: Summary = serde_json::from_str(&text).unwrap();
    assert_eq!(back, summary);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|name| name.to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn unwritable_results_directory_is_named() {
    let result = run();
    let summary = Summary::from_run(&result, "unit-1", &PricingModel::aws_lambda_x86());
    let file = tempfile::NamedTempFile::new().unwrap();
    let below_a_file = file.path().join("results");
    let err = write_artifacts(&below_a_file, &summary, &result, &export::all()).unwrap_err();
    assert!(
        err.to_string()
            .contains(&below_a_file.display().to_string()),
        "{err}"
    );
}

#[test]
fn terminal_table_shows_each_start_kind_cold_starts_and_cost() {
    let summary = Summary::from_run(&run(), "unit-1", &PricingModel::aws_lambda_x86());
    let table = terminal::render(&summary);
    assert!(table.contains("PARTIAL"), "{table}");
    assert!(
        table.contains("105 scheduled · 102 ok · 1 errors · 2 not sent"),
        "{table}"
    );
    assert!(table.contains("http_500 1"), "{table}");
    let cold_row = table
        .lines()
        .find(|l| l.trim_start().starts_with("cold "))
        .unwrap();
    assert!(cold_row.contains("20.015"), "{cold_row}");
    assert!(
        table.lines().any(|l| l.trim_start().starts_with("warm ")),
        "{table}"
    );
    assert!(table.contains("cold starts  1 (0.98%"), "{table}");
    assert!(
        table.contains("per 1M invocations under aws-lambda-x86"),
        "{table}"
    );
    assert!(table.contains("api"), "{table}");
}
