//! The load generator as a measuring instrument, next to the references, in one run:
//!
//! - `throughput`: closed loop at full speed against a tiny hyper server (a child process),
//!   alternating with `wrk` and with the plainest hyper client loop against the same server;
//!   invocations per second and their ratios.
//! - `pacing`: open loop, Poisson arrivals at 10,000/s against the tiny server; the pacer's
//!   dispatch lag and CPU use, next to a tokio `sleep_until` pacer (what timer-driven load
//!   generators do) on the same schedule; then both again with every core kept busy.
//! - `nginx`: the same open-loop replay and `wrk` against Debian's nginx on loopback, a
//!   platform that is not ours (skipped with a note when nginx is not installed).
//! - `memory`: 10 million invocations open loop; resident memory at every million.
//!
//! `bash loadgen/benches/instrument.sh [modes...]` installs `wrk` and `nginx` when missing and
//! runs this; without modes it runs `throughput pacing nginx`, and `memory` on request.
//! Settings come from the environment: `INSTRUMENT_SECONDS` per round (default 10),
//! `INSTRUMENT_ROUNDS` (default 3), `INSTRUMENT_CONNECTIONS` (default 64),
//! `INSTRUMENT_RATE` for pacing (default 10000), `INSTRUMENT_INVOCATIONS` for memory
//! (default 10,000,000), `INSTRUMENT_MEMORY_RATE` (default 40000) and
//! `INSTRUMENT_MEMORY_CONNECTIONS` (default 256; 0 for no cap).

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use loadgen::{LiveProgress, ReplayOptions, RunResult, StopSignal, Target};
use scenarios::{LoadSpec, RequestSpec, Scenario};

/// Set in the environment of the child process that serves instead of measuring.
const SERVER_ROLE: &str = "INSTRUMENT_TINY_SERVER";

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::var_os(SERVER_ROLE).is_some() {
        tiny_server();
        return;
    }
    let modes: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let modes = if modes.is_empty() {
        vec!["throughput".into(), "pacing".into(), "nginx".into()]
    } else {
        modes
    };
    println!(
        "machine: {} CPUs; build: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release (cargo bench)"
        }
    );
    let server = TinyServer::start();
    for mode in &modes {
        match mode.as_str() {
            "throughput" => throughput(&server.url()),
            "pacing" => pacing(&server.url()),
            "nginx" => nginx(),
            "memory" => memory(&server.url()),
            other => eprintln!("unknown mode `{other}`: throughput, pacing, nginx or memory"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The tiny server: a child process, so that its memory and threads are not ours.

/// Answers every request with `200 ok`, over HTTP/1.1 or h2c, on 127.0.0.1.
fn tiny_server() {
    let threads = tokio::runtime::Builder::new_multi_thread()
        .thread_name("tiny-server")
        .enable_all()
        .build()
        .expect("tokio runtime");
    threads.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("{}", listener.local_addr().unwrap());
        std::io::stdout().flush().unwrap();
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
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
                    }),
                )
                .into_owned();
            tokio::spawn(connection);
        }
    });
}

struct TinyServer {
    child: Child,
    addr: String,
}

impl TinyServer {
    fn start() -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(SERVER_ROLE, "1")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the tiny server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        Self {
            child,
            addr: line.trim().to_owned(),
        }
    }

    fn url(&self) -> String {
        format!("http://{}/invoke/{{function}}", self.addr)
    }
}

impl Drop for TinyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// Replays.

fn scenario(process: &str, rate: f64, seconds: u64) -> Scenario {
    Scenario::from_toml_str(
        &format!(
            r#"
            name = "instrument"
            seed = 1
            duration = "{seconds}s"
            [arrivals]
            process = "{process}"
            rate = {rate}
            [[functions]]
            name = "f"
            guest = "noop"
            "#
        ),
        "instrument.toml",
    )
    .expect("the bench scenario is valid")
}

fn replay(scenario: &Scenario, url: &str, options: &ReplayOptions) -> RunResult {
    replay_watched(scenario, url, options, |_| {})
}

