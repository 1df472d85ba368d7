//! Function sampling: which n functions of a trace a run replays.
//!
//! A production trace holds tens of thousands of functions; a benchmark deploys a few hundred.
//! Which ones decides what the benchmark measures. Per-function invocation counts span eight
//! orders of magnitude and the rarely invoked functions are the ones that start cold, so keeping
//! only the busiest functions ([`SampleMethod::Top`]) reports far fewer cold starts than the
//! trace would cause, and a small uniform draw ([`SampleMethod::Random`]) can over- or
//! under-represent parts of the tail by chance. [`SampleMethod::Representative`] searches for
//! functions whose whole-trace distributions of invocation counts and durations, on log scales,
//! stay close to the trace's. [`SampleMethod::InVitro`] is the In-Vitro (vHive loader) sampler:
//! the best of several uniform draws, judged minute by minute over the replayed slice.
//!
//! Every sample reports two closenesses, so results can be read against how faithful their
//! sample was: [`Distance`] compares whole-trace distributions (`distance.rs`), and
//! [`PerMinuteDistance`] compares each minute of the slice as In-Vitro does (`invitro.rs`).

mod distance;
#[cfg(test)]
mod fixtures;
mod invitro;
mod representative;

use std::cmp::Ordering;

use rand::RngExt;
use serde::{Deserialize, Serialize};

pub use distance::{Distance, distance, wasserstein1};
pub use invitro::{DRAWS, PerMinuteDistance, RESOURCE_SCALE, SliceProfile};

use crate::arrival::ScheduleRng;
use crate::trace::{TraceError, TraceReader};

/// What the sampler knows of one function of the trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FunctionWeight {
    /// Invocations of the function over the whole trace.
    pub invocations: u64,
    /// The function's average execution time in milliseconds, if the trace has it.
    pub duration_ms: Option<f64>,
}

/// How [`sample`] and [`sample_trace`] pick the functions to replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SampleMethod {
    /// The n most invoked functions, ties to the lower index. Replays only the hot head of the
    /// trace, so cold starts come out rarer than in the trace.
    Top,
    /// n distinct functions drawn uniformly at random from the seeded generator.
    Random,
    /// n functions whose whole-trace distributions of per-function invocation counts and mean
    /// durations, on log scales, are as close to the trace's as a bounded local search finds
    /// (see [`Distance`]): it starts from functions at evenly spaced quantiles of invocation
    /// count and proposes at most max(200·n, 5,000) exchanges, capped at 20,000,000 / n,
    /// keeping those that bring the sample closer. It does not look at minutes.
    Representative,
    /// In-Vitro's sampler: [`DRAWS`] uniform draws of n functions among those invoked in the
    /// replayed slice, keeping the one with the smallest [`PerMinuteDistance::combined`] (ties
    /// to the earlier draw). Needs the trace's per-minute counts, so only [`sample_trace`]
    /// offers it.
    #[serde(rename = "invitro")]
    InVitro,
}

impl std::fmt::Display for SampleMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Top => "top",
            Self::Random => "random",
            Self::Representative => "representative",
            Self::InVitro => "invitro",
        })
    }
}

/// The functions picked by [`sample`] or [`sample_trace`].
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Indices into the trace's functions, in ascending order.
    pub chosen: Vec<usize>,
    /// How far the sample's whole-trace distributions are from the trace's.
    pub distance: Distance,
    /// How far the sample is from the trace minute by minute over the slice, as In-Vitro
    /// measures it. `None` from [`sample`], which sees no minutes, and when nothing is invoked
    /// in the slice.
    pub per_minute: Option<PerMinuteDistance>,
}

/// The minutes of a trace a run replays: the scenario's `trace.start_minute` and `trace.minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    /// First minute of the trace's timeline replayed.
    pub start_minute: u32,
    /// Minutes replayed, at least 1.
    pub minutes: u32,
}

/// Why a trace cannot be sampled.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// Reading the trace's minutes failed.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// The request does not fit the trace: `n`, the slice, or a value of the trace.
    #[error("{0}")]
    Request(String),
}

/// Picks `n` of `functions` by `method`, from their whole-trace weights alone. The same
/// functions, `n`, method and generator state always give the same sample.
///
/// Fails when the trace is empty, when `n` is 0 or larger than the trace, when a duration is
/// negative or not finite, or for [`SampleMethod::InVitro`], which needs the trace's minutes
/// ([`sample_trace`]).
pub fn sample(
    functions: &[FunctionWeight],
    n: usize,
    method: SampleMethod,
    rng: &mut ScheduleRng,
) -> Result<Sample, String> {
    check_request(functions, n)?;
    let mut chosen = choose(functions, n, method, rng)?;
    chosen.sort_unstable();
    let distance = distance(functions, &chosen);
    Ok(Sample {
        chosen,
        distance,
        per_minute: None,
    })
}

