//! Warm pools under the keep-alive policies: expiry on the policy clock, eviction under memory
//! pressure, pre-warming, provisioned instances and the queue.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bench_runtime::policy::{HybridHistogramConfig, KeepAliveConfig};
use bench_runtime::{InvokeError, RuntimeConfig, StartKind};
use support::{eventually, guest, runtime};

fn fixed(ttl: Duration) -> KeepAliveConfig {
    KeepAliveConfig::Fixed { ttl }
}

#[tokio::test]
async fn none_discards_every_instance_after_its_invocation() {
    let runtime = runtime(RuntimeConfig::default().with_keep_alive(KeepAliveConfig::None {}));
    runtime.deploy(guest("f", "noop")).unwrap();
    for _ in 0..4 {
        let start = runtime.invoke("f", "".into()).await.unwrap().metering.start;
        assert_ne!(start, StartKind::Warm);
    }
    let stats = runtime.stats();
    let f = stats.function("f").unwrap();
    assert_eq!(f.starts.warm, 0);
    assert_eq!(f.evictions.discarded, 4);
    assert_eq!((f.instances.idle, stats.memory_used_mb), (0, 0));
}

#[tokio::test]
async fn fixed_keeps_an_idle_instance_for_its_ttl_in_policy_time() {
    // 60 policy-seconds of TTL pass in 100 ms of real time.
    let runtime = runtime(
        RuntimeConfig::default()
            .with_keep_alive(fixed(Duration::from_secs(60)))
            .with_time_scale(600.0),
    );
    runtime
        .deploy(guest("f", "noop").with_memory_mb(128))
        .unwrap();
    runtime.invoke("f", "".into()).await.unwrap();
    let warm = runtime.invoke("f", "".into()).await.unwrap().metering;
    assert_eq!(warm.start, StartKind::Warm, "within the TTL");
    let idle_from = runtime.policy_time();

    assert!(
        eventually(Duration::from_secs(2), || runtime
            .stats()
            .function("f")
            .unwrap()
            .instances
            .idle
            == 0)
        .await,
        "the idle instance expires"
    );
    let expired_after = runtime.policy_time() - idle_from;
    assert!(
        expired_after >= Duration::from_secs(60),
        "not before the TTL: {expired_after:?}"
    );
    let stats = runtime.stats();
    let f = stats.function("f").unwrap();
    assert_eq!(f.evictions.expired, 1);
    assert_eq!(stats.memory_used_mb, 0);
    // 128 MiB idle for about 60 policy-seconds (plus what the keeper's wake-up adds).
    let expected = 128.0 * 60.0;
    assert!(
        (expected..expected * 1.15).contains(&f.idle_memory_mb_seconds),
        "idle memory-time {} MiB·s",
        f.idle_memory_mb_seconds
    );
    let after = runtime.invoke("f", "".into()).await.unwrap().metering;
    assert_ne!(after.start, StartKind::Warm, "expired instances are gone");
}

#[tokio::test]
async fn a_function_keep_alive_override_replaces_the_policy_ttl() {
    let runtime = runtime(
        RuntimeConfig::default()
            .with_keep_alive(fixed(Duration::from_secs(600)))
            .with_time_scale(600.0),
    );
    runtime
        .deploy(guest("short", "noop").with_keep_alive(Duration::from_secs(30)))
        .unwrap();
    runtime.deploy(guest("long", "noop")).unwrap();
    runtime.invoke("short", "".into()).await.unwrap();
    runtime.invoke("long", "".into()).await.unwrap();
    assert!(
        eventually(Duration::from_secs(2), || runtime
            .stats()
            .function("short")
            .unwrap()
            .instances
            .idle
            == 0)
        .await
    );
    // 30 s of policy time later the 10-minute instance is still there.
    assert_eq!(runtime.stats().function("long").unwrap().instances.idle, 1);
}

