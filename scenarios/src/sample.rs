//! Function sampling: which n functions of a trace a run replays.
//!
//! A production trace holds tens of thousands of functions; a benchmark deploys a few hundred.
//! Which ones decides what the benchmark measures. Per-function invocation counts span eight
//! orders of magnitude and the rarely invoked functions are the ones that start cold, so keeping
//! only the busiest functions ([`SampleMethod::Top`]) reports far fewer cold starts than the
//! trace would cause, and a small uniform draw ([`SampleMethod::Random`]) can over- or
//! under-represent parts of the tail by chance. [`SampleMethod::Representative`] picks functions
//! whose distributions of invocation counts and of durations stay close to the whole trace's, as
//! the In-Vitro (vHive loader) sampler does. Every sample reports that closeness as a
//! [`Distance`], so results can be read against how faithful their sample was.
//!
//! Closeness is the Wasserstein-1 distance between empirical distributions, taken on log10
//! scales (`log10(count + 1)`, `log10(duration_ms + 1)`) because both quantities are
//! heavy-tailed, and divided by the spread of the whole trace's values on that scale so that both
//! distances lie in [0, 1] and can be averaged.

use std::cmp::Ordering;

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::arrival::ScheduleRng;

/// What the sampler knows of one function of the trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FunctionWeight {
    /// Invocations of the function over the whole trace.
    pub invocations: u64,
    /// The function's average execution time in milliseconds, if the trace has it.
    pub duration_ms: Option<f64>,
}

/// How [`sample`] picks the functions to replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SampleMethod {
    /// The n most invoked functions, ties to the lower index. Replays only the hot head of the
    /// trace, so cold starts come out rarer than in the trace.
    Top,
    /// n distinct functions drawn uniformly at random from the seeded generator.
    Random,
    /// n functions whose distributions of invocation counts and durations are as close to the
    /// whole trace's as a bounded local search finds: it starts from functions at evenly spaced
    /// quantiles of invocation count and proposes at most max(200·n, 5,000) exchanges, capped
    /// at 20,000,000 / n, keeping those that bring the sample closer.
    Representative,
}

impl std::fmt::Display for SampleMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Top => "top",
            Self::Random => "random",
            Self::Representative => "representative",
        })
    }
}

/// The functions picked by [`sample`].
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Indices into the input, in ascending order.
    pub chosen: Vec<usize>,
    /// How far the sample's distributions are from the whole trace's.
    pub distance: Distance,
}

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

/// Picks `n` of `functions` by `method`. The same functions, `n`, method and generator state
/// always give the same sample.
///
/// Fails when the trace is empty, when `n` is 0 or larger than the trace, or when a duration is
/// negative or not finite.
pub fn sample(
    functions: &[FunctionWeight],
    n: usize,
    method: SampleMethod,
    rng: &mut ScheduleRng,
) -> Result<Sample, String> {
    check_request(functions, n)?;
    let mut chosen = if n == functions.len() {
        (0..n).collect()
    } else {
        match method {
            SampleMethod::Top => top(functions, n),
            SampleMethod::Random => random(functions.len(), n, rng),
            SampleMethod::Representative => representative(functions, n, rng),
        }
    };
    chosen.sort_unstable();
    let distance = distance(functions, &chosen);
    Ok(Sample { chosen, distance })
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

fn check_request(functions: &[FunctionWeight], n: usize) -> Result<(), String> {
    if functions.is_empty() {
        return Err("cannot sample from a trace with no functions".to_string());
    }
    if n == 0 {
        return Err("cannot sample 0 functions: ask for at least 1".to_string());
    }
    if n > functions.len() {
        return Err(format!(
            "cannot sample {n} functions from a trace of {} functions",
            functions.len()
        ));
    }
    for (index, function) in functions.iter().enumerate() {
        if let Some(ms) = function.duration_ms
            && !(ms.is_finite() && ms >= 0.0)
        {
            return Err(format!(
                "function {index} has a duration of {ms} ms; a duration must be a finite, \
                 non-negative number of milliseconds"
            ));
        }
    }
    Ok(())
}

fn invocation_scale(count: u64) -> f64 {
    (count as f64 + 1.0).log10()
}

fn duration_scale(function: &FunctionWeight) -> Option<f64> {
    function
        .duration_ms
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| (ms + 1.0).log10())
}

fn normalised_wasserstein1(trace: &[f64], picked: &[f64]) -> f64 {
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

/// Functions in descending order of invocations, ties to the lower index.
fn busiest_first(functions: &[FunctionWeight], a: usize, b: usize) -> Ordering {
    functions[b]
        .invocations
        .cmp(&functions[a].invocations)
        .then(a.cmp(&b))
}

fn top(functions: &[FunctionWeight], n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..functions.len()).collect();
    // The order is total, so the first n are the same whatever the selection algorithm does.
    order.select_nth_unstable_by(n - 1, |&a, &b| busiest_first(functions, a, b));
    order.truncate(n);
    order
}

fn random(total: usize, n: usize, rng: &mut ScheduleRng) -> Vec<usize> {
    // A partial Fisher-Yates shuffle: every n-subset is equally likely.
    let mut pool: Vec<usize> = (0..total).collect();
    for i in 0..n {
        let j = rng.random_range(i..total);
        pool.swap(i, j);
    }
    pool.truncate(n);
    pool
}

