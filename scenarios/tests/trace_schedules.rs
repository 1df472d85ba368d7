//! Schedules replayed from the shipped Azure 2019 sample: faithful counts, exponential
//! arrivals, determinism, slicing, compression, sampling and rate scaling.

use std::collections::HashMap;
use std::path::Path;

use scenarios::{Invocation, Scenario, ScenarioError, Trigger};

fn scenario(extra: &str) -> Scenario {
    try_scenario(extra).unwrap()
}

fn try_scenario(extra: &str) -> Result<Scenario, ScenarioError> {
    seeded(42, extra)
}

fn seeded(seed: u64, extra: &str) -> Result<Scenario, ScenarioError> {
    let text = format!(
        r#"
name = "sample"
seed = {seed}
time_compression = 60.0

[trace]
invocations = "traces/azure2019-sample-100/100_inv.csv"
durations = "traces/azure2019-sample-100/100_run.csv"
memory = "traces/azure2019-sample-100/100_mem.csv"
{extra}
"#
    );
    let origin = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenario.toml");
    Scenario::from_toml_str(&text, origin)
}

fn invocations(scenario: &Scenario) -> Vec<Invocation> {
    scenario.schedule().collect::<Result<_, _>>().unwrap()
}

/// Counts per (trace function hash, trace minute) from the raw file.
fn trace_counts() -> HashMap<(String, u32), u32> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/azure2019-sample-100/100_inv.csv");
    let mut counts = HashMap::new();
    for line in std::fs::read_to_string(path).unwrap().lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        for (minute, value) in fields[3..].iter().enumerate() {
            let value: u32 = value.parse().unwrap();
            if value > 0 {
                counts.insert((fields[0].to_owned(), minute as u32), value);
            }
        }
    }
    counts
}

/// Counts per (function hash, trace minute) in a schedule compressed 60× starting at `start`.
fn schedule_counts(scenario: &Scenario, start: u32) -> HashMap<(String, u32), u32> {
    let trace = scenario.trace.as_ref().unwrap();
    let index = trace.reader.index();
    let mut counts = HashMap::new();
    for invocation in invocations(scenario) {
        let function = &index.functions[trace.chosen[invocation.function.index()]];
        let hash = function.id.rsplit('/').next().unwrap().to_owned();
        // 60× compression: a trace minute is a second of the run.
        let minute = start + (invocation.at_us / 1_000_000) as u32;
        *counts.entry((hash, minute)).or_default() += 1;
    }
    counts
}

#[test]
fn every_function_gets_exactly_its_trace_count_in_every_minute() {
    let expected = trace_counts();
    for mode in ["equidistant", "uniform", "exponential"] {
        let scenario = scenario(&format!("within_minute = \"{mode}\""));
        assert_eq!(scenario.functions.len(), 100);
        assert_eq!(
            scenario.duration.as_secs(),
            24 * 60,
            "1440 trace minutes at 60× last 24 min"
        );
        let got = schedule_counts(&scenario, 0);
        assert_eq!(
            got.values().map(|&c| u64::from(c)).sum::<u64>(),
            86_751,
            "{mode}"
        );
        assert_eq!(got, expected, "{mode}");
    }
}

#[test]
fn the_schedule_is_in_time_order_and_keeps_each_function_s_profile() {
    let scenario = scenario("");
    let all = invocations(&scenario);
    assert!(all.windows(2).all(|w| w[0].at_us <= w[1].at_us));
    let trace = scenario.trace.as_ref().unwrap();
    for invocation in all.iter().take(20_000) {
        let profile = &scenario.functions[invocation.function.index()];
        let function = &trace.reader.index().functions[trace.chosen[invocation.function.index()]];
        let duration = function.duration_ms.as_ref().unwrap();
        let drawn_ms = f64::from(invocation.duration_us.unwrap()) / 1000.0;
        let (low, high) = (duration.quantile(0.0), duration.max());
        assert!(
            drawn_ms >= low - 0.001 && drawn_ms <= high + 0.001,
            "{drawn_ms} outside {low}..{high}"
        );
        assert!(invocation.memory_mb <= profile.memory_mb);
        assert_eq!(
            invocation.trigger,
            Trigger::Unknown,
            "this layout has no Trigger column"
        );
        assert_eq!(profile.guest, "work");
    }
}

