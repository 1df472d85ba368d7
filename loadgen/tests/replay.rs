//! Replays against a real HTTP server on loopback whose behaviour each route chooses.

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use loadgen::{
    ErrorKind, LiveProgress, ReplayOptions, RunResult, StartKind, StopSignal, Target, replay,
};
use scenarios::{HttpProtocol, LoadSpec, RequestSpec, Scenario, StartInference};
use tokio::sync::watch;

/// What the server saw.
#[derive(Default)]
struct Seen {
    requests: AtomicU64,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    http2: AtomicU64,
    /// Functions that were invoked at least once, for `/lazy`.
    started: Mutex<HashSet<String>>,
    /// `(method, x-tenant header, body)` of the last request.
    last: Mutex<Option<(String, String, Bytes)>>,
}

/// Routes, by the path's first segment; the second segment is the function's name:
/// - `ok`: answers at once, a warm start with billing headers;
/// - `slow`: after 50 ms; `fail`: 503; `hang`: after 5 s;
/// - `stall`: the 20th request to arrive waits 300 ms, the others none;
/// - `bare`: at once, without any `x-faas-*` header;
/// - `lazy`: no `x-faas-*` header; the first request of each function takes 100 ms (its
///   "cold start"), later ones none, and each answer names its instance in `x-instance`.
async fn answer(
    request: Request<hyper::body::Incoming>,
    seen: Arc<Seen>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let number = seen.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let now = seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    seen.max_in_flight.fetch_max(now, Ordering::SeqCst);
    if request.version() == Version::HTTP_2 {
        seen.http2.fetch_add(1, Ordering::SeqCst);
    }
    let path = request.uri().path().to_owned();
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let route = parts.next().unwrap_or_default().to_owned();
    let function = parts.next().unwrap_or_default().to_owned();
    let method = request.method().to_string();
    let tenant = request
        .headers()
        .get("x-tenant")
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    let body = request.into_body().collect().await.unwrap().to_bytes();
    *seen.last.lock().unwrap() = Some((method, tenant, body));

    let mut response = Response::new(Full::new(Bytes::from_static(b"done")));
    let mut platform_headers = true;
    match route.as_str() {
        "slow" => tokio::time::sleep(Duration::from_millis(50)).await,
        "fail" => *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE,
        "hang" => tokio::time::sleep(Duration::from_secs(5)).await,
        "stall" if number == 20 => tokio::time::sleep(Duration::from_millis(300)).await,
        "bare" => platform_headers = false,
        "lazy" => {
            platform_headers = false;
            let first = seen.started.lock().unwrap().insert(function.clone());
            if first {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let instance = format!("{function}-instance");
            response
                .headers_mut()
                .insert("x-instance", instance.parse().unwrap());
        }
        _ => {}
    }
    if platform_headers {
        let headers = response.headers_mut();
        headers.insert("x-faas-start", "warm".parse().unwrap());
        headers.insert("x-faas-billed-ms", "2".parse().unwrap());
        headers.insert("x-faas-memory-mb", "512".parse().unwrap());
    }
    seen.in_flight.fetch_sub(1, Ordering::SeqCst);
    Ok(response)
}

struct Server {
    addr: SocketAddr,
    seen: Arc<Seen>,
    shutdown: watch::Sender<bool>,
}

impl Server {
    /// Stops accepting and closes every connection.
    fn go_away(&self) {
        let _ = self.shutdown.send(true);
    }
}

async fn serve() -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let (shutdown, watch) = watch::channel(false);
    let state = seen.clone();
    tokio::spawn(async move {
        let mut stopped = watch.clone();
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = stopped.changed() => return,
            };
            let Ok((stream, _)) = accepted else { continue };
            let state = state.clone();
            let mut stopped = watch.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| answer(request, state.clone()));
                let connection = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .into_owned();
                tokio::select! {
                    _ = connection => {}
                    _ = stopped.changed() => {}
                }
            });
        }
    });
    Server {
        addr,
        seen,
        shutdown,
    }
}

fn scenario(functions: &[&str], rate: f64, duration: &str) -> Scenario {
    let mut text = format!(
        "name = \"test\"\nseed = 1\nduration = \"{duration}\"\n[arrivals]\nprocess = \"constant\"\nrate = {rate}\n"
    );
    for name in functions {
        text +=
            &format!("[[functions]]\nname = \"{name}\"\nguest = \"noop\"\ninput = \"in-{name}\"\n");
    }
    Scenario::from_toml_str(&text, "test.toml").unwrap()
}

