//! The HTTP server: binds the listening socket, accepts connections (HTTP/1.1 with keep-alive,
//! or HTTP/2 cleartext), hands each to its own task (`connection`), and shuts down
//! gracefully.

use std::net::SocketAddr;
use std::sync::{Arc, Once};
use std::time::Duration;

use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::Runtime;
use crate::connection::{self, Stop, Timeouts};

/// How long shutdown waits for open connections to finish their requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long the server waits before accepting again after accepting failed.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// A running HTTP server in front of a [`Runtime`].
///
/// ```no_run
/// # async fn demo(runtime: std::sync::Arc<bench_runtime::Runtime>) -> std::io::Result<()> {
/// let server = bench_runtime::RuntimeServer::bind(runtime, "127.0.0.1:0".parse().unwrap()).await?;
/// println!("listening on http://{}", server.local_addr());
/// server.shutdown().await;
/// # Ok(()) }
/// ```
pub struct RuntimeServer {
    local_addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl RuntimeServer {
    /// Binds `addr` (port 0 picks a free port) and serves until [`RuntimeServer::shutdown`].
    /// Must be called within a tokio runtime, which then runs the server.
    ///
    /// The connection settings come from the runtime's configuration
    /// ([`RuntimeConfig::header_timeout`](crate::RuntimeConfig::header_timeout),
    /// [`idle_timeout`](crate::RuntimeConfig::idle_timeout),
    /// [`listen_backlog`](crate::RuntimeConfig::listen_backlog)). The first bind in a process
    /// also raises its soft limit of open files to the hard limit.
    pub async fn bind(runtime: Arc<Runtime>, addr: SocketAddr) -> std::io::Result<Self> {
        raise_open_file_limit();
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // A restarted server gets its port back while old connections sit in TIME_WAIT; as
        // tokio's own `TcpListener::bind` does, except on Windows, where it would share the port.
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        let listener = socket.listen(runtime.config().listen_backlog)?;
        let local_addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(runtime, listener, stopped));
        Ok(Self {
            local_addr,
            stop,
            task,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections and waits for open ones to finish their current request,
    /// at most five seconds.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        if let Err(err) = self.task.await {
            tracing::warn!("server task ended abnormally: {err}");
        }
    }
}

/// Raises the soft limit of open files to the hard one, once per process: every connection
/// holds a descriptor, and the soft limit is often 1024 or lower while the hard one is far
/// higher. Past the limit, connections wait unaccepted and even `/healthz` goes unanswered.
fn raise_open_file_limit() {
    static RAISED: Once = Once::new();
    RAISED.call_once(|| match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!("open file limit: {limit}"),
        Err(err) => tracing::warn!("cannot raise the open file limit: {err}"),
    });
}

async fn serve(runtime: Arc<Runtime>, listener: TcpListener, mut stopped: oneshot::Receiver<()>) {
    let timeouts = Timeouts::of(runtime.config());
    let builder = auto::Builder::new(TokioExecutor::new());
    // Tells connections to stop; every connection task holds a receiver, so the sender also
    // knows when they have all ended.
    let (stop, _) = watch::channel(Stop::Serving);
    let mut failed_accepts = 0u64;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stopped => break,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(err) => {
                // Out of file descriptors and the like: back off instead of spinning, and say
                // so once rather than a hundred times a second.
                if failed_accepts == 0 {
                    tracing::warn!(
                        "cannot accept connections: {err}; retrying every {ACCEPT_BACKOFF:?}"
                    );
                }
                failed_accepts += 1;
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        if failed_accepts > 0 {
            tracing::warn!(
                "accepting connections again ({failed_accepts} attempts failed meanwhile)"
            );
            failed_accepts = 0;
        }
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {err}");
        }
        connection::spawn(
            stream,
            runtime.clone(),
            &builder,
            timeouts,
            stop.subscribe(),
        );
    }
    drop(listener);
    stop.send_replace(Stop::Finish);
    if tokio::time::timeout(SHUTDOWN_GRACE, stop.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            "{} connections still open after {SHUTDOWN_GRACE:?}; closing them",
            stop.receiver_count()
        );
        stop.send_replace(Stop::Close);
    }
}