fn representative(functions: &[FunctionWeight], n: usize, rng: &mut ScheduleRng) -> Vec<usize> {
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
    use rand::SeedableRng;

    fn rng(seed: u64) -> ScheduleRng {
        ScheduleRng::seed_from_u64(seed)
    }

    fn standard_normal(rng: &mut ScheduleRng) -> f64 {
        let u = 1.0 - rng.random::<f64>();
        let v: f64 = rng.random();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// A heavy-tailed trace shaped like Azure Functions 2019: log-normal invocation counts over
    /// about eight orders of magnitude, many tied small counts, log-normal durations that
    /// shrink a little as counts grow.
    fn azure_like(total: usize, seed: u64) -> Vec<FunctionWeight> {
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

    fn counts(invocations: &[u64]) -> Vec<FunctionWeight> {
        invocations
            .iter()
            .map(|&invocations| FunctionWeight {
                invocations,
                duration_ms: None,
            })
            .collect()
    }

    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 1e-9,
            "expected {expected}, got {actual}"
        );
    }

    fn assert_valid_choice(chosen: &[usize], n: usize, total: usize) {
        assert_eq!(chosen.len(), n);
        assert!(
            chosen.windows(2).all(|pair| pair[0] < pair[1]),
            "indices must be distinct and ascending: {chosen:?}"
        );
        assert!(chosen.iter().all(|&i| i < total));
    }

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
    fn top_picks_the_most_invoked_functions() {
        let functions = counts(&[5, 9, 1, 9, 7, 0]);
        let sample = sample(&functions, 3, SampleMethod::Top, &mut rng(0));
        assert_eq!(sample.map(|s| s.chosen), Ok(vec![1, 3, 4]));
    }

    #[test]
    fn top_breaks_ties_by_index() {
        let functions = counts(&[3, 8, 3, 3, 3]);
        let sample = sample(&functions, 3, SampleMethod::Top, &mut rng(0));
        assert_eq!(sample.map(|s| s.chosen), Ok(vec![0, 1, 2]));
    }

    #[test]
    fn random_is_reproducible_per_seed_and_varies_across_seeds() {
        let functions = azure_like(1_000, 1);
        let draw = |seed| sample(&functions, 50, SampleMethod::Random, &mut rng(seed));
        let (first, again, other) = (draw(1), draw(1), draw(2));
        assert_eq!(first, again);
        assert_ne!(first, other);
        for chosen in [first, other].map(|s| s.map(|s| s.chosen).unwrap_or_default()) {
            assert_valid_choice(&chosen, 50, functions.len());
        }
    }

    #[test]
    fn random_gives_every_function_the_same_chance() {
        let functions = counts(&[1, 10, 100, 1_000, 10_000, 100_000, 0, 0, 0, 0]);
        let mut rng = rng(3);
        let mut hits = [0_u32; 10];
        let draws = 20_000;
        for _ in 0..draws {
            let chosen = sample(&functions, 3, SampleMethod::Random, &mut rng)
                .map(|s| s.chosen)
                .unwrap_or_default();
            assert_valid_choice(&chosen, 3, 10);
            for i in chosen {
                hits[i] += 1;
            }
        }
        // Each is chosen in 3 of 10 draws; 4 standard deviations is about 260.
        for (index, &count) in hits.iter().enumerate() {
            assert!(
                count.abs_diff(6_000) < 260,
                "function {index} chosen {count} times"
            );
        }
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

    #[test]
    fn whole_trace_is_at_distance_zero_by_every_method() {
        let functions = azure_like(300, 2);
        for method in [
            SampleMethod::Top,
            SampleMethod::Random,
            SampleMethod::Representative,
        ] {
            let sample = sample(&functions, 300, method, &mut rng(0));
            let Ok(sample) = sample else {
                panic!("sampling failed: {sample:?}");
            };
            assert_eq!(sample.chosen, (0..300).collect::<Vec<_>>());
            assert_eq!(
                sample.distance,
                Distance {
                    invocations: 0.0,
                    durations: Some(0.0)
                }
            );
        }
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
    fn errors_name_the_problem() {
        let functions = counts(&[1, 2, 3]);
        let error = |functions: &[FunctionWeight], n| {
            sample(functions, n, SampleMethod::Representative, &mut rng(0))
                .err()
                .unwrap_or_default()
        };
        assert!(error(&[], 1).contains("no functions"));
        assert!(error(&functions, 0).contains("0 functions"));
        let too_many = error(&functions, 5);
        assert!(
            too_many.contains('5') && too_many.contains('3'),
            "{too_many}"
        );
        let mut bad = functions.clone();
        bad[1].duration_ms = Some(-4.0);
        let negative = error(&bad, 2);
        assert!(
            negative.contains("function 1") && negative.contains("-4"),
            "{negative}"
        );
        bad[1].duration_ms = Some(f64::NAN);
        assert!(error(&bad, 2).contains("function 1"));
    }

    #[test]
    fn methods_are_named_in_kebab_case() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};
        let parse = |name: &'static str| {
            let deserializer: StrDeserializer<'_, Error> = name.into_deserializer();
            SampleMethod::deserialize(deserializer).ok()
        };
        assert_eq!(parse("top"), Some(SampleMethod::Top));
        assert_eq!(parse("random"), Some(SampleMethod::Random));
        assert_eq!(parse("representative"), Some(SampleMethod::Representative));
        assert_eq!(parse("Representative"), None);
    }
}
