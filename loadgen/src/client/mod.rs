//! The HTTP client of one load-generator worker: sends an invocation, reads the whole answer,
//! and says when the request went out and, if it failed, why.
//!
//! It is built on hyper's connection API rather than on a pooled client because the load
//! generator is a measuring instrument:
//! - `sent` is taken when the request is handed to a ready connection, after any wait for a
//!   connection and after connecting, so service time and send lag split where they should.
//! - A failure is classified by the phase it happened in (connecting, waiting, after the
//!   request was handed over), which a pooled client hides.
//! - A request that may have reached the server is never retried. It moves to another
//!   connection only when hyper hands it back unwritten from a reused connection that turned
//!   out to be closed.
//! - A connection cap queues waiting requests first come, first served, as wrk does.
//!
//! [`http1`] holds the keep-alive pool, [`http2`] the multiplexed connections, [`endpoint`]
//! where requests go and how connecting fails, [`answer`] the reading of the answer.

mod answer;
mod endpoint;
mod http1;
mod http2;
#[cfg(test)]
mod test_server;

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderName};
use hyper::{Method, Uri};

use crate::outcome::{AnswerFacts, ErrorKind};

/// Which HTTP the client speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1 with keep-alive. With `max_connections`, a worker opens at most that many
    /// connections per target host and further requests wait for one to be free (as wrk/wrk2
    /// do); without, it opens a new connection whenever all are busy (pure open loop).
    Http1 { max_connections: Option<usize> },
    /// HTTP/2 over cleartext with prior knowledge: `connections` multiplexed connections per
    /// worker and target host, used round-robin.
    Http2 { connections: usize },
}

/// How every request is made.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    /// Default `POST`.
    pub method: Method,
    /// Added to every request.
    pub headers: HeaderMap,
    /// Default 5 s.
    pub connect_timeout: Duration,
    /// Default 30 s. Covers waiting for a connection, sending and the whole answer.
    pub request_timeout: Duration,
    /// A header naming the serving instance, to infer cold starts from (its value is hashed
    /// into [`AnswerFacts::instance_tag`]).
    pub instance_header: Option<HeaderName>,
}

impl Default for RequestTemplate {
    fn default() -> Self {
        Self {
            method: Method::POST,
            headers: HeaderMap::new(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            instance_header: None,
        }
    }
}

/// One request's exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exchange {
    /// When the request was handed to a connection (after any wait for a connection), or
    /// `None` if it never was.
    pub(crate) sent: Option<Instant>,
    /// `Ok` for a 2xx answer read to its last byte; otherwise why not (`Status` for non-2xx
    /// answers, still read to the end).
    pub(crate) result: Result<(), ErrorKind>,
    /// Parsed from the answer's headers when there was an answer.
    pub(crate) facts: AnswerFacts,
}

impl Exchange {
    /// An exchange cut off at the end of the run.
    pub(crate) fn cut_off() -> Self {
        Self::unsent(ErrorKind::Timeout)
    }

    fn unsent(kind: ErrorKind) -> Self {
        Self {
            sent: None,
            result: Err(kind),
            facts: AnswerFacts::default(),
        }
    }

    fn unanswered(sent: Instant, kind: ErrorKind) -> Self {
        Self {
            sent: Some(sent),
            result: Err(kind),
            facts: AnswerFacts::default(),
        }
    }
}

/// The connections of one load-generator worker. Used by one worker task, whose many
/// in-flight requests share it; interior state sits behind mutexes never held across an await.
pub(crate) struct WorkerClient {
    transport: Transport,
    template: Arc<RequestTemplate>,
    open: ConnectionCount,
}

enum Transport {
    Http1(http1::Http1Client),
    Http2(http2::Http2Client),
}

impl WorkerClient {
    pub(crate) fn new(protocol: &Protocol, template: Arc<RequestTemplate>) -> Self {
        let open = ConnectionCount::default();
        let transport = match protocol {
            Protocol::Http1 { max_connections } => Transport::Http1(http1::Http1Client::new(
                *max_connections,
                template.clone(),
                open.clone(),
            )),
            Protocol::Http2 { connections } => Transport::Http2(http2::Http2Client::new(
                *connections,
                template.clone(),
                open.clone(),
            )),
        };
        Self {
            transport,
            template,
            open,
        }
    }

