//! `latency.hgrm` and `latency-<kind>.hgrm`: the latency histograms as HdrHistogram's
//! percentile distribution, the text of Java's
//! `AbstractHistogram.outputPercentileDistribution(out, 5, 1000.0)`. HdrHistogram's
//! `plotFiles.html` plots it, next to the percentile spectra of wrk2 and other tools.
//!
//! Values are recorded in µs and printed in ms, as wrk2 prints them. The layout follows the
//! Java implementation to the character: its percentile iteration (not the `hdrhistogram`
//! crate's, whose quantile steps accumulate in a different unit and land on other rows at
//! exact ties) and its number formatting ([`java_fixed`]).

use std::io::{self, Write};

use hdrhistogram::Histogram;
use loadgen::StartKind;

use super::Exporter;
use crate::report::Report;

/// Reporting points per halving of the distance to 100 %, as in Java's default.
const TICKS_PER_HALF_DISTANCE: u32 = 5;
/// µs recorded, ms printed.
const UNIT_RATIO: f64 = 1000.0;

/// One latency histogram as an `.hgrm` file: every successful invocation, or those of one
/// start kind.
pub struct Hgrm {
    kind: Option<StartKind>,
}

impl Hgrm {
    /// `latency.hgrm`: every start kind together.
    pub fn all_kinds() -> Self {
        Self { kind: None }
    }

    /// `latency-<kind>.hgrm`.
    pub fn of(kind: StartKind) -> Self {
        Self { kind: Some(kind) }
    }

    /// The files for `report`: all kinds together, then each start kind that had successful
    /// invocations.
    pub fn for_report(report: &Report) -> Vec<Self> {
        let recorder = &report.run.recorder;
        std::iter::once(Self::all_kinds())
            .chain(
                StartKind::ALL
                    .into_iter()
                    .filter(|kind| !recorder.latency(*kind).is_empty())
                    .map(Self::of),
            )
            .collect()
    }
}

impl Exporter for Hgrm {
    fn file_name(&self) -> String {
        match self.kind {
            None => "latency.hgrm".into(),
            Some(kind) => format!("latency-{}.hgrm", kind.as_str()),
        }
    }

    fn export(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let recorder = &report.run.recorder;
        match self.kind {
            None => write_distribution(&recorder.all_latency(), out),
            Some(kind) => write_distribution(recorder.latency(kind), out),
        }
    }
}

/// Writes `histogram` (µs) as Java's `outputPercentileDistribution(out, 5, 1000.0)` does.
pub fn write_distribution(histogram: &Histogram<u64>, out: &mut dyn Write) -> io::Result<()> {
    let digits = usize::from(histogram.sigfig());
    let fixed = |value: u64| java_fixed(value as f64 / UNIT_RATIO, digits);
    writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    for step in percentile_steps(histogram, TICKS_PER_HALF_DISTANCE) {
        let quantile = step.percentile / 100.0;
        write!(
            out,
            "{:>12} {} {:>10}",
            fixed(step.value),
            java_fixed(quantile, 12),
            step.total_count
        )?;
        // Java leaves the last column off the 100 % row, where it would be infinite.
        if step.percentile != 100.0 {
            write!(out, " {:>14}", java_fixed(1.0 / (1.0 - quantile), 2))?;
        }
        writeln!(out)?;
    }
    let (mean, deviation) = mean_and_deviation(histogram);
    let max = if histogram.is_empty() {
        0
    } else {
        histogram.max()
    };
    writeln!(
        out,
        "#[Mean    = {:>12}, StdDeviation   = {:>12}]",
        java_fixed(mean / UNIT_RATIO, digits),
        java_fixed(deviation / UNIT_RATIO, digits)
    )?;
    writeln!(
        out,
        "#[Max     = {:>12}, Total count    = {:>12}]",
        fixed(max),
        histogram.len()
    )?;
    writeln!(
        out,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        histogram.buckets(),
        sub_bucket_count(histogram.sigfig())
    )
}

/// One row of the distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Step {
    /// Highest value equivalent to the bucket reached.
    value: u64,
    /// The percentile level iterated to, 0 to 100.
    percentile: f64,
    /// Values recorded up to and including the bucket reached.
    total_count: u64,
}