/// Kolmogorov–Smirnov distance between the sample and the unit exponential distribution.
fn ks_against_exponential(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len() as f64;
    values
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let cdf = 1.0 - (-x).exp();
            (cdf - i as f64 / n)
                .abs()
                .max(((i + 1) as f64 / n - cdf).abs())
        })
        .fold(0.0, f64::max)
}

/// Within-minute gaps of busy function-minutes, scaled by the minute's rate.
fn scaled_gaps(mode: &str) -> Vec<f64> {
    let scenario = scenario(&format!("within_minute = \"{mode}\""));
    let mut by_minute: HashMap<(u32, u64), Vec<u64>> = HashMap::new();
    for invocation in invocations(&scenario) {
        by_minute
            .entry((invocation.function.0, invocation.at_us / 1_000_000))
            .or_default()
            .push(invocation.at_us);
    }
    let mut keys: Vec<_> = by_minute.keys().copied().collect();
    keys.sort_unstable();
    let mut gaps = Vec::new();
    for key in keys {
        let times = &by_minute[&key];
        let n = times.len();
        if n < 20 {
            continue;
        }
        // At 60× a trace minute lasts one second of run time.
        gaps.extend(
            times
                .windows(2)
                .map(|w| (w[1] - w[0]) as f64 / 1e6 * n as f64),
        );
    }
    gaps.truncate(3000);
    gaps
}

#[test]
fn exponential_arrivals_pass_a_kolmogorov_smirnov_test_and_the_other_modes_fail_it() {
    // Critical value at the 1% level for 3000 values.
    let critical = 1.63 / (3000f64).sqrt();
    let mut exponential = scaled_gaps("exponential");
    assert_eq!(exponential.len(), 3000);
    let d = ks_against_exponential(&mut exponential);
    assert!(d < critical, "exponential: D = {d:.4} ≥ {critical:.4}");
    for mode in ["uniform", "equidistant"] {
        let d = ks_against_exponential(&mut scaled_gaps(mode));
        assert!(d > critical, "{mode}: D = {d:.4} should reject exponential");
    }
}

#[test]
fn the_same_seed_gives_the_same_schedule_and_another_seed_moves_arrivals_only() {
    let first = invocations(&scenario(""));
    assert_eq!(first, invocations(&scenario("")));
    let other = invocations(&seeded(7, "").unwrap());
    assert_ne!(first, other);
    assert_eq!(
        first.len(),
        other.len(),
        "counts come from the trace, not the seed"
    );
}

#[test]
fn a_slice_replays_exactly_its_minutes() {
    let scenario = scenario("start_minute = 600\nminutes = 60");
    assert_eq!(scenario.duration.as_secs(), 60);
    let got = schedule_counts(&scenario, 600);
    let expected: HashMap<_, _> = trace_counts()
        .into_iter()
        .filter(|((_, minute), _)| (600..660).contains(minute))
        .collect();
    assert_eq!(got, expected);
    assert!(invocations(&scenario).iter().all(|i| i.at_us < 60_000_000));
}

#[test]
fn a_sampled_function_arrives_exactly_as_in_the_full_replay() {
    let full = scenario("minutes = 120");
    let sampled =
        scenario("minutes = 120\n[trace.sample]\nmethod = \"representative\"\nfunctions = 10");
    let trace = sampled.trace.as_ref().unwrap();
    assert_eq!(sampled.functions.len(), 10);
    let distance = trace.distance.as_ref().unwrap();
    assert!(distance.invocations < 0.2, "{distance:?}");
    let by_name = |scenario: &Scenario, name: &str| -> Vec<u64> {
        let id = scenario
            .functions
            .iter()
            .position(|f| f.name == name)
            .unwrap() as u32;
        invocations(scenario)
            .iter()
            .filter(|i| i.function.0 == id)
            .map(|i| i.at_us)
            .collect()
    };
    for profile in &sampled.functions {
        assert_eq!(
            by_name(&sampled, &profile.name),
            by_name(&full, &profile.name),
            "{}",
            profile.name
        );
    }
}