    /// Sends one request to `uri` with `body` and reads the whole answer, within the
    /// template's request timeout.
    #[cfg(test)]
    pub(crate) async fn send(&self, uri: &Uri, body: Bytes) -> Exchange {
        self.send_from(uri, body, Instant::now()).await
    }

    /// [`Self::send`] for a caller that has just read the clock: the timeout runs from
    /// `now`.
    pub(crate) async fn send_from(&self, uri: &Uri, body: Bytes, now: Instant) -> Exchange {
        let now = tokio::time::Instant::from_std(now);
        // A timeout too large to represent means "no timeout"; a year stands in for it.
        let deadline = now
            .checked_add(self.template.request_timeout)
            .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
        match &self.transport {
            Transport::Http1(client) => client.send(uri, body, deadline).await,
            Transport::Http2(client) => client.send(uri, body, deadline).await,
        }
    }

    /// Connections currently open.
    #[cfg(test)]
    pub(crate) fn open_connections(&self) -> usize {
        self.open.0.live.load(Ordering::Relaxed)
    }

    /// Connections opened so far, and the most open at once.
    pub(crate) fn connection_figures(&self) -> (u64, usize) {
        let counts = &self.open.0;
        (
            counts.opened.load(Ordering::Relaxed),
            counts.peak.load(Ordering::Relaxed),
        )
    }
}

#[derive(Debug, Default)]
struct Counts {
    live: AtomicUsize,
    peak: AtomicUsize,
    opened: AtomicU64,
}

/// How many connections a worker has open: each connection task holds one [`OpenConnection`]
/// until the connection has ended, so the count includes only live sockets.
#[derive(Debug, Clone, Default)]
struct ConnectionCount(Arc<Counts>);

struct OpenConnection(Arc<Counts>);

