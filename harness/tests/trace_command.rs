//! `faasbench trace` end to end on the shipped Azure 2019 sample.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn faasbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faasbench"))
        .args(args)
        .output()
        .expect("faasbench runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn sample_file(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/traces/azure2019-sample-100")
        .join(name)
        .display()
        .to_string()
}

fn sample_files() -> Vec<String> {
    ["100_inv.csv", "100_run.csv", "100_mem.csv"]
        .map(sample_file)
        .to_vec()
}

#[test]
fn inspect_prints_the_figures_of_a_trace() {
    let mut args = vec!["trace", "inspect"];
    let files = sample_files();
    args.extend(files.iter().map(String::as_str));
    let output = faasbench(&args);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    for expected in [
        "format       Azure Functions 2019",
        "functions    100 (100 invoked at least once)",
        "invocations  86751 in 1440 minutes",
        "per minute   ",
        "inter-arrival CV  p10",
        "duration      p50",
        "memory        p50",
        "triggers     unknown 100.0% (100 functions)",
    ] {
        assert!(
            stdout.contains(expected),
            "missing `{expected}` in:\n{stdout}"
        );
    }
}

#[test]
fn sample_writes_a_smaller_trace_in_the_same_layout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sampled");
    let mut args = vec!["trace", "sample"];
    let files = sample_files();
    args.extend(files.iter().map(String::as_str));
    let out_arg = out.display().to_string();
    args.extend(["-n", "10", "--method", "representative", "-o", &out_arg]);
    let output = faasbench(&args);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("sampled 10 of 100 functions"), "{stdout}");
    let distances = distances(&stdout);
    assert!(
        distances.iter().all(|d| d.is_finite() && *d >= 0.0),
        "{stdout}"
    );
    assert!(
        stdout.contains("per-minute distance over minutes 0..1440"),
        "{stdout}"
    );
    let written: Vec<PathBuf> = ["100_inv.csv", "100_run.csv", "100_mem.csv"]
        .map(|name| out.join(name))
        .to_vec();
    for file in &written {
        let lines = std::fs::read_to_string(file).unwrap().lines().count();
        assert_eq!(lines, 11, "{}", file.display());
    }
    let inspect = faasbench(&["trace", "inspect", &written[0].display().to_string()]);
    assert!(
        text(&inspect.stdout).contains("functions    10 "),
        "{}",
        text(&inspect.stdout)
    );
}

/// The four distances `trace sample` prints: whole-trace invocations and durations, per-minute
/// invocations and resources.
fn distances(stdout: &str) -> [f64; 4] {
    let after = |line_start: &str, label: &str| -> f64 {
        let line = stdout
            .lines()
            .find(|line| line.starts_with(line_start))
            .unwrap_or_else(|| panic!("no line starting `{line_start}` in:\n{stdout}"));
        let rest = &line[line
            .find(label)
            .unwrap_or_else(|| panic!("no `{label}` in `{line}`"))
            + label.len()..];
        let number = rest.split([',', ' ']).next().unwrap_or_default();
        number
            .parse()
            .unwrap_or_else(|e| panic!("`{number}` in `{line}`: {e}"))
    };
    [
        after("whole-trace distance", "invocations per function "),
        after("whole-trace distance", "durations "),
        after("per-minute distance", "invocations "),
        after("per-minute distance", "resources "),
    ]
}

#[test]
fn invitro_samples_functions_invoked_in_the_replayed_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sampled");
    let out_arg = out.display().to_string();
    let files = sample_files();
    let mut args = vec!["trace", "sample"];
    args.extend(files.iter().map(String::as_str));
    args.extend([
        "-n",
        "8",
        "--method",
        "invitro",
        "--seed",
        "3",
        "--start-minute",
        "600",
        "--minutes",
        "120",
        "-o",
        &out_arg,
    ]);
    let output = faasbench(&args);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("sampled 8 of 100 functions (invitro)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("per-minute distance over minutes 600..720"),
        "{stdout}"
    );
    let [invocations, durations, per_minute, resources] = distances(&stdout);
    assert!((0.0..=1.0).contains(&invocations) && (0.0..=1.0).contains(&durations));
    assert!(per_minute > 0.0 && resources >= 0.0, "{stdout}");

    let written = ["100_inv.csv", "100_run.csv", "100_mem.csv"].map(|name| out.join(name));
    let sampled = scenarios::trace::open(&scenarios::trace::TraceFiles {
        invocations: vec![written[0].clone()],
        durations: vec![written[1].clone()],
        memory: vec![written[2].clone()],
    })
    .unwrap();
    assert_eq!(sampled.index().functions.len(), 8);
    // Every sampled function is invoked within the replayed minutes.
    let mut seen = std::collections::HashSet::new();
    for event in sampled.events(600).unwrap() {
        let event = event.unwrap();
        if event.minute() >= 720 {
            break;
        }
        if let scenarios::trace::TraceEvent::Count {
            function, count, ..
        } = event
            && count > 0
        {
            seen.insert(function);
        }
    }
    assert_eq!(seen.len(), 8, "{seen:?}");

    let again_dir = dir.path().join("again");
    let again_arg = again_dir.display().to_string();
    let last = args.len() - 1;
    args[last] = &again_arg;
    let again = faasbench(&args);
    assert_eq!(text(&again.stdout).replace(&again_arg, &out_arg), stdout);
    assert_eq!(
        std::fs::read_to_string(again_dir.join("100_inv.csv")).unwrap(),
        std::fs::read_to_string(&written[0]).unwrap()
    );
}