#[test]
fn rate_scaling_keeps_the_shape_and_scales_the_volume() {
    let full = invocations(&scenario("minutes = 240")).len() as f64;
    let half = invocations(&scenario("minutes = 240\nrate_scale = 0.5")).len() as f64;
    let double = invocations(&scenario("minutes = 240\nrate_scale = 2.0")).len() as f64;
    assert!((half / full - 0.5).abs() < 0.02, "{half} of {full}");
    assert_eq!(
        double,
        2.0 * full,
        "a whole factor multiplies every count exactly"
    );
}

#[test]
fn triggers_of_the_official_layout_are_kept_on_every_invocation() {
    let origin = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenario.toml");
    let scenario = Scenario::from_toml_str(
        r#"
name = "example"
time_compression = 60.0
[trace]
invocations = "traces/azure2019-example-4/invocations.csv"
durations = "traces/azure2019-example-4/durations.csv"
memory = "traces/azure2019-example-4/memory.csv"
minutes = 30
"#,
        origin,
    )
    .unwrap();
    let triggers: Vec<Trigger> = scenario.functions.iter().map(|f| f.trigger).collect();
    assert!(
        triggers.iter().all(|&t| t != Trigger::Unknown),
        "{triggers:?}"
    );
    for invocation in invocations(&scenario) {
        assert_eq!(invocation.trigger, triggers[invocation.function.index()]);
    }
}

#[test]
fn a_malformed_trace_row_is_named_when_the_scenario_is_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/azure2019-sample-100/100_inv.csv"),
    )
    .unwrap();
    let broken = text.replacen(",0,", ",zero,", 1);
    std::fs::write(dir.path().join("inv.csv"), broken).unwrap();
    let err = Scenario::from_toml_str(
        "name = \"x\"\n[trace]\ninvocations = \"inv.csv\"\n",
        dir.path().join("broken.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with(&format!(
            "{}: `trace`: ",
            dir.path().join("broken.toml").display()
        )),
        "{err}"
    );
    assert!(
        err.contains("inv.csv:2:") && err.contains("`zero`"),
        "{err}"
    );
}

#[test]
fn trace_scenario_mistakes_name_their_key() {
    let cases = [
        ("start_minute = 1440", "`trace.start_minute`"),
        ("minutes = 0", "`trace.minutes`"),
        ("rate_scale = 0.0", "`trace.rate_scale`"),
        (
            "[trace.sample]\nmethod = \"top\"\nfunctions = 500",
            "`trace.sample.functions`",
        ),
        ("sampel = 3", "at `trace.sampel`"),
    ];
    for (extra, key) in cases {
        let err = try_scenario(extra).unwrap_err().to_string();
        assert!(err.contains(key), "expected {key} in: {err}");
    }
}

#[test]
fn per_invocation_traces_replay_their_exact_times_compressed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("generic.csv"),
        "timestamp_ms,function,duration_ms,trigger\n0,a,100,timer\n1500,b,20,http\n61000,a,50,timer\n",
    )
    .unwrap();
    let scenario = Scenario::from_toml_str(
        "name = \"g\"\ntime_compression = 10.0\n[trace]\ninvocations = \"generic.csv\"\n[work]\ncpu_share = 0.5\n",
        dir.path().join("g.toml"),
    )
    .unwrap();
    let all = invocations(&scenario);
    let times: Vec<u64> = all.iter().map(|i| i.at_us).collect();
    assert_eq!(times, [0, 150_000, 6_100_000]);
    assert_eq!(all[0].duration_us, Some(100_000));
    assert_eq!(all[0].trigger, Trigger::Timer);
    let body = scenario.functions[0].request_body(&all[0]);
    assert_eq!(body, "50000 50", "half computing, half waiting");
}
