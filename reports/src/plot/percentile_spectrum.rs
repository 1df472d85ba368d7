//! `percentile-spectrum.svg`: latency by percentile per start kind, the percentile on a log
//! `1/(1−p)` axis labelled 0 %, 90 %, 99 %, 99.9 %, … as HdrHistogram plots are, so the
//! tail gets as much room as the median.

use std::io;

use hdrhistogram::Histogram;
use loadgen::StartKind;
use plotters::prelude::*;

use super::style::{self, Key, Swatch};
use super::{Figure, Run};

/// Steps per halving of the distance to 100 %, as in HdrHistogram's percentile output.
const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// The points of `histogram`: `(log10(1/(1−p)), ms)`. The maximum, at p = 1, is drawn at
/// `1 − 1/count`, where the last invocation of `count` sits.
pub(super) fn spectrum(histogram: &Histogram<u64>) -> Vec<(f64, f64)> {
    let count = histogram.len();
    if count == 0 {
        return Vec::new();
    }
    let last = (count as f64).log10();
    histogram
        .iter_quantiles(TICKS_PER_HALF_DISTANCE)
        .map(|step| {
            let remaining = 1.0 - step.quantile_iterated_to();
            let x = if remaining * count as f64 <= 1.0 {
                last
            } else {
                -remaining.log10()
            };
            (x, step.value_iterated_to() as f64 / 1000.0)
        })
        .collect()
}

/// The label of the `nines`-th decade of the percentile axis: 0 %, 90 %, 99 %, 99.9 %, …
pub(super) fn percentile_label(nines: u32) -> String {
    match nines {
        0 => "0%".to_owned(),
        1 => "90%".to_owned(),
        n => format!("99.{}%", "9".repeat(n as usize - 2)).replace(".%", "%"),
    }
}

pub(super) fn render(title: &str, runs: &[Run<'_>]) -> io::Result<Figure> {
    let single = runs.len() == 1;
    let mut legend = Vec::new();
    let mut lines: Vec<(RGBColor, Vec<(f64, f64)>)> = Vec::new();
    let (mut min_us, mut max_us, mut most) = (u64::MAX, 0, 0);
    let mut add = |histogram: &Histogram<u64>, label: String, colour: RGBColor| {
        if histogram.is_empty() {
            return;
        }
        min_us = min_us.min(histogram.min());
        max_us = max_us.max(histogram.max());
        most = most.max(histogram.len());
        legend.push(Key::new(label, colour, Swatch::Line));
        lines.push((colour, spectrum(histogram)));
    };
    for (index, (label, report)) in runs.iter().enumerate() {
        let recorder = &report.run.recorder;
        if single {
            for kind in StartKind::ALL {
                add(
                    recorder.latency(kind),
                    kind.as_str().to_owned(),
                    style::start_kind_colour(kind),
                );
            }
        } else {
            add(
                &recorder.all_latency(),
                (*label).to_owned(),
                style::configuration_colour(index),
            );
        }
    }
    if lines.is_empty() {
        return style::no_data(
            style::HEIGHT,
            title,
            "no invocation succeeded, so there is no latency to draw",
        );
    }
    // Decades of the axis: enough for the largest count's last invocation.
    let mut nines = 1u32;
    while 10u64.saturating_pow(nines) < most {
        nines += 1;
    }
    let (low, high) = style::decades_ms(min_us, max_us);
    style::svg(style::HEIGHT, title, &legend, |area| {
        let ticks: Vec<f64> = (0..=nines).map(f64::from).collect();
        let mut chart = style::chart_builder(area, 64).build_cartesian_2d(
            style::FixedTicks::new(0.0..f64::from(nines), ticks),
            (low..high).log_scale(),
        )?;
        let format_percentile = |v: &f64| percentile_label(v.round() as u32);
        let format_ms = |v: &f64| style::compact(*v, 3);
        style::mesh(
            &mut chart,
            "percentile (log scale of 1/(1−p))",
            "latency, ms (log scale)",
        )
        .x_label_formatter(&format_percentile)
        .y_label_formatter(&format_ms)
        .draw()?;
        for (colour, points) in &lines {
            chart.draw_series(LineSeries::new(
                points.iter().copied(),
                colour.stroke_width(2),
            ))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_reads_as_nines() {
        let labels: Vec<String> = (0..=5).map(percentile_label).collect();
        assert_eq!(labels, ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"]);
    }

    #[test]
    fn the_spectrum_climbs_to_the_maximum_at_the_last_invocation() {
        let mut histogram = Histogram::<u64>::new(3).unwrap();
        for us in 1..=1_000u64 {
            histogram.record(us * 100).unwrap();
        }
        let points = spectrum(&histogram);
        assert!(
            points
                .windows(2)
                .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1)
        );
        let (x, ms) = *points.last().unwrap();
        assert_eq!(x, 3.0);
        assert_eq!(ms, histogram.max() as f64 / 1000.0);
    }
}
