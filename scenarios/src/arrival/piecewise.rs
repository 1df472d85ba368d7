//! Poisson arrivals whose rate is built from pieces of constant or linearly changing rate.
//!
//! [`Ramp`](super::Ramp), [`Steps`](super::Steps) and [`Spike`](super::Spike) are all such
//! rates, and all draw their arrivals here, exactly, by time change: if `E₁ < E₂ < …` are the
//! arrival times of a Poisson process of rate 1, then `Λ⁻¹(E₁) < Λ⁻¹(E₂) < …`, where
//! `Λ(t) = ∫₀ᵗ rate` is the expected number of arrivals by `t`, are the arrival times of a Poisson
//! process with that rate. `Λ` is linear over a piece of constant rate and quadratic over a
//! linear one, so its inverse has a closed form on every piece and no step size or bound on the
//! rate enters the result.

use rand::RngExt;

use super::{ArrivalProcess, ScheduleRng};

/// One stretch of a [`PiecewiseRate`]: the rate goes linearly from `from` to `to` over `length`
/// seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Piece {
    from: f64,
    to: f64,
    length: f64,
}

impl Piece {
    /// `rate` arrivals per second for `length` seconds.
    pub(super) fn constant(rate: f64, length: f64) -> Self {
        Self::linear(rate, rate, length)
    }

    /// A rate going linearly from `from` to `to` arrivals per second over `length` seconds.
    pub(super) fn linear(from: f64, to: f64, length: f64) -> Self {
        Self { from, to, length }
    }

    /// `rate` arrivals per second from here on; only the last piece may be endless.
    pub(super) fn endless(rate: f64) -> Self {
        Self::constant(rate, f64::INFINITY)
    }
}

/// A piece placed on the time line, with what the inversion needs precomputed.
#[derive(Debug, Clone, Copy)]
struct Segment {
    start: f64,
    length: f64,
    /// Rate at `start`.
    rate: f64,
    /// Change of rate per second.
    slope: f64,
    /// `Λ(start)`.
    cumulative_start: f64,
    /// `Λ(start + length)`; infinite for an endless piece of positive rate.
    cumulative_end: f64,
}

impl Segment {
    /// Expected arrivals from the start of the segment to `offset` seconds into it.
    #[cfg(test)]
    fn expected_by(&self, offset: f64) -> f64 {
        if offset <= 0.0 {
            return 0.0;
        }
        self.rate * offset + self.slope * offset * offset / 2.0
    }

    /// Seconds into the segment by which `expected` arrivals are expected: the `x` solving
    /// `rate·x + slope·x²/2 = expected`.
    fn offset_of(&self, expected: f64) -> f64 {
        if expected <= 0.0 {
            return 0.0;
        }
        // The root written as 2d / (a + √(a² + 2sd)) rather than (√(a² + 2sd) − a) / s loses no
        // precision when the slope is tiny or the rate falls, and needs no special case for a
        // constant rate. Rounding can push the discriminant of a falling rate a hair below 0.
        let discriminant = (self.rate * self.rate + 2.0 * self.slope * expected).max(0.0);
        let offset = 2.0 * expected / (self.rate + discriminant.sqrt());
        offset.clamp(0.0, self.length)
    }
}

/// What the rate does after the last piece.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Afterwards {
    /// Zero: no more arrivals.
    Silent,
    /// The pieces from this index to the last one repeat, back to back, forever.
    Repeat { from_piece: usize },
}

/// A rate over time made of [`Piece`]s laid back to back from time 0, with its cumulative
/// `Λ(t)` and the inverse of that.
#[derive(Debug, Clone)]
pub(super) struct PiecewiseRate {
    segments: Vec<Segment>,
    /// The stretch that repeats after the last piece, if any.
    cycle: Option<Cycle>,
}

#[derive(Debug, Clone, Copy)]
struct Cycle {
    /// Index of the segment the cycle starts with; it ends with the last one.
    first_segment: usize,
    /// Seconds per cycle.
    period: f64,
    /// Arrivals each cycle adds to `Λ`.
    expected_per_period: f64,
}

