//! The look shared by every plot: the palette, the type sizes, the header with title and
//! legend, the axes, the numbers on them, and the SVG canvas itself.
//!
//! Text is written into the SVG as `<text font-family="sans-serif">`, so a browser sets it
//! in its own sans-serif. Plotters still measures text to lay out the legend and the label
//! areas; it measures with DejaVu Sans, embedded in the binary and registered under the name
//! `sans-serif`, never with a system font: the layout, and so every byte of the file, is the
//! same on every machine.

use std::io;
use std::sync::Once;

use loadgen::{LatencyComponent, StartKind};
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Figure;

/// DejaVu Sans 2.37 (Bitstream Vera license, `reports/assets/DejaVuSans-LICENSE.txt`).
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// The family every text of a plot is set in.
pub(super) const FAMILY: &str = "sans-serif";

/// Registers the embedded font for text measurement; idempotent.
fn register_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // The font is a fixed, valid file: registration cannot fail but for a corrupt build.
        if plotters::style::register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_err() {
            panic!("the embedded DejaVu Sans is not a valid font");
        }
    });
}

/// Width of a plot, px. Plots scale down in the HTML report.
pub(super) const WIDTH: u32 = 960;
/// Height of a plot with a time or percentile axis, px.
pub(super) const HEIGHT: u32 = 420;
/// Height of the title and legend above the chart, px.
const HEADER: u32 = 62;

// Plotters sets `font-size` to its size / 1.24: these give 16, 12 and 11 px.
const TITLE_SIZE: f64 = 19.84;
pub(super) const LABEL_SIZE: f64 = 14.88;
pub(super) const TICK_SIZE: f64 = 13.64;

pub(super) const INK: RGBColor = RGBColor(0x1a, 0x20, 0x2c);
pub(super) const MUTED: RGBColor = RGBColor(0x4a, 0x55, 0x68);
const AXIS: RGBColor = RGBColor(0xa0, 0xae, 0xc0);
const GRID: RGBColor = RGBColor(0xe2, 0xe8, 0xf0);
const GRID_LIGHT: RGBColor = RGBColor(0xf1, 0xf4, 0xf8);
const BACKGROUND: RGBColor = RGBColor(0xff, 0xff, 0xff);

/// The colour of a start kind, the same in every plot and in the HTML report.
pub(crate) fn start_kind_colour(kind: StartKind) -> RGBColor {
    match kind {
        StartKind::Cold => RGBColor(0x25, 0x63, 0xeb),
        StartKind::Snapshot => RGBColor(0x93, 0x33, 0xea),
        StartKind::Warm => RGBColor(0xf5, 0x9e, 0x0b),
        StartKind::Unknown => RGBColor(0x94, 0xa3, 0xb8),
    }
}

/// Latency series over time.
pub(super) const P50: RGBColor = RGBColor(0x0d, 0x94, 0x88);
pub(super) const P99: RGBColor = RGBColor(0xdb, 0x27, 0x77);
pub(super) const MAX: RGBColor = RGBColor(0x33, 0x41, 0x55);

/// How invocations ended.
pub(super) const OK: RGBColor = RGBColor(0x16, 0xa3, 0x4a);
pub(super) const ERRORS: RGBColor = RGBColor(0xdc, 0x26, 0x26);
pub(super) const DROPPED: RGBColor = RGBColor(0xd9, 0x77, 0x06);

/// The parts of a latency, in the order they add up.
pub(super) fn component_colour(component: LatencyComponent) -> RGBColor {
    match component {
        LatencyComponent::SendLag => RGBColor(0x64, 0x74, 0x8b),
        LatencyComponent::Queue => RGBColor(0xe1, 0x1d, 0x48),
        // Starting an instance: the colour of a cold start.
        LatencyComponent::Init => start_kind_colour(StartKind::Cold),
        LatencyComponent::Exec => RGBColor(0x16, 0xa3, 0x4a),
        LatencyComponent::Remainder => RGBColor(0x22, 0xd3, 0xee),
    }
}

/// The part of a latency that was not broken down.
pub(super) const UNMEASURED: RGBColor = RGBColor(0xe2, 0xe8, 0xf0);

/// Cost bars.
pub(super) const COST: RGBColor = RGBColor(0x05, 0x96, 0x69);

