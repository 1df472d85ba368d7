//! The whole-trace distance: how far a sample's distributions of per-function invocation counts
//! and durations are from the trace's; and the Wasserstein-1 distance it and the per-minute
//! distance are built on.
//!
//! Closeness is the Wasserstein-1 distance between empirical distributions, taken on log10
//! scales (`log10(count + 1)`, `log10(duration_ms + 1)`) because both quantities are
//! heavy-tailed, and divided by the spread of the whole trace's values on that scale so that both
//! distances lie in [0, 1] and can be averaged.

use serde::{Deserialize, Serialize};

use super::FunctionWeight;

/// How far a sample's distributions are from the whole trace's: Wasserstein-1 distances on log10
/// scales, each divided by the spread of the trace's values on that scale, so 0 is identical and
/// 1 the farthest a sample can be.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Distance {
    /// Distance between the distributions of per-function invocation counts.
    pub invocations: f64,
    /// Distance between the distributions of per-function average durations; `None` when no
    /// function of the trace has a duration. Functions without one are left out on both sides.
    pub durations: Option<f64>,
}

impl Distance {
    /// One score for the whole sample: the mean of the two distances, or the invocation distance
    /// alone when the trace has no durations.
    pub fn combined(&self) -> f64 {
        match self.durations {
            Some(durations) => (self.invocations + durations) / 2.0,
            None => self.invocations,
        }
    }
}

/// How far the functions at `chosen` are from the whole of `functions` (see [`Distance`]).
///
/// An empty choice is at distance 1 from a non-empty trace. Durations that are negative or not
/// finite count as missing.
///
/// # Panics
///
/// If an index in `chosen` is out of range for `functions`.
pub fn distance(functions: &[FunctionWeight], chosen: &[usize]) -> Distance {
    let trace: Vec<f64> = functions
        .iter()
        .map(|f| invocation_scale(f.invocations))
        .collect();
    let picked: Vec<f64> = chosen
        .iter()
        .map(|&i| invocation_scale(functions[i].invocations))
        .collect();
    let invocations = normalised_wasserstein1(&trace, &picked);

    let trace: Vec<f64> = functions.iter().filter_map(duration_scale).collect();
    let durations = (!trace.is_empty()).then(|| {
        let picked: Vec<f64> = chosen
            .iter()
            .filter_map(|&i| duration_scale(&functions[i]))
            .collect();
        normalised_wasserstein1(&trace, &picked)
    });
    Distance {
        invocations,
        durations,
    }
}

/// Wasserstein-1 distance between the empirical distributions of `a` and `b`: the area between
/// their cumulative distribution functions, computed exactly by merging the sorted samples. The
/// slices need not be sorted or of equal length. `None` when either is empty.
pub fn wasserstein1(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    // Compare the CDFs as i/|a| against j/|b| in integers, so equal distributions give exactly 0.
    let (len_a, len_b) = (a.len() as u128, b.len() as u128);
    let scale = (len_a * len_b) as f64;
    let (mut i, mut j) = (0, 0);
    let mut x = 0.0;
    let mut area = 0.0;
    loop {
        let next = match (a.get(i), b.get(j)) {
            (Some(&p), Some(&q)) => {
                if p.total_cmp(&q).is_le() {
                    p
                } else {
                    q
                }
            }
            (Some(&p), None) => p,
            (None, Some(&q)) => q,
            (None, None) => break,
        };
        let gap = (i as u128 * len_b).abs_diff(j as u128 * len_a);
        if gap != 0 {
            area += gap as f64 / scale * (next - x);
        }
        while a.get(i).is_some_and(|v| v.total_cmp(&next).is_le()) {
            i += 1;
        }
        while b.get(j).is_some_and(|v| v.total_cmp(&next).is_le()) {
            j += 1;
        }
        x = next;
    }
    Some(area)
}

pub(super) fn invocation_scale(count: u64) -> f64 {
    (count as f64 + 1.0).log10()
}

pub(super) fn duration_scale(function: &FunctionWeight) -> Option<f64> {
    function
        .duration_ms
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| (ms + 1.0).log10())
}

pub(super) fn normalised_wasserstein1(trace: &[f64], picked: &[f64]) -> f64 {
    if trace.is_empty() {
        return 0.0;
    }
    let Some(distance) = wasserstein1(trace, picked) else {
        return 1.0;
    };
    let (low, high) = trace
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), &v| {
            (low.min(v), high.max(v))
        });
    if high > low {
        distance / (high - low)
    } else {
        0.0
    }
}

