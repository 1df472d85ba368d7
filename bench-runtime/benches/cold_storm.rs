//! What cold starts and teardown cost the rest of the runtime, measured over loopback HTTP:
//!
//! - `storm`: a warm `noop` function (one provisioned instance) is invoked every 2 ms on a
//!   fixed schedule while eight clients keep another function cold-starting back to back
//!   (keep-alive `none`, snapshots off, a module of several MiB of code). Reports the warm
//!   function's latency from its scheduled time (p50, p99, max) and how many cold starts ran.
//! - `teardown`: keep-alive `none`, so every invocation's instance is unloaded after it;
//!   `init-heavy` with 1 and 128 MiB of state, 200 invocations 10 ms apart. Reports the service time less the platform's
//!   init and exec time — what the answer waited for besides the guest — and, at 128 MiB, the
//!   first snapshot start of the function next to the later ones.
//!
//! `cargo bench -p bench-runtime --bench cold_storm -- [storm] [teardown]` runs rounds of both
//! (`COLD_STORM_ROUNDS`, default 3; `COLD_STORM_SECONDS` per storm round, default 10). With
//! `COLD_STORM_REFERENCE=<binary>`, the same bench built from another revision runs between
//! this build's rounds, alternating, and each figure is printed with its ratio.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bench_runtime::policy::KeepAliveConfig;
use bench_runtime::{FunctionConfig, ModuleSource, Runtime, RuntimeConfig, RuntimeServer};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

#[path = "../tests/support/mod.rs"]
mod support;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// The runtime on two worker threads of its own, as `faasbench serve` runs it on 2 cores.
fn serve(
    runtime_config: RuntimeConfig,
    functions: Vec<FunctionConfig>,
) -> (tokio::runtime::Runtime, RuntimeServer) {
    let threads = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("runtime")
        .enable_all()
        .build()
        .unwrap();
    let server = threads.block_on(async {
        let runtime = Runtime::new(runtime_config).unwrap();
        for function in functions {
            runtime.deploy(function).unwrap();
        }
        RuntimeServer::bind(Arc::new(runtime), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap()
    });
    (threads, server)
}

/// The clients' own thread, apart from the runtime's.
fn client_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Sends a POST and reads the answer: its status, headers and the time it took.
async fn post(
    client: &HttpClient,
    addr: SocketAddr,
    function: &str,
    body: &'static str,
) -> (u16, hyper::HeaderMap) {
    let request = Request::post(format!("http://{addr}/invoke/{function}"))
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap();
    let response = client.request(request).await.expect("an answer");
    let status = response.status().as_u16();
    let (head, body) = response.into_parts();
    body.collect().await.expect("the whole body");
    (status, head.headers)
}

/// A histogram of microseconds up to an hour; `saturating_record` clamps into it.
fn microseconds() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds")
}