/// The rows of Java's `PercentileIterator`: the level advances in fixed ticks that halve
/// with each halving of the distance to 100 %, a row is reported at each bucket where the
/// running count reaches the level, and once the last bucket is reached one more row follows
/// at exactly 100 %. The arithmetic is Java's, in percent, so exact ties (a level of 30 % met
/// by 180 of 600 values) fall where they fall in Java.
fn percentile_steps(histogram: &Histogram<u64>, ticks_per_half_distance: u32) -> Vec<Step> {
    let total = histogram.len();
    let mut steps = Vec::new();
    if total == 0 {
        return steps;
    }
    let mut level = 0.0_f64;
    let mut running = 0_u64;
    for bucket in histogram.iter_recorded() {
        running = running.saturating_add(bucket.count_at_value());
        let value = bucket.value_iterated_to();
        while (100.0 * running as f64) / total as f64 >= level {
            steps.push(Step {
                value,
                percentile: level,
                total_count: running,
            });
            level = next_level(level, ticks_per_half_distance);
            if running >= total {
                break;
            }
        }
        if running >= total {
            steps.push(Step {
                value,
                percentile: 100.0,
                total_count: running,
            });
            break;
        }
    }
    steps
}

/// Java's `PercentileIterator.incrementIterationLevel`, expression for expression.
fn next_level(level: f64, ticks_per_half_distance: u32) -> f64 {
    let halvings = ((100.0 / (100.0 - level)).ln() / 2.0_f64.ln()) as i64;
    let ticks = i64::from(ticks_per_half_distance).saturating_mul(
        1_i64
            .checked_shl(u32::try_from(halvings + 1).unwrap_or(u32::MAX))
            .unwrap_or(i64::MAX),
    );
    level + 100.0 / ticks as f64
}

/// Mean and standard deviation as Java's `getMean` and `getStdDeviation` compute them: the
/// median-equivalent value of each bucket, summed before dividing (the `hdrhistogram` crate
/// divides term by term, which can move the last printed digit).
fn mean_and_deviation(histogram: &Histogram<u64>) -> (f64, f64) {
    let total = histogram.len();
    if total == 0 {
        return (0.0, 0.0);
    }
    let median = |bucket: &hdrhistogram::iterators::IterationValue<u64>| {
        histogram.median_equivalent(bucket.value_iterated_to()) as f64
    };
    let sum: f64 = histogram
        .iter_recorded()
        .map(|bucket| median(&bucket) * bucket.count_at_value() as f64)
        .sum();
    let mean = sum / total as f64;
    let squares: f64 = histogram
        .iter_recorded()
        .map(|bucket| {
            let deviation = median(&bucket) - mean;
            deviation * deviation * bucket.count_at_value() as f64
        })
        .sum();
    (mean, (squares / total as f64).sqrt())
}

/// Java's `subBucketCount`: the power of two at or above `2 × 10^digits`, unit resolution
/// up to twice the precision.
fn sub_bucket_count(significant_digits: u8) -> u64 {
    (2 * 10_u64.pow(u32::from(significant_digits))).next_power_of_two()
}