fn target(server: &Server, route: &str) -> Target {
    Target::new(format!("http://{}/{route}/{{function}}", server.addr)).unwrap()
}

async fn run_with(
    scenario: &Scenario,
    target: &Target,
    options: &ReplayOptions,
    stop: StopSignal,
    progress: Arc<LiveProgress>,
) -> RunResult {
    let scenario = scenario.clone();
    replay(
        Box::new(move || scenario.schedule()),
        target,
        options,
        stop,
        progress,
    )
    .await
    .unwrap()
}

async fn run(scenario: &Scenario, target: &Target, options: ReplayOptions) -> RunResult {
    run_with(
        scenario,
        target,
        &options,
        StopSignal::new(),
        Arc::new(LiveProgress::default()),
    )
    .await
}

/// Every invocation of `scenario`'s schedule, counted by walking the schedule itself, ended in
/// exactly one bucket.
fn buckets_add_up(result: &RunResult, scenario: &Scenario) {
    let length = scenario.schedule().count() as u64;
    let recorder = &result.recorder;
    assert_eq!(
        recorder.ok() + recorder.error_count() + recorder.dropped() + result.not_sent,
        length,
        "ok {} · errors {} · dropped {} · not sent {}",
        recorder.ok(),
        recorder.error_count(),
        recorder.dropped(),
        result.not_sent
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scheduled_invocation_ends_ok_or_as_an_error_by_kind() {
    let server = serve().await;
    let scenario = scenario(&["a", "b"], 200.0, "1s");
    let expected = scenario.schedule().count() as u64;
    let mut options = ReplayOptions::default();
    options.request.method = "PUT".into();
    options
        .request
        .headers
        .insert("x-tenant".into(), "blue".into());
    let result = run(&scenario, &target(&server, "ok"), options.clone()).await;
    assert_eq!(expected, 200);
    assert_eq!(result.scheduled(), expected);
    assert_eq!(result.recorder.ok(), 200);
    let functions = result.recorder.functions();
    assert_eq!(functions[0].starts_of(StartKind::Warm), 100);
    // Billing headers are summed for answered invocations.
    assert_eq!(result.recorder.billing().invocations, 200);
    assert_eq!(result.recorder.billing().mb_ms(), 200 * 2 * 512);
    assert!(!result.stopped_early);
    // Method, headers and body come from the scenario.
    let (method, tenant, body) = server.seen.last.lock().unwrap().clone().unwrap();
    assert_eq!((method.as_str(), tenant.as_str()), ("PUT", "blue"));
    assert!(body.starts_with(b"in-"), "{body:?}");

    let failing = run(&scenario, &target(&server, "fail"), options).await;
    assert_eq!(failing.recorder.errors()[&ErrorKind::Status(503)], 200);
    assert_eq!(failing.recorder.functions()[1].errors, 100);
    buckets_add_up(&failing, &scenario);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_runs_from_the_scheduled_time_to_the_last_byte() {
    let server = serve().await;
    let result = run(
        &scenario(&["f"], 40.0, "500ms"),
        &target(&server, "slow"),
        ReplayOptions::default(),
    )
    .await;
    let latency = result.recorder.latency(StartKind::Warm);
    let service = result.recorder.service(StartKind::Warm);
    assert_eq!(latency.len(), 20);
    assert!(latency.min() >= 50_000, "min latency {} µs", latency.min());
    assert!(service.min() >= 50_000, "min service {} µs", service.min());
    // Latency includes the send lag on top of the service time.
    assert!(latency.max() >= service.max());
    assert_eq!(result.recorder.send_lag().len(), 20);
    let pacing = result.pacing.expect("open loop reports its pacing");
    assert_eq!(pacing.dispatch_lag.len(), 20);
}

/// The wrk2 demonstration: a server that stalls for 300 ms while a single connection carries
/// the load. Invocations scheduled during the stall wait for the connection; their latency
/// from the schedule shows the stall in full, their service time does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_raises_corrected_latency_but_not_service_time() {
    let server = serve().await;
    let mut options = ReplayOptions {
        workers: 1,
        ..ReplayOptions::default()
    };
    options.request.connections = Some(1);
    let result = run(
        &scenario(&["f"], 200.0, "1s"),
        &target(&server, "stall"),
        options,
    )
    .await;
    assert_eq!(result.recorder.ok(), 200);
    assert_eq!(server.seen.max_in_flight.load(Ordering::SeqCst), 1);
    let latency = result.recorder.latency(StartKind::Warm);
    let service = result.recorder.service(StartKind::Warm);
    // About 60 invocations were due during the stall, waiting up to 300 ms: the top 20% of
    // latencies are all above 100 ms.
    let latency_p80 = latency.value_at_quantile(0.8);
    let service_p98 = service.value_at_quantile(0.98);
    assert!(latency_p80 >= 80_000, "latency p80 {latency_p80} µs");
    assert!(service_p98 < 20_000, "service p98 {service_p98} µs");
    assert!(service.max() >= 300_000, "the stalled request itself");
    // The waits count as send lag, and the run did not hold its rate.
    assert!(result.late() >= 40, "late {}", result.late());
    assert_eq!(result.rate_held(), Some(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invocations_beyond_the_in_flight_bound_are_dropped_and_counted() {
    let server = serve().await;
    let options = ReplayOptions {
        load: LoadSpec::Open {
            max_in_flight: 2,
            late_after: Duration::from_millis(10),
            rate_tolerance: 0.01,
        },
        ..ReplayOptions::default()
    };
    let schedule = scenario(&["f"], 200.0, "500ms");
    let result = run(&schedule, &target(&server, "slow"), options).await;
    let recorder = &result.recorder;
    assert_eq!(result.scheduled(), 100);
    buckets_add_up(&result, &schedule);
    // Two slots, 50 ms each, for 500 ms: about 20 sent, the rest dropped — never delayed.
    assert!(
        (60..=90).contains(&recorder.dropped()),
        "dropped {}",
        recorder.dropped()
    );
    assert_eq!(recorder.error_count(), 0);
    assert!(!recorder.errors().contains_key(&ErrorKind::Dropped));
    assert!(server.seen.max_in_flight.load(Ordering::SeqCst) <= 2);
    assert_eq!(result.recorder.functions()[0].dropped, recorder.dropped());
    assert!(
        result.late() <= 2,
        "sent ones are on time: {}",
        result.late()
    );
    assert_eq!(result.rate_held(), Some(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_ends_at_its_duration_plus_the_timeout_whatever_the_machine_can_issue() {
    let server = serve().await;
    // 30,000 invocations in 1 s over 8 connections to a route answering in 50 ms: 160/s can
    // be served. Without an end, the rest would wait for a connection for minutes.
    let schedule = scenario(&["f"], 30_000.0, "1s");
    let options = ReplayOptions {
        load: LoadSpec::Open {
            max_in_flight: 1_000_000,
            late_after: Duration::from_millis(10),
            rate_tolerance: 0.01,
        },
        request: RequestSpec {
            connections: Some(8),
            timeout: Duration::from_secs(1),
            ..RequestSpec::default()
        },
        ..ReplayOptions::default()
    };
    let result = run(&schedule, &target(&server, "slow"), options).await;
    // 1 s of schedule and 1 s of timeout; the rest is slack for a busy machine.
    assert!(
        result.elapsed < Duration::from_secs(8),
        "{:?}",
        result.elapsed
    );
    buckets_add_up(&result, &schedule);
    let recorder = &result.recorder;
    assert!(recorder.ok() < 1_000, "ok {}", recorder.ok());
    assert!(
        recorder
            .errors()
            .get(&ErrorKind::Timeout)
            .copied()
            .unwrap_or(0)
            + recorder.dropped()
            > 25_000,
        "errors {:?} · dropped {}",
        recorder.errors(),
        recorder.dropped()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_refuses_connections_gives_refused_errors() {
    // Bind and drop to find a port nobody listens on.
    let addr = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let target = Target::new(format!("http://{addr}/ok/{{function}}")).unwrap();
    let result = run(
        &scenario(&["f"], 100.0, "300ms"),
        &target,
        ReplayOptions::default(),
    )
    .await;
    assert_eq!(result.recorder.ok(), 0);
    assert_eq!(result.recorder.errors()[&ErrorKind::Refused], 30);
    assert_eq!(result.scheduled(), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_going_away_mid_run_is_recorded_as_errors_and_the_run_finishes() {
    let server = serve().await;
    let target = target(&server, "ok");
    let scenario = scenario(&["f"], 200.0, "1s");
    let result = {
        let run = run(&scenario, &target, ReplayOptions::default());
        tokio::pin!(run);
        tokio::select! {
            _ = &mut run => panic!("the run ended before the server went away"),
            _ = tokio::time::sleep(Duration::from_millis(400)) => server.go_away(),
        }
        run.await
    };
    assert!(!result.stopped_early);
    assert_eq!(result.scheduled(), 200);
    buckets_add_up(&result, &scenario);
    let ok = result.recorder.ok();
    let connection_errors: u64 = result
        .recorder
        .errors()
        .iter()
        .filter(|(kind, _)| kind.is_connection())
        .map(|(_, count)| count)
        .sum();
    assert!((60..=100).contains(&ok), "ok {ok}");
    assert!(
        connection_errors >= 90,
        "errors {:?}",
        result.recorder.errors()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_later_than_the_request_timeout_are_timeouts() {
    let server = serve().await;
    let mut options = ReplayOptions::default();
    options.request.timeout = Duration::from_millis(200);
    let result = run(
        &scenario(&["f"], 20.0, "250ms"),
        &target(&server, "hang"),
        options,
    )
    .await;
    assert_eq!(result.recorder.errors()[&ErrorKind::Timeout], 5);
    assert!(
        result.elapsed < Duration::from_secs(2),
        "waited {:?}",
        result.elapsed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_run_keeps_what_it_measured_and_counts_what_it_never_sent() {
    let server = serve().await;
    let scenario = scenario(&["f"], 100.0, "10s");
    let stop = StopSignal::new();
    let progress = Arc::new(LiveProgress::default());
    let stopper = {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1300)).await;
            stop.stop();
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let options = ReplayOptions {
        interval_hlog: Some(dir.path().join("intervals.hlog")),
        interval_csv: Some(dir.path().join("intervals.csv")),
        ..ReplayOptions::default()
    };
    let result = run_with(
        &scenario,
        &target(&server, "ok"),
        &options,
        stop,
        progress.clone(),
    )
    .await;
    stopper.await.unwrap();
    assert!(result.stopped_early);
    assert!(result.elapsed < Duration::from_secs(3));
    let sent = result.sent();
    assert!((120..=140).contains(&sent), "sent {sent}");
    assert_eq!(result.scheduled(), 1000);
    assert_eq!(result.not_sent, 1000 - sent);
    assert_eq!(result.recorder.ok(), sent);
    let seen = progress.snapshot();
    assert_eq!((seen.sent, seen.ok, seen.in_flight()), (sent, sent, 0));
    // The interval series holds the seconds measured before the stop.
    let csv = std::fs::read_to_string(dir.path().join("intervals.csv")).unwrap();
    let ok_column: u64 = csv
        .lines()
        .skip(1)
        .map(|line| line.split(',').nth(2).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(ok_column, sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_kinds_are_unknown_without_x_faas_start_unless_inferred() {
    let server = serve().await;
    let scenario = scenario(&["a", "b"], 100.0, "1s");

    let plain = run(
        &scenario,
        &target(&server, "bare"),
        ReplayOptions::default(),
    )
    .await;
    assert_eq!(plain.recorder.latency(StartKind::Unknown).len(), 100);
    assert_eq!(plain.recorder.inferred(), 0);

    let by_latency = ReplayOptions {
        start_inference: Some(StartInference::Latency {
            cold_above: Duration::from_millis(80),
        }),
        ..ReplayOptions::default()
    };
    let result = run(&scenario, &target(&server, "lazy"), by_latency).await;
    // Each function's first invocation took 100 ms: a cold start; the rest warm.
    assert_eq!(result.recorder.latency(StartKind::Cold).len(), 2);
    assert_eq!(result.recorder.latency(StartKind::Warm).len(), 98);
    assert_eq!(result.recorder.inferred(), 100);
    for function in result.recorder.functions() {
        assert_eq!(function.starts_of(StartKind::Cold), 1);
    }

    // A new server: the functions start cold again, and name their instance.
    let server = serve().await;
    let by_instance = ReplayOptions {
        start_inference: Some(StartInference::InstanceHeader {
            header: "x-instance".into(),
        }),
        ..ReplayOptions::default()
    };
    let result = run(&scenario, &target(&server, "lazy"), by_instance).await;
    assert_eq!(result.recorder.latency(StartKind::Cold).len(), 2);
    assert_eq!(result.recorder.inferred(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_loop_keeps_its_users_busy_and_never_more() {
    let server = serve().await;
    let options = ReplayOptions {
        load: LoadSpec::Closed {
            users: 3,
            think_time: Duration::from_millis(5),
        },
        ..ReplayOptions::default()
    };
    // The schedule has 10 invocations; the users go through it again and again.
    let result = run(
        &scenario(&["a", "b"], 10.0, "1s"),
        &target(&server, "slow"),
        options,
    )
    .await;
    assert_eq!(server.seen.max_in_flight.load(Ordering::SeqCst), 3);
    let ok = result.recorder.ok();
    // Each user: one 50 ms call plus 5 ms of thought at a time, for 1 s: about 18 each.
    assert!((45..=60).contains(&ok), "ok {ok}");
    assert_eq!(result.scheduled(), ok);
    assert!(result.pacing.is_none());
    assert_eq!(result.rate_held(), None);
    assert_eq!(result.recorder.send_lag().len(), 0);
    // Without a schedule, latency is the service time.
    let latency = result.recorder.latency(StartKind::Warm);
    assert!(latency.min() >= 50_000);
    let functions = result.recorder.functions();
    assert!(functions[0].ok.abs_diff(functions[1].ok) <= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_multiplexes_requests_over_one_connection() {
    let server = serve().await;
    let options = ReplayOptions {
        request: RequestSpec {
            protocol: HttpProtocol::H2c,
            ..RequestSpec::default()
        },
        ..ReplayOptions::default()
    };
    let result = run(
        &scenario(&["f"], 100.0, "500ms"),
        &target(&server, "slow"),
        options,
    )
    .await;
    assert_eq!(result.recorder.ok(), 50);
    assert_eq!(server.seen.http2.load(Ordering::SeqCst), 50);
    // 50 ms answers at 100/s: about five in flight at once on the shared connection.
    assert!(server.seen.max_in_flight.load(Ordering::SeqCst) >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interval_series_is_an_hdrhistogram_log_and_a_csv_of_every_second() {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use hdrhistogram::serialization::Deserializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    let server = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let options = ReplayOptions {
        interval_hlog: Some(dir.path().join("intervals.hlog")),
        interval_csv: Some(dir.path().join("intervals.csv")),
        ..ReplayOptions::default()
    };
    let result = run(
        &scenario(&["f"], 100.0, "2500ms"),
        &target(&server, "ok"),
        options,
    )
    .await;
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);

    let csv = std::fs::read_to_string(dir.path().join("intervals.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        loadgen::INTERVAL_CSV_COLUMNS.join(",")
    );
    let rows: Vec<Vec<String>> = lines
        .map(|line| line.split(',').map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 3, "{csv}");
    let ok: u64 = rows.iter().map(|row| row[2].parse::<u64>().unwrap()).sum();
    assert_eq!(ok, 250);
    assert!(rows[0][1].parse::<f64>().unwrap() > 90.0);

    let hlog = std::fs::read(dir.path().join("intervals.hlog")).unwrap();
    let mut deserializer = Deserializer::new();
    let mut untagged = 0;
    for entry in IntervalLogIterator::new(&hlog) {
        if let LogEntry::Interval(interval) = entry.unwrap()
            && interval.tag().is_none()
        {
            let bytes = STANDARD.decode(interval.encoded_histogram()).unwrap();
            let histogram: hdrhistogram::Histogram<u64> =
                deserializer.deserialize(&mut bytes.as_slice()).unwrap();
            untagged += histogram.len();
        }
    }
    assert_eq!(untagged, 250);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invocation_log_has_one_row_per_invocation() {
    let server = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("invocations.csv");
    let options = ReplayOptions {
        invocation_log: Some(path.clone()),
        ..ReplayOptions::default()
    };
    let result = run(
        &scenario(&["a", "b"], 100.0, "500ms"),
        &target(&server, "ok"),
        options,
    )
    .await;
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers, loadgen::INVOCATION_LOG_COLUMNS.as_slice());
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len() as u64, result.scheduled());
    assert!(rows.iter().all(|row| &row[column("result")] == "ok"));
    assert!(rows.iter().all(|row| &row[column("trigger")] == "http"));
    let a = rows
        .iter()
        .filter(|row| &row[column("function")] == "a")
        .count();
    assert_eq!(a, 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_invocation_log_is_refused_before_the_run() {
    let scenario = scenario(&["f"], 10.0, "1s");
    let err = replay(
        Box::new(move || scenario.schedule()),
        &Target::new("http://127.0.0.1:9/{function}").unwrap(),
        &ReplayOptions {
            invocation_log: Some("/nonexistent/dir/log.csv".into()),
            ..ReplayOptions::default()
        },
        StopSignal::new(),
        Arc::new(LiveProgress::default()),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/dir/log.csv"),
        "{err}"
    );
}
