//! `cost-by-function.svg`: the functions that cost most per one million invocations under
//! the run's price model.

use std::collections::BTreeMap;
use std::io;

use super::bars::{self, Row, Segment};
use super::style::{self, Key, Swatch};
use super::{Figure, Run, TOP_FUNCTIONS, cost};

pub(super) fn render(title: &str, runs: &[Run<'_>]) -> io::Result<Figure> {
    let single = runs.len() == 1;
    let mut highest: BTreeMap<&str, f64> = BTreeMap::new();
    for (_, report) in runs {
        for function in &report.summary.functions {
            if let Some(usd) = cost::of_function(function) {
                let best = highest.entry(&function.name).or_insert(0.0);
                *best = best.max(usd);
            }
        }
    }
    if highest.is_empty() {
        return style::no_data(
            bars::height(0),
            title,
            "the platform reported no billed durations",
        );
    }
    let all = highest.len();
    let mut ranked: Vec<(&str, f64)> = highest.into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    ranked.truncate(TOP_FUNCTIONS);
    let mut rows = Vec::new();
    for (name, _) in &ranked {
        for (index, (label, report)) in runs.iter().enumerate() {
            let Some(usd) = report
                .summary
                .functions
                .iter()
                .find(|f| f.name == *name)
                .and_then(cost::of_function)
            else {
                continue;
            };
            rows.push(Row {
                label: if single {
                    (*name).to_owned()
                } else {
                    format!("{name} · {label}")
                },
                segments: vec![Segment {
                    value: usd,
                    colour: if single {
                        style::COST
                    } else {
                        style::configuration_colour(index)
                    },
                }],
                note: format!("${}", style::compact(usd, 4)),
            });
        }
    }
    let models: Vec<&str> = runs
        .iter()
        .filter_map(|(_, report)| cost::of_run(&report.summary).map(|(model, _)| model))
        .collect();
    let mut model = models
        .first()
        .copied()
        .unwrap_or("the price model")
        .to_owned();
    if models.iter().any(|m| *m != model) {
        model = "each run's price model".to_owned();
    }
    let title = if all > ranked.len() {
        format!("{title} (top {} of {all})", ranked.len())
    } else {
        title.to_owned()
    };
    let legend: Vec<Key> = if single {
        Vec::new()
    } else {
        runs.iter()
            .enumerate()
            .map(|(i, (label, _))| Key::new(*label, style::configuration_colour(i), Swatch::Block))
            .collect()
    };
    bars::render(
        &title,
        &legend,
        &rows,
        &format!("USD per 1M invocations under {model}"),
        &|v| style::compact(v, 3),
    )
}
