use rand::RngExt;

use super::{ArrivalProcess, ScheduleRng, parameter};

/// A Poisson process: exponentially distributed gaps with mean `1 / rate`.
#[derive(Debug, Clone)]
pub struct Poisson {
    rate: f64,
    now: f64,
}

impl Poisson {
    /// `rate` arrivals per second, above 0 and at most [`MAX_RATE`](super::MAX_RATE).
    pub fn new(rate: f64) -> Result<Self, String> {
        let rate = parameter::positive_rate("rate", rate)?;
        Ok(Self { rate, now: 0.0 })
    }
}

impl ArrivalProcess for Poisson {
    fn next_arrival(&mut self, rng: &mut ScheduleRng) -> f64 {
        // Inverse transform sampling; `1 - u` lies in (0, 1], so the logarithm is finite.
        let u: f64 = rng.random();
        self.now += -(1.0 - u).ln() / self.rate;
        self.now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn gaps_have_the_mean_and_spread_of_an_exponential() {
        let rate = 200.0;
        let mut rng = ScheduleRng::seed_from_u64(42);
        let mut process = Poisson::new(rate).unwrap();
        let mut previous = 0.0;
        let gaps: Vec<f64> = (0..200_000)
            .map(|_| {
                let at = process.next_arrival(&mut rng);
                let gap = at - previous;
                previous = at;
                gap
            })
            .collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let variance = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        let cv = variance.sqrt() / mean;
        // Mean 1/rate and coefficient of variation 1 are what make it Poisson; a constant or
        // uniform process fails the second check.
        assert!((mean * rate - 1.0).abs() < 0.01, "mean gap {mean}");
        assert!((cv - 1.0).abs() < 0.01, "coefficient of variation {cv}");
        assert!(gaps.iter().all(|&g| g >= 0.0));
    }

    #[test]
    fn rates_outside_the_bounds_are_refused_by_name() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e9] {
            let message = Poisson::new(rate).unwrap_err();
            assert!(message.contains("`rate`"), "{message}");
        }
    }
}
