//! `faasbench run` end to end: the binary, the embedded runtime on loopback, real wasmtime
//! instances, and the files it writes.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use scenarios::Scenario;
use serde_json::Value;

/// Poisson arrivals over three functions. One instance per function, so that an invocation
/// arriving while another runs waits for the instance instead of starting a second one: every
/// function then starts cold exactly once.
const SCENARIO: &str = r#"
name = "e2e"
seed = 11
duration = "60s"

[arrivals]
process = "poisson"
rate = 40.0

[[functions]]
name = "hello"
guest = "noop"
max_instances = 1

[[functions]]
name = "echo"
guest = "echo"
input = "ping"
max_instances = 1

[[functions]]
name = "work"
guest = "cpu"
input = "500"
memory_mb = 256
max_instances = 1
"#;

fn faasbench(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faasbench"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("faasbench runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_short_run_accounts_for_every_invocation_and_starts_each_function_cold_once() {
    let dir = tempfile::tempdir().unwrap();
    let scenario_path = dir.path().join("e2e.toml");
    std::fs::write(&scenario_path, SCENARIO).unwrap();
    let output = faasbench(
        &[
            "run",
            "e2e.toml",
            "--duration",
            "2s",
            "--run-id",
            "e2e",
            "--invocations-csv",
        ],
        dir.path(),
    );
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("latency, ms"), "{stdout}");

    let schedule: Vec<_> = Scenario::load(&scenario_path)
        .unwrap()
        .with_duration(Duration::from_secs(2))
        .unwrap()
        .schedule()
        .collect::<Result<_, _>>()
        .unwrap();
    let scheduled = schedule.len() as u64;
    assert!(
        scheduled > 40,
        "a 2 s run at 40/s schedules about 80 invocations"
    );

    let results = dir.path().join("results/e2e");
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(results.join("summary.json")).unwrap())
            .unwrap();
    let counts = &summary["invocations"];
    assert_eq!(counts["scheduled"], scheduled);
    assert_eq!(counts["ok"], scheduled, "no invocation failed: {counts}");
    assert_eq!(counts["errors"], 0);
    assert_eq!(counts["not_sent"], 0);
    assert_eq!(counts["dropped"], 0);
    assert_eq!(summary["partial"], false);
    assert_eq!(summary["rate"]["held"], true);
    assert!(
        summary["pacing"]["dispatch_lag_us"]["p99"]
            .as_u64()
            .is_some()
    );

    // The interval series: one CSV row per second of the run.
    let intervals = std::fs::read_to_string(results.join("intervals.csv")).unwrap();
    let seconds: Vec<&str> = intervals.lines().skip(1).collect();
    assert!((2..=3).contains(&seconds.len()), "{intervals}");
    assert!(results.join("intervals.hlog").exists());

    // One outcome per scheduled invocation, at the scheduled times.
    let mut log = csv::Reader::from_path(results.join("invocations.csv")).unwrap();
    let headers = log.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (function, result, start, latency) = (
        column("function"),
        column("result"),
        column("start"),
        column("latency_us"),
    );
    let rows: Vec<csv::StringRecord> = log.records().map(Result::unwrap).collect();
    assert_eq!(rows.len() as u64, scheduled);
    let mut logged_times: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    logged_times.sort_unstable();
    let scheduled_times: Vec<u64> = schedule.iter().map(|i| i.at_us).collect();
    assert_eq!(logged_times, scheduled_times);

    // Per function, in scheduled order: cold first, warm after.
    let mut by_function: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for row in &rows {
        assert_eq!(&row[result], "ok");
        let latency: u64 = row[latency].parse().unwrap();
        assert!(latency > 0, "latency must be positive: {row:?}");
        by_function
            .entry(row[function].to_owned())
            .or_default()
            .push((row[0].parse().unwrap(), row[start].to_owned()));
    }
    assert_eq!(by_function.len(), 3, "every function was invoked");
    for (function, mut starts) in by_function {
        starts.sort();
        assert_eq!(starts[0].1, "cold", "first invocation of {function}");
        assert!(
            starts[1..].iter().all(|(_, start)| start == "warm"),
            "later invocations of {function} must be warm: {starts:?}"
        );
    }
    assert_eq!(summary["cold_starts"]["count"], 3);

    // Percentiles are positive and ordered, for each start kind and overall.
    let latency = summary["latency_us"].as_object().unwrap();
    for kind in ["cold", "warm", "all"] {
        assert!(
            latency.contains_key(kind),
            "no {kind} latency in {latency:?}"
        );
    }
    for (kind, p) in latency {
        let p50 = p["p50"].as_u64().unwrap();
        let p99 = p["p99"].as_u64().unwrap();
        let max = p["max"].as_u64().unwrap();
        assert!(0 < p50 && p50 <= p99 && p99 <= max, "{kind}: {p}");
    }
    assert!(summary["costs"][0]["usd_per_million"].as_f64().unwrap() > 0.2);
}

