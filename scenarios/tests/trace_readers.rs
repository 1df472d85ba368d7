//! The trace readers on the shipped Azure 2019 sample and on small files of the other layouts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use scenarios::Trigger;
use scenarios::trace::{TraceError, TraceEvent, TraceFiles, TraceFormat, TraceReader, open};

fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/azure2019-sample-100")
}

fn sample_files() -> TraceFiles {
    let dir = sample_dir();
    TraceFiles {
        invocations: vec![dir.join("100_inv.csv")],
        durations: vec![dir.join("100_run.csv")],
        memory: vec![dir.join("100_mem.csv")],
    }
}

/// The invocation counts of the sample, read independently: function hash → 1440 counts.
fn raw_counts(path: &Path) -> Vec<(String, Vec<u32>)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (
                fields[0].to_owned(),
                fields[3..].iter().map(|v| v.parse().unwrap()).collect(),
            )
        })
        .collect()
}

fn collect(reader: &dyn TraceReader, start: u32) -> Vec<TraceEvent> {
    reader.events(start).unwrap().map(Result::unwrap).collect()
}

#[test]
fn the_azure_2019_sample_is_read_exactly() {
    let trace = open(&sample_files()).unwrap();
    let index = trace.index();
    assert_eq!(index.format, TraceFormat::Azure2019);
    assert_eq!(index.functions.len(), 100);
    assert_eq!(index.minutes(), 1440);
    assert_eq!(index.invocations(), 86_751);
    let busiest = index.functions.iter().map(|f| f.invocations).max().unwrap();
    assert_eq!(busiest, 42_994);
    assert!(
        index
            .functions
            .iter()
            .all(|f| f.duration_ms.is_some() && f.memory_mb.is_some())
    );

    // Every count of every function and minute, as events in minute order.
    let raw = raw_counts(&sample_dir().join("100_inv.csv"));
    let mut seen: HashMap<(u32, u32), u32> = HashMap::new();
    let mut last_minute = 0;
    for event in collect(trace.as_ref(), 0) {
        let TraceEvent::Count {
            minute,
            function,
            count,
        } = event
        else {
            panic!("a per-minute trace yields counts");
        };
        assert!(minute >= last_minute, "events come in minute order");
        last_minute = minute;
        assert!(count > 0);
        assert!(seen.insert((function, minute), count).is_none());
    }
    for (function, (hash, counts)) in raw.iter().enumerate() {
        assert!(index.functions[function].id.ends_with(hash.as_str()));
        for (minute, &count) in counts.iter().enumerate() {
            let got = seen
                .get(&(function as u32, minute as u32))
                .copied()
                .unwrap_or(0);
            assert_eq!(got, count, "function {function} minute {minute}");
        }
    }
    let per_minute_total: u64 = index.per_minute.iter().sum();
    assert_eq!(per_minute_total, 86_751);
}

#[test]
fn durations_and_memory_come_from_their_percentile_files() {
    let trace = open(&sample_files()).unwrap();
    // The first durations row: Average 31.0, percentiles 2, 2, 29, 31, 34, 58, 62 (ms).
    let run = std::fs::read_to_string(sample_dir().join("100_run.csv")).unwrap();
    let first: Vec<&str> = run.lines().nth(1).unwrap().split(',').collect();
    let function = trace
        .index()
        .functions
        .iter()
        .find(|f| f.id.ends_with(first[2]))
        .unwrap();
    let duration = function.duration_ms.as_ref().unwrap();
    assert_eq!(duration.median(), first[10].parse::<f64>().unwrap());
    assert_eq!(duration.max(), first[13].parse::<f64>().unwrap());
    assert_eq!(function.mean_duration_ms, Some(first[3].parse().unwrap()));
    // One function per app in the sample: the app's memory is the function's.
    let memory = function.memory_mb.as_ref().unwrap();
    assert!(memory.median() > 0.0);
}

