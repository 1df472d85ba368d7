//! Replays against a real HTTP server on loopback whose behaviour each route chooses.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use loadgen::{
    ErrorKind, LiveProgress, ReplayOptions, RunResult, StartKind, StopSignal, Target, replay,
};
use scenarios::Scenario;

/// `/fn/ok` answers at once as a warm start; `/fn/slow` after 50 ms; `/fn/fail` with 503;
/// `/fn/hang` after 5 s.
async fn answer(
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::new(Bytes::from_static(b"done")));
    match request.uri().path() {
        "/fn/slow" => tokio::time::sleep(Duration::from_millis(50)).await,
        "/fn/fail" => *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE,
        "/fn/hang" => tokio::time::sleep(Duration::from_secs(5)).await,
        _ => {}
    }
    let headers = response.headers_mut();
    headers.insert("x-faas-start", "warm".parse().unwrap());
    headers.insert("x-faas-billed-ms", "2".parse().unwrap());
    headers.insert("x-faas-memory-mb", "512".parse().unwrap());
    Ok(response)
}

async fn serve() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(
                auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service_fn(answer))
                    .into_owned(),
            );
        }
    });
    addr
}

fn scenario(functions: &[&str], rate: f64, duration: &str) -> Scenario {
    let mut text = format!(
        "name = \"test\"\nseed = 1\nduration = \"{duration}\"\n[arrivals]\nprocess = \"constant\"\nrate = {rate}\n"
    );
    for name in functions {
        text += &format!("[[functions]]\nname = \"{name}\"\nguest = \"noop\"\n");
    }
    Scenario::from_toml_str(&text, "test.toml").unwrap()
}

fn target(addr: SocketAddr) -> Target {
    Target::new(format!("http://{addr}/fn/{{function}}")).unwrap()
}

async fn run(scenario: &Scenario, target: &Target, options: ReplayOptions) -> RunResult {
    replay(
        scenario.schedule(),
        target,
        &options,
        StopSignal::new(),
        Arc::new(LiveProgress::default()),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scheduled_invocation_ends_ok_or_as_an_error_by_kind() {
    let addr = serve().await;
    let scenario = scenario(&["ok", "fail"], 200.0, "1s");
    let expected = scenario.schedule().count() as u64;
    let result = run(&scenario, &target(addr), ReplayOptions::default()).await;

    assert_eq!(expected, 200);
    assert_eq!(result.scheduled(), expected);
    assert_eq!(result.dispatched, expected);
    assert_eq!(result.recorder.ok(), 100);
    assert_eq!(result.recorder.errors()[&ErrorKind::Status(503)], 100);
    assert_eq!(
        result.recorder.ok() + result.recorder.error_count(),
        result.dispatched
    );
    let functions = result.recorder.functions();
    assert_eq!((functions[0].ok, functions[0].errors), (100, 0));
    assert_eq!((functions[1].ok, functions[1].errors), (0, 100));
    assert_eq!(functions[0].starts_of(StartKind::Warm), 100);
    // Billing headers are summed for answered invocations, failed ones included.
    assert_eq!(result.recorder.billing().invocations, 200);
    assert_eq!(result.recorder.billing().mb_ms, 200 * 2 * 512);
    assert!(!result.stopped_early);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_runs_from_the_scheduled_time_to_the_last_byte() {
    let addr = serve().await;
    let result = run(
        &scenario(&["slow"], 40.0, "500ms"),
        &target(addr),
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_refuses_connections_gives_connect_errors() {
    // Bind and drop to find a port nobody listens on.
    let addr = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let result = run(
        &scenario(&["ok"], 100.0, "300ms"),
        &target(addr),
        ReplayOptions::default(),
    )
    .await;
    assert_eq!(result.recorder.ok(), 0);
    assert_eq!(result.recorder.errors()[&ErrorKind::Connect], 30);
    assert_eq!(result.scheduled(), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_later_than_the_request_timeout_are_timeouts() {
    let addr = serve().await;
    let options = ReplayOptions {
        request_timeout: Duration::from_millis(200),
        ..ReplayOptions::default()
    };
    let result = run(&scenario(&["hang"], 20.0, "250ms"), &target(addr), options).await;
    assert_eq!(result.recorder.errors()[&ErrorKind::Timeout], 5);
    assert!(
        result.elapsed < Duration::from_secs(2),
        "waited {:?}",
        result.elapsed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_run_counts_what_it_never_sent() {
    let addr = serve().await;
    let scenario = scenario(&["ok"], 100.0, "10s");
    let stop = StopSignal::new();
    let progress = Arc::new(LiveProgress::default());
    let stopper = {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            stop.stop();
        })
    };
    let result = replay(
        scenario.schedule(),
        &target(addr),
        &ReplayOptions::default(),
        stop,
        progress.clone(),
    )
    .await
    .unwrap();
    stopper.await.unwrap();
    assert!(result.stopped_early);
    assert!(result.elapsed < Duration::from_secs(2));
    assert!(
        (20..=40).contains(&result.dispatched),
        "sent {}",
        result.dispatched
    );
    assert_eq!(result.scheduled(), 1000);
    assert_eq!(result.recorder.ok(), result.dispatched);
    let seen = progress.snapshot();
    assert_eq!(
        (seen.sent, seen.ok, seen.in_flight()),
        (result.dispatched, result.dispatched, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invocation_log_has_one_row_per_sent_invocation() {
    let addr = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("invocations.csv");
    let options = ReplayOptions {
        invocation_log: Some(path.clone()),
        ..ReplayOptions::default()
    };
    let result = run(
        &scenario(&["ok", "fail"], 100.0, "500ms"),
        &target(addr),
        options,
    )
    .await;
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);
    let mut reader = csv::Reader::from_path(&path).unwrap();
    assert_eq!(
        reader.headers().unwrap(),
        loadgen::INVOCATION_LOG_COLUMNS.as_slice()
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len() as u64, result.dispatched);
    let failed = rows.iter().filter(|row| &row[2] == "http_503").count();
    assert_eq!(failed, 25);
    assert!(rows.iter().all(|row| row[2] != *"ok" || &row[1] == "ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_invocation_log_is_refused_before_the_run() {
    let err = replay(
        scenario(&["ok"], 10.0, "1s").schedule(),
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
