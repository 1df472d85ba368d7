//! HTTP/2 over cleartext with prior knowledge: per host, a fixed number of multiplexed
//! connections used round-robin, each reopened when it has closed.
//!
//! Requests that find their connection slot empty all wait on one connect attempt and share
//! its outcome: one connection per slot, and a slow or refused connect is reported to each of
//! them as it happened. The attempt runs as its own task, so it completes, and fills the
//! slot, even if the requests waiting on it time out.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::Shared;
use http_body_util::Full;
use hyper::client::conn::http2;
use hyper::{Request, Uri};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::oneshot;
use tokio::time::{Instant, timeout_at};

use super::answer::read_answer;
use super::endpoint::{Endpoint, Host, Hosts};
use super::{ConnectionCount, Exchange, RequestTemplate, drive_connection, lock};
use crate::outcome::ErrorKind;

type Sender = http2::SendRequest<Full<Bytes>>;

/// A connect attempt's outcome: the connection and its generation.
type Attempt = Shared<oneshot::Receiver<Result<(Sender, u64), ErrorKind>>>;

pub(super) struct Http2Client {
    hosts: Hosts<Connections>,
    connections: usize,
    template: Arc<RequestTemplate>,
    open: ConnectionCount,
}

/// One host's connections.
struct Connections {
    slots: Box<[Mutex<Slot>]>,
    next: AtomicUsize,
    /// Numbers connections, so that a request retires only the connection it used.
    generations: AtomicU64,
}

enum Slot {
    Empty,
    Connecting(Attempt),
    Ready { sender: Sender, generation: u64 },
}

/// The connection a request was given.
struct Lease {
    sender: Sender,
    slot: usize,
    generation: u64,
    /// True when the request waited for this connection to be made.
    fresh: bool,
}

