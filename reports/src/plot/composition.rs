//! `composition.svg`: per start kind, where the mean latency went — send lag, queue, init,
//! exec and the remainder — as stacked bars. Means add up to the mean latency; the part the
//! platform did not break down is drawn grey.

use std::io;

use loadgen::LatencyComponent;

use super::bars::{self, Row, Segment};
use super::style::{self, Key, Swatch};
use super::{Figure, Run};

/// A component's name in the legend.
fn component_label(component: LatencyComponent) -> &'static str {
    match component {
        LatencyComponent::SendLag => "send lag",
        LatencyComponent::Queue => "queue",
        LatencyComponent::Init => "init",
        LatencyComponent::Exec => "exec",
        LatencyComponent::Remainder => "remainder (network, platform)",
    }
}

pub(super) fn render(title: &str, runs: &[Run<'_>]) -> io::Result<Figure> {
    let single = runs.len() == 1;
    let mut rows = Vec::new();
    let mut measured = Vec::new();
    let mut any_unmeasured = false;
    let mut platform_reported = false;
    for (label, report) in runs {
        for (kind, composition) in &report.summary.composition_us {
            let mut segments = Vec::new();
            let mut sum = 0.0;
            for component in LatencyComponent::ALL {
                let Some(part) = composition.component(component) else {
                    continue;
                };
                platform_reported |= !matches!(component, LatencyComponent::SendLag);
                if !measured.contains(&component) {
                    measured.push(component);
                }
                sum += part.mean;
                segments.push(Segment {
                    value: part.mean / 1000.0,
                    colour: style::component_colour(component),
                });
            }
            let mean = composition.latency.mean;
            // What the measured parts leave of the mean, beyond rounding.
            if mean - sum > mean * 0.005 {
                any_unmeasured = true;
                segments.push(Segment {
                    value: (mean - sum) / 1000.0,
                    colour: style::UNMEASURED,
                });
            }
            rows.push(Row {
                label: if single {
                    kind.clone()
                } else {
                    format!("{label} · {kind}")
                },
                segments,
                note: format!("{} ms", style::compact(mean / 1000.0, 4)),
            });
        }
    }
    if !platform_reported {
        return style::no_data(
            bars::height(0),
            title,
            if rows.is_empty() {
                "no invocation succeeded"
            } else {
                "the platform reported no queue, init or exec times"
            },
        );
    }
    measured.sort();
    let mut legend: Vec<Key> = measured
        .into_iter()
        .map(|c| {
            Key::new(
                component_label(c),
                style::component_colour(c),
                Swatch::Block,
            )
        })
        .collect();
    if any_unmeasured {
        legend.push(Key::new(
            "not broken down",
            style::UNMEASURED,
            Swatch::Block,
        ));
    }
    bars::render(
        title,
        &legend,
        &rows,
        "mean latency, ms (the means of the parts add up to it)",
        &|v| style::compact(v, 3),
    )
}