/// `value` with `decimals` digits after the point, as Java's `String.format("%.Nf")` prints
/// it. Hand-written because the two disagree on halves: Java takes the shortest decimal
/// that reads back as the same double (the digits `Double.toString` shows) and rounds that
/// half up, so 2.0005 prints as 2.001; Rust rounds the exact binary value, 2.000499999…,
/// and prints 2.000. Means of a few hundred values end in such halves often enough. (Java
/// before 19 took slightly longer digits for a few doubles such as 1e23; no latency is one.)
pub(crate) fn java_fixed(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN".into()
        } else if value > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    // Shortest round-trip digits, as `d.ddde±x`.
    let shortest = format!("{:e}", value.abs());
    let (mantissa, exponent) = shortest
        .split_once('e')
        .expect("`{:e}` always writes an exponent");
    let exponent: i64 = exponent.parse().expect("`{:e}` writes a decimal exponent");
    let mut digits: Vec<u8> = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|d| d - b'0')
        .collect();
    // `digits` reads d0.d1d2… × 10^exponent; the integer part has `exponent + 1` digits.
    // Pad so that every kept digit exists, with at least one digit before the point.
    let mut point = exponent + 1;
    if point <= 0 {
        let lead = usize::try_from(1 - point).unwrap_or(0);
        digits.splice(0..0, std::iter::repeat_n(0, lead));
        point = 1;
    }
    let point = usize::try_from(point).unwrap_or(0);
    let keep = point + decimals;
    if digits.len() < keep {
        digits.resize(keep, 0);
    }
    let round_up = digits.get(keep).is_some_and(|d| *d >= 5);
    digits.truncate(keep);
    let mut point = point;
    if round_up {
        let mut i = keep;
        loop {
            if i == 0 {
                digits.insert(0, 1);
                point += 1;
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let mut text = String::with_capacity(digits.len() + 2);
    // Java keeps the sign of a negative value that rounds to zero: -0.0001 prints -0.000.
    if value.is_sign_negative() {
        text.push('-');
    }
    for (i, digit) in digits.iter().enumerate() {
        if i == point {
            text.push('.');
        }
        text.push(char::from(b'0' + digit));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{assert_golden, recorded_run};

    fn render(histogram: &Histogram<u64>) -> String {
        let mut out = Vec::new();
        write_distribution(histogram, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn export(exporter: &Hgrm, report: &Report) -> Vec<u8> {
        let mut out = Vec::new();
        exporter.export(report, &mut out).unwrap();
        out
    }

    #[test]
    fn formats_numbers_as_java_does() {
        for (value, decimals, java) in [
            (0.0, 3, "0.000"),
            (1.0, 12, "1.000000000000"),
            (0.1 + 0.2, 12, "0.300000000000"),
            (2.0005, 3, "2.001"),
            (0.125, 2, "0.13"),
            (1.005, 2, "1.01"),
            (9.9996, 3, "10.000"),
            (999.9995, 3, "1000.000"),
            (0.0004, 3, "0.000"),
            (0.0005, 3, "0.001"),
            (0.00004, 3, "0.000"),
            (1.0 / (1.0 - 0.3), 2, "1.43"),
            (106.666_666_666_666_67, 2, "106.67"),
            (1_048_576.0, 2, "1048576.00"),
            (123_456_789.123_4, 3, "123456789.123"),
            (1e-7, 12, "0.000000100000"),
            (-2.5, 1, "-2.5"),
            (-0.0001, 3, "-0.000"),
            (-0.0, 1, "-0.0"),
        ] {
            assert_eq!(java_fixed(value, decimals), java, "{value} to {decimals}");
        }
    }

    /// HdrHistogramJS checks its port of `outputPercentileDistribution` against this output
    /// (`Histogram.spec.ts`, "should compute percentile distribution"): values 25, 50 and 75
    /// in a histogram of 1 to 2^53 − 1 at 3 digits, printed without scaling.
    #[test]
    fn matches_the_published_three_value_distribution() {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, (1 << 53) - 1, 3).unwrap();
        for value in [25, 50, 75] {
            histogram.record(value).unwrap();
        }
        let mut rows = String::new();
        for step in percentile_steps(&histogram, 5) {
            let quantile = step.percentile / 100.0;
            rows += &format!(
                "{:>12} {} {:>10}",
                java_fixed(step.value as f64, 3),
                java_fixed(quantile, 12),
                step.total_count
            );
            if step.percentile != 100.0 {
                rows += &format!(" {:>14}", java_fixed(1.0 / (1.0 - quantile), 2));
            }
            rows.push('\n');
        }
        let expected = "      25.000 0.000000000000          1           1.00
      25.000 0.100000000000          1           1.11
      25.000 0.200000000000          1           1.25
      25.000 0.300000000000          1           1.43
      50.000 0.400000000000          2           1.67
      50.000 0.500000000000          2           2.00
      50.000 0.550000000000          2           2.22
      50.000 0.600000000000          2           2.50
      50.000 0.650000000000          2           2.86
      75.000 0.700000000000          3           3.33
      75.000 1.000000000000          3
";
        assert_eq!(rows, expected);
        let (mean, deviation) = mean_and_deviation(&histogram);
        assert_eq!(java_fixed(mean, 3), "50.000");
        assert_eq!(java_fixed(deviation, 3), "20.412");
        assert_eq!(histogram.buckets(), 43);
        assert_eq!(sub_bucket_count(histogram.sigfig()), 2048);
        // The same histogram in ms, as the exporter writes it.
        let text = render(&histogram);
        assert!(
            text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)\n\n"),
            "{text}"
        );
        assert!(text.contains("\n       0.075 1.000000000000          3\n"));
        assert!(text.ends_with(
            "#[Mean    =        0.050, StdDeviation   =        0.020]
#[Max     =        0.075, Total count    =            3]
#[Buckets =           43, SubBuckets     =         2048]
"
        ));
    }

    /// HdrHistogram's Java implementation, `outputPercentileDistribution(out, 5, 1000.0)`,
    /// printed `tests/golden/java-reference.hgrm` for this histogram: 2000 distinct values
    /// with counts up to a million, nearly a billion in all, so the levels reach far into
    /// the tail.
    #[test]
    fn matches_the_java_implementation_byte_for_byte() {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for v in 1..=2000_u64 {
            let count = v * 7919 % 1_000_003 + 1;
            histogram.record_n(v * 37 % 50_000 + 1, count).unwrap();
        }
        let expected = include_str!("../../tests/golden/java-reference.hgrm");
        assert_eq!(render(&histogram), expected);
    }

    #[test]
    fn a_tie_with_a_level_is_reported_at_that_level() {
        // 180 of 600 values at 1 ms: 30 % is reached exactly at the first bucket.
        let mut histogram = Histogram::<u64>::new(3).unwrap();
        histogram.record_n(1000, 180).unwrap();
        histogram.record_n(2000, 420).unwrap();
        let steps = percentile_steps(&histogram, 5);
        let at_one: Vec<f64> = steps
            .iter()
            .filter(|s| s.value == 1000)
            .map(|s| s.percentile)
            .collect();
        assert_eq!(at_one, [0.0, 10.0, 20.0, 30.0]);
    }

    #[test]
    fn the_footer_states_the_histograms_mean_max_and_count() {
        let report = recorded_run();
        let histogram = report.run.recorder.all_latency();
        let text = String::from_utf8(export(&Hgrm::all_kinds(), &report)).unwrap();
        let footer: Vec<&str> = text.lines().filter(|l| l.starts_with("#[")).collect();
        let field = |line: &str, name: &str| -> String {
            let rest = &line[line.find(name).unwrap() + name.len()..];
            rest.trim_start_matches([' ', '='])
                .split([',', ']'])
                .next()
                .unwrap()
                .trim()
                .to_owned()
        };
        let mean: f64 = field(footer[0], "Mean").parse().unwrap();
        assert!((mean - histogram.mean() / 1000.0).abs() <= 0.0005, "{mean}");
        let deviation: f64 = field(footer[0], "StdDeviation").parse().unwrap();
        assert!((deviation - histogram.stdev() / 1000.0).abs() <= 0.0005);
        assert_eq!(
            field(footer[1], "Max"),
            format!("{:.3}", histogram.max() as f64 / 1000.0)
        );
        assert_eq!(field(footer[1], "Total count"), histogram.len().to_string());
        assert_eq!(field(footer[2], "Buckets"), histogram.buckets().to_string());
        // Every row: four columns but the last, which has three; counts never fall.
        let rows: Vec<Vec<&str>> = text
            .lines()
            .skip(2)
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split_whitespace().collect())
            .collect();
        let (last, body) = rows.split_last().unwrap();
        assert!(body.iter().all(|r| r.len() == 4));
        assert_eq!(last.len(), 3);
        assert_eq!(last[1], "1.000000000000");
        assert_eq!(last[2], histogram.len().to_string());
        let counts: Vec<u64> = rows.iter().map(|r| r[2].parse().unwrap()).collect();
        assert!(counts.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn sub_buckets_follow_the_histograms_layout() {
        for digits in 0..=5 {
            let histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, digits).unwrap();
            let half = histogram.distinct_values() as u64 / (u64::from(histogram.buckets()) + 1);
            assert_eq!(sub_bucket_count(digits), 2 * half, "{digits} digits");
        }
    }

    #[test]
    fn only_start_kinds_with_successes_get_a_file() {
        let mut report = recorded_run();
        let names: Vec<String> = Hgrm::for_report(&report)
            .iter()
            .map(Exporter::file_name)
            .collect();
        assert_eq!(
            names,
            [
                "latency.hgrm",
                "latency-cold.hgrm",
                "latency-snapshot.hgrm",
                "latency-warm.hgrm"
            ]
        );
        // No successes at all: the run-wide file alone, with no rows.
        report.run.recorder = loadgen::Recorder::new(3);
        let exporters = Hgrm::for_report(&report);
        assert_eq!(exporters.len(), 1);
        let text = String::from_utf8(export(&exporters[0], &report)).unwrap();
        assert_eq!(text.lines().count(), 5, "{text}");
        assert!(text.contains("Total count    =            0]"));
    }

    #[test]
    fn golden_files() {
        let report = recorded_run();
        for exporter in Hgrm::for_report(&report) {
            assert_golden(&exporter.file_name(), &export(&exporter, &report));
        }
    }
}
