//! `[arrivals]` as a scenario file writes it, checked and turned into an arrival process.

use std::f64::consts::TAU;

use serde::{Deserialize, Serialize};

use super::{ArrivalProcess, ColdProbe, Constant, Diurnal, MIN_GAP, Poisson, Ramp, Spike, Steps};
use crate::duration::{optional_seconds, seconds};

/// The most invocations a synthetic schedule may expect over its duration. Ten billion is days
/// of the fastest load a generator sends; more is a mistake in the rate or the duration, and
/// would take as long to write out as a schedule file as to run.
pub const MAX_INVOCATIONS: f64 = 1e10;

/// One step of a `steps` arrival process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Arrivals per second during the step.
    pub rate: f64,
    /// How long the step lasts.
    #[serde(rename = "for", deserialize_with = "seconds")]
    pub seconds: f64,
}

/// How invocations arrive in a synthetic scenario, across all functions together. Times are
/// durations such as `"30s"`; rates are invocations per second, at most
/// [`MAX_RATE`](super::MAX_RATE).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "process", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ArrivalSpec {
    /// A Poisson process; each arrival goes to a function drawn at random by weight.
    Poisson { rate: f64 },
    /// Evenly spaced arrivals, interleaved among functions by weight.
    Constant { rate: f64 },
    /// A Poisson process whose rate goes linearly from `from` to `to` over `over` (default: the
    /// whole duration), then stays at `to`.
    Ramp {
        from: f64,
        to: f64,
        #[serde(default, deserialize_with = "optional_seconds")]
        over: Option<f64>,
    },
    /// Poisson rates that change in steps; no arrivals after the last step.
    Steps { steps: Vec<Step> },
    /// Poisson arrivals at `base`, with bursts at `peak` lasting `length` from `at`, repeated
    /// `every` if given.
    Spike {
        base: f64,
        peak: f64,
        #[serde(deserialize_with = "seconds")]
        at: f64,
        #[serde(deserialize_with = "seconds")]
        length: f64,
        #[serde(default, deserialize_with = "optional_seconds")]
        every: Option<f64>,
    },
    /// Poisson arrivals whose rate follows a sine: `mean × (1 + amplitude × sin(2πt/period))`.
    Diurnal {
        mean: f64,
        amplitude: f64,
        #[serde(deserialize_with = "seconds")]
        period: f64,
    },
    /// Every function invoked every `gap` (functions evenly staggered): choose a gap longer
    /// than the platform's keep-alive to meet a cold (or snapshot) start every time.
    ColdProbe {
        #[serde(deserialize_with = "seconds")]
        gap: f64,
        #[serde(default, deserialize_with = "optional_seconds")]
        jitter: Option<f64>,
    },
}

impl ArrivalSpec {
    /// Checks the spec for a run of `duration` seconds over `functions` functions: every
    /// parameter, and the number of invocations it expects. The error names the parameter.
    pub(crate) fn check(&self, duration: f64, functions: usize) -> Result<(), String> {
        self.build(duration, functions)?;
        let expected = self.expected_invocations(duration, functions);
        if expected > MAX_INVOCATIONS {
            return Err(format!(
                "expects {expected:.3e} invocations over the duration; at most 1e10 are allowed: \
                 lower the rate or shorten `duration`"
            ));
        }
        Ok(())
    }

    /// The process, and whether functions are drawn at random (else interleaved).
    pub(crate) fn build(
        &self,
        duration: f64,
        functions: usize,
    ) -> Result<(Box<dyn ArrivalProcess>, bool), String> {
        Ok(match *self {
            Self::Poisson { rate } => (Box::new(Poisson::new(rate)?), true),
            Self::Constant { rate } => (Box::new(Constant::new(rate)?), false),
            Self::Ramp { from, to, over } => (
                Box::new(Ramp::new(from, to, over.unwrap_or(duration))?),
                true,
            ),
            Self::Steps { ref steps } => {
                let steps: Vec<(f64, f64)> = steps.iter().map(|s| (s.rate, s.seconds)).collect();
                (Box::new(Steps::new(&steps)?), true)
            }
            Self::Spike {
                base,
                peak,
                at,
                length,
                every,
            } => (Box::new(Spike::new(base, peak, at, length, every)?), true),
            Self::Diurnal {
                mean,
                amplitude,
                period,
            } => (Box::new(Diurnal::new(mean, amplitude, period, 0.0)?), true),
            Self::ColdProbe { gap, jitter } => {
                // Checked as written, then spread: round-robin gives each function `gap`.
                ColdProbe::new(gap, 0.0, jitter.unwrap_or(0.0))?;
                let functions = functions.max(1) as f64;
                let spacing = gap / functions;
                if spacing < MIN_GAP {
                    return Err(format!(
                        "`gap` is shared by the {functions} functions, {spacing} s each; each \
                         must have at least 1 µs, so `gap` must be at least {functions} µs"
                    ));
                }
                let jitter = jitter.unwrap_or(0.0) / functions;
                (Box::new(ColdProbe::new(spacing, 0.0, jitter)?), false)
            }
        })
    }

