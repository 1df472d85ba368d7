//! Summaries, files and the terminal table, from a recorder filled with known outcomes.

use std::time::{Duration, SystemTime};

use loadgen::{ErrorKind, Outcome, PlatformMetering, Recorder, RunResult, StartKind};
use reports::{Pricing, Report, Summary, export, terminal, write_artifacts};
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

/// The report of `run` with nothing around it.
fn report_of(run: RunResult, summary: Summary) -> Report {
    Report {
        summary,
        run,
        intervals: Vec::new(),
        platform: None,
        machine: reports::Machine::detect(),
        configuration: reports::Configuration::default(),
    }
}

/// Wraps `recorder` in the result of a 10 s open-loop run of functions `api` and `batch`.
fn result_of(recorder: Recorder) -> RunResult {
    RunResult {
        scenario: "unit".into(),
        target: "http://127.0.0.1:1/invoke/{function}".into(),
        functions: vec!["api".into(), "batch".into()],
        trace_ids: vec![None, None],
        triggers: vec![Trigger::Http, Trigger::Http],
        started_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        planned: Duration::from_secs(10),
        elapsed: Duration::from_secs(10),
        replayed: Duration::from_secs(10),
        load: LoadSpec::default(),
        request: RequestSpec::default(),
        start_inference: None,
        not_sent: 0,
        connections: loadgen::Connections::default(),
        stopped_early: false,
        schedule_failure: None,
        recorder,
        pacing: None,
        warnings: vec![],
    }
}

/// A successful invocation of `api` as the reference runtime reports it: `queue_ms` in the
/// queue, `init_ms` starting its instance, 2 ms in the guest and 1 ms of overhead, sent 10 µs
/// late.
fn reported(start: StartKind, queue_ms: u64, init_ms: u64, delayed: bool) -> Outcome {
    let service_us = (queue_ms + init_ms + 3) * 1000;
    let mut o = outcome(0, service_us + 10, start, Ok(()));
    o.service_us = service_us;
    o.metering.queue_us = Some(queue_ms * 1000);
    o.metering.init_us = Some(init_ms * 1000);
    o.metering.exec_us = Some(2_000);
    o.metering.delayed_by_start = Some(delayed);
    o
}

/// One instance slot and a 200 ms init: the first invocation starts cold, the next one
/// queues 150 ms behind that start and is then served warm, two more find the instance idle.
fn queued_behind_a_start() -> RunResult {
    let mut recorder = Recorder::new(2);
    recorder.record(&reported(StartKind::Cold, 0, 200, true));
    recorder.record(&reported(StartKind::Warm, 150, 0, true));
    recorder.record(&reported(StartKind::Warm, 0, 0, false));
    recorder.record(&reported(StartKind::Warm, 0, 0, false));
    result_of(recorder)
}

/// Two functions: `api` with one cold start of 20 ms and 99 warm ones of 1..=99 ms, `batch`
/// with 2 warm successes, a 500 and one invocation dropped at the in-flight bound; 2 not
/// sent, as the run was stopped early.
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
        not_sent: 2,
        stopped_early: true,
        ..result_of(recorder)
    }
}

#[test]
fn summary_counts_add_up_and_percentiles_are_per_start_kind() {
    let summary = Summary::from_run(&run(), "unit-1", &Pricing::default(), None);
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
    let summary = Summary::from_run(&run(), "unit-1", &Pricing::default(), None);
    let cost = summary
        .chosen_cost()
        .expect("billing headers were reported");
    // 20 + (1 + … + 99) + 5 + 5 + 7 billed ms at 1 GiB.
    let billed_ms = 20 + 99 * 100 / 2 + 17;
    assert_eq!(cost.billed_invocations, 103);
    let gb_seconds = cost.billed["GB-s"];
    assert!((gb_seconds - billed_ms as f64 / 1000.0).abs() < 1e-9);
    let expected = 0.20 + gb_seconds / 103.0 * 0.000_016_666_7 * 1e6;
    assert!((cost.usd_per_million - expected).abs() < 1e-9);
}

