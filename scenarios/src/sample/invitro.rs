//! The `invitro` method and the per-minute distance, after the In-Vitro sampler (vHive loader,
//! `sampler/sample.py`).
//!
//! For every minute of the replayed slice, the sample's per-function invocation counts are
//! compared with the trace's, and so are the counts multiplied by each function's mean duration
//! and memory (what the minute costs in resources), each by the Wasserstein-1 distance between
//! the two sets of values on their own scale. The distances are averaged over the slice's
//! minutes. Only functions invoked in the slice make up the trace's side and can be drawn, as
//! In-Vitro's preprocessing drops the others.

use super::distance::wasserstein1_with_zeros;
use super::{SampleError, Slice, random};
use crate::FunctionProfile;
use crate::arrival::ScheduleRng;
use crate::trace::{Percentiles, TraceEvent, TraceIndex, TraceReader};

/// Uniform draws the `invitro` method compares: In-Vitro's default (`--trial-num 16`).
pub const DRAWS: usize = 16;

/// Divisor of count × duration (ms) × memory (MB), In-Vitro's `RES_NORM_FACTOR`: it brings the
/// resource distance to the order of the count distance (about 1,000 ms × 10 invocations per
/// minute × 100 MB).
pub const RESOURCE_SCALE: f64 = 1_000_000.0;

/// Memory of a function the trace gives none for: what a replay deploys it with.
const DEFAULT_MEMORY_MB: f64 = FunctionProfile::DEFAULT_MEMORY_MB as f64;

/// Duration of every function when no function of the trace has one: the average In-Vitro's
/// resource scale assumes.
const DEFAULT_DURATION_MS: f64 = 1_000.0;

/// How far a sample is from the trace minute by minute over a slice, as In-Vitro measures it:
/// 0 when every minute's values match, otherwise in the units of the values (invocations per
/// minute; resource units), not bounded by 1.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PerMinuteDistance {
    /// Mean over the slice's minutes of the Wasserstein-1 distance between the sample's and the
    /// trace's per-function invocation counts in that minute.
    pub counts: f64,
    /// The same for count × mean duration (ms) × memory (MB) / [`RESOURCE_SCALE`].
    pub resources: f64,
}

impl PerMinuteDistance {
    /// In-Vitro's score of a draw: the mean of the two distances.
    pub fn combined(&self) -> f64 {
        (self.counts + self.resources) / 2.0
    }
}

/// The slice's invocations per function per minute, and each function's resource use per
/// invocation. Sparse: memory grows with the (function, minute) cells that have invocations,
/// not with functions × minutes, which for a day of Azure 2019 runs to tens of millions.
#[derive(Debug, Clone)]
pub struct SliceProfile {
    slice: Slice,
    /// Per function, `(minute within the slice, count)` for the minutes it is invoked in,
    /// ascending.
    cells: Vec<Vec<(u32, u32)>>,
    /// Per function, mean duration (ms) × memory (MB) / [`RESOURCE_SCALE`].
    load: Vec<f64>,
    /// Functions invoked in the slice, ascending: the trace's side of every comparison.
    invoked: Vec<usize>,
    /// Per minute, the invoked functions' non-zero values.
    reference: Vec<MinuteValues>,
}

/// One minute's non-zero values of a set of functions, ascending.
#[derive(Debug, Clone, Default)]
struct MinuteValues {
    counts: Vec<f64>,
    resources: Vec<f64>,
}