/// Colours of the configurations compared in one plot, in order.
const CONFIGURATIONS: [RGBColor; 8] = [
    RGBColor(0x25, 0x63, 0xeb),
    RGBColor(0xea, 0x58, 0x0c),
    RGBColor(0x16, 0xa3, 0x4a),
    RGBColor(0x93, 0x33, 0xea),
    RGBColor(0xdb, 0x27, 0x77),
    RGBColor(0x0d, 0x94, 0x88),
    RGBColor(0x64, 0x74, 0x8b),
    RGBColor(0xca, 0x8a, 0x04),
];

/// The colour of the `index`-th configuration of a comparison.
pub(super) fn configuration_colour(index: usize) -> RGBColor {
    CONFIGURATIONS[index % CONFIGURATIONS.len()]
}

/// `#rrggbb`, for CSS.
pub(crate) fn hex(colour: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", colour.0, colour.1, colour.2)
}

/// How a legend entry shows its series.
#[derive(Clone, Copy)]
pub(super) enum Swatch {
    Line,
    Dashed,
    Block,
    Triangle,
}

/// One legend entry.
pub(super) struct Key {
    pub label: String,
    pub colour: RGBColor,
    pub swatch: Swatch,
}

impl Key {
    pub(super) fn new(label: impl Into<String>, colour: RGBColor, swatch: Swatch) -> Self {
        Self {
            label: label.into(),
            colour,
            swatch,
        }
    }
}

pub(super) type Canvas<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub(super) type DrawResult = Result<(), DrawingAreaErrorKind<io::Error>>;

fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FAMILY), size, FontStyle::Normal)
}

/// Text in the plots' family.
pub(super) fn text_style(size: f64, colour: RGBColor) -> TextStyle<'static> {
    font(size).color(&colour)
}

/// Width of `text` set at `size`, px, as the embedded font measures it.
pub(super) fn text_width(text: &str, size: f64) -> u32 {
    register_font();
    font(size).box_size(text).map_or(0, |(w, _)| w)
}

/// Draws a plot of `height` px on a fresh canvas: the header with `title` and `legend`,
/// then `chart` in the area below it.
pub(super) fn svg(
    height: u32,
    title: &str,
    legend: &[Key],
    chart: impl FnOnce(&Canvas<'_>) -> DrawResult,
) -> io::Result<Figure> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let drawn = (|| {
            root.fill(&BACKGROUND)?;
            let (header, body) = root.split_vertically(HEADER);
            draw_header(&header, title, legend)?;
            chart(&body.margin(0, 8, 8, 24))?;
            root.present()
        })();
        drawn.map_err(|err| io::Error::other(format!("cannot draw the plot {title:?}: {err}")))?;
    }
    Ok(Figure { svg, no_data: None })
}

