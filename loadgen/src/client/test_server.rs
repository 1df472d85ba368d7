//! Real servers on 127.0.0.1 for the client's tests, each counting the connections it
//! accepts: well-behaved hyper servers, and raw TCP ones that misbehave on purpose.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;

type Answer = Pin<Box<dyn Future<Output = Response<Full<Bytes>>> + Send>>;

/// How a test server answers a request whose body it has read.
pub(super) type Handler = Arc<dyn Fn(Request<Bytes>) -> Answer + Send + Sync>;

pub(super) fn handler(
    answer: impl Fn(Request<Bytes>) -> Response<Full<Bytes>> + Send + Sync + 'static,
) -> Handler {
    Arc::new(move |request| {
        let response = answer(request);
        Box::pin(async move { response })
    })
}

pub(super) fn handler_async<F>(
    answer: impl Fn(Request<Bytes>) -> F + Send + Sync + 'static,
) -> Handler
where
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    Arc::new(move |request| Box::pin(answer(request)))
}

/// Answers after `delay`.
pub(super) fn delayed(
    delay: Duration,
    answer: impl Fn(Request<Bytes>) -> Response<Full<Bytes>> + Send + Sync + 'static,
) -> Handler {
    Arc::new(move |request| {
        let response = answer(request);
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            response
        })
    })
}

/// An answer with `status`, `headers` and body `ok`.
pub(super) fn answer(
    status: StatusCode,
    headers: &[(&'static str, &'static str)],
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(b"ok")));
    *response.status_mut() = status;
    for &(name, value) in headers {
        response.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

pub(super) struct TestServer {
    address: SocketAddr,
    accepted: Arc<AtomicUsize>,
    acceptor: JoinHandle<()>,
}

impl TestServer {
    pub(super) fn uri(&self, path_and_query: &str) -> Uri {
        format!("http://{}{path_and_query}", self.address)
            .parse()
            .expect("test URI")
    }

    /// Connections accepted so far.
    pub(super) fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

/// Names the connection an answer came on, numbered from 0 in order of acceptance.
pub(super) const CONNECTION_HEADER: HeaderName = HeaderName::from_static("x-test-connection");

/// Accepts connections and hands each, with its number, to its own `serve` task.
pub(super) async fn raw<F>(serve: impl Fn(TcpStream, usize) -> F + Send + 'static) -> TestServer
where
    F: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind test server");
    let address = listener.local_addr().expect("test server address");
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let acceptor = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let number = counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(stream, number));
        }
    });
    TestServer {
        address,
        accepted,
        acceptor,
    }
}

pub(super) async fn http1(handler: Handler) -> TestServer {
    raw(move |stream, number| {
        let service = service(handler.clone(), number);
        async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }
    })
    .await
}

/// An HTTP/2 server; with `lifetime`, it drops each connection that long after accepting it.
pub(super) async fn http2(handler: Handler, lifetime: Option<Duration>) -> TestServer {
    raw(move |stream, number| {
        let service = service(handler.clone(), number);
        async move {
            let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service);
            match lifetime {
                Some(lifetime) => {
                    let _ = tokio::time::timeout(lifetime, connection).await;
                }
                None => {
                    let _ = connection.await;
                }
            }
        }
    })
    .await
}

fn service(
    handler: Handler,
    connection: usize,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send,
> + Clone {
    service_fn(move |request: Request<Incoming>| {
        let handler = handler.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = body
                .collect()
                .await
                .map(|collected| collected.to_bytes())
                .unwrap_or_default();
            let mut response = handler(Request::from_parts(parts, body)).await;
            response
                .headers_mut()
                .insert(CONNECTION_HEADER, HeaderValue::from(connection));
            Ok(response)
        }
    })
}

/// A port nothing listens on (it was free a moment ago).
pub(super) async fn unused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("address").port()
}

/// A listener that never accepts, with its accept queue full: the kernel drops further SYNs,
/// so connecting to it hangs. Returns the listener and the connections filling its queue,
/// both to be kept alive, and a URI pointing at it.
pub(super) async fn full_backlog() -> (TcpListener, Vec<TcpStream>, Uri) {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("bind");
    let listener = socket.listen(0).expect("listen");
    let address = listener.local_addr().expect("address");
    let mut fillers = Vec::new();
    let mut full = false;
    for _ in 0..16 {
        match tokio::time::timeout(Duration::from_millis(100), TcpStream::connect(address)).await {
            Ok(Ok(stream)) => fillers.push(stream),
            Ok(Err(error)) => panic!("filling the accept queue: {error}"),
            Err(_elapsed) => {
                full = true;
                break;
            }
        }
    }
    assert!(
        full,
        "connects to a full accept queue did not hang (not Linux?)"
    );
    let uri = format!("http://{address}/fn").parse().expect("test URI");
    (listener, fillers, uri)
}

/// Reads one HTTP/1.1 request with a `content-length` body (or none).
pub(super) async fn read_http1_request(stream: &mut TcpStream) -> io::Result<()> {
    let mut received = Vec::new();
    let head_end = loop {
        if let Some(end) = find(&received, b"\r\n\r\n") {
            break end + 4;
        }
        read_some(stream, &mut received).await?;
    };
    let head = String::from_utf8_lossy(&received[..head_end]).to_ascii_lowercase();
    let body_length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    while received.len() < head_end + body_length {
        read_some(stream, &mut received).await?;
    }
    Ok(())
}

pub(super) async fn write_all(stream: &mut TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(written) => bytes = &bytes[written..],
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

async fn read_some(stream: &mut TcpStream, into: &mut Vec<u8>) -> io::Result<()> {
    let mut buffer = [0; 4096];
    loop {
        stream.readable().await?;
        match stream.try_read(&mut buffer) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(read) => {
                into.extend_from_slice(&buffer[..read]);
                return Ok(());
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
