//! HTTP throughput of the runtime next to a bare hyper server, measured with `wrk` in the same
//! run: `noop` invocations per second over loopback against empty responses from a server
//! that does nothing else, and their ratio.
//!
//! `bash bench-runtime/benches/http.sh` installs `wrk` if needed and runs this. Settings come
//! from the environment: `HTTP_BENCH_SECONDS` per round (default 5), `HTTP_BENCH_ROUNDS`
//! (default 3), `HTTP_BENCH_CONNECTIONS` (default 32), `HTTP_BENCH_SERVER_THREADS` worker
//! threads for each server (default 1; `wrk` gets one thread).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;

use bench_runtime::{FunctionConfig, ModuleSource, Runtime, RuntimeConfig, RuntimeServer};
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn threads(workers: usize, name: &str) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The reference: a hyper server answering every request with an empty 200.
async fn bare_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let builder = auto::Builder::new(TokioExecutor::new());
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let connection = builder
                .serve_connection(
                    TokioIo::new(stream),
                    service_fn(|_: Request<hyper::body::Incoming>| async {
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
                    }),
                )
                .into_owned();
            tokio::spawn(connection);
        }
    });
    addr
}

/// Requests per second that `wrk` reached against `url`.
fn wrk(url: &str, script: &std::path::Path, seconds: u64, connections: u64) -> f64 {
    let output = Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "-s",
        ])
        .arg(script)
        .arg(url)
        .output()
        .expect("wrk runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk failed: {text}");
    assert!(!text.contains("Non-2xx"), "errors during the run:\n{text}");
    text.lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk's output:\n{text}"))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!(
            "wrk is not installed: run `bash bench-runtime/benches/http.sh`, or `apt-get install wrk`"
        );
        std::process::exit(2);
    }
    let seconds = setting("HTTP_BENCH_SECONDS", 5);
    let rounds = setting("HTTP_BENCH_ROUNDS", 3);
    let connections = setting("HTTP_BENCH_CONNECTIONS", 32);
    let workers = setting("HTTP_BENCH_SERVER_THREADS", 1) as usize;

    let bare_threads = threads(workers, "bare-hyper");
    let bare = bare_threads.block_on(bare_server());
    let runtime_threads = threads(workers, "faasbench-runtime");
    let server = runtime_threads.block_on(async {
        let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
        runtime
            .deploy(FunctionConfig::new(
                "noop",
                ModuleSource::Builtin("noop".into()),
            ))
            .unwrap();
        RuntimeServer::bind(Arc::new(runtime), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap()
    });

    let script = std::env::temp_dir().join(format!("faasbench-post-{}.lua", std::process::id()));
    std::fs::write(&script, "wrk.method = \"POST\"\n").unwrap();
    let bare_url = format!("http://{bare}/");
    let runtime_url = format!("http://{}/invoke/noop", server.local_addr());

    println!(
        "wrk -t1 -c{connections} -d{seconds}s, POST over loopback; each server on {workers} worker thread(s); {rounds} rounds"
    );
    println!(
        "{:<8} {:>16} {:>16} {:>8}",
        "round", "bare hyper /s", "runtime noop /s", "ratio"
    );
    let (mut bare_rates, mut runtime_rates, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=rounds {
        // Alternate the order so that drift on the machine does not favour one side.
        let (bare_rate, runtime_rate) = if round % 2 == 1 {
            let b = wrk(&bare_url, &script, seconds, connections);
            (b, wrk(&runtime_url, &script, seconds, connections))
        } else {
            let r = wrk(&runtime_url, &script, seconds, connections);
            (wrk(&bare_url, &script, seconds, connections), r)
        };
        let ratio = runtime_rate / bare_rate;
        println!("{round:<8} {bare_rate:>16.0} {runtime_rate:>16.0} {ratio:>8.3}");
        bare_rates.push(bare_rate);
        runtime_rates.push(runtime_rate);
        ratios.push(ratio);
    }
    println!(
        "{:<8} {:>16.0} {:>16.0} {:>8.3}",
        "median",
        median(&mut bare_rates),
        median(&mut runtime_rates),
        median(&mut ratios)
    );
    let _ = std::fs::remove_file(&script);
    runtime_threads.block_on(server.shutdown());
}