/// Three 128 MiB functions in 256 MiB: the third start must evict one idle instance.
async fn evicted_under(keep_alive: KeepAliveConfig) -> (String, bench_runtime::RuntimeStats) {
    let runtime = runtime(
        RuntimeConfig::default()
            .with_keep_alive(keep_alive)
            .with_capacity_mb(256),
    );
    for name in ["a", "b", "c"] {
        runtime
            .deploy(guest(name, "cpu").with_memory_mb(128))
            .unwrap();
    }
    // `a` is invoked often but long ago; `b` once, just now.
    for _ in 0..10 {
        runtime.invoke("a", "200".into()).await.unwrap();
    }
    runtime.invoke("b", "200".into()).await.unwrap();
    assert_eq!(runtime.stats().memory_used_mb, 256);
    let c = runtime.invoke("c", "200".into()).await.unwrap();
    assert_ne!(c.metering.start, StartKind::Warm);
    let stats = runtime.stats();
    assert_eq!(stats.memory_used_mb, 256, "capacity is never exceeded");
    let victim = stats
        .functions
        .iter()
        .find(|f| f.evictions.pressure == 1)
        .map(|f| f.name.clone())
        .expect("one instance was evicted");
    (victim, stats)
}

#[tokio::test]
async fn under_memory_pressure_fixed_evicts_the_least_recently_used() {
    let (victim, _) = evicted_under(fixed(Duration::from_secs(600))).await;
    assert_eq!(victim, "a");
}

#[tokio::test]
async fn under_memory_pressure_faascache_evicts_the_lowest_frequency_times_cost() {
    let (victim, stats) = evicted_under(KeepAliveConfig::FaasCache {}).await;
    assert_eq!(victim, "b", "b was used once, a ten times: {stats:?}");
}

