//! Invocations cut short — the client hangs up, resets its HTTP/2 stream, leaves the queue, or
//! a chain's caller times out — give back everything they held: the instance slot, the
//! memory, the queue entry and the busy count. Checked from outside, through `/metrics` and
//! `GET /functions`, as an operator would.

mod support;

use std::time::Duration;

use bench_runtime::policy::KeepAliveConfig;
use bench_runtime::{Runtime, RuntimeConfig};
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use support::guest;
use support::http::{holdings, metric, request, send_request, serve, wait_for_holdings};

/// Long enough that an invocation still held when a test looks was never given back: the
/// `io` guest waits this many milliseconds.
const NAP_MS: &str = "120000";
const SETTLE: Duration = Duration::from_secs(10);

/// A runtime with 16 GiB of capacity, a `nap` function (`io`, 4 GiB, long timeout) and an
/// `echo` function to prove capacity is left for others.
fn runtime_with_nap(nap: bench_runtime::FunctionConfig) -> Runtime {
    let runtime = Runtime::new(
        RuntimeConfig::default()
            .with_instance_slots(16)
            .with_capacity_mb(16384),
    )
    .unwrap();
    runtime
        .deploy(nap.with_timeout(Duration::from_secs(600)))
        .unwrap();
    runtime.deploy(guest("echo", "echo")).unwrap();
    runtime
}

#[tokio::test]
async fn hung_up_http1_invocations_give_back_their_memory_and_slots() {
    let server = serve(runtime_with_nap(guest("nap", "io").with_memory_mb(4096))).await;
    let addr = server.local_addr();

    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(send_request(addr, "POST", "/invoke/nap", NAP_MS.as_bytes()).await);
    }
    assert_eq!(
        wait_for_holdings(addr, "nap", (4, 0, 16384), SETTLE).await,
        (4, 0, 16384),
        "four invocations hold the whole capacity"
    );
    drop(clients);

    assert_eq!(
        wait_for_holdings(addr, "nap", (0, 0, 0), SETTLE).await,
        (0, 0, 0),
        "busy, queued and memory after the clients hung up"
    );
    let busy = r#"faas_instances{function="nap",state="busy"}"#;
    assert_eq!(metric(addr, busy).await, 0.0);
    let cancelled = r#"faas_invocations_total{function="nap",outcome="cancelled"}"#;
    assert_eq!(metric(addr, cancelled).await, 4.0);
    let (status, body) = request(addr, "POST", "/invoke/echo", b"next").await;
    assert_eq!((status, body.as_str()), (200, "next"));
    server.shutdown().await;
}

#[tokio::test]
async fn reset_h2c_streams_give_back_their_memory_and_slots() {
    let server = serve(runtime_with_nap(guest("nap", "io").with_memory_mb(4096))).await;
    let addr = server.local_addr();
    let client = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<Full<Bytes>>();

    let calls: Vec<_> = (0..4)
        .map(|_| {
            let request = Request::post(format!("http://{addr}/invoke/nap"))
                .body(Full::new(Bytes::from_static(NAP_MS.as_bytes())))
                .unwrap();
            tokio::spawn(client.request(request))
        })
        .collect();
    assert_eq!(
        wait_for_holdings(addr, "nap", (4, 0, 16384), SETTLE).await,
        (4, 0, 16384)
    );
    // Dropping a response future resets its stream (RST_STREAM); the connection stays.
    for call in &calls {
        call.abort();
    }
    assert_eq!(
        wait_for_holdings(addr, "nap", (0, 0, 0), SETTLE).await,
        (0, 0, 0),
        "busy, queued and memory after the streams were reset"
    );
    let request = Request::post(format!("http://{addr}/invoke/echo"))
        .body(Full::new(Bytes::from_static(b"next")))
        .unwrap();
    let answer = client.request(request).await.unwrap();
    assert_eq!(answer.status(), 200);
    server.shutdown().await;
}

#[tokio::test]
async fn queued_clients_that_leave_are_no_longer_counted_as_queued() {
    let nap = guest("nap", "io").with_max_instances(1).with_max_queue(2);
    let server = serve(runtime_with_nap(nap)).await;
    let addr = server.local_addr();

    let running = send_request(addr, "POST", "/invoke/nap", NAP_MS.as_bytes()).await;
    assert_eq!(
        wait_for_holdings(addr, "nap", (1, 0, 128), SETTLE).await,
        (1, 0, 128)
    );
    let mut waiting = Vec::new();
    for _ in 0..2 {
        waiting.push(send_request(addr, "POST", "/invoke/nap", NAP_MS.as_bytes()).await);
    }
    assert_eq!(
        wait_for_holdings(addr, "nap", (1, 2, 128), SETTLE).await,
        (1, 2, 128)
    );
    drop(waiting);
    assert_eq!(
        wait_for_holdings(addr, "nap", (1, 0, 128), SETTLE).await,
        (1, 0, 128),
        "the clients that left are not queued any more"
    );
    let queued = r#"faas_queued_invocations{function="nap"}"#;
    assert_eq!(metric(addr, queued).await, 0.0);

    // Two new clients find the queue empty: they wait instead of getting 429.
    let mut again = Vec::new();
    for _ in 0..2 {
        again.push(send_request(addr, "POST", "/invoke/nap", NAP_MS.as_bytes()).await);
    }
    assert_eq!(
        wait_for_holdings(addr, "nap", (1, 2, 128), SETTLE).await,
        (1, 2, 128)
    );
    let refused = r#"faas_invocations_total{function="nap",outcome="rejected_queue"}"#;
    assert_eq!(metric(addr, refused).await, 0.0);

    drop((running, again));
    assert_eq!(
        wait_for_holdings(addr, "nap", (0, 0, 0), SETTLE).await,
        (0, 0, 0)
    );
    let (status, _) = request(addr, "POST", "/invoke/echo", b"next").await;
    assert_eq!(status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn a_chain_whose_caller_times_out_gives_back_the_callee() {
    let runtime = Runtime::new(
        RuntimeConfig::default()
            .with_instance_slots(16)
            .with_keep_alive(KeepAliveConfig::None {}),
    )
    .unwrap();
    runtime
        .deploy(
            guest("nap", "io")
                .with_memory_mb(1024)
                .with_timeout(Duration::from_secs(600)),
        )
        .unwrap();
    runtime
        .deploy(guest("caller", "chain(nap)").with_timeout(Duration::from_secs(1)))
        .unwrap();
    runtime.deploy(guest("echo", "echo")).unwrap();
    let server = serve(runtime).await;
    let addr = server.local_addr();

    let (status, body) = request(addr, "POST", "/invoke/caller", NAP_MS.as_bytes()).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(
        wait_for_holdings(addr, "nap", (0, 0, 0), SETTLE).await,
        (0, 0, 0),
        "the callee is not busy and holds no memory after its caller timed out"
    );
    assert_eq!(holdings(addr, "caller").await, (0, 0, 0));
    let (status, _) = request(addr, "POST", "/invoke/echo", b"next").await;
    assert_eq!(status, 200);
    server.shutdown().await;
}