#[test]
fn summary_json_round_trips_and_carries_its_schema_version() {
    let result = run();
    let summary = Summary::from_run(&result, "unit-1", &Pricing::default(), None);
    let dir = tempfile::tempdir().unwrap();
    let report = report_of(result, summary.clone());
    let written = write_artifacts(dir.path(), &report, &[Box::new(export::Json)]).unwrap();
    assert_eq!(written, vec![dir.path().join("summary.json")]);
    let text = std::fs::read_to_string(&written[0]).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["schema_version"], reports::SCHEMA_VERSION);
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
    let summary = Summary::from_run(&result, "unit-1", &Pricing::default(), None);
    let file = tempfile::NamedTempFile::new().unwrap();
    let below_a_file = file.path().join("results");
    let report = report_of(result, summary);
    let err = write_artifacts(&below_a_file, &report, &export::all(&report)).unwrap_err();
    assert!(
        err.to_string()
            .contains(&below_a_file.display().to_string()),
        "{err}"
    );
}

#[test]
fn terminal_table_shows_each_start_kind_cold_starts_and_cost() {
    let summary = Summary::from_run(&run(), "unit-1", &Pricing::default(), None);
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
    assert!(table.contains("cheapest of 7 price lists"), "{table}");
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
    let summary = Summary::from_run(&result, "unit-1", &Pricing::default(), None);
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

#[test]
fn a_warm_invocation_queued_behind_a_start_shows_in_warm_queue_time_and_as_delayed() {
    let summary = Summary::from_run(
        &queued_behind_a_start(),
        "unit-1",
        &Pricing::default(),
        None,
    );
    let warm = &summary.composition_us["warm"];
    assert_eq!(warm.latency.count, 3);
    let queue = warm.queue.expect("the platform reported queue time");
    assert_eq!(queue.count, 3);
    // 150 ms to 3 significant digits: its bucket ends at 150 015 µs.
    assert_eq!((queue.min, queue.max), (0, 150_015));
    assert!((queue.mean - 150_000.0 / 3.0).abs() < 100.0, "{queue:?}");
    let init = warm.init.unwrap();
    assert_eq!(init.max, 0, "warm instances need no start");
    let remainder = warm.remainder.unwrap();
    assert!(remainder.min.abs_diff(1_000) <= 1 && remainder.max.abs_diff(1_000) <= 1);
    // The means add up to the latency's mean: 10 µs send lag + queue + init + 2 ms + 1 ms.
    let parts: f64 = [
        warm.send_lag,
        warm.queue,
        warm.init,
        warm.exec,
        warm.remainder,
    ]
    .iter()
    .map(|p| p.expect("every component was measured").mean)
    .sum();
    assert!((parts - warm.latency.mean).abs() < warm.latency.mean * 0.002);

    let cold = &summary.composition_us["cold"];
    assert!(cold.init.unwrap().min.abs_diff(200_000) < 200);
    assert!(!summary.composition_us.contains_key("snapshot"));

    // One cold start, but two invocations waited for it.
    assert_eq!(summary.cold_starts.count, 1);
    let delayed = summary.delayed_by_start;
    assert_eq!((delayed.count, delayed.unknown), (2, 0));
    assert!((delayed.rate - 0.5).abs() < 1e-12);
    assert_eq!(summary.functions[0].figures.delayed_by_start.count, 2);
    assert_eq!(summary.functions[1].figures.delayed_by_start.count, 0);
    assert_eq!(summary.triggers["http"].delayed_by_start.count, 2);
}

#[test]
fn summary_json_has_the_composition_and_leaves_out_what_was_not_reported() {
    let reported = Summary::from_run(
        &queued_behind_a_start(),
        "unit-1",
        &Pricing::default(),
        None,
    );
    let value = serde_json::to_value(&reported).unwrap();
    let warm = &value["composition_us"]["warm"];
    for part in ["latency", "send_lag", "queue", "init", "exec", "remainder"] {
        assert!(warm[part]["p99"].is_u64(), "{part}: {warm}");
    }
    assert_eq!(warm["queue"]["max"], 150_015);
    assert_eq!(value["delayed_by_start"]["count"], 2);
    assert_eq!(value["functions"][0]["delayed_by_start"]["count"], 2);

    // `run()` reports no queue, init or exec time, and no x-faas-delayed-by-start.
    let bare = serde_json::to_value(Summary::from_run(
        &run(),
        "unit-1",
        &Pricing::default(),
        None,
    ))
    .unwrap();
    let warm = bare["composition_us"]["warm"].as_object().unwrap();
    let mut parts: Vec<&str> = warm.keys().map(String::as_str).collect();
    parts.sort_unstable();
    assert_eq!(parts, ["latency", "send_lag"]);
    // Only the cold start is known to have been delayed; the warm ones did not say.
    assert_eq!(bare["delayed_by_start"]["count"], 1);
    assert_eq!(bare["delayed_by_start"]["unknown"], 101);
}

#[test]
fn terminal_shows_where_the_time_went_and_how_many_a_start_delayed() {
    let summary = Summary::from_run(
        &queued_behind_a_start(),
        "unit-1",
        &Pricing::default(),
        None,
    );
    let table = terminal::render(&summary);
    assert!(
        table.contains(
            "where the time went, ms (mean, p99 in brackets; means add up, percentiles do not)"
        ),
        "{table}"
    );
    let heading = table
        .lines()
        .find(|l| l.contains("= send lag"))
        .expect("a column heading");
    let queue_column = heading.find("+ queue").unwrap() + "+ queue".len();
    let warm_row = table
        .lines()
        .skip_while(|l| !l.contains("= send lag"))
        .find(|l| l.trim_start().starts_with("warm "))
        .expect("a warm row in the composition table");
    // Mean 50 ms, p99 150 ms, right-aligned under its heading.
    assert!(
        warm_row[..queue_column].ends_with("49.98 (150.0)"),
        "{warm_row}"
    );
    let composition: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with("where the time went"))
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(composition.len(), 5, "{table}"); // heading, columns, cold, warm, note
    assert!(
        composition.iter().all(|l| l.chars().count() <= 110),
        "{table}"
    );
    assert!(
        table.contains(
            "cold starts  1 (25.00% of successful invocations; new instances: 1 cold, 0 from a snapshot) · 2 delayed by a start (50.00%: their own or one they waited for)"
        ),
        "{table}"
    );

    // Without the platform's figures there is nothing to split, and the delayed count is
    // a lower bound.
    let bare = terminal::render(&Summary::from_run(
        &run(),
        "unit-1",
        &Pricing::default(),
        None,
    ));
    assert!(!bare.contains("where the time went"), "{bare}");
    assert!(
        bare.contains("cold starts  1 (0.98% of successful invocations; new instances: 1 cold, 0 from a snapshot) · at least 1 delayed by a start (0.98%; 101 not reported)"),
        "{bare}"
    );
}