/// Whether `GET /functions/{function}` says the function's snapshot is ready.
async fn snapshot_ready(client: &HttpClient, addr: SocketAddr, function: &str) -> bool {
    let request = Request::get(format!("http://{addr}/functions/{function}"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = client.request(request).await.expect("an answer");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the body")
        .to_bytes();
    String::from_utf8_lossy(&body).contains("\"snapshot\": \"ready\"")
}

fn header(headers: &hyper::HeaderMap, name: &str) -> u64 {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok()?.parse().ok())
        .unwrap_or(0)
}

/// One storm round: (hot p50, p99, max in µs, cold starts done).
fn storm_round(seconds: u64) -> Vec<f64> {
    let large = support::large_module(1200, 1000);
    let functions = vec![
        FunctionConfig::new("hot", ModuleSource::Builtin("noop".into()))
            .with_max_instances(1)
            .with_prewarm(1),
        FunctionConfig::new("large", ModuleSource::Wat(large)).with_max_instances(8),
    ];
    let config = RuntimeConfig::default()
        .with_instance_slots(32)
        .with_snapshots(false)
        .with_keep_alive(KeepAliveConfig::None {});
    let (threads, server) = serve(config, functions);
    let addr = server.local_addr();

    let (latency, cold) = client_thread().block_on(async move {
        let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
        // The provisioned instance is ready before the clock starts.
        post(&client, addr, "hot", "").await;
        let storming = Arc::new(AtomicBool::new(true));
        let cold = Arc::new(AtomicU64::new(0));
        let storm: Vec<_> = (0..8)
            .map(|_| {
                let (client, storming, cold) = (client.clone(), storming.clone(), cold.clone());
                tokio::spawn(async move {
                    while storming.load(Ordering::Relaxed) {
                        let (status, _) = post(&client, addr, "large", "").await;
                        assert_eq!(status, 200);
                        cold.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        let mut latency = microseconds();
        let began = tokio::time::Instant::now();
        let period = Duration::from_millis(2);
        let mut due = began;
        while began.elapsed() < Duration::from_secs(seconds) {
            tokio::time::sleep_until(due).await;
            post(&client, addr, "hot", "").await;
            // From the scheduled time, and the invocations a stall kept from being sent filled
            // in as the schedule would have had them (coordinated omission, as wrk2 does).
            let late = due.elapsed();
            let _ = latency.record_correct(late.as_micros() as u64, period.as_micros() as u64);
            due = (due + period).max(tokio::time::Instant::now());
        }
        storming.store(false, Ordering::Relaxed);
        for task in storm {
            task.await.unwrap();
        }
        (latency, cold.load(Ordering::Relaxed))
    });
    threads.block_on(server.shutdown());
    vec![
        latency.value_at_quantile(0.5) as f64,
        latency.value_at_quantile(0.99) as f64,
        latency.max() as f64,
        cold as f64,
    ]
}

/// One teardown round: service time less init and exec, p50 and p99 in µs, at 1 and 128 MiB.
fn teardown_round() -> Vec<f64> {
    let mut figures = Vec::new();
    for state_mib in [1, 128] {
        let guest = format!("init-heavy(init_ms=0, state_mib={state_mib})");
        let functions =
            vec![FunctionConfig::new("state", ModuleSource::Builtin(guest)).with_memory_mb(256)];
        let config = RuntimeConfig::default()
            .with_instance_slots(32)
            .with_keep_alive(KeepAliveConfig::None {});
        let (threads, server) = serve(config, functions);
        let addr = server.local_addr();
        let overhead = client_thread().block_on(async move {
            let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
            // The first (cold) start captures the snapshot; wait until it is ready.
            post(&client, addr, "state", "").await;
            while !snapshot_ready(&client, addr, "state").await {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let mut overhead = microseconds();
            let mut starts = microseconds();
            let mut first_start: Option<u64> = None;
            for _ in 0..200 {
                // Paced, so that what is measured is the answer's own wait, not a backlog.
                tokio::time::sleep(Duration::from_millis(10)).await;
                let sent = Instant::now();
                let (status, headers) = post(&client, addr, "state", "").await;
                let service = sent.elapsed().as_micros() as u64;
                assert_eq!(status, 200);
                let init = header(&headers, "x-faas-init-us");
                let platform = init + header(&headers, "x-faas-exec-us");
                overhead.saturating_record(service.saturating_sub(platform));
                match first_start {
                    None => first_start = Some(init),
                    Some(_) => starts.saturating_record(init),
                }
            }
            (overhead, first_start.unwrap_or(0), starts)
        });
        threads.block_on(server.shutdown());
        let (overhead, first_start, starts) = overhead;
        figures.push(overhead.value_at_quantile(0.5) as f64);
        figures.push(overhead.value_at_quantile(0.99) as f64);
        if state_mib == 128 {
            figures.push(first_start as f64);
            figures.push(starts.value_at_quantile(0.5) as f64);
        }
    }
    figures
}

const STORM: [&str; 4] = ["hot p50 µs", "hot p99 µs", "hot max µs", "cold starts"];
const TEARDOWN: [&str; 6] = [
    "1 MiB p50 µs",
    "1 MiB p99 µs",
    "128 MiB p50 µs",
    "128 MiB p99 µs",
    "first snapshot start µs",
    "later snapshot p50 µs",
];

fn round(mode: &str) -> Vec<f64> {
    match mode {
        "storm" => storm_round(setting("COLD_STORM_SECONDS", 10)),
        _ => teardown_round(),
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    // `--round <mode>`: one round, printed as numbers, for a comparing run of another build.
    if let Some(position) = std::env::args().position(|a| a == "--round") {
        let mode = std::env::args().nth(position + 1).unwrap_or_default();
        let figures: Vec<String> = round(&mode).iter().map(f64::to_string).collect();
        println!("{}", figures.join(" "));
        return;
    }
    let modes: Vec<&str> = ["storm", "teardown"]
        .into_iter()
        .filter(|mode| args.is_empty() || args.iter().any(|a| a == mode))
        .collect();
    let rounds = setting("COLD_STORM_ROUNDS", 3);
    let reference = std::env::var("COLD_STORM_REFERENCE").ok();
    for mode in modes {
        let names: &[&str] = if mode == "storm" { &STORM } else { &TEARDOWN };
        let mut ours: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
        let mut theirs: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
        for index in 0..rounds {
            for (slot, value) in round(mode).into_iter().enumerate() {
                ours[slot].push(value);
            }
            if let Some(reference) = &reference {
                let output = Command::new(reference)
                    .args(["--round", mode])
                    .output()
                    .expect("the reference bench runs");
                let text = String::from_utf8_lossy(&output.stdout);
                let values: Vec<f64> = text
                    .split_whitespace()
                    .filter_map(|v| v.parse().ok())
                    .collect();
                for (slot, value) in values.into_iter().enumerate().take(names.len()) {
                    theirs[slot].push(value);
                }
            }
            eprintln!("{mode}: round {} of {rounds} done", index + 1);
        }
        println!("{mode} (medians of {rounds} rounds)");
        for (slot, name) in names.iter().enumerate() {
            let here = median(&mut ours[slot]);
            if theirs[slot].is_empty() {
                println!("  {name:<16} {here:>12.0}  rounds {:?}", ours[slot]);
            } else {
                let there = median(&mut theirs[slot]);
                println!(
                    "  {name:<16} {here:>12.0}  reference {there:>12.0}  ratio {:.3}  (rounds {:?} vs {:?})",
                    here / there,
                    ours[slot],
                    theirs[slot]
                );
            }
        }
    }
}
