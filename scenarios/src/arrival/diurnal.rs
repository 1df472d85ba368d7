//! A load that rises and falls in cycles, like a day of real traffic, compressed to whatever
//! period a run can afford.

use std::f64::consts::TAU;

use rand::RngExt;

use super::{ArrivalProcess, ScheduleRng, parameter};

/// A Poisson process with rate `mean · (1 + amplitude · sin(2π·t / period + phase))`.
///
/// Arrivals are drawn by thinning (Lewis and Shedler): candidates come from a Poisson process
/// at the highest rate the cycle reaches, `mean · (1 + amplitude)`, and each candidate at time
/// `t` is kept with probability `rate(t) / (mean · (1 + amplitude))`. Independently thinning a
/// Poisson process this way yields a Poisson process with exactly the rate `rate(t)`, with no
/// step size involved; it only needs that bound to hold at every instant, which it does since a
/// sine never exceeds 1. At least half the candidates are kept, as `amplitude` is at most 1.
#[derive(Debug, Clone)]
pub struct Diurnal {
    mean: f64,
    amplitude: f64,
    angular_frequency: f64,
    phase: f64,
    /// Time of the last candidate, kept or not.
    now: f64,
}

impl Diurnal {
    /// `mean` arrivals per second over a whole cycle (at least 0; 0 gives no arrivals), with a
    /// peak `mean · (1 + amplitude)` of at most [`MAX_RATE`](super::MAX_RATE). `amplitude` is
    /// the swing as a share of the mean, within 0..=1: 0 is a plain Poisson
    /// process, 1 dries up completely at the trough. One cycle lasts `period` seconds (finite,
    /// above 0). `phase` in radians (finite) sets where in the cycle the run starts: 0 starts at
    /// the mean and rising, π/2 at the peak, −π/2 at the trough.
    pub fn new(mean: f64, amplitude: f64, period: f64, phase: f64) -> Result<Self, String> {
        let mean = parameter::rate("mean", mean)?;
        if !(0.0..=1.0).contains(&amplitude) {
            return Err(format!(
                "`amplitude` must be within 0..=1, found {amplitude}"
            ));
        }
        let peak = mean * (1.0 + amplitude);
        if peak > super::MAX_RATE {
            return Err(format!(
                "the peak rate `mean` × (1 + `amplitude`) must be at most 10000000 arrivals/s, \
                 found {peak}"
            ));
        }
        let period = parameter::span("period", period)?;
        if !phase.is_finite() {
            return Err(format!(
                "`phase` must be a finite angle in radians, found {phase}"
            ));
        }
        Ok(Self {
            mean,
            amplitude,
            angular_frequency: TAU / period,
            phase,
            now: 0.0,
        })
    }
}