/// Replays while `watch` is called every 100 ms with the live progress.
fn replay_watched(
    scenario: &Scenario,
    url: &str,
    options: &ReplayOptions,
    mut watch: impl FnMut(&LiveProgress) + Send,
) -> RunResult {
    let threads = tokio::runtime::Builder::new_multi_thread()
        .thread_name("loadgen")
        .enable_all()
        .build()
        .expect("tokio runtime");
    let target = Target::new(url).expect("valid target");
    let progress = Arc::new(LiveProgress::default());
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                watch(&progress);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        // Stops the watcher also when the replay panics, so the scope can end.
        let _stop_watching = StopOnDrop(&done);
        let replayed = scenario.clone();
        threads
            .block_on(loadgen::replay(
                Box::new(move || replayed.schedule()),
                &target,
                options,
                StopSignal::new(),
                progress.clone(),
            ))
            .expect("the replay runs")
    })
}

struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn lag_line(histogram: &Histogram<u64>) -> String {
    format!(
        "p50 {:>7.1} µs · p99 {:>7.1} µs · p99.9 {:>7.1} µs · max {:>8.1} µs",
        histogram.value_at_quantile(0.5) as f64,
        histogram.value_at_quantile(0.99) as f64,
        histogram.value_at_quantile(0.999) as f64,
        histogram.max() as f64
    )
}

// ---------------------------------------------------------------------------------------------
// Throughput: closed loop against wrk.

/// Closed loop at full speed: `connections` requests in flight, one per connection.
fn max_throughput(connections: usize, workers: usize) -> ReplayOptions {
    ReplayOptions {
        workers,
        load: LoadSpec::MaxThroughput {
            concurrency: connections,
        },
        request: RequestSpec {
            connections: Some(connections),
            ..RequestSpec::default()
        },
        ..ReplayOptions::default()
    }
}

/// Requests per second `wrk` reached, POSTing like the load generator does.
fn wrk(url: &str, connections: u64, seconds: u64, threads: usize) -> Option<f64> {
    let script = std::env::temp_dir().join("faasbench-instrument-post.lua");
    std::fs::write(&script, "wrk.method = \"POST\"\n").ok()?;
    let output = Command::new("wrk")
        .args([
            &format!("-t{threads}"),
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "-s",
        ])
        .arg(&script)
        .arg(url.replace("{function}", "f"))
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|value| value.trim().parse().ok())
}

fn throughput(url: &str) {
    let seconds = setting("INSTRUMENT_SECONDS", 10);
    let rounds = setting("INSTRUMENT_ROUNDS", 3);
    let connections = setting("INSTRUMENT_CONNECTIONS", 64) as usize;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let workers = setting("INSTRUMENT_WORKERS", cores as u64) as usize;
    println!(
        "\n== throughput: closed loop, {connections} connections, {workers} threads, {seconds} s rounds, tiny hyper server"
    );
    let options = max_throughput(connections, workers);
    let scenario = scenario("constant", 1000.0, seconds);
    let mut to_wrk = Vec::new();
    let mut to_hyper = Vec::new();
    let mut hyper_to_wrk = Vec::new();
    let mut issued = Vec::new();
    for round in 1..=rounds {
        let Some(reference) = wrk(url, connections as u64, seconds, cores) else {
            println!("wrk is not installed (apt-get install wrk): no reference");
            return;
        };
        let hyper = bare_hyper(url, connections, workers, seconds);
        let result = replay(&scenario, url, &options);
        let ours = result.recorder.ok() as f64 / result.elapsed.as_secs_f64();
        let errors = result.recorder.error_count();
        issued.push(ours);
        to_wrk.push(ours / reference);
        to_hyper.push(ours / hyper);
        hyper_to_wrk.push(hyper / reference);
        println!(
            "round {round}: loadgen {ours:>7.0}/s ({errors} errors) · wrk {reference:>7.0}/s · bare hyper client {hyper:>7.0}/s · loadgen ÷ wrk {:.3}",
            ours / reference
        );
    }
    issued.sort_by(f64::total_cmp);
    if let Some(&best) = issued.last() {
        match loadgen::capacity::save(
            best,
            &format!(
                "instrument throughput, best of {rounds} rounds of {seconds} s, {connections} connections, {workers} threads"
            ),
        ) {
            Ok(path) => println!(
                "capacity: {best:.0}/s recorded in {} (runs asking for more are warned)",
                path.display()
            ),
            Err(err) => println!("capacity: not recorded: {err}"),
        }
    }
    println!("median of {rounds} rounds (min–max):");
    for (label, ratios) in [
        ("loadgen ÷ wrk", &mut to_wrk),
        ("bare hyper client ÷ wrk", &mut hyper_to_wrk),
        ("loadgen ÷ bare hyper client", &mut to_hyper),
    ] {
        ratios.sort_by(f64::total_cmp);
        println!(
            "  {label:<28} {:.3} ({:.3}–{:.3})",
            ratios[ratios.len() / 2],
            ratios[0],
            ratios[ratios.len() - 1]
        );
    }
}

