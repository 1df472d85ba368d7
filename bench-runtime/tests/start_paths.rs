//! The three start paths: cold, snapshot, warm — and that a snapshot-started instance is
//! indistinguishable from one that ran `init`.

mod support;

use std::time::Duration;

use bench_runtime::policy::KeepAliveConfig;
use bench_runtime::{FunctionConfig, ModuleSource, RuntimeConfig, StartKind};
use support::{guest, runtime};

/// Every kind of state a snapshot must carry: mutable globals of several types (set by `init`
/// and by the start function), memory written by `init` (directly, from an active data segment
/// and from a passive one), and a start function that must not run twice.
const STATEFUL: &str = r#"
(module
  (import "faas" "output_write" (func $out (param i32 i32)))
  (memory (export "memory") 1)
  (global $counter (mut i64) (i64.const 0))
  (global $ratio (mut f64) (f64.const 0))
  (global $starts (mut i32) (i32.const 0))
  (global $fixed i32 (i32.const 7))
  (data (i32.const 100) "seed")
  (data $later "passive!")
  (func $start (global.set $starts (i32.add (global.get $starts) (i32.const 1))))
  (start $start)
  (func (export "init")
    (global.set $counter (i64.const 1000))
    (global.set $ratio (f64.const 0.25))
    (memory.init $later (i32.const 200) (i32.const 0) (i32.const 8))
    (i32.store (i32.const 300) (i32.const 0x44434241))
    (i32.store (i32.const 40000) (i32.const 0x5a5a5a5a)))
  (func (export "handle")
    (global.set $counter (i64.add (global.get $counter) (i64.const 1)))
    (i64.store (i32.const 0) (global.get $counter))
    (f64.store (i32.const 8) (global.get $ratio))
    (i32.store (i32.const 16) (global.get $starts))
    (i32.store (i32.const 20) (global.get $fixed))
    (call $out (i32.const 0) (i32.const 24))
    (call $out (i32.const 100) (i32.const 4))
    (call $out (i32.const 200) (i32.const 8))
    (call $out (i32.const 300) (i32.const 4))
    (call $out (i32.const 40000) (i32.const 4))))
"#;

#[tokio::test]
async fn first_invocation_is_cold_later_ones_reuse_the_warm_instance() {
    let runtime = runtime(RuntimeConfig::default());
    runtime.deploy(guest("hello", "noop")).unwrap();
    let cold = runtime.invoke("hello", "".into()).await.unwrap().metering;
    assert_eq!(cold.start, StartKind::Cold);
    assert!(cold.init_us > 0, "a cold start compiles and instantiates");
    for _ in 0..3 {
        let warm = runtime.invoke("hello", "".into()).await.unwrap().metering;
        assert_eq!(warm.start, StartKind::Warm);
        assert_eq!((warm.init_us, warm.instance), (0, cold.instance));
    }
    let stats = runtime.stats();
    let hello = stats.function("hello").unwrap();
    assert_eq!((hello.starts.cold, hello.starts.warm), (1, 3));
    assert_eq!(hello.instances.idle, 1);
}

#[tokio::test]
async fn a_snapshot_started_instance_returns_exactly_what_a_cold_started_one_does() {
    let runtime = runtime(RuntimeConfig::default());
    runtime
        .deploy(FunctionConfig::new(
            "stateful",
            ModuleSource::Wat(STATEFUL.into()),
        ))
        .unwrap();
    runtime.invoke("stateful", "".into()).await.unwrap();
    runtime
        .wait_for_snapshot("stateful", Duration::from_secs(10))
        .await
        .unwrap();

    let mut cold = runtime
        .start_instance("stateful", StartKind::Cold)
        .await
        .unwrap();
    let mut restored = runtime
        .start_instance("stateful", StartKind::Snapshot)
        .await
        .unwrap();
    for call in 1..=3 {
        let from_cold = cold.invoke("".into()).await.unwrap();
        let from_snapshot = restored.invoke("".into()).await.unwrap();
        assert_eq!(from_snapshot, from_cold, "call {call}");
        // The counter init set to 1000, plus one per call; the start function ran once.
        assert_eq!(
            i64::from_le_bytes(from_cold[0..8].try_into().unwrap()),
            1000 + call
        );
        assert_eq!(
            f64::from_le_bytes(from_cold[8..16].try_into().unwrap()),
            0.25
        );
        assert_eq!(i32::from_le_bytes(from_cold[16..20].try_into().unwrap()), 1);
        assert_eq!(&from_cold[24..], b"seedpassive!ABCDZZZZ");
    }
}

