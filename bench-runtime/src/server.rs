//! The HTTP server: accepts connections (HTTP/1.1 with keep-alive, or HTTP/2 cleartext) and
//! shuts down gracefully.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::Runtime;

/// How long shutdown waits for open connections to finish their requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

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
    pub async fn bind(runtime: Arc<Runtime>, addr: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
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

async fn serve(runtime: Arc<Runtime>, listener: TcpListener, mut stopped: oneshot::Receiver<()>) {
    let connections = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stopped => break,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(err) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!("accept failed: {err}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {err}");
        }
        let runtime = runtime.clone();
        let service = service_fn(move |request| crate::api::route(runtime.clone(), request));
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!("connection ended with an error: {err}");
            }
        });
    }
    drop(listener);
    tokio::select! {
        _ = connections.shutdown() => {}
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("connections still open after {SHUTDOWN_GRACE:?}; closing them");
        }
    }
}