    /// Invocations per second at the busiest moment, over `functions` functions.
    pub fn peak_rate(&self, functions: usize) -> f64 {
        match *self {
            Self::Poisson { rate } | Self::Constant { rate } => rate,
            Self::Ramp { from, to, .. } => from.max(to),
            Self::Steps { ref steps } => steps.iter().map(|s| s.rate).fold(0.0, f64::max),
            Self::Spike { base, peak, .. } => base.max(peak),
            Self::Diurnal {
                mean, amplitude, ..
            } => mean * (1.0 + amplitude.abs()),
            Self::ColdProbe { gap, .. } => functions.max(1) as f64 / gap,
        }
    }

    /// How many invocations the process expects in its first `duration` seconds.
    fn expected_invocations(&self, duration: f64, functions: usize) -> f64 {
        // Seconds of `[from, from + length)` within the run.
        let within = |from: f64, length: f64| (duration.min(from + length) - from).max(0.0);
        match *self {
            Self::Poisson { rate } | Self::Constant { rate } => rate * duration,
            Self::Ramp { from, to, over } => {
                let over = over.unwrap_or(duration);
                let ramping = duration.min(over);
                let reached = from + (to - from) * ramping / over;
                (from + reached) / 2.0 * ramping + to * within(over, f64::INFINITY)
            }
            Self::Steps { ref steps } => {
                let mut start = 0.0;
                let mut total = 0.0;
                for step in steps {
                    total += step.rate * within(start, step.seconds);
                    start += step.seconds;
                }
                total
            }
            Self::Spike {
                base,
                peak,
                at,
                length,
                every,
            } => {
                let bursting = match every {
                    None => within(at, length),
                    Some(every) => {
                        let after = (duration - at).max(0.0);
                        let cycles = (after / every).floor();
                        cycles * length + within(at + cycles * every, length)
                    }
                };
                base * (duration - bursting) + peak * bursting
            }
            Self::Diurnal {
                mean,
                amplitude,
                period,
            } => {
                // ∫₀ᵈ mean · (1 + a · sin(2πt/p)) dt.
                let swing = period / TAU * (1.0 - (TAU * duration / period).cos());
                mean * (duration + amplitude * swing)
            }
            // Arrivals every gap ÷ functions, from 0 to before the end.
            Self::ColdProbe { gap, .. } => (duration * functions.max(1) as f64 / gap).ceil(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_invocations_follow_each_process_over_the_duration() {
        let close = |spec: ArrivalSpec, duration: f64, expected: f64| {
            let found = spec.expected_invocations(duration, 2);
            assert!(
                (found - expected).abs() <= 1e-9 * expected.max(1.0),
                "{spec:?}: {found}, expected {expected}"
            );
        };
        close(ArrivalSpec::Poisson { rate: 10.0 }, 30.0, 300.0);
        // Half of a ramp from 0 to 200/s over 20 s, then the whole ramp and 10 s at 200/s.
        let ramp = |over| ArrivalSpec::Ramp {
            from: 0.0,
            to: 200.0,
            over,
        };
        close(ramp(Some(20.0)), 10.0, 500.0);
        close(ramp(Some(20.0)), 30.0, 2000.0 + 2000.0);
        close(ramp(None), 20.0, 2000.0);
        let steps = ArrivalSpec::Steps {
            steps: vec![
                Step {
                    rate: 100.0,
                    seconds: 10.0,
                },
                Step {
                    rate: 400.0,
                    seconds: 10.0,
                },
            ],
        };
        close(steps.clone(), 15.0, 1000.0 + 2000.0);
        close(steps, 60.0, 5000.0);
        // Bursts of 2 s every 10 s from 5 s: at 5–7, 15–17 and 25–26 within 26 s.
        let spike = ArrivalSpec::Spike {
            base: 10.0,
            peak: 500.0,
            at: 5.0,
            length: 2.0,
            every: Some(10.0),
        };
        close(spike, 26.0, 10.0 * 21.0 + 500.0 * 5.0);
        // Whole periods average to the mean.
        let diurnal = ArrivalSpec::Diurnal {
            mean: 100.0,
            amplitude: 0.8,
            period: 20.0,
        };
        close(diurnal, 40.0, 4000.0);
        let probe = ArrivalSpec::ColdProbe {
            gap: 10.0,
            jitter: None,
        };
        close(probe, 60.0, 2.0 * 6.0);
    }

    #[test]
    fn a_schedule_expecting_too_many_invocations_is_refused() {
        let spec = ArrivalSpec::Constant { rate: 1e7 };
        assert!(spec.check(1000.0, 1).is_ok());
        let message = spec.check(1001.0, 1).unwrap_err();
        assert!(
            message.contains("1e10") && message.contains("`duration`"),
            "{message}"
        );
    }
}
