use rand::RngExt;

use crate::arrival::ScheduleRng;

/// How arrivals are shared among a scenario's functions, in proportion to their weights.
#[derive(Debug, Clone)]
pub(crate) enum FunctionMix {
    /// Each arrival goes to a function drawn at random by weight. Splitting a Poisson stream
    /// this way gives every function an independent Poisson stream of its own.
    Random { cumulative: Vec<f64> },
    /// Smooth weighted round-robin: exact shares, evenly interleaved, no randomness.
    Interleaved { weights: Vec<f64>, credit: Vec<f64> },
}

/// `weights` divided by the largest, so that their sum is at most their number: weights near
/// `f64::MAX` would otherwise add up to infinity and starve every function but one.
fn normalised(weights: &[f64]) -> Vec<f64> {
    let largest = weights.iter().copied().fold(0.0, f64::max);
    if largest > 0.0 {
        weights.iter().map(|w| w / largest).collect()
    } else {
        weights.to_vec()
    }
}

impl FunctionMix {
    /// Weights are finite and at least 0, one of them above 0.
    pub(crate) fn random(weights: &[f64]) -> Self {
        let cumulative = normalised(weights)
            .iter()
            .scan(0.0, |sum, w| {
                *sum += w;
                Some(*sum)
            })
            .collect();
        Self::Random { cumulative }
    }

    /// Weights are finite and at least 0, one of them above 0.
    pub(crate) fn interleaved(weights: &[f64]) -> Self {
        Self::Interleaved {
            weights: normalised(weights),
            credit: vec![0.0; weights.len()],
        }
    }

    /// Index of the function that receives the next arrival.
    pub(crate) fn next_function(&mut self, rng: &mut ScheduleRng) -> usize {
        match self {
            Self::Random { cumulative } => {
                let total = cumulative.last().copied().unwrap_or(0.0);
                let point = rng.random::<f64>() * total;
                cumulative
                    .partition_point(|&edge| edge <= point)
                    .min(cumulative.len() - 1)
            }
            Self::Interleaved { weights, credit } => {
                let total: f64 = weights.iter().sum();
                for (c, w) in credit.iter_mut().zip(weights.iter()) {
                    *c += w;
                }
                let chosen = credit
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
                    .map_or(0, |(index, _)| index);
                credit[chosen] -= total;
                chosen
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn interleaved_gives_exact_shares_spread_out() {
        let mut rng = ScheduleRng::seed_from_u64(0);
        let mut mix = FunctionMix::interleaved(&[3.0, 1.0]);
        let picks: Vec<usize> = (0..8).map(|_| mix.next_function(&mut rng)).collect();
        assert_eq!(picks.iter().filter(|&&p| p == 0).count(), 6);
        // Never two turns of the light function in a row.
        assert!(picks.windows(2).all(|w| w != [1, 1]));
    }

    #[test]
    fn random_follows_the_weights() {
        let mut rng = ScheduleRng::seed_from_u64(9);
        let mut mix = FunctionMix::random(&[1.0, 3.0]);
        let n = 100_000;
        let heavy = (0..n).filter(|_| mix.next_function(&mut rng) == 1).count();
        let share = heavy as f64 / n as f64;
        assert!((share - 0.75).abs() < 0.01, "share {share}");
    }

    #[test]
    fn weights_near_the_largest_number_share_the_arrivals() {
        let mut rng = ScheduleRng::seed_from_u64(4);
        for mut mix in [
            FunctionMix::random(&[1.7e308, 1.7e308]),
            FunctionMix::interleaved(&[1.7e308, 1.7e308]),
        ] {
            let n = 10_000;
            let first = (0..n).filter(|_| mix.next_function(&mut rng) == 0).count();
            let share = first as f64 / n as f64;
            assert!((share - 0.5).abs() < 0.03, "{mix:?}: share {share}");
        }
    }
}