/// Responses per second of the plainest hyper 1.x client: `connections` HTTP/1.1 connections
/// over `threads` single-threaded runtimes, each sending the next POST when the last answer
/// is read, recording nothing. It is the ceiling for a client built on hyper.
fn bare_hyper(url: &str, connections: usize, threads: usize, seconds: u64) -> f64 {
    let uri: hyper::Uri = url.replace("{function}", "f").parse().expect("valid url");
    let until = Instant::now() + Duration::from_secs(seconds);
    let answered = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for thread in 0..threads {
            let share = connections / threads + usize::from(thread < connections % threads);
            let (uri, answered) = (uri.clone(), answered.clone());
            scope.spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                let local = tokio::task::LocalSet::new();
                local.block_on(&runtime, async move {
                    let loops: Vec<_> = (0..share)
                        .map(|_| {
                            tokio::task::spawn_local(bare_hyper_connection(uri.clone(), until))
                        })
                        .collect();
                    for handle in loops {
                        let count = handle.await.expect("connection loop");
                        answered.fetch_add(count, Ordering::Relaxed);
                    }
                });
            });
        }
    });
    answered.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

async fn bare_hyper_connection(uri: hyper::Uri, until: Instant) -> u64 {
    let authority = uri.authority().expect("an address").clone();
    let stream = tokio::net::TcpStream::connect(authority.as_str())
        .await
        .expect("the server accepts");
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::task::spawn_local(connection);
    let host = hyper::header::HeaderValue::from_str(authority.as_str()).expect("host header");
    let mut answered = 0;
    while Instant::now() < until {
        let request = Request::post(uri.path())
            .header(hyper::header::HOST, host.clone())
            .body(Full::new(Bytes::new()))
            .expect("request");
        let Ok(response) = sender.send_request(request).await else {
            break;
        };
        if response.into_body().collect().await.is_err() {
            break;
        }
        answered += 1;
    }
    answered
}

// ---------------------------------------------------------------------------------------------
// Pacing: our pacer against tokio's timer, idle and fully loaded.

/// What timer-driven load generators do: `sleep_until` each due time on a tokio runtime.
fn tokio_pacing(scenario: &Scenario) -> Histogram<u64> {
    let threads = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut lag = Histogram::<u64>::new(3).unwrap();
    threads.block_on(async {
        let origin = tokio::time::Instant::now() + Duration::from_millis(20);
        for invocation in scenario.schedule() {
            let due = origin + Duration::from_micros(invocation.unwrap().at_us);
            tokio::time::sleep_until(due).await;
            let late = tokio::time::Instant::now().saturating_duration_since(due);
            lag.saturating_record(late.as_micros() as u64);
        }
    });
    lag
}

