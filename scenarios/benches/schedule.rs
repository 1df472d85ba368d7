//! Schedule generation throughput: invocations produced per second, for a synthetic Poisson
//! scenario, a full day of the shipped Azure 2019 sample (trace read from disk as the schedule
//! is consumed), and a per-invocation trace.
//!
//! `cargo bench -p scenarios --bench schedule`

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scenarios::Scenario;

fn count(scenario: &Scenario) -> u64 {
    scenario
        .schedule()
        .map(|invocation| invocation.map(|_| 1).unwrap())
        .sum()
}

fn schedule(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut group = c.benchmark_group("schedule");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));

    let poisson = Scenario::from_toml_str(
        "name = \"p\"\nduration = \"100s\"\n[arrivals]\nprocess = \"poisson\"\nrate = 10000.0\n\
         [[functions]]\nname = \"a\"\nguest = \"noop\"\n[[functions]]\nname = \"b\"\nguest = \"noop\"\nweight = 3\n",
        root.join("p.toml"),
    )
    .unwrap();
    group.throughput(Throughput::Elements(count(&poisson)));
    group.bench_function("poisson/1M", |b| b.iter(|| count(&poisson)));

    let azure = Scenario::load(root.join("catalog/azure-sample.toml")).unwrap();
    group.throughput(Throughput::Elements(count(&azure)));
    group.bench_function("azure2019-sample/day", |b| b.iter(|| count(&azure)));

    let dir = tempfile::tempdir().unwrap();
    let mut rows = String::from("timestamp_ms,function,duration_ms\n");
    for i in 0..500_000u64 {
        rows.push_str(&format!("{},f{},{}\n", i * 2, i % 100, 10 + i % 90));
    }
    std::fs::write(dir.path().join("generic.csv"), rows).unwrap();
    let generic = Scenario::from_toml_str(
        "name = \"g\"\ntime_compression = 60.0\n[trace]\ninvocations = \"generic.csv\"\n",
        dir.path().join("g.toml"),
    )
    .unwrap();
    group.throughput(Throughput::Elements(count(&generic)));
    group.bench_function("generic/500k", |b| b.iter(|| count(&generic)));
    group.finish();
}

criterion_group!(benches, schedule);
criterion_main!(benches);