#[test]
fn the_all_due_view_counts_failures_as_slower_than_any_success() {
    // 102 successes, a 500 and a dropped invocation: 2 of 104 due failed, beyond 1 %.
    let summary = Summary::from_run(&run(), "unit-1", &Pricing::default(), None);
    let all = summary
        .latency_all_scheduled_us
        .expect("invocations were due");
    assert_eq!((all.count, all.failed), (104, 2));
    assert_eq!(all.timeout_ms, 30_000.0);
    // p99 is the 103rd of 104: a failure. The median is among the successes.
    assert_eq!(all.p99, None);
    assert_eq!(all.max, None);
    let p50 = all.p50.expect("the median is a success");
    let successes = summary.latency_us[reports::ALL];
    // Failures sort after every success, so the median moves up, never down.
    assert!(p50 >= successes.p50, "{p50} against {}", successes.p50);
    let table = terminal::render(&summary);
    assert!(
        table.contains("all due") && table.contains(">30000"),
        "{table}"
    );

    // Without failures the view is the successes' own.
    let mut recorder = Recorder::new(2);
    for ms in 1..=100 {
        recorder.record(&outcome(0, ms * 1000, StartKind::Warm, Ok(())));
    }
    let clean = Summary::from_run(&result_of(recorder), "unit-2", &Pricing::default(), None);
    let all = clean.latency_all_scheduled_us.unwrap();
    assert_eq!(all.failed, 0);
    assert_eq!(all.p99, Some(clean.latency_us[reports::ALL].p99));
    assert!(!terminal::render(&clean).contains("all due"));
}

