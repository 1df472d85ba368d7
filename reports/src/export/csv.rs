//! `functions.csv` and `triggers.csv`: the figures of every function and every trigger, one
//! row each, for spreadsheets and scripts. Other reports show the busiest functions only and
//! point here.
//!
//! Latencies are of successful invocations, ms with three decimals, from histograms kept to
//! two significant digits; shares and prices have six decimals. An empty cell is a figure
//! that was not measured.

use std::io::{self, Write};

use loadgen::StartKind;

use super::Exporter;
use crate::report::Report;
use crate::summary::{ALL, FunctionSummary, GroupSummary};

/// Columns of `functions.csv`.
pub const FUNCTION_COLUMNS: [&str; 19] = [
    "function",
    "trace_id",
    "trigger",
    "ok",
    "errors",
    "dropped",
    "cold",
    "snapshot",
    "warm",
    "unknown",
    "cold_starts",
    "cold_start_rate",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "p99_9_ms",
    "max_ms",
    "usd_per_million",
    "idle_memory_mb_seconds",
];

/// Columns of `triggers.csv`.
pub const TRIGGER_COLUMNS: [&str; 15] = [
    "trigger",
    "ok",
    "errors",
    "dropped",
    "cold",
    "snapshot",
    "warm",
    "unknown",
    "cold_starts",
    "cold_start_rate",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "p99_9_ms",
    "max_ms",
];

/// `functions.csv`: one row per function of the schedule, in schedule order.
pub struct FunctionsCsv;

/// `triggers.csv`: one row per trigger that occurred.
pub struct TriggersCsv;

impl Exporter for FunctionsCsv {
    fn file_name(&self) -> String {
        "functions.csv".into()
    }

    fn export(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let summary = &report.summary;
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(FUNCTION_COLUMNS)?;
        for function in &summary.functions {
            let mut row = vec![
                function.name.clone(),
                function.trace_id.clone().unwrap_or_default(),
                function.trigger.clone(),
            ];
            row.extend(group_cells(&function.figures));
            row.push(cost(function));
            row.push(
                function
                    .idle_memory_mb_seconds
                    .map_or_else(String::new, |mb_s| format!("{mb_s:.3}")),
            );
            writer.write_record(&row)?;
        }
        writer.flush()
    }
}

impl Exporter for TriggersCsv {
    fn file_name(&self) -> String {
        "triggers.csv".into()
    }

    fn export(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let summary = &report.summary;
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(TRIGGER_COLUMNS)?;
        for (trigger, group) in &summary.triggers {
            let mut row = vec![trigger.clone()];
            row.extend(group_cells(group));
            writer.write_record(&row)?;
        }
        writer.flush()
    }
}

/// The figures a function row and a trigger row share: from `ok` to `max_ms`.
fn group_cells(group: &GroupSummary) -> Vec<String> {
    let starts = |kind| group.starts.get(&kind).copied().unwrap_or(0).to_string();
    let mut cells = vec![
        group.ok.to_string(),
        group.errors.to_string(),
        group.dropped.to_string(),
    ];
    cells.extend(StartKind::ALL.map(starts));
    cells.push(group.cold_starts.count.to_string());
    cells.push(format!("{:.6}", group.cold_starts.rate));
    match group.latency_us.get(ALL) {
        Some(p) => cells.extend([p.p50, p.p90, p.p99, p.p99_9, p.max].map(ms)),
        None => cells.extend(std::iter::repeat_n(String::new(), 5)),
    }
    cells
}

/// The cost cell of a function: USD per one million invocations under the chosen price.
fn cost(function: &FunctionSummary) -> String {
    function
        .usd_per_million
        .map_or_else(String::new, |usd| format!("{usd:.6}"))
}

fn ms(us: u64) -> String {
    format!("{:.3}", us as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{assert_golden, recorded_run};

    fn render(exporter: &dyn Exporter, report: &Report) -> Vec<u8> {
        let mut out = Vec::new();
        exporter.export(report, &mut out).unwrap();
        out
    }

    #[test]
    fn golden_files() {
        let report = recorded_run();
        assert_golden("functions.csv", &render(&FunctionsCsv, &report));
        assert_golden("triggers.csv", &render(&TriggersCsv, &report));
    }

    #[test]
    fn a_name_with_a_comma_and_a_quote_reads_back_the_same() {
        let mut report = recorded_run();
        let name = r#"resize, "large" images"#;
        report.summary.functions[1].name = name.into();
        let bytes = render(&FunctionsCsv, &report);
        let mut reader = csv::Reader::from_reader(&bytes[..]);
        assert_eq!(reader.headers().unwrap(), &FUNCTION_COLUMNS[..]);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(&rows[1][0], name);
        assert!(rows.iter().all(|r| r.len() == FUNCTION_COLUMNS.len()));
    }

    #[test]
    fn every_function_gets_a_row() {
        let mut report = recorded_run();
        let template = report.summary.functions[0].clone();
        report.summary.functions = (0..250)
            .map(|i| FunctionSummary {
                name: format!("f{i}"),
                ..template.clone()
            })
            .collect();
        let bytes = render(&FunctionsCsv, &report);
        let reader = csv::Reader::from_reader(&bytes[..]);
        assert_eq!(reader.into_records().count(), 250);
    }

    #[test]
    fn unmeasured_figures_are_empty_cells() {
        let mut report = recorded_run();
        let function = &mut report.summary.functions[0];
        function.figures.latency_us.clear();
        function.usd_per_million = None;
        function.idle_memory_mb_seconds = None;
        let bytes = render(&FunctionsCsv, &report);
        let mut reader = csv::Reader::from_reader(&bytes[..]);
        let row = reader.records().next().unwrap().unwrap();
        let column = |name| FUNCTION_COLUMNS.iter().position(|c| *c == name).unwrap();
        for name in [
            "p50_ms",
            "max_ms",
            "usd_per_million",
            "idle_memory_mb_seconds",
        ] {
            assert_eq!(&row[column(name)], "", "{name}");
        }
        // Every function carries its own trigger.
        assert_eq!(&row[column("trigger")], "http");
    }
}
