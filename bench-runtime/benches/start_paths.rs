//! Start paths, in process: cold start, snapshot start, snapshot start plus a first invocation
//! that reads all of the state, and warm start plus a `noop` invocation, for 1 MiB and 16 MiB
//! of post-`init` state.
//!
//! `cargo bench -p bench-runtime --bench start_paths`. Besides criterion's estimates, every
//! timed start is recorded in an HdrHistogram and per-start percentiles are printed at the end
//! (criterion's samples are averages over batches).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bench_runtime::policy::KeepAliveConfig;
use bench_runtime::{FunctionConfig, ModuleSource, Runtime, RuntimeConfig, StartKind};
use criterion::{Criterion, criterion_group, criterion_main};
use hdrhistogram::Histogram;

static PER_START: Mutex<BTreeMap<String, Histogram<u64>>> = Mutex::new(BTreeMap::new());

fn record(name: &str, took: Duration) {
    let mut all = PER_START.lock().unwrap();
    let histogram = all
        .entry(name.to_owned())
        .or_insert_with(|| Histogram::new(3).unwrap());
    histogram.record(took.as_nanos() as u64).unwrap();
}

fn start_paths(c: &mut Criterion) {
    let threads = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let runtime = threads.block_on(async {
        Runtime::new(
            RuntimeConfig::default()
                .with_instance_slots(64)
                .with_keep_alive(KeepAliveConfig::Fixed {
                    ttl: Duration::from_secs(3600),
                }),
        )
        .unwrap()
    });

    let mut group = c.benchmark_group("start");
    for mib in [1u32, 16] {
        let name = format!("state-{mib}MiB");
        let guest = format!("init-heavy(init_ms=0, state_mib={mib})");
        runtime
            .deploy(FunctionConfig::new(&name, ModuleSource::Builtin(guest)).with_memory_mb(64))
            .unwrap();
        threads.block_on(async {
            runtime.invoke(&name, "".into()).await.unwrap();
            runtime
                .wait_for_snapshot(&name, Duration::from_secs(30))
                .await
                .unwrap();
        });

        for (label, kind, scan) in [
            ("cold", StartKind::Cold, false),
            ("snapshot", StartKind::Snapshot, false),
            ("snapshot+scan", StartKind::Snapshot, true),
        ] {
            if scan && mib != 16 {
                continue;
            }
            let id = format!("{label}/{mib}MiB");
            if kind == StartKind::Cold {
                group.sample_size(20);
            } else {
                group.sample_size(100);
            }
            group.bench_function(&id, |b| {
                b.iter_custom(|iterations| {
                    threads.block_on(async {
                        let mut total = Duration::ZERO;
                        for _ in 0..iterations {
                            let begun = Instant::now();
                            let mut instance = runtime.start_instance(&name, kind).await.unwrap();
                            if scan {
                                let output = instance.invoke("scan".into()).await.unwrap();
                                assert_eq!(output.len(), 32);
                            }
                            let took = begun.elapsed();
                            record(&id, took);
                            total += took;
                            // Dropping resets the slot for the next start: not timed.
                            drop(instance);
                        }
                        total
                    })
                })
            });
        }
    }

    runtime
        .deploy(FunctionConfig::new(
            "noop",
            ModuleSource::Builtin("noop".into()),
        ))
        .unwrap();
    threads.block_on(async { runtime.invoke("noop", "".into()).await.unwrap() });
    group.sample_size(100);
    group.bench_function("warm+noop", |b| {
        b.iter_custom(|iterations| {
            threads.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let begun = Instant::now();
                    let done = runtime.invoke("noop", "".into()).await.unwrap();
                    let took = begun.elapsed();
                    debug_assert_eq!(done.metering.start, StartKind::Warm);
                    record("warm+noop", took);
                    total += took;
                }
                total
            })
        })
    });
    group.finish();

    println!("\nper-start latency (every timed start, HdrHistogram):");
    println!(
        "{:<24} {:>10} {:>12} {:>12} {:>12}",
        "benchmark", "starts", "p50", "p99", "max"
    );
    for (name, histogram) in PER_START.lock().unwrap().iter() {
        let us = |ns: u64| format!("{:.2} µs", ns as f64 / 1000.0);
        println!(
            "{:<24} {:>10} {:>12} {:>12} {:>12}",
            name,
            histogram.len(),
            us(histogram.value_at_quantile(0.5)),
            us(histogram.value_at_quantile(0.99)),
            us(histogram.max())
        );
    }
}

criterion_group!(benches, start_paths);
criterion_main!(benches);
