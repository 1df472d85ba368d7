//! The `representative` method: a bounded local search for the n functions whose whole-trace
//! distributions of invocation counts and durations, on log scales, are closest to the trace's.

use rand::RngExt;

use super::FunctionWeight;
use super::distance::{Distance, duration_scale, invocation_scale};
use crate::arrival::ScheduleRng;

pub(super) fn representative(
    functions: &[FunctionWeight],
    n: usize,
    rng: &mut ScheduleRng,
) -> Vec<usize> {
    let mut search = Search::new(functions, n);
    search.run(rng, proposal_budget(n));
    search.chosen()
}

/// Exchanges the local search proposes per chosen function.
const PROPOSALS_PER_CHOSEN: usize = 200;
/// Fewest exchanges proposed, so that small samples still get a real search.
const MIN_PROPOSALS: usize = 5_000;
/// Bound on proposals × n: a proposal costs O(n), so this caps the search's work for large n
/// (under 0.2 s on one core of the development machine).
const SEARCH_WORK: usize = 20_000_000;

/// How many exchanges the local search proposes: 200 per chosen function and at least 5,000,
/// but never more than 20,000,000 / n. N = 50,000, n = 100 gives 20,000; n = 10,000 gives
/// 2,000. The trace's size only enters the O(N log N) set-up, not the search.
fn proposal_budget(n: usize) -> usize {
    PROPOSALS_PER_CHOSEN
        .saturating_mul(n)
        .max(MIN_PROPOSALS)
        .min(SEARCH_WORK / n)
}

/// The whole trace's distribution of one quantity on its log scale, prepared so that the
/// distance of a sample of n from it costs O(n) instead of O(N log N): the search evaluates
/// thousands of candidate samples.
struct TraceDistribution {
    /// Distinct values, ascending.
    values: Vec<f64>,
    /// How many functions have a value at or below `values[j]`.
    at_or_below: Vec<usize>,
    /// Integral of the trace's CDF from `values[0]` to `values[j]`.
    area: Vec<f64>,
    total: usize,
}

impl TraceDistribution {
    fn new(mut all: Vec<f64>) -> Option<Self> {
        if all.is_empty() {
            return None;
        }
        all.sort_by(f64::total_cmp);
        let mut values: Vec<f64> = Vec::new();
        let mut at_or_below: Vec<usize> = Vec::new();
        for (i, &v) in all.iter().enumerate() {
            match (values.last(), at_or_below.last_mut()) {
                (Some(&last), Some(count)) if last == v => *count = i + 1,
                _ => {
                    values.push(v);
                    at_or_below.push(i + 1);
                }
            }
        }
        let total = all.len();
        let mut area = Vec::with_capacity(values.len());
        area.push(0.0);
        for j in 1..values.len() {
            let cdf = at_or_below[j - 1] as f64 / total as f64;
            area.push(area[j - 1] + cdf * (values[j] - values[j - 1]));
        }
        Some(Self {
            values,
            at_or_below,
            area,
            total,
        })
    }

    /// Where `value`, one of the trace's own values, sits among the distinct values.
    fn position(&self, value: f64) -> usize {
        self.values.partition_point(|&v| v < value)
    }

    /// For k = 0..=m, the first position at which the trace's CDF reaches k/m.
    fn crossings(&self, m: usize) -> Vec<usize> {
        let (m, total) = (m as u128, self.total as u128);
        (0..=m)
            .map(|k| {
                self.at_or_below
                    .partition_point(|&count| count as u128 * m < k * total)
            })
            .collect()
    }