#[test]
fn a_scenario_with_an_unknown_key_is_refused_naming_file_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let broken = SCENARIO.replace("input = \"ping\"", "input = \"ping\"\ntimeout_ms = 5");
    std::fs::write(dir.path().join("broken.toml"), broken).unwrap();
    let output = faasbench(&["run", "broken.toml"], dir.path());
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("broken.toml"), "{stderr}");
    assert!(stderr.contains("functions[1].timeout_ms"), "{stderr}");
    assert!(stderr.contains("line 19"), "{stderr}");
    assert!(
        !dir.path().join("results").exists(),
        "nothing is written for a refused scenario"
    );
}

#[test]
fn a_function_with_an_unknown_guest_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = SCENARIO.replace("guest = \"cpu\"", "guest = \"gpu\"");
    std::fs::write(dir.path().join("s.toml"), scenario).unwrap();
    let output = faasbench(&["run", "s.toml", "--duration", "1s"], dir.path());
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("function `work`") && stderr.contains("`gpu`"),
        "{stderr}"
    );
}

/// Writes `scenario` as `<name>.toml` in `dir`, runs it with `options` under the run id
/// `name`, and returns what it printed and its summary.
fn run_to_summary(dir: &Path, name: &str, scenario: &str, options: &[&str]) -> (String, Value) {
    std::fs::write(dir.join(format!("{name}.toml")), scenario).unwrap();
    let file = format!("{name}.toml");
    let mut args = vec!["run", file.as_str(), "--run-id", name];
    args.extend_from_slice(options);
    let output = faasbench(&args, dir);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let summary = std::fs::read_to_string(dir.join("results").join(name).join("summary.json"));
    (
        text(&output.stdout),
        serde_json::from_str(&summary.unwrap()).unwrap(),
    )
}

/// Invocations the client gives up on are cancelled on the runtime and give back what they
/// held, so a timeout shorter than the invocations reads as timeouts — not as capacity
/// refusals piling up behind leaked instances.
#[test]
fn invocations_that_time_out_at_the_client_end_as_timeouts_not_as_429() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = r#"
name = "impatient"
seed = 3
duration = "3s"

[arrivals]
process = "constant"
rate = 100.0

[[functions]]
name = "slow"
guest = "io"
input = "1500"
"#;
    let (_, summary) = run_to_summary(dir.path(), "impatient", scenario, &["--timeout", "500ms"]);
    let counts = &summary["invocations"];
    let scheduled = counts["scheduled"].as_u64().unwrap();
    assert!(scheduled >= 250, "{counts}");
    assert_eq!(counts["errors"], scheduled, "{counts}");
    let kinds: Vec<&String> = counts["errors_by_kind"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(kinds, ["timeout"], "{counts}");
}

/// With one instance and a 200 ms `init`, invocations that arrive during the start wait for
/// it and are then served warm: the summary shows their queue time in the warm row and
/// counts them as delayed by a start, beside the single cold start.
#[test]
fn warm_invocations_queued_behind_a_start_show_their_wait() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = r#"
name = "queued"
seed = 5
duration = "2s"

[arrivals]
process = "constant"
rate = 40.0

[[functions]]
name = "boot"
guest = "init-heavy(init_ms=200, state_mib=1)"
max_instances = 1
"#;
    let (stdout, summary) = run_to_summary(dir.path(), "queued", scenario, &[]);
    assert!(stdout.contains("where the time went"), "{stdout}");
    assert!(stdout.contains("delayed by a start"), "{stdout}");
    assert_eq!(
        summary["cold_starts"]["count"], 1,
        "{}",
        summary["cold_starts"]
    );
    let delayed = summary["delayed_by_start"]["count"].as_u64().unwrap();
    // At 40/s, the 200 ms start holds back at least the next five arrivals.
    assert!(delayed >= 6, "{}", summary["delayed_by_start"]);
    assert_eq!(summary["delayed_by_start"]["unknown"], 0);
    let warm_queue = &summary["composition_us"]["warm"]["queue"];
    assert!(
        warm_queue["max"].as_u64().unwrap() >= 100_000,
        "the warm row shows the wait behind the start: {warm_queue}"
    );
    let warm_latency_max = summary["latency_us"]["warm"]["max"].as_u64().unwrap();
    assert!(warm_latency_max >= warm_queue["max"].as_u64().unwrap());
}