impl SliceProfile {
    /// Reads `slice` of the trace once, from `reader.events(slice.start_minute)`.
    ///
    /// A function's resource use takes its mean duration (or median, when the trace gives only
    /// percentiles) and the median of its memory. Without a duration it takes the median of the
    /// trace's known durations (1,000 ms when there are none); without memory, 128 MB, what a
    /// replay deploys it with.
    pub fn read(reader: &dyn TraceReader, slice: Slice) -> Result<Self, SampleError> {
        let index = reader.index();
        let end = check_slice(index, slice)?;
        let total = index.functions.len();
        let mut cells: Vec<Vec<(u32, u32)>> = vec![Vec::new(); total];
        for event in reader.events(slice.start_minute)? {
            let event = event?;
            let minute = event.minute();
            if minute >= end {
                break;
            }
            let Some(at) = minute.checked_sub(slice.start_minute) else {
                continue;
            };
            let (function, count) = match event {
                TraceEvent::Count {
                    function, count, ..
                } => (function, count),
                TraceEvent::Invocation { function, .. } => (function, 1),
            };
            if count == 0 {
                continue;
            }
            let Some(row) = cells.get_mut(function as usize) else {
                return Err(SampleError::Request(format!(
                    "the trace names function {function} in minute {minute}, but has {total} functions"
                )));
            };
            match row.last_mut() {
                Some((last, sum)) if *last == at => {
                    *sum = sum.checked_add(count).ok_or_else(|| {
                        SampleError::Request(format!(
                            "function {function} has more than {} invocations in minute {minute}",
                            u32::MAX
                        ))
                    })?;
                }
                _ => row.push((at, count)),
            }
        }
        Ok(Self::new(slice, cells, loads(index)))
    }

    fn new(slice: Slice, cells: Vec<Vec<(u32, u32)>>, load: Vec<f64>) -> Self {
        let invoked: Vec<usize> = (0..cells.len()).filter(|&f| !cells[f].is_empty()).collect();
        let mut profile = Self {
            slice,
            cells,
            load,
            invoked,
            reference: Vec::new(),
        };
        profile.reference = profile.minute_values(&profile.invoked);
        profile
    }

    /// Functions invoked at least once in the slice, ascending.
    pub fn invoked(&self) -> &[usize] {
        &self.invoked
    }

    /// How far the functions at `chosen` are from the trace's invoked functions, minute by
    /// minute. Chosen functions not invoked in the slice count as zeros in every minute. `None`
    /// when nothing is invoked in the slice or nothing is chosen.
    ///
    /// # Panics
    ///
    /// If an index in `chosen` is out of range for the trace's functions.
    pub fn distance(&self, chosen: &[usize]) -> Option<PerMinuteDistance> {
        if self.invoked.is_empty() || chosen.is_empty() {
            return None;
        }
        let sample = self.minute_values(chosen);
        let (trace_size, sample_size) = (self.invoked.len(), chosen.len());
        let (mut counts, mut resources) = (0.0, 0.0);
        for (trace, picked) in self.reference.iter().zip(&sample) {
            counts +=
                wasserstein1_with_zeros(&trace.counts, trace_size, &picked.counts, sample_size);
            resources += wasserstein1_with_zeros(
                &trace.resources,
                trace_size,
                &picked.resources,
                sample_size,
            );
        }
        let minutes = f64::from(self.slice.minutes);
        Some(PerMinuteDistance {
            counts: counts / minutes,
            resources: resources / minutes,
        })
    }

    /// The `invitro` method: the best of [`DRAWS`] uniform draws of `n` invoked functions,
    /// ascending; ties to the earlier draw. All of them when `n` is their number.
    pub(super) fn choose(&self, n: usize, rng: &mut ScheduleRng) -> Result<Vec<usize>, String> {
        let available = self.invoked.len();
        if n > available {
            let end = u64::from(self.slice.start_minute) + u64::from(self.slice.minutes);
            return Err(format!(
                "cannot sample {n} functions by invitro: only {available} are invoked in \
                 minutes {}..{end} of the trace",
                self.slice.start_minute
            ));
        }
        if n == available {
            return Ok(self.invoked.clone());
        }
        let mut best: Option<(f64, Vec<usize>)> = None;
        for _ in 0..DRAWS {
            let mut chosen: Vec<usize> = random(available, n, rng)
                .into_iter()
                .map(|i| self.invoked[i])
                .collect();
            chosen.sort_unstable();
            let score = self
                .distance(&chosen)
                .map_or(f64::INFINITY, |d| d.combined());
            if best.as_ref().is_none_or(|(lowest, _)| score < *lowest) {
                best = Some((score, chosen));
            }
        }
        Ok(best.map(|(_, chosen)| chosen).unwrap_or_default())
    }

    /// Each minute's non-zero values of `functions`.
    fn minute_values(&self, functions: &[usize]) -> Vec<MinuteValues> {
        let mut minutes = vec![MinuteValues::default(); self.slice.minutes as usize];
        for &function in functions {
            for &(minute, count) in &self.cells[function] {
                let values = &mut minutes[minute as usize];
                values.counts.push(f64::from(count));
                values
                    .resources
                    .push(f64::from(count) * self.load[function]);
            }
        }
        for values in &mut minutes {
            values.counts.sort_by(f64::total_cmp);
            values.resources.sort_by(f64::total_cmp);
        }
        minutes
    }
}