    /// Normalised Wasserstein-1 distance from the sample whose values sit at `positions`
    /// (ascending), given `crossings` for m = `positions.len()`. Same conventions as
    /// [`normalised_wasserstein1`].
    fn distance(&self, positions: &[usize], crossings: &[usize]) -> f64 {
        let last = self.values.len() - 1;
        let spread = self.values[last] - self.values[0];
        if positions.is_empty() {
            return 1.0;
        }
        if spread <= 0.0 {
            return 0.0;
        }
        let m = positions.len() as f64;
        let mut area = 0.0;
        let mut from = 0;
        // Between consecutive sample values the sample's CDF is k/m; the trace's CDF F is
        // under that level before the crossing and at or above it from there on, so
        // |F − k/m| integrates in closed form from the prefix areas.
        for (k, (&to, &cross)) in positions
            .iter()
            .chain(std::iter::once(&last))
            .zip(crossings)
            .enumerate()
        {
            let level = k as f64 / m;
            let cross = cross.clamp(from, to);
            let (vp, vc, vq) = (self.values[from], self.values[cross], self.values[to]);
            let (ap, ac, aq) = (self.area[from], self.area[cross], self.area[to]);
            area += level * (vc - vp) - (ac - ap) + (aq - ac) - level * (vq - vc);
            from = to;
        }
        area / spread
    }
}

/// A sample's values on one scale, kept sorted, against the whole trace's distribution.
struct ScaleSample {
    trace: TraceDistribution,
    /// Positions of the sample's values among the trace's distinct values, ascending.
    positions: Vec<usize>,
    /// The trace's crossings for the sample's size, rebuilt when that size changes (only on the
    /// duration scale, when functions without a duration enter or leave).
    crossings: Vec<usize>,
}

impl ScaleSample {
    fn new(trace: TraceDistribution) -> Self {
        Self {
            trace,
            positions: Vec::new(),
            crossings: Vec::new(),
        }
    }

    fn insert(&mut self, position: usize) {
        let at = self.positions.partition_point(|&p| p < position);
        self.positions.insert(at, position);
    }

    fn remove(&mut self, position: usize) {
        let at = self.positions.partition_point(|&p| p < position);
        self.positions.remove(at);
    }

    fn distance(&mut self) -> f64 {
        if self.crossings.len() != self.positions.len() + 1 {
            self.crossings = self.trace.crossings(self.positions.len());
        }
        self.trace.distance(&self.positions, &self.crossings)
    }
}

/// Local search over samples of size n. `pool` holds every function with the sample in its
/// first n slots, so exchanging a chosen function for an unchosen one is a swap of two slots.
struct Search {
    n: usize,
    invocations: ScaleSample,
    durations: Option<ScaleSample>,
    invocation_position: Vec<usize>,
    duration_position: Vec<Option<usize>>,
    /// Functions by ascending invocations (ties by index), and each function's rank there.
    by_invocations: Vec<usize>,
    rank: Vec<usize>,
    pool: Vec<usize>,
    slot: Vec<usize>,
    score: f64,
}

impl Search {
    /// Starts from a stratified pick: the functions at evenly spaced quantiles of invocations,
    /// which already matches the invocation distribution closely.
    fn new(functions: &[FunctionWeight], n: usize) -> Self {
        let total = functions.len();
        let counts: Vec<f64> = functions
            .iter()
            .map(|f| invocation_scale(f.invocations))
            .collect();
        let Some(invocations) = TraceDistribution::new(counts.clone()) else {
            unreachable!("check_request rejects a trace with no functions");
        };
        let invocation_position = counts.iter().map(|&v| invocations.position(v)).collect();
        let durations =
            TraceDistribution::new(functions.iter().filter_map(duration_scale).collect());
        let duration_position = functions
            .iter()
            .map(|f| Some(durations.as_ref()?.position(duration_scale(f)?)))
            .collect();

        let mut by_invocations: Vec<usize> = (0..total).collect();
        by_invocations.sort_by_key(|&f| (functions[f].invocations, f));
        let mut rank = vec![0; total];
        for (r, &f) in by_invocations.iter().enumerate() {
            rank[f] = r;
        }

        // Rank ⌊(i + ½)·N/n⌋: steps of N/n ≥ 1, so the picks are distinct.
        let mut picked = vec![false; total];
        for i in 0..n {
            let r = (2 * i as u128 + 1) * total as u128 / (2 * n as u128);
            picked[by_invocations[r as usize]] = true;
        }
        let pool: Vec<usize> = (0..total)
            .filter(|&f| picked[f])
            .chain((0..total).filter(|&f| !picked[f]))
            .collect();
        let mut slot = vec![0; total];
        for (s, &f) in pool.iter().enumerate() {
            slot[f] = s;
        }

        let mut search = Self {
            n,
            invocations: ScaleSample::new(invocations),
            durations: durations.map(ScaleSample::new),
            invocation_position,
            duration_position,
            by_invocations,
            rank,
            pool,
            slot,
            score: 0.0,
        };
        for s in 0..n {
            search.enter(search.pool[s]);
        }
        search.score = search.current_score();
        search
    }