#[test]
fn a_slice_past_the_trace_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out_arg = dir.path().join("sampled").display().to_string();
    let files = sample_files();
    let mut args = vec!["trace", "sample"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["-n", "5", "--method", "invitro", "--start-minute", "1400"]);
    args.extend(["--minutes", "60", "-o", &out_arg]);
    let output = faasbench(&args);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("cannot sample") && stderr.contains("end at minute 1440"),
        "{stderr}"
    );
}

#[test]
fn schedule_writes_exactly_what_a_run_replays() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("schedule.csv");
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/catalog/azure-sample.toml");
    let output = faasbench(&[
        "trace",
        "schedule",
        &scenario.display().to_string(),
        "-o",
        &csv.display().to_string(),
        "--duration",
        "30s",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let expected: Vec<scenarios::Invocation> = scenarios::Scenario::load(&scenario)
        .unwrap()
        .with_duration(std::time::Duration::from_secs(30))
        .unwrap()
        .schedule()
        .collect::<Result<_, _>>()
        .unwrap();
    let written = std::fs::read_to_string(&csv).unwrap();
    let mut lines = written.lines();
    assert_eq!(
        lines.next(),
        Some("time_us,function,trigger,duration_ms,memory_mb")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), expected.len());
    for (row, invocation) in rows.iter().zip(&expected) {
        let fields: Vec<&str> = row.split(',').collect();
        assert_eq!(fields[0].parse::<u64>().unwrap(), invocation.at_us);
        assert_eq!(fields[4].parse::<u32>().unwrap(), invocation.memory_mb);
    }
    assert!(text(&output.stdout).contains(&format!(
        "wrote {} invocations of 100 functions",
        expected.len()
    )));
}

#[test]
fn a_malformed_trace_is_named_by_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.csv");
    let original = std::fs::read_to_string(sample_file("100_inv.csv")).unwrap();
    std::fs::write(&path, original.replacen(",0,", ",-3,", 1)).unwrap();
    let output = faasbench(&["trace", "inspect", &path.display().to_string()]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("inv.csv:2:") && stderr.contains("`-3`"),
        "{stderr}"
    );
}

// Outputs never harm the files read: an output that is an input is refused, and outputs
// appear only when complete.

/// A copy of the shipped Azure 2019 sample in a fresh folder, with a scenario replaying it.
fn trace_folder() -> (tempfile::TempDir, Vec<PathBuf>, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let shipped =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/traces/azure2019-sample-100");
    let files: Vec<PathBuf> = ["100_inv.csv", "100_run.csv", "100_mem.csv"]
        .iter()
        .map(|name| {
            let copy = dir.path().join(name);
            std::fs::copy(shipped.join(name), &copy).unwrap();
            copy
        })
        .collect();
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        "name = \"s\"\ntime_compression = 60.0\n[trace]\ninvocations = \"100_inv.csv\"\ndurations = \"100_run.csv\"\nmemory = \"100_mem.csv\"\nminutes = 2\n",
    )
    .unwrap();
    (dir, files, scenario)
}

fn contents(files: &[PathBuf]) -> Vec<Vec<u8>> {
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

#[test]
fn sampling_into_the_traces_own_folder_is_refused_and_the_trace_kept() {
    let (dir, files, _) = trace_folder();
    let before = contents(&files);
    let mut args = vec!["trace", "sample", "-n", "2", "-o"];
    let out = dir.path().display().to_string();
    args.push(&out);
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let output = faasbench(&args);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("it is the input"), "{stderr}");
    assert_eq!(contents(&files), before, "the trace was changed");
}

#[test]
fn a_schedule_written_over_the_scenarios_trace_is_refused_and_the_trace_kept() {
    let (_dir, files, scenario) = trace_folder();
    let before = contents(&files);
    for victim in [&files[0], &scenario] {
        let output = faasbench(&[
            "trace",
            "schedule",
            &scenario.display().to_string(),
            "-o",
            &victim.display().to_string(),
        ]);
        assert!(!output.status.success());
        let stderr = text(&output.stderr);
        assert!(stderr.contains("it is the input"), "{stderr}");
    }
    assert_eq!(contents(&files), before, "the trace was changed");
}

#[test]
fn a_schedule_replaces_its_output_only_when_complete() {
    let (dir, _files, scenario) = trace_folder();
    let out = dir.path().join("schedule.csv");
    std::fs::write(&out, "an earlier schedule\n").unwrap();
    let output = faasbench(&[
        "trace",
        "schedule",
        &scenario.display().to_string(),
        "-o",
        &out.display().to_string(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.starts_with("time_us,"), "{written}");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