#[test]
fn the_official_layout_with_triggers_and_per_function_memory() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/azure2019-example-4");
    let files = TraceFiles::classify(&[
        dir.join("memory.csv"),
        dir.join("invocations.csv"),
        dir.join("durations.csv"),
    ])
    .unwrap();
    assert_eq!(files.invocations, [dir.join("invocations.csv")]);
    let trace = open(&files).unwrap();
    let functions = &trace.index().functions;
    assert_eq!(functions.len(), 4);
    assert!(functions.iter().all(|f| f.trigger != Trigger::Unknown));
    assert_eq!(functions[0].memory_mb.as_ref().unwrap().max(), 152.0);
    assert_eq!(functions[0].duration_ms.as_ref().unwrap().median(), 100.0);
}

#[test]
fn day_files_form_one_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let day1 = dir.path().join("d01.csv");
    let day2 = dir.path().join("d02.csv");
    std::fs::copy(sample_dir().join("100_inv.csv"), &day1).unwrap();
    std::fs::copy(sample_dir().join("100_inv.csv"), &day2).unwrap();
    let files = TraceFiles {
        invocations: vec![day1, day2],
        ..TraceFiles::default()
    };
    let trace = open(&files).unwrap();
    let index = trace.index();
    assert_eq!((index.functions.len(), index.minutes()), (100, 2880));
    assert_eq!(index.invocations(), 2 * 86_751);
    assert_eq!(index.per_minute[..1440], index.per_minute[1440..]);
    // Starting in the middle of day two gives exactly the tail of the full stream.
    let all = collect(trace.as_ref(), 0);
    let tail = collect(trace.as_ref(), 2000);
    let expected: Vec<_> = all.into_iter().filter(|e| e.minute() >= 2000).collect();
    assert_eq!(tail, expected);
}

