//! `faasbench replay` end to end against a platform that is not ours: a plain HTTP/1.1 server
//! on loopback that sends no `x-faas-*` header.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

const SCENARIO: &str = r#"
name = "external"
seed = 3
duration = "2s"

[arrivals]
process = "constant"
rate = 50.0

[[functions]]
name = "alpha"
guest = "noop"

[[functions]]
name = "beta"
guest = "noop"
"#;

/// Serves HTTP/1.1 keep-alive on a thread per connection. The first request to each path
/// takes 150 ms (the platform's cold start); every answer is `200 ok`.
fn platform() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let started = Arc::new(Mutex::new(HashSet::new()));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let started = started.clone();
            std::thread::spawn(move || serve_connection(stream, &started));
        }
    });
    addr
}

fn serve_connection(stream: TcpStream, started: &Mutex<HashSet<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_owned();
        let mut length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header == "\r\n" {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if started.lock().unwrap().insert(path) {
            std::thread::sleep(Duration::from_millis(150));
        }
        if writer
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            .is_err()
        {
            return;
        }
    }
}

fn faasbench(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faasbench"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("faasbench runs")
}

/// Starts `faasbench replay` with its output captured, without waiting for it.
fn replay_in_background(scenario: &str, target: &str, run_id: &str, dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_faasbench"))
        .args(["replay", scenario, "--target", target, "--run-id", run_id])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("faasbench starts")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn summary(dir: &Path, run_id: &str) -> Value {
    let path = dir.join("results").join(run_id).join("summary.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn replay_measures_an_external_platform_and_infers_its_cold_starts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("external.toml"), SCENARIO).unwrap();
    let addr = platform();
    let target = format!("http://{addr}/run/{{function}}");

    let output = faasbench(
        &[
            "replay",
            "external.toml",
            "--target",
            &target,
            "--run-id",
            "plain",
        ],
        dir.path(),
    );
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("start kinds  unknown"), "{stdout}");
    let plain = summary(dir.path(), "plain");
    assert_eq!(plain["invocations"]["ok"], 100);
    assert_eq!(plain["start_kinds"]["unknown"], 100);
    assert_eq!(plain["cold_starts"]["count"], 0);
    assert_eq!(plain["target"], target);

    // New paths, so each function starts cold again on the platform.
    let target = format!("http://{addr}/again/{{function}}");
    let output = faasbench(
        &[
            "replay",
            "external.toml",
            "--target",
            &target,
            "--run-id",
            "inferred",
            "--cold-above",
            "100ms",
        ],
        dir.path(),
    );
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let inferred = summary(dir.path(), "inferred");
    assert_eq!(inferred["cold_starts"]["count"], 2);
    assert_eq!(inferred["start_kinds"]["inferred"], 100);
    assert_eq!(inferred["start_kinds"]["reported"], 0);
    assert!(
        text(&output.stdout).contains("100 inferred (cold when service time ≥ 100ms)"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn ctrl_c_stops_the_replay_and_writes_partial_results() {
    let dir = tempfile::tempdir().unwrap();
    let long = SCENARIO.replace("duration = \"2s\"", "duration = \"60s\"");
    std::fs::write(dir.path().join("long.toml"), long).unwrap();
    let target = format!("http://{}/fn/{{function}}", platform());
    let mut child = replay_in_background("long.toml", &target, "cut", dir.path());
    std::thread::sleep(Duration::from_millis(2500));
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let give_up = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < give_up, "replay did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("writing partial results"), "{stderr}");

    let partial = summary(dir.path(), "cut");
    assert_eq!(partial["partial"], true);
    let counts = &partial["invocations"];
    let count = |key: &str| counts[key].as_u64().unwrap();
    assert_eq!(
        count("scheduled"),
        3000,
        "the whole schedule is accounted for"
    );
    assert_eq!(
        count("ok") + count("errors") + count("dropped") + count("not_sent"),
        3000
    );
    assert!((80..=150).contains(&count("ok")), "{counts}");
    // Rates are over the 2.5 s replayed, not the 60 s planned.
    let requested = partial["rate"]["requested_per_second"].as_f64().unwrap();
    assert!((40.0..=60.0).contains(&requested), "{}", partial["rate"]);
    let replayed = partial["replayed_seconds"].as_f64().unwrap();
    assert!((2.0..=6.0).contains(&replayed), "replayed {replayed} s");
    let intervals = std::fs::read_to_string(dir.path().join("results/cut/intervals.csv")).unwrap();
    assert!(intervals.lines().count() >= 3, "{intervals}");
}

#[test]
fn replay_without_a_target_says_how_to_give_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("external.toml"), SCENARIO).unwrap();
    let output = faasbench(&["replay", "external.toml"], dir.path());
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("external.toml") && stderr.contains("--target"),
        "{stderr}"
    );
    let bad = faasbench(
        &[
            "replay",
            "external.toml",
            "--target",
            "http://127.0.0.1:1/no-placeholder",
        ],
        dir.path(),
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("{function}"),
        "{}",
        text(&bad.stderr)
    );
    // What the template says is what is used, or it is refused before the run.
    for (template, reason) in [
        ("http://127.0.0.1:99999/{function}", "invalid port"),
        ("ftp://127.0.0.1/{function}", "unknown scheme"),
        ("http://:8080/{function}", "not a valid URL"),
    ] {
        let refused = faasbench(
            &["replay", "external.toml", "--target", template],
            dir.path(),
        );
        assert!(!refused.status.success(), "{template} was accepted");
        let stderr = text(&refused.stderr);
        assert!(stderr.contains(reason), "{template}: {stderr}");
        assert!(
            !dir.path().join("results").exists(),
            "{template}: a run started"
        );
    }
}

#[test]
fn a_trace_that_breaks_mid_run_ends_it_with_an_error_and_partial_results() {
    let dir = tempfile::tempdir().unwrap();
    // 4,000 invocations over 10 trace minutes (310 KB), replayed 60× faster: the run reads
    // the trace again minute by minute, so most of it is still unread after 2 s.
    let name = |i: u32| format!("function-{}-{}", i % 2, "x".repeat(60));
    let rows: String = (0..4000)
        .map(|i| format!("{},{}\n", i * 150, name(i)))
        .collect();
    let trace = dir.path().join("calls.csv");
    std::fs::write(&trace, format!("timestamp_ms,function\n{rows}")).unwrap();
    std::fs::write(
        dir.path().join("traced.toml"),
        "name = \"traced\"\ntime_compression = 60.0\n[trace]\ninvocations = \"calls.csv\"\n",
    )
    .unwrap();
    let target = format!("http://{}/fn/{{function}}", platform());
    let child = replay_in_background("traced.toml", &target, "broken", dir.path());
    std::thread::sleep(Duration::from_secs(2));
    // Rewritten in place, longer than before: the run reads on into rows that are not rows.
    std::fs::write(&trace, "twelve o'clock,alpha\n".repeat(40_000)).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the run stopped early") && stderr.contains("calls.csv"),
        "{stderr}"
    );
    let partial = summary(dir.path(), "broken");
    assert_eq!(partial["partial"], true);
    let ok = partial["invocations"]["ok"].as_u64().unwrap();
    assert!((500..4000).contains(&ok), "{}", partial["invocations"]);
}