#[test]
fn anything_dropped_is_warned_about() {
    let summary = Summary::from_run(&run(), "unit-1", &Pricing::default(), None);
    assert!(
        summary
            .warnings
            .iter()
            .any(|w| w.starts_with("1 invocations were dropped")),
        "{:?}",
        summary.warnings
    );
    assert!(terminal::render(&summary).contains("were dropped"));
}

#[test]
fn rates_are_over_the_time_replayed_not_the_time_planned() {
    // Stopped after 3 s of a 10 s schedule; waiting for answers took it to 8 s.
    let mut recorder = Recorder::new(2);
    for _ in 0..60 {
        recorder.record(&outcome(0, 1_000, StartKind::Warm, Ok(())));
    }
    let result = RunResult {
        elapsed: Duration::from_secs(8),
        replayed: Duration::from_secs(3),
        not_sent: 140,
        stopped_early: true,
        ..result_of(recorder)
    };
    let summary = Summary::from_run(&result, "unit-3", &Pricing::default(), None);
    let rate = summary.rate.unwrap();
    assert!((rate.requested_per_second - 20.0).abs() < 1e-9, "{rate:?}");
    assert!((rate.issued_per_second - 20.0).abs() < 1e-9, "{rate:?}");
    assert_eq!(summary.replayed_seconds, 3.0);
}

#[test]
fn implausible_billing_is_left_out_of_the_cost_and_warned_about() {
    let mut recorder = Recorder::new(2);
    recorder.record(&outcome(0, 2_000, StartKind::Warm, Ok(())));
    let mut absurd = outcome(0, 2_000, StartKind::Warm, Ok(()));
    absurd.metering.billed_ms = Some(u64::MAX);
    absurd.metering.memory_mb = Some(u64::MAX);
    recorder.record(&absurd);
    recorder.record(&absurd);
    let summary = Summary::from_run(&result_of(recorder), "unit-4", &Pricing::default(), None);
    let cost = summary.chosen_cost().unwrap();
    assert_eq!(cost.billed_invocations, 1);
    // 2 ms at 1 GiB: $0.20 + 0.002 GB-s × $0.0000166667 × 1M ≈ $0.2333 per 1M.
    assert!((cost.usd_per_million - 0.233_333).abs() < 1e-3, "{cost:?}");
    assert!(
        summary
            .warnings
            .iter()
            .any(|w| w.contains("2 answers carried implausible billing")),
        "{:?}",
        summary.warnings
    );
}

#[test]
fn snapshot_restores_count_as_cold_starts_with_the_split_shown() {
    // Three instances started from scratch, two restored from a snapshot, 395 warm.
    let mut recorder = Recorder::new(2);
    for _ in 0..3 {
        recorder.record(&outcome(0, 90_000, StartKind::Cold, Ok(())));
    }
    for _ in 0..2 {
        recorder.record(&outcome(1, 9_000, StartKind::Snapshot, Ok(())));
    }
    for _ in 0..395 {
        recorder.record(&outcome(0, 2_000, StartKind::Warm, Ok(())));
    }
    let summary = Summary::from_run(&result_of(recorder), "unit-4", &Pricing::default(), None);
    let cold = summary.cold_starts;
    assert_eq!((cold.count, cold.cold, cold.snapshot), (5, 3, 2));
    assert!((cold.rate - 5.0 / 400.0).abs() < 1e-12, "{cold:?}");
    let api = &summary.functions[1].figures.cold_starts;
    assert_eq!((api.count, api.cold, api.snapshot), (2, 0, 2));
    assert!((api.rate - 1.0).abs() < 1e-12);
    let table = terminal::render(&summary);
    assert!(
        table.contains(
            "cold starts  5 (1.25% of successful invocations; new instances: 3 cold, 2 from a snapshot)"
        ),
        "{table}"
    );
    // No platform stats: the provider's side is unknown, and said so.
    assert!(summary.platform.is_none());
    assert!(table.contains("idle memory  unknown"), "{table}");
}
