//! Properties of every trace reader and of the scenario parser: any bytes give a value or an
//! error, never a panic; what a reader writes, it reads back the same.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use scenarios::Scenario;
use scenarios::trace::{self, TraceEvent, TraceFiles, TraceReader};

/// The header of each layout, so that random lines reach each reader's row parsing.
const HEADERS: [&str; 4] = [
    "timestamp_ms,function,duration_ms,memory_mb,trigger\n",
    "app,func,end_timestamp,duration\n",
    "day,time,a,b\n",
    "HashOwner,HashApp,HashFunction,Trigger,1,2,3\n",
];

fn open(path: &Path) -> Result<Box<dyn TraceReader>, trace::TraceError> {
    trace::open(&TraceFiles {
        invocations: vec![path.to_owned()],
        ..TraceFiles::default()
    })
}

/// Opens `bytes` as a trace and, when it opens, reads and sums it up as `inspect` and a
/// replay would: nothing may panic.
fn exercise(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    std::fs::write(&path, bytes).unwrap();
    if let Ok(reader) = open(&path) {
        let _ = trace::summarize(reader.as_ref());
        if let Ok(events) = reader.events(0) {
            for event in events {
                if event.is_err() {
                    break;
                }
            }
        }
    }
}

/// Lines made of the characters trace rows are made of, with some that are not.
fn lines() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(&b"0123456789,,,.-eE\n\n\r\"abfNn \xFF\xEF\xBB\xBF"[..]),
        0..200,
    )
}

/// Numbers of every size, including the ones that do not fit.
fn numbers() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        (0u64..100_000).prop_map(|n| n.to_string()),
        Just(String::new()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_are_a_trace_or_an_error(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        exercise(&bytes);
    }

    #[test]
    fn any_rows_under_a_valid_header_are_a_trace_or_an_error(
        layout in 0..HEADERS.len(),
        body in lines(),
    ) {
        exercise(&[HEADERS[layout].as_bytes(), &body].concat());
    }

    #[test]
    fn rows_of_numbers_of_any_size_are_a_trace_or_an_error(
        layout in 0..HEADERS.len(),
        rows in prop::collection::vec(prop::collection::vec(numbers(), 1..8), 1..6),
    ) {
        let mut text = HEADERS[layout].to_owned();
        for row in rows {
            if layout == 3 {
                text.push_str("o,a,");
            }
            text.push_str(&row.join(","));
            text.push('\n');
        }
        exercise(text.as_bytes());
    }

    #[test]
    fn a_sampled_trace_reads_back_the_same(
        rows in prop::collection::vec((0u64..600_000, 0usize..5), 1..60),
        huawei in prop::collection::vec(prop::collection::vec(0u64..50, 3), 1..20),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut generic = "timestamp_ms,function\n".to_owned();
        for (at, function) in &rows {
            generic.push_str(&format!("{at},fn{function}\n"));
        }
        let mut counted = "day,time,x,y,z\n".to_owned();
        for (minute, counts) in huawei.iter().enumerate() {
            let counts: Vec<String> = counts.iter().map(u64::to_string).collect();
            counted.push_str(&format!("0,{},{}\n", minute * 60, counts.join(",")));
        }
        for (name, text) in [("generic.csv", generic), ("huawei.csv", counted)] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let original = open(&path).unwrap();
            let out = dir.path().join("out");
            std::fs::create_dir_all(&out).unwrap();
            let all: Vec<usize> = (0..original.index().functions.len()).collect();
            let written = original.write_subset(&all, &out).unwrap();
            let copy = trace::open(&TraceFiles { invocations: written, ..TraceFiles::default() })
                .unwrap();
            prop_assert_eq!(figures(original.as_ref()), figures(copy.as_ref()), "{}", name);
        }
    }

    #[test]
    fn any_text_is_a_scenario_or_an_error(text in "\\PC{0,300}") {
        let _ = Scenario::from_toml_str(&text, "p.toml");
    }

    #[test]
    fn any_values_of_the_scenario_keys_are_a_scenario_or_an_error(
        compression in any::<f64>(),
        duration in any::<u64>(),
        unit in prop::sample::select(&["ns", "us", "ms", "s", "m", "h", "d", "y"][..]),
        rate in any::<f64>(),
        weight in any::<f64>(),
        process in prop::sample::select(&["poisson", "constant", "cold-probe", "diurnal"][..]),
        users in any::<u64>(),
    ) {
        let arrivals = match process {
            "cold-probe" => format!("gap = \"{duration}{unit}\""),
            "diurnal" => format!("mean = {rate:?}\namplitude = {weight:?}\nperiod = \"{duration}{unit}\""),
            _ => format!("rate = {rate:?}"),
        };
        let text = format!(
            "name = \"p\"\ntime_compression = {compression:?}\nduration = \"{duration}{unit}\"\n\
             [arrivals]\nprocess = \"{process}\"\n{arrivals}\n\
             [[functions]]\nname = \"a\"\nguest = \"noop\"\nweight = {weight:?}\n\
             [[functions]]\nname = \"b\"\nguest = \"noop\"\n"
        );
        if let Ok(scenario) = Scenario::from_toml_str(&text, "p.toml") {
            // A scenario that loads can be scheduled: take the start of it.
            for invocation in scenario.schedule().take(1_000) {
                prop_assert!(invocation.is_ok());
            }
            let closed = format!("{text}[load]\nmode = \"closed\"\nusers = {}\n", users % 1_000_000);
            let _ = Scenario::from_toml_str(&closed, "p.toml");
        }
    }
}

/// Function ids with their counts, and invocations per minute, as the reader's events say.
fn figures(reader: &dyn TraceReader) -> (BTreeMap<String, u64>, BTreeMap<u32, u64>) {
    let index = reader.index();
    let mut per_function = BTreeMap::new();
    let mut per_minute = BTreeMap::new();
    for event in reader.events(0).unwrap() {
        let event = event.unwrap();
        let (function, count) = match event {
            TraceEvent::Count {
                function, count, ..
            } => (function, u64::from(count)),
            TraceEvent::Invocation { function, .. } => (function, 1),
        };
        if count > 0 {
            *per_function
                .entry(index.functions[function as usize].id.clone())
                .or_default() += count;
            *per_minute.entry(event.minute()).or_default() += count;
        }
    }
    (per_function, per_minute)
}
