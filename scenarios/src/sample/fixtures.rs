//! Generators and traces shared by the sampling tests.

use rand::{RngExt, SeedableRng};

use super::FunctionWeight;
use crate::arrival::ScheduleRng;

pub(crate) fn rng(seed: u64) -> ScheduleRng {
    ScheduleRng::seed_from_u64(seed)
}

pub(crate) fn standard_normal(rng: &mut ScheduleRng) -> f64 {
    let u = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// A heavy-tailed trace shaped like Azure Functions 2019: log-normal invocation counts over
/// about eight orders of magnitude, many tied small counts, log-normal durations that
/// shrink a little as counts grow.
pub(crate) fn azure_like(total: usize, seed: u64) -> Vec<FunctionWeight> {
    let mut rng = rng(seed);
    (0..total)
        .map(|_| {
            let busy = standard_normal(&mut rng);
            let slow = -0.3 * busy + 0.91_f64.sqrt() * standard_normal(&mut rng);
            FunctionWeight {
                invocations: 10_f64.powf(1.5 + 1.5 * busy).floor() as u64,
                duration_ms: Some(10_f64.powf(2.5 + 0.8 * slow)),
            }
        })
        .collect()
}

pub(crate) fn counts(invocations: &[u64]) -> Vec<FunctionWeight> {
    invocations
        .iter()
        .map(|&invocations| FunctionWeight {
            invocations,
            duration_ms: None,
        })
        .collect()
}

pub(crate) fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-9,
        "expected {expected}, got {actual}"
    );
}

pub(crate) fn assert_valid_choice(chosen: &[usize], n: usize, total: usize) {
    assert_eq!(chosen.len(), n);
    assert!(
        chosen.windows(2).all(|pair| pair[0] < pair[1]),
        "indices must be distinct and ascending: {chosen:?}"
    );
    assert!(chosen.iter().all(|&i| i < total));
}