/// The plot for an input without anything to draw: its title, and why it is empty.
pub(super) fn no_data(height: u32, title: &str, why: &str) -> io::Result<Figure> {
    let mut figure = svg(height, title, &[], |area| {
        let (w, h) = area.dim_in_pixel();
        area.draw(&Rectangle::new(
            [(8, 0), (w as i32 - 8, h as i32 - 16)],
            ShapeStyle::from(GRID).stroke_width(1),
        ))?;
        let centre = (w as i32 / 2, h as i32 / 2 - 8);
        area.draw(&Text::new(
            "no data".to_owned(),
            (centre.0, centre.1 - 12),
            text_style(TITLE_SIZE, MUTED).pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
        area.draw(&Text::new(
            why.to_owned(),
            (centre.0, centre.1 + 14),
            text_style(LABEL_SIZE, MUTED).pos(Pos::new(HPos::Center, VPos::Center)),
        ))
    })?;
    figure.no_data = Some(why.to_owned());
    Ok(figure)
}

fn draw_header(area: &Canvas<'_>, title: &str, legend: &[Key]) -> DrawResult {
    let left = 24;
    area.draw(&Text::new(
        title.to_owned(),
        (left, 22),
        font(TITLE_SIZE)
            .style(FontStyle::Bold)
            .color(&INK)
            .pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;
    let y = 48;
    let mut x = left;
    for key in legend {
        let c = key.colour;
        match key.swatch {
            Swatch::Line => area.draw(&PathElement::new(
                vec![(x, y), (x + 18, y)],
                c.stroke_width(3),
            ))?,
            Swatch::Dashed => {
                for dash in [0, 8, 16] {
                    area.draw(&PathElement::new(
                        vec![(x + dash, y), (x + dash + 4, y)],
                        c.stroke_width(3),
                    ))?;
                }
            }
            Swatch::Block => {
                area.draw(&Rectangle::new([(x, y - 6), (x + 18, y + 6)], c.filled()))?
            }
            Swatch::Triangle => area.draw(&TriangleMarker::new((x + 9, y), 6, c.filled()))?,
        }
        x += 24;
        area.draw(&Text::new(
            key.label.clone(),
            (x, y),
            text_style(LABEL_SIZE, MUTED).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += text_width(&key.label, LABEL_SIZE) as i32 + 20;
    }
    Ok(())
}

/// The chart's frame: axes, grid and labels in the shared style.
pub(super) fn mesh<'a, 'b, X, Y>(
    chart: &'b mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    x_desc: &str,
    y_desc: &str,
) -> MeshStyle<'a, 'b, X, Y, SVGBackend<'a>>
where
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(x_desc)
        .y_desc(y_desc)
        .axis_style(AXIS)
        .bold_line_style(GRID)
        .light_line_style(GRID_LIGHT)
        .x_max_light_lines(1)
        .y_max_light_lines(4)
        .label_style(text_style(TICK_SIZE, MUTED))
        .axis_desc_style(text_style(LABEL_SIZE, INK));
    mesh
}

/// A linear axis with ticks exactly where given: the percentile decades, the rows of bars.
pub(super) struct FixedTicks {
    linear: RangedCoordf64,
    ticks: Vec<f64>,
}

impl FixedTicks {
    pub(super) fn new(range: std::ops::Range<f64>, ticks: Vec<f64>) -> Self {
        Self {
            linear: range.into(),
            ticks,
        }
    }
}

impl Ranged for FixedTicks {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.linear.range()
    }
}

/// Start the chart builder in the shared style on `area`.
pub(super) fn chart_builder<'a, 'b>(
    area: &'a Canvas<'b>,
    y_label_width: u32,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut builder = ChartBuilder::on(area);
    builder
        .x_label_area_size(44)
        .y_label_area_size(y_label_width)
        .margin_right(16)
        .margin_top(6);
    builder
}

/// A number with at most `digits` significant digits, without trailing zeros: axis labels
/// and values on bars. Formatting is Rust's own, the same on every machine.
pub(super) fn compact(value: f64, digits: usize) -> String {
    if !value.is_finite() {
        return "-".to_owned();
    }
    if value == 0.0 {
        return "0".to_owned();
    }
    let magnitude = value.abs();
    let mut decimals = digits as i32 - 1;
    let mut bound = 10.0;
    while magnitude >= bound && decimals > 0 {
        decimals -= 1;
        bound *= 10.0;
    }
    let mut small = 1.0;
    while magnitude < small && decimals < 9 {
        decimals += 1;
        small /= 10.0;
    }
    let text = format!("{value:.prec$}", prec = decimals.max(0) as usize);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// The bounds of a log axis over `min_us..=max_us`, ms: the powers of ten around them,
/// found by integer arithmetic so the axis is the same everywhere.
pub(super) fn decades_ms(min_us: u64, max_us: u64) -> (f64, f64) {
    let mut low = 1u64;
    while low * 10 <= min_us.max(1) {
        low *= 10;
    }
    let mut high = low;
    while high < max_us {
        high *= 10;
    }
    if high == low {
        high *= 10;
    }
    (low as f64 / 1000.0, high as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_numbers_keep_significant_digits_only() {
        assert_eq!(compact(0.30000000000000004, 3), "0.3");
        assert_eq!(compact(1234.6, 3), "1235");
        assert_eq!(compact(12.345, 3), "12.3");
        assert_eq!(compact(0.01234, 2), "0.012");
        assert_eq!(compact(100.0, 3), "100");
        assert_eq!(compact(0.0, 3), "0");
    }

    #[test]
    fn decades_enclose_the_values() {
        assert_eq!(decades_ms(1_050, 240_000), (1.0, 1000.0));
        assert_eq!(decades_ms(1_000, 1_000), (1.0, 10.0));
        assert_eq!(decades_ms(0, 5), (0.001, 0.01));
    }

    #[test]
    fn text_is_measured_with_the_embedded_font() {
        let narrow = text_width("iiii", LABEL_SIZE);
        let wide = text_width("WWWW", LABEL_SIZE);
        assert!(narrow > 0 && wide > 2 * narrow, "{narrow} {wide}");
    }
}
