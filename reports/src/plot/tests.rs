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
        &crate::PricingModel::aws_lambda_x86(),
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
