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
    assert_eq!(listed.body, "crash\necho\n");
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
