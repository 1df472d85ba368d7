//! The HTTP protocol of the runtime, spoken over real loopback connections.

use std::net::SocketAddr;
use std::sync::Arc;

use bench_runtime::{FunctionConfig, ModuleSource, Runtime, RuntimeConfig, RuntimeServer};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BODY_LIMIT: usize = 1024;

async fn start() -> RuntimeServer {
    let runtime = Runtime::new(
        RuntimeConfig::default()
            .with_instance_slots(16)
            .with_max_body_bytes(BODY_LIMIT),
    )
    .unwrap();
    runtime
        .deploy(
            FunctionConfig::new("echo", ModuleSource::Builtin("echo".into())).with_memory_mb(64),
        )
        .unwrap();
    runtime
        .deploy(FunctionConfig::new(
            "crash",
            ModuleSource::Wat(
                r#"(module (memory (export "memory") 1) (func (export "handle") unreachable))"#
                    .into(),
            ),
        ))
        .unwrap();
    RuntimeServer::bind(Arc::new(runtime), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

struct Answer {
    status: StatusCode,
    headers: hyper::HeaderMap,
    body: Bytes,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("missing header {name}"))
            .to_str()
            .unwrap()
    }

    fn number(&self, name: &str) -> u64 {
        self.header(name)
            .parse()
            .unwrap_or_else(|_| panic!("{name} is not a number"))
    }
}

async fn send(
    client: &Client<HttpConnector, Full<Bytes>>,
    addr: SocketAddr,
    method: Method,
    path: &str,
    body: impl Into<Bytes>,
) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .body(Full::new(body.into()))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body,
    }
}

fn http1() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

#[tokio::test]
async fn invoke_answers_with_the_output_and_measurement_headers() {
    let server = start().await;
    let client = http1();
    let first = send(
        &client,
        server.local_addr(),
        Method::POST,
        "/invoke/echo",
        "hello",
    )
    .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body, "hello");
    assert_eq!(first.header("x-faas-start"), "cold");
    assert!(first.number("x-faas-init-us") > 0);
    assert_eq!(first.number("x-faas-memory-mb"), 64);
    assert!(first.number("x-faas-billed-ms") >= 1);
    first.number("x-faas-exec-us");
    first.number("x-faas-queue-us");

    let second = send(
        &client,
        server.local_addr(),
        Method::POST,
        "/invoke/echo",
        "again",
    )
    .await;
    assert_eq!(second.body, "again");
    assert_eq!(second.header("x-faas-start"), "warm");
    assert_eq!(second.number("x-faas-init-us"), 0);
    assert_eq!(
        second.header("x-faas-instance"),
        first.header("x-faas-instance")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn http2_cleartext_is_served_on_the_same_port() {
    let server = start().await;
    let client = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let calls = (0..8).map(|i| {
        let client = client.clone();
        let addr = server.local_addr();
        async move {
            send(
                &client,
                addr,
                Method::POST,
                "/invoke/echo",
                format!("stream {i}"),
            )
            .await
        }
    });
    for (i, answer) in join_spawned(calls).await.into_iter().enumerate() {
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body, format!("stream {i}"));
    }
    server.shutdown().await;
}

async fn join_spawned<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}

#[tokio::test]
async fn errors_have_their_protocol_status_and_say_what_went_wrong() {
    let server = start().await;
    let client = http1();
    let addr = server.local_addr();

    let unknown = send(&client, addr, Method::POST, "/invoke/ghost", "").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&unknown.body).contains("`ghost`"));

    let too_large = send(
        &client,
        addr,
        Method::POST,
        "/invoke/echo",
        vec![b'x'; BODY_LIMIT + 1],
    )
    .await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(String::from_utf8_lossy(&too_large.body).contains("1024 bytes"));

    let at_limit = send(
        &client,
        addr,
        Method::POST,
        "/invoke/echo",
        vec![b'x'; BODY_LIMIT],
    )
    .await;
    assert_eq!(at_limit.status, StatusCode::OK);
    assert_eq!(at_limit.body.len(), BODY_LIMIT);

    let trap = send(&client, addr, Method::POST, "/invoke/crash", "").await;
    assert_eq!(trap.status, StatusCode::INTERNAL_SERVER_ERROR);
    let message = String::from_utf8_lossy(&trap.body);
    assert!(
        message.contains("`crash` trapped") && message.contains("unreachable"),
        "{message}"
    );
    assert_eq!(
        trap.header("x-faas-start"),
        "cold",
        "a failed invocation is still metered"
    );

    let wrong_method = send(&client, addr, Method::GET, "/invoke/echo", "").await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.header("allow"), "POST");

    let no_route = send(&client, addr, Method::GET, "/nowhere", "").await;
    assert_eq!(no_route.status, StatusCode::NOT_FOUND);

    // After every kind of error the runtime still serves.
    let healthy = send(&client, addr, Method::GET, "/healthz", "").await;
    assert_eq!(
        (healthy.status, healthy.body),
        (StatusCode::OK, Bytes::from("ok\n"))
    );
    let listed = send(&client, addr, Method::GET, "/functions", "").await;
    let listed: serde_json::Value = serde_json::from_slice(&listed.body).unwrap();
    let names: Vec<&str> = listed["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["crash", "echo"]);
    assert_eq!(listed["functions"][0]["stats"]["invocations"]["trapped"], 1);
    server.shutdown().await;
}

