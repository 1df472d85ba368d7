//! Summaries, files and the terminal table, from a recorder filled with known outcomes.

use std::time::{Duration, SystemTime};

use loadgen::{ErrorKind, Outcome, PlatformMetering, Recorder, RunResult, StartKind};
use reports::{PricingModel, Summary, export, terminal, write_artifacts};
use scenarios::{FunctionId, Invocation, LoadSpec, RequestSpec, Trigger};

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
        service_us: latency_us.saturating_sub(10),
        send_lag_us: Some(10),
        result,
        start,
        inferred: false,
        metering: PlatformMetering {
            billed_ms: Some(latency_us.div_ceil(1000)),
            memory_mb: Some(1024),
            ..PlatformMetering::default()
        },
    }
}

/// Two functions: `api` with one cold start of 20 ms and 99 warm ones of 1..=99 ms, `batch`
/// with 2 warm successes, a 500 and one invocation dropped at the in-flight bound.
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
    let mut dropped = outcome(1, 0, StartKind::Unknown, Err(ErrorKind::Dropped));
    dropped.send_lag_us = None;
    dropped.metering = PlatformMetering::default();
    recorder.record(&dropped);
    RunResult {
        scenario: "unit".into(),
        target: "http://127.0.0.1:1/invoke/{function}".into(),
        functions: vec!["api".into(), "batch".into()],
        started_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        planned: Duration::from_secs(10),
        elapsed: Duration::from_secs(10),
        load: LoadSpec::default(),
        request: RequestSpec::default(),
        start_inference: None,
        not_sent: 2,
        connections: loadgen::Connections::default(),
        stopped_early: true,
        schedule_failure: None,
        recorder,
        pacing: None,
        warnings: vec![],
    }
}

#[test]
fn summary_counts_add_up_and_percentiles_are_per_start_kind() {
    let summary = Summary::from_run(&run(), "unit-1", &PricingModel::aws_lambda_x86());
    let counts = &summary.invocations;
    assert_eq!(
        (
            counts.scheduled,
            counts.ok,
            counts.errors,
            counts.dropped,
            counts.not_sent
        ),
        (106, 102, 1, 1, 2)
    );
    assert_eq!(
        counts.ok + counts.errors + counts.dropped + counts.not_sent,
        counts.scheduled
    );
    assert!(!counts.errors_by_kind.contains_key("dropped"));
    // One dropped out of the 104 due: 0.96%, within the default 1% tolerance.
    let rate = summary.rate.expect("an open-loop run reports its rate");
    assert_eq!(rate.late, 0);
    assert!((rate.behind_share - 1.0 / 104.0).abs() < 1e-12);
    assert!(rate.held);
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
    assert_eq!(
        (api.name.as_str(), api.figures.ok, api.figures.errors),
        ("api", 100, 0)
    );
    assert_eq!(api.figures.starts[&StartKind::Cold], 1);
    assert_eq!(api.figures.starts[&StartKind::Warm], 99);
    assert_eq!(api.figures.latency_us["cold"].count, 1);
    assert_eq!(api.figures.latency_us["all"].count, 100);
    assert_eq!(summary.functions[1].figures.dropped, 1);
    assert_eq!(summary.triggers["http"].ok, 102);
    assert_eq!(summary.start_kinds.reported, 102);
    assert_eq!(summary.load.mode, "open");
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
    assert_eq!(value["schema_version"], 2);
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
        table.contains("106 scheduled · 102 ok · 1 errors · 1 dropped · 2 not sent"),
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

#[test]
fn a_run_that_fell_behind_is_flagged_and_inferred_start_kinds_are_named() {
    let mut result = run();
    for _ in 0..10 {
        let mut late = outcome(0, 30_000, StartKind::Cold, Ok(()));
        late.send_lag_us = Some(25_000);
        late.inferred = true;
        result.recorder.record(&late);
    }
    result.start_inference = Some(scenarios::StartInference::Latency {
        cold_above: Duration::from_millis(25),
    });
    let summary = Summary::from_run(&result, "unit-1", &PricingModel::aws_lambda_x86());
    let rate = summary.rate.unwrap();
    assert_eq!(rate.late, 10);
    assert!(!rate.held);
    assert_eq!(summary.start_kinds.inferred, 10);
    assert_eq!(summary.start_kinds.reported, 102);
    let table = terminal::render(&summary);
    assert!(table.contains("NOT HELD"), "{table}");
    assert!(table.contains("10 late (> 10 ms)"), "{table}");
    assert!(
        table.contains("10 inferred (cold when service time ≥ 25ms)"),
        "{table}"
    );
}
