//! `cold-starts-by-function.svg`: the functions whose invocations most often met a new
//! instance, as the share of their successful invocations, split into cold starts and
//! snapshot restores.

use std::collections::BTreeMap;
use std::io;

use loadgen::StartKind;

use super::bars::{self, Row, Segment};
use super::style::{self, Key, Swatch};
use super::{Figure, Run, TOP_FUNCTIONS};
use crate::summary::FunctionSummary;

/// The functions with cold starts in any run, by their largest share, the highest first
/// (ties by name): at most `top`, and how many there were.
fn top_functions(runs: &[Run<'_>], top: usize) -> (Vec<String>, usize) {
    let mut share: BTreeMap<&str, f64> = BTreeMap::new();
    for (_, report) in runs {
        for function in &report.summary.functions {
            let starts = &function.figures.cold_starts;
            if starts.count > 0 {
                let best = share.entry(&function.name).or_insert(0.0);
                *best = best.max(starts.rate);
            }
        }
    }
    let all = share.len();
    let mut ranked: Vec<(&str, f64)> = share.into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    (
        ranked
            .into_iter()
            .take(top)
            .map(|(n, _)| n.to_owned())
            .collect(),
        all,
    )
}

fn row(label: String, function: &FunctionSummary) -> Row {
    let figures = &function.figures;
    let starts = &figures.cold_starts;
    let share = |count: u64| {
        if figures.ok > 0 {
            count as f64 / figures.ok as f64 * 100.0
        } else {
            0.0
        }
    };
    Row {
        label,
        segments: vec![
            Segment {
                value: share(starts.cold),
                colour: style::start_kind_colour(StartKind::Cold),
            },
            Segment {
                value: share(starts.snapshot),
                colour: style::start_kind_colour(StartKind::Snapshot),
            },
        ],
        note: format!(
            "{}% ({} of {})",
            style::compact(starts.rate * 100.0, 3),
            starts.count,
            figures.ok
        ),
    }
}

pub(super) fn render(title: &str, runs: &[Run<'_>]) -> io::Result<Figure> {
    let (top, all) = top_functions(runs, TOP_FUNCTIONS);
    if top.is_empty() {
        return style::no_data(
            bars::height(0),
            title,
            "no successful invocation was served by a new instance",
        );
    }
    let mut rows = Vec::new();
    for name in &top {
        for (label, report) in runs {
            if let Some(function) = report.summary.functions.iter().find(|f| &f.name == name) {
                let label = if runs.len() == 1 {
                    name.clone()
                } else {
                    format!("{name} · {label}")
                };
                rows.push(row(label, function));
            }
        }
    }
    let title = if all > top.len() {
        format!("{title} (top {} of {all})", top.len())
    } else {
        title.to_owned()
    };
    let legend = [
        Key::new(
            "cold",
            style::start_kind_colour(StartKind::Cold),
            Swatch::Block,
        ),
        Key::new(
            "snapshot restore",
            style::start_kind_colour(StartKind::Snapshot),
            Swatch::Block,
        ),
    ];
    bars::render(
        &title,
        &legend,
        &rows,
        "served by a new instance, % of the function's successful invocations",
        &|v| format!("{}%", style::compact(v, 3)),
    )
}