#[tokio::test]
async fn garbage_on_the_wire_is_refused_without_harming_the_server() {
    let server = start().await;
    let mut raw = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    raw.write_all(b"\x16\x03\x01 NOT HTTP AT ALL\r\n\r\n")
        .await
        .unwrap();
    let mut reply = Vec::new();
    let _ = raw.read_to_end(&mut reply).await;
    let reply = String::from_utf8_lossy(&reply);
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 400"),
        "{reply}"
    );

    let answer = send(
        &http1(),
        server.local_addr(),
        Method::POST,
        "/invoke/echo",
        "still here",
    )
    .await;
    assert_eq!(answer.body, "still here");
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_the_listener() {
    let server = start().await;
    let addr = server.local_addr();
    send(&http1(), addr, Method::GET, "/healthz", "").await;
    server.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn functions_are_deployed_described_and_removed_over_http() {
    let server = start().await;
    let client = http1();
    let addr = server.local_addr();

    let created = send(
        &client,
        addr,
        Method::PUT,
        "/functions/work?guest=cpu&memory_mb=256&timeout=2s",
        "",
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let described: serde_json::Value = serde_json::from_slice(&created.body).unwrap();
    assert_eq!(
        (
            described["memory_mb"].as_u64(),
            described["timeout_ms"].as_u64()
        ),
        (Some(256), Some(2000))
    );

    let replaced = send(
        &client,
        addr,
        Method::PUT,
        "/functions/work?guest=cpu&memory_mb=512",
        "",
    )
    .await;
    assert_eq!(replaced.status, StatusCode::OK);
    let ran = send(&client, addr, Method::POST, "/invoke/work", "100").await;
    assert_eq!(
        (ran.status, ran.number("x-faas-memory-mb")),
        (StatusCode::OK, 512)
    );

    let wat = r#"(module (import "faas" "output_write" (func $o (param i32 i32)))
        (memory (export "memory") 1) (data (i32.const 0) "custom")
        (func (export "handle") (call $o (i32.const 0) (i32.const 6))))"#;
    let uploaded = send(&client, addr, Method::PUT, "/functions/custom", wat).await;
    assert_eq!(uploaded.status, StatusCode::CREATED);
    assert_eq!(
        send(&client, addr, Method::POST, "/invoke/custom", "")
            .await
            .body,
        "custom"
    );

    let broken = send(
        &client,
        addr,
        Method::PUT,
        "/functions/bad",
        "(module (func",
    )
    .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&broken.body).starts_with("function `bad`: "));
    let typo = send(
        &client,
        addr,
        Method::PUT,
        "/functions/bad?guest=cpu&memroy_mb=1",
        "",
    )
    .await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&typo.body).contains("`memroy_mb`"));

    let one: serde_json::Value = serde_json::from_slice(
        &send(&client, addr, Method::GET, "/functions/work", "")
            .await
            .body,
    )
    .unwrap();
    assert_eq!(one["stats"]["invocations"]["ok"], 1);

    assert_eq!(
        send(&client, addr, Method::DELETE, "/functions/work", "")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        send(&client, addr, Method::DELETE, "/functions/work", "")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&client, addr, Method::POST, "/invoke/work", "1")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    server.shutdown().await;
}