#[tokio::test]
async fn init_heavy_state_survives_the_snapshot_and_init_is_skipped() {
    let runtime = runtime(RuntimeConfig::default().with_keep_alive(KeepAliveConfig::None {}));
    runtime
        .deploy(guest("boot", "init-heavy(init_ms=150, state_mib=2)").with_memory_mb(64))
        .unwrap();
    let cold = runtime.invoke("boot", "scan".into()).await.unwrap();
    assert_eq!(cold.metering.start, StartKind::Cold);
    assert!(
        cold.metering.init_us >= 150_000,
        "init computed: {:?}",
        cold.metering
    );
    runtime
        .wait_for_snapshot("boot", Duration::from_secs(10))
        .await
        .unwrap();

    // With `none`, every invocation needs a new instance: now from the snapshot.
    let restored = runtime.invoke("boot", "scan".into()).await.unwrap();
    assert_eq!(restored.metering.start, StartKind::Snapshot);
    assert!(
        restored.metering.init_us < cold.metering.init_us / 10,
        "a snapshot start skips init: {} µs vs {} µs",
        restored.metering.init_us,
        cold.metering.init_us
    );
    // Same checksum of the 2 MiB of state (read back in full by "scan"), same call count.
    assert_eq!(restored.output, cold.output);
    assert_eq!(&restored.output[16..], b"0000000000000001");
    let stats = runtime.stats();
    let boot = stats.function("boot").unwrap();
    assert_eq!((boot.starts.cold, boot.starts.snapshot), (1, 1));
    assert_eq!(boot.snapshot, "ready");
}

#[tokio::test]
async fn with_snapshots_off_every_new_instance_starts_cold() {
    let runtime = runtime(
        RuntimeConfig::default()
            .with_snapshots(false)
            .with_keep_alive(KeepAliveConfig::None {}),
    );
    runtime
        .deploy(guest("boot", "init-heavy(init_ms=0, state_mib=1)"))
        .unwrap();
    for _ in 0..3 {
        let done = runtime.invoke("boot", "".into()).await.unwrap();
        assert_eq!(done.metering.start, StartKind::Cold);
    }
    let stats = runtime.stats();
    let boot = stats.function("boot").unwrap();
    assert!(boot.snapshot.starts_with("off"), "{}", boot.snapshot);
    assert_eq!(boot.evictions.discarded, 3);
}

#[tokio::test]
async fn a_module_that_cannot_be_snapshotted_still_runs_cold() {
    let runtime = runtime(RuntimeConfig::default().with_keep_alive(KeepAliveConfig::None {}));
    // A mutable funcref global cannot be written as a constant initialiser.
    let reference_global = r#"(module
        (memory (export "memory") 1)
        (global $callback (mut funcref) (ref.null func))
        (func (export "handle")))"#;
    runtime
        .deploy(FunctionConfig::new(
            "odd",
            ModuleSource::Wat(reference_global.into()),
        ))
        .unwrap();
    for _ in 0..2 {
        let done = runtime.invoke("odd", "".into()).await.unwrap();
        assert_eq!(done.metering.start, StartKind::Cold);
    }
    let stats = runtime.stats();
    let snapshot = &stats.function("odd").unwrap().snapshot;
    assert!(
        snapshot.contains("off") && snapshot.contains("reference"),
        "{snapshot}"
    );
}

#[tokio::test]
async fn start_instance_refuses_a_snapshot_that_does_not_exist_yet() {
    let runtime = runtime(RuntimeConfig::default());
    runtime.deploy(guest("hello", "noop")).unwrap();
    let err = runtime
        .start_instance("hello", StartKind::Snapshot)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("no snapshot") && err.contains("pending"),
        "{err}"
    );
    let warm = runtime
        .start_instance("hello", StartKind::Warm)
        .await
        .err()
        .unwrap();
    assert!(warm.to_string().contains("not a start path"), "{warm}");
}
