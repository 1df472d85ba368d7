//! Thresholds on a run's figures, written as k6 writes them: `"p99 < 250ms"`,
//! `"warm.p99 < 5ms"`, `"cold_start_rate < 0.05"`, `"error_rate == 0"`,
//! `"usd_per_million < 2"`, `"function[thumbnail].p99.9 <= 1s"`, `"trigger[queue].cold.p50 < 40ms"`.
//!
//! ```text
//! threshold := metric operator value
//! metric    := [ "function[" name "]" "." | "trigger[" name "]" "." ] [ kind "." ] figure
//! kind      := cold | snapshot | warm | unknown | all
//! figure    := p50 | p90 | p99 | p99.9 | max | mean | count
//!            | cold_start_rate | error_rate | dropped_rate | delayed_by_start_rate | usd_per_million
//! operator  := < | <= | > | >= | == | !=
//! value     := number [ us | ms | s | % ]
//! ```
//!
//! Latencies are compared in µs: a plain number after a latency figure is read as ms, the unit
//! of every latency faasbench prints. A rate is a share (`0.05`) or a percentage (`5%`). The
//! start kind selects latencies only; rates and cost are of the whole selection. A threshold
//! whose figure was not measured (no cold starts to take a percentile of, no billed
//! durations) is neither passed nor failed: it is reported as not measured.
//!
//! The grammar is small enough that a hand-written parser gives better errors (the position
//! and what was expected there) than a parser generator would.

use std::fmt;

use crate::summary::{ALL, GroupSummary, Percentiles, Summary};

/// A threshold that could not be read: where, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("threshold `{expression}`, at character {}: expected {expected}", position + 1)]
pub struct ThresholdError {
    pub expression: String,
    /// Byte offset into the expression.
    pub position: usize,
    pub expected: String,
}

/// Which invocations a threshold is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    Run,
    Function(String),
    Trigger(String),
}

/// The figure compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    P50,
    P90,
    P99,
    P99_9,
    Max,
    Mean,
    Count,
    ColdStartRate,
    ErrorRate,
    DroppedRate,
    DelayedByStartRate,
    UsdPerMillion,
}

impl Figure {
    const NAMES: [(&'static str, Figure); 12] = [
        ("p99.9", Figure::P99_9),
        ("p50", Figure::P50),
        ("p90", Figure::P90),
        ("p99", Figure::P99),
        ("max", Figure::Max),
        ("mean", Figure::Mean),
        ("count", Figure::Count),
        ("cold_start_rate", Figure::ColdStartRate),
        ("error_rate", Figure::ErrorRate),
        ("dropped_rate", Figure::DroppedRate),
        ("delayed_by_start_rate", Figure::DelayedByStartRate),
        ("usd_per_million", Figure::UsdPerMillion),
    ];

    fn is_latency(self) -> bool {
        matches!(
            self,
            Self::P50 | Self::P90 | Self::P99 | Self::P99_9 | Self::Max | Self::Mean
        )
    }

    fn is_rate(self) -> bool {
        matches!(
            self,
            Self::ColdStartRate | Self::ErrorRate | Self::DroppedRate | Self::DelayedByStartRate
        )
    }
}

/// How the figure is compared with the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
    NotEqual,
}

impl Operator {
    fn holds(self, actual: f64, limit: f64) -> bool {
        match self {
            Self::Less => actual < limit,
            Self::LessOrEqual => actual <= limit,
            Self::Greater => actual > limit,
            Self::GreaterOrEqual => actual >= limit,
            Self::Equal => actual == limit,
            Self::NotEqual => actual != limit,
        }
    }
}

/// A parsed threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// As written.
    pub expression: String,
    pub selection: Selection,
    /// The start kind latencies are taken of (`all` when none was named).
    pub kind: String,
    pub figure: Figure,
    pub operator: Operator,
    /// In the figure's own unit: µs for latencies, a share for rates, USD for cost.
    pub limit: f64,
}

/// A threshold against a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The figure in the run, in the limit's unit; `None` when the run did not measure it.
    pub actual: Option<f64>,
    /// `None` when not measured.
    pub passed: Option<bool>,
}