#[tokio::test]
async fn metrics_are_exposed_in_prometheus_text() {
    let server = start().await;
    let client = http1();
    let addr = server.local_addr();
    send(&client, addr, Method::POST, "/invoke/echo", "a").await;
    send(&client, addr, Method::POST, "/invoke/echo", "b").await;
    send(&client, addr, Method::POST, "/invoke/crash", "").await;
    let metrics = send(&client, addr, Method::GET, "/metrics", "").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics
            .header("content-type")
            .starts_with("text/plain; version=0.0.4")
    );
    let text = String::from_utf8_lossy(&metrics.body);
    for line in [
        "faas_starts_total{function=\"echo\",kind=\"cold\"} 1",
        "faas_starts_total{function=\"echo\",kind=\"warm\"} 1",
        "faas_invocations_total{function=\"crash\",outcome=\"trapped\"} 1",
        "faas_instances{function=\"echo\",state=\"idle\"} 1",
        "faas_evictions_total{function=\"crash\",reason=\"failed\"} 1",
        "faas_memory_used_mb 64",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in:\n{text}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn timeouts_answer_504_and_a_full_queue_429_with_retry_after() {
    let server = start().await;
    let client = http1();
    let addr = server.local_addr();
    send(
        &client,
        addr,
        Method::PUT,
        "/functions/spin?guest=cpu&timeout=50ms",
        "",
    )
    .await;
    let timed_out = send(&client, addr, Method::POST, "/invoke/spin", "5000000").await;
    assert_eq!(timed_out.status, StatusCode::GATEWAY_TIMEOUT);
    assert!(String::from_utf8_lossy(&timed_out.body).contains("timed out after 50ms"));
    assert!(
        timed_out.number("x-faas-exec-us") >= 50_000,
        "a timeout is metered"
    );

    send(
        &client,
        addr,
        Method::PUT,
        "/functions/one?guest=io&max_instances=1&max_queue=0",
        "",
    )
    .await;
    let busy = tokio::spawn({
        let client = client.clone();
        async move { send(&client, addr, Method::POST, "/invoke/one", "300").await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let refused = send(&client, addr, Method::POST, "/invoke/one", "1").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.number("retry-after") >= 1);
    assert_eq!(busy.await.unwrap().status, StatusCode::OK);
    server.shutdown().await;
}

/// A body over the limit gets 413 however it arrives: with a length, chunked, or announced
/// far beyond the limit. The client must see the answer, never a reset connection.
#[tokio::test]
async fn a_body_over_the_limit_always_gets_413() {
    let server = start().await;
    let addr = server.local_addr();
    let client = http1();
    let body = vec![b'x'; 16 << 20];
    for round in 0..5 {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("http://{addr}/invoke/echo"))
            .body(Full::new(Bytes::from(body.clone())))
            .unwrap();
        let status = client
            .request(request)
            .await
            .map(|response| response.status());
        assert!(
            matches!(status, Ok(StatusCode::PAYLOAD_TOO_LARGE)),
            "round {round}: {status:?}"
        );
    }

    for round in 0..5 {
        let mut raw = tokio::net::TcpStream::connect(addr).await.unwrap();
        raw.write_all(
            b"POST /invoke/echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n",
        )
        .await
        .unwrap();
        for chunk in body.chunks(64 << 10) {
            let head = format!("{:x}\r\n", chunk.len());
            raw.write_all(head.as_bytes()).await.unwrap();
            raw.write_all(chunk).await.unwrap();
            raw.write_all(b"\r\n").await.unwrap();
        }
        raw.write_all(b"0\r\n\r\n").await.unwrap();
        let mut answer = [0u8; 12];
        raw.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"HTTP/1.1 413", "round {round}");
    }

    // Announced far beyond what is worth reading: refused at once, and the connection closed.
    let mut raw = tokio::net::TcpStream::connect(addr).await.unwrap();
    raw.write_all(b"POST /invoke/echo HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000000\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = raw.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    let healthy = send(&client, addr, Method::GET, "/healthz", "").await;
    assert_eq!(healthy.status, StatusCode::OK);
    server.shutdown().await;
}

/// Settings whose arithmetic could not hold — deadlines past the clock's range, guest
/// parameters that would wrap — are refused at deploy, naming the field and the range.
#[tokio::test]
async fn absurd_deployments_are_refused_naming_the_field_and_its_range() {
    let server = start().await;
    let client = http1();
    let addr = server.local_addr();
    let cases = [
        (
            "/functions/f?guest=noop&timeout=18000000000000000000s",
            "timeout must be within 1ms..=1h",
        ),
        (
            "/functions/f?guest=init-heavy(init_ms%3D18446744073709551615)",
            "init_ms must be within 0..=3600000",
        ),
        (
            "/functions/f?guest=noop&max_instances=4294967295",
            "max_instances must be within 1..=100000",
        ),
        (
            "/functions/f?guest=noop&max_queue=4294967295",
            "max_queue must be within 0..=1000000",
        ),
        (
            "/functions/f?guest=noop&keep_alive=18000000000000000000s",
            "keep_alive must be at most 365days",
        ),
    ];
    for (path, expected) in cases {
        let answer = send(&client, addr, Method::PUT, path, "").await;
        let message = String::from_utf8_lossy(&answer.body);
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}: {message}");
        assert!(message.contains(expected), "{path}: {message}");
    }
    let listed = send(&client, addr, Method::GET, "/functions/f", "").await;
    assert_eq!(listed.status, StatusCode::NOT_FOUND, "nothing was deployed");
    let echo = send(&client, addr, Method::POST, "/invoke/echo", "fine").await;
    assert_eq!(
        (echo.status, echo.body),
        (StatusCode::OK, Bytes::from("fine"))
    );
    server.shutdown().await;
}

/// A configuration file with a provisioned instance and a timeout beyond the range is
/// refused when its functions are deployed, instead of panicking in the background.
#[tokio::test]
async fn a_configuration_with_an_absurd_timeout_is_refused_at_deploy() {
    let file = bench_runtime::RuntimeFile::from_toml_str(
        "[[functions]]\nname = \"f\"\nguest = \"noop\"\nprewarm = 1\ntimeout = \"18000000000000000000s\"\n",
        "runtime.toml",
    )
    .expect("the file parses");
    let runtime = Runtime::new(RuntimeConfig::default().with_instance_slots(4)).unwrap();
    let err = runtime
        .deploy(file.functions[0].clone())
        .expect_err("refused");
    assert!(
        err.to_string().contains("timeout must be within 1ms..=1h"),
        "{err}"
    );
    assert!(runtime.functions().is_empty());
}

/// Counters run for the life of the runtime: a redeploy under the same name, or a removal and
/// a later deploy, goes on from them.
#[tokio::test]
async fn counters_survive_redeploys() {
    let server = start().await;
    let client = http1();
    let addr = server.local_addr();
    let ok = "faas_invocations_total{function=\"echo\",outcome=\"ok\"}";
    let read = |text: &str, sample: &str| -> Option<u64> {
        text.lines()
            .find_map(|line| line.strip_prefix(sample)?.trim().parse().ok())
    };
    for _ in 0..3 {
        send(&client, addr, Method::POST, "/invoke/echo", "x").await;
    }
    let redeployed = send(&client, addr, Method::PUT, "/functions/echo?guest=echo", "").await;
    assert_eq!(redeployed.status, StatusCode::OK);
    let metrics = send(&client, addr, Method::GET, "/metrics", "").await;
    let text = String::from_utf8_lossy(&metrics.body);
    assert_eq!(read(&text, ok), Some(3), "{text}");
    assert_eq!(
        read(&text, "faas_deployments_total{function=\"echo\"}"),
        Some(2)
    );
    send(&client, addr, Method::POST, "/invoke/echo", "x").await;
    send(&client, addr, Method::DELETE, "/functions/echo", "").await;
    send(&client, addr, Method::PUT, "/functions/echo?guest=echo", "").await;
    let metrics = send(&client, addr, Method::GET, "/metrics", "").await;
    let text = String::from_utf8_lossy(&metrics.body);
    assert_eq!(read(&text, ok), Some(4), "{text}");
    server.shutdown().await;
}

/// The runtime says which invocations a start delayed: its own (cold), or one it waited for
/// in the queue — while its start kind stays what served it. Two workers, as served: one
/// runs the computing `init`, the other reads the second request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_queued_behind_a_start_is_marked_delayed_by_it() {
    let server = start().await;
    let client = http1();
    let addr = server.local_addr();
    let put = send(
        &client,
        addr,
        Method::PUT,
        "/functions/slow?guest=init-heavy(init_ms%3D300%2C+state_mib%3D1)&max_instances=1",
        "",
    )
    .await;
    assert_eq!(put.status, StatusCode::CREATED);
    let first = tokio::spawn({
        let client = client.clone();
        async move { send(&client, addr, Method::POST, "/invoke/slow", "").await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    // A client of its own, so that it does not wait for the first one's connection.
    let queued = send(&http1(), addr, Method::POST, "/invoke/slow", "").await;
    let first = first.await.unwrap();
    assert_eq!(first.header("x-faas-start"), "cold");
    assert_eq!(first.header("x-faas-delayed-by-start"), "1");
    assert_eq!(queued.header("x-faas-start"), "warm");
    assert_eq!(queued.header("x-faas-delayed-by-start"), "1");
    assert!(queued.number("x-faas-queue-us") >= 100_000);
    let later = send(&client, addr, Method::POST, "/invoke/slow", "").await;
    assert_eq!(later.header("x-faas-start"), "warm");
    assert!(later.headers.get("x-faas-delayed-by-start").is_none());
    server.shutdown().await;
}
