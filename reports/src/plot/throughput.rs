//! `throughput.svg`: successful, failed and dropped invocations per second.

use std::io;

use plotters::prelude::*;

use super::seconds::{self, Bucket, MAX_POINTS, centre};
use super::style::{self, Key, Swatch};
use super::{Figure, Run};

struct Line {
    colour: RGBColor,
    dashed: bool,
    points: Vec<(f64, f64)>,
}

type Pick = fn(&Bucket) -> u64;

pub(super) fn render(title: &str, runs: &[Run<'_>]) -> io::Result<Figure> {
    let single = runs.len() == 1;
    let mut legend = Vec::new();
    let mut lines = Vec::new();
    let mut seconds_shown = 1;
    let mut widest = 1;
    let mut peak = 0f64;
    for (index, (label, report)) in runs.iter().enumerate() {
        let (buckets, width) = seconds::buckets(&report.intervals, MAX_POINTS);
        widest = widest.max(width);
        seconds_shown = seconds_shown.max(buckets.len() as u64 * width);
        // (legend, colour, dashed, left out when always zero, figure)
        let series: Vec<(String, RGBColor, bool, bool, Pick)> = if single {
            vec![
                ("ok".into(), style::OK, false, false, |b| b.ok),
                ("errors".into(), style::ERRORS, false, true, |b| b.errors),
                ("dropped".into(), style::DROPPED, false, true, |b| b.dropped),
            ]
        } else {
            let colour = style::configuration_colour(index);
            vec![
                (format!("{label} ok"), colour, false, false, |b| b.ok),
                (
                    format!("{label} errors + dropped"),
                    colour,
                    true,
                    true,
                    |b| b.errors + b.dropped,
                ),
            ]
        };
        for (name, colour, dashed, optional, pick) in series {
            // Failures that never happened are left out of the plot and its legend.
            if optional && buckets.iter().all(|b| pick(b) == 0) {
                continue;
            }
            let points: Vec<(f64, f64)> = buckets
                .iter()
                .map(|b| (centre(b, width), pick(b) as f64 / width as f64))
                .collect();
            peak = points.iter().map(|p| p.1).fold(peak, f64::max);
            legend.push(Key::new(
                name,
                colour,
                if dashed { Swatch::Dashed } else { Swatch::Line },
            ));
            lines.push(Line {
                colour,
                dashed,
                points,
            });
        }
    }
    if peak == 0.0 {
        return style::no_data(
            style::HEIGHT,
            title,
            "no invocation finished or was dropped",
        );
    }
    let x_desc = if widest > 1 {
        format!("time since start, s (one point per {widest} s, averaged)")
    } else {
        "time since start, s".to_owned()
    };
    style::svg(style::HEIGHT, title, &legend, |area| {
        let mut chart = style::chart_builder(area, 64)
            .build_cartesian_2d(0f64..seconds_shown as f64, 0f64..peak * 1.1)?;
        let format = |v: &f64| style::compact(*v, 4);
        style::mesh(&mut chart, &x_desc, "invocations per second")
            .x_label_formatter(&format)
            .y_label_formatter(&format)
            .draw()?;
        for line in &lines {
            let stroke = line.colour.stroke_width(2);
            if line.dashed {
                chart.draw_series(DashedLineSeries::new(
                    line.points.iter().copied(),
                    6,
                    4,
                    stroke,
                ))?;
            } else {
                chart.draw_series(LineSeries::new(line.points.iter().copied(), stroke))?;
            }
        }
        Ok(())
    })
}
