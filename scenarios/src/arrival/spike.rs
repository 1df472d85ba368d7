//! A steady load with bursts: how a platform absorbs a sudden surge, and how it recovers.

use super::piecewise::{Afterwards, Piece, PiecewisePoisson, PiecewiseRate};
use super::{ArrivalProcess, ScheduleRng, parameter};

/// A Poisson process at a `base` rate that jumps to a `peak` rate for bursts of `length`
/// seconds: one burst at `at`, or one every `every` seconds from `at` on.
///
/// Arrivals are exact, drawn for the rate as it is at every instant, so a burst starts and ends
/// sharply.
#[derive(Debug, Clone)]
pub struct Spike {
    arrivals: PiecewisePoisson,
}

impl Spike {
    /// `base` and `peak` are arrivals per second (at least 0, at most
    /// [`MAX_RATE`](super::MAX_RATE); the peak is usually the higher, but a dip is allowed). The first burst starts `at` seconds from the start (finite,
    /// at least 0) and lasts `length` seconds (finite, above 0). With `every`, a burst starts
    /// every `every` seconds from `at` on; it must be longer than `length`, so that bursts
    /// neither touch nor overlap. Without it there is one burst.
    pub fn new(
        base: f64,
        peak: f64,
        at: f64,
        length: f64,
        every: Option<f64>,
    ) -> Result<Self, String> {
        let base = parameter::rate("base", base)?;
        let peak = parameter::rate("peak", peak)?;
        let at = parameter::moment("at", at)?;
        let length = parameter::span("length", length)?;
        let every = every
            .map(|every| parameter::span("every", every))
            .transpose()?;

        let mut pieces = Vec::with_capacity(3);
        if at > 0.0 {
            pieces.push(Piece::constant(base, at));
        }
        let burst = pieces.len();
        pieces.push(Piece::constant(peak, length));
        let afterwards = match every {
            Some(every) if every <= length => {
                return Err(format!(
                    "`every` must be longer than `length` so bursts do not overlap, \
                     found every = {every} s and length = {length} s"
                ));
            }
            Some(every) => {
                pieces.push(Piece::constant(base, every - length));
                Afterwards::Repeat { from_piece: burst }
            }
            None => {
                pieces.push(Piece::endless(base));
                Afterwards::Silent
            }
        };
        Ok(Self {
            arrivals: PiecewisePoisson::new(PiecewiseRate::new(&pieces, afterwards)),
        })
    }
}

impl ArrivalProcess for Spike {
    fn next_arrival(&mut self, rng: &mut ScheduleRng) -> f64 {
        self.arrivals.next_arrival(rng)
    }
}

#[cfg(test)]
mod tests {
    use super::super::statistics::{arrivals_before, assert_poisson_count, count_within};
    use super::*;

    /// Whether `t` falls in a burst of `length` seconds starting at `at + k·every`.
    fn in_burst(t: f64, at: f64, length: f64, every: f64) -> bool {
        t >= at && (t - at) % every < length
    }

    #[test]
    fn repeating_bursts_run_at_peak_rate_and_the_rest_at_base_rate() {
        let (base, peak, at, length, every, end) = (100.0, 2000.0, 10.0, 5.0, 30.0, 300.0);
        let mut spike = Spike::new(base, peak, at, length, Some(every)).unwrap();
        let times = arrivals_before(&mut spike, 21, end);

        // Bursts at 10, 40, …, 280 s: ten of 5 s, 50 s at peak and 250 s at base.
        let inside = times
            .iter()
            .filter(|&&t| in_burst(t, at, length, every))
            .count();
        assert_poisson_count(inside, peak * 50.0, "inside bursts");
        assert_poisson_count(times.len() - inside, base * 250.0, "outside bursts");

        // Each burst, not just their total, gets its arrivals.
        for burst in 0..10 {
            let start = at + burst as f64 * every;
            let count = count_within(&times, start, start + length);
            assert_poisson_count(count, peak * length, &format!("burst {burst}"));
        }
        let before = count_within(&times, 0.0, at);
        assert_poisson_count(before, base * at, "before the first burst");
    }

    #[test]
    fn without_every_there_is_one_burst() {
        let (base, peak) = (200.0, 3000.0);
        let mut spike = Spike::new(base, peak, 0.0, 4.0, None).unwrap();
        let times = arrivals_before(&mut spike, 22, 100.0);
        assert_poisson_count(count_within(&times, 0.0, 4.0), peak * 4.0, "the burst");
        assert_poisson_count(count_within(&times, 4.0, 100.0), base * 96.0, "after it");
        // Where a second burst would be with every = 30 s, there is only base load.
        assert_poisson_count(count_within(&times, 30.0, 34.0), base * 4.0, "30 s later");
    }

    #[test]
    fn bad_parameters_are_refused_by_name() {
        for (spike, name) in [
            (Spike::new(-1.0, 10.0, 0.0, 1.0, None), "`base`"),
            (Spike::new(1.0, f64::NAN, 0.0, 1.0, None), "`peak`"),
            (Spike::new(1.0, 1e9, 0.0, 1.0, None), "`peak`"),
            (Spike::new(1e9, 1.0, 0.0, 1.0, None), "`base`"),
            (Spike::new(1.0, 10.0, -5.0, 1.0, None), "`at`"),
            (Spike::new(1.0, 10.0, 0.0, 0.0, None), "`length`"),
            (
                Spike::new(1.0, 10.0, 0.0, 1.0, Some(f64::INFINITY)),
                "`every`",
            ),
            (Spike::new(1.0, 10.0, 0.0, 5.0, Some(5.0)), "`every`"),
        ] {
            let message = spike.unwrap_err();
            assert!(message.contains(name), "{message:?} does not name {name}");
        }
    }
}
