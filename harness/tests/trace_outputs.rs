//! `faasbench trace` never harms the files it reads: an output that is an input is refused,
//! and outputs appear only when complete.

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
