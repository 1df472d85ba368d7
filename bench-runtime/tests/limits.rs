//! Limits: timeouts, memory and output limits, traps, function chains — and that the runtime
//! keeps serving after each.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bench_runtime::{FunctionConfig, InvokeError, ModuleSource, RuntimeConfig, StartKind};
use support::{guest, runtime};

#[tokio::test]
async fn a_computing_guest_is_stopped_at_its_timeout_and_its_instance_discarded() {
    let runtime = runtime(RuntimeConfig::default());
    runtime
        .deploy(guest("spin", "cpu").with_timeout(Duration::from_millis(50)))
        .unwrap();
    let first = runtime.invoke("spin", "10".into()).await.unwrap().metering;
    let begun = Instant::now();
    let err = runtime.invoke("spin", "5000000".into()).await.unwrap_err();
    assert!(
        begun.elapsed() < Duration::from_millis(500),
        "stopped promptly: {:?}",
        begun.elapsed()
    );
    let InvokeError::Timeout { metering, .. } = &err else {
        panic!("expected a timeout, got {err:?}");
    };
    assert!(
        (50_000..500_000).contains(&metering.exec_us),
        "{metering:?}"
    );
    assert!(err.to_string().contains("timed out after 50ms"), "{err}");
    let after = runtime.invoke("spin", "10".into()).await.unwrap().metering;
    assert_ne!(
        after.instance, first.instance,
        "the timed-out instance is gone"
    );
    let stats = runtime.stats();
    let spin = stats.function("spin").unwrap();
    assert_eq!((spin.invocations.timed_out, spin.evictions.failed), (1, 1));
}

#[tokio::test]
async fn a_waiting_guest_is_stopped_at_its_timeout() {
    let runtime = runtime(RuntimeConfig::default());
    runtime
        .deploy(guest("nap", "io").with_timeout(Duration::from_millis(50)))
        .unwrap();
    let begun = Instant::now();
    let err = runtime.invoke("nap", "10000".into()).await.unwrap_err();
    assert!(matches!(err, InvokeError::Timeout { .. }), "{err:?}");
    assert!(
        begun.elapsed() < Duration::from_millis(500),
        "{:?}",
        begun.elapsed()
    );
}

#[tokio::test]
async fn an_init_longer_than_the_timeout_fails_the_start() {
    let runtime = runtime(RuntimeConfig::default());
    runtime
        .deploy(
            guest("slow-boot", "init-heavy(init_ms=5000, state_mib=1)")
                .with_timeout(Duration::from_millis(100)),
        )
        .unwrap();
    let err = runtime.invoke("slow-boot", "".into()).await.unwrap_err();
    let InvokeError::Timeout { metering, .. } = &err else {
        panic!("expected a timeout, got {err:?}");
    };
    assert_eq!(metering.start, StartKind::Cold);
    let stats = runtime.stats();
    let f = stats.function("slow-boot").unwrap();
    assert_eq!(f.invocations.start_failed, 1);
    assert_eq!(
        f.snapshot, "pending",
        "no snapshot from an init that did not finish"
    );
    assert_eq!(stats.memory_used_mb, 0);
}

#[tokio::test]
async fn waiting_guests_hold_no_thread() {
    // A single-threaded runtime: 30 invocations waiting 200 ms each must overlap. A first
    // round starts the 30 instances (compiling takes its own time); the second, on warm
    // instances, waits 6 s in all and must take far less.
    let runtime = runtime(RuntimeConfig::default());
    runtime
        .deploy(guest("nap", "io").with_max_instances(30))
        .unwrap();
    let runtime = Arc::new(runtime);
    let round = || {
        let calls: Vec<_> = (0..30)
            .map(|_| {
                let runtime = runtime.clone();
                tokio::spawn(async move { runtime.invoke("nap", "200".into()).await })
            })
            .collect();
        async move {
            let mut warm = 0;
            for call in calls {
                let done = call.await.unwrap().unwrap();
                assert!(done.metering.exec_us >= 200_000);
                warm += usize::from(done.metering.start == bench_runtime::StartKind::Warm);
            }
            warm
        }
    };
    round().await;
    let begun = Instant::now();
    assert_eq!(round().await, 30, "the second round runs on warm instances");
    assert!(
        begun.elapsed() < Duration::from_secs(2),
        "took {:?}",
        begun.elapsed()
    );
}

