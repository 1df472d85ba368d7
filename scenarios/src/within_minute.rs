//! Placing a trace minute's invocations within the minute. Every mode is count-preserving: a
//! minute with n invocations gets exactly n arrival times, all inside the minute.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::arrival::ScheduleRng;

/// How invocations counted per minute are spread within the minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WithinMinute {
    /// Evenly spaced, at the middles of n equal slices of the minute.
    Equidistant,
    /// Gaps drawn uniformly, then scaled to fill the minute: more regular than Poisson.
    Uniform,
    /// Gaps drawn exponentially, then scaled to fill the minute: a Poisson process conditioned
    /// on its count (the arrival times are distributed as sorted uniform points).
    #[default]
    Exponential,
}

impl WithinMinute {
    /// Writes `count` sorted offsets within a minute of `minute_us` microseconds into `out`.
    pub fn place(self, count: u32, minute_us: f64, rng: &mut ScheduleRng, out: &mut Vec<f64>) {
        out.clear();
        if count == 0 {
            return;
        }
        let n = count as usize;
        match self {
            Self::Equidistant => {
                let step = minute_us / n as f64;
                out.extend((0..n).map(|i| (i as f64 + 0.5) * step));
            }
            Self::Uniform | Self::Exponential => {
                // n + 1 gaps: the first arrival comes after the first gap and the last one
                // before the last gap, so all n fall strictly inside the minute.
                let mut total = 0.0;
                for _ in 0..=n {
                    let u: f64 = rng.random();
                    let gap = match self {
                        Self::Uniform => u,
                        _ => -(1.0 - u).ln(),
                    };
                    total += gap;
                    out.push(total);
                }
                let scale = minute_us / total;
                out.pop();
                for offset in out.iter_mut() {
                    *offset *= scale;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    const MINUTE: f64 = 60e6;

    #[test]
    fn every_mode_preserves_the_count_inside_the_minute_in_order() {
        let mut rng = ScheduleRng::seed_from_u64(3);
        let mut out = Vec::new();
        for mode in [
            WithinMinute::Equidistant,
            WithinMinute::Uniform,
            WithinMinute::Exponential,
        ] {
            for count in [1, 2, 17, 1000] {
                mode.place(count, MINUTE, &mut rng, &mut out);
                assert_eq!(out.len(), count as usize);
                assert!(out.windows(2).all(|w| w[0] <= w[1]), "{mode:?}");
                assert!(out.iter().all(|&t| (0.0..MINUTE).contains(&t)), "{mode:?}");
            }
        }
        WithinMinute::Equidistant.place(4, MINUTE, &mut rng, &mut out);
        assert_eq!(out, [7.5e6, 22.5e6, 37.5e6, 52.5e6]);
    }

    #[test]
    fn uniform_gaps_are_more_regular_than_exponential_ones() {
        let cv = |mode: WithinMinute| {
            let mut rng = ScheduleRng::seed_from_u64(11);
            let mut out = Vec::new();
            let mut gaps = Vec::new();
            for _ in 0..200 {
                mode.place(100, MINUTE, &mut rng, &mut out);
                gaps.extend(out.windows(2).map(|w| w[1] - w[0]));
            }
            let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
            let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
            var.sqrt() / mean
        };
        let (uniform, exponential) = (cv(WithinMinute::Uniform), cv(WithinMinute::Exponential));
        assert!((exponential - 1.0).abs() < 0.05, "{exponential}");
        assert!((uniform - 0.58).abs() < 0.05, "{uniform}");
    }
}