#[tokio::test]
async fn when_busy_instances_hold_all_memory_a_new_start_gets_429() {
    let runtime = Arc::new(runtime(RuntimeConfig::default().with_capacity_mb(128)));
    runtime
        .deploy(guest("slow", "io").with_memory_mb(128))
        .unwrap();
    runtime
        .deploy(guest("other", "noop").with_memory_mb(128))
        .unwrap();
    let busy = {
        let runtime = runtime.clone();
        tokio::spawn(async move { runtime.invoke("slow", "300".into()).await })
    };
    assert!(
        eventually(Duration::from_secs(2), || runtime.stats().memory_used_mb
            == 128)
        .await
    );
    let err = runtime.invoke("other", "".into()).await.unwrap_err();
    assert!(
        matches!(
            err,
            InvokeError::CapacityFull {
                retry_after_s: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("128 of 128 MiB"), "{err}");
    busy.await.unwrap().unwrap();
    // Now `slow` is idle and can be evicted for `other`.
    runtime.invoke("other", "".into()).await.unwrap();
    let stats = runtime.stats();
    assert_eq!(
        stats
            .function("other")
            .unwrap()
            .invocations
            .rejected_capacity,
        1
    );
    assert_eq!(stats.function("slow").unwrap().evictions.pressure, 1);
}

#[tokio::test]
async fn beyond_the_queue_invocations_get_429_with_a_retry_after() {
    let runtime = Arc::new(runtime(RuntimeConfig::default()));
    runtime
        .deploy(guest("one", "io").with_max_instances(1).with_max_queue(2))
        .unwrap();
    let spawn = |input: &'static str| {
        let runtime = runtime.clone();
        tokio::spawn(async move { runtime.invoke("one", input.into()).await })
    };
    let running = spawn("200");
    assert!(
        eventually(Duration::from_secs(2), || runtime
            .stats()
            .function("one")
            .unwrap()
            .instances
            .busy
            == 1)
        .await
    );
    let queued = [spawn("1"), spawn("1")];
    assert!(
        eventually(Duration::from_secs(2), || runtime
            .stats()
            .function("one")
            .unwrap()
            .queued
            == 2)
        .await
    );
    let err = runtime.invoke("one", "1".into()).await.unwrap_err();
    assert!(
        matches!(err, InvokeError::QueueFull { waiting: 2, max_instances: 1, retry_after_s, .. } if retry_after_s >= 1),
        "{err:?}"
    );
    assert_eq!(
        running.await.unwrap().unwrap().metering.start,
        StartKind::Cold
    );
    for waiter in queued {
        let done = waiter.await.unwrap().unwrap().metering;
        assert_eq!(
            done.start,
            StartKind::Warm,
            "queued invocations reuse the one instance"
        );
        assert!(done.queue_us > 0);
    }
    assert_eq!(
        runtime
            .stats()
            .function("one")
            .unwrap()
            .invocations
            .rejected_queue,
        1
    );
}

#[tokio::test]
async fn provisioned_instances_start_at_deploy_and_outlive_the_policy() {
    let runtime = runtime(RuntimeConfig::default().with_keep_alive(KeepAliveConfig::None {}));
    runtime
        .deploy(guest("ready", "noop").with_prewarm(2))
        .unwrap();
    assert!(
        eventually(Duration::from_secs(5), || runtime
            .stats()
            .function("ready")
            .unwrap()
            .instances
            .idle
            == 2)
        .await,
        "two instances are started in the background"
    );
    for _ in 0..3 {
        let start = runtime
            .invoke("ready", "".into())
            .await
            .unwrap()
            .metering
            .start;
        assert_eq!(
            start,
            StartKind::Warm,
            "`none` cannot discard provisioned instances"
        );
    }
    let stats = runtime.stats();
    let ready = stats.function("ready").unwrap();
    assert_eq!(ready.prewarm_starts.cold + ready.prewarm_starts.snapshot, 2);
    assert_eq!(ready.instances.idle, 2);
    assert_eq!(ready.evictions.total(), 0);
}

#[tokio::test]
async fn hybrid_histogram_prewarms_a_periodic_function_just_before_it_is_called() {
    // One trace-minute is 10 ms: a call every 10 trace-minutes comes every 100 ms.
    let config = HybridHistogramConfig {
        min_samples: 5,
        ..HybridHistogramConfig::default()
    };
    let runtime = runtime(
        RuntimeConfig::default()
            .with_keep_alive(KeepAliveConfig::HybridHistogram(config))
            .with_time_scale(6000.0),
    );
    runtime.deploy(guest("cron", "noop")).unwrap();
    let period = Duration::from_millis(100);
    let origin = Instant::now();
    let mut starts = Vec::new();
    for call in 1..=14u32 {
        tokio::time::sleep_until((origin + period * call).into()).await;
        starts.push(
            runtime
                .invoke("cron", "".into())
                .await
                .unwrap()
                .metering
                .start,
        );
    }
    // Once the pattern is learnt the instance is unloaded after each call and a fresh one is
    // loaded ahead of the next: those calls are warm although nothing stayed loaded between.
    let late = &starts[8..];
    assert!(
        late.iter().all(|start| *start == StartKind::Warm),
        "{starts:?}"
    );
    let stats = runtime.stats();
    let cron = stats.function("cron").unwrap();
    assert!(
        cron.prewarm_starts.snapshot + cron.prewarm_starts.cold >= 5,
        "{cron:?}"
    );
    assert!(cron.evictions.discarded >= 5, "{cron:?}");
}

#[tokio::test]
async fn when_every_instance_slot_is_busy_a_new_start_gets_429() {
    // The test runtime has 32 instance slots.
    let runtime = Arc::new(runtime(RuntimeConfig::default()));
    runtime
        .deploy(guest("nap", "io").with_max_instances(40))
        .unwrap();
    let calls: Vec<_> = (0..32)
        .map(|_| {
            let runtime = runtime.clone();
            tokio::spawn(async move { runtime.invoke("nap", "3000".into()).await })
        })
        .collect();
    assert!(
        eventually(Duration::from_secs(2), || runtime
            .stats()
            .function("nap")
            .unwrap()
            .instances
            .busy
            == 32)
        .await
    );
    let err = runtime.invoke("nap", "1".into()).await.unwrap_err();
    assert!(err.to_string().contains("32 of 32 instance slots"), "{err}");
    for call in calls {
        call.await.unwrap().unwrap();
    }
    runtime.invoke("nap", "1".into()).await.unwrap();
}
