//! What a trace looks like, in figures: the summary `faasbench trace inspect` prints.
//!
//! The coefficient of variation (CV) of a function's inter-arrival times tells bursty (CV > 1)
//! from regular (CV < 1) and Poisson-like (CV ≈ 1) functions. For traces counted per minute the
//! invocations of a minute are taken as evenly spaced within it, so the CV reflects the
//! minute-to-minute pattern, not a guess at the seconds.

use std::fmt;
use std::path::PathBuf;

use super::{TraceError, TraceEvent, TraceFormat, TraceReader};
use crate::Trigger;

/// Percentiles of a spread of values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// How many values.
    pub count: usize,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let at =
            |q: f64| values[((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
        Some(Self {
            count: values.len(),
            p10: at(0.10),
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: values[values.len() - 1],
        })
    }
}

/// Functions and invocations with one trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TriggerShare {
    pub trigger: Trigger,
    pub functions: usize,
    pub invocations: u64,
}

/// A trace in figures.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSummary {
    pub format: TraceFormat,
    pub files: Vec<PathBuf>,
    pub functions: usize,
    /// Functions invoked at least once.
    pub active_functions: usize,
    pub invocations: u64,
    /// Invocations per minute of the timeline.
    pub per_minute: Vec<u64>,
    /// Inter-arrival CV of the functions invoked at least three times.
    pub cv: Option<Spread>,
    /// Functions by inter-arrival CV: below 0.5, 0.5–1, 1–2, 2–4, 4 and above.
    pub cv_buckets: [usize; 5],
    /// Mean execution time of the functions that have one, ms.
    pub durations_ms: Option<Spread>,
    /// Median memory of the functions that have one, MB.
    pub memory_mb: Option<Spread>,
    /// By trigger, most invocations first.
    pub triggers: Vec<TriggerShare>,
}

/// Running statistics of one function's inter-arrival times.
#[derive(Debug, Clone, Copy, Default)]
struct Gaps {
    last_us: Option<f64>,
    count: u64,
    mean: f64,
    m2: f64,
}

impl Gaps {
    fn arrival(&mut self, at_us: f64) {
        if let Some(last) = self.last_us {
            let gap = at_us - last;
            self.count += 1;
            let delta = gap - self.mean;
            self.mean += delta / self.count as f64;
            self.m2 += delta * (gap - self.mean);
        }
        self.last_us = Some(at_us);
    }

    fn cv(&self) -> Option<f64> {
        (self.count >= 2 && self.mean > 0.0)
            .then(|| (self.m2 / self.count as f64).sqrt() / self.mean)
    }
}

/// Reads the trace once more and sums it up.
pub fn summarize(reader: &dyn TraceReader) -> Result<TraceSummary, TraceError> {
    let index = reader.index();
    let mut gaps = vec![Gaps::default(); index.functions.len()];
    for event in reader.events(0)? {
        match event? {
            TraceEvent::Count {
                minute,
                function,
                count,
            } => {
                let gaps = &mut gaps[function as usize];
                let step = 60e6 / f64::from(count);
                for i in 0..count {
                    gaps.arrival(f64::from(minute) * 60e6 + (f64::from(i) + 0.5) * step);
                }
            }
            TraceEvent::Invocation {
                at_us, function, ..
            } => gaps[function as usize].arrival(at_us as f64),
        }
    }
    let cvs: Vec<f64> = gaps.iter().filter_map(Gaps::cv).collect();
    let mut cv_buckets = [0usize; 5];
    for &cv in &cvs {
        let bucket = match cv {
            cv if cv < 0.5 => 0,
            cv if cv < 1.0 => 1,
            cv if cv < 2.0 => 2,
            cv if cv < 4.0 => 3,
            _ => 4,
        };
        cv_buckets[bucket] += 1;
    }
    let mut triggers: Vec<TriggerShare> = Trigger::ALL
        .into_iter()
        .map(|trigger| TriggerShare {
            trigger,
            functions: 0,
            invocations: 0,
        })
        .collect();
    for function in &index.functions {
        let share = &mut triggers[function.trigger.index()];
        share.functions += 1;
        share.invocations += function.invocations;
    }
    triggers.retain(|share| share.functions > 0);
    triggers.sort_by_key(|share| std::cmp::Reverse(share.invocations));
    Ok(TraceSummary {
        format: index.format,
        files: index.files.clone(),
        functions: index.functions.len(),
        active_functions: index.functions.iter().filter(|f| f.invocations > 0).count(),
        invocations: index.invocations(),
        per_minute: index.per_minute.clone(),
        cv: Spread::of(cvs),
        cv_buckets,
        durations_ms: Spread::of(
            index
                .functions
                .iter()
                .filter_map(|f| {
                    f.mean_duration_ms
                        .or_else(|| f.duration_ms.as_ref().map(|d| d.median()))
                })
                .collect(),
        ),
        memory_mb: Spread::of(
            index
                .functions
                .iter()
                .filter_map(|f| f.memory_mb.as_ref().map(|m| m.median()))
                .collect(),
        ),
        triggers,
    })
}