#[test]
fn a_rate_beyond_what_this_machine_issued_is_warned_about_at_the_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("e2e.toml"), SCENARIO).unwrap();
    let capacity = dir.path().join("capacity");
    let run = |issued: u32| {
        std::fs::write(&capacity, format!("issued_per_second = {issued}\n")).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_faasbench"))
            .args([
                "run",
                "e2e.toml",
                "--duration",
                "1s",
                "--run-id",
                &format!("cap-{issued}"),
            ])
            .env("FAASBENCH_CAPACITY", &capacity)
            .current_dir(dir.path())
            .output()
            .expect("faasbench runs");
        assert!(output.status.success(), "{}", text(&output.stderr));
        text(&output.stderr)
    };
    let stderr = run(10);
    assert!(
        stderr.contains("asks for up to 40 invocations/s; this machine issued at most 10/s"),
        "{stderr}"
    );
    assert!(!run(1000).contains("this machine issued"));
}

/// Every file of a results directory below `dir`, relative path → bytes.
fn files_below(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                files.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

#[test]
fn a_run_writes_every_report_and_faasbench_report_rebuilds_them_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("e2e.toml"), SCENARIO).unwrap();
    let output = faasbench(
        &["run", "e2e.toml", "--duration", "2s", "--run-id", "rebuilt"],
        dir.path(),
    );
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let results = dir.path().join("results/rebuilt");
    let before = files_below(&results);
    for name in [
        "summary.json",
        "report.html",
        "report.md",
        "functions.csv",
        "triggers.csv",
        "latency.hgrm",
        "latency-cold.hgrm",
        "latency-warm.hgrm",
        "intervals.hlog",
        "intervals.csv",
        "run.json",
        "machine.json",
        "platform.json",
        "configuration.json",
        "scenario.toml",
        "plots/latency-over-time.svg",
        "plots/percentile-spectrum.svg",
        "plots/throughput.svg",
        "plots/composition.svg",
        "plots/cold-starts-by-function.svg",
        "plots/cost-by-function.svg",
    ] {
        assert!(
            before.contains_key(name),
            "{name} missing: {:?}",
            before.keys()
        );
    }
    assert!(
        !before.keys().any(|name| name.contains(".partial")),
        "{:?}",
        before.keys()
    );
    // The scenario as run, and the platform's own figures: every function's idle memory-time.
    assert_eq!(before["scenario.toml"], SCENARIO.as_bytes());
    let platform: Value = serde_json::from_slice(&before["platform.json"]).unwrap();
    assert_eq!(platform["functions"].as_object().unwrap().len(), 3);
    let summary: Value = serde_json::from_slice(&before["summary.json"]).unwrap();
    assert!(
        summary["platform"]["idle_memory_mb_seconds"]
            .as_f64()
            .unwrap()
            >= 0.0
    );
    assert_eq!(
        summary["costs"].as_array().unwrap().len(),
        7,
        "every catalog entry"
    );

    // Every artifact deleted, then rebuilt from what the run saved: the same bytes.
    for name in before.keys() {
        let saved = [
            "run.json",
            "machine.json",
            "platform.json",
            "configuration.json",
            "scenario.toml",
            "intervals.hlog",
            "intervals.csv",
        ];
        if !saved.contains(&name.as_str()) {
            std::fs::remove_file(results.join(name)).unwrap();
        }
    }
    let output = faasbench(&["report", "results/rebuilt"], dir.path());
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let after = files_below(&results);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &before {
        assert!(after[name] == *bytes, "{name} differs after the rebuild");
    }
}

#[test]
fn report_refuses_a_directory_that_holds_no_run() {
    let dir = tempfile::tempdir().unwrap();
    let output = faasbench(&["report", "."], dir.path());
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("holds no run.json"), "{stderr}");
}
