//! Arrivals spaced far enough apart that each one meets a cold start.
//!
//! Measuring cold (or snapshot) starts needs every invocation to find no warm instance. Choose
//! a gap longer than the platform's keep-alive and each arrival lands after the previous
//! instance was reclaimed; with a keep-alive policy that adapts to traffic, make the gap longer
//! than the longest keep-alive it may choose.

use rand::RngExt;

use super::{ArrivalProcess, ScheduleRng, parameter};

/// Arrivals `gap` seconds apart from `first` on, each optionally moved by a uniform jitter.
///
/// Jitter keeps probes from lining up with a platform's periodic work (reaper sweeps, metric
/// flushes) without giving up the spacing: every arrival is within `jitter` of its slot, so
/// consecutive arrivals stay between `gap − 2·jitter` and `gap + 2·jitter` apart and, with
/// `jitter` below `gap / 2`, never swap places.
#[derive(Debug, Clone)]
pub struct ColdProbe {
    gap: f64,
    first: f64,
    jitter: f64,
    next_index: u64,
}

impl ColdProbe {
    /// Arrivals every `gap` seconds (finite, at least 1 µs), the first at `first` seconds from the
    /// start (finite, at least 0; 0 for right away). Each moves by up to `jitter` seconds either
    /// way, uniformly (finite, at least 0 and below `gap / 2`; 0 for exact spacing). An arrival
    /// that jitter would move before the start arrives at the start instead.
    pub fn new(gap: f64, first: f64, jitter: f64) -> Result<Self, String> {
        let gap = parameter::gap("gap", gap)?;
        let first = parameter::moment("first", first)?;
        if !(jitter.is_finite() && jitter >= 0.0 && jitter < gap / 2.0) {
            return Err(format!(
                "`jitter` must be at least 0 s and below half of `gap` ({} s) so arrivals \
                 keep their order, found {jitter}",
                gap / 2.0
            ));
        }
        Ok(Self {
            gap,
            first,
            jitter,
            next_index: 0,
        })
    }
}

impl ArrivalProcess for ColdProbe {
    fn next_arrival(&mut self, rng: &mut ScheduleRng) -> f64 {
        // Multiplying instead of accumulating keeps every slot exact however long the run.
        let slot = self.first + self.next_index as f64 * self.gap;
        self.next_index += 1;
        if self.jitter == 0.0 {
            return slot;
        }
        let u: f64 = rng.random();
        (slot + self.jitter * (2.0 * u - 1.0)).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::statistics::arrivals_before;
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn without_jitter_arrivals_are_exactly_gap_apart() {
        let mut rng = ScheduleRng::seed_from_u64(1);
        let mut probe = ColdProbe::new(600.0, 5.0, 0.0).unwrap();
        let times: Vec<f64> = (0..4).map(|_| probe.next_arrival(&mut rng)).collect();
        assert_eq!(times, vec![5.0, 605.0, 1205.0, 1805.0]);

        let mut probe = ColdProbe::new(0.1, 0.0, 0.0).unwrap();
        let times: Vec<f64> = (0..100_001).map(|_| probe.next_arrival(&mut rng)).collect();
        assert_eq!(times[0], 0.0);
        assert_eq!(times[100_000], 10_000.0, "spacing drifted over a long run");
    }

    #[test]
    fn jitter_moves_arrivals_within_bounds_and_keeps_their_order() {
        let (gap, first, jitter) = (30.0, 100.0, 14.0);
        let mut probe = ColdProbe::new(gap, first, jitter).unwrap();
        let times = arrivals_before(&mut probe, 2, first + 10_000.0 * gap);
        assert_eq!(times.len(), 10_000);
        for (index, &t) in times.iter().enumerate() {
            let slot = first + index as f64 * gap;
            assert!(
                (t - slot).abs() <= jitter,
                "arrival {index} at {t} s, slot {slot} s"
            );
        }
        let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|&g| g > 0.0));
        assert!(
            gaps.iter()
                .all(|&g| (gap - 2.0 * jitter..=gap + 2.0 * jitter).contains(&g))
        );
        // The jitter spreads over its whole range rather than sitting at one offset.
        let shortest = gaps.iter().copied().fold(f64::INFINITY, f64::min);
        let longest = gaps.iter().copied().fold(0.0, f64::max);
        assert!(shortest < gap - 1.8 * jitter && longest > gap + 1.8 * jitter);
    }

    #[test]
    fn jitter_never_moves_an_arrival_before_the_start() {
        let mut rng = ScheduleRng::seed_from_u64(3);
        for _ in 0..1000 {
            let mut probe = ColdProbe::new(10.0, 0.0, 4.0).unwrap();
            assert!(probe.next_arrival(&mut rng) >= 0.0);
        }
    }

    #[test]
    fn bad_parameters_are_refused_by_name() {
        for (probe, name) in [
            (ColdProbe::new(0.0, 0.0, 0.0), "`gap`"),
            (ColdProbe::new(1e-9, 0.0, 0.0), "`gap`"),
            (ColdProbe::new(f64::NAN, 0.0, 0.0), "`gap`"),
            (ColdProbe::new(60.0, -1.0, 0.0), "`first`"),
            (ColdProbe::new(60.0, 0.0, 30.0), "`jitter`"),
            (ColdProbe::new(60.0, 0.0, -1.0), "`jitter`"),
            (ColdProbe::new(60.0, 0.0, f64::NAN), "`jitter`"),
        ] {
            let message = probe.unwrap_err();
            assert!(message.contains(name), "{message:?} does not name {name}");
        }
    }
}