const KINDS: [&str; 5] = ["cold", "snapshot", "warm", "unknown", ALL];

struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn skip_spaces(&mut self) {
        let trimmed = self.rest().trim_start();
        self.at = self.text.len() - trimmed.len();
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn error(&self, expected: impl Into<String>) -> ThresholdError {
        ThresholdError {
            expression: self.text.to_owned(),
            position: self.at,
            expected: expected.into(),
        }
    }

    /// A bracketed name: everything up to the next `]`.
    fn bracketed(&mut self) -> Result<&'a str, ThresholdError> {
        let rest = self.rest();
        let end = rest
            .find(']')
            .ok_or_else(|| self.error("a name closed by `]`"))?;
        if end == 0 {
            return Err(self.error("a name inside the brackets"));
        }
        self.at += end + 1;
        Ok(&rest[..end])
    }
}

impl Threshold {
    /// Parses `expression`.
    pub fn parse(expression: &str) -> Result<Self, ThresholdError> {
        let mut cursor = Cursor {
            text: expression,
            at: 0,
        };
        cursor.skip_spaces();
        let selection = if cursor.eat("function[") {
            Selection::Function(cursor.bracketed()?.to_owned())
        } else if cursor.eat("trigger[") {
            Selection::Trigger(cursor.bracketed()?.to_owned())
        } else {
            Selection::Run
        };
        if selection != Selection::Run && !cursor.eat(".") {
            return Err(cursor.error("`.` and a figure after the selection"));
        }
        let mut kind = ALL.to_owned();
        if let Some(named) = KINDS
            .iter()
            .find(|k| cursor.rest().starts_with(&format!("{k}.")))
        {
            cursor.at += named.len() + 1;
            kind = (*named).to_owned();
        }
        let figure_at = cursor.at;
        let figure = Figure::NAMES
            .iter()
            .find(|(name, _)| {
                cursor.rest().starts_with(name)
                    && !cursor.rest()[name.len()..]
                        .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            })
            .map(|(name, figure)| (name.len(), *figure));
        let Some((length, figure)) = figure else {
            let names: Vec<&str> = Figure::NAMES.iter().map(|(n, _)| *n).collect();
            return Err(cursor.error(format!(
                "a figure ({}), after an optional start kind ({}.)",
                names.join(", "),
                KINDS.join(". ")
            )));
        };
        cursor.at += length;
        if kind != ALL && !figure.is_latency() && figure != Figure::Count {
            cursor.at = figure_at;
            return Err(cursor.error(
                "a latency figure or count after a start kind (rates and cost are of the whole selection)",
            ));
        }
        cursor.skip_spaces();
        let operator = [
            ("<=", Operator::LessOrEqual),
            (">=", Operator::GreaterOrEqual),
            ("==", Operator::Equal),
            ("!=", Operator::NotEqual),
            ("<", Operator::Less),
            (">", Operator::Greater),
        ]
        .into_iter()
        .find(|(token, _)| cursor.eat(token))
        .map(|(_, operator)| operator)
        .ok_or_else(|| cursor.error("an operator: <, <=, >, >=, == or !="))?;
        cursor.skip_spaces();
        let limit = value(&mut cursor, figure)?;
        cursor.skip_spaces();
        if !cursor.rest().is_empty() {
            return Err(cursor.error("the end of the threshold"));
        }
        Ok(Self {
            expression: expression.to_owned(),
            selection,
            kind,
            figure,
            operator,
            limit,
        })
    }

    /// The threshold against `summary`.
    pub fn check(&self, summary: &Summary) -> Verdict {
        let actual = self.actual(summary);
        Verdict {
            actual,
            passed: actual.map(|actual| self.operator.holds(actual, self.limit)),
        }
    }

