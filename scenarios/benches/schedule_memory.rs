//! Memory while schedules are produced from traces of growing length: each trace is opened and
//! its whole schedule produced in a process of its own, whose peak resident memory is reported
//! next to the trace's size. Flat memory while the trace grows tenfold is what streaming means.
//!
//! `cargo bench -p scenarios --bench schedule_memory` (writes up to ~600 MB of traces to a
//! temporary directory and removes them afterwards).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use scenarios::Scenario;

/// Peak resident memory of this process, KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// In the child: load the scenario, produce its whole schedule, report.
fn replay(scenario: &Path) {
    let begun = Instant::now();
    let scenario = Scenario::load(scenario).expect("scenario loads");
    let mut invocations = 0u64;
    for invocation in scenario.schedule() {
        invocation.expect("the trace reads");
        invocations += 1;
    }
    println!(
        "{invocations} {} {}",
        begun.elapsed().as_secs_f64(),
        peak_rss_kib()
    );
}

/// Azure 2019 day files: the shipped sample's 100 rows, each repeated `copies` times under new
/// function hashes, for `days` days.
fn azure_trace(dir: &Path, days: usize, copies: usize) -> Vec<PathBuf> {
    let sample = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/azure2019-sample-100/100_inv.csv"),
    )
    .unwrap();
    let mut lines = sample.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let mut day = String::with_capacity(sample.len() * copies);
    day.push_str(header);
    day.push('\n');
    for copy in 0..copies {
        for row in &rows {
            let (hash, rest) = row.split_once(',').unwrap();
            let _ = writeln!(day, "{hash}{copy:04},{rest}");
        }
    }
    (0..days)
        .map(|d| {
            let path = dir.join(format!("d{d:03}.csv"));
            std::fs::write(&path, &day).unwrap();
            path
        })
        .collect()
}

/// A generic trace: `rows` invocations of 100 functions, 2 ms apart.
fn generic_trace(dir: &Path, rows: u64) -> PathBuf {
    let path = dir.join(format!("generic-{rows}.csv"));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(out, "timestamp_ms,function,duration_ms").unwrap();
    for i in 0..rows {
        writeln!(out, "{},f{},{}", i * 2, i % 100, 10 + i % 90).unwrap();
    }
    out.flush().unwrap();
    path
}

fn size_mb(paths: &[PathBuf]) -> f64 {
    paths
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum::<u64>() as f64
        / 1e6
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|a| a == "--replay") {
        replay(Path::new(&args[position + 1]));
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Each case writes its trace just before it runs, into a directory of its own.
    type Writer = Box<dyn Fn(&Path) -> (Vec<PathBuf>, String)>;
    let mut cases: Vec<(String, Writer)> = Vec::new();
    for days in [1, 10, 100] {
        cases.push((
            format!("Azure 2019, 1000 functions, {days} day(s)"),
            Box::new(move |dir: &Path| {
                let files = azure_trace(dir, days, 10);
                let list: Vec<String> = files
                    .iter()
                    .map(|p| format!("\"{}\"", p.display()))
                    .collect();
                let scenario = format!(
                    "name = \"m\"\ntime_compression = 60.0\n[trace]\ninvocations = [{}]\n",
                    list.join(",")
                );
                (files, scenario)
            }),
        ));
    }
    for rows in [1_000_000, 10_000_000] {
        cases.push((
            format!("generic, 100 functions, {rows} rows"),
            Box::new(move |dir: &Path| {
                let file = generic_trace(dir, rows);
                let scenario = format!(
                    "name = \"m\"\ntime_compression = 60.0\n[trace]\ninvocations = \"{}\"\n",
                    file.display()
                );
                (vec![file], scenario)
            }),
        ));
    }

    println!(
        "{:<42} {:>10} {:>13} {:>9} {:>11} {:>13}",
        "trace", "size MB", "invocations", "seconds", "M inv/s", "peak RSS MB"
    );
    let me = std::env::current_exe().unwrap();
    for (index, (label, write)) in cases.iter().enumerate() {
        let case_dir = dir.path().join(format!("case-{index}"));
        std::fs::create_dir_all(&case_dir).unwrap();
        let (files, scenario) = write(&case_dir);
        let scenario_path = case_dir.join("scenario.toml");
        std::fs::write(&scenario_path, scenario).unwrap();
        let output = Command::new(&me)
            .arg("--replay")
            .arg(&scenario_path)
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&output.stdout);
        let fields: Vec<&str> = report.split_whitespace().collect();
        assert!(
            output.status.success() && fields.len() == 3,
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let invocations: u64 = fields[0].parse().unwrap();
        let seconds: f64 = fields[1].parse().unwrap();
        let rss_kib: u64 = fields[2].parse().unwrap();
        println!(
            "{:<42} {:>10.1} {:>13} {:>9.2} {:>11.2} {:>13.1}",
            label,
            size_mb(&files),
            invocations,
            seconds,
            invocations as f64 / seconds / 1e6,
            rss_kib as f64 / 1024.0
        );
        let _ = std::fs::remove_dir_all(&case_dir);
    }
}