/// Keeps every core busy until dropped.
struct CpuHog {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl CpuHog {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let threads = (0..cores)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                })
            })
            .collect();
        Self { stop, threads }
    }
}

impl Drop for CpuHog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn pacing_round(label: &str, scenario: &Scenario, url: &str, realtime: bool) -> Option<f64> {
    let options = ReplayOptions {
        realtime,
        ..ReplayOptions::default()
    };
    let result = replay(scenario, url, &options);
    let pacing = result.pacing.as_ref().expect("open loop");
    let reference = tokio_pacing(scenario);
    let ours_p99 = pacing.dispatch_lag.value_at_quantile(0.99);
    let ratio = reference.value_at_quantile(0.99) as f64 / ours_p99.max(1) as f64;
    println!("{label}");
    println!("  loadgen pacer   {}", lag_line(&pacing.dispatch_lag));
    println!(
        "                  pacer CPU {:.1}% of a core{} · send lag p99 {:.3} ms · {} ok, {} errors, {} dropped",
        pacing.cpu_share().unwrap_or(f64::NAN) * 100.0,
        if pacing.realtime { " (real-time)" } else { "" },
        ms(result.recorder.send_lag().value_at_quantile(0.99)),
        result.recorder.ok(),
        result.recorder.error_count(),
        result.recorder.dropped()
    );
    for warning in &result.warnings {
        println!("                  warning: {warning}");
    }
    println!("  tokio sleep     {}", lag_line(&reference));
    println!("  p99 ratio tokio ÷ loadgen: {ratio:.1}");
    Some(ratio)
}