#[test]
fn a_malformed_cell_is_named_by_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.csv");
    let text = std::fs::read_to_string(sample_dir().join("100_inv.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut fields: Vec<String> = lines[16].split(',').map(str::to_owned).collect();
    fields[39] = "x7".into();
    lines[16] = fields.join(",");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let files = TraceFiles {
        invocations: vec![path.clone()],
        ..TraceFiles::default()
    };
    let err = open(&files).err().unwrap();
    assert!(
        matches!(
            err,
            TraceError::Malformed {
                line: 17,
                column: 40,
                ..
            }
        ),
        "{err}"
    );
    let message = err.to_string();
    assert!(message.contains("inv.csv:17:40: `minute_37`"), "{message}");
    assert!(message.contains("`x7`"), "{message}");
}

#[test]
fn a_subset_is_written_in_the_same_layout() {
    let trace = open(&sample_files()).unwrap();
    let chosen = [3usize, 10, 42];
    let dir = tempfile::tempdir().unwrap();
    let written = trace.write_subset(&chosen, dir.path()).unwrap();
    assert_eq!(written.len(), 3);
    for file in &written {
        let text = std::fs::read_to_string(file).unwrap();
        assert_eq!(text.lines().count(), 1 + chosen.len(), "{}", file.display());
    }
    let subset = open(&TraceFiles::classify(&written).unwrap()).unwrap();
    let totals: Vec<u64> = subset
        .index()
        .functions
        .iter()
        .map(|f| f.invocations)
        .collect();
    let expected: Vec<u64> = chosen
        .iter()
        .map(|&f| trace.index().functions[f].invocations)
        .collect();
    assert_eq!(totals, expected);
    assert!(
        subset
            .index()
            .functions
            .iter()
            .all(|f| f.memory_mb.is_some())
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn huawei_rows_are_minutes_with_empty_and_float_cells() {
    let dir = tempfile::tempdir().unwrap();
    let day0 = write(
        dir.path(),
        "day_00.csv",
        "day,time,0,1,2\n0,0,,5,2.0\n0,60,NaN,1,\n0,180,3,,\n",
    );
    let day1 = write(dir.path(), "day_01.csv", "day,time,0,1,2\n1,86400,1,1,1\n");
    let trace = open(&TraceFiles {
        invocations: vec![day0, day1],
        ..TraceFiles::default()
    })
    .unwrap();
    let index = trace.index();
    assert_eq!(index.format, TraceFormat::Huawei2023);
    assert_eq!(index.minutes(), 1441);
    assert_eq!(index.per_minute[..4], [7, 1, 0, 3]);
    let totals: Vec<u64> = index.functions.iter().map(|f| f.invocations).collect();
    assert_eq!(totals, [4, 7, 3]);
    let events = collect(trace.as_ref(), 0);
    assert_eq!(
        events[0],
        TraceEvent::Count {
            minute: 0,
            function: 1,
            count: 5
        }
    );
    assert_eq!(
        events.last(),
        Some(&TraceEvent::Count {
            minute: 1440,
            function: 2,
            count: 1
        })
    );

    let bad = write(dir.path(), "bad.csv", "day,time,0\n0,60,1\n0,0,1\n");
    let err = open(&TraceFiles {
        invocations: vec![bad],
        ..TraceFiles::default()
    })
    .err()
    .unwrap();
    assert!(err.to_string().contains("bad.csv:3:2: `time`"), "{err}");
}

#[test]
fn azure_2021_invocations_come_out_in_start_order() {
    let dir = tempfile::tempdir().unwrap();
    // Sorted by end: the long invocation of `a` ends last but starts first.
    let path = write(
        dir.path(),
        "trace.csv",
        "app,func,end_timestamp,duration\n\
         x1,a,61.5,0.5\n\
         x1,b,62.0,0.25\n\
         x2,a,70.0,9.5\n\
         x1,a,120.0,0.1\n",
    );
    let trace = open(&TraceFiles {
        invocations: vec![path],
        ..TraceFiles::default()
    })
    .unwrap();
    let index = trace.index();
    assert_eq!(index.format, TraceFormat::Azure2021);
    assert_eq!(
        index.functions.len(),
        3,
        "func is unique only within its app"
    );
    let starts: Vec<(u64, u32)> = collect(trace.as_ref(), 0)
        .into_iter()
        .map(|event| match event {
            TraceEvent::Invocation {
                at_us, function, ..
            } => (at_us, function),
            other => panic!("{other:?}"),
        })
        .collect();
    // Minute 1 of the trace's clock is the timeline's minute 0.
    assert_eq!(
        starts,
        [
            (500_000, 2),
            (1_000_000, 0),
            (1_750_000, 1),
            (59_900_000, 0)
        ]
    );
    let a = &index.functions[0];
    assert_eq!(a.invocations, 2);
    assert!((a.mean_duration_ms.unwrap() - 300.0).abs() < 1e-9);
}

#[test]
fn generic_traces_carry_durations_memory_and_triggers() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "generic.csv",
        "timestamp_ms,function,duration_ms,memory_mb,trigger\n\
         0,resize,120,256,http\n\
         250,thumb,40,128,queue\n\
         1000,resize,80,256,http\n",
    );
    let trace = open(&TraceFiles {
        invocations: vec![path.clone()],
        ..TraceFiles::default()
    })
    .unwrap();
    let index = trace.index();
    assert_eq!(index.format, TraceFormat::Generic);
    let names: Vec<&str> = index.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["resize", "thumb"]);
    assert_eq!(index.functions[1].trigger, Trigger::Queue);
    assert_eq!(index.functions[0].memory_mb.as_ref().unwrap().max(), 256.0);
    let events = collect(trace.as_ref(), 0);
    assert_eq!(
        events[2],
        TraceEvent::Invocation {
            at_us: 1_000_000,
            function: 0,
            duration_us: Some(80_000)
        }
    );
    let bad = write(dir.path(), "bad.csv", "timestamp_ms,function\n0,f\n-5,f\n");
    let err = open(&TraceFiles {
        invocations: vec![bad],
        ..TraceFiles::default()
    })
    .err()
    .unwrap();
    assert!(
        err.to_string().contains("bad.csv:3:1: `timestamp_ms`"),
        "{err}"
    );
}

#[test]
fn an_unknown_layout_says_what_is_expected() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "what.csv", "a,b,c\n1,2,3\n");
    let err = open(&TraceFiles {
        invocations: vec![path],
        ..TraceFiles::default()
    })
    .err()
    .unwrap();
    let message = err.to_string();
    assert!(
        message.contains("unknown trace layout") && message.contains("Azure 2021"),
        "{message}"
    );
}
