//! Traces a user's tools or mistakes produce: a byte-order mark, bytes that are not UTF-8, a
//! timestamp far from the others, a count no replay could send. Each opens or is refused
//! with its file, line and column, quickly and in little memory.

use std::path::{Path, PathBuf};

use scenarios::trace::{self, MAX_COUNT_PER_MINUTE, MAX_TIMELINE_MINUTES, TraceFiles};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn open(path: &Path) -> Result<Box<dyn trace::TraceReader>, trace::TraceError> {
    trace::open(&TraceFiles {
        invocations: vec![path.to_owned()],
        ..TraceFiles::default()
    })
}

fn azure2019(counts: &str) -> String {
    let minutes: Vec<String> = (1..=3).map(|m| m.to_string()).collect();
    format!(
        "HashOwner,HashApp,HashFunction,Trigger,{}\no,a,f,http,{counts}\n",
        minutes.join(",")
    )
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

#[test]
fn a_byte_order_mark_before_the_header_is_accepted_in_every_layout() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        (
            "generic.csv",
            "timestamp_ms,function\n0,f\n1000,f\n".to_owned(),
        ),
        (
            "azure2021.csv",
            "app,func,end_timestamp,duration\na,f,2.0,1.0\n".to_owned(),
        ),
        ("huawei.csv", "day,time,f\n0,0,3\n0,60,1\n".to_owned()),
        ("azure2019.csv", azure2019("1,0,2")),
    ] {
        let plain = open(&write(dir.path(), name, text.as_bytes())).unwrap();
        let marked = open(&write(dir.path(), name, &[BOM, text.as_bytes()].concat()))
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(marked.index().format, plain.index().format, "{name}");
        assert_eq!(
            marked.index().invocations(),
            plain.index().invocations(),
            "{name}"
        );
    }
}

#[test]
fn bytes_that_are_not_utf8_are_named_by_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "t.csv",
        b"timestamp_ms,function\n0,f\n10,b\xFFd\n",
    );
    let err = open(&path).err().expect("refused").to_string();
    assert!(
        err.ends_with("t.csv:3:2: not valid UTF-8 (byte 5 of the line, field 2)"),
        "{err}"
    );
    assert_eq!(err.matches("UTF-8").count(), 1, "said once: {err}");
}

#[test]
fn a_timestamp_far_from_the_others_is_refused_not_allocated_for() {
    let dir = tempfile::tempdir().unwrap();
    let generic = write(
        dir.path(),
        "g.csv",
        b"timestamp_ms,function\n0,f\n1000000000000000,f\n",
    );
    let err = open(&generic).err().expect("refused").to_string();
    assert!(
        err.contains("g.csv:3:") && err.contains("four years"),
        "{err}"
    );

    let azure2021 = write(
        dir.path(),
        "a.csv",
        b"app,func,end_timestamp,duration\na,f,1.0,0.5\na,f,1000000000000.0,0.5\n",
    );
    let err = open(&azure2021).err().expect("refused").to_string();
    assert!(
        err.contains("a.csv:3:") && err.contains("four years"),
        "{err}"
    );

    let huawei = write(
        dir.path(),
        "h.csv",
        b"day,time,f\n0,0,1\n0,1000000000000,1\n",
    );
    let err = open(&huawei).err().expect("refused").to_string();
    assert!(
        err.contains("h.csv:3:2") && err.contains("four years"),
        "{err}"
    );

    // Just within the limit opens: the timeline is as long as the trace says.
    let last = u64::from(MAX_TIMELINE_MINUTES - 1) * 60_000;
    let wide = write(
        dir.path(),
        "w.csv",
        format!("timestamp_ms,function\n0,f\n{last},f\n").as_bytes(),
    );
    let reader = open(&wide).unwrap();
    assert_eq!(reader.index().minutes(), MAX_TIMELINE_MINUTES);
    assert_eq!(reader.index().invocations(), 2);
}

#[test]
fn a_count_no_replay_could_send_is_refused_with_its_cell() {
    let dir = tempfile::tempdir().unwrap();
    let azure = write(
        dir.path(),
        "inv.csv",
        azure2019("1,4294967295,2").as_bytes(),
    );
    let err = open(&azure).err().expect("refused").to_string();
    assert!(
        err.contains("inv.csv:2:6: `2`: 4294967295 invocations"),
        "{err}"
    );
    let huawei = write(dir.path(), "h.csv", b"day,time,f\n0,0,99999999999\n");
    let err = open(&huawei).err().expect("refused").to_string();
    assert!(
        err.contains("h.csv:2:3: `f`: 99999999999 requests"),
        "{err}"
    );

    let at_bound = write(
        dir.path(),
        "ok.csv",
        azure2019(&format!("0,{MAX_COUNT_PER_MINUTE},0")).as_bytes(),
    );
    assert_eq!(
        open(&at_bound).unwrap().index().invocations(),
        MAX_COUNT_PER_MINUTE
    );
}

#[test]
fn a_start_near_the_earliest_expressible_time_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    // Ends at 0 after running for 292,000 years: it started just above i64::MIN µs.
    let path = write(
        dir.path(),
        "a.csv",
        b"app,func,end_timestamp,duration\n0,0,0,9223372036801\n",
    );
    let err = open(&path).err().expect("refused").to_string();
    assert!(
        err.contains("a.csv") && err.contains("out of range"),
        "{err}"
    );
}
