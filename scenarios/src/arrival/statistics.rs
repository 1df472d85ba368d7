//! Test support: collecting a process's arrivals and judging counts against what the rate
//! promises.
//!
//! Tolerances are four standard deviations: a correct process misses one about once in 16,000
//! seeds, while a rate off by a few percent over tens of thousands of arrivals misses every time.

use rand::SeedableRng;

use super::{ArrivalProcess, ScheduleRng};

/// More arrivals than any test draws: a process that never reaches `end`, or never says it
/// has ended, fails instead of filling memory.
const MOST_ARRIVALS: usize = 1_000_000;

/// Every arrival before `end` seconds (which may be infinite, for a process that ends), drawn
/// with `seed`. Fails if an arrival comes before the one drawn just before it.
pub(super) fn arrivals_before(process: &mut impl ArrivalProcess, seed: u64, end: f64) -> Vec<f64> {
    let mut rng = ScheduleRng::seed_from_u64(seed);
    let mut times = Vec::new();
    let mut previous = 0.0;
    loop {
        let at = process.next_arrival(&mut rng);
        assert!(
            at >= previous,
            "arrival at {at} s came before one at {previous} s"
        );
        if at >= end {
            return times;
        }
        assert!(
            times.len() < MOST_ARRIVALS,
            "no end after {MOST_ARRIVALS} arrivals"
        );
        times.push(at);
        previous = at;
    }
}

/// How many of `times` fall in `[from, to)`.
pub(super) fn count_within(times: &[f64], from: f64, to: f64) -> usize {
    times.iter().filter(|&&t| from <= t && t < to).count()
}

/// Asserts that `count`, a Poisson count, is within four standard deviations of its mean.
pub(super) fn assert_poisson_count(count: usize, mean: f64, what: &str) {
    let tolerance = 4.0 * mean.sqrt();
    assert!(
        (count as f64 - mean).abs() <= tolerance,
        "{what}: {count} arrivals, expected {mean} ± {tolerance}"
    );
}

/// Asserts that the share `part / whole` is within four standard deviations of `share`, the
/// chance of any one arrival falling in the part.
pub(super) fn assert_share(part: usize, whole: usize, share: f64, what: &str) {
    let found = part as f64 / whole as f64;
    let tolerance = 4.0 * (share * (1.0 - share) / whole as f64).sqrt();
    assert!(
        (found - share).abs() <= tolerance,
        "{what}: share {found}, expected {share} ± {tolerance}"
    );
}