/// Wasserstein-1 distance between two distributions of non-negative values, each given by its
/// non-zero values (ascending) and its size; the values not listed are zeros. It costs the
/// listed values only, which matters because most functions are idle in most minutes. Equal
/// distributions give exactly 0, as in [`wasserstein1`].
pub(super) fn wasserstein1_with_zeros(a: &[f64], a_size: usize, b: &[f64], b_size: usize) -> f64 {
    debug_assert!(a.len() <= a_size && b.len() <= b_size && a_size > 0 && b_size > 0);
    let (len_a, len_b) = (a_size as u128, b_size as u128);
    let scale = (len_a * len_b) as f64;
    // How many values of each lie at or below x, zeros included: the CDFs times the sizes.
    let (mut below_a, mut below_b) = (a_size - a.len(), b_size - b.len());
    let (mut i, mut j) = (0, 0);
    let mut x = 0.0;
    let mut area = 0.0;
    loop {
        let next = match (a.get(i), b.get(j)) {
            (Some(&p), Some(&q)) => p.min(q),
            (Some(&p), None) => p,
            (None, Some(&q)) => q,
            (None, None) => break,
        };
        let gap = (below_a as u128 * len_b).abs_diff(below_b as u128 * len_a);
        if gap != 0 {
            area += gap as f64 / scale * (next - x);
        }
        while a.get(i).is_some_and(|&v| v <= next) {
            i += 1;
            below_a += 1;
        }
        while b.get(j).is_some_and(|&v| v <= next) {
            j += 1;
            below_b += 1;
        }
        x = next;
    }
    area
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arrival::ScheduleRng;
    use crate::sample::fixtures::*;
    use rand::RngExt;

    #[test]
    fn wasserstein1_is_zero_between_equal_distributions() {
        assert_eq!(
            wasserstein1(&[1.0, 2.0, 2.0, 5.0], &[5.0, 2.0, 1.0, 2.0]),
            Some(0.0)
        );
        // Same distribution, different sizes.
        assert_eq!(wasserstein1(&[1.0, 2.0], &[2.0, 1.0, 1.0, 2.0]), Some(0.0));
    }

    #[test]
    fn wasserstein1_between_point_masses_is_their_separation() {
        assert_eq!(wasserstein1(&[0.0], &[1.0]), Some(1.0));
        assert_close(wasserstein1(&[-2.5, -2.5], &[4.0]).unwrap_or(f64::NAN), 6.5);
    }

    #[test]
    fn wasserstein1_of_a_shifted_sample_is_the_shift() {
        let mut rng = rng(5);
        let a: Vec<f64> = (0..200).map(|_| standard_normal(&mut rng)).collect();
        let shifted: Vec<f64> = a.iter().map(|v| v + 0.75).collect();
        assert_close(wasserstein1(&a, &shifted).unwrap_or(f64::NAN), 0.75);
    }

    #[test]
    fn wasserstein1_matches_hand_computed_areas() {
        // Half the mass moves by 1.
        assert_close(wasserstein1(&[0.0, 1.0], &[0.0]).unwrap_or(f64::NAN), 0.5);
        // |F − G| is ½ on [0, 1) and ½ on [1, 2).
        assert_close(wasserstein1(&[0.0, 2.0], &[1.0]).unwrap_or(f64::NAN), 1.0);
        // Quantile coupling of equal-size samples: mean |a(i) − b(i)| = (1 + 2 + 3) / 3.
        assert_close(
            wasserstein1(&[0.0, 1.0, 2.0], &[1.0, 3.0, 5.0]).unwrap_or(f64::NAN),
            2.0,
        );
    }

    #[test]
    fn wasserstein1_is_symmetric_and_ignores_input_order() {
        let mut rng = rng(6);
        let a: Vec<f64> = (0..37).map(|_| standard_normal(&mut rng)).collect();
        let b: Vec<f64> = (0..50).map(|_| 2.0 * standard_normal(&mut rng)).collect();
        let forward = wasserstein1(&a, &b).unwrap_or(f64::NAN);
        assert!(forward > 0.0);
        assert_close(wasserstein1(&b, &a).unwrap_or(f64::NAN), forward);
        let mut reversed = a.clone();
        reversed.reverse();
        assert_close(wasserstein1(&reversed, &b).unwrap_or(f64::NAN), forward);
    }

    #[test]
    fn wasserstein1_of_an_empty_sample_is_undefined() {
        assert_eq!(wasserstein1(&[], &[1.0]), None);
        assert_eq!(wasserstein1(&[1.0], &[]), None);
    }

    #[test]
    fn distance_leaves_out_functions_without_a_duration() {
        let functions = vec![
            FunctionWeight {
                invocations: 1,
                duration_ms: None,
            },
            FunctionWeight {
                invocations: 10,
                duration_ms: Some(40.0),
            },
            FunctionWeight {
                invocations: 100,
                duration_ms: Some(40.0),
            },
        ];
        let distance = distance(&functions, &[0, 1]);
        assert_eq!(distance.durations, Some(0.0));
        assert!(distance.invocations > 0.0);
    }

    #[test]
    fn distance_is_one_when_nothing_is_chosen_or_nothing_chosen_has_a_duration() {
        let mut functions = counts(&[1, 10, 100]);
        functions[2].duration_ms = Some(5.0);
        let empty = distance(&functions, &[]);
        assert_eq!(empty.invocations, 1.0);
        assert_eq!(empty.durations, Some(1.0));
        assert_eq!(distance(&functions, &[0, 1]).durations, Some(1.0));
    }

    #[test]
    fn sparse_wasserstein1_is_the_dense_one() {
        let mut rng = rng(21);
        for (size_a, size_b) in [(1, 1), (5, 3), (40, 7), (100, 100), (3, 60)] {
            let dense = |size: usize, rng: &mut ScheduleRng| -> Vec<f64> {
                (0..size)
                    .map(|_| {
                        if rng.random_bool(0.6) {
                            0.0
                        } else {
                            f64::from(rng.random_range(1..30_u32))
                        }
                    })
                    .collect()
            };
            let (a, b) = (dense(size_a, &mut rng), dense(size_b, &mut rng));
            let non_zero = |values: &[f64]| {
                let mut kept: Vec<f64> = values.iter().copied().filter(|&v| v > 0.0).collect();
                kept.sort_by(f64::total_cmp);
                kept
            };
            let sparse = wasserstein1_with_zeros(&non_zero(&a), size_a, &non_zero(&b), size_b);
            assert_close(sparse, wasserstein1(&a, &b).unwrap_or(f64::NAN));
        }
        // All zeros on both sides.
        assert_eq!(wasserstein1_with_zeros(&[], 4, &[], 9), 0.0);
    }
}
