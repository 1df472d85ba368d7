//! Horizontal bars, one row per item, each bar a stack of coloured segments, its figure
//! written at its end: the shape of the composition and the per-function plots.

use std::io;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, Key};
use super::{Figure, shorten};

/// One part of a bar.
pub(super) struct Segment {
    pub value: f64,
    pub colour: RGBColor,
}

/// One bar, top to bottom in the order given.
pub(super) struct Row {
    pub label: String,
    pub segments: Vec<Segment>,
    /// Written after the bar's end.
    pub note: String,
}

/// Characters of a row label at most.
const LABEL_CHARS: usize = 36;
const ROW_HEIGHT: u32 = 30;

/// The height of a chart of `rows` bars, px.
pub(super) fn height(rows: usize) -> u32 {
    (130 + rows as u32 * ROW_HEIGHT).max(220)
}

/// Draws `rows` as bars along an axis described by `x_desc`, its values formatted by
/// `x_format`.
pub(super) fn render(
    title: &str,
    legend: &[Key],
    rows: &[Row],
    x_desc: &str,
    x_format: &dyn Fn(f64) -> String,
) -> io::Result<Figure> {
    let labels: Vec<String> = rows
        .iter()
        .map(|r| shorten(&r.label, LABEL_CHARS))
        .collect();
    let label_width = labels
        .iter()
        .map(|l| style::text_width(l, style::TICK_SIZE))
        .max()
        .unwrap_or(0)
        .clamp(48, 320)
        + 16;
    let total = |row: &Row| row.segments.iter().map(|s| s.value).sum::<f64>();
    let widest = rows.iter().map(total).fold(0.0, f64::max);
    let widest = if widest > 0.0 { widest } else { 1.0 };
    let n = rows.len();
    // Room at the right of the widest bar for its note.
    let note_room = rows
        .iter()
        .map(|r| style::text_width(&r.note, style::TICK_SIZE))
        .max()
        .unwrap_or(0)
        + 12;
    style::svg(height(n), title, legend, |area| {
        let plot_px = (style::WIDTH - label_width - 40)
            .saturating_sub(note_room)
            .max(100);
        let x_end = widest * f64::from(plot_px + note_room) / f64::from(plot_px);
        let rows_at: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let mut chart = style::chart_builder(area, label_width).build_cartesian_2d(
            0f64..x_end,
            style::FixedTicks::new(-0.5..n as f64 - 0.5, rows_at),
        )?;
        // Row 0 at the top.
        let label_of = |y: &f64| {
            let from_top = n as i64 - 1 - y.round() as i64;
            usize::try_from(from_top)
                .ok()
                .and_then(|i| labels.get(i).cloned())
                .unwrap_or_default()
        };
        let format_x = |v: &f64| x_format(*v);
        style::mesh(&mut chart, x_desc, "")
            .disable_y_mesh()
            .y_label_formatter(&label_of)
            .x_label_formatter(&format_x)
            .draw()?;
        for (i, row) in rows.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let mut left = 0.0;
            for segment in &row.segments {
                if segment.value <= 0.0 {
                    continue;
                }
                let right = left + segment.value;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(left, y - 0.32), (right, y + 0.32)],
                    segment.colour.filled(),
                )))?;
                left = right;
            }
            chart.draw_series(std::iter::once(
                EmptyElement::at((left, y))
                    + Text::new(
                        row.note.clone(),
                        (6, 0),
                        style::text_style(style::TICK_SIZE, style::INK)
                            .pos(Pos::new(HPos::Left, VPos::Center)),
                    ),
            ))?;
        }
        Ok(())
    })
}