    fn actual(&self, summary: &Summary) -> Option<f64> {
        let (group, cost) = match &self.selection {
            Selection::Run => (None, summary.chosen_cost().map(|c| c.usd_per_million)),
            Selection::Function(name) => {
                let function = summary.functions.iter().find(|f| &f.name == name)?;
                (Some(&function.figures), function.usd_per_million)
            }
            Selection::Trigger(name) => (summary.triggers.get(name), None),
        };
        let latency = |kind: &str| -> Option<&Percentiles> {
            match group {
                Some(group) => group.latency_us.get(kind),
                None => summary.latency_us.get(kind),
            }
        };
        let (ok, errors, dropped) = match group {
            Some(g) => (g.ok, g.errors, g.dropped),
            None => {
                let c = &summary.invocations;
                (c.ok, c.errors, c.dropped)
            }
        };
        let share = |count: u64, of: u64| (of > 0).then(|| count as f64 / of as f64);
        let due = ok.saturating_add(errors).saturating_add(dropped);
        let rates = |g: Option<&GroupSummary>| match g {
            Some(g) => (g.cold_starts.count, g.delayed_by_start.count),
            None => (summary.cold_starts.count, summary.delayed_by_start.count),
        };
        let (cold, delayed) = rates(group);
        let p = latency(&self.kind);
        match self.figure {
            Figure::P50 => p.map(|p| p.p50 as f64),
            Figure::P90 => p.map(|p| p.p90 as f64),
            Figure::P99 => p.map(|p| p.p99 as f64),
            Figure::P99_9 => p.map(|p| p.p99_9 as f64),
            Figure::Max => p.map(|p| p.max as f64),
            Figure::Mean => p.map(|p| p.mean),
            Figure::Count => Some(p.map_or(0, |p| p.count) as f64),
            Figure::ColdStartRate => share(cold, ok),
            Figure::DelayedByStartRate => share(delayed, ok),
            Figure::ErrorRate => share(errors, due),
            Figure::DroppedRate => share(dropped, due),
            Figure::UsdPerMillion => cost,
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expression)
    }
}

