//! Every scenario of the catalog runs with `faasbench run` and accounts for every invocation.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn check_summary(path: &Path) {
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let counts = &summary["invocations"];
    let scheduled = counts["scheduled"].as_u64().unwrap();
    assert!(scheduled > 0, "{}: nothing scheduled", path.display());
    assert_eq!(
        counts["ok"].as_u64().unwrap()
            + counts["errors"].as_u64().unwrap()
            + counts["not_sent"].as_u64().unwrap(),
        scheduled,
        "{}",
        path.display()
    );
    assert_eq!(counts["errors"], 0, "{}: {counts}", path.display());
}

#[test]
fn every_catalog_scenario_runs() {
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/catalog");
    let mut names: Vec<_> = std::fs::read_dir(&catalog)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    let results = tempfile::tempdir().unwrap();
    for scenario in names {
        let name = scenario.file_stem().unwrap().to_string_lossy().into_owned();
        let output = Command::new(env!("CARGO_BIN_EXE_faasbench"))
            .args([
                "run",
                &scenario.display().to_string(),
                "--duration",
                "2s",
                "--run-id",
                &name,
                "--results-dir",
            ])
            .arg(results.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let dir = results.path().join(&name);
        let summaries: Vec<_> = if dir.join("summary.json").exists() {
            vec![dir.join("summary.json")]
        } else {
            // Several configurations: one directory each, and the page comparing them.
            assert!(
                dir.join("report.html").is_file(),
                "{name}: no comparison page"
            );
            std::fs::read_dir(&dir)
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .filter(|path| path.is_dir())
                .map(|path| path.join("summary.json"))
                .collect()
        };
        assert!(!summaries.is_empty(), "{name}: no summary.json");
        for summary in summaries {
            check_summary(&summary);
            // Every report of the run, beside its summary.
            let run = summary.parent().unwrap();
            for file in [
                "report.html",
                "report.md",
                "functions.csv",
                "latency.hgrm",
                "run.json",
            ] {
                assert!(run.join(file).is_file(), "{}: no {file}", run.display());
            }
        }
    }
}