    fn current_score(&mut self) -> f64 {
        Distance {
            invocations: self.invocations.distance(),
            durations: self.durations.as_mut().map(ScaleSample::distance),
        }
        .combined()
    }

    /// Proposes `proposals` exchanges and keeps each that lowers the score. One proposal in four
    /// brings in any unchosen function; the others an unchosen function near the leaving one in
    /// invocation rank (within N/n ranks), which tunes durations without undoing the invocation
    /// match of the stratified start and, on heavy-tailed traces, gets closer for the same
    /// number of proposals than uniform proposals alone.
    fn run(&mut self, rng: &mut ScheduleRng, proposals: usize) {
        let total = self.pool.len();
        let window = (total / self.n).max(1);
        for proposal in 0..proposals {
            if self.score <= 0.0 {
                break;
            }
            let out_slot = rng.random_range(0..self.n);
            let in_slot = if proposal % 4 == 0 {
                rng.random_range(self.n..total)
            } else {
                let from = self.rank[self.pool[out_slot]];
                let offset = rng.random_range(1..=window);
                let to = if rng.random::<bool>() {
                    Some(from + offset).filter(|&r| r < total)
                } else {
                    from.checked_sub(offset)
                };
                match to.map(|r| self.slot[self.by_invocations[r]]) {
                    Some(s) if s >= self.n => s,
                    _ => continue,
                }
            };
            self.exchange(out_slot, in_slot);
            let score = self.current_score();
            if score < self.score {
                self.score = score;
            } else {
                self.exchange(out_slot, in_slot);
            }
        }
    }

    /// Swaps a sample slot with an outside slot; doing it twice undoes it.
    fn exchange(&mut self, inside: usize, outside: usize) {
        let (leaving, entering) = (self.pool[inside], self.pool[outside]);
        self.leave(leaving);
        self.enter(entering);
        self.pool.swap(inside, outside);
        self.slot[leaving] = outside;
        self.slot[entering] = inside;
    }

    fn enter(&mut self, function: usize) {
        self.invocations.insert(self.invocation_position[function]);
        if let (Some(durations), Some(p)) = (&mut self.durations, self.duration_position[function])
        {
            durations.insert(p);
        }
    }

    fn leave(&mut self, function: usize) {
        self.invocations.remove(self.invocation_position[function]);
        if let (Some(durations), Some(p)) = (&mut self.durations, self.duration_position[function])
        {
            durations.remove(p);
        }
    }