impl ConnectionCount {
    fn opened(&self) -> OpenConnection {
        let counts = &self.0;
        let live = counts.live.fetch_add(1, Ordering::Relaxed) + 1;
        counts.peak.fetch_max(live, Ordering::Relaxed);
        counts.opened.fetch_add(1, Ordering::Relaxed);
        OpenConnection(self.0.clone())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Runs a hyper connection until it ends. Its error needs no handling here: the requests on
/// it see the failure themselves.
fn drive_connection<C>(connection: C, open: OpenConnection)
where
    C: Future + Send + 'static,
{
    tokio::spawn(async move {
        let _open = open;
        connection.await;
    });
}

/// Locks a mutex whose data stays consistent even if a holder panicked (every critical
/// section is a single push, pop or assignment).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hyper::StatusCode;
    use hyper::header::{HOST, HeaderValue};

    use super::answer::instance_tag;
    use super::test_server::{self, TestServer, answer};
    use super::*;
    use crate::outcome::{PlatformMetering, StartKind};

    const BOTH: [Protocol; 2] = [
        Protocol::Http1 {
            max_connections: None,
        },
        Protocol::Http2 { connections: 1 },
    ];

    fn client(protocol: &Protocol, template: RequestTemplate) -> WorkerClient {
        WorkerClient::new(protocol, Arc::new(template))
    }

    async fn server(protocol: &Protocol, handler: test_server::Handler) -> TestServer {
        match protocol {
            Protocol::Http1 { .. } => test_server::http1(handler).await,
            Protocol::Http2 { .. } => test_server::http2(handler, None).await,
        }
    }

    #[test]
    fn client_and_its_requests_can_move_between_threads() {
        fn shared<T: Send + Sync>(_: &T) {}
        fn sendable<T: Send>(_: &T) {}
        for protocol in &BOTH {
            let client = client(protocol, RequestTemplate::default());
            shared(&client);
            let uri = Uri::from_static("http://127.0.0.1:1/");
            sendable(&client.send(&uri, Bytes::new()));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn template_reaches_the_server_and_answer_headers_become_facts() {
        for protocol in &BOTH {
            let is_http1 = matches!(protocol, Protocol::Http1 { .. });
            let server = server(
                protocol,
                test_server::handler(move |request| {
                    let authority = request.uri().authority().map(|a| a.to_string());
                    let host = request.headers().get(HOST).cloned();
                    let agrees = request.method() == Method::PUT
                        && request.headers().get("x-api-key") == Some(&HeaderValue::from_static("k"))
                        && request.uri().path() == "/fn/echo"
                        && request.uri().query() == Some("n=1")
                        && request.body().as_ref() == b"hello"
                        // HTTP/1.1 names the host in `Host`, HTTP/2 in `:authority`.
                        && if is_http1 {
                            host.is_some_and(|host| host.as_bytes().starts_with(b"127.0.0.1:"))
                        } else {
                            authority.is_some_and(|authority| authority.starts_with("127.0.0.1:"))
                        };
                    if !agrees {
                        return answer(StatusCode::BAD_REQUEST, &[]);
                    }
                    answer(
                        StatusCode::OK,
                        &[
                            ("x-faas-start", "cold"),
                            ("x-faas-init-us", "1200"),
                            ("x-faas-queue-us", "30"),
                            ("x-faas-exec-us", "450"),
                            ("x-faas-billed-ms", "1"),
                            ("x-faas-memory-mb", "128"),
                            ("x-faas-instance", "7"),
                            ("x-faas-delayed-by-start", "1"),
                            ("x-served-by", "instance-a"),
                        ],
                    )
                }),
            )
            .await;
            let mut headers = HeaderMap::new();
            headers.insert("x-api-key", HeaderValue::from_static("k"));
            let client = client(
                protocol,
                RequestTemplate {
                    method: Method::PUT,
                    headers,
                    instance_header: Some(HeaderName::from_static("x-served-by")),
                    ..RequestTemplate::default()
                },
            );

            let exchange = client
                .send(&server.uri("/fn/echo?n=1"), Bytes::from_static(b"hello"))
                .await;

            assert_eq!(exchange.result, Ok(()), "{protocol:?}");
            assert!(exchange.sent.is_some());
            assert_eq!(
                exchange.facts,
                AnswerFacts {
                    start: StartKind::Cold,
                    metering: PlatformMetering {
                        init_us: Some(1200),
                        queue_us: Some(30),
                        exec_us: Some(450),
                        billed_ms: Some(1),
                        memory_mb: Some(128),
                        instance: Some(7),
                        delayed_by_start: Some(true),
                    },
                    instance_tag: Some(instance_tag(b"instance-a")),
                },
                "{protocol:?}"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refused_connection_is_never_sent() {
        let port = test_server::unused_port().await;
        let uri: Uri = format!("http://127.0.0.1:{port}/fn")
            .parse()
            .expect("test URI");
        for protocol in &BOTH {
            let client = client(protocol, RequestTemplate::default());

            let exchange = client.send(&uri, Bytes::new()).await;

            assert_eq!(exchange.result, Err(ErrorKind::Refused), "{protocol:?}");
            assert_eq!(exchange.sent, None);
            assert_eq!(client.open_connections(), 0);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn slow_connect_is_a_connect_timeout_not_sent() {
        let (_listener, _fillers, uri) = test_server::full_backlog().await;
        for protocol in &BOTH {
            let client = client(
                protocol,
                RequestTemplate {
                    connect_timeout: Duration::from_millis(150),
                    request_timeout: Duration::from_secs(5),
                    ..RequestTemplate::default()
                },
            );
            let started = Instant::now();

            let exchange = client.send(&uri, Bytes::new()).await;

            assert_eq!(
                exchange.result,
                Err(ErrorKind::ConnectTimeout),
                "{protocol:?}"
            );
            assert_eq!(exchange.sent, None);
            assert!(started.elapsed() < Duration::from_secs(1));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn request_timeout_while_connecting_is_a_timeout_not_sent() {
        let (_listener, _fillers, uri) = test_server::full_backlog().await;
        for protocol in &BOTH {
            let client = client(
                protocol,
                RequestTemplate {
                    connect_timeout: Duration::from_secs(5),
                    request_timeout: Duration::from_millis(150),
                    ..RequestTemplate::default()
                },
            );

            let exchange = client.send(&uri, Bytes::new()).await;

            assert_eq!(exchange.result, Err(ErrorKind::Timeout), "{protocol:?}");
            assert_eq!(exchange.sent, None);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn slow_answer_times_out_after_it_was_sent() {
        for protocol in &BOTH {
            let server = server(
                protocol,
                test_server::delayed(Duration::from_secs(2), |_| answer(StatusCode::OK, &[])),
            )
            .await;
            let client = client(
                protocol,
                RequestTemplate {
                    request_timeout: Duration::from_millis(200),
                    ..RequestTemplate::default()
                },
            );
            let started = Instant::now();

            let exchange = client.send(&server.uri("/fn"), Bytes::new()).await;

            assert_eq!(exchange.result, Err(ErrorKind::Timeout), "{protocol:?}");
            let sent = exchange.sent.expect("sent before the timeout");
            assert!(sent >= started);
            assert!(started.elapsed() < Duration::from_secs(1));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn error_status_is_read_to_the_end_with_its_facts() {
        for protocol in &BOTH {
            let server = server(
                protocol,
                test_server::handler(|_| {
                    let mut response = answer(
                        StatusCode::SERVICE_UNAVAILABLE,
                        &[("x-faas-start", "warm"), ("x-faas-queue-us", "900")],
                    );
                    *response.body_mut() =
                        http_body_util::Full::new(Bytes::from(vec![b'x'; 64 * 1024]));
                    response
                }),
            )
            .await;
            let client = client(protocol, RequestTemplate::default());

            let first = client.send(&server.uri("/fn"), Bytes::new()).await;
            let second = client.send(&server.uri("/fn"), Bytes::new()).await;

            assert_eq!(first.result, Err(ErrorKind::Status(503)), "{protocol:?}");
            assert!(first.sent.is_some());
            assert_eq!(first.facts.start, StartKind::Warm);
            assert_eq!(first.facts.metering.queue_us, Some(900));
            assert_eq!(second.result, Err(ErrorKind::Status(503)));
            // The error answer was read to its end, so its connection stays usable.
            assert_eq!(server.accepted(), 1, "{protocol:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn server_closing_without_answer_is_a_reset_after_sending() {
        let server = test_server::raw(|stream, _| async move { drop(stream) }).await;
        for protocol in &BOTH {
            let client = client(protocol, RequestTemplate::default());

            let exchange = client.send(&server.uri("/fn"), Bytes::new()).await;

            assert_eq!(exchange.result, Err(ErrorKind::Reset), "{protocol:?}");
            // HTTP/2 may fail in its handshake, before the request was handed over.
            if matches!(protocol, Protocol::Http1 { .. }) {
                assert!(exchange.sent.is_some());
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answer_cut_short_is_a_reset_with_its_facts() {
        let server = test_server::raw(|mut stream, _| async move {
            if test_server::read_http1_request(&mut stream).await.is_ok() {
                let head =
                    "HTTP/1.1 200 OK\r\ncontent-length: 100\r\nx-faas-start: snapshot\r\n\r\n";
                let _ = test_server::write_all(&mut stream, head.as_bytes()).await;
                let _ = test_server::write_all(&mut stream, b"only ten b").await;
            }
        })
        .await;
        let client = client(&BOTH[0], RequestTemplate::default());

        let exchange = client.send(&server.uri("/fn"), Bytes::new()).await;

        assert_eq!(exchange.result, Err(ErrorKind::Reset));
        assert!(exchange.sent.is_some());
        assert_eq!(exchange.facts.start, StartKind::Snapshot);
    }

    #[tokio::test]
    async fn uri_the_client_cannot_reach_is_a_connect_error() {
        for protocol in &BOTH {
            let client = client(protocol, RequestTemplate::default());
            for uri in ["https://127.0.0.1:1/fn", "/fn"] {
                let uri: Uri = uri.parse().expect("test URI");

                let exchange = client.send(&uri, Bytes::new()).await;

                assert_eq!(exchange, Exchange::unsent(ErrorKind::Connect), "{uri}");
            }
        }
    }

    #[test]
    fn default_template_posts_with_documented_timeouts() {
        let template = RequestTemplate::default();
        assert_eq!(template.method, Method::POST);
        assert_eq!(template.connect_timeout, Duration::from_secs(5));
        assert_eq!(template.request_timeout, Duration::from_secs(30));
        assert!(template.headers.is_empty());
    }
}
