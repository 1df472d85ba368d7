//! Talking to a served runtime over real loopback connections: raw HTTP/1.1 for requests a
//! test abandons, and the runtime's own figures read back through `/metrics` and
//! `GET /functions`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bench_runtime::{Runtime, RuntimeServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Serves `runtime` on a free loopback port.
pub async fn serve(runtime: Runtime) -> RuntimeServer {
    RuntimeServer::bind(Arc::new(runtime), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("the server binds")
}

/// Opens a connection and sends one HTTP/1.1 request on it without reading the answer; the
/// caller hangs up by dropping the stream.
pub async fn send_request(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: test\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    stream
}

/// One request on a fresh connection, read to its end: status and body.
pub async fn request(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, body)| body.to_owned());
    (status, body)
}

/// The value of one sample of `/metrics`, e.g. `faas_instances{function="f",state="busy"}`.
pub async fn metric(addr: SocketAddr, sample: &str) -> f64 {
    let (status, text) = request(addr, "GET", "/metrics", b"").await;
    assert_eq!(status, 200, "{text}");
    text.lines()
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == sample).then(|| value.parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no sample {sample} in\n{text}"))
}

/// `GET /functions`, parsed.
pub async fn functions(addr: SocketAddr) -> serde_json::Value {
    let (status, body) = request(addr, "GET", "/functions", b"").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("JSON")
}

/// Busy instances, queued invocations and memory used of `function`, as `GET /functions`
/// reports them, and the runtime's memory used as `/metrics` reports it.
pub async fn holdings(addr: SocketAddr, function: &str) -> (u64, u64, u64) {
    let listed = functions(addr).await;
    let entry = listed["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == function)
        .unwrap_or_else(|| panic!("no function {function} in {listed}"));
    let stats = &entry["stats"];
    let busy = stats["instances"]["busy"].as_u64().unwrap()
        + stats["instances"]["starting"].as_u64().unwrap();
    let queued = stats["queued"].as_u64().unwrap();
    let memory = metric(addr, "faas_memory_used_mb").await as u64;
    assert_eq!(
        listed["memory_used_mb"].as_u64(),
        Some(memory),
        "/functions and /metrics agree"
    );
    (busy, queued, memory)
}

/// Polls `holdings` until they equal `wanted`, at most `limit`; returns the last reading.
pub async fn wait_for_holdings(
    addr: SocketAddr,
    function: &str,
    wanted: (u64, u64, u64),
    limit: Duration,
) -> (u64, u64, u64) {
    let give_up = std::time::Instant::now() + limit;
    loop {
        let now = holdings(addr, function).await;
        if now == wanted || std::time::Instant::now() > give_up {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