    fn chosen(&self) -> Vec<usize> {
        self.pool[..self.n].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::distance::{distance, normalised_wasserstein1};
    use crate::sample::fixtures::*;
    use crate::sample::{SampleMethod, random, sample};

    #[test]
    fn search_scores_samples_as_the_exact_distance_does() {
        // Small integer counts give many ties, the hard case for the prefix-area evaluation.
        let mut rng = rng(8);
        let trace: Vec<f64> = (0..500)
            .map(|_| invocation_scale(rng.random_range(0..20_u64).pow(2)))
            .collect();
        let Some(distribution) = TraceDistribution::new(trace.clone()) else {
            panic!("a non-empty trace has a distribution");
        };
        for size in [1, 2, 3, 7, 7, 7, 60, 60, 499, 500] {
            let picked: Vec<f64> = random(trace.len(), size, &mut rng)
                .into_iter()
                .map(|i| trace[i])
                .collect();
            let mut positions: Vec<usize> =
                picked.iter().map(|&v| distribution.position(v)).collect();
            positions.sort_unstable();
            let fast = distribution.distance(&positions, &distribution.crossings(size));
            assert_close(fast, normalised_wasserstein1(&trace, &picked));
        }
    }

    #[test]
    fn search_score_is_the_reported_distance_when_durations_are_missing() {
        let mut functions = azure_like(3_000, 9);
        for function in functions.iter_mut().step_by(3) {
            function.duration_ms = None;
        }
        let mut search = Search::new(&functions, 40);
        search.run(&mut rng(1), 2_000);
        let reported = distance(&functions, &search.chosen());
        assert_close(search.score, reported.combined());
    }

    #[test]
    fn representative_is_closer_to_the_trace_than_top_and_random() {
        let functions = azure_like(20_000, 11);
        let n = 50;
        let distance_of = |method, seed| {
            sample(&functions, n, method, &mut rng(seed))
                .map(|s| s.distance)
                .unwrap_or(Distance {
                    invocations: 1.0,
                    durations: Some(1.0),
                })
        };
        let representative = sample(&functions, n, SampleMethod::Representative, &mut rng(1));
        let Ok(representative) = representative else {
            panic!("sampling failed: {representative:?}");
        };
        assert_valid_choice(&representative.chosen, n, functions.len());
        let close = representative.distance;

        let top = distance_of(SampleMethod::Top, 0);
        let random: Vec<Distance> = (0..20)
            .map(|seed| distance_of(SampleMethod::Random, seed))
            .collect();
        let sorted = |key: fn(&Distance) -> f64| {
            let mut values: Vec<f64> = random.iter().map(key).collect();
            values.sort_by(f64::total_cmp);
            values
        };
        let combined = sorted(Distance::combined);
        let invocations = sorted(|d| d.invocations);
        let durations = sorted(|d| d.durations.unwrap_or(1.0));

        assert!(
            close.combined() < top.combined(),
            "{close:?} vs top {top:?}"
        );
        assert!(
            close.combined() < combined[10],
            "{close:?} vs median random {}",
            combined[10]
        );
        // Each distribution on its own beats even the luckiest random draw.
        assert!(
            close.invocations < invocations[0],
            "{close:?} vs best random invocations {}",
            invocations[0]
        );
        let close_durations = close.durations.unwrap_or(1.0);
        assert!(
            close_durations < durations[0],
            "{close:?} vs best random durations {}",
            durations[0]
        );
    }

    #[test]
    fn representative_is_reproducible_per_seed() {
        let functions = azure_like(2_000, 4);
        let draw = |seed| sample(&functions, 30, SampleMethod::Representative, &mut rng(seed));
        assert_eq!(draw(7), draw(7));
        let chosen = draw(7).map(|s| s.chosen).unwrap_or_default();
        assert_valid_choice(&chosen, 30, functions.len());
    }

    #[test]
    fn representative_matches_invocations_alone_when_the_trace_has_no_durations() {
        let functions: Vec<FunctionWeight> = azure_like(2_000, 12)
            .into_iter()
            .map(|f| FunctionWeight {
                duration_ms: None,
                ..f
            })
            .collect();
        let result = sample(&functions, 20, SampleMethod::Representative, &mut rng(2));
        let Ok(result) = result else {
            panic!("sampling failed: {result:?}");
        };
        assert_eq!(result.distance.durations, None);
        assert_eq!(result.distance.combined(), result.distance.invocations);
        let top = sample(&functions, 20, SampleMethod::Top, &mut rng(2));
        assert!(top.is_ok_and(|top| result.distance.invocations < top.distance.invocations));
    }
}