impl PiecewiseRate {
    /// Lays `pieces` out from time 0. Rates must be finite and at least 0, lengths positive,
    /// only the last piece may be endless, and a repeating cycle must be finite.
    pub(super) fn new(pieces: &[Piece], afterwards: Afterwards) -> Self {
        let mut segments = Vec::with_capacity(pieces.len());
        let (mut start, mut cumulative) = (0.0, 0.0);
        for (index, piece) in pieces.iter().enumerate() {
            debug_assert!(piece.from >= 0.0 && piece.to >= 0.0, "{piece:?}");
            debug_assert!(piece.length > 0.0, "{piece:?}");
            let endless = piece.length.is_infinite();
            debug_assert!(!endless || (index + 1 == pieces.len() && piece.from == piece.to));
            let expected = if endless {
                // ∞ · 0 would be NaN: an endless silence expects no arrivals.
                if piece.from > 0.0 { f64::INFINITY } else { 0.0 }
            } else {
                (piece.from + piece.to) / 2.0 * piece.length
            };
            let slope = if endless {
                0.0
            } else {
                (piece.to - piece.from) / piece.length
            };
            segments.push(Segment {
                start,
                length: piece.length,
                rate: piece.from,
                slope,
                cumulative_start: cumulative,
                cumulative_end: cumulative + expected,
            });
            start += piece.length;
            cumulative += expected;
        }
        let cycle = match afterwards {
            Afterwards::Silent => None,
            Afterwards::Repeat { from_piece } => {
                let first = segments[from_piece];
                debug_assert!(start.is_finite(), "a repeating cycle must be finite");
                Some(Cycle {
                    first_segment: from_piece,
                    period: start - first.start,
                    expected_per_period: cumulative - first.cumulative_start,
                })
            }
        };
        Self { segments, cycle }
    }

    /// Expected arrivals by the end of the listed pieces, before any repetition.
    fn listed_total(&self) -> f64 {
        self.segments.last().map_or(0.0, |s| s.cumulative_end)
    }

    /// `Λ(t)`: the expected number of arrivals before `t` seconds.
    #[cfg(test)]
    pub(super) fn cumulative(&self, t: f64) -> f64 {
        let Some(last) = self.segments.last() else {
            return 0.0;
        };
        let end = last.start + last.length;
        let (t, earlier_cycles) = match self.cycle {
            Some(cycle) if t >= end => {
                let cycle_start = self.segments[cycle.first_segment].start;
                let cycles = ((t - cycle_start) / cycle.period).floor();
                (
                    t - cycles * cycle.period,
                    cycles * cycle.expected_per_period,
                )
            }
            _ => (t, 0.0),
        };
        let index = self
            .segments
            .partition_point(|s| s.start + s.length <= t)
            .min(self.segments.len() - 1);
        let segment = &self.segments[index];
        let within = segment.expected_by((t - segment.start).min(segment.length));
        earlier_cycles + segment.cumulative_start + within
    }

    /// `Λ⁻¹(expected)`: the earliest time by which `expected` arrivals are expected and after
    /// which the rate is not zero, or infinity if the rate never adds up to that many.
    ///
    /// Skipping the zero-rate stretches means an arrival never lands inside a pause, not even
    /// on its first instant.
    pub(super) fn inverse(&self, expected: f64) -> f64 {
        let total = self.listed_total();
        if expected < total {
            return self.inverse_listed(expected);
        }
        let Some(cycle) = self.cycle else {
            return f64::INFINITY;
        };
        if cycle.expected_per_period <= 0.0 {
            return f64::INFINITY;
        }
        let cycle_start = self.segments[cycle.first_segment];
        let mut cycles = ((expected - cycle_start.cumulative_start) / cycle.expected_per_period)
            .floor()
            .max(0.0);
        let mut within = expected - cycles * cycle.expected_per_period;
        // Rounding can leave the remainder a hair outside the cycle's own range of Λ.
        if within >= total {
            cycles += 1.0;
            within -= cycle.expected_per_period;
        }
        if within < cycle_start.cumulative_start {
            cycles -= 1.0;
            within += cycle.expected_per_period;
        }
        cycles * cycle.period + self.inverse_listed(within)
    }