/// The end minute of `slice`, once it is known to lie within the trace.
fn check_slice(index: &TraceIndex, slice: Slice) -> Result<u32, SampleError> {
    let length = index.minutes();
    let Slice {
        start_minute,
        minutes,
    } = slice;
    if start_minute >= length {
        return Err(SampleError::Request(format!(
            "the trace has {length} minutes; minute {start_minute} is past its end"
        )));
    }
    if minutes == 0 {
        return Err(SampleError::Request(
            "a slice of 0 minutes replays nothing: ask for at least 1".into(),
        ));
    }
    match start_minute.checked_add(minutes) {
        Some(end) if end <= length => Ok(end),
        _ => Err(SampleError::Request(format!(
            "{minutes} minutes from minute {start_minute} run past the trace's end at minute \
             {length}"
        ))),
    }
}

/// Per function, mean duration × memory / [`RESOURCE_SCALE`] (see [`SliceProfile::read`]).
fn loads(index: &TraceIndex) -> Vec<f64> {
    let durations: Vec<Option<f64>> = index
        .sample_weights()
        .iter()
        .map(|weight| weight.duration_ms)
        .collect();
    let mut known: Vec<f64> = durations.iter().flatten().copied().collect();
    known.sort_by(f64::total_cmp);
    let fallback = known
        .get(known.len() / 2)
        .copied()
        .unwrap_or(DEFAULT_DURATION_MS);
    index
        .functions
        .iter()
        .zip(durations)
        .map(|(function, duration)| {
            let memory = function
                .memory_mb
                .as_ref()
                .map_or(DEFAULT_MEMORY_MB, Percentiles::median);
            duration.unwrap_or(fallback) * memory / RESOURCE_SCALE
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::fixtures::*;
    use crate::sample::{SampleMethod, sample_trace};
    use crate::trace::{self, TraceFiles};

    fn whole(minutes: u32) -> Slice {
        Slice {
            start_minute: 0,
            minutes,
        }
    }

    /// `functions` rows of `(minute, count)` cells, every function with the same resource use.
    fn profile(minutes: u32, cells: Vec<Vec<(u32, u32)>>) -> SliceProfile {
        let load = vec![0.5; cells.len()];
        SliceProfile::new(whole(minutes), cells, load)
    }

    /// Half the functions busy in the first half of the slice, half in the second; equal
    /// totals, so whole-trace distributions cannot tell them apart. Morning functions first.
    fn morning_and_evening(each: usize) -> SliceProfile {
        let morning = (0..5).map(|m| (m, 10)).collect::<Vec<_>>();
        let evening = (5..10).map(|m| (m, 10)).collect::<Vec<_>>();
        let cells = std::iter::repeat_n(morning, each)
            .chain(std::iter::repeat_n(evening, each))
            .collect();
        profile(10, cells)
    }

    /// A generic per-invocation trace in a temporary directory: `rows` of
    /// `(timestamp_ms, function, duration_ms, memory_mb)`.
    fn generic_trace(rows: &[(u64, &str, u32, u32)]) -> (tempfile::TempDir, Box<dyn TraceReader>) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
        let path = dir.path().join("trace.csv");
        let mut text = String::from("timestamp_ms,function,duration_ms,memory_mb\n");
        for (at, function, duration, memory) in rows {
            text.push_str(&format!("{at},{function},{duration},{memory}\n"));
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        let files = TraceFiles {
            invocations: vec![path],
            ..TraceFiles::default()
        };
        let reader = trace::open(&files).unwrap_or_else(|e| panic!("open the trace: {e}"));
        (dir, reader)
    }

    #[test]
    fn the_invoked_functions_are_at_distance_zero_and_others_are_not() {
        let slice = profile(
            4,
            vec![
                vec![(0, 3), (2, 1)],
                vec![],
                vec![(1, 7), (2, 2), (3, 1)],
                vec![(3, 40)],
            ],
        );
        assert_eq!(slice.invoked(), &[0, 2, 3]);
        assert_eq!(
            slice.distance(&[0, 2, 3]),
            Some(PerMinuteDistance {
                counts: 0.0,
                resources: 0.0
            })
        );
        // A sample that shares no function with the invoked ones is all zeros.
        let idle = slice.distance(&[1]).unwrap_or(PerMinuteDistance {
            counts: 0.0,
            resources: 0.0,
        });
        assert!(idle.counts > 0.0 && idle.resources > 0.0, "{idle:?}");
        // Minutes 0 to 2: the trace's {3, 0, 0}, {0, 7, 0}, {1, 2, 0} against the sample's {0};
        // minute 3: {0, 1, 40} against {40}, a third of the mass each at 40 and 39 away.
        let busiest = slice.distance(&[3]).map_or(f64::NAN, |d| d.counts);
        let expected = (3.0 / 3.0 + 7.0 / 3.0 + 3.0 / 3.0 + (40.0 + 39.0) / 3.0) / 4.0;
        assert_close(busiest, expected);
        assert_eq!(profile(3, vec![vec![], vec![]]).distance(&[0]), None);
    }

    #[test]
    fn the_per_minute_distance_tells_minute_shapes_that_totals_hide() {
        let slice = morning_and_evening(2);
        let shapes = slice.distance(&[0, 2]);
        let totals_only = slice.distance(&[0, 1]);
        assert_eq!(
            shapes,
            Some(PerMinuteDistance {
                counts: 0.0,
                resources: 0.0
            })
        );
        // Each minute half the trace's functions sit at 10 and half at 0, the sample's all at
        // one of them: W1 = 5 invocations, 5 × 0.5 resource units.
        assert_eq!(
            totals_only,
            Some(PerMinuteDistance {
                counts: 5.0,
                resources: 2.5
            })
        );
    }

    #[test]
    fn invitro_beats_a_sample_that_only_matches_totals() {
        let slice = morning_and_evening(20);
        let chosen = slice.choose(10, &mut rng(3));
        let Ok(chosen) = chosen else {
            panic!("sampling failed: {chosen:?}");
        };
        assert_valid_choice(&chosen, 10, 40);
        let picked = slice.distance(&chosen).map_or(f64::NAN, |d| d.combined());
        // The first ten are all morning functions: what `top` takes when totals tie.
        let first_ten: Vec<usize> = (0..10).collect();
        let morning_only = slice
            .distance(&first_ten)
            .map_or(f64::NAN, |d| d.combined());
        assert!(picked < morning_only, "{picked} vs {morning_only}");
    }

    #[test]
    fn invitro_keeps_the_best_of_its_draws() {
        let slice = morning_and_evening(20);
        let chosen = slice.choose(10, &mut rng(8)).unwrap_or_default();
        let score = slice.distance(&chosen).map_or(f64::NAN, |d| d.combined());
        // Replay the same generator: the draws, in order, are uniform draws of 10 of 40.
        let mut replay = rng(8);
        let draws: Vec<f64> = (0..DRAWS)
            .map(|_| {
                let draw = random(40, 10, &mut replay);
                slice.distance(&draw).map_or(f64::NAN, |d| d.combined())
            })
            .collect();
        let lowest = draws.iter().copied().fold(f64::INFINITY, f64::min);
        assert_eq!(score, lowest, "draws {draws:?}");
        assert!(draws.iter().any(|&d| d > lowest), "draws {draws:?}");
    }

    #[test]
    fn invitro_draws_distinct_invoked_functions_reproducibly() {
        let mut cells: Vec<Vec<(u32, u32)>> = (0..60_u32).map(|f| vec![(f % 7, f + 1)]).collect();
        // Never invoked in the slice: never drawn.
        for f in (0..60).step_by(4) {
            cells[f].clear();
        }
        let slice = profile(7, cells);
        let draw = |seed| slice.choose(12, &mut rng(seed));
        let first = draw(5);
        assert_eq!(first, draw(5));
        assert_ne!(first, draw(6));
        let chosen = first.unwrap_or_default();
        assert_valid_choice(&chosen, 12, 60);
        assert!(chosen.iter().all(|f| f % 4 != 0), "{chosen:?}");
        assert_eq!(
            slice.choose(45, &mut rng(0)).ok(),
            Some(slice.invoked().to_vec())
        );
        let too_many = slice.choose(46, &mut rng(0)).err().unwrap_or_default();
        assert!(
            too_many.contains("46") && too_many.contains("only 45") && too_many.contains("0..7"),
            "{too_many}"
        );
    }

    #[test]
    fn a_trace_is_counted_per_minute_within_the_slice() {
        // Minute 0: a ×2; minute 1: a, b; minute 2: b ×3; minute 3: a.
        let (_dir, reader) = generic_trace(&[
            (1_000, "a", 10, 100),
            (59_000, "a", 10, 100),
            (60_500, "a", 10, 100),
            (61_000, "b", 30, 200),
            (125_000, "b", 30, 200),
            (126_000, "b", 30, 200),
            (170_000, "b", 30, 200),
            (200_000, "a", 10, 100),
        ]);
        let names: Vec<&str> = reader
            .index()
            .functions
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        let (a, b) = (
            names.iter().position(|&n| n == "a").unwrap_or(usize::MAX),
            names.iter().position(|&n| n == "b").unwrap_or(usize::MAX),
        );
        let slice = Slice {
            start_minute: 1,
            minutes: 2,
        };
        let profile = SliceProfile::read(reader.as_ref(), slice);
        let Ok(profile) = profile else {
            panic!("reading failed: {profile:?}");
        };
        assert_eq!(profile.cells[a], vec![(0, 1)]);
        assert_eq!(profile.cells[b], vec![(0, 1), (1, 3)]);
        assert_close(profile.load[a], 10.0 * 100.0 / RESOURCE_SCALE);
        assert_close(profile.load[b], 30.0 * 200.0 / RESOURCE_SCALE);
    }

    #[test]
    fn slices_outside_the_trace_are_refused() {
        let (_dir, reader) = generic_trace(&[(0, "a", 1, 1), (179_000, "b", 1, 1)]);
        assert_eq!(reader.index().minutes(), 3);
        let error = |start_minute, minutes| {
            SliceProfile::read(
                reader.as_ref(),
                Slice {
                    start_minute,
                    minutes,
                },
            )
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
        };
        assert!(error(0, 0).contains("0 minutes"));
        assert!(error(3, 1).contains("minute 3 is past its end"));
        let past = error(1, 3);
        assert!(
            past.contains("minute 1") && past.contains("end at minute 3"),
            "{past}"
        );
        assert!(error(2, u32::MAX).contains("past the trace's end"));
        assert!(SliceProfile::read(reader.as_ref(), whole(3)).is_ok());
    }

    #[test]
    fn sample_trace_reports_both_distances_for_every_method() {
        let mut rows = Vec::new();
        let names: Vec<String> = (0..12).map(|f| format!("f{f}")).collect();
        for (f, name) in names.iter().enumerate() {
            for minute in 0..6_u64 {
                for k in 0..(1 + (f as u64 * minute) % 4) {
                    rows.push((minute * 60_000 + k * 1_000, name.as_str(), 20, 64));
                }
            }
        }
        rows.sort_unstable_by_key(|row| row.0);
        let (_dir, reader) = generic_trace(&rows);
        let invoked = SliceProfile::read(reader.as_ref(), whole(6))
            .map(|p| p.invoked().len())
            .unwrap_or(0);
        for method in [
            SampleMethod::Top,
            SampleMethod::Random,
            SampleMethod::Representative,
            SampleMethod::InVitro,
        ] {
            let sampled = sample_trace(reader.as_ref(), whole(6), 4, method, &mut rng(1));
            let Ok(sampled) = sampled else {
                panic!("{method} failed: {sampled:?}");
            };
            assert_valid_choice(&sampled.chosen, 4, reader.index().functions.len());
            assert!(sampled.per_minute.is_some(), "{method}: {sampled:?}");
            assert!(sampled.distance.invocations >= 0.0);
        }
        let all = sample_trace(
            reader.as_ref(),
            whole(6),
            invoked,
            SampleMethod::InVitro,
            &mut rng(1),
        );
        assert_eq!(
            all.ok().and_then(|s| s.per_minute),
            Some(PerMinuteDistance {
                counts: 0.0,
                resources: 0.0
            })
        );
    }
}