#[tokio::test]
async fn growing_memory_past_the_function_size_traps_and_others_are_unaffected() {
    let runtime = runtime(RuntimeConfig::default());
    runtime
        .deploy(guest("small", "echo").with_memory_mb(1))
        .unwrap();
    runtime.deploy(guest("other", "echo")).unwrap();
    let fits = vec![b'x'; 512 << 10];
    assert_eq!(
        runtime
            .invoke("small", fits.clone().into())
            .await
            .unwrap()
            .output,
        fits
    );
    let err = runtime
        .invoke("small", vec![b'x'; 2 << 20].into())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("memory limit of 1 MiB exceeded"),
        "{err}"
    );
    assert_eq!(
        runtime.invoke("other", "hi".into()).await.unwrap().output,
        b"hi"
    );
    assert_eq!(
        runtime.invoke("small", "hi".into()).await.unwrap().output,
        b"hi"
    );
}

#[tokio::test]
async fn output_beyond_the_limit_traps() {
    let runtime = runtime(RuntimeConfig {
        max_output_bytes: 1024,
        ..RuntimeConfig::default()
    });
    runtime.deploy(guest("echo", "echo")).unwrap();
    let err = runtime
        .invoke("echo", vec![b'x'; 2048].into())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("output exceeds the limit of 1024 bytes"),
        "{err}"
    );
}

#[tokio::test]
async fn a_chain_pipes_each_output_into_the_next_function() {
    let runtime = runtime(RuntimeConfig::default());
    runtime.deploy(guest("resize", "echo")).unwrap();
    runtime.deploy(guest("analyze", "cpu")).unwrap();
    runtime.deploy(guest("summarize", "echo")).unwrap();
    runtime
        .deploy(guest("pipeline", "chain(resize, analyze, summarize)"))
        .unwrap();
    let done = runtime.invoke("pipeline", "300".into()).await.unwrap();
    // resize echoes "300", analyze computes for 300 µs and returns its checksum, summarize
    // echoes that.
    assert_eq!(done.output.len(), 16);
    assert!(done.output.iter().all(u8::is_ascii_hexdigit));
    assert!(done.metering.exec_us >= 300);
    let stats = runtime.stats();
    for name in ["resize", "analyze", "summarize", "pipeline"] {
        assert_eq!(stats.function(name).unwrap().invocations.ok, 1, "{name}");
    }
}

#[tokio::test]
async fn chains_fail_with_the_reason_of_the_step_that_failed() {
    let runtime = runtime(RuntimeConfig::default());
    runtime.deploy(guest("broken", "chain(ghost)")).unwrap();
    let err = runtime
        .invoke("broken", "".into())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("invoke `ghost`: unknown function `ghost`"),
        "{err}"
    );

    runtime.deploy(guest("loop", "chain(loop)")).unwrap();
    let err = runtime
        .invoke("loop", "".into())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("nest at most 8 deep"), "{err}");
}