fn pacing(url: &str) {
    let rate = setting("INSTRUMENT_RATE", 10_000) as f64;
    let seconds = setting("INSTRUMENT_SECONDS", 10);
    println!(
        "\n== pacing: Poisson arrivals at {rate}/s for {seconds} s, open loop against the tiny server"
    );
    let scenario = scenario("poisson", rate, seconds);
    pacing_round("idle machine:", &scenario, url, false);
    {
        let _hog = CpuHog::start();
        pacing_round(
            "every core busy (one spinning thread per core):",
            &scenario,
            url,
            false,
        );
        pacing_round(
            "every core busy, pacer asking for real-time priority:",
            &scenario,
            url,
            true,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// nginx: a platform that is not ours.

struct Nginx {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Nginx {
    fn start() -> Option<Self> {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|path| std::path::Path::new(path).exists())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let dir = tempfile::tempdir().ok()?;
        let root = dir.path().display().to_string();
        let config = format!(
            "daemon off;\nworker_processes 1;\npid {root}/nginx.pid;\nerror_log {root}/error.log;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {root};\n  proxy_temp_path {root};\n  fastcgi_temp_path {root};\n  uwsgi_temp_path {root};\n  scgi_temp_path {root};\n\
               server {{\n    listen 127.0.0.1:{port};\n    keepalive_requests 1000000;\n    location /function/ {{ return 200 \"ok\"; }}\n  }}\n}}\n"
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, config).ok()?;
        let child = Command::new(binary)
            .arg("-c")
            .arg(&path)
            .arg("-p")
            .arg(dir.path())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Self {
            child,
            port,
            _dir: dir,
        })
    }
}

impl Drop for Nginx {
    /// SIGTERM, so that the master stops its workers too; SIGKILL if it takes longer than 5 s.
    fn drop(&mut self) {
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) on our own child's pid has no memory effects.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx() {
    let Some(nginx) = Nginx::start() else {
        println!("\n== nginx: not installed (apt-get install nginx-light or nginx): skipped");
        return;
    };
    let url = format!("http://127.0.0.1:{}/function/{{function}}", nginx.port);
    let seconds = setting("INSTRUMENT_SECONDS", 10);
    println!("\n== nginx (Debian, 1 worker process) on loopback: {url}");
    let open = replay(
        &scenario("poisson", 5000.0, seconds),
        &url,
        &ReplayOptions::default(),
    );
    let latency = open.recorder.latency(loadgen::StartKind::Unknown);
    println!(
        "open loop, Poisson 5000/s for {seconds} s: {} ok · {} errors · {} dropped · latency p50 {:.3} ms · p99 {:.3} ms · max {:.3} ms · start kinds unknown (nginx sends no x-faas-start) · pacing p99 {} µs",
        open.recorder.ok(),
        open.recorder.error_count(),
        open.recorder.dropped(),
        ms(latency.value_at_quantile(0.5)),
        ms(latency.value_at_quantile(0.99)),
        ms(latency.max()),
        open.pacing
            .as_ref()
            .map_or(0, |p| p.dispatch_lag.value_at_quantile(0.99))
    );
    let connections = setting("INSTRUMENT_CONNECTIONS", 64) as usize;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let closed = max_throughput(connections, workers);
    let result = replay(&scenario("constant", 1000.0, seconds), &url, &closed);
    let ours = result.recorder.ok() as f64 / result.elapsed.as_secs_f64();
    match wrk(&url, connections as u64, seconds, workers) {
        Some(reference) => println!(
            "closed loop, {connections} connections: loadgen {ours:.0}/s ({} errors) · wrk {reference:.0}/s · ratio {:.3}",
            result.recorder.error_count(),
            ours / reference
        ),
        None => println!("closed loop: loadgen {ours:.0}/s; wrk not installed"),
    }
}

// ---------------------------------------------------------------------------------------------
// Memory over a long run.

fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn memory(url: &str) {
    let invocations = setting("INSTRUMENT_INVOCATIONS", 10_000_000);
    let rate = setting("INSTRUMENT_MEMORY_RATE", 40_000);
    let seconds = invocations.div_ceil(rate);
    println!(
        "\n== memory: {invocations} invocations, open loop at {rate}/s ({seconds} s), interval log written; RSS of the load generator's process"
    );
    // Without a cap, the first second's connection openings pile up to the in-flight bound,
    // and every connection opened stays in the pool: memory then follows the connections.
    let connections = match setting("INSTRUMENT_MEMORY_CONNECTIONS", 256) {
        0 => None,
        cap => Some(cap as usize),
    };
    println!(
        "connections: {}",
        connections.map_or(
            "no cap (one per request in flight)".to_owned(),
            |cap| format!("at most {cap}")
        )
    );
    let dir = tempfile::tempdir().expect("temporary directory");
    let options = ReplayOptions {
        interval_hlog: Some(dir.path().join("intervals.hlog")),
        interval_csv: Some(dir.path().join("intervals.csv")),
        request: RequestSpec {
            connections,
            ..RequestSpec::default()
        },
        ..ReplayOptions::default()
    };
    println!("before the run: {:.1} MiB", resident_mib());
    let step = (invocations / 10).max(1);
    let mut next = step;
    let mut samples = Vec::new();
    let result = replay_watched(
        &scenario("constant", rate as f64, seconds),
        url,
        &options,
        |progress| {
            let done = progress.snapshot();
            let finished = done.ok + done.errors + done.dropped;
            if finished >= next {
                let rss = resident_mib();
                println!("{finished:>10} invocations: {rss:.1} MiB");
                samples.push(rss);
                next += step;
            }
        },
    );
    println!(
        "after the run: {:.1} MiB · {} ok · {} errors · {} dropped · {:.0}/s · rate held: {:?} · {} connections opened, {} open at most",
        resident_mib(),
        result.recorder.ok(),
        result.recorder.error_count(),
        result.recorder.dropped(),
        result.recorder.finished() as f64 / result.elapsed.as_secs_f64(),
        result.rate_held(),
        result.connections.opened,
        result.connections.peak
    );
    if let (Some(first), Some(last)) = (samples.first(), samples.last()) {
        let peak = samples.iter().copied().fold(f64::MIN, f64::max);
        println!(
            "RSS at the first tenth {first:.1} MiB, at the end {last:.1} MiB, peak {peak:.1} MiB (target ≤ 200 MiB, flat)"
        );
    }
}
