//! HTTP/1.1 with keep-alive: per host, a stack of idle connections and, optionally, a cap.
//!
//! - Idle connections are reused most recently used first, which keeps the fewest
//!   connections warm and lets the rest expire at the server.
//! - An idle connection the server has closed (keep-alive timeout) is skipped, never turned
//!   into a failed request. A request moves to another connection only when hyper gives it
//!   back unwritten; once written, a broken connection is the request's `Reset`.
//! - With a cap, each request in progress holds one of `max_connections` permits of a fair
//!   (first come, first served) semaphore, so waiting requests get a connection in arrival
//!   order, as with wrk, and the wait counts against the request timeout.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1;
use hyper::header::{HOST, HeaderMap};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::sync::Semaphore;
use tokio::time::{Instant, timeout_at};

use super::answer::read_answer;
use super::endpoint::{Endpoint, Host, Hosts};
use super::{ConnectionCount, Exchange, RequestTemplate, drive_connection, lock};
use crate::outcome::ErrorKind;

type Sender = http1::SendRequest<Full<Bytes>>;

pub(super) struct Http1Client {
    hosts: Hosts<Connections>,
    max_connections: Option<usize>,
    template: Arc<RequestTemplate>,
    open: ConnectionCount,
}

/// One host's connections.
struct Connections {
    idle: Mutex<Vec<Sender>>,
    /// With a cap: one permit per connection in use.
    slots: Option<Semaphore>,
    /// The template's headers plus `Host`, cloned into each request.
    headers: HeaderMap,
}

/// Where a request's connection came from.
#[derive(PartialEq, Eq)]
enum Origin {
    Idle,
    Opened,
}

impl Http1Client {
    pub(super) fn new(
        max_connections: Option<usize>,
        template: Arc<RequestTemplate>,
        open: ConnectionCount,
    ) -> Self {
        Self {
            hosts: Hosts::new(),
            // A cap of zero would make every request wait forever.
            max_connections: max_connections.map(|cap| cap.clamp(1, Semaphore::MAX_PERMITS)),
            template,
            open,
        }
    }

    pub(super) async fn send(&self, uri: &Uri, body: Bytes, deadline: Instant) -> Exchange {
        let host = match self
            .hosts
            .get(uri, |endpoint| self.connections_for(endpoint))
        {
            Ok(host) => host,
            Err(kind) => return Exchange::unsent(kind),
        };
        // Held until the answer has been read, so that the connection is back in `idle`
        // before the next waiter looks there.
        let _slot = match &host.connections.slots {
            Some(slots) => match timeout_at(deadline, slots.acquire()).await {
                Ok(Ok(permit)) => Some(permit),
                // The semaphore is never closed.
                Ok(Err(_closed)) => return Exchange::unsent(ErrorKind::Connect),
                Err(_elapsed) => return Exchange::unsent(ErrorKind::Timeout),
            },
            None => None,
        };
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = self.template.method.clone();
        *request.uri_mut() = origin_form(uri);
        *request.headers_mut() = host.connections.headers.clone();
        loop {
            let (mut sender, origin) = match self.checkout(&host, deadline).await {
                Ok(found) => found,
                Err(kind) => return Exchange::unsent(kind),
            };
            let sent = std::time::Instant::now();
            let response = match timeout_at(deadline, sender.try_send_request(request)).await {
                Ok(Ok(response)) => response,
                Ok(Err(mut failed)) => match failed.take_message() {
                    // The idle connection closed before hyper wrote anything: try another.
                    // A new connection that fails this way is broken, not stale.
                    Some(unwritten) if origin == Origin::Idle => {
                        request = unwritten;
                        continue;
                    }
                    _ => return Exchange::unanswered(sent, ErrorKind::Reset),
                },
                Err(_elapsed) => return Exchange::unanswered(sent, ErrorKind::Timeout),
            };
            let (result, facts) =
                read_answer(response, self.template.instance_header.as_ref(), deadline).await;
            // Only an answer read to its end leaves the connection ready for the next.
            if matches!(result, Ok(()) | Err(ErrorKind::Status(_))) && !sender.is_closed() {
                lock(&host.connections.idle).push(sender);
            }
            return Exchange {
                sent: Some(sent),
                result,
                facts,
            };
        }
    }

    fn connections_for(&self, endpoint: &Endpoint) -> Connections {
        let mut headers = self.template.headers.clone();
        // A `Host` in the template wins: gateways such as Knative route on it.
        if !headers.contains_key(HOST) {
            headers.insert(HOST, endpoint.host_header().clone());
        }
        Connections {
            idle: Mutex::new(Vec::new()),
            slots: self.max_connections.map(Semaphore::new),
            headers,
        }
    }