impl Http2Client {
    pub(super) fn new(
        connections: usize,
        template: Arc<RequestTemplate>,
        open: ConnectionCount,
    ) -> Self {
        Self {
            hosts: Hosts::new(),
            connections: connections.max(1),
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
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = self.template.method.clone();
        // HTTP/2 takes scheme and authority from the absolute URI.
        *request.uri_mut() = uri.clone();
        *request.headers_mut() = self.template.headers.clone();
        let mut retried = false;
        loop {
            let mut lease = match self.checkout(&host, deadline).await {
                Ok(lease) => lease,
                Err(kind) => return Exchange::unsent(kind),
            };
            let sent = std::time::Instant::now();
            let response = match timeout_at(deadline, lease.sender.try_send_request(request)).await
            {
                Ok(Ok(response)) => response,
                Ok(Err(mut failed)) => match failed.take_message() {
                    // The connection closed (GOAWAY) before the request went out: retire it
                    // and try once more on a new one.
                    Some(unwritten) if !lease.fresh && !retried => {
                        retire(&host.connections, &lease);
                        retried = true;
                        request = unwritten;
                        continue;
                    }
                    _ => return Exchange::unanswered(sent, ErrorKind::Reset),
                },
                Err(_elapsed) => return Exchange::unanswered(sent, ErrorKind::Timeout),
            };
            let (result, facts) =
                read_answer(response, self.template.instance_header.as_ref(), deadline).await;
            return Exchange {
                sent: Some(sent),
                result,
                facts,
            };
        }
    }

    fn connections_for(&self, _endpoint: &Endpoint) -> Connections {
        Connections {
            slots: (0..self.connections)
                .map(|_| Mutex::new(Slot::Empty))
                .collect(),
            next: AtomicUsize::new(0),
            generations: AtomicU64::new(0),
        }
    }

    /// The next slot's connection, connecting it first if it has none or its connection has
    /// closed.
    async fn checkout(
        &self,
        host: &Arc<Host<Connections>>,
        deadline: Instant,
    ) -> Result<Lease, ErrorKind> {
        let slots = &host.connections.slots;
        let slot = host.connections.next.fetch_add(1, Ordering::Relaxed) % slots.len();
        let (attempt, connect) = {
            let mut state = lock(&slots[slot]);
            match &*state {
                Slot::Ready { sender, generation } if !sender.is_closed() => {
                    return Ok(Lease {
                        sender: sender.clone(),
                        slot,
                        generation: *generation,
                        fresh: false,
                    });
                }
                Slot::Connecting(attempt) => (attempt.clone(), None),
                Slot::Ready { .. } | Slot::Empty => {
                    let (outcome, attempt) = oneshot::channel();
                    let attempt = attempt.shared();
                    *state = Slot::Connecting(attempt.clone());
                    (attempt, Some(outcome))
                }
            }
        };
        if let Some(outcome) = connect {
            self.start_connecting(host.clone(), slot, outcome);
        }
        match timeout_at(deadline, attempt).await {
            Ok(Ok(Ok((sender, generation)))) => Ok(Lease {
                sender,
                slot,
                generation,
                fresh: true,
            }),
            Ok(Ok(Err(kind))) => Err(kind),
            // The attempt's task was dropped: the runtime is shutting down.
            Ok(Err(_dropped)) => Err(ErrorKind::Connect),
            Err(_elapsed) => Err(ErrorKind::Timeout),
        }
    }

    fn start_connecting(
        &self,
        host: Arc<Host<Connections>>,
        slot: usize,
        outcome: oneshot::Sender<Result<(Sender, u64), ErrorKind>>,
    ) {
        let connect_timeout = self.template.connect_timeout;
        let open = self.open.clone();
        tokio::spawn(async move {
            let connected = connect(&host.endpoint, connect_timeout, &open)
                .await
                .map(|sender| {
                    let generation = host.connections.generations.fetch_add(1, Ordering::Relaxed);
                    (sender, generation)
                });
            *lock(&host.connections.slots[slot]) = match &connected {
                Ok((sender, generation)) => Slot::Ready {
                    sender: sender.clone(),
                    generation: *generation,
                },
                Err(_) => Slot::Empty,
            };
            // Nobody may be waiting any more.
            let _ = outcome.send(connected);
        });
    }
}

async fn connect(
    endpoint: &Endpoint,
    connect_timeout: std::time::Duration,
    open: &ConnectionCount,
) -> Result<Sender, ErrorKind> {
    let stream = endpoint.connect(connect_timeout).await?;
    // The TCP connection was made, so a failure here is the connection breaking.
    let (sender, connection) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .map_err(|_| ErrorKind::Reset)?;
    drive_connection(connection, open.opened());
    Ok(sender)
}

/// Empties the lease's slot if it still holds the lease's connection.
fn retire(connections: &Connections, lease: &Lease) {
    let mut state = lock(&connections.slots[lease.slot]);
    if matches!(&*state, Slot::Ready { generation, .. } if *generation == lease.generation) {
        *state = Slot::Empty;
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

    fn client(connections: usize, template: RequestTemplate) -> WorkerClient {
        WorkerClient::new(&Protocol::Http2 { connections }, Arc::new(template))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_share_one_connection() {
        let server = test_server::http2(
            test_server::delayed(Duration::from_millis(50), |_| answer(StatusCode::OK, &[])),
            None,
        )
        .await;
        let client = client(1, RequestTemplate::default());
        let uri = server.uri("/fn");

        let exchanges = join_all((0..50).map(|_| client.send(&uri, Bytes::new()))).await;

        assert!(exchanges.iter().all(|exchange| exchange.result.is_ok()));
        assert_eq!(server.accepted(), 1);
        assert_eq!(client.open_connections(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_spread_over_the_configured_connections() {
        let server = test_server::http2(
            test_server::delayed(Duration::from_millis(20), |_| answer(StatusCode::OK, &[])),
            None,
        )
        .await;
        let client = client(3, RequestTemplate::default());
        let uri = server.uri("/fn");

        let exchanges = join_all((0..30).map(|_| client.send(&uri, Bytes::new()))).await;
        let more = join_all((0..30).map(|_| client.send(&uri, Bytes::new()))).await;

        assert!(
            exchanges
                .iter()
                .chain(&more)
                .all(|exchange| exchange.result.is_ok())
        );
        assert_eq!(server.accepted(), 3);
        assert_eq!(client.open_connections(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closed_connection_is_reopened() {
        let lifetime = Duration::from_millis(100);
        let server = test_server::http2(
            test_server::handler(|_| answer(StatusCode::OK, &[])),
            Some(lifetime),
        )
        .await;
        let client = client(1, RequestTemplate::default());

        let first = client.send(&server.uri("/fn"), Bytes::new()).await;
        tokio::time::sleep(lifetime * 2).await;
        let second = client.send(&server.uri("/fn"), Bytes::new()).await;

        assert_eq!(first.result, Ok(()));
        assert_eq!(second.result, Ok(()));
        assert_eq!(server.accepted(), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn timed_out_request_leaves_the_connection_usable() {
        let server = test_server::http2(
            test_server::handler_async(|request| async move {
                if request.uri().path() == "/slow" {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                answer(StatusCode::OK, &[])
            }),
            None,
        )
        .await;
        let client = client(
            1,
            RequestTemplate {
                request_timeout: Duration::from_millis(200),
                ..RequestTemplate::default()
            },
        );

        let slow = client.send(&server.uri("/slow"), Bytes::new()).await;
        let fast = client.send(&server.uri("/fast"), Bytes::new()).await;

        assert_eq!(slow.result, Err(ErrorKind::Timeout));
        assert_eq!(fast.result, Ok(()));
        assert_eq!(server.accepted(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_waiting_on_one_connect_share_its_failure() {
        let port = test_server::unused_port().await;
        let uri: Uri = format!("http://127.0.0.1:{port}/fn")
            .parse()
            .expect("test URI");
        let client = client(1, RequestTemplate::default());

        let exchanges = join_all((0..5).map(|_| client.send(&uri, Bytes::new()))).await;

        assert!(
            exchanges
                .iter()
                .all(|exchange| *exchange == Exchange::unsent(ErrorKind::Refused))
        );
    }
}
