use super::*;
use crate::fixture::{assert_golden, recorded_run};

fn render(plot: Plot, report: &Report) -> Figure {
    plot.render(&[("", report)])
        .unwrap_or_else(|err| panic!("{}: {err}", plot.name()))
}

#[test]
fn every_plot_of_the_recorded_run_matches_its_golden_file() {
    let report = recorded_run();
    for plot in Plot::ALL {
        let figure = render(plot, &report);
        assert_eq!(figure.no_data, None, "{}", plot.name());
        assert_golden(&plot.file_name(), figure.svg.as_bytes());
    }
}

#[test]
fn two_renders_are_the_same_bytes() {
    for plot in Plot::ALL {
        let first = render(plot, &recorded_run());
        let second = render(plot, &recorded_run());
        assert!(first == second, "{} differs between renders", plot.name());
    }
}

#[test]
fn text_names_a_generic_family_the_browser_sets() {
    let figure = render(Plot::LatencyOverTime, &recorded_run());
    assert!(figure.svg.contains(r#"font-family="sans-serif""#));
    assert!(!figure.svg.contains("DejaVu"));
}

/// The recorded run with nothing in it: no invocation, no interval, no platform.
fn empty_run() -> Report {
    let mut report = recorded_run();
    report.run.recorder = loadgen::Recorder::new(report.run.functions.len());
    report.intervals.clear();
    report.platform = None;
    report.summary = Summary::from_run(
        &report.run,
        &report.summary.run_id,
        &crate::Pricing::default(),
        None,
    );
    report
}

#[test]
fn an_empty_run_still_draws_every_plot_saying_why_it_is_empty() {
    let report = empty_run();
    for plot in Plot::ALL {
        let figure = render(plot, &report);
        let why = figure
            .no_data
            .unwrap_or_else(|| panic!("{} drew something", plot.name()));
        assert!(figure.svg.starts_with("<svg"), "{}", plot.name());
        assert!(figure.svg.trim_end().ends_with("</svg>"), "{}", plot.name());
        assert!(figure.svg.contains("no data"), "{}", plot.name());
        assert!(figure.svg.contains(&why), "{}", plot.name());
    }
}

#[test]
fn a_run_without_cold_starts_or_cost_says_so() {
    let mut report = recorded_run();
    for function in &mut report.summary.functions {
        function.figures.cold_starts.count = 0;
        function.usd_per_million = None;
    }
    for plot in [Plot::ColdStartsByFunction, Plot::CostByFunction] {
        assert!(render(plot, &report).no_data.is_some(), "{}", plot.name());
    }
    assert_eq!(render(Plot::LatencyOverTime, &report).no_data, None);
}

#[test]
fn configurations_are_drawn_into_one_plot() {
    let a = recorded_run();
    let mut b = recorded_run();
    b.configuration.name = Some("snapshots-off".into());
    for plot in Plot::ALL {
        let figure = plot
            .render(&[("baseline", &a), ("snapshots-off", &b)])
            .unwrap();
        assert_eq!(figure.no_data, None, "{}", plot.name());
        assert!(
            figure.svg.contains("snapshots-off"),
            "{} does not name the second configuration",
            plot.name()
        );
    }
}

/// The points of every series line in `svg` (legend swatches have two points).
fn polylines(svg: &str) -> Vec<Vec<(i32, i32)>> {
    svg.split("<polyline ")
        .skip(1)
        .filter_map(|element| {
            let points = element.split("points=\"").nth(1)?.split('"').next()?;
            let points: Vec<(i32, i32)> = points
                .split_whitespace()
                .filter_map(|pair| {
                    let (x, y) = pair.split_once(',')?;
                    Some((x.parse().ok()?, y.parse().ok()?))
                })
                .collect();
            (points.len() > 2).then_some(points)
        })
        .collect()
}

#[test]
fn a_long_run_is_downsampled_and_keeps_its_spike() {
    // A spike of 900 ms in `spike` seconds; the bucket of 6 s holding second 7,777 is
    // 7,776..=7,781.
    let three_hours = |spike: std::ops::RangeInclusive<u64>| {
        let mut report = recorded_run();
        report.intervals = (0..10_800)
            .map(|second| crate::IntervalRow {
                second,
                ok: 50,
                errors: 0,
                dropped: 0,
                cold_starts: 0,
                p50_us: Some(2_000),
                p99_us: Some(if spike.contains(&second) {
                    900_000
                } else {
                    4_000
                }),
                max_us: Some(5_000),
            })
            .collect();
        render(Plot::LatencyOverTime, &report).svg
    };
    let svg = three_hours(7_777..=7_777);
    let lines = polylines(&svg);
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|line| line.len() <= MAX_POINTS));
    // Drawn max, p99, p50: the p99 line rises as high for one second of 900 ms as for a
    // whole bucket of them.
    let top = |svg: &str| polylines(svg)[1].iter().map(|&(_, y)| y).min().unwrap();
    assert_eq!(top(&svg), top(&three_hours(7_776..=7_781)));
    let usual = lines[1][0].1;
    assert!(top(&svg) + 150 < usual, "{} {usual}", top(&svg));
}