impl ArrivalProcess for Diurnal {
    fn next_arrival(&mut self, rng: &mut ScheduleRng) -> f64 {
        if self.mean == 0.0 {
            return f64::INFINITY;
        }
        let peak_rate = self.mean * (1.0 + self.amplitude);
        loop {
            // Exponential gap between candidates; `1 - u` lies in (0, 1].
            let u: f64 = rng.random();
            self.now += -(1.0 - u).ln() / peak_rate;
            let swing = (self.angular_frequency * self.now + self.phase).sin();
            let keep: f64 = rng.random();
            // keep < rate(now) / peak_rate, multiplied out.
            if keep * (1.0 + self.amplitude) < 1.0 + self.amplitude * swing {
                return self.now;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::f64::consts::PI;

    use super::super::statistics::{arrivals_before, assert_poisson_count, count_within};
    use super::*;

    #[test]
    fn the_peak_half_of_each_cycle_gets_more_arrivals_by_the_expected_ratio() {
        let (mean, amplitude, period, cycles) = (1000.0, 0.8, 20.0, 5);
        let mut diurnal = Diurnal::new(mean, amplitude, period, 0.0).unwrap();
        let times = arrivals_before(&mut diurnal, 31, period * cycles as f64);

        // With phase 0 the sine is positive over the first half of each cycle. Integrating the
        // rate over a half gives mean · period · (1/2 ± amplitude/π).
        let (mut peak, mut trough) = (0, 0);
        for cycle in 0..cycles {
            let start = cycle as f64 * period;
            peak += count_within(&times, start, start + period / 2.0);
            trough += count_within(&times, start + period / 2.0, start + period);
        }
        let half = |sign: f64| cycles as f64 * mean * period * (0.5 + sign * amplitude / PI);
        assert_poisson_count(peak, half(1.0), "peak halves");
        assert_poisson_count(trough, half(-1.0), "trough halves");

        // The ratio of two Poisson counts: log-ratio variance ≈ 1/peak + 1/trough.
        let expected_ratio = half(1.0) / half(-1.0);
        let ratio = peak as f64 / trough as f64;
        let tolerance = 4.0 * (1.0 / half(1.0) + 1.0 / half(-1.0)).sqrt();
        assert!(
            (ratio / expected_ratio).ln().abs() <= tolerance,
            "peak / trough = {ratio}, expected {expected_ratio}"
        );
    }

    #[test]
    fn phase_moves_the_peak() {
        // Starting at the trough (−π/2), the middle of the cycle is the peak.
        let (mean, period) = (1000.0, 10.0);
        let mut diurnal = Diurnal::new(mean, 1.0, period, -PI / 2.0).unwrap();
        let times = arrivals_before(&mut diurnal, 32, period);
        // ∫ of mean·(1 − cos(2πt/10)) over a quarter cycle around the trough and the peak.
        let quarter = mean * period / 4.0;
        let swing = mean * period / PI;
        let first_eighth = count_within(&times, 0.0, 1.25) + count_within(&times, 8.75, 10.0);
        assert_poisson_count(
            first_eighth,
            quarter - swing * (PI / 4.0).sin(),
            "near the trough",
        );
        let middle = count_within(&times, 3.75, 6.25);
        assert_poisson_count(middle, quarter + swing * (PI / 4.0).sin(), "near the peak");
    }

    #[test]
    fn no_amplitude_is_a_plain_poisson_process() {
        let mean = 500.0;
        let mut diurnal = Diurnal::new(mean, 0.0, 60.0, 1.0).unwrap();
        let times = arrivals_before(&mut diurnal, 33, 400.0);
        let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let n = gaps.len() as f64;
        let average = gaps.iter().sum::<f64>() / n;
        let variance = gaps.iter().map(|g| (g - average).powi(2)).sum::<f64>() / n;
        let cv = variance.sqrt() / average;
        // For exponential gaps both the relative error of the mean and the error of the
        // coefficient of variation have standard deviation 1/√n.
        assert!(
            (average * mean - 1.0).abs() < 4.0 / n.sqrt(),
            "mean gap {average}"
        );
        assert!(
            (cv - 1.0).abs() < 4.0 / n.sqrt(),
            "coefficient of variation {cv}"
        );
    }

    #[test]
    fn zero_mean_has_no_arrivals() {
        let mut rng = rand::SeedableRng::seed_from_u64(1);
        let mut diurnal = Diurnal::new(0.0, 0.5, 10.0, 0.0).unwrap();
        assert_eq!(diurnal.next_arrival(&mut rng), f64::INFINITY);
    }

    #[test]
    fn bad_parameters_are_refused_by_name() {
        assert_eq!(
            Diurnal::new(10.0, 1.5, 60.0, 0.0).unwrap_err(),
            "`amplitude` must be within 0..=1, found 1.5"
        );
        for (diurnal, name) in [
            (Diurnal::new(-1.0, 0.5, 60.0, 0.0), "`mean`"),
            (Diurnal::new(10.0, -0.1, 60.0, 0.0), "`amplitude`"),
            (Diurnal::new(10.0, f64::NAN, 60.0, 0.0), "`amplitude`"),
            (Diurnal::new(10.0, 0.5, 0.0, 0.0), "`period`"),
            (Diurnal::new(10.0, 0.5, 60.0, f64::INFINITY), "`phase`"),
            (Diurnal::new(8e6, 0.5, 60.0, 0.0), "`mean`"),
            (Diurnal::new(8e6, 0.5, 60.0, 0.0), "`amplitude`"),
        ] {
            let message = diurnal.unwrap_err();
            assert!(message.contains(name), "{message:?} does not name {name}");
        }
    }
}
