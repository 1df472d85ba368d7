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

/// Kolmogorov–Smirnov distance between the sample and the uniform distribution on (0, 1).
fn ks_against_uniform(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len() as f64;
    values
        .iter()
        .enumerate()
        .map(|(i, &u)| (u - i as f64 / n).max((i + 1) as f64 / n - u))
        .fold(0.0, f64::max)
}

/// One value per function-minute of the sample replayed uncompressed: with `x` the offset of
/// the minute's first arrival as a share of the minute and `n` the minute's arrivals,
/// `u = 1 − (1 − x)ⁿ`.
///
/// In the exponential mode a minute's n arrivals are the first n partial sums of n + 1
/// independent Exp(1) gaps, divided by their total S. The first offset is then `E₀ / S`, which
/// is Beta(1, n) distributed whatever the scale of the gaps; its distribution function is
/// `1 − (1 − x)ⁿ`, so `u` is exactly uniform. Every function-minute draws from a generator of
/// its own and its count comes from the trace, so the values are independent. Uncompressed, a
/// minute is 60,000,000 µs and rounding to the microsecond moves `x` by less than 2·10⁻⁸.
fn first_gap_uniforms(mode: &str) -> Vec<f64> {
    let text = format!(
        r#"
name = "sample"
seed = 42
[trace]
invocations = "traces/azure2019-sample-100/100_inv.csv"
within_minute = "{mode}"
"#
    );
    let origin = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenario.toml");
    let scenario = Scenario::from_toml_str(&text, origin).unwrap();
    const MINUTE_US: u64 = 60_000_000;
    let mut by_minute: HashMap<(u32, u64), (u64, u32)> = HashMap::new();
    for invocation in invocations(&scenario) {
        let key = (invocation.function.0, invocation.at_us / MINUTE_US);
        let entry = by_minute.entry(key).or_insert((u64::MAX, 0));
        entry.0 = entry.0.min(invocation.at_us % MINUTE_US);
        entry.1 += 1;
    }
    by_minute
        .values()
        .map(|&(first, n)| {
            let x = first as f64 / MINUTE_US as f64;
            1.0 - (1.0 - x).powi(n as i32)
        })
        .collect()
}

#[test]
fn exponential_arrivals_pass_a_kolmogorov_smirnov_test_and_the_other_modes_fail_it() {
    let mut exponential = first_gap_uniforms("exponential");
    let n = exponential.len();
    assert!(n > 5_000, "{n} function-minutes");
    // Critical value at the 1% level, for this many values.
    let critical = 1.628 / (n as f64).sqrt();
    let d = ks_against_uniform(&mut exponential);
    assert!(d < critical, "exponential: D = {d:.4} ≥ {critical:.4}");
    for mode in ["uniform", "equidistant"] {
        let d = ks_against_uniform(&mut first_gap_uniforms(mode));
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

/// A small trace of every layout in `dir`: its `[trace]` lines and its number of invocations.
/// Arrivals are dense at every minute boundary, where rate-scaled copies may cross it.
fn traces_of_every_layout(dir: &Path) -> Vec<(&'static str, String, u64)> {
    // A fixed linear congruential sequence: varied gaps without a dependency.
    let mut state = 7u64;
    let mut next = move |bound: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 33) % bound
    };
    let (mut generic, mut azure2021) = (
        String::from("timestamp_ms,function,duration_ms\n"),
        String::from("app,func,end_timestamp,duration\n"),
    );
    let mut rows = 0;
    let mut at_ms = 0;
    // Six minutes, the last row well before the end of its minute.
    while at_ms < 5 * 60_000 + 50_000 {
        at_ms += 1 + next(300);
        let function = next(3);
        generic.push_str(&format!("{at_ms},f{function},{}\n", 1 + next(50)));
        // Azure 2021 rows give the end; the durations here keep them in end order.
        azure2021.push_str(&format!(
            "app,f{function},{:.3},0.001\n",
            at_ms as f64 / 1000.0 + 0.001
        ));
        rows += 1;
    }
    std::fs::write(dir.join("generic.csv"), generic).unwrap();
    std::fs::write(dir.join("azure2021.csv"), azure2021).unwrap();

    let mut huawei = String::from("day,time,0,1,2\n");
    let mut huawei_total = 0;
    for minute in 0..30 {
        let counts = [next(200), next(20), next(3)];
        huawei_total += counts.iter().sum::<u64>();
        huawei.push_str(&format!(
            "0,{},{},{},{}\n",
            minute * 60,
            counts[0],
            counts[1],
            counts[2]
        ));
    }
    std::fs::write(dir.join("huawei.csv"), huawei).unwrap();

    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/azure2019-sample-100");
    let sample_minutes = 240;
    let sample_total: u64 = trace_counts()
        .into_iter()
        .filter(|((_, minute), _)| *minute < sample_minutes)
        .map(|(_, count)| u64::from(count))
        .sum();
    vec![
        (
            "Azure 2019",
            format!(
                "invocations = \"{}\"\ndurations = \"{}\"\nminutes = {sample_minutes}\n",
                sample.join("100_inv.csv").display(),
                sample.join("100_run.csv").display()
            ),
            sample_total,
        ),
        (
            "Azure 2021",
            format!(
                "invocations = \"{}\"\n",
                dir.join("azure2021.csv").display()
            ),
            rows,
        ),
        (
            "Huawei 2023",
            format!("invocations = \"{}\"\n", dir.join("huawei.csv").display()),
            huawei_total,
        ),
        (
            "generic",
            format!("invocations = \"{}\"\n", dir.join("generic.csv").display()),
            rows,
        ),
    ]
}

#[test]
fn every_layout_gives_a_sorted_schedule_of_the_scaled_count_at_every_rate_scale() {
    let dir = tempfile::tempdir().unwrap();
    for (layout, trace, count) in traces_of_every_layout(dir.path()) {
        for scale in [0.5, 1.3, 2.0] {
            for mode in ["exponential", "uniform", "equidistant"] {
                let text = format!(
                    "name = \"s\"\nseed = 5\ntime_compression = 7.0\n[trace]\n{trace}rate_scale = {scale}\nwithin_minute = \"{mode}\"\n"
                );
                let scenario = Scenario::from_toml_str(&text, dir.path().join("s.toml")).unwrap();
                let all = invocations(&scenario);
                let what = format!("{layout}, rate_scale {scale}, {mode}");
                if let Some(pair) = all.windows(2).find(|w| w[0].at_us > w[1].at_us) {
                    panic!("{what}: {} µs after {} µs", pair[1].at_us, pair[0].at_us);
                }
                // Each count or row gets its whole part of the scale and the fraction by
                // chance: a standard deviation of at most √count / 2.
                let expected = count as f64 * scale;
                let tolerance = 2.0 * (count as f64).sqrt() + 1.0;
                let found = all.len() as f64;
                assert!(
                    (found - expected).abs() <= tolerance,
                    "{what}: {found} invocations, expected {expected} ± {tolerance}"
                );
            }
        }
    }
}
