//! Functions taken from a trace keep unique, stable names and their original identity.

use std::collections::HashSet;

use scenarios::Scenario;

#[test]
fn names_that_differ_only_in_removed_characters_stay_distinct_functions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("trace.csv"),
        "timestamp_ms,function\n0,a b\n10,ab\n20,-ab-2\n30,ab-2\n40,a b\n",
    )
    .unwrap();
    let text = "name = \"names\"\n[trace]\ninvocations = \"trace.csv\"\n";
    let scenario = Scenario::from_toml_str(text, dir.path().join("s.toml")).unwrap();
    let names: Vec<&str> = scenario.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    let unique: HashSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), 4, "names collide: {names:?}");
    let originals: HashSet<&str> = scenario
        .functions
        .iter()
        .map(|f| f.trace_id.as_deref().unwrap())
        .collect();
    // The trace's identity of each function: its app (none here), `/`, its name.
    assert_eq!(originals, HashSet::from(["/a b", "/ab", "/-ab-2", "/ab-2"]));
    // Every invocation goes to the function it names in the trace.
    let per_function = scenario
        .schedule()
        .fold(vec![0; 4], |mut counts, invocation| {
            counts[invocation.unwrap().function.index()] += 1;
            counts
        });
    let twice = scenario
        .functions
        .iter()
        .position(|f| f.trace_id.as_deref() == Some("/a b"))
        .unwrap();
    assert_eq!(per_function[twice], 2, "{per_function:?}");
    // Stable: the same trace gives the same names.
    let again = Scenario::from_toml_str(text, dir.path().join("s.toml")).unwrap();
    let again: Vec<&str> = again.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, again);
}
