//! A storm of cold starts compiles off the threads that serve HTTP: the runtime keeps
//! answering while Cranelift works.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bench_runtime::policy::KeepAliveConfig;
use bench_runtime::{FunctionConfig, ModuleSource, Runtime, RuntimeConfig};
use support::http::{request, serve};

/// `GET /healthz` over a fresh connection from a plain thread, so that the measurement does
/// not depend on the runtime's own threads; returns how long the answer took.
fn health_check(addr: SocketAddr) -> Duration {
    let began = Instant::now();
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("an answer");
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
    began.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_within_100ms_during_eight_concurrent_large_cold_starts() {
    let runtime = Runtime::new(
        RuntimeConfig::default()
            .with_instance_slots(16)
            .with_snapshots(false)
            .with_keep_alive(KeepAliveConfig::None {}),
    )
    .unwrap();
    let module = support::large_module(25, 1000);
    runtime
        .deploy(FunctionConfig::new("large", ModuleSource::Wat(module)).with_max_instances(8))
        .unwrap();
    let server = serve(runtime).await;
    let addr = server.local_addr();

    let storming = Arc::new(AtomicBool::new(true));
    let prober = std::thread::spawn({
        let storming = storming.clone();
        move || {
            let mut slowest = Duration::ZERO;
            let mut checks = 0u32;
            while storming.load(Ordering::SeqCst) {
                slowest = slowest.max(health_check(addr));
                checks += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            (slowest, checks)
        }
    });
    let began = Instant::now();
    let starts: Vec<_> = (0..8)
        .map(|_| tokio::spawn(async move { request(addr, "POST", "/invoke/large", b"").await }))
        .collect();
    for start in starts {
        let (status, body) = start.await.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    let storm = began.elapsed();
    storming.store(false, Ordering::SeqCst);
    let (slowest, checks) = prober.join().unwrap();

    assert!(
        slowest < Duration::from_millis(100),
        "slowest /healthz {slowest:?} during {storm:?} of cold starts ({checks} checks)"
    );
    assert!(
        checks >= 5,
        "the health checks overlapped the storm: {checks} in {storm:?}"
    );
    server.shutdown().await;
}
