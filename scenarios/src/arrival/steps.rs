//! A load that moves between plateaus: a step test, a staircase to saturation, or traffic with
//! pauses that let a platform scale in.

use super::piecewise::{Afterwards, Piece, PiecewisePoisson, PiecewiseRate};
use super::{ArrivalProcess, ScheduleRng, parameter};

/// A Poisson process whose rate is constant within each of a run of steps; after the last step
/// there are no more arrivals.
///
/// Each step is a fresh stretch of a Poisson process at its own rate: arrivals are exact, and
/// a step of rate 0 is a pause with no arrival in it, not even on its first instant.
#[derive(Debug, Clone)]
pub struct Steps {
    arrivals: PiecewisePoisson,
}

impl Steps {
    /// One step per `(rate, length)` pair, in order from time 0: `rate` arrivals per second
    /// (at least 0, at most [`MAX_RATE`](super::MAX_RATE)) for `length` seconds (finite, above
    /// 0). There must be at least one step. Errors name a step's values `steps[i].rate` and
    /// `steps[i].for`, as scenario files do.
    pub fn new(steps: &[(f64, f64)]) -> Result<Self, String> {
        if steps.is_empty() {
            return Err("`steps` must hold at least one step, found none".to_owned());
        }
        let pieces = steps
            .iter()
            .enumerate()
            .map(|(index, &(rate, length))| {
                let rate = parameter::rate(&format!("steps[{index}].rate"), rate)?;
                let length = parameter::span(&format!("steps[{index}].for"), length)?;
                Ok(Piece::constant(rate, length))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let rate = PiecewiseRate::new(&pieces, Afterwards::Silent);
        Ok(Self {
            arrivals: PiecewisePoisson::new(rate),
        })
    }
}

impl ArrivalProcess for Steps {
    fn next_arrival(&mut self, rng: &mut ScheduleRng) -> f64 {
        self.arrivals.next_arrival(rng)
    }
}

#[cfg(test)]
mod tests {
    use super::super::statistics::{arrivals_before, assert_poisson_count, count_within};
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn each_step_gets_its_rate_and_pauses_get_nothing() {
        let steps = [(1000.0, 10.0), (0.0, 5.0), (3000.0, 5.0), (250.0, 20.0)];
        let mut process = Steps::new(&steps).unwrap();
        let times = arrivals_before(&mut process, 11, f64::INFINITY);
        let mut start = 0.0;
        for (index, (rate, length)) in steps.into_iter().enumerate() {
            let count = count_within(&times, start, start + length);
            if rate == 0.0 {
                assert_eq!(count, 0, "arrivals in the pause, step {index}");
            } else {
                assert_poisson_count(count, rate * length, &format!("step {index}"));
            }
            start += length;
        }
        assert_eq!(times.len(), count_within(&times, 0.0, start));
    }

    #[test]
    fn nothing_arrives_after_the_last_step() {
        let mut process = Steps::new(&[(0.0, 1.0), (500.0, 1.0)]).unwrap();
        let times = arrivals_before(&mut process, 2, f64::INFINITY);
        let last = times.last().copied().unwrap_or_default();
        assert!(last > 1.9 && last < 2.0, "last arrival at {last} s");
        // Once ended, it stays ended.
        let mut rng = ScheduleRng::seed_from_u64(3);
        assert_eq!(process.next_arrival(&mut rng), f64::INFINITY);
    }

    #[test]
    fn a_leading_pause_delays_the_first_arrival() {
        let mut rng = ScheduleRng::seed_from_u64(3);
        let mut process = Steps::new(&[(0.0, 30.0), (100.0, 1.0)]).unwrap();
        let first = process.next_arrival(&mut rng);
        assert!((30.0..31.0).contains(&first), "first arrival at {first} s");
    }

    #[test]
    fn bad_parameters_are_refused_by_name() {
        for (steps, name) in [
            (Steps::new(&[]), "`steps`"),
            (Steps::new(&[(1.0, 1.0), (-3.0, 1.0)]), "`steps[1].rate`"),
            (Steps::new(&[(f64::NAN, 1.0)]), "`steps[0].rate`"),
            (Steps::new(&[(1.0, 1.0), (2e7, 1.0)]), "`steps[1].rate`"),
            (Steps::new(&[(1.0, 0.0)]), "`steps[0].for`"),
            (
                Steps::new(&[(1.0, 1.0), (1.0, f64::INFINITY)]),
                "`steps[1].for`",
            ),
        ] {
            let message = steps.unwrap_err();
            assert!(message.contains(name), "{message:?} does not name {name}");
        }
    }
}
