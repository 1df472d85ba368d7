//! Connection hygiene over real loopback sockets: idle keep-alive connections and slow request
//! heads are closed, while connections that keep asking or wait for a long answer are not.
//!
//! Timing bounds are generous (the machine may be busy); the assertions are about what is
//! closed and in which order, and never that something happens quickly.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench_runtime::{FunctionConfig, ModuleSource, Runtime, RuntimeConfig, RuntimeServer};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longer than any timeout under test takes to act, even on a busy machine.
const GIVE_UP: Duration = Duration::from_secs(20);

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";

async fn start(config: RuntimeConfig) -> RuntimeServer {
    let runtime = Runtime::new(config.with_instance_slots(16)).unwrap();
    runtime
        .deploy(FunctionConfig::new(
            "echo",
            ModuleSource::Builtin("echo".into()),
        ))
        .unwrap();
    runtime
        .deploy(FunctionConfig::new(
            "nap",
            ModuleSource::Builtin("io".into()),
        ))
        .unwrap();
    RuntimeServer::bind(Arc::new(runtime), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// Reads one HTTP/1.1 answer (its head and a `content-length` body); returns it as text.
async fn read_answer(stream: &mut TcpStream) -> io::Result<String> {
    let mut answer = Vec::new();
    let mut chunk = [0; 1024];
    loop {
        let text = String::from_utf8_lossy(&answer);
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length = text[..head_end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if answer.len() >= head_end + 4 + length {
                return Ok(text.into_owned());
            }
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        answer.extend_from_slice(&chunk[..read]);
    }
}

/// Sends one request and reads its answer.
async fn ask(stream: &mut TcpStream, request: &[u8]) -> io::Result<String> {
    stream.write_all(request).await?;
    read_answer(stream).await
}

/// Waits until the server closes `stream` (end of stream or a reset); false if it is still
/// open after `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut byte = [0; 1];
    match tokio::time::timeout(limit, stream.read(&mut byte)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) => panic!("the server sent bytes nobody asked for"),
        Err(_) => false,
    }
}

/// Whether the server has not closed `stream`, without waiting.
fn still_open(stream: &TcpStream) -> bool {
    let mut byte = [0; 1];
    matches!(stream.try_read(&mut byte), Err(err) if err.kind() == io::ErrorKind::WouldBlock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed_after_the_idle_timeout() {
    const IDLE: Duration = Duration::from_millis(500);
    let server = start(RuntimeConfig::default().with_idle_timeout(IDLE)).await;
    let addr = server.local_addr();
    let connections: Vec<_> = (0..200)
        .map(|_| {
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                let asked = Instant::now();
                let answer = ask(&mut stream, HEALTHZ).await.unwrap();
                assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
                let closed = closed_within(&mut stream, GIVE_UP).await;
                (closed, asked.elapsed())
            })
        })
        .collect();
    let mut open = 0;
    for connection in connections {
        let (closed, after) = connection.await.unwrap();
        if closed {
            assert!(
                after >= IDLE,
                "closed {after:?} after its request, before idling"
            );
        } else {
            open += 1;
        }
    }
    assert_eq!(open, 0, "idle connections still open after {GIVE_UP:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_keep_asking_or_wait_for_an_answer_stay_open() {
    const IDLE: Duration = Duration::from_secs(2);
    let server = start(RuntimeConfig::default().with_idle_timeout(IDLE)).await;
    let addr = server.local_addr();
    let started = Instant::now();

    let mut idle = TcpStream::connect(addr).await.unwrap();
    ask(&mut idle, HEALTHZ).await.unwrap();
    let idle = tokio::spawn(async move {
        let closed = closed_within(&mut idle, GIVE_UP).await;
        (closed, Instant::now())
    });

    // Its only request takes longer than the idle timeout.
    let napping = tokio::spawn(async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request =
            b"POST /invoke/nap HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\n\r\n3000".as_slice();
        ask(&mut stream, request).await
    });

    let mut busy = TcpStream::connect(addr).await.unwrap();
    let mut answers = 0;
    while started.elapsed() < Duration::from_secs(5) || !idle.is_finished() {
        assert!(
            started.elapsed() < GIVE_UP,
            "the idle connection was never closed"
        );
        let answer = ask(&mut busy, HEALTHZ)
            .await
            .unwrap_or_else(|err| panic!("busy connection lost after {answers} answers: {err}"));
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        answers += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (idle_closed, idle_closed_at) = idle.await.unwrap();
    assert!(idle_closed, "the idle connection was never closed");
    // Still served after the idle one was closed, several idle timeouts in.
    let answer = ask(&mut busy, HEALTHZ).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(Instant::now() > idle_closed_at);

    let nap = napping
        .await
        .unwrap()
        .expect("the long invocation is answered");
    assert!(nap.starts_with("HTTP/1.1 200"), "{nap}");
    assert!(nap.contains("x-faas-exec-us"), "{nap}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_connection_without_open_streams_is_closed_after_the_idle_timeout() {
    const IDLE: Duration = Duration::from_millis(500);
    let server = start(RuntimeConfig::default().with_idle_timeout(IDLE)).await;
    let stream = TcpStream::connect(server.local_addr()).await.unwrap();
    let opened = Instant::now();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    let connection = tokio::spawn(connection);
    let request = Request::get(format!("http://{}/healthz", server.local_addr()))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.into_body().collect().await.unwrap().to_bytes(),
        "ok\n"
    );

    // The connection's future ends when the server closes the connection.
    let ended = tokio::time::timeout(GIVE_UP, connection).await;
    assert!(ended.is_ok(), "h2c connection still open after {GIVE_UP:?}");
    assert!(opened.elapsed() >= IDLE);
    assert!(sender.is_closed());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_request_head_is_closed_while_a_silent_connection_is_not_yet() {
    const HEADER: Duration = Duration::from_millis(300);
    let server = start(
        RuntimeConfig::default()
            .with_header_timeout(HEADER)
            .with_idle_timeout(Duration::from_secs(60)),
    )
    .await;
    let addr: SocketAddr = server.local_addr();
    let silent = TcpStream::connect(addr).await.unwrap();
    let mut slow = TcpStream::connect(addr).await.unwrap();

    let began = Instant::now();
    slow.write_all(b"POST /invoke/echo HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut byte = [0; 1];
    let closed = loop {
        if began.elapsed() > GIVE_UP {
            break false;
        }
        tokio::select! {
            read = slow.read(&mut byte) => match read {
                Ok(0) | Err(_) => break true,
                Ok(_) => panic!("the server answered a request head that never ended"),
            },
            _ = tokio::time::sleep(Duration::from_millis(150)) => {
                // One more header byte; the head never ends. A failed write means the server
                // has closed the connection, which the next read reports.
                let _ = slow.write_all(b"x").await;
            }
        }
    };
    assert!(
        closed,
        "a trickled request head still open after {GIVE_UP:?}"
    );
    assert!(began.elapsed() >= HEADER);
    assert!(
        still_open(&silent),
        "the silent connection was closed with the slow one"
    );
    server.shutdown().await;
}