/// The limit, converted to the figure's unit.
fn value(cursor: &mut Cursor<'_>, figure: Figure) -> Result<f64, ThresholdError> {
    let start = cursor.at;
    let digits = cursor
        .rest()
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(cursor.rest().len());
    let number: f64 = cursor.rest()[..digits]
        .parse()
        .map_err(|_| cursor.error("a number"))?;
    cursor.at += digits;
    let unit_at = cursor.at;
    let unit = ["us", "µs", "ms", "s", "%"]
        .into_iter()
        .find(|unit| cursor.eat(unit));
    let scaled = match (unit, figure) {
        (None, f) if f.is_latency() => number * 1_000.0,
        (Some("us" | "µs"), f) if f.is_latency() => number,
        (Some("ms"), f) if f.is_latency() => number * 1_000.0,
        (Some("s"), f) if f.is_latency() => number * 1_000_000.0,
        (Some("%"), f) if f.is_rate() => number / 100.0,
        (None, _) => number,
        (Some(_), f) => {
            cursor.at = unit_at;
            let expected = if f.is_rate() {
                "a share (0.05) or a percentage (5%)"
            } else {
                "a plain number"
            };
            return Err(cursor.error(expected));
        }
    };
    if !scaled.is_finite() || (figure.is_rate() && scaled > 1.0) {
        cursor.at = start;
        return Err(cursor.error(if figure.is_rate() {
            "a share between 0 and 1 (or 0% to 100%)"
        } else {
            "a finite number"
        }));
    }
    Ok(scaled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::recorded_run;

    fn parse(text: &str) -> Threshold {
        Threshold::parse(text).unwrap_or_else(|err| panic!("{err}"))
    }

    #[test]
    fn the_issue_examples_read_as_meant() {
        let t = parse("p99 < 250ms");
        assert_eq!(
            (&t.selection, t.kind.as_str(), t.figure, t.operator, t.limit),
            (&Selection::Run, ALL, Figure::P99, Operator::Less, 250_000.0)
        );
        let t = parse("warm.p99 < 5ms");
        assert_eq!((t.kind.as_str(), t.limit), ("warm", 5_000.0));
        assert_eq!(parse("cold_start_rate < 0.05").limit, 0.05);
        assert_eq!(parse("cold_start_rate<5%").limit, 0.05);
        let t = parse("error_rate == 0");
        assert_eq!(
            (t.figure, t.operator, t.limit),
            (Figure::ErrorRate, Operator::Equal, 0.0)
        );
        assert_eq!(parse("usd_per_million < 2").limit, 2.0);
        let t = parse("function[resize].snapshot.p99.9 <= 1.5s");
        assert_eq!(t.selection, Selection::Function("resize".into()));
        assert_eq!(
            (t.kind.as_str(), t.figure, t.limit),
            ("snapshot", Figure::P99_9, 1_500_000.0)
        );
        let t = parse("  trigger[queue].mean >= 250us ");
        assert_eq!(t.selection, Selection::Trigger("queue".into()));
        assert_eq!((t.figure, t.limit), (Figure::Mean, 250.0));
        // A plain latency is in ms, as faasbench prints latencies.
        assert_eq!(parse("p50 < 2").limit, 2_000.0);
    }

    #[test]
    fn invalid_thresholds_say_where_and_what_was_expected() {
        let cases = [
            ("p98 < 1ms", 1, "a figure"),
            ("p99 << 1ms", 6, "a number"),
            ("p99 1ms", 5, "an operator"),
            ("p99 < fast", 7, "a number"),
            ("p99 < 5 ms", 9, "the end"),
            ("p99 < 5ms and more", 11, "the end"),
            (
                "cold_start_rate < 5ms",
                20,
                "a share (0.05) or a percentage",
            ),
            ("cold_start_rate < 150%", 19, "a share between 0 and 1"),
            ("usd_per_million < 2%", 20, "a plain number"),
            (
                "warm.error_rate < 0.1",
                6,
                "a latency figure or count after a start kind",
            ),
            ("function[].p99 < 1", 10, "a name inside the brackets"),
            ("function[x p99 < 1", 10, "a name closed by `]`"),
            ("function[x]p99 < 1", 12, "`.` and a figure"),
            ("p99.9x < 1", 1, "a figure"),
        ];
        for (text, position, expected) in cases {
            let err = Threshold::parse(text).unwrap_err();
            assert_eq!(err.position + 1, position, "{text}: {err}");
            assert!(err.expected.starts_with(expected), "{text}: {err}");
            assert!(
                err.to_string()
                    .contains(&format!("at character {position}")),
                "{err}"
            );
        }
    }

    #[test]
    fn thresholds_are_checked_against_the_run() {
        let report = recorded_run();
        let summary = &report.summary;
        let p99 = summary.latency_us[ALL].p99 as f64;
        let verdict = parse(&format!("p99 <= {}us", p99)).check(summary);
        assert_eq!((verdict.actual, verdict.passed), (Some(p99), Some(true)));
        assert_eq!(
            parse(&format!("p99 < {}us", p99)).check(summary).passed,
            Some(false)
        );

        let errors = summary.invocations.errors as f64;
        let due = (summary.invocations.ok
            + summary.invocations.errors
            + summary.invocations.dropped) as f64;
        let verdict = parse("error_rate == 0").check(summary);
        assert_eq!(verdict.actual, Some(errors / due));
        assert_eq!(verdict.passed, Some(false));

        let resize = summary
            .functions
            .iter()
            .find(|f| f.name == "resize")
            .unwrap();
        let cold = resize.figures.latency_us["cold"].p50 as f64;
        let verdict = parse("function[resize].cold.p50 < 1s").check(summary);
        assert_eq!((verdict.actual, verdict.passed), (Some(cold), Some(true)));
        assert_eq!(
            parse("function[resize].usd_per_million < 1000")
                .check(summary)
                .actual,
            resize.usd_per_million
        );
        // What the run did not measure is neither passed nor failed.
        let unknown = parse("function[nobody].p99 < 1ms").check(summary);
        assert_eq!((unknown.actual, unknown.passed), (None, None));
        let queue = parse("trigger[queue].unknown.p99 < 1ms").check(summary);
        assert_eq!(queue.passed, None);
        assert_eq!(
            parse("trigger[queue].unknown.count == 0")
                .check(summary)
                .passed,
            Some(true)
        );
    }
}
