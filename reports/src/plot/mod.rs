//! Plots of a run as SVG: each one file under `plots/` and inlined into `report.html`.
//!
//! Every plot draws from a slice of runs, `(label, report)`: one element for a single run,
//! several for the configurations of a comparison, drawn into one chart. A plot with nothing
//! to draw (no cold starts, no cost reported) is still a valid SVG that says "no data" and
//! why ([`Figure::no_data`]), so the HTML report can say it too.
//!
//! The output is the same bytes for the same input on every machine: text is measured with
//! an embedded font ([`style`]), coordinates are whole pixels and numbers are formatted by
//! Rust, never by the system.

mod bars;
mod cold_starts_by_function;
mod composition;
mod cost_by_function;
mod latency_over_time;
mod percentile_spectrum;
mod seconds;
pub(crate) mod style;
mod throughput;

use std::io;

use crate::report::Report;
use crate::summary::{FunctionSummary, Summary};

pub use seconds::MAX_POINTS;

/// One run to draw and the label it is drawn under (a configuration's name; any text for a
/// single run, where it is not shown).
pub type Run<'a> = (&'a str, &'a Report);

/// A rendered plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The SVG document.
    pub svg: String,
    /// Why the plot is empty, when it is.
    pub no_data: Option<String>,
}

/// The plots of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Plot {
    /// p50, p99 and max per second, cold starts marked.
    LatencyOverTime,
    /// Latency by percentile, per start kind.
    PercentileSpectrum,
    /// Successful, failed and dropped invocations per second.
    Throughput,
    /// Where the latency went, per start kind.
    Composition,
    /// The functions with the largest share of cold starts.
    ColdStartsByFunction,
    /// The functions that cost most per invocation.
    CostByFunction,
}

impl Plot {
    /// Every plot, in report order.
    pub const ALL: [Plot; 6] = [
        Self::LatencyOverTime,
        Self::PercentileSpectrum,
        Self::Throughput,
        Self::Composition,
        Self::ColdStartsByFunction,
        Self::CostByFunction,
    ];

    /// The file's stem, e.g. `latency-over-time`.
    pub fn name(self) -> &'static str {
        match self {
            Self::LatencyOverTime => "latency-over-time",
            Self::PercentileSpectrum => "percentile-spectrum",
            Self::Throughput => "throughput",
            Self::Composition => "composition",
            Self::ColdStartsByFunction => "cold-starts-by-function",
            Self::CostByFunction => "cost-by-function",
        }
    }

    /// Path of the plot within the results directory.
    pub fn file_name(self) -> String {
        format!("plots/{}.svg", self.name())
    }

    /// The plot's title.
    pub fn title(self) -> &'static str {
        match self {
            Self::LatencyOverTime => "Latency over time",
            Self::PercentileSpectrum => "Latency by percentile",
            Self::Throughput => "Throughput",
            Self::Composition => "Where the time went",
            Self::ColdStartsByFunction => "Cold starts by function",
            Self::CostByFunction => "Cost by function",
        }
    }

    /// Draws the plot of `runs`.
    pub fn render(self, runs: &[Run<'_>]) -> io::Result<Figure> {
        let title = self.title();
        match self {
            Self::LatencyOverTime => latency_over_time::render(title, runs),
            Self::PercentileSpectrum => percentile_spectrum::render(title, runs),
            Self::Throughput => throughput::render(title, runs),
            Self::Composition => composition::render(title, runs),
            Self::ColdStartsByFunction => cold_starts_by_function::render(title, runs),
            Self::CostByFunction => cost_by_function::render(title, runs),
        }
    }
}

/// Functions shown in the per-function bar charts.
pub const TOP_FUNCTIONS: usize = 20;

/// What a run and its functions cost: the one place the report reads cost from.
pub(crate) mod cost {
    use super::{FunctionSummary, Summary};

    /// The run's cost: the price model's id and USD per one million invocations.
    pub(crate) fn of_run(summary: &Summary) -> Option<(&str, f64)> {
        summary
            .chosen_cost()
            .map(|cost| (cost.entry.as_str(), cost.usd_per_million))
    }

    /// A function's cost, USD per one million invocations.
    pub(crate) fn of_function(function: &FunctionSummary) -> Option<f64> {
        function.usd_per_million
    }
}

/// Shortens `name` to at most `chars` characters, marking the cut.
pub(crate) fn shorten(name: &str, chars: usize) -> String {
    if name.chars().count() <= chars {
        name.to_owned()
    } else {
        let mut short: String = name.chars().take(chars.saturating_sub(1)).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests;
