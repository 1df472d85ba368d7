//! `latency-over-time.svg`: p50, p99 and max latency per second, on a log axis, with the
//! seconds in which instances started cold marked on the time axis.

use std::io;

use loadgen::StartKind;
use plotters::prelude::*;

use super::seconds::{self, Bucket, MAX_POINTS, centre};
use super::style::{self, Key, Swatch};
use super::{Figure, Run};

struct Line {
    colour: RGBColor,
    stroke: u32,
    points: Vec<(f64, f64)>,
}

type Pick = fn(&Bucket) -> Option<u64>;

pub(super) fn render(title: &str, runs: &[Run<'_>]) -> io::Result<Figure> {
    let single = runs.len() == 1;
    let mut legend = Vec::new();
    let mut lines = Vec::new();
    let mut markers: Vec<(RGBColor, Vec<f64>)> = Vec::new();
    let mut seconds_shown = 1;
    let mut widest = 1;
    let (mut min_us, mut max_us) = (u64::MAX, 0);
    for (index, (label, report)) in runs.iter().enumerate() {
        let (buckets, width) = seconds::buckets(&report.intervals, MAX_POINTS);
        widest = widest.max(width);
        seconds_shown = seconds_shown.max(buckets.len() as u64 * width);
        let series: Vec<(String, RGBColor, u32, Pick)> = if single {
            // Drawn in this order: the max first, under the percentiles.
            vec![
                ("max".into(), style::MAX, 1, |b| b.max_us),
                ("p99".into(), style::P99, 2, |b| b.p99_us),
                ("p50".into(), style::P50, 2, |b| b.p50_us),
            ]
        } else {
            let colour = style::configuration_colour(index);
            vec![(format!("{label} p99"), colour, 2, |b| b.p99_us)]
        };
        for (name, colour, stroke, pick) in series {
            let points: Vec<(f64, f64)> = buckets
                .iter()
                .filter_map(|b| {
                    let us = pick(b)?;
                    min_us = min_us.min(us);
                    max_us = max_us.max(us);
                    Some((centre(b, width), us as f64 / 1000.0))
                })
                .collect();
            legend.push(Key::new(name, colour, Swatch::Line));
            lines.push(Line {
                colour,
                stroke,
                points,
            });
        }
        let colour = if single {
            style::start_kind_colour(StartKind::Cold)
        } else {
            style::configuration_colour(index)
        };
        let cold: Vec<f64> = buckets
            .iter()
            .filter(|b| b.cold_starts > 0)
            .map(|b| centre(b, width))
            .collect();
        if !cold.is_empty() {
            markers.push((colour, cold));
        }
    }
    if single {
        // The legend reads p50, p99, max.
        legend.reverse();
    }
    if max_us == 0 {
        return style::no_data(
            style::HEIGHT,
            title,
            "no invocation succeeded, so there is no latency to draw",
        );
    }
    if !markers.is_empty() {
        let colour = if single {
            style::start_kind_colour(StartKind::Cold)
        } else {
            style::MUTED
        };
        legend.push(Key::new(
            "seconds with cold starts",
            colour,
            Swatch::Triangle,
        ));
    }
    let x_desc = if widest > 1 {
        format!("time since start, s (one point per {widest} s: their worst p99 and max)")
    } else {
        "time since start, s".to_owned()
    };
    let (low, high) = style::decades_ms(min_us, max_us);
    style::svg(style::HEIGHT, title, &legend, |area| {
        let mut chart = style::chart_builder(area, 64)
            .build_cartesian_2d(0f64..seconds_shown as f64, (low..high).log_scale())?;
        let format_ms = |v: &f64| style::compact(*v, 3);
        let format_s = |v: &f64| style::compact(*v, 4);
        style::mesh(&mut chart, &x_desc, "latency, ms (log scale)")
            .y_label_formatter(&format_ms)
            .x_label_formatter(&format_s)
            .draw()?;
        for line in &lines {
            chart.draw_series(LineSeries::new(
                line.points.iter().copied(),
                line.colour.stroke_width(line.stroke),
            ))?;
        }
        // Just above the time axis: the log axis's lowest decade, a little raised.
        let marker_y = low * 1.3;
        for (colour, seconds) in &markers {
            chart.draw_series(
                seconds
                    .iter()
                    .map(|s| TriangleMarker::new((*s, marker_y), 5, colour.filled())),
            )?;
        }
        Ok(())
    })
}
