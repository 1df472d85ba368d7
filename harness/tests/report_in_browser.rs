//! `report.html` of a short run, opened as a person would: in headless Chromium (Debian's
//! `chromium` package), offline. The page must log nothing to the console — its Content
//! Security Policy turns any request for a script, font, image or style from elsewhere into a
//! console message, so a failed or attempted request fails the test too — and every plot
//! must have drawn something. A screenshot is left for a look.
//!
//! Needs `chromium` on the PATH (or `FAASBENCH_CHROMIUM`), so it is ignored by default;
//! `.ci/run` installs Chromium and runs it with `cargo test -p harness --test
//! report_in_browser -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> PathBuf {
    std::env::var_os("FAASBENCH_CHROMIUM").map_or_else(|| PathBuf::from("chromium"), PathBuf::from)
}

/// Runs headless Chromium on `page` with `args`; its stdout and stderr.
fn open(page: &Path, args: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|err| panic!("cannot start {}: {err}", chromium().display()));
    assert!(output.status.success(), "chromium failed: {output:?}");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The console lines Chromium logged (`…:CONSOLE…] "message", source: …`).
fn console(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| line.contains(":CONSOLE"))
        .collect()
}

/// The inline SVG of each `<figure id="…">` of the page, by id.
fn figures(dom: &str) -> Vec<(String, String)> {
    dom.split("<figure id=\"")
        .skip(1)
        .map(|rest| {
            let (id, rest) = rest.split_once('"').unwrap();
            let end = rest.find("</figure>").unwrap_or(rest.len());
            (id.to_owned(), rest[..end].to_owned())
        })
        .collect()
}

#[test]
#[ignore = "needs Debian's chromium; .ci/run installs it and runs this test"]
fn report_html_renders_offline_without_console_errors_and_every_plot_drawn() {
    let results = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_faasbench"))
        .args([
            "run",
            "../scenarios/catalog/quickstart.toml",
            "--duration",
            "4s",
        ])
        .arg("--results-dir")
        .arg(results.path())
        .args(["--run-id", "browser"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    let page = results.path().join("browser/report.html");

    // The markup as the browser parsed it, and its console.
    let (dom, stderr) = open(&page, &["--dump-dom"]);
    let messages = console(&stderr);
    assert!(messages.is_empty(), "console messages: {messages:#?}");
    let plots = figures(&dom);
    let names: Vec<&str> = plots.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        names,
        [
            "latency-over-time",
            "percentile-spectrum",
            "throughput",
            "composition",
            "cold-starts-by-function",
            "cost-by-function"
        ],
        "plots on the page"
    );
    for (id, svg) in &plots {
        assert!(svg.contains("<svg"), "{id}: no inline SVG");
        // The quickstart has latencies, cold starts and billed durations: nothing is empty.
        assert!(!svg.contains(">no data<"), "{id} says there is no data");
        let marks = svg.matches("<polyline").count()
            + svg.matches("<path").count()
            + svg.matches("<rect").count();
        // The frame and legend alone take a few; data adds more.
        assert!(marks > 8, "{id}: only {marks} marks drawn");
    }
    assert!(dom.contains("quickstart"), "the run header");

    // The screenshot, for a person to look at.
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report.png");
    let (_, stderr) = open(
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,5200",
        ],
    );
    assert!(console(&stderr).is_empty(), "{stderr}");
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    // A blank page compresses to a few kB; this one has tables and six plots.
    assert!(png.len() > 100_000, "{} bytes: an empty page?", png.len());
    eprintln!("screenshot: {}", shot.display());
}
