//! Scenario values that are valid in form but absurd in size: each is refused when the file is
//! read, with its key named and what is allowed said, instead of panicking or never ending.

use std::path::Path;
use std::time::Duration;

use scenarios::{Scenario, ScenarioError};

const QUICK: &str = r#"
    name = "t"
    seed = 3
    duration = "10s"
    [arrivals]
    process = "poisson"
    rate = 100.0
    [[functions]]
    name = "a"
    guest = "noop"
    [[functions]]
    name = "b"
    guest = "noop"
"#;

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::from_toml_str(
        text,
        Path::new(env!("CARGO_MANIFEST_DIR")).join("bounds.toml"),
    )
}

/// The error of `text`, which must be refused with `key` named.
fn refused(text: &str, key: &str) -> String {
    let err = parse(text).unwrap_err().to_string();
    assert!(
        err.contains(&format!("`{key}`")),
        "expected `{key}` in: {err}"
    );
    err
}

fn sample_trace(extra: &str) -> String {
    format!(
        "name = \"t\"\n{extra}\n[trace]\ninvocations = \"{}/traces/azure2019-sample-100/100_inv.csv\"\n",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn time_compression_outside_its_bounds_is_refused_saying_what_is_allowed() {
    for value in ["1e-20", "0.0009", "1e300", "2e6"] {
        for text in [
            sample_trace(&format!("time_compression = {value}")),
            QUICK.replace("seed = 3", &format!("seed = 3\ntime_compression = {value}")),
        ] {
            let err = refused(&text, "time_compression");
            assert!(err.contains("0.001") && err.contains("1000000"), "{err}");
        }
    }
    assert!(parse(&sample_trace("time_compression = 1e6")).is_ok());
}

#[test]
fn a_trace_replay_longer_than_a_year_is_refused_unless_a_duration_cuts_it() {
    // 1440 trace minutes, each lasting 1000 minutes: 1000 days.
    let err = refused(
        &sample_trace("time_compression = 0.001"),
        "time_compression",
    );
    assert!(err.contains("366 days"), "{err}");
    let cut = parse(&sample_trace(
        "time_compression = 0.001\nduration = \"30d\"",
    ));
    assert_eq!(cut.unwrap().duration, Duration::from_secs(30 * 86_400));
}

#[test]
fn a_duration_past_a_year_is_refused_saying_what_is_allowed() {
    let huge = "\"18000000000000000000s\"";
    for text in [
        QUICK.replace("\"10s\"", huge) + "[load]\nmode = \"closed\"\nusers = 4\n",
        QUICK.replace("\"10s\"", huge),
        QUICK.replace("\"10s\"", "\"367d\""),
        sample_trace(&format!("duration = {huge}")),
    ] {
        let err = refused(&text, "duration");
        assert!(err.contains("at most 366 days"), "{err}");
    }
    assert!(parse(&QUICK.replace("\"10s\"", "\"366d\"").replace("100.0", "1.0")).is_ok());
}

#[test]
fn absurd_rates_and_gaps_are_refused_saying_what_is_allowed() {
    let arrivals = |process: &str| {
        QUICK.replace(
            "process = \"poisson\"\n    rate = 100.0",
            &format!("process = \"{process}"),
        )
    };
    let cases = [
        ("poisson\"\nrate = 1e9", "rate"),
        ("constant\"\nrate = 1e9", "rate"),
        ("ramp\"\nfrom = 1e9\nto = 1.0", "from"),
        ("ramp\"\nfrom = 1.0\nto = 1e9", "to"),
        (
            "steps\"\nsteps = [{ rate = 1.0, for = \"1s\" }, { rate = 1e9, for = \"1s\" }]",
            "steps[1].rate",
        ),
        (
            "spike\"\nbase = 1e9\npeak = 1.0\nat = \"1s\"\nlength = \"1s\"",
            "base",
        ),
        (
            "spike\"\nbase = 1.0\npeak = 1e9\nat = \"1s\"\nlength = \"1s\"",
            "peak",
        ),
        (
            "diurnal\"\nmean = 6e6\namplitude = 0.8\nperiod = \"1m\"",
            "amplitude",
        ),
        ("cold-probe\"\ngap = \"1ns\"", "gap"),
    ];
    for (process, parameter) in cases {
        let err = refused(&arrivals(process), "arrivals");
        assert!(
            err.contains(&format!("`{parameter}`")),
            "{parameter}: {err}"
        );
        let allowed = if parameter == "gap" {
            "1 µs"
        } else {
            "10000000"
        };
        assert!(err.contains(allowed), "{parameter}: {err}");
    }
    // Two functions share the gap: each gets half, which must still be a microsecond.
    let err = refused(&arrivals("cold-probe\"\ngap = \"1us\""), "arrivals");
    assert!(
        err.contains("`gap`") && err.contains("at least 2 µs"),
        "{err}"
    );
    assert!(parse(&arrivals("cold-probe\"\ngap = \"2us\"")).is_ok());
    assert!(parse(&arrivals("constant\"\nrate = 1e7")).is_ok());
    // Within every bound, but 10,000,000/s for a day expects 8.6·10¹¹ invocations.
    let day = arrivals("constant\"\nrate = 1e7").replace("\"10s\"", "\"1d\"");
    let err = refused(&day, "arrivals");
    assert!(err.contains("1e10") && err.contains("`duration`"), "{err}");
}