/// A line of block characters, one per group of values, scaled to the largest group.
pub fn sparkline(values: &[u64], width: usize) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if values.is_empty() || width == 0 {
        return String::new();
    }
    let per_column = values.len().div_ceil(width);
    let sums: Vec<u64> = values
        .chunks(per_column)
        .map(|chunk| chunk.iter().sum())
        .collect();
    let max = sums.iter().copied().max().unwrap_or(0).max(1);
    sums.iter()
        .map(|&sum| BLOCKS[((sum as f64 / max as f64) * 7.0).round() as usize])
        .collect()
}

impl fmt::Display for TraceSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let minutes = self.per_minute.len();
        writeln!(f, "format       {}", self.format)?;
        for file in &self.files {
            writeln!(f, "file         {}", file.display())?;
        }
        writeln!(
            f,
            "functions    {} ({} invoked at least once)",
            self.functions, self.active_functions
        )?;
        writeln!(
            f,
            "invocations  {} in {} minutes ({:.1}/min, {:.2}/s on average)",
            self.invocations,
            minutes,
            self.invocations as f64 / minutes.max(1) as f64,
            self.invocations as f64 / (minutes.max(1) as f64 * 60.0)
        )?;
        if let Some((minute, peak)) = self.per_minute.iter().enumerate().max_by_key(|(_, c)| **c) {
            writeln!(f, "peak minute  {minute}: {peak} invocations")?;
        }
        writeln!(f, "per minute   {}", sparkline(&self.per_minute, 72))?;
        match &self.cv {
            Some(cv) => {
                writeln!(
                    f,
                    "inter-arrival CV  p10 {:.2} · p50 {:.2} · p90 {:.2} over {} functions (≥ 3 invocations)",
                    cv.p10, cv.p50, cv.p90, cv.count
                )?;
                let labels = ["< 0.5", "0.5–1", "1–2", "2–4", "≥ 4"];
                let buckets: Vec<String> = labels
                    .iter()
                    .zip(self.cv_buckets)
                    .map(|(label, count)| format!("{label}: {count}"))
                    .collect();
                writeln!(f, "                  {}", buckets.join(" · "))?;
            }
            None => writeln!(f, "inter-arrival CV  no function has three invocations")?,
        }
        let spread = |f: &mut fmt::Formatter<'_>,
                      label: &str,
                      unit: &str,
                      spread: &Option<Spread>| match spread {
            Some(s) => writeln!(
                f,
                "{label} p50 {:.1} · p90 {:.1} · p99 {:.1} · max {:.1} {unit} over {} functions",
                s.p50, s.p90, s.p99, s.max, s.count
            ),
            None => writeln!(f, "{label} not in this trace"),
        };
        spread(
            f,
            "duration     ",
            "ms (mean per function)",
            &self.durations_ms,
        )?;
        spread(
            f,
            "memory       ",
            "MB (median per function)",
            &self.memory_mb,
        )?;
        let mix: Vec<String> = self
            .triggers
            .iter()
            .map(|share| {
                format!(
                    "{} {:.1}% ({} function{})",
                    share.trigger,
                    100.0 * share.invocations as f64 / self.invocations.max(1) as f64,
                    share.functions,
                    if share.functions == 1 { "" } else { "s" }
                )
            })
            .collect();
        writeln!(f, "triggers     {}", mix.join(" · "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_scale_to_the_busiest_column() {
        assert_eq!(sparkline(&[0, 1, 2, 4], 4), "▁▃▅█");
        assert_eq!(sparkline(&[1, 1, 4, 4], 2), "▃█");
        assert_eq!(sparkline(&[], 10), "");
    }

    #[test]
    fn regular_arrivals_have_a_cv_of_zero_and_bursts_a_high_one() {
        let mut regular = Gaps::default();
        for i in 0..10 {
            regular.arrival(f64::from(i) * 1000.0);
        }
        assert_eq!(regular.cv(), Some(0.0));
        let mut bursty = Gaps::default();
        for at in [0.0, 1.0, 2.0, 1000.0, 1001.0, 1002.0, 5000.0] {
            bursty.arrival(at);
        }
        assert!(bursty.cv().unwrap() > 1.0);
    }
}
