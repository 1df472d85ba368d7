//! A load that changes steadily: warming a platform up, or finding the rate where it saturates.

use super::piecewise::{Afterwards, Piece, PiecewisePoisson, PiecewiseRate};
use super::{ArrivalProcess, ScheduleRng, parameter};

/// A Poisson process whose rate goes linearly from `from` to `to` arrivals per second over the
/// first `over` seconds, then stays at `to`.
///
/// Arrivals are exact: a ramp is a rate that varies within every second, and it is drawn as
/// such, not as a staircase of constant rates.
#[derive(Debug, Clone)]
pub struct Ramp {
    arrivals: PiecewisePoisson,
}

impl Ramp {
    /// A ramp from `from` to `to` arrivals per second (at least 0, at most
    /// [`MAX_RATE`](super::MAX_RATE); either may be the larger) taking `over` seconds (finite, above 0). A ramp down to 0 ends the arrivals
    /// there; 0 throughout gives none at all.
    pub fn new(from: f64, to: f64, over: f64) -> Result<Self, String> {
        let from = parameter::rate("from", from)?;
        let to = parameter::rate("to", to)?;
        let over = parameter::span("over", over)?;
        let rate = PiecewiseRate::new(
            &[Piece::linear(from, to, over), Piece::endless(to)],
            Afterwards::Silent,
        );
        Ok(Self {
            arrivals: PiecewisePoisson::new(rate),
        })
    }
}

impl ArrivalProcess for Ramp {
    fn next_arrival(&mut self, rng: &mut ScheduleRng) -> f64 {
        self.arrivals.next_arrival(rng)
    }
}

#[cfg(test)]
mod tests {
    use super::super::statistics::{
        arrivals_before, assert_poisson_count, assert_share, count_within,
    };
    use super::*;

    #[test]
    fn arrivals_follow_a_rising_ramp_then_hold() {
        // 0 to 2000/s over 50 s: 50,000 expected during the ramp, then 2000/s.
        let mut ramp = Ramp::new(0.0, 2000.0, 50.0).unwrap();
        let times = arrivals_before(&mut ramp, 7, 60.0);
        let during = count_within(&times, 0.0, 50.0);
        assert_poisson_count(during, 50_000.0, "during the ramp");
        // Λ(t) = 20 t²: the first tenth holds 1% of the ramp's arrivals, the last tenth 19%.
        assert_share(count_within(&times, 0.0, 5.0), during, 0.01, "first tenth");
        assert_share(count_within(&times, 45.0, 50.0), during, 0.19, "last tenth");
        assert_poisson_count(count_within(&times, 50.0, 60.0), 20_000.0, "after the ramp");
    }

    #[test]
    fn arrivals_follow_a_falling_ramp_and_stop_at_zero() {
        // 1500/s down to 0 over 40 s: 30,000 expected, none afterwards.
        let mut ramp = Ramp::new(1500.0, 0.0, 40.0).unwrap();
        let times = arrivals_before(&mut ramp, 8, f64::INFINITY);
        assert_poisson_count(times.len(), 30_000.0, "during the ramp");
        assert!(times.iter().all(|&t| t < 40.0));
        // Λ(4) = 1500·4 − 18.75·16 = 5700: 19% in the first tenth, 1% in the last.
        assert_share(
            count_within(&times, 0.0, 4.0),
            times.len(),
            0.19,
            "first tenth",
        );
        assert_share(
            count_within(&times, 36.0, 40.0),
            times.len(),
            0.01,
            "last tenth",
        );
    }

    #[test]
    fn a_seed_fixes_the_arrivals() {
        let draw = |seed| arrivals_before(&mut Ramp::new(10.0, 500.0, 20.0).unwrap(), seed, 20.0);
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
    }

    #[test]
    fn a_ramp_of_zeros_has_no_arrivals() {
        let mut rng = rand::SeedableRng::seed_from_u64(1);
        let mut ramp = Ramp::new(0.0, 0.0, 10.0).unwrap();
        assert_eq!(ramp.next_arrival(&mut rng), f64::INFINITY);
    }

    #[test]
    fn bad_parameters_are_refused_by_name() {
        for (ramp, name) in [
            (Ramp::new(-1.0, 10.0, 5.0), "`from`"),
            (Ramp::new(1.0, f64::NAN, 5.0), "`to`"),
            (Ramp::new(1.0, f64::INFINITY, 5.0), "`to`"),
            (Ramp::new(1e8, 1.0, 5.0), "`from`"),
            (Ramp::new(1.0, 10.0, 0.0), "`over`"),
            (Ramp::new(1.0, 10.0, f64::INFINITY), "`over`"),
        ] {
            let message = ramp.unwrap_err();
            assert!(message.contains(name), "{message:?} does not name {name}");
        }
    }
}