/// Picks `n` of the trace's functions by `method` for a run that replays `slice`, and reports
/// both distances. Reads the slice's minutes once, holding only the (function, minute) cells
/// that have invocations. The same trace, slice, `n`, method and generator state always give
/// the same sample.
///
/// Fails as [`sample`] does, when the slice is empty or runs past the trace's end, when reading
/// the trace fails, and for [`SampleMethod::InVitro`] when fewer than `n` functions are invoked
/// in the slice.
pub fn sample_trace(
    reader: &dyn TraceReader,
    slice: Slice,
    n: usize,
    method: SampleMethod,
    rng: &mut ScheduleRng,
) -> Result<Sample, SampleError> {
    let weights = reader.index().sample_weights();
    check_request(&weights, n).map_err(SampleError::Request)?;
    let profile = SliceProfile::read(reader, slice)?;
    let mut chosen = match method {
        SampleMethod::InVitro => profile.choose(n, rng).map_err(SampleError::Request)?,
        other => choose(&weights, n, other, rng).map_err(SampleError::Request)?,
    };
    chosen.sort_unstable();
    Ok(Sample {
        distance: distance(&weights, &chosen),
        per_minute: profile.distance(&chosen),
        chosen,
    })
}

/// The methods that need only the weights; the whole trace when `n` is all of it.
fn choose(
    functions: &[FunctionWeight],
    n: usize,
    method: SampleMethod,
    rng: &mut ScheduleRng,
) -> Result<Vec<usize>, String> {
    match method {
        SampleMethod::InVitro => Err("the invitro method compares the trace minute by minute; \
                                      sample with `sample_trace`, which reads the minutes"
            .to_string()),
        _ if n == functions.len() => Ok((0..n).collect()),
        SampleMethod::Top => Ok(top(functions, n)),
        SampleMethod::Random => Ok(random(functions.len(), n, rng)),
        SampleMethod::Representative => Ok(representative::representative(functions, n, rng)),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use fixtures::*;

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
        assert_eq!(parse("invitro"), Some(SampleMethod::InVitro));
        assert_eq!(SampleMethod::InVitro.to_string(), "invitro");
        assert_eq!(parse("Representative"), None);
    }

    #[test]
    fn invitro_needs_the_trace_minutes() {
        let functions = counts(&[1, 2, 3]);
        let error = sample(&functions, 2, SampleMethod::InVitro, &mut rng(0));
        assert!(
            error.as_ref().is_err_and(|e| e.contains("sample_trace")),
            "{error:?}"
        );
    }

    /// A scenario replaying minutes 600..660 of the shipped Azure 2019 sample.
    fn slice_scenario(method: &str, functions: usize) -> Result<crate::Scenario, String> {
        let text = format!(
            r#"
name = "sampled"
seed = 4
time_compression = 60.0

[trace]
invocations = "traces/azure2019-sample-100/100_inv.csv"
durations = "traces/azure2019-sample-100/100_run.csv"
memory = "traces/azure2019-sample-100/100_mem.csv"
start_minute = 600
minutes = 60
sample = {{ method = "{method}", functions = {functions} }}
"#
        );
        let origin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenario.toml");
        crate::Scenario::from_toml_str(&text, origin).map_err(|e| e.to_string())
    }

    #[test]
    fn a_scenario_samples_by_invitro_over_its_slice() {
        let scenario = slice_scenario("invitro", 12);
        let Ok(scenario) = scenario else {
            panic!("loading failed: {scenario:?}");
        };
        let Some(trace) = &scenario.trace else {
            panic!("a trace scenario has a trace");
        };
        assert_eq!(scenario.functions.len(), 12);
        assert_valid_choice(&trace.chosen, 12, trace.reader.index().functions.len());
        let slice = Slice {
            start_minute: 600,
            minutes: 60,
        };
        let profile = SliceProfile::read(trace.reader.as_ref(), slice);
        let Ok(profile) = profile else {
            panic!("reading the slice failed: {profile:?}");
        };
        // Drawn among the functions invoked in the replayed minutes only.
        assert!(
            trace
                .chosen
                .iter()
                .all(|f| profile.invoked().binary_search(f).is_ok()),
            "{:?}",
            trace.chosen
        );
        let again = slice_scenario("invitro", 12).map(|s| s.trace.map(|t| t.chosen));
        assert_eq!(again, Ok(Some(trace.chosen.clone())));
        let too_many = slice_scenario("invitro", profile.invoked().len() + 1).err();
        assert!(
            too_many
                .as_ref()
                .is_some_and(|e| e.contains("trace.sample.functions") && e.contains("600..660")),
            "{too_many:?}"
        );
    }
}