    /// The most recently used live idle connection, or a new one.
    async fn checkout(
        &self,
        host: &Host<Connections>,
        deadline: Instant,
    ) -> Result<(Sender, Origin), ErrorKind> {
        loop {
            // The guard is a temporary: dropped before any await below.
            let Some(mut sender) = lock(&host.connections.idle).pop() else {
                break;
            };
            if sender.is_closed() {
                continue;
            }
            // A connection that has just delivered an answer may not yet have asked for the
            // next request; `ready` waits for that, or reports that it is closing.
            match timeout_at(deadline, sender.ready()).await {
                Ok(Ok(())) => return Ok((sender, Origin::Idle)),
                Ok(Err(_closed)) => continue,
                Err(_elapsed) => return Err(ErrorKind::Timeout),
            }
        }
        let stream = match timeout_at(
            deadline,
            host.endpoint.connect(self.template.connect_timeout),
        )
        .await
        {
            Ok(connected) => connected?,
            Err(_elapsed) => return Err(ErrorKind::Timeout),
        };
        // Does no I/O, so it fails only on a broken socket.
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| ErrorKind::Reset)?;
        drive_connection(connection, self.open.opened());
        Ok((sender, Origin::Opened))
    }
}

/// `/path?query`, as an HTTP/1.1 request line to an origin server carries it.
fn origin_form(uri: &Uri) -> Uri {
    match uri.path_and_query() {
        Some(path_and_query) => Uri::from(path_and_query.clone()),
        None => Uri::from_static("/"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::future::join_all;
    use hyper::StatusCode;

    use super::super::test_server::{self, answer};
    use super::super::{Protocol, WorkerClient};
    use super::*;

    fn client(max_connections: Option<usize>, template: RequestTemplate) -> WorkerClient {
        WorkerClient::new(&Protocol::Http1 { max_connections }, Arc::new(template))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sequential_requests_reuse_one_connection() {
        let server =
            test_server::http1(test_server::handler(|_| answer(StatusCode::OK, &[]))).await;
        let client = client(None, RequestTemplate::default());

        for _ in 0..100 {
            let exchange = client
                .send(&server.uri("/fn"), Bytes::from_static(b"{}"))
                .await;
            assert_eq!(exchange.result, Ok(()));
        }

        assert_eq!(server.accepted(), 1);
        assert_eq!(client.open_connections(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn without_a_cap_busy_connections_make_new_ones() {
        let server = test_server::http1(test_server::delayed(Duration::from_millis(50), |_| {
            answer(StatusCode::OK, &[])
        }))
        .await;
        let client = client(None, RequestTemplate::default());
        let uri = server.uri("/fn");

        let exchanges = join_all((0..10).map(|_| client.send(&uri, Bytes::new()))).await;

        assert!(exchanges.iter().all(|exchange| exchange.result.is_ok()));
        assert_eq!(server.accepted(), 10);
        assert_eq!(client.open_connections(), 10);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn with_a_cap_requests_wait_for_a_connection_in_arrival_order() {
        let round = Duration::from_millis(50);
        let server =
            test_server::http1(test_server::delayed(round, |_| answer(StatusCode::OK, &[]))).await;
        let client = client(Some(2), RequestTemplate::default());
        let uri = server.uri("/fn");
        let started = std::time::Instant::now();

        // `join_all` polls in order, so request i arrives at the queue before request i + 1.
        let exchanges = join_all((0..10).map(|_| client.send(&uri, Bytes::new()))).await;

        let elapsed = started.elapsed();
        assert!(exchanges.iter().all(|exchange| exchange.result.is_ok()));
        assert_eq!(server.accepted(), 2);
        assert!(client.open_connections() <= 2);
        // Five rounds of two.
        assert!(elapsed >= round * 5, "{elapsed:?}");
        assert!(
            elapsed < round * 5 + Duration::from_millis(500),
            "{elapsed:?}"
        );
        let sent: Vec<_> = exchanges
            .iter()
            .map(|exchange| exchange.sent.expect("sent"))
            .collect();
        for i in 0..8 {
            let waited = sent[i + 2].duration_since(sent[i]);
            assert!(
                waited >= round - Duration::from_millis(5),
                "request {}: {waited:?}",
                i + 2
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn after_a_burst_requests_keep_to_the_most_recently_used_connection() {
        let server = test_server::http1(test_server::delayed(Duration::from_millis(20), |_| {
            answer(StatusCode::OK, &[])
        }))
        .await;
        // The server names the connection of each answer; the client hashes it into a tag.
        let client = client(
            None,
            RequestTemplate {
                instance_header: Some(test_server::CONNECTION_HEADER),
                ..RequestTemplate::default()
            },
        );
        let uri = server.uri("/fn");
        let burst = join_all((0..5).map(|_| client.send(&uri, Bytes::new()))).await;
        assert!(burst.iter().all(|exchange| exchange.result.is_ok()));

        let mut tags = Vec::new();
        for _ in 0..5 {
            let exchange = client.send(&uri, Bytes::new()).await;
            assert_eq!(exchange.result, Ok(()));
            tags.push(exchange.facts.instance_tag.expect("connection named"));
        }

        assert_eq!(server.accepted(), 5);
        // Most recently used first: one connection serves them all and the other four idle
        // on, free to expire at the server.
        assert!(tags.iter().all(|tag| *tag == tags[0]), "{tags:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn host_header_from_the_template_wins() {
        let server = test_server::http1(test_server::handler(|request| {
            let routed = request
                .headers()
                .get(HOST)
                .is_some_and(|host| host == "fn.example.com");
            let status = if routed {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            answer(status, &[])
        }))
        .await;
        let mut headers = HeaderMap::new();
        headers.insert(
            HOST,
            hyper::header::HeaderValue::from_static("fn.example.com"),
        );
        let client = client(
            None,
            RequestTemplate {
                headers,
                ..RequestTemplate::default()
            },
        );

        let exchange = client.send(&server.uri("/fn"), Bytes::new()).await;

        assert_eq!(exchange.result, Ok(()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_timed_out_while_capped_frees_its_connection() {
        let server = test_server::http1(test_server::handler_async(|request| async move {
            if request.uri().path() == "/slow" {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            answer(StatusCode::OK, &[])
        }))
        .await;
        let client = client(
            Some(1),
            RequestTemplate {
                request_timeout: Duration::from_millis(200),
                ..RequestTemplate::default()
            },
        );

        let slow = client.send(&server.uri("/slow"), Bytes::new()).await;
        let fast = client.send(&server.uri("/fast"), Bytes::new()).await;

        assert_eq!(slow.result, Err(ErrorKind::Timeout));
        assert_eq!(fast.result, Ok(()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiting_for_a_connection_counts_against_the_request_timeout() {
        let server = test_server::http1(test_server::delayed(Duration::from_millis(400), |_| {
            answer(StatusCode::OK, &[])
        }))
        .await;
        let client = client(
            Some(1),
            RequestTemplate {
                request_timeout: Duration::from_millis(200),
                ..RequestTemplate::default()
            },
        );
        let uri = server.uri("/fn");

        let exchanges = join_all((0..2).map(|_| client.send(&uri, Bytes::new()))).await;

        assert_eq!(exchanges[0].result, Err(ErrorKind::Timeout));
        assert!(exchanges[0].sent.is_some());
        // The second never got the connection.
        assert_eq!(exchanges[1], Exchange::unsent(ErrorKind::Timeout));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connection_close_answers_do_not_fail_requests() {
        let server = test_server::http1(test_server::handler(|_| {
            answer(StatusCode::OK, &[("connection", "close")])
        }))
        .await;
        let client = client(None, RequestTemplate::default());

        for _ in 0..20 {
            let exchange = client.send(&server.uri("/fn"), Bytes::new()).await;
            assert_eq!(exchange.result, Ok(()));
        }

        assert_eq!(server.accepted(), 20);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn idle_connection_closed_by_the_server_is_replaced() {
        // Answers one request as keep-alive, then closes the idle connection, as a server
        // whose keep-alive timeout has passed does.
        let server = test_server::raw(|mut stream, _| async move {
            if test_server::read_http1_request(&mut stream).await.is_ok() {
                let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                let _ = test_server::write_all(&mut stream, answer).await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        for cap in [None, Some(1)] {
            let client = client(cap, RequestTemplate::default());
            let accepted_before = server.accepted();

            for _ in 0..5 {
                let exchange = client.send(&server.uri("/fn"), Bytes::new()).await;
                assert_eq!(exchange.result, Ok(()), "cap {cap:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }

            assert_eq!(server.accepted() - accepted_before, 5);
            assert_eq!(client.open_connections(), 0);
        }
    }

    #[test]
    fn request_line_carries_path_and_query_only() {
        let uri: Uri = "http://example.com:8080/fn/echo?n=1"
            .parse()
            .expect("test URI");
        assert_eq!(origin_form(&uri), "/fn/echo?n=1");
        let bare: Uri = "http://example.com".parse().expect("test URI");
        assert_eq!(origin_form(&bare), "/");
    }
}