    /// The inverse within the listed pieces; `expected` must be below their total.
    fn inverse_listed(&self, expected: f64) -> f64 {
        let index = self
            .segments
            .partition_point(|s| s.cumulative_end <= expected)
            .min(self.segments.len() - 1);
        let segment = &self.segments[index];
        segment.start + segment.offset_of(expected - segment.cumulative_start)
    }
}

/// Arrivals of a Poisson process with a [`PiecewiseRate`], drawn by inverting `Λ`.
#[derive(Debug, Clone)]
pub(super) struct PiecewisePoisson {
    rate: PiecewiseRate,
    /// Arrival time of the unit-rate process, i.e. `Λ` at the last arrival.
    expected: f64,
    last: f64,
}

impl PiecewisePoisson {
    pub(super) fn new(rate: PiecewiseRate) -> Self {
        Self {
            rate,
            expected: 0.0,
            last: 0.0,
        }
    }
}

impl ArrivalProcess for PiecewisePoisson {
    fn next_arrival(&mut self, rng: &mut ScheduleRng) -> f64 {
        if self.last.is_infinite() {
            return self.last;
        }
        // Exponential gap of the unit-rate process; `1 - u` lies in (0, 1].
        let u: f64 = rng.random();
        self.expected += -(1.0 - u).ln();
        // The inverse is monotone, but two nearly equal values can round to times in the wrong
        // order; holding on to the latest keeps the promise never to go back in time.
        self.last = self.last.max(self.rate.inverse(self.expected));
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::super::statistics::arrivals_before;
    use super::*;
    use rand::SeedableRng;

    /// Every kind of piece: rising, falling to zero, a pause, constant, rising from zero.
    fn varied_pieces() -> Vec<Piece> {
        vec![
            Piece::linear(5.0, 300.0, 7.5),
            Piece::linear(300.0, 0.0, 2.0),
            Piece::constant(0.0, 3.0),
            Piece::constant(40.0, 1.25),
            Piece::linear(0.0, 1e-9, 4.0),
            Piece::linear(0.0, 80.0, 6.0),
        ]
    }

    fn assert_close(found: f64, wanted: f64, what: &str) {
        let tolerance = 1e-9 * wanted.abs().max(1.0);
        assert!(
            (found - wanted).abs() <= tolerance,
            "{what}: found {found}, wanted {wanted}"
        );
    }

    /// Rates that never come near zero, where a time is recoverable from its `Λ`.
    fn busy_pieces() -> Vec<Piece> {
        vec![
            Piece::linear(5.0, 300.0, 7.5),
            Piece::linear(300.0, 20.0, 2.0),
            Piece::constant(40.0, 1.25),
            Piece::linear(1.0, 80.0, 6.0),
        ]
    }

    /// Λ(Λ⁻¹(x)) = x for random x below Λ(horizon).
    fn assert_cumulative_undoes_inverse(rate: &PiecewiseRate, horizon: f64, seed: u64) {
        let mut rng = ScheduleRng::seed_from_u64(seed);
        let most = rate.cumulative(horizon);
        for _ in 0..20_000 {
            let expected = rng.random::<f64>() * most;
            let at = rate.inverse(expected);
            assert!(at <= horizon, "Λ⁻¹({expected}) = {at} is past {horizon}");
            assert_close(rate.cumulative(at), expected, "Λ(Λ⁻¹)");
        }
    }

    /// Λ⁻¹(Λ(t)) = t for random t below `horizon`.
    fn assert_inverse_undoes_cumulative(rate: &PiecewiseRate, horizon: f64, seed: u64) {
        let mut rng = ScheduleRng::seed_from_u64(seed);
        for _ in 0..20_000 {
            let t = rng.random::<f64>() * horizon;
            assert_close(rate.inverse(rate.cumulative(t)), t, "Λ⁻¹(Λ)");
        }
    }

    #[test]
    fn cumulative_and_inverse_undo_each_other() {
        for (afterwards, horizon) in [
            (Afterwards::Silent, 23.75),
            (Afterwards::Repeat { from_piece: 1 }, 500.0),
        ] {
            let rate = PiecewiseRate::new(&varied_pieces(), afterwards);
            assert_cumulative_undoes_inverse(&rate, horizon, 1);
        }
        let mut endless = varied_pieces();
        endless.push(Piece::endless(12.0));
        let rate = PiecewiseRate::new(&endless, Afterwards::Silent);
        assert_cumulative_undoes_inverse(&rate, 200.0, 2);

        for (afterwards, horizon) in [
            (Afterwards::Silent, 16.75),
            (Afterwards::Repeat { from_piece: 2 }, 500.0),
        ] {
            let rate = PiecewiseRate::new(&busy_pieces(), afterwards);
            assert_inverse_undoes_cumulative(&rate, horizon, 3);
        }
    }

    #[test]
    fn inverse_of_a_pause_is_its_end() {
        let rate = PiecewiseRate::new(&varied_pieces(), Afterwards::Silent);
        // The pause runs from 9.5 s to 12.5 s; the rate is already zero at 9.5 s.
        for t in [9.5, 10.0, 12.4] {
            assert_close(rate.inverse(rate.cumulative(t)), 12.5, "Λ⁻¹(Λ) in a pause");
        }
    }

    #[test]
    fn cumulative_integrates_each_piece() {
        let rate = PiecewiseRate::new(&varied_pieces(), Afterwards::Silent);
        // Area under each piece, summed by hand.
        let ends = [
            (7.5, 1143.75),
            (9.5, 1443.75),
            (12.5, 1443.75),
            (13.75, 1493.75),
            (17.75, 1493.75 + 2e-9),
            (23.75, 1733.75 + 2e-9),
        ];
        for (t, expected) in ends {
            assert_close(rate.cumulative(t), expected, &format!("Λ({t})"));
        }
        assert_close(rate.cumulative(100.0), 1733.75 + 2e-9, "Λ after the end");
        let repeating = PiecewiseRate::new(&varied_pieces(), Afterwards::Repeat { from_piece: 3 });
        // Pieces 3.. last 11.25 s and add 290 expected arrivals per cycle.
        assert_close(
            repeating.cumulative(23.75 + 2.0 * 11.25 + 1.0),
            1733.75 + 2e-9 + 2.0 * (290.0 + 2e-9) + 40.0,
            "Λ two cycles and a second later",
        );
    }

    #[test]
    fn no_arrivals_past_what_the_rate_adds_up_to() {
        let silent = PiecewiseRate::new(&varied_pieces(), Afterwards::Silent);
        assert_eq!(silent.inverse(1733.75 + 1e-6), f64::INFINITY);

        let never = PiecewiseRate::new(&[Piece::endless(0.0)], Afterwards::Silent);
        assert_eq!(never.inverse(0.0), f64::INFINITY);

        let quiet_cycle = PiecewiseRate::new(
            &[Piece::constant(10.0, 1.0), Piece::constant(0.0, 1.0)],
            Afterwards::Repeat { from_piece: 1 },
        );
        assert_eq!(quiet_cycle.inverse(10.5), f64::INFINITY);
    }

    #[test]
    fn arrivals_skip_pauses_and_stop_for_good() {
        let rate = PiecewiseRate::new(
            &[
                Piece::constant(50.0, 1.0),
                Piece::constant(0.0, 1.0),
                Piece::constant(50.0, 1.0),
            ],
            Afterwards::Silent,
        );
        let mut process = PiecewisePoisson::new(rate);
        let times = arrivals_before(&mut process, 5, f64::INFINITY);
        assert!(times.iter().all(|&t| !(1.0..2.0).contains(&t)), "{times:?}");
        assert!(times.iter().all(|&t| t < 3.0));
        assert!(!times.is_empty());
        // Once ended, it stays ended.
        let mut rng = ScheduleRng::seed_from_u64(6);
        assert_eq!(process.next_arrival(&mut rng), f64::INFINITY);
    }
}