#[tokio::test]
async fn deploy_refuses_broken_modules_with_the_reason() {
    let runtime = runtime(RuntimeConfig::default());
    let cases = [
        ("(module (func (export \"handle\")", "expected `)`"),
        (
            "(module (memory (export \"memory\") 1) (func (export \"handle\") (result i32) (i64.const 1)))",
            "type mismatch",
        ),
        (
            "(module (memory (export \"memory\") 1))",
            "export a function `handle`",
        ),
        ("(module (func (export \"handle\")))", "export its memory"),
        (
            "(module (import \"faas\" \"open_socket\" (func)) (memory (export \"memory\") 1) (func (export \"handle\")))",
            "open_socket",
        ),
        (
            "(module (memory (export \"memory\") 1) (func (export \"handle\") (param i32)))",
            "[] -> []",
        ),
        (
            "(module (memory (export \"memory\") 4096) (func (export \"handle\")))",
            "exceeds the function's memory size",
        ),
    ];
    for (wat, expected) in cases {
        let err = runtime
            .deploy(FunctionConfig::new("broken", ModuleSource::Wat(wat.into())))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("function `broken`: "), "{err}");
        assert!(err.contains(expected), "expected `{expected}` in: {err}");
    }
    let junk = runtime
        .deploy(FunctionConfig::new(
            "junk",
            ModuleSource::Wasm(b"\0asm\x01\0\0\0\x7f".to_vec()),
        ))
        .unwrap_err()
        .to_string();
    assert!(junk.starts_with("function `junk`: "), "{junk}");
    let guest_err = runtime.deploy(guest("f", "gpu")).unwrap_err().to_string();
    assert!(
        guest_err.contains("`gpu`") && guest_err.contains("noop, echo, cpu"),
        "{guest_err}"
    );
    let limits = runtime
        .deploy(guest("f", "noop").with_max_instances(0))
        .unwrap_err();
    assert!(limits.to_string().contains("max_instances"), "{limits}");
    assert!(
        runtime.functions().is_empty(),
        "nothing broken was deployed"
    );
}

#[tokio::test]
async fn redeploying_replaces_the_code_and_removing_refuses_later_invocations() {
    let runtime = runtime(RuntimeConfig::default());
    runtime.deploy(guest("f", "echo")).unwrap();
    assert_eq!(runtime.invoke("f", "a".into()).await.unwrap().output, b"a");
    assert!(runtime.deploy(guest("f", "noop")).unwrap(), "replaced");
    let done = runtime.invoke("f", "a".into()).await.unwrap();
    assert_eq!(done.output, b"");
    assert_eq!(
        done.metering.start,
        StartKind::Cold,
        "old instances are not reused"
    );
    assert!(runtime.remove("f"));
    assert!(!runtime.remove("f"));
    let err = runtime.invoke("f", "a".into()).await.unwrap_err();
    assert!(matches!(err, InvokeError::UnknownFunction(_)), "{err}");
    assert_eq!(runtime.stats().memory_used_mb, 0);
}

#[test]
fn a_runtime_refuses_to_start_outside_tokio_or_with_an_impossible_configuration() {
    let outside = bench_runtime::Runtime::new(RuntimeConfig::default())
        .err()
        .unwrap();
    assert!(
        outside.to_string().contains("inside a tokio runtime"),
        "{outside}"
    );

    let threads = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _inside = threads.enter();
    let cases = [
        (RuntimeConfig::default().with_time_scale(0.0), "time_scale"),
        (RuntimeConfig::default().with_capacity_mb(0), "capacity_mb"),
        (
            RuntimeConfig::default().with_keep_alive(
                bench_runtime::policy::KeepAliveConfig::HybridHistogram(
                    bench_runtime::policy::HybridHistogramConfig {
                        margin: 2.0,
                        ..Default::default()
                    },
                ),
            ),
            "margin",
        ),
    ];
    for (config, field) in cases {
        let err = bench_runtime::Runtime::new(config)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(field), "expected {field} in: {err}");
    }
}

#[tokio::test]
async fn a_function_larger_than_the_whole_capacity_is_refused_at_deploy() {
    let runtime = runtime(RuntimeConfig::default().with_capacity_mb(512));
    let err = runtime
        .deploy(guest("huge", "noop").with_memory_mb(1024))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("exceeds the runtime's whole capacity of 512 MiB"),
        "{err}"
    );
}
