use super::{ArrivalProcess, ScheduleRng, parameter};

/// Arrivals at a fixed rate, evenly spaced, the first one at time zero.
#[derive(Debug, Clone)]
pub struct Constant {
    interval: f64,
    next_index: u64,
}

impl Constant {
    /// `rate` arrivals per second, above 0 and at most [`MAX_RATE`](super::MAX_RATE).
    pub fn new(rate: f64) -> Result<Self, String> {
        let rate = parameter::positive_rate("rate", rate)?;
        Ok(Self {
            interval: 1.0 / rate,
            next_index: 0,
        })
    }
}

impl ArrivalProcess for Constant {
    fn next_arrival(&mut self, _rng: &mut ScheduleRng) -> f64 {
        // Multiplying instead of accumulating keeps the spacing exact over millions of arrivals.
        let at = self.next_index as f64 * self.interval;
        self.next_index += 1;
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn arrivals_are_evenly_spaced_from_zero() {
        let mut rng = ScheduleRng::seed_from_u64(1);
        let mut process = Constant::new(4.0).unwrap();
        let times: Vec<f64> = (0..5).map(|_| process.next_arrival(&mut rng)).collect();
        assert_eq!(times, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    }

    #[test]
    fn rates_outside_the_bounds_are_refused_by_name() {
        for rate in [0.0, f64::NAN, 1e9] {
            let message = Constant::new(rate).unwrap_err();
            assert!(message.contains("`rate`"), "{message}");
        }
    }
}
